"""Limits on the forms that send email (password reset, invitation), counted in the database.

Every worker and every host of the portal share one count, because it lives in the portal's
database: Flask-Limiter's storages (memory, Redis, Memcached, MongoDB) are either per worker or
a service the portal does not run, and no maintained limiter stores its counts through
SQLAlchemy. The portal's own sign-in lock-out counts the same way (``SignInThrottle``).

A form has two counts: per email address (so nobody can flood one inbox) and per client
network address (so nobody can send to many addresses). Each is a fixed window that begins
with the first email after the last window ended and lasts ``EMAIL_LIMIT_WINDOW_MINUTES``;
within it at most ``EMAIL_LIMIT_PER_ADDRESS`` emails go to one address and at most
``EMAIL_LIMIT_PER_CLIENT`` posts are counted for one client (settings, ``portal.config``).
One window's limit and the next one's can meet, so the most a key can reach in any one
window's length is twice the limit: a bound, not a rate.

Each count is one upsert (``INSERT … ON CONFLICT DO UPDATE … RETURNING``): concurrent posts in
different workers never lose an increment. On PostgreSQL the row stays locked until the
request commits; on SQLite a posting request holds the write lock from its start.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g
from sqlalchemy import Integer, case, delete, literal, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from portal.db import UTCDateTime, session, utcnow
from portal.models.sending import EmailLimit

PASSWORD_RESET = "reset"
INVITATION = "invite"
_PRUNE_BATCH = 100


@dataclass(frozen=True)
class Refusal:
    """Why an email may not be sent now: ``by`` is "address" (too many to this address) or
    "client" (too many from this client); it may be sent again at ``until`` (UTC). ``first``:
    this is the first refusal of the key's window (the one to audit: later ones are not)."""

    by: str
    until: datetime
    first: bool

    @property
    def minutes_left(self) -> int:
        """Whole minutes (at least 1) until the window ends."""
        return max(1, -(-int((self.until - utcnow()).total_seconds()) // 60))


def _window() -> timedelta:
    return timedelta(minutes=current_app.config["EMAIL_LIMIT_WINDOW_MINUTES"])


def _digest(scope: str, key: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"{scope}\0{key}".encode(), hashlib.sha256).hexdigest()


def _count(scope: str, key: str, now: datetime) -> tuple[int, datetime]:
    """Count one for (scope, key); its count in the current window and when that began."""
    window = _window()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert
    stamp = literal(now, UTCDateTime())
    expired = EmailLimit.window_start <= literal(now - window, UTCDateTime())
    upsert = insert(EmailLimit).values(scope=scope, key=_digest(scope, key),
                                       window_start=now, count=1)
    upsert = upsert.on_conflict_do_update(
        index_elements=[EmailLimit.scope, EmailLimit.key],
        set_={"count": case((expired, literal(1, Integer())), else_=EmailLimit.count + 1),
              "window_start": case((expired, stamp), else_=EmailLimit.window_start)},
    )
    row = session.execute(upsert.returning(EmailLimit.count, EmailLimit.window_start)).one()
    return row[0], row[1]


def _prune(now: datetime) -> None:
    """Forget a batch of counts whose window has ended, skipping rows another request holds
    (so two requests pruning at once never wait on each other)."""
    stale = (select(EmailLimit.scope, EmailLimit.key)
             .where(EmailLimit.window_start <= now - _window())
             .limit(_PRUNE_BATCH).with_for_update(skip_locked=True))
    session.execute(delete(EmailLimit).where(
        tuple_(EmailLimit.scope, EmailLimit.key).in_(stale)),
        execution_options={"synchronize_session": False})


def _client_key(address: str | None) -> str | None:
    """The client a limit counts: an IPv4 address as it is, an IPv6 address by its /64 (one
    household or office network holds a whole /64, and would otherwise have 2**64 clients)."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def take(form: str, address: str) -> Refusal | None:
    """Count one email from ``form`` (``PASSWORD_RESET`` or ``INVITATION``) to ``address``
    (normalised) for this request's client (``g.client_address``, none for a command): None
    if it may be sent, else the first limit it is over. The client is counted first; a post
    refused for its client does not count against the address.

    Not ``@atomic`` on purpose: a caller that goes on without sending (the reset form, which
    answers the same whatever happens) keeps the count; one that raises a refusal from inside
    its savepoint (the invitation) rolls it back, so only emails sent are counted."""
    config = current_app.config
    now = utcnow()
    _prune(now)
    client = _client_key(g.get("client_address"))
    checks = ([("client", client, config["EMAIL_LIMIT_PER_CLIENT"])] if client else [])
    checks.append(("address", address, config["EMAIL_LIMIT_PER_ADDRESS"]))
    for by, key, limit in checks:
        count, started = _count(f"{form}:{by}", key, now)
        if count > limit:
            return Refusal(by=by, until=started + _window(), first=count == limit + 1)
    return None
