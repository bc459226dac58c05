"""What the portal keeps about sending email: how many a form has sent to one address or for
one client lately (so every worker and host counts the same), the return reminders that
nobody could receive, and every email waiting to leave or already sent (the outbox)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_column, utcnow


class EmailLimit(Base):
    """The emails one form has sent for one key (an email address, or a client's network
    address) in the window that began at ``window_start``: one row per (scope, key), counted
    up in place by one atomic upsert (``portal.services.limits``).

    ``key`` is an HMAC of the address (keyed with SECRET_KEY), not the address itself: the
    table says how often, never to whom."""

    __tablename__ = "email_limits"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)  # e.g. "reset:address"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex HMAC-SHA256
    window_start: Mapped[datetime] = mapped_column(index=True)  # expired rows are pruned
    count: Mapped[int] = mapped_column(Integer, default=0)


class ReminderHeld(Base):
    """A return reminder (return, kind) that was due but reached nobody: the partnership had
    no active officer (``reason`` "no_recipient"), or the mail server took none of its emails
    ("not_delivered"). Listed for the grants team; deleted when a later run sends it (it is
    then in ``reminders_sent``) or when it is no longer due."""

    __tablename__ = "reminders_held"
    __table_args__ = (UniqueConstraint("return_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("grant_returns.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # due_soon | overdue
    reason: Mapped[str] = mapped_column(String(20))  # no_recipient | not_delivered
    held_since: Mapped[datetime] = mapped_column(default=utcnow)
    last_tried_at: Mapped[datetime] = mapped_column(default=utcnow)


class EmailStatus(enum.Enum):
    PENDING = "pending"  # waiting for a sender (or for its next try, after a failure)
    SENT = "sent"  # the mail server (or the outbox folder) took it
    FAILED = "failed"  # the mail server refused it for good, or it was given up on


class OutgoingEmail(Base):
    """One email, written in the same transaction as the change that caused it, so that it
    leaves if and only if that change commits (the transactional outbox). A sender
    (``portal.services.sending``) claims pending rows (``claimed_until``, a lease; on
    PostgreSQL the claim skips rows another sender has locked), hands each to the mail server,
    and marks it sent; a failure is kept in ``last_error`` and tried again from
    ``next_attempt_at`` (backoff) until it succeeds or is given up on (issue 17).

    ``message`` is the whole RFC 5322 message as rendered for its recipient (their language,
    ``Content-Language``), so a retry sends exactly what the change wrote."""

    __tablename__ = "outgoing_emails"
    __table_args__ = (Index("ix_outgoing_emails_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipients: Mapped[str] = mapped_column(Text)  # "a@example.org, b@example.org"
    subject: Mapped[str] = mapped_column(Text)
    message: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[EmailStatus] = mapped_column(
        enum_column(EmailStatus, "email_status", 20), default=EmailStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    claim_token: Mapped[str | None] = mapped_column(String(64), default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
