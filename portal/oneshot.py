"""``@one_shot``: a view whose POST acts once per form (see ``portal.services.once``).

Put it under ``@requires(...)``. The form is a ``forms.fields.OneShotForm`` and its template
renders ``{{ form.once }}``. ``tests/integration/test_one_shot_under_load.py`` finds every
one-shot view and posts its form, as a browser would, many times at once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import flash, g, make_response, redirect, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.services import once

F = TypeVar("F", bound=Callable[..., Any])
ONE_SHOT_ATTRIBUTE = "_portal_one_shot"


def one_shot(view: F) -> F:
    """POSTs carry the form's one-time token: the first is handled, any other post of the
    same form is sent to the first one's result with a note that it was already done."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.method != "POST":
            return view(*args, **kwargs)
        token = request.form.get("once", "")
        if not once.issued_to(token, current_user):
            # Missing (an old tab), made up, or issued to someone else: the view runs (its
            # 404s and messages stand), every service it calls as a dry run that refuses.
            return _refusing(view, *args, **kwargs)
        try:
            once.claim(token, current_user, request.path)
        except once.Used as used:
            if not used.result_url:  # the token of another form: not this one's result
                return _refusing(view, *args, **kwargs)
            flash(_("That was already done: you are seeing its result."), "info")
            return redirect(used.result_url)
        g.service_outcomes = []
        response = make_response(view(*args, **kwargs))
        outcomes = g.pop("service_outcomes", [])
        took_effect = outcomes and all(outcomes)
        if took_effect and 300 <= response.status_code < 400 and response.location:
            once.settle(token, response.location)
        else:  # refused, or nothing done: the form may be posted again; no row is left
            once.release(token)
        return response

    setattr(wrapper, ONE_SHOT_ATTRIBUTE, True)
    return wrapper  # type: ignore[return-value]  # wraps() keeps the signature; mypy cannot see it


def _refusing(view: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run the view with its services as dry runs that refuse (``workflow.atomic`` reads the
    mark)."""
    g.once_refused = True
    try:
        return view(*args, **kwargs)
    finally:
        g.pop("once_refused", None)


def is_one_shot(view: Callable[..., Any]) -> bool:
    while view is not None:
        if getattr(view, ONE_SHOT_ATTRIBUTE, False):
            return True
        view = getattr(view, "__wrapped__", None)  # type: ignore[assignment]  # None ends the walk
    return False
