"""What the portal keeps about sending email: how many a form has sent to one address or for
one client lately (so every worker and host counts the same), and the return reminders that
nobody could receive."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow


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
