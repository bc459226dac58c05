"""Pages for anyone: the start page, accessibility, privacy, cookies, health."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from portal import storage
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
    """The database and the file store: each "ok" or "unreachable" (the log says why)."""
    parts = {"database": queries.database_answers(), "store": storage.answers()}
    body = {name: "ok" if up else "unreachable" for name, up in parts.items()}
    if not all(parts.values()):
        return {"status": "unavailable", **body}, 503
    return {"status": "ok", **body}, 200
