"""Sign-ins kept on the server, and the forms kept when a save arrives after a session ended.

A session lives in a signed cookie (``portal.security``); the server also keeps one row per
sign-in, whose id the cookie carries, so that signing out ends the session for every copy of
its cookie, and so that deactivating a user or changing their password ends every sign-in of
theirs, on every worker and host (the rows are in the database, not in a worker's memory).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow


class SignIn(Base):
    """One sign-in of one browser: live until ``ended_at`` is set.

    ``id`` is random (``secrets.token_urlsafe(32)``) and kept in the session cookie beside the
    user's id; the user loader accepts the cookie only while this row is live.
    ``ended_because``: "signed_out", "deactivated", "password_changed" or "replaced"."""

    __tablename__ = "sign_ins"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[datetime | None]
    ended_because: Mapped[str | None] = mapped_column(String(20))


class KeptForm(Base):
    """What was typed into a form posted after its session ended, kept until the same user
    signs in again and opens the page (then deleted), or for a day at most.

    ``id`` is random and kept only in the posting browser's new session; ``fields`` is the
    posted form as ``[[name, value], ...]`` without its CSRF and one-shot tokens or files."""

    __tablename__ = "kept_forms"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(500))
    fields: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
