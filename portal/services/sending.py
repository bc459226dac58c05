"""The sender: hands the outbox's emails (``OutgoingEmail``) to the mail server (issue 17).

``send_due`` delivers every email that is due (``flask send-email``, from cron or a service);
``deliver_now(ids)`` the given ones, right after the request or command that wrote them
committed (``init_app`` hooks it to the end of each request). Both do the same:

1. **Claim** a batch in a short transaction: the due rows (pending, ``next_attempt_at`` past,
   no live claim), locked with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so that a second
   sender takes other rows instead of waiting, then one guarded ``UPDATE … WHERE id IN (…)
   AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < now)`` that writes a
   lease (``claimed_until``, :data:`LEASE` ahead) and a random ``claim_token``; the rows that
   carry this sender's token are its own. On SQLite the guard alone decides (writers queue
   for the database's one write lock), so two senders on any database take disjoint rows.
2. **Deliver** each with no transaction open: over SMTP (MAIL_SERVER, MAIL_TIMEOUT_SECONDS,
   STARTTLS and login as configured) or as an .eml file in MAIL_OUTBOX when MAIL_SERVER is
   unset.
3. **Record** the outcome with an UPDATE guarded by the claim token, committed per message:
   sent; or tried again later (a 4xx reply, a refused or timed-out connection, any other
   ``OSError``: ``attempts`` + 1, ``last_error``, the next try 1, 2, 4 … minutes later, at most
   MAIL_RETRY_MAX_MINUTES apart); or failed for good (the server refused the message itself
   with a 5xx reply, or it still could not go MAIL_GIVE_UP_HOURS after it was written).

A sender that dies mid-batch leaves its claims to lapse: the lease ends and another sender
takes the rows. A batch is given up (its rest released) before its lease could lapse, so an
email is never handed over by two senders.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import smtplib
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import and_, or_, select, update

from portal.db import session, utcnow
from portal.models import EmailStatus, OutgoingEmail
from portal.services import email

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # how long a claim keeps other senders off a row
BATCH = 20  # rows claimed at once
_LEASE_MARGIN_SECONDS = 60  # a batch stops this long before its lease would lapse
_ERROR_LENGTH = 300  # characters of ``last_error`` kept
# One message may take at most this long in all, however slowly the server drips its
# replies (MAIL_TIMEOUT_SECONDS bounds each read, not the whole conversation): less than the
# lease's margin, so a message is never still going when its lease lapses and another sender
# takes it (a breaker's dripping server had it sent twice).
MESSAGE_SECONDS = 45
SLOW_SECONDS = 3  # a request's email that took longer pauses the worker's sending too
QUIT_SECONDS = 2  # the answer to QUIT (in all), once the message is taken, is not worth more
# After a request, its own emails get at most MAIL_REQUEST_SECONDS in all (a breaker's slow
# server held a request until gunicorn killed the worker: a 500 after the change had
# committed); and a worker whose mail server was out of reach, refused, or was slow leaves the
# next minute's emails to the sender rather than make each request wait in turn
# (MAIL_PAUSE_AFTER_UNREACHABLE_SECONDS).
_unreachable_since: float | None = None  # this worker's last out-of-reach mail server


@dataclass
class Outcome:
    """What one pass did: emails sent, left to try again later (after a failure), failed for
    good, and put back untried (still due: the mail server could not be reached, so the rest
    of the pass would only have waited for it too)."""

    sent: int = 0
    retry: int = 0
    failed: int = 0
    untried: int = 0
    # The mail server could not be reached: the pass ended there.
    stopped: bool = field(default=False, compare=False)

    def __iadd__(self, other: Outcome) -> Outcome:
        self.sent += other.sent
        self.retry += other.retry
        self.failed += other.failed
        self.untried += other.untried
        self.stopped = self.stopped or other.stopped
        return self


class _Refused(Exception):
    """The mail server refused the message itself for good (a 5xx reply to it)."""


def send_due(now: datetime | None = None, stop: Callable[[], bool] = lambda: False) -> Outcome:
    """Deliver every email due at ``now`` (default: the clock at each batch), batch by batch,
    committing as it goes. Safe to run on several hosts at once. ``stop`` is asked before
    each message: when it says so (SIGTERM to ``send-email --watch``) the rest of the batch is
    put back, untried, for the next sender."""
    return _run(None, now, stop=stop)


def deliver_now(ids: Iterable[int], now: datetime | None = None, *,
                budget_seconds: float | None = None) -> Outcome:
    """Deliver the emails ``ids`` if they are still due and unclaimed (what another sender
    took, or what has already gone, is left alone), within ``budget_seconds`` in all if
    given (what is left then stays due, untried, for the sender). Commits as it goes: call it
    with no unit of work open."""
    wanted = sorted(set(ids))
    return _run(wanted, now, budget_seconds=budget_seconds) if wanted else Outcome()


def deliver_committed(budget_seconds: float | None = None) -> Outcome:
    """Deliver the emails this session's commits have written (``email.take_committed``):
    for commands, after their last commit; after a request, within ``budget_seconds``."""
    return deliver_now(email.take_committed(), budget_seconds=budget_seconds)


def _run(ids: list[int] | None, now: datetime | None, *, budget_seconds: float | None = None,
         stop: Callable[[], bool] = lambda: False) -> Outcome:
    outcome = Outcome()
    ends = None if budget_seconds is None else time.monotonic() + budget_seconds
    while not stop():
        claimed_at = time.monotonic()
        token, rows = _claim(ids, now or utcnow())
        if not rows:
            return outcome
        outcome += _deliver_batch(token, rows, now, claimed_at, ends=ends, stop=stop)
        if outcome.stopped or (ends is not None and time.monotonic() >= ends):
            return outcome
    return outcome


def _due(now: datetime) -> Any:
    return and_(OutgoingEmail.status == EmailStatus.PENDING,
                OutgoingEmail.next_attempt_at <= now,
                or_(OutgoingEmail.claimed_until.is_(None), OutgoingEmail.claimed_until < now))


def _claim(ids: list[int] | None, now: datetime) -> tuple[str, list[Any]]:
    """Claim up to :data:`BATCH` due rows (of ``ids``, if given) and commit the claim:
    the claim token and the rows claimed (id, message, created_at, attempts)."""
    candidates = (select(OutgoingEmail.id).where(_due(now))
                  .order_by(OutgoingEmail.next_attempt_at, OutgoingEmail.id).limit(BATCH)
                  # PostgreSQL: skip the rows another sender is claiming; SQLite has no row
                  # locks (SQLAlchemy writes no clause there) and the guard below decides.
                  .with_for_update(skip_locked=True))
    if ids is not None:
        candidates = candidates.where(OutgoingEmail.id.in_(ids))
    found = list(session.scalars(candidates))
    if not found:
        session.commit()
        return "", []
    token = secrets.token_hex(16)
    session.execute(update(OutgoingEmail)
                    .where(OutgoingEmail.id.in_(found), _due(now))
                    .values(claimed_until=now + LEASE, claim_token=token)
                    .execution_options(synchronize_session=False))
    rows = list(session.execute(
        select(OutgoingEmail.id, OutgoingEmail.message, OutgoingEmail.created_at,
               OutgoingEmail.attempts)
        .where(OutgoingEmail.claim_token == token).order_by(OutgoingEmail.id)))
    session.commit()
    return token, rows


def _deliver_batch(token: str, rows: list[Any], now: datetime | None, claimed_at: float, *,
                   ends: float | None = None, stop: Callable[[], bool] = lambda: False) -> Outcome:
    global _unreachable_since
    outcome = Outcome()
    config = current_app.config
    for position, row in enumerate(rows):
        clock = time.monotonic()
        seconds = float(MESSAGE_SECONDS) if ends is None else ends - clock
        if (clock - claimed_at > LEASE.total_seconds() - _LEASE_MARGIN_SECONDS
                or seconds < 0.5 or stop()):
            _release(token, [later.id for later in rows[position:]])
            outcome.untried += len(rows) - position
            break
        try:
            refused = _deliver(row.id, row.message, config, seconds=min(seconds,
                                                                        MESSAGE_SECONDS))
        except _Refused as refusal:
            _mark(row.id, token, status=EmailStatus.FAILED, attempts=row.attempts + 1,
                  error=str(refusal), sent_at=None)
            outcome.failed += 1
            log.warning("Email %s refused for good: %s", row.id, refusal)
            continue
        except (OSError, smtplib.SMTPException) as problem:
            outcome += _retry_later(row, token, _words(problem), now or utcnow())
            if _unreachable(problem) or ends is not None:
                # A request's try failed (out of reach, or an answer such as a slow "450"):
                # this worker's next requests leave their emails to the sender for a while.
                _unreachable_since = time.monotonic()
            if _unreachable(problem) and position + 1 < len(rows):
                # Each of the rest would wait as long for the same answer (a request's
                # worker, up to MAIL_TIMEOUT_SECONDS each): they stay due for the sender.
                _release(token, [later.id for later in rows[position + 1:]])
                outcome.untried += len(rows) - position - 1
                outcome.stopped = True
                break
            outcome.stopped = _unreachable(problem)
            continue
        _mark(row.id, token, status=EmailStatus.SENT, attempts=row.attempts + 1,
              error=_partly_refused(refused), sent_at=now or utcnow())
        outcome.sent += 1
        if ends is not None and time.monotonic() - clock > SLOW_SECONDS:
            _unreachable_since = time.monotonic()  # sent, but slowly: spare the next requests
    return outcome


def _retry_later(row: Any, token: str, error: str, now: datetime) -> Outcome:
    """A failure that may pass: try again after 1, 2, 4 … minutes (at most
    MAIL_RETRY_MAX_MINUTES), unless the email is MAIL_GIVE_UP_HOURS old."""
    attempts = row.attempts + 1
    if now - row.created_at >= timedelta(hours=current_app.config["MAIL_GIVE_UP_HOURS"]):
        _mark(row.id, token, status=EmailStatus.FAILED, attempts=attempts,
              error=f"Given up after {attempts} attempts: {error}", sent_at=None)
        log.warning("Email %s given up after %s attempts: %s", row.id, attempts, error)
        return Outcome(failed=1)
    _mark(row.id, token, status=EmailStatus.PENDING, attempts=attempts, error=error,
          sent_at=None, next_attempt_at=now + backoff(attempts))
    log.warning("Email %s not sent (attempt %s), tried again later: %s", row.id, attempts, error)
    return Outcome(retry=1)


def backoff(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failed try an email is tried again:
    2**(attempts - 1) minutes, at most MAIL_RETRY_MAX_MINUTES."""
    most = current_app.config["MAIL_RETRY_MAX_MINUTES"]
    return timedelta(minutes=min(2 ** min(attempts - 1, 30), most))


