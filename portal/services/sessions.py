"""Sign-ins kept on the server, and forms kept across a session that ended while idle.

**Sign-ins.** The session is a signed cookie (``portal.security``). Each sign-in also gets a
row (``SignIn``) whose random id the cookie carries; the user loader accepts a cookie only
while its row is live (:func:`signed_in_user`, one query with the user, as before). So:

- signing out ends the session for every copy of its cookie, not only the browser's own
  (a copy taken before "Sign out" opens nothing afterwards);
- deactivating a user, or a new password, ends every sign-in of theirs (:func:`end_all`);
- it holds across workers and hosts: the rows are in the database.

A sign-in also ends ``SESSION_ABSOLUTE_HOURS`` (default 12) after it began, however busy:
reauthentication at least every 12 hours is NIST SP 800-63B's rule for AAL2. Rows are deleted
at the next sign-in of anyone once twice that old (:data:`SIGN_IN_ROWS_KEPT_FOR`): a save
arriving after its session ended (within the absolute lifetime, ``portal.security``) still
finds its row, and the table stays small. The idle limit is checked from the time signed
into the cookie (``PERMANENT_SESSION_LIFETIME``): rows are never written on a page view.

**Kept forms.** A form posted after its session ended while idle is kept (``KeptForm``) for
the same user, for a day at most, and shown again once, after they sign in
(``portal.security`` decides when; this module stores and finds). A replayed cookie must not
fill the database (issue 13, review): one kept form per user and page (a later save replaces
the earlier), at most :data:`KEPT_FORMS_PER_USER` per user (the oldest go), and every keep
deletes a batch of the forms older than a day.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from portal.db import session, utcnow
from portal.models import User
from portal.models.sessions import KeptForm, SignIn
from portal.services.workflow import atomic

# Why a sign-in ended (``SignIn.ended_because``).
SIGNED_OUT = "signed_out"
DEACTIVATED = "deactivated"
PASSWORD_CHANGED = "password_changed"
# ``ended_because`` of a sign-in whose row is not (or no longer) in the table.
GONE = "gone"

KEPT_FORM_HOURS = 24
# What a kept form may hold: a bid section's text boxes, with room; a post beyond is not kept.
KEPT_FORM_MAX_FIELDS = 500
KEPT_FORM_MAX_CHARACTERS = 200_000
# A person has few pages open at once: more kept forms than this is a replayed cookie.
KEPT_FORMS_PER_USER = 5
# Kept forms older than a day deleted by each keep (bounded: a keep stays quick).
KEPT_FORM_PURGE_BATCH = 100


def absolute_lifetime() -> timedelta:
    """The longest a sign-in lasts, however busy (``SESSION_ABSOLUTE_HOURS``, default 12)."""
    return timedelta(hours=current_app.config.get("SESSION_ABSOLUTE_HOURS", 12))


def sign_in_rows_kept_for() -> timedelta:
    """How long a sign-in's row is kept after it began: its absolute lifetime, then as long
    again, in which a save after its end may still be kept (``portal.security``)."""
    return 2 * absolute_lifetime()


# --- sign-ins ---------------------------------------------------------------------------------


@atomic
def begin(user: User) -> str:
    """A new live sign-in of ``user``; returns its id (43 URL-safe characters) for the session.

    Also deletes every sign-in begun more than :func:`sign_in_rows_kept_for` ago and every
    kept form older than a day (indexed deletes; they keep both tables small)."""
    now = utcnow()
    session.execute(delete(SignIn).where(SignIn.created_at < now - sign_in_rows_kept_for()))
    session.execute(delete(KeptForm).where(
        KeptForm.created_at < now - timedelta(hours=KEPT_FORM_HOURS)))
    sign_in = SignIn(id=secrets.token_urlsafe(32), user_id=user.id, created_at=now)
    session.add(sign_in)
    session.flush()
    return sign_in.id


def signed_in_user(user_id: int, stamp: str, sign_in_id: str) -> User | None:
    """The active user whose live sign-in ``sign_in_id`` is, with the stamp the session was
    given (a new password changes it), or None. One query: the user with its organisation and
    roles, joined to the sign-in."""
    statement = (
        select(User)
        .join(SignIn, SignIn.user_id == User.id)
        .where(User.id == user_id, SignIn.id == sign_in_id, SignIn.ended_at.is_(None),
               SignIn.created_at > utcnow() - absolute_lifetime())
        .options(joinedload(User.role_rows))
    )
    user = session.scalars(statement).unique().one_or_none()
    if user is None or not user.is_active or user.security_stamp != stamp:
        return None
    return user


def ended_because(sign_in_id: str) -> str | None:
    """Why the sign-in ``sign_in_id`` was ended on purpose (``SIGNED_OUT``, ``DEACTIVATED``,
    ``PASSWORD_CHANGED``…), ``GONE`` when it has no row (never was, or deleted as old), or
    None when nothing ended it (it is live, or ended by time: idle or absolute lifetime)."""
    row = session.execute(select(SignIn.ended_at, SignIn.ended_because)
                          .where(SignIn.id == sign_in_id)).one_or_none()
    if row is None:
        return GONE
    if row.ended_at is None:
        return None
    return row.ended_because or SIGNED_OUT


@atomic
def end(sign_in_id: str | None, because: str) -> None:
    """Ends one sign-in (no error if it has ended already or never was)."""
    if sign_in_id:
        session.execute(update(SignIn)
                        .where(SignIn.id == sign_in_id, SignIn.ended_at.is_(None))
                        .values(ended_at=utcnow(), ended_because=because))


@atomic
def end_all(user: User, because: str) -> None:
    """Ends every live sign-in of ``user``: on every device, whichever copy of a cookie."""
    session.execute(update(SignIn)
                    .where(SignIn.user_id == user.id, SignIn.ended_at.is_(None))
                    .values(ended_at=utcnow(), ended_because=because))


# --- kept forms -------------------------------------------------------------------------------


@atomic
def keep_form(user_id: int, path: str, fields: Iterable[tuple[str, str]]) -> str | None:
    """Keeps a form's posted fields for ``user_id`` and the page at ``path``; returns the
    kept form's id (43 URL-safe characters), or None when the post is too large to keep
    (``KEPT_FORM_MAX_FIELDS``, ``KEPT_FORM_MAX_CHARACTERS``) or names no user.

    Bounded however often it is called: the user's earlier form kept for the same page is
    replaced, the user keeps at most ``KEPT_FORMS_PER_USER`` (the oldest are deleted), and up
    to ``KEPT_FORM_PURGE_BATCH`` forms of anyone older than a day are deleted."""
    pairs = [[name, value] for name, value in fields]
    size = sum(len(name) + len(value) for name, value in pairs)
    if (not pairs or len(pairs) > KEPT_FORM_MAX_FIELDS or size > KEPT_FORM_MAX_CHARACTERS
            or len(path) > 500 or session.get(User, user_id) is None):
        return None
    now = utcnow()
    stale = (select(KeptForm.id)
             .where(KeptForm.created_at < now - timedelta(hours=KEPT_FORM_HOURS))
             .limit(KEPT_FORM_PURGE_BATCH))
    session.execute(delete(KeptForm).where(KeptForm.id.in_(stale)))
    session.execute(delete(KeptForm).where(KeptForm.user_id == user_id,
                                           KeptForm.path == path))
    others = session.scalars(select(KeptForm.id).where(KeptForm.user_id == user_id)
                             .order_by(KeptForm.created_at.desc(), KeptForm.id)).all()
    oldest = others[KEPT_FORMS_PER_USER - 1:]
    if oldest:
        session.execute(delete(KeptForm).where(KeptForm.id.in_(oldest)))
    kept = KeptForm(id=secrets.token_urlsafe(32), user_id=user_id, path=path, fields=pairs,
                    created_at=now)
    session.add(kept)
    session.flush()
    return kept.id


def kept_form(kept_id: str, user: User) -> KeptForm | None:
    """The form kept as ``kept_id`` for ``user`` within the last day, or None (another user's
    is never returned)."""
    since = utcnow() - timedelta(hours=KEPT_FORM_HOURS)
    return session.scalar(select(KeptForm).where(
        KeptForm.id == kept_id, KeptForm.user_id == user.id, KeptForm.created_at > since))


@atomic
def forget_form(kept_id: str) -> None:
    """Deletes a kept form (shown once already, or kept for someone who did not sign in)."""
    session.execute(delete(KeptForm).where(KeptForm.id == kept_id))
