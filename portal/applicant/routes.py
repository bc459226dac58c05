"""CSP officers: their partnership's home, rounds open to them, their bids."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from portal.applicant import bp
from portal.auth.access import requires
from portal.models import Role
from portal.services import rounds


@bp.route("/bids/")
@requires(Role.OFFICER)
def home():
    available = rounds.rounds_for(current_user.organisation.type.value)
    return render_template("applicant/home.html", rounds=available, state_of=rounds.state_of)
