"""Who may use each route. Every view declares it: ``@public`` or ``@requires(Action.…)``.

The answer comes from the one access policy (``portal.services.policy``): ``@requires(action)``
lets in a signed-in user for whom ``can(user, action)`` holds, sends anyone else to sign in
(not signed in) or a 403 page (signed in without the role). A test walks the URL map and fails
on any endpoint that declares neither, and keeps a snapshot of the roles each endpoint allows.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from portal.services.policy import Action, can

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTRIBUTE = "_portal_access"
PUBLIC = "public"


def public(view: F) -> F:
    """Anyone, signed in or not."""
    setattr(view, ACCESS_ATTRIBUTE, PUBLIC)
    return view


def requires(action: Action) -> Callable[[F], F]:
    """Signed in, and allowed ``action`` by the policy."""
    action = Action(action)

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not can(current_user, action):
                abort(403)
            return view(*args, **kwargs)

        guarded: Any = login_required(wrapper)
        setattr(guarded, ACCESS_ATTRIBUTE, action)
        return guarded

    return decorate


def access_of(view: Callable[..., Any]) -> str | Action | None:
    """``PUBLIC``, the ``Action`` a view requires, or None if it declares neither."""
    return getattr(view, ACCESS_ATTRIBUTE, None)
