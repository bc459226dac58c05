"""Who may use each route. Every view declares it: ``@public`` or ``@requires(...)``.

A test walks the URL map and fails on any endpoint that declares neither.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from portal.models import Role

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTRIBUTE = "_portal_access"
PUBLIC = "public"
SIGNED_IN = "signed-in"


def public(view: F) -> F:
    """Anyone, signed in or not."""
    setattr(view, ACCESS_ATTRIBUTE, PUBLIC)
    return view


def requires(*roles: Role) -> Callable[[F], F]:
    """Signed in and holding one of ``roles``; with no roles, any signed-in user."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if roles and not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        guarded = login_required(wrapper)
        setattr(guarded, ACCESS_ATTRIBUTE, frozenset(roles) if roles else SIGNED_IN)
        return guarded  # type: ignore[return-value]

    return decorate


def access_of(view: Callable[..., Any]) -> object | None:
    return getattr(view, ACCESS_ATTRIBUTE, None)
