"""The grants manager's direct awards (issue 14): awards made without a round of bids, from a
budget of a direct fund, and the action plan an award holds."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms.agreements import (
    AwardSectionForm,
    action_plan_form,
    action_values,
    direct_award_form,
)
from portal import bilingual
from portal.access import requires
from portal.decisions import bp
from portal.models import Award, Round
from portal.refusals import show_refusal
from portal.security import showing_saved
from portal.services import DomainError, agreements, alignment, bids
from portal.services import awards as award_service
from portal.services.policy import Action

BUTTONS = ("csrf_token", "check", "change", "confirm")


def _budget(round_id: int) -> Round:
    return agreements.direct_budget(round_id) or abort(404)


def _award(award_id: int) -> Award:
    return agreements.award_by_id(award_id) or abort(404)


def _in_rows(refused: DomainError, rows: dict[str, list[int]]) -> DomainError:
    """A refusal naming the n-th filled row of a list (``lines-1-item``) as the form's own
    row (``lines-4-item`` when rows 1 to 3 were left blank)."""
    parts = (refused.field or "").split("-")
    if len(parts) >= 3 and parts[0] in rows and parts[1].isascii() and parts[1].isdigit():
        filled = rows[parts[0]]
        index = int(parts[1])
        if index < len(filled):
            parts[1] = str(filled[index])
            return DomainError(refused.message, field="-".join(parts))
    return refused


@bp.route("/manage/direct-awards")
@requires(Action.MANAGE_GRANTS)
def direct_awards():
    """The budgets of direct funds, with what remains of each year, to make an award from."""
    return render_template("decisions/agreements/budgets.html",
                           budgets=agreements.direct_budgets())


@bp.route("/manage/direct-awards/new/<int:round_id>", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def new_direct_award(round_id: int):
    round_ = _budget(round_id)
    form = direct_award_form(round_.financial_years)
    form.organisation.choices = [("", _("Choose a partnership"))] + [
        (str(o.id), bilingual.text(o, "name")) for o in agreements.partnerships()]
    form.plan_section.choices = alignment.award_choices(
        alignment.sections_for_direct_award(round_))
    if request.method != "POST" and not form.token.data:
        form.token.data = bids.new_creation_token()
        form.plan_section.data = round_.fund.plan_section_id  # the fund's default section
    if request.method == "POST" and not form.change.data and form.validate_on_submit():
        lines = form.line_values()
        actions = action_values(form.actions)
        values: dict[str, Any] = dict(
            title=form.title.data or "", purpose=form.purpose.data or "",
            start_date=form.start_date.data, end_date=form.end_date.data,
            lines=[agreements.LineInput(**line) for _i, line in lines],
            conditions=form.conditions.data or "", reasons=form.reasons.data or "",
            actions=[agreements.ActionInput(**action) for _i, action in actions],
            amount=form.amount.data, plan_section_id=form.plan_section.data,
            actor=current_user)
        made = agreements.award_by_token(form.token.data or "") if form.confirm.data else None
        if made is not None and made.bid.created_by_id == current_user.id:
            # The form was sent again (back and resubmit, a double click): the award it made
            # stands, and the answers sent again are not applied.
            flash(_("This form already made direct award %(reference)s: nothing was changed. "
                    "Start a new direct award to make another.",
                    reference=made.bid.reference), "info")
            return redirect(url_for("decisions.award", award_id=made.id))
        try:
            if form.confirm.data:
                award = agreements.create_direct_award(form.organisation.data, round_.id,
                                                       token=form.token.data or "", **values)
            else:
                checked = agreements.check_direct_award(form.organisation.data, round_.id,
                                                        **values)
        except DomainError as refused:
            show_refusal(form, _in_rows(refused, {"lines": [i for i, _l in lines],
                                                  "actions": [i for i, _a in actions]}))
        else:
            if form.confirm.data:
                flash(bilingual.sentence(_("Direct award %(reference)s made and %(csp)s told."),
                                         reference=award.bid.reference,
                                         csp=bilingual.marked(award.organisation, "name")),
                      "success")
                return redirect(url_for("decisions.award", award_id=award.id))
            carried = [(name, value) for name, value in request.form.items(multi=True)
                       if name not in BUTTONS]
            return render_template("decisions/agreements/check.html", round=round_,
                                   form=form, checked=checked, carried=carried,
                                   grace_days=int(current_app.config["RETURN_GRACE_DAYS"]))
    return render_template("decisions/agreements/new.html", round=round_, form=form)


def _section_form(award: Award) -> AwardSectionForm:
    """The award page's form of the section of the Police and Crime Plan the grant is listed
    under (issue 18 follow-up): what is saved on a plain GET, what was posted otherwise."""
    form = AwardSectionForm()
    form.plan_section.choices = alignment.award_choices(alignment.sections_for_award(award))
    if showing_saved():
        form.plan_section.data = award.plan_section_id
    return form


def _award_page(award: Award, form: AwardSectionForm) -> str:
    return render_template("decisions/agreements/award.html", award=award, form=form,
                           years=award_service.year_totals(award.lines),
                           financial_years=sorted(award_service.year_totals(award.lines)),
                           by_year=agreements.years.by_year)


@bp.route("/manage/awards/<int:award_id>")
@requires(Action.MANAGE_GRANTS)
def award(award_id: int):
    award = _award(award_id)
    return _award_page(award, _section_form(award))


@bp.route("/manage/awards/<int:award_id>/plan-section", methods=["POST"])
@requires(Action.MANAGE_GRANTS)
def award_plan_section(award_id: int):
    """Lists the award under another section of the Police and Crime Plan (or none) for the
    board's list; a refusal is shown beside the select on the award's page."""
    award = _award(award_id)
    form = _section_form(award)
    if form.validate_on_submit():
        try:
            alignment.relist_award(award, form.plan_section.data, current_user)
        except DomainError as refused:
            show_refusal(form, refused)
        else:
            flash(_("Section of the Police and Crime Plan saved."), "success")
            return redirect(url_for("decisions.award", award_id=award.id))
    return _award_page(award, form)


@bp.route("/manage/awards/<int:award_id>/action-plan", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def action_plan(award_id: int):
    award = _award(award_id)
    form = action_plan_form(len(award.actions), len(award.lines))
    if showing_saved():
        form.load(list(award.actions), list(award.lines))
        form.seen.data = agreements.plan_stamp(award)
    if form.validate_on_submit():
        actions = action_values(form.actions)
        try:
            agreements.save_action_plan(
                award, [agreements.ActionInput(**values) for _i, values in actions],
                form.line_numbers(), current_user, seen=form.seen.data or "")
        except DomainError as refused:
            # The page keeps the plan it was opened on (``seen``): saving again after another
            # manager's change is refused again, never written over theirs.
            show_refusal(form, _in_rows(refused, {"actions": [i for i, _a in actions]}))
        else:
            flash(_("Action plan saved."), "success")
            return redirect(url_for("decisions.award", award_id=award.id))
    return render_template("decisions/agreements/action_plan.html", award=award, form=form)
