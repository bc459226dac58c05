"""The grants manager sets up funds, rounds and their assessment criteria."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms.setup import CriteriaForm, CriterionRow, FundForm, RoundForm
from portal import bilingual
from portal.access import requires
from portal.decisions import bp
from portal.models import Fund, Round
from portal.models.funds import PaymentRule, ReturnCadence
from portal.queries import decisions as queries
from portal.refusals import Target, show_refusal
from portal.security import showing_saved
from portal.services import DomainError, plans, rounds, setup
from portal.services.policy import Action


def _fund(fund_id: int) -> Fund:
    return queries.fund(fund_id) or abort(404)


def _round(round_id: int) -> Round:
    return queries.round_by_id(round_id) or abort(404)


@bp.route("/manage/funds")
@requires(Action.MANAGE_GRANTS)
def funds():
    return render_template("decisions/setup/funds.html", funds=setup.funds_with_rounds(),
                           state_of=rounds.state_of)


# --- funds ------------------------------------------------------------------------------------


def _fund_details(form: FundForm) -> setup.FundDetails:
    return setup.FundDetails(
        code=form.code.data, name=form.name.data, purpose=form.purpose.data,
        is_youth=bool(form.is_youth.data), allows_multi_year=bool(form.allows_multi_year.data),
        payment_rule=PaymentRule(form.payment_rule.data), terms=form.terms.data,
        direct=bool(form.direct.data), name_cy=form.name_cy.data or "",
        purpose_cy=form.purpose_cy.data or "", terms_cy=form.terms_cy.data or "",
        plan_section_id=form.plan_section.data)


def _fund_form(fund: Fund | None) -> FundForm:
    """The fund form, offering the sections of the plan in force today (UK date) and the
    fund's own even if it belongs to an older plan."""
    form = FundForm()
    sections = plans.fund_section_choices(fund.plan_section if fund else None)
    form.offer_sections([(section.id, f"{section.code} – {words}", english)
                         for section in sections
                         for words, english in [bilingual.chosen(section.name,
                                                                 section.name_cy)]],
                        none=_("None"))
    return form