def _mark(email_id: int, token: str, *, status: EmailStatus, attempts: int, error: str,
          sent_at: datetime | None, next_attempt_at: datetime | None = None) -> None:
    """Record one delivery's outcome, only while this sender's claim holds; commit."""
    values: dict[str, Any] = {"status": status, "attempts": attempts, "claimed_until": None,
                              "claim_token": None, "last_error": error[:_ERROR_LENGTH]}
    if sent_at is not None:
        values["sent_at"] = sent_at
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    session.execute(update(OutgoingEmail)
                    .where(OutgoingEmail.id == email_id, OutgoingEmail.claim_token == token)
                    .values(values).execution_options(synchronize_session=False))
    session.commit()


def _release(token: str, ids: list[int]) -> None:
    """Give back rows claimed but not tried (their turn comes in the next batch)."""
    session.execute(update(OutgoingEmail)
                    .where(OutgoingEmail.id.in_(ids), OutgoingEmail.claim_token == token)
                    .values(claimed_until=None, claim_token=None)
                    .execution_options(synchronize_session=False))
    session.commit()


def _deliver(email_id: int, data: bytes, config: Any,
             seconds: float = MESSAGE_SECONDS) -> dict[str, Any]:
    """Hand one message to the mail server (or write it to MAIL_OUTBOX), taking at most
    ``seconds`` in all: the recipients it refused while taking the message for the others
    (usually none). Raises ``_Refused`` when the server refused the message itself for good;
    ``OSError`` or ``smtplib.SMTPException`` for a failure that may pass (a server slower than
    ``seconds`` in all is cut off: ``TimeoutError``)."""
    if not config.get("MAIL_SERVER"):
        outbox = Path(config["MAIL_OUTBOX"])
        outbox.mkdir(parents=True, exist_ok=True)
        path = outbox / f"{utcnow():%Y%m%dT%H%M%S%f}-{email_id:08d}.eml"
        path.write_bytes(data)
        log.info("Email %s written to %s", email_id, path)
        return {}
    message = email.parse(data)
    smtp = smtplib.SMTP(timeout=min(config["MAIL_TIMEOUT_SECONDS"], seconds))
    watchdog = _Watchdog(smtp, seconds)
    try:
        smtp.connect(config["MAIL_SERVER"], config["MAIL_PORT"])
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        refusals = dict(smtp.send_message(message))
    except smtplib.SMTPRecipientsRefused as refused:
        if all(code >= 500 for code, _text in refused.recipients.values()):
            raise _Refused(_words(refused)) from refused
        raise
    except smtplib.SMTPDataError as refused:  # the reply to the message itself
        if refused.smtp_code >= 500:
            raise _Refused(_words(refused)) from refused
        raise
    except (OSError, smtplib.SMTPException) as problem:
        if watchdog.fired:
            raise TimeoutError(f"the mail server took more than {seconds:.0f} s in all "
                               "(cut off)") from problem
        raise
    finally:
        # Still under the watchdog, and briefly: once the server has taken the message, a
        # slow or missing answer to QUIT changes nothing (a breaker's server dripped its
        # "221": the request outlived its worker, and the email, taken, was sent again).
        watchdog.cancel()
        if not watchdog.fired:
            goodbye = _Watchdog(smtp, QUIT_SECONDS)
            _close(smtp)
            goodbye.cancel()
        smtp.close()
    return refusals


