"""Finance: payments and the returns queue."""

from __future__ import annotations

from flask import render_template

from portal.auth.access import requires
from portal.finance import bp
from portal.models import Role
from portal.services import rounds


@bp.route("/finance/")
@requires(Role.FINANCE)
def home():
    return render_template("finance/home.html", rounds=rounds.rounds_for(),
                           state_of=rounds.state_of)
