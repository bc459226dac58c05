"""``@one_shot``: a view whose POST acts once per form (see ``portal.services.once``).

Put it under ``@requires(...)``. The form is a ``forms.fields.OneShotForm`` and its template
renders ``{{ form.once }}``; a test finds every one-shot view and checks both.
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
            # Missing (an old tab), made up, or issued to someone else: nothing is done, and
            # the form is shown again with a new token.
            flash(_("This form had expired, so nothing was done. Check the page and try "
                    "again."), "info")
            return redirect(_form_page())
        try:
            once.claim(token, current_user)
        except once.Used as used:
            flash(_("That was already done: you are seeing its result."), "info")
            return redirect(used.result_url or request.url)
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
    return wrapper  # type: ignore[return-value]


def _form_page() -> str:
    """Where the form was: the page that posted it, if it is ours; else this URL (a GET)."""
    referrer = request.referrer or ""
    if referrer.startswith(request.host_url):
        return referrer
    rule = request.url_rule
    return request.url if rule is not None and "GET" in (rule.methods or ()) else "/"


def is_one_shot(view: Callable[..., Any]) -> bool:
    while view is not None:
        if getattr(view, ONE_SHOT_ATTRIBUTE, False):
            return True
        view = getattr(view, "__wrapped__", None)  # type: ignore[assignment]
    return False
