"""The sections of the Police and Crime Plan a bid supports (issue 18, point 2): the officer
chooses them while the bid is a draft. The rules are in portal.services.alignment."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms.alignment import PlanSectionsForm
from portal.access import requires
from portal.applicant import bp
from portal.models import Bid, BidStatus
from portal.refusals import show_refusal
from portal.security import showing_saved
from portal.services import DomainError, alignment, bids
from portal.services.policy import Action


def _own_bid(bid_id: int) -> Bid:
    """The bid if it is the officer's organisation's; 404 for anyone else's (as in
    ``portal.applicant.routes``)."""
    bid = bids.bid_for_organisation(bid_id, current_user.organisation_id)
    if bid is None:
        abort(404)
    return bid


def plan_alignment(bid: Bid) -> SimpleNamespace:
    """What the task list and the check-answers page show of the bid's alignment:
    ``offered`` (the sections it may choose from) and ``chosen`` (those it supports)."""
    return SimpleNamespace(offered=alignment.sections_for_bid(bid), chosen=bid.plan_sections)


@bp.context_processor
def _alignment_in_templates() -> dict[str, Any]:
    return {"plan_alignment": plan_alignment}


@bp.route("/bids/<int:bid_id>/plan", methods=["GET", "POST"])
@requires(Action.APPLY)
def plan_sections(bid_id: int):
    bid = _own_bid(bid_id)
    if bid.status != BidStatus.DRAFT and showing_saved():
        # (A post is refused by the service, beside the boxes, and changes nothing.)
        flash(_("This bid has been submitted and can no longer be changed."), "error")
        return redirect(url_for("applicant.bid", bid_id=bid.id))
    offered = alignment.sections_for_bid(bid)
    form = PlanSectionsForm()
    form.plan_sections.choices = alignment.choices(offered)
    if showing_saved():
        form.plan_sections.data = [section.id for section in bid.plan_sections]
    if form.validate_on_submit():
        try:
            alignment.choose_sections(bid, form.plan_sections.data or [], current_user)
        except DomainError as refused:
            show_refusal(form, refused, default="plan_sections")
        else:
            flash(_("Sections of the Police and Crime Plan saved."), "success")
            return redirect(url_for("applicant.bid", bid_id=bid.id))
    return render_template("applicant/plan.html", bid=bid, form=form, offered=offered,
                           plan_id=alignment.plan_id_in_force())
