"""Every error page in the portal's design; no stack trace ever reaches a user."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

PAGES = {400, 403, 404, 405, 413, 429, 500}


def _render(code: int) -> tuple[str, int]:
    template = f"errors/{code}.html" if code in PAGES else "errors/generic.html"
    return render_template(template, code=code), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> ResponseReturnValue:
        log.info("CSRF refused on %s: %s", request.path, error.description)
        return render_template("errors/csrf.html", back=request.path), 400

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> ResponseReturnValue:
        if error.code is None or error.code < 400:
            return error
        return _render(error.code)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        log.exception("Unhandled error on %s", request.path)
        try:
            return _render(500)
        except Exception:  # the error page itself failed: answer plainly
            return InternalServerError().get_response()
