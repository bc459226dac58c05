"""One-shot forms: the token a form carries is claimed when its post is handled.

``claim`` inserts the token in the request's transaction before the action runs. A second
post of the same form finds it there (or, posted at the same moment on PostgreSQL, waits on
the primary key until the first commits) and is sent to the first result. An action that
was refused releases its token, so the corrected form can be posted again.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from portal.db import session, utcnow
from portal.models import UsedFormToken, User
from portal.tokens import once_token_valid


class Used(Exception):
    """The token was used before: ``result_url`` is where its first post went."""

    def __init__(self, result_url: str) -> None:
        super().__init__(result_url)
        self.result_url = result_url


def issued_to(token: str, user: User) -> bool:
    """Whether the portal issued ``token`` to ``user`` (signed with SECRET_KEY)."""
    return once_token_valid(token, user.id, current_app.config["SECRET_KEY"])


def claim(token: str, user: User, posted_to: str) -> None:
    """Take the token for this post to ``posted_to`` (a path), or raise ``Used`` if a post of
    the same form took it: with the first result's URL, or "" when the token was spent on
    another form (it is not this form's result)."""
    existing = session.get(UsedFormToken, token, populate_existing=True)
    if existing is not None:
        raise Used(_result_for(existing, user, posted_to))
    try:
        with session.begin_nested():
            session.add(UsedFormToken(token=token, user_id=user.id, used_at=utcnow(),
                                      posted_to=posted_to[:500], result_url=""))
            session.flush()
    except IntegrityError:  # posted twice at once: the first post has committed by now
        session.expire_all()
        first = session.scalar(select(UsedFormToken).where(UsedFormToken.token == token))
        raise Used(_result_for(first, user, posted_to) if first else "") from None


def _result_for(used: UsedFormToken, user: User, posted_to: str) -> str:
    same_form = used.user_id == user.id and used.posted_to == posted_to[:500]
    return used.result_url if same_form else ""


def settle(token: str, result_url: str) -> None:
    """Record where the post that claimed ``token`` sent the user."""
    session.execute(update(UsedFormToken).where(UsedFormToken.token == token)
                    .values(result_url=result_url[:500])
                    .execution_options(synchronize_session=False))


def release(token: str) -> None:
    """The action was refused (the form is shown again with errors): the token is free."""
    session.execute(delete(UsedFormToken).where(UsedFormToken.token == token)
                    .execution_options(synchronize_session=False))
