"""Navigation by role: each role's home page and the service navigation items."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_request_context, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.services.policy import Action, can

# Each area's home, in order of precedence for a user holding several roles; who may use it
# is the policy's answer for the area's action.
HOMES: list[tuple[Action, str, object]] = [
    (Action.ADMINISTER, "admin.home", _l("Users")),
    (Action.MANAGE_GRANTS, "decisions.home", _l("Rounds and decisions")),
    (Action.ASSESS, "review.home", _l("Assessments")),
    (Action.HANDLE_MONEY, "finance.home", _l("Finance")),
    (Action.APPLY, "applicant.home", _l("Your bids")),
]


def home_endpoint(user: Any) -> str:
    """The endpoint of the first area ``user`` may use, or the public start page."""
    for action, endpoint, _label in HOMES:
        if can(user, action):
            return endpoint
    return "public.index"


def _items() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    items = []
    for action, endpoint, label in reversed(HOMES):
        if can(current_user, action):
            # An area is every page of its blueprint (the officer's /awards/ and /rounds/ as
            # well as /bids/), not only those under its home's path.
            area = endpoint.split(".")[0]
            href = url_for(endpoint)
            items.append({"href": href, "text": str(label),
                          "active": request.blueprint == area})
    if can(current_user, Action.SEE_REPORTS):
        items.append(_item("reports.dashboard", _l("Reports")))
    elif can(current_user, Action.SEE_OWN_FIGURES):
        items.append(_item("reports.partnership", _l("Your figures")))
    return items


def _item(endpoint: str, label: object) -> dict:
    href = url_for(endpoint)
    return {"href": href, "text": str(label), "active": request.path.startswith(href)}


def email_url(endpoint: str, **values: Any) -> str:
    """The address an email links to: BASE_URL (the portal's address, prefix included) and the
    endpoint's path within the portal. Never the request's host, nor the SCRIPT_NAME prefix a
    client can send through a proxy (both reached emails before: a tester's forged Host mailed
    a working reset token pointing elsewhere)."""
    path = url_for(endpoint, **values)
    root = request.script_root if has_request_context() else ""
    if root and path.startswith(root + "/"):
        path = path[len(root):]
    return str(current_app.config["BASE_URL"]).rstrip("/") + path


def init_app(app: Flask) -> None:
    app.add_template_global(email_url)

    @app.context_processor
    def _navigation() -> dict:
        locale = get_locale()
        return {"navigation_items": _items(),
                "htmlLang": "cy" if locale is not None and locale.language == "cy" else "en"}
