"""Pages for anyone: the start page, accessibility, privacy, cookies, health."""

from __future__ import annotations

from flask import current_app, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from portal.access import public
from portal.db import session
from portal.navigation import home_endpoint
from portal.public import bp


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    return render_template("public/index.html")


@bp.route("/accessibility")
@public
def accessibility():
    return render_template("public/accessibility.html")


@bp.route("/privacy")
@public
def privacy():
    return render_template("public/privacy.html")


@bp.route("/cookies")
@public
def cookies():
    return render_template("public/cookies.html")


@bp.route("/healthz")
@public
def healthz():
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        current_app.logger.exception("Health check: database unreachable")
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}, 200
