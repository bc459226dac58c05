"""Email: one call renders a message in the recipient's language and queues it.

``send_to(user, …)`` writes in the language stored on the account (``locale_of``, the one
place a language becomes a locale); ``send(address, …, locale=locale_of(None))`` writes Welsh
then English in one message where the reader's choice is not known. Each message says its
language in a ``Content-Language`` header.

Messages leave only when the unit of work commits, so a refused change never
sends mail. With MAIL_SERVER set they go over SMTP; otherwise each is written to
the instance outbox as an .eml file and logged, so a new user can read them.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.db import session, utcnow
from portal.models import User

log = logging.getLogger(__name__)
_QUEUE_KEY = "outgoing_email"
_FAILED_KEY = "undelivered_email"
_MAIL_KEYS = ("MAIL_SERVER", "MAIL_PORT", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_USE_TLS",
              "MAIL_OUTBOX")


ENGLISH = "en_GB"
WELSH = "cy"
BILINGUAL = "cy+en_GB"  # the recipient's language is not known: Welsh first, then English
_CONTENT_LANGUAGE = {ENGLISH: "en-GB", WELSH: "cy", BILINGUAL: "cy, en-GB"}
_DIVIDER = "\n\n" + "-" * 40 + "\n\n"


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
    (:func:`locale_of`; every recipient in ``to`` reads it) and send it after the commit.
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
    message["To"] = ", ".join(recipients)
    # One line: a name typed with a line break (typed text is kept as typed) must neither
    # break the header nor fail the change that sends it.
    message["Subject"] = " ".join(subject.split())
    message.set_content(body)  # first: it clears every Content-* header set before it
    message["Content-Language"] = _CONTENT_LANGUAGE[locale]
    config = {key: current_app.config[key] for key in _MAIL_KEYS}
    session.info.setdefault(_QUEUE_KEY, []).append((message, config))


def queued() -> list:
    """The messages waiting for this unit of work's commit."""
    return session.info.get(_QUEUE_KEY, [])


def drop_queued_after(count: int) -> None:
    """Forget messages queued after the first ``count`` (their change was rolled back)."""
    del session.info.get(_QUEUE_KEY, [])[count:]


def deliver(message: EmailMessage, config: dict) -> None:
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
        return
    outbox = Path(config["MAIL_OUTBOX"])
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    path = outbox / f"{stamp}-{abs(hash(message['To'])) % 10**8:08d}.eml"
    path.write_bytes(bytes(message))
    log.info("Email to %s (%s) written to %s", message["To"], message["Subject"], path)


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(db_session: Session) -> None:
    if db_session.in_nested_transaction():
        return  # a savepoint was released (SQLAlchemy says "commit"): the outer one decides
    for message, config in db_session.info.pop(_QUEUE_KEY, []):
        try:
            deliver(message, config)
        except (OSError, smtplib.SMTPException):
            log.exception("Could not send email to %s", message["To"])
            db_session.info.setdefault(_FAILED_KEY, []).append(message)


def take_undelivered() -> list[EmailMessage]:
    """The messages this session's commits could not hand over (to the mail server or the
    outbox) since the last call; forgets them."""
    return session.info.pop(_FAILED_KEY, [])


@event.listens_for(Session, "after_rollback")
def _discard_after_rollback(db_session: Session) -> None:
    if not db_session.in_transaction():
        db_session.info.pop(_QUEUE_KEY, None)
