"""The grants manager: rounds, budgets and decisions."""

from __future__ import annotations

from flask import render_template

from portal.auth.access import requires
from portal.decisions import bp
from portal.models import Role
from portal.services import rounds


@bp.route("/manage/")
@requires(Role.MANAGER)
def home():
    return render_template("decisions/home.html", rounds=rounds.rounds_for(),
                           state_of=rounds.state_of)