@bp.route("/manage/funds/new", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def new_fund():
    form = _fund_form(None)
    if showing_saved():
        form.payment_rule.data = PaymentRule.ADVANCE.value
    if form.validate_on_submit():
        try:
            fund = setup.create_fund(_fund_details(form), current_user)
        except DomainError as refused:
            show_refusal(form, refused, default="name")
        else:
            flash(bilingual.sentence(_("Fund “%(name)s” created. Now add a round."),
                                     name=bilingual.marked(fund, "name")), "success")
            return redirect(url_for("decisions.new_round", fund_id=fund.id))
    return render_template("decisions/setup/fund.html", form=form, fund=None)


@bp.route("/manage/funds/<int:fund_id>/edit", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def edit_fund(fund_id: int):
    fund = _fund(fund_id)
    form = _fund_form(fund)
    if showing_saved():
        for name in ("code", "name", "purpose", "is_youth", "allows_multi_year", "direct",
                     "terms", "name_cy", "purpose_cy", "terms_cy"):
            form[name].data = getattr(fund, name)
        form.plan_section.data = fund.plan_section_id
        form.payment_rule.data = fund.payment_rule.value
    if form.validate_on_submit():
        try:
            setup.update_fund(fund, _fund_details(form), current_user)
        except DomainError as refused:
            show_refusal(form, refused, default="name")
        else:
            flash(bilingual.sentence(_("Changes to “%(name)s” saved."),
                                     name=bilingual.marked(fund, "name")), "success")
            return redirect(url_for("decisions.funds"))
    return render_template("decisions/setup/fund.html", form=form, fund=fund)


# --- rounds -----------------------------------------------------------------------------------


def _round_details(form: RoundForm) -> setup.RoundDetails:
    financial_year, budget = form.financial_year.data, form.budget.data
    opens_on, opens_time = form.opens_on.data, form.opens_time.data
    closes_on, closes_time = form.closes_on.data, form.closes_time.data
    # All Required: validated above.
    assert financial_year is not None
    assert opens_on is not None and opens_time is not None
    assert closes_on is not None and closes_time is not None
    years = form.year_count()
    year_budgets: tuple[setup.YearBudget, ...] = ()
    if form.multi_year:
        # A round over several years: a budget per year (all given: validated above), the
        # round's budget their sum. A one-year round of such a fund: its first year's.
        rows = [row.form for row in form.year_budgets][:years]
        if years > 1:
            year_budgets = tuple(setup.YearBudget(row.budget.data or 0, row.cap.data)
                                 for row in rows)
        budget = sum(row.budget.data or 0 for row in rows)
    cap = form.cap.data
    if form.multi_year and years == 1 and cap is None:
        cap = form.year_budgets[0].form.cap.data  # one year: its cap is the round's
    assert budget is not None
    return setup.RoundDetails(
        name=form.name.data, financial_year=financial_year,
        opens_on=opens_on, opens_time=opens_time,
        closes_on=closes_on, closes_time=closes_time,
        budget_pence=budget, cap_pence=cap,
        eligible_organisation_types=list(form.eligible_organisation_types.data or []),
        return_cadence=ReturnCadence(form.return_cadence.data), guidance=form.guidance.data or "",
        required_assessments=form.required_assessments.data,
        years=years, year_budgets=year_budgets, name_cy=form.name_cy.data or "",
        guidance_cy=form.guidance_cy.data or "")


def _round_form(fund: Fund) -> RoundForm:
    """The round form, asking for years and a budget per year when the fund allows
    projects over several years (and only then: a one-year fund's form is as it was)."""
    form = RoundForm()
    form.multi_year = bool(fund.allows_multi_year)
    return form


def _load_round(form: RoundForm, round_: Round) -> None:
    form.name.data = round_.name
    form.financial_year.data = round_.financial_year
    form.opens_on.data, form.opens_time.data = setup.uk_date_and_time(round_.opens_at)
    form.closes_on.data, form.closes_time.data = setup.uk_date_and_time(round_.closes_at)
    form.budget.data = round_.budget_pence
    form.cap.data = round_.cap_pence
    form.years.data = round_.years or 1
    for row, year in zip(form.year_budgets, round_.year_budgets):
        row.form.budget.data = year.budget_pence
        row.form.cap.data = year.cap_pence if (round_.years or 1) > 1 else None
    form.eligible_organisation_types.data = list(round_.eligible_organisation_types or [])
    form.return_cadence.data = round_.return_cadence.value
    form.guidance.data = round_.guidance
    form.name_cy.data = round_.name_cy
    form.guidance_cy.data = round_.guidance_cy
    form.required_assessments.data = round_.required_assessments


def _show_round_refusal(form: RoundForm, refused: DomainError) -> None:
    """Beside the field the service names; the number of years, on a form that does not
    ask for it, beside the budget."""
    where: dict[str, Target] = {} if form.multi_year else {"years": form.budget}
    show_refusal(form, refused, where=where, default="name")


@bp.route("/manage/funds/<int:fund_id>/rounds/new", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def new_round(fund_id: int):
    fund = _fund(fund_id)
    form = _round_form(fund)
    if showing_saved():
        form.years.data = 1
        form.eligible_organisation_types.data = ["csp"]
        form.return_cadence.data = ReturnCadence.SIX_MONTHLY.value
    if form.validate_on_submit():
        try:
            round_ = setup.create_round(fund, _round_details(form), current_user)
        except DomainError as refused:
            _show_round_refusal(form, refused)
        else:
            flash(bilingual.sentence(_("Round “%(name)s” created. Now set its criteria."),
                                     name=bilingual.marked(round_, "name")), "success")
            return redirect(url_for("decisions.edit_criteria", round_id=round_.id))
    return render_template("decisions/setup/round.html", form=form, fund=fund, round=None)


@bp.route("/manage/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def edit_round(round_id: int):
    round_ = _round(round_id)
    form = _round_form(round_.fund)
    if showing_saved():
        _load_round(form, round_)
    if form.validate_on_submit():
        try:
            setup.update_round(round_, _round_details(form), current_user)
        except DomainError as refused:
            _show_round_refusal(form, refused)
        else:
            flash(bilingual.sentence(_("Changes to “%(name)s” saved."),
                                     name=bilingual.marked(round_, "name")),
                  "success")
            return redirect(url_for("decisions.funds"))
    return render_template("decisions/setup/round.html", form=form, fund=round_.fund,
                           round=round_)


# --- criteria ---------------------------------------------------------------------------------


@bp.route("/manage/rounds/<int:round_id>/criteria")
@requires(Action.MANAGE_GRANTS)
def criteria(round_id: int):
    round_ = _round(round_id)
    return render_template("decisions/setup/criteria.html", round=round_,
                           scale=setup.scale_of(round_), locked=setup.criteria_locked(round_),
                           section_titles=dict(setup.criteria_sections(round_)))


def _load_criteria(form: CriteriaForm, round_: Round) -> None:
    for row, criterion in zip(form.rows, round_.criteria):
        row.form.title.data = criterion.title
        row.form.guidance.data = criterion.guidance
        row.form.title_cy.data = criterion.title_cy
        row.form.guidance_cy.data = criterion.guidance_cy
        row.form.weight.data = criterion.weight
        row.form.sections.data = list(criterion.sections or [])
    scale = setup.scale_of(round_)
    form.scale_min.data, form.scale_max.data = scale.minimum, scale.maximum
    for row, text in zip(form.descriptors, scale.descriptors):
        row.form.text.data = text


def _first_filled(form: CriteriaForm) -> CriterionRow:
    """The first criterion typed, or the first row when none is."""
    filled = form.filled_rows()
    return filled[0] if filled else form.rows[0].form


def _show_criteria_refusal(form: CriteriaForm, refused: DomainError) -> None:
    """Totals go beside the first weight typed, "enter one" beside the first title; a
    descriptor's refusal (``descriptors-N``) beside its own box; anything else beside the
    field it names, or the first title."""
    filled = form.filled_rows()
    where: dict[str, Target] = {
        "weights": lambda f: _first_filled(f).weight,
        "rows": lambda f: _first_filled(f).title,
        **{f"descriptors-{index}": row.form.text for index, row in enumerate(form.descriptors)},
        # The service counts the criteria given (the rows filled in), not the form's rows.
        **{f"sections-{index}": row.sections for index, row in enumerate(filled)},
    }
    show_refusal(form, refused, where=where, default=lambda f: _first_filled(f).title)


@bp.route("/manage/rounds/<int:round_id>/criteria/edit", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def edit_criteria(round_id: int):
    round_ = _round(round_id)
    if setup.criteria_locked(round_):
        flash(setup.locked_message(), "error")
        return redirect(url_for("decisions.criteria", round_id=round_.id))
    form = CriteriaForm()
    form.offer_sections(setup.criteria_sections(round_))
    if showing_saved():
        _load_criteria(form, round_)
    if form.validate_on_submit():
        chosen = [setup.CriterionDetails(row.title.data or "", row.guidance.data or "",
                                         row.weight.data or 0, tuple(row.sections.data or ()),
                                         title_cy=row.title_cy.data or "",
                                         guidance_cy=row.guidance_cy.data or "")
                  for row in form.filled_rows()]
        lowest, highest = form.scale_min.data, form.scale_max.data
        assert lowest is not None and highest is not None  # both Required: validated above
        scale = setup.Scale(lowest, highest,
                            [row.form.text.data or "" for row in form.descriptors])
        try:
            setup.replace_criteria(round_, chosen, scale, current_user)
        except DomainError as refused:
            _show_criteria_refusal(form, refused)
        else:
            flash(bilingual.sentence(_("Criteria for “%(name)s” saved."),
                                     name=bilingual.marked(round_, "name")),
                  "success")
            return redirect(url_for("decisions.criteria", round_id=round_.id))
    return render_template("decisions/setup/edit_criteria.html", form=form, round=round_)
