"""Email: one call renders a message in the recipient's language and puts it in the outbox.

``send_to(user, …)`` writes in the language stored on the account (``locale_of``, the one
place a language becomes a locale); ``send(address, …, locale=locale_of(None))`` writes Welsh
then English in one message where the reader's choice is not known. Each message says its
language in a ``Content-Language`` header.

Each message is a row of ``outgoing_emails`` written in the unit of work that causes it (the
transactional outbox, issue 17): it leaves if and only if that change commits, so a refused
change never sends mail and a mail server that is down loses none. ``portal.services.sending``
delivers the rows (over SMTP with MAIL_SERVER set; otherwise as .eml files in MAIL_OUTBOX):
at once after the request or command that committed them, and from ``flask send-email``
for whatever could not go then.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from portal.db import session
from portal.models import OutgoingEmail, User

_QUEUE_KEY = "outgoing_email_ids"  # written in this unit of work, not yet committed
COMMITTED_KEY = "committed_email_ids"  # committed, not yet handed to deliver_now


ENGLISH = "en_GB"
WELSH = "cy"
BILINGUAL = "cy+en_GB"  # the recipient's language is not known: Welsh first, then English
_CONTENT_LANGUAGE = {ENGLISH: "en-GB", WELSH: "cy", BILINGUAL: "cy, en-GB"}
_DIVIDER = "\n\n" + "-" * 40 + "\n\n"


def _domain(address: str) -> str:
    """The domain of the sender's address (``grants@opcc.example.org`` -> ``opcc.example.org``)
    for Message-IDs; ``localhost`` when it has none."""
    return address.rpartition("@")[2].strip(" >") or "localhost"


def locale_of(language: str | None) -> str:
    """The locale of an email to someone whose account chose ``language`` ("en" or "cy"):
    the one place that says so. ``None`` (no account, or an invitation whose language the
    inviter did not choose) is :data:`BILINGUAL`: Welsh first, then English, so that the
    Welsh is not treated less favourably where the reader's choice is not known (issue 16)."""
    if language is None:
        return BILINGUAL
    return WELSH if language == "cy" else ENGLISH


def send_to(user: User, subject: object, template: str, **context: object) -> None:
    """Email ``user`` in the language stored on their account (``user`` is in the context)."""
    send(user.email, subject, template, locale=locale_of(user.language), user=user, **context)


def _render(locale: str, subject: object, template: str, context: dict) -> tuple[str, str]:
    with force_locale(locale):
        return str(subject), render_template(f"emails/{template}.txt", **context)


def send(to: str | list[str], subject: object, template: str, *, locale: str,
         **context: object) -> None:
    """Render ``templates/emails/<template>.txt`` (plain text: not HTML-escaped) in ``locale``
    (:func:`locale_of`; every recipient in ``to`` reads it) and write it to the outbox (an
    ``OutgoingEmail`` row, flushed): it leaves if and only if the unit of work commits.
    ``subject`` may be lazy text: it is read in ``locale``. :data:`BILINGUAL` renders the
    message in Welsh, then in English, in one email ("Welsh / English" subject)."""
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        return
    if locale == BILINGUAL:
        welsh_subject, welsh = _render(WELSH, subject, template, context)
        english_subject, english = _render(ENGLISH, subject, template, context)
        subject, body = f"{welsh_subject} / {english_subject}", welsh + _DIVIDER + english
    else:
        subject, body = _render(locale, subject, template, context)
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    # Kept with the row: a retry after a server that took the message but did not say so in
    # time sends the same Message-ID, so mail systems can drop the second copy.
    message["Message-ID"] = make_msgid(domain=_domain(current_app.config["MAIL_SENDER"]))
    message["To"] = ", ".join(recipients)
    # One line: a name typed with a line break (typed text is kept as typed) must neither
    # break the header nor fail the change that sends it.
    message["Subject"] = " ".join(subject.split())
    message.set_content(body)  # first: it clears every Content-* header set before it
    message["Content-Language"] = _CONTENT_LANGUAGE[locale]
    row = OutgoingEmail(recipients=", ".join(recipients), subject=message["Subject"],
                        message=bytes(message))
    session.add(row)
    session.flush()
    session.info.setdefault(_QUEUE_KEY, []).append(row.id)


def queued() -> list[int]:
    """The ids of the emails (``OutgoingEmail``) this unit of work has written, in order."""
    return session.info.get(_QUEUE_KEY, [])


def drop_queued_after(count: int) -> None:
    """Forget the emails written after the first ``count``: their savepoint was rolled back,
    which removed their rows."""
    del session.info.get(_QUEUE_KEY, [])[count:]


def message_of(email_id: int) -> EmailMessage:
    """The message of the email ``email_id`` as it will be sent (``LookupError`` if there is
    no such row in this unit of work's view)."""
    data = session.scalar(select(OutgoingEmail.message).where(OutgoingEmail.id == email_id))
    if data is None:
        raise LookupError(email_id)
    return parse(data)


def parse(data: bytes) -> EmailMessage:
    """A stored message (RFC 5322 bytes) as an ``EmailMessage``."""
    parsed = message_from_bytes(data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)  # the default policy's message class
    return parsed


def take_committed() -> list[int]:
    """The ids of the emails this session's commits have written since the last call (to be
    delivered at once: ``portal.services.sending.deliver_now``); forgets them."""
    return session.info.pop(COMMITTED_KEY, [])


@event.listens_for(Session, "after_commit")
def _note_committed(db_session: Session) -> None:
    if db_session.in_nested_transaction():
        return  # a savepoint was released (SQLAlchemy says "commit"): the outer one decides
    written = db_session.info.pop(_QUEUE_KEY, [])
    if written:
        db_session.info.setdefault(COMMITTED_KEY, []).extend(written)


@event.listens_for(Session, "after_rollback")
def _discard_after_rollback(db_session: Session) -> None:
    if not db_session.in_transaction():
        db_session.info.pop(_QUEUE_KEY, None)
