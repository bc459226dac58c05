"""The grants manager decides partnerships' requests to vary an award: moving money between
budget lines, or extending the end date."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forms.finance import VariationDecisionForm
from portal.access import requires
from portal.db import session
from portal.decisions import bp
from portal.models import Award, Variation, VariationKind, VariationStatus
from portal.oneshot import one_shot
from portal.services import DomainError
from portal.services import variations as variation_service
from portal.services.policy import Action


@dataclass
class Move:
    """One movement of money, named for people (line items, not ids)."""

    source: str
    target: str
    new_line: bool
    amount_pence: int


def _variation(variation_id: int) -> Variation:
    variation = session.scalar(
        select(Variation).where(Variation.id == variation_id)
        .options(joinedload(Variation.award).selectinload(Award.lines),
                 joinedload(Variation.requested_by), joinedload(Variation.decided_by)))
    return variation or abort(404)


def _moves(variation: Variation) -> list[Move]:
    items = {line.id: line.item for line in variation.award.lines}
    moves = []
    for move in variation.moves or []:
        new_item = (move.get("new_item") or "").strip()
        target = items.get(move.get("to"), "") if move.get("to") is not None else new_item
        moves.append(Move(items.get(move.get("from"), "?"), target, move.get("to") is None,
                          int(move.get("amount", 0))))
    return moves


@bp.route("/manage/variations")
@requires(Action.MANAGE_GRANTS)
def variations():
    return render_template("decisions/variations/queue.html",
                           waiting=variation_service.variations_waiting())


@bp.route("/manage/variations/<int:variation_id>", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
@one_shot
def variation(variation_id: int):
    variation = _variation(variation_id)
    form = VariationDecisionForm()
    if form.validate_on_submit():
        approve = form.outcome.data == "approve"
        try:
            # All or nothing (the service is @atomic): a refusal part-way through a
            # reallocation leaves no line changed.
            variation_service.decide_variation(variation, approve, form.comment.data or "", current_user)
        except DomainError as refused:
            if refused.field:
                target = form._fields.get(refused.field) or form.comment
                target.errors = [*target.errors, refused.message]
            else:
                flash(refused.message, "error")
                return redirect(url_for("decisions.variation", variation_id=variation.id))
        else:
            flash(_("Variation approved and the award updated.") if approve else
                  _("Variation declined."), "success")
            return redirect(url_for("decisions.variation", variation_id=variation.id))
    award = variation.award
    return render_template("decisions/variations/decide.html", variation=variation, award=award,
                           form=form, moves=_moves(variation),
                           waiting=variation.status == VariationStatus.REQUESTED,
                           reallocation=variation.kind == VariationKind.REALLOCATION)


