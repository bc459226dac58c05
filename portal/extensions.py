"""Flask extensions: CSRF on every form, Flask-Login sessions, Babel."""

from __future__ import annotations

from functools import cached_property

from flask import Flask, g, has_app_context, has_request_context
from flask import session as cookie_session
from flask_babel import Babel, Domain, get_translations
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import joinedload

from portal.db import session
from portal.models import User

SUPPORTED_LOCALES = ("en_GB", "cy")


def _select_locale() -> str:
    if not has_request_context():
        return "en_GB"
    if current_user and current_user.is_authenticated and current_user.language == "cy":
        return "cy"
    return "cy" if cookie_session.get("language") == "cy" else "en_GB"


def _load_user(user_id: str) -> User | None:
    try:
        raw_id, stamp = user_id.split(":", 1)
        # One query: the user with its organisation and roles joined.
        user = session.get(User, int(raw_id), options=[joinedload(User.role_rows)])
    except (ValueError, TypeError):
        return None
    if user is None or not user.is_active or user.security_stamp != stamp:
        return None
    return user


def _babel_locale() -> object | None:
    """The locale Flask-Babel has settled on for this context (``force_locale`` sets another
    object), read where Flask-Babel 4 keeps it; None when not chosen yet or kept elsewhere."""
    return getattr(g.get("_flask_babel"), "babel_locale", None)


def _kept_translations():  # type: ignore[no-untyped-def]
    """The translations kept on ``g`` for the locale in force, or None."""
    kept = g.get("portal_translations")
    if kept is not None and kept[0] is not None and kept[0] is _babel_locale():
        return kept[1]
    return None


class RequestDomain(Domain):
    """Flask-Babel's message domain, with the translations it finds kept on ``g`` for the
    locale in force. Flask-Babel looks them up anew for every string (tens of microseconds
    each), which a page with a long table feels. Should the locale not be found where
    Flask-Babel 4 keeps it, they are looked up each time, as before: slower, never wrong."""

    def get_translations(self):  # type: ignore[no-untyped-def]
        if not has_app_context():
            return super().get_translations()
        found = _kept_translations()
        if found is None:
            found = super().get_translations()
            g.portal_translations = (_babel_locale(), found)
        return found


def _translations():  # type: ignore[no-untyped-def]
    """The request's translations by the shortest path (templates ask for hundreds)."""
    found = _kept_translations() if has_app_context() else None
    return found if found is not None else get_translations()


class PortalBabel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:  # type: ignore[override]
        return RequestDomain(domain=self.domain)


csrf = CSRFProtect()
login_manager = LoginManager()
babel = PortalBabel()


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = _l("Sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)
    babel.init_app(app, locale_selector=_select_locale,
                   default_translation_directories="translations")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda string: _translations().ugettext(string),
        lambda singular, plural, n: _translations().ungettext(singular, plural, n),
        newstyle=True)

