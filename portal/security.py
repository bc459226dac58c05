"""Security headers on every response (with a nonce for the page template's one inline script),
signed-cookie sessions whose idle expiry is renewed at most once a minute, and the signed
tokens of one-shot forms.

Sessions that end while idle (issue 13):

- each page of a signed-in user says how long its session has left
  (:func:`seconds_left`); ``GET /session`` tells the idle warning's script without renewing
  the session (:func:`do_not_renew_session`), ``POST /session/keep-alive`` renews it;
- a form posted after its session ended is kept, not refused for its expired CSRF token
  (:func:`keep_form_of_ended_session`, run before CSRF protection), and shown again once
  the same user has signed in and opens the page (``g.kept_formdata``, which
  ``forms.base.PortalForm`` reads);
- the chosen language outlives the session that ended (the visitor's, not the user's, choice
  is kept: the pages after it are in the same language).

The idle limit is the server's alone, from the time signed into the cookie
(:meth:`IdleSessionInterface.open_session`). The cookie itself is sent with an ``Expires`` at
the absolute limit (:meth:`IdleSessionInterface.get_expiration_time`), not at the idle one:
a browser deletes a cookie at its ``Expires``, and a save arriving after that would come
with no cookie at all, so the server could neither tell who posted nor keep what was typed
(and CSRF protection would refuse it as "expired"). A browser-session cookie (no
``Expires``) would work too, but browsers that restore the last session keep such cookies
for days; the absolute limit is the longest the cookie can be of any use.
"""

from __future__ import annotations

import math
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    Request,
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from itsdangerous import BadSignature
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from wtforms import ValidationError

from portal.access import PUBLIC, access_of
from portal.db import SAFE_METHODS
from portal.inputs import unusable_characters
from portal.services import sessions as sign_ins

# A cookie signed up to this many seconds "in the future" (another host's clock a little
# ahead) is taken as just signed, not as expired.
CLOCK_SKEW = 60
LANGUAGES = ("en", "cy")
# Fields of a posted form that are not what a person typed.
_TOKENS = ("csrf_token", "once")


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _policy(nonce: str) -> str:
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def init_app(app: Flask) -> None:
    app.session_interface = IdleSessionInterface()

    @app.context_processor
    def _nonce() -> dict:
        return {"cspNonce": csp_nonce()}

    app.add_template_global(seconds_left, "session_seconds_left")
    app.before_request(_show_kept_form)
    # Flask-Login's own handler sends a POST to a signed-in page, made while signed out, to
    # sign in with next=<that path>: after signing in, the browser would GET a POST-only
    # route (405). Set after extensions.init_app (create_app), which installs Flask-Login.
    app.login_manager.unauthorized_handler(_unauthorized)  # type: ignore[attr-defined]

    @app.before_request
    def _client_address() -> None:
        # The audit trail records where each change came from; services read it from ``g``
        # and never touch the request (the layers contract forbids it). ProxyFix has already
        # put the client's address here when behind a trusted proxy.
        g.client_address = request.remote_addr

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", _policy(csp_nonce()))
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if response.mimetype == "text/html":
            # Signed-in pages hold personal data: never keep them in shared caches.
            headers.setdefault("Cache-Control", "no-store")
        elif request.endpoint != "static" and current_user.is_authenticated:
            # Nor the files and exports only a signed-in user can download (send_file's own
            # "no-cache" still lets a shared cache keep a copy).
            headers["Cache-Control"] = "no-store"
        return response


class IdleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, whose idle expiry is renewed at most once a minute.

    A permanent session's cookie is re-signed on every response by default, so that the idle
    lifetime counts from the last request; re-signing costs more than many a page's database
    work. Renewing it when it is a minute old or more (a quarter of the lifetime, if that is
    shorter) keeps the idle expiry (to within that minute) and saves the work on the other
    responses. A changed session is always saved, except by a request that asked not to
    renew it (:func:`do_not_renew_session`).

    A validly signed cookie older than the lifetime opens as a new, empty session that keeps
    only the language chosen, with the ended session's contents on its ``ended`` attribute and
    the seconds since it ended on ``ended_ago`` for :func:`keep_form_of_ended_session`.

    The cookie's ``Expires`` is the absolute limit, not the idle one (see the module's
    docstring): the browser keeps it past the idle end, so that a late save still says whose
    it is."""

    renew_after = 60  # seconds

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = app.permanent_session_lifetime.total_seconds()
        try:
            data, signed = serializer.loads(value, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        signed_at = signed.timestamp()
        age = time.time() - signed_at
        if age > max_age or age < -CLOCK_SKEW or not isinstance(data, dict):
            return self._after_expiry(data if isinstance(data, dict) else {},
                                      age - max_age if age > max_age else None)
        session = self.session_class(data)
        # When the cookie was signed, for should_set_cookie; Flask's session class has no slot.
        session.signed_at = signed_at  # type: ignore[attr-defined]
        return session

    def _after_expiry(self, ended: dict[str, Any], ago: float | None) -> SecureCookieSession:
        language = ended.get("language")
        fresh = self.session_class({"language": language} if language in LANGUAGES else {})
        # Read by keep_form_of_ended_session (Flask's session class has no slots for them).
        fresh.ended = ended  # type: ignore[attr-defined]
        fresh.ended_ago = ago  # type: ignore[attr-defined]  # None: signed "in the future"
        fresh.modified = bool(fresh)  # the expired cookie is replaced by the language alone
        return fresh

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        """A permanent session's cookie lasts until the absolute limit of a sign-in
        (``SESSION_ABSOLUTE_HOURS``), counted from this response: never less than what is
        left of its sign-in. The idle limit is checked by the server (``open_session``).
        Other sessions (the language of a visitor) last as long as the browser session."""
        if not session.permanent:
            return None
        return datetime.now(UTC) + sign_ins.absolute_lifetime()

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if g.get("session_not_renewed"):
            return False
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "signed_at", None)
        renew_after = min(self.renew_after,
                          app.permanent_session_lifetime.total_seconds() / 4)
        return signed_at is None or time.time() - signed_at >= renew_after

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if g.get("session_not_renewed"):
            return
        super().save_session(app, session, response)


# --- how long a session has left --------------------------------------------------------------


def do_not_renew_session() -> None:
    """This response leaves the session cookie as it is: asking how long a session has left
    must not lengthen it."""
    g.session_not_renewed = True


def renew_session() -> None:
    """This response signs the session cookie anew: the idle lifetime starts again."""
    session.modified = True


def seconds_left() -> int:
    """Whole seconds until the signed-in session of this request ends if nothing renews it:
    the idle lifetime when this response renews the cookie, else the lifetime less the time
    since the cookie was signed. 0 when not signed in."""
    if not current_user.is_authenticated:
        return 0
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    signed_at = getattr(session, "signed_at", None)
    if signed_at is None or current_app.session_interface.should_set_cookie(current_app,
                                                                          session):
        return int(lifetime)
    # The cookie's timestamp is in whole seconds and itsdangerous refuses it only once its age
    # in whole seconds exceeds the lifetime: it is good until a second after signed_at +
    # lifetime, and the warning must not say "signed out" while the server still accepts it.
    return max(0, math.ceil(signed_at + lifetime + 1 - time.time()))


# --- a form posted after its session ended ----------------------------------------------------


def keep_form_of_ended_session() -> ResponseReturnValue | None:
    """Runs before CSRF protection. A POST to a signed-in page whose session cookie is validly
    signed but expired would be refused as "the form has expired" and what was typed lost.
    Instead, when the post came from a page of that session (its CSRF token matches the ended
    session's, so another site cannot plant a form) and the sign-in was not ended on purpose
    (signing out, deactivation, a new password), the posted fields are kept on the server
    (``sessions.keep_form``: not files, not the CSRF or one-shot tokens), their id goes in the
    new session, and the browser is sent to sign in, then back to the page.

    Only a save arriving within the absolute lifetime of a sign-in after its session ended
    is kept, and only while its sign-in's row is there and was not ended on purpose (a
    deleted row keeps nothing): an old cookie replayed keeps nothing. The page to come back
    to after signing in is given only when it answers GET (:func:`_page_of_post`).

    Signing out of a session that has ended already just says so; the idle warning's
    keep-alive (which only its script calls) always answers JSON: ``{"signed_in": false}``
    (401) when not signed in, 400 without a valid CSRF token (:func:`_keep_alive_refusal`)."""
    if request.endpoint == "auth.keep_alive" and request.method == "POST":
        return _keep_alive_refusal()
    ended = getattr(session, "ended", None)
    if request.method != "POST" or not ended or not ended.get("_user_id"):
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or access_of(view) in (None, PUBLIC):
        return None  # a public form: CSRF protection answers as usual
    if request.endpoint == "auth.sign_out":
        flash(_("You have signed out."), "success")
        return redirect(url_for("auth.sign_in"))
    if not _posted_from_session(ended):
        return None  # a forged or stale form: CSRF protection refuses it as usual
    g.setdefault("client_address", request.remote_addr)  # for any audit (set again later)
    page = _page_of_post()
    sign_in_id = ended.get("sign_in")
    user_id = _user_id_of(ended)
    kept = None
    ago = getattr(session, "ended_ago", None)
    if (page is not None and user_id is not None and isinstance(sign_in_id, str)
            and ago is not None and ago <= sign_ins.absolute_lifetime().total_seconds()
            and sign_ins.ended_because(sign_in_id) is None):
        kept = sign_ins.keep_form(user_id, page, _typed_fields())
    if kept is not None:
        session["kept_form"] = kept
        flash(_("Your session ended because you had been inactive, so nothing was saved. "
                "Sign in again and what you typed will be shown again for you to check "
                "and save."), "info")
    else:
        flash(_("Your session ended because you had been inactive. Sign in again to "
                "continue."), "info")
    return redirect(url_for("auth.sign_in", next=page))


def _json(status: int, **values: Any) -> ResponseReturnValue:
    response = jsonify(**values)
    response.headers["Cache-Control"] = "no-store"
    return response, status


def _keep_alive_refusal() -> ResponseReturnValue | None:
    """``POST /session/keep-alive`` is called only by the idle warning's script, which reads
    JSON: when signed out (or the session ended) ``{"signed_in": false, "seconds_left": 0}``
    (401), without a valid CSRF token ``{"signed_in": true, "error": "csrf"}`` (400), instead
    of the sign-in redirect and the HTML "form has expired" page. None: the view answers."""
    if getattr(session, "ended", None) is not None or not current_user.is_authenticated:
        return _json(401, signed_in=False, seconds_left=0)
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        try:
            validate_csrf(request.form.get(field))
        except ValidationError:
            return _json(400, signed_in=True, error="csrf")
    return None


def _unauthorized() -> ResponseReturnValue:
    """Flask-Login's answer to a signed-out request for a signed-in page: sign in, then back
    to the page when it answers GET (for a POST-only route, home after signing in). The
    keep-alive answers JSON (401)."""
    if request.endpoint == "auth.keep_alive":
        return _json(401, signed_in=False, seconds_left=0)
    manager = current_app.login_manager  # type: ignore[attr-defined]
    flash(str(manager.login_message), manager.login_message_category)
    target: str | None = None
    if request.method == "GET":
        target = request.full_path if request.query_string else request.path
    elif answers_get(request.path):
        target = request.path
    return redirect(url_for("auth.sign_in", next=target))


def answers_get(path: str) -> bool:
    """Whether a GET of ``path`` on this site finds a page (some route answers GET). A path
    holding a character no one types (NUL, a control) is no page: it is never kept or sent to
    (PostgreSQL cannot even store NUL)."""
    if unusable_characters(path):
        return False
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        adapter.match(path, method="GET")
    except RequestRedirect:
        return False  # e.g. a missing trailing slash: not where the form was
    except HTTPException:
        return False  # 404, or 405: a POST-only route
    return True


def _posted_from_session(ended: dict[str, Any]) -> bool:
    """Whether the post's CSRF token is the ended session's, however old (Flask-WTF's own
    check, given the ended session's secret for a moment)."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    secret = ended.get(field)
    if not isinstance(secret, str):
        return False
    kept_modified = session.modified
    session[field] = secret
    try:
        validate_csrf(request.form.get(field), time_limit=10 * 365 * 86400)
    except ValidationError:
        return False
    finally:
        session.pop(field, None)
        session.modified = kept_modified
    return True


def _user_id_of(ended: dict[str, Any]) -> int | None:
    try:
        number = int(str(ended.get("_user_id", "")).split(":", 1)[0])
    except ValueError:
        return None
    return number if 0 < number < 2**31 else None


def _page_of_post() -> str | None:
    """The page the form was on: the path posted to when it answers GET, else the referring
    page of this site when that answers GET, else None (never a POST-only route: signing in
    would end on a 405)."""
    if answers_get(request.path):
        return request.path
    referrer = urlsplit(request.referrer or "")
    if (referrer.netloc == request.host and referrer.path.startswith("/")
            and not referrer.path.startswith("//") and answers_get(referrer.path)):
        return referrer.path
    return None


def _typed_fields() -> list[tuple[str, str]]:
    return [(name, value) for name, value in request.form.items(multi=True)
            if name not in _TOKENS]


def showing_saved() -> bool:
    """True on a GET whose form shows what is saved (or its defaults): the view fills it. False
    on a POST, and on the one GET that shows what was typed before the session ended
    (``g.kept_formdata``, which the form has read already): filling it would lose the text."""
    return request.method == "GET" and "kept_formdata" not in g


def _show_kept_form() -> None:
    """After signing in again as the same user, the page whose form was kept is shown with
    what was typed (``g.kept_formdata``), once: the id leaves the session, and the row is
    deleted by the next request that may write (a GET writes nothing)."""
    if request.endpoint == "static":
        return
    kept_id = session.get("kept_form")
    shown_id = session.get("kept_form_shown")
    if request.method not in SAFE_METHODS and isinstance(shown_id, str):
        sign_ins.forget_form(shown_id)
        session.pop("kept_form_shown", None)
    if not isinstance(kept_id, str) or request.method != "GET":
        return
    if not current_user.is_authenticated:
        return  # on the way to signing in
    kept = sign_ins.kept_form(kept_id, current_user)
    if kept is None:
        session.pop("kept_form", None)
        return
    if kept.path != request.path:
        return
    g.kept_formdata = MultiDict([(str(name), str(value)) for name, value in kept.fields])
    session.pop("kept_form", None)
    session["kept_form_shown"] = kept_id
    flash(_("We kept what you typed before your session ended: check it and save."), "info")
