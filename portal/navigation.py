"""Navigation by role: each role's home page and the service navigation items."""

from __future__ import annotations

from flask import Flask, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.models import Role

# In order of precedence for a user holding several roles.
HOMES: list[tuple[Role, str, object]] = [
    (Role.ADMIN, "admin.home", _l("Users")),
    (Role.MANAGER, "decisions.home", _l("Rounds and decisions")),
    (Role.ASSESSOR, "review.home", _l("Assessments")),
    (Role.FINANCE, "finance.home", _l("Finance")),
    (Role.OFFICER, "applicant.home", _l("Your bids")),
]


def home_endpoint(user) -> str:  # type: ignore[no-untyped-def]
    for role, endpoint, _label in HOMES:
        if user.has_role(role):
            return endpoint
    return "public.index"


def _items() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    items = []
    for role, endpoint, label in reversed(HOMES):
        if current_user.has_role(role):
            prefix = url_for(endpoint)
            items.append({"href": prefix, "text": str(label),
                          "active": request.path.startswith(prefix)})
    if current_user.has_role(Role.MANAGER, Role.FINANCE):
        items.append(_item("reports.dashboard", _l("Reports")))
    elif current_user.has_role(Role.OFFICER):
        items.append(_item("reports.partnership", _l("Your figures")))
    return items


def _item(endpoint: str, label: object) -> dict:
    href = url_for(endpoint)
    return {"href": href, "text": str(label), "active": request.path.startswith(href)}


def init_app(app: Flask) -> None:
    @app.context_processor
    def _navigation() -> dict:
        locale = get_locale()
        return {"navigation_items": _items(),
                "htmlLang": "cy" if locale is not None and locale.language == "cy" else "en"}
