"""Security headers on every response (with a nonce for the page template's one inline script),
signed-cookie sessions whose idle expiry is renewed at most once a minute, and the signed
tokens of one-shot forms."""

from __future__ import annotations

import secrets
import time

from flask import Flask, Request, Response, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_login import current_user
from itsdangerous import BadSignature


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
    work. Renewing it when it is a minute old or more keeps the idle expiry (to within that
    minute) and saves the work on the other responses. A changed session is always saved."""

    renew_after = 60  # seconds

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        # When the cookie was signed, for should_set_cookie; Flask's session class has no slot.
        session.signed_at = signed_at.timestamp()  # type: ignore[attr-defined]
        return session

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        signed_at = getattr(session, "signed_at", None)
        return signed_at is None or time.time() - signed_at >= self.renew_after