class _Watchdog:
    """Cuts the connection of ``smtp`` after ``seconds`` (a server answering a byte at a
    time never trips the per-read timeout): the read that is waiting then fails at once."""

    def __init__(self, smtp: smtplib.SMTP, seconds: float) -> None:
        self.smtp = smtp
        self.fired = False
        self._timer = threading.Timer(max(seconds, 0.1), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        sock = getattr(self.smtp, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def _close(smtp: smtplib.SMTP) -> None:
    """Say goodbye (the caller's watchdog cuts it off after :data:`QUIT_SECONDS`), ignoring
    a server that does not answer: the message, if taken, is sent (``SMTP``'s
    context manager would raise on an odd reply to QUIT, and a retry would send the message
    twice)."""
    try:
        if smtp.sock is not None:
            smtp.sock.settimeout(QUIT_SECONDS)
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _unreachable(problem: BaseException) -> bool:
    """The mail server could not be reached or dropped the line (no reply to the message)."""
    return not isinstance(problem, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused)


def _words(problem: BaseException) -> str:
    """A failure in one short line for ``last_error`` and the log: the server's reply or the
    error, never the settings (so never the password)."""
    if isinstance(problem, smtplib.SMTPRecipientsRefused):
        text = "Recipients refused: " + "; ".join(
            f"{address} {code} {_text(reply)}"
            for address, (code, reply) in problem.recipients.items())
    elif isinstance(problem, smtplib.SMTPResponseException):
        text = f"{type(problem).__name__}: {problem.smtp_code} {_text(problem.smtp_error)}"
    else:
        text = f"{type(problem).__name__}: {problem}"
    return " ".join(text.split())[:_ERROR_LENGTH]


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _partly_refused(refused: dict[str, Any]) -> str:
    """The recipients the server refused while it took the message for the others: kept in
    ``last_error`` of the sent email (a retry would send the others a second copy)."""
    if not refused:
        return ""
    return " ".join(("Sent, but these recipients were refused: " + "; ".join(
        f"{address} {code} {_text(reply)}"
        for address, (code, reply) in refused.items())).split())


# --- after each request ----------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Deliver each request's emails once its unit of work has committed (a teardown runs
    after every ``after_request`` hook, so after ``portal.db``'s commit), when
    MAIL_SEND_AFTER_REQUEST is on."""
    app.teardown_request(_deliver_after_request)


def _deliver_after_request(_error: BaseException | None) -> None:
    db_session = g.get("db_session")  # portal.db's session, if the request used one
    if db_session is None or not current_app.config["MAIL_SEND_AFTER_REQUEST"]:
        return
    if not db_session.info.get(email.COMMITTED_KEY) or db_session.in_transaction():
        # Nothing committed to send, or work is still open that is not ours to commit: the
        # emails wait for ``flask send-email``.
        return
    pause = current_app.config["MAIL_PAUSE_AFTER_UNREACHABLE_SECONDS"]
    paused = (_unreachable_since is not None
              and time.monotonic() - _unreachable_since < pause)
    if paused:  # this worker's last try found the mail server out of reach: leave it
        email.take_committed()
        return
    try:
        deliver_committed(budget_seconds=float(current_app.config["MAIL_REQUEST_SECONDS"]))
    except Exception:  # noqa: BLE001 - the rows wait for the sender; never fail the request
        log.exception("Emails not delivered after the request; the sender will try again")
        db_session.rollback()
