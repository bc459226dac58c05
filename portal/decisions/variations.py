"""The grants manager decides partnerships' requests to vary an award: moving money between
budget lines, carrying a line's money forward to a later financial year, or extending the end
date."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms.finance import VariationDecisionForm
from portal.access import requires
from portal.decisions import bp
from portal.models import Variation, VariationKind, VariationStatus
from portal.oneshot import one_shot
from portal.queries import decisions as queries
from portal.refusals import show_refusal
from portal.services import DomainError, years
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
    return queries.variation(variation_id) or abort(404)


def _moves(variation: Variation) -> list[Move]:
    # A move's "to" is None when it makes a new line.
    items: dict[int | None, str] = {line.id: line.item for line in variation.award.lines}
    moves = []
    for move in variation.moves or []:
        new_item = (move.get("new_item") or "").strip()
        target = items.get(move.get("to"), "") if move.get("to") is not None else new_item
        moves.append(Move(items.get(move.get("from"), "?"), target, move.get("to") is None,
                          int(move.get("amount", 0))))
    return moves


@dataclass
class Carry:
    """One carry-forward, named for people: the line's item and the years' labels."""

    item: str
    from_year: str
    to_year: str
    amount_pence: int


def _carries(variation: Variation) -> list[Carry]:
    items: dict[int | None, str] = {line.id: line.item for line in variation.award.lines}
    carries = []
    for move in variation.moves or []:
        first, then = move.get("from_year"), move.get("to_year")
        carries.append(Carry(items.get(move.get("line"), "?"),
                             years.year_label(first) if isinstance(first, int) else "?",
                             years.year_label(then) if isinstance(then, int) else "?",
                             int(move.get("amount", 0))))
    return carries


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
            # One naming a field goes beside it (or the comment); one naming none (decided a
            # moment ago elsewhere) is flashed over the page as it now is.
            if not show_refusal(form, refused, default="comment" if refused.field else None):
                return redirect(url_for("decisions.variation", variation_id=variation.id))
        else:
            flash(_("Variation approved and the award updated.") if approve else
                  _("Variation declined."), "success")
            return redirect(url_for("decisions.variation", variation_id=variation.id))
    award = variation.award
    return render_template("decisions/variations/decide.html", variation=variation, award=award,
                           form=form,
                           moves=_moves(variation)
                           if variation.kind == VariationKind.REALLOCATION else [],
                           carries=_carries(variation)
                           if variation.kind == VariationKind.CARRY_FORWARD else [],
                           waiting=variation.status == VariationStatus.REQUESTED,
                           reallocation=variation.kind == VariationKind.REALLOCATION,
                           kind=variation.kind.value, year_label=years.year_label)


