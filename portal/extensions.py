"""Flask extensions: CSRF on every form, Flask-Login sessions, Babel."""

from __future__ import annotations

from functools import cached_property

from babel.support import NullTranslations
from flask import Flask, g, has_app_context, has_request_context
from flask import session as cookie_session
from flask_babel import Babel, Domain, get_locale, get_translations
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from jinja2 import pass_context
from jinja2.runtime import Context

from portal import security
from portal.inputs import LARGEST_ROW_ID
from portal.models import User
from portal.services import sessions as sign_ins

SUPPORTED_LOCALES = ("en_GB", "cy")


def _select_locale() -> str:
    """The signed-in user's language as their account keeps it (their emails are written in
    it too, so pages and emails agree: a Welsh choice made in another browser, or before
    signing in, does not make pages Welsh for an account kept in English); a visitor's, as
    chosen in this browser."""
    if not has_request_context():
        return "en_GB"
    if current_user and current_user.is_authenticated:
        return "cy" if current_user.language == "cy" else "en_GB"
    return "cy" if cookie_session.get("language") == "cy" else "en_GB"


def _load_user(user_id: str) -> User | None:
    """The user of the session, while its sign-in is live on the server (signing out,
    deactivation and a new password end it: ``portal.services.sessions``). One query: the
    user with its organisation and roles, joined to the sign-in."""
    sign_in_id = cookie_session.get("sign_in")
    try:
        raw_id, stamp = user_id.split(":", 1)
        number = int(raw_id)
    except (ValueError, TypeError, AttributeError):
        return None
    if not isinstance(sign_in_id, str) or not 0 < number <= LARGEST_ROW_ID:
        return None
    return sign_ins.signed_in_user(number, stamp, sign_in_id)


def _kept_translations() -> NullTranslations | None:
    """The translations kept on ``g`` for the locale in force, or None.

    ``get_locale()`` gives the same Locale object for as long as a context keeps its locale;
    ``force_locale`` and ``refresh()`` put another in its place, so the kept pair is checked
    against the object itself (the pair holds it, so its identity is never reused)."""
    kept = g.get("portal_translations")
    if kept is not None and kept[0] is get_locale():
        return kept[1]
    return None


class RequestDomain(Domain):
    """Flask-Babel's message domain, with the translations it finds kept on ``g`` for the
    locale in force. Flask-Babel looks them up anew for every string (a few microseconds
    each: the context, the locale and a key made from it), which a page with a long table
    feels. Only Flask-Babel's public API is used: ``get_locale()`` and the domain's own
    ``get_translations()``."""

    def get_translations(self) -> NullTranslations:
        if not has_app_context():
            return super().get_translations()
        found = _kept_translations()
        if found is None:
            found = super().get_translations()
            locale = get_locale()
            if locale is not None:
                g.portal_translations = (locale, found)
        return found


def _translations() -> NullTranslations:
    """The request's translations by the shortest path (templates ask for hundreds)."""
    found = _kept_translations() if has_app_context() else None
    return found if found is not None else get_translations()


class PortalBabel(Babel):
    """Flask-Babel, whose default domain is :class:`RequestDomain` (``domain_instance`` is
    where Flask-Babel finds the domain of a context that has not chosen another)."""

    @cached_property
    def domain_instance(self) -> Domain:
        return RequestDomain(domain=self.domain)


csrf = CSRFProtect()
login_manager = LoginManager()
babel = PortalBabel()


def init_app(app: Flask) -> None:
    # Before CSRF protection: a form posted after its session ended is kept, not refused.
    app.before_request(security.keep_form_of_ended_session)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = _l("Sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)
    babel.init_app(app, locale_selector=_select_locale,
                   default_translation_directories="translations")
    # The i18n extension (added by Babel.init_app) gives the environment this method; the
    # checker sees Jinja's Environment without it.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        _template_gettext, _template_ngettext, newstyle=True,
        pgettext=_template_pgettext, npgettext=_template_npgettext)


# Templates ask for hundreds of strings: each render (a Jinja Context, made inside whatever
# locale is in force, e.g. an email's) finds its translations once. Jinja passes the render's
# context to functions marked pass_context (its public API for this).
@pass_context
def _template_gettext(context: Context, string: str) -> str:
    return _render_translations(context).ugettext(string)


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _render_translations(context).ungettext(singular, plural, n)


@pass_context
def _template_pgettext(context: Context, message_context: str, string: str) -> str:
    """A message whose English is shared by different meanings ("Fund", the noun, and
    "Fund", the recommendation): ``pgettext("recommendation", "Fund")``."""
    return _render_translations(context).upgettext(message_context, string)


@pass_context
def _template_npgettext(context: Context, message_context: str, singular: str, plural: str,
                        n: int) -> str:
    return _render_translations(context).unpgettext(message_context, singular, plural, n)


def _render_translations(context: Context) -> NullTranslations:
    """The translations of the locale in force, kept on the render's context. The kept pair
    is checked against the locale itself: a macro file imported without context is rendered
    once and its context kept by Jinja for every later render in the worker, whatever its
    reader's language (a Welsh page showed the English of the render before it)."""
    locale = get_locale()
    kept: tuple[object, NullTranslations] | None = getattr(context, "portal_translations", None)
    if kept is None or kept[0] is not locale:
        kept = (locale, _translations())
        context.portal_translations = kept  # type: ignore[attr-defined]  # kept for this render
    return kept[1]

