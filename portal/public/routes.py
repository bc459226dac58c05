"""Pages for anyone: the start page, accessibility, privacy, cookies, health."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from portal.access import public
from portal.navigation import home_endpoint
from portal.public import bp
from portal.queries import public as queries


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
    if not queries.database_answers():  # it logs why not
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}, 200
