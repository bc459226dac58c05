"""OPCC assessors: the bids assigned to them."""

from __future__ import annotations

from flask import render_template

from portal.auth.access import requires
from portal.models import Role
from portal.review import bp


@bp.route("/assess/")
@requires(Role.ASSESSOR)
def home():
    return render_template("review/home.html")
