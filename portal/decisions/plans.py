"""The grants manager keeps the Police and Crime Plan (issue 18): plans with their years and
the date each is in force from, and their sections (code and name), which funds, bids and
awards are aligned to."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms.plans import NewPlanForm, PlanForm, PlanMoveForm, PlanSectionForm, PlanSectionRemoveForm
from portal import bilingual
from portal.access import requires
from portal.decisions import bp
from portal.inputs import row_id, whole_number
from portal.models import Plan, PlanSection
from portal.refusals import show_refusal
from portal.security import showing_saved
from portal.services import DomainError, plans
from portal.services.policy import Action


def _plan(plan_id: int) -> Plan:
    return plans.plan_by_id(plan_id) or abort(404)


def _section(plan: Plan, section_id: int) -> PlanSection:
    return plans.section_of(plan, section_id) or abort(404)


def _plan_details(form: PlanForm) -> plans.PlanDetails:
    first, last, day = form.first_year.data, form.last_year.data, form.in_force_from.data
    assert first is not None and last is not None and day is not None  # Required: validated
    return plans.PlanDetails(title=form.title.data or "", title_cy=form.title_cy.data or "",
                             first_year=first, last_year=last, in_force_from=day)


def _section_details(form: PlanSectionForm) -> plans.SectionDetails:
    return plans.SectionDetails(code=form.code.data or "", name=form.name.data or "",
                                name_cy=form.name_cy.data or "")


@bp.route("/manage/plans")
@requires(Action.MANAGE_GRANTS)
def plans_list():
    return render_template("decisions/plans/plans.html", plans=plans.plans_with_states(),
                           years_of=plans.years_of)


@bp.route("/manage/plans/new", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def new_plan():
    form = NewPlanForm()
    if form.validate_on_submit():
        try:
            plan = plans.create_plan(_plan_details(form), current_user,
                                     copy_sections=bool(form.copy_sections.data))
        except DomainError as refused:
            show_refusal(form, refused, default="title")
        else:
            flash(bilingual.sentence(_("Plan “%(title)s” created. Now add its sections."),
                                     title=bilingual.marked(plan, "title")), "success")
            return redirect(url_for("decisions.plan", plan_id=plan.id))
    return render_template("decisions/plans/new.html", form=form)


def _plan_page(plan: Plan, form: PlanForm) -> str:
    move = PlanMoveForm(formdata=None)
    return render_template("decisions/plans/plan.html", plan=plan, form=form, move=move,
                           when=plans.plan_state(plan), years=plans.years_of(plan),
                           date_locked=plans.awards_use_plan(plan))


@bp.route("/manage/plans/<int:plan_id>", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def plan(plan_id: int):
    plan = _plan(plan_id)
    form = PlanForm()
    if showing_saved():
        form.title.data, form.title_cy.data = plan.title, plan.title_cy
        form.first_year.data, form.last_year.data = plan.first_year, plan.last_year
        form.in_force_from.data = plan.in_force_from
    if form.validate_on_submit():
        try:
            plans.update_plan(plan, _plan_details(form), current_user)
        except DomainError as refused:
            show_refusal(form, refused, default="title")
        else:
            flash(bilingual.sentence(_("Changes to “%(title)s” saved."),
                                     title=bilingual.marked(plan, "title")), "success")
            return redirect(url_for("decisions.plan", plan_id=plan.id))
    return _plan_page(plan, form)


@bp.route("/manage/plans/<int:plan_id>/sections/move", methods=["POST"])
@requires(Action.MANAGE_GRANTS)
def move_plan_section(plan_id: int):
    plan = _plan(plan_id)
    form = PlanMoveForm()
    back = redirect(url_for("decisions.plan", plan_id=plan.id) + "#sections")
    if not form.validate_on_submit():
        flash(_("The form was changed: reload the page and try again"), "error")
        return back
    number, _colon, place = (form.move.data or "").partition(":")
    section_id, to = row_id(number), whole_number(place, digits=4)
    section = plans.section_of(plan, section_id) if section_id is not None else None
    if section is None or to is None:
        flash(_("That section is no longer in the plan: reload the page and try again"),
              "error")
        return back
    try:
        plans.move_section(section, to, current_user)
    except DomainError as refused:
        flash(refused.message, "error")
    return back


@bp.route("/manage/plans/<int:plan_id>/sections/new", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def new_plan_section(plan_id: int):
    plan = _plan(plan_id)
    form = PlanSectionForm()
    if form.validate_on_submit():
        try:
            section = plans.add_section(plan, _section_details(form), current_user)
        except DomainError as refused:
            show_refusal(form, refused, default="code")
        else:
            flash(bilingual.sentence(_("Section “%(name)s” added."),
                                     name=bilingual.marked(section, "name")), "success")
            return redirect(url_for("decisions.plan", plan_id=plan.id) + "#sections")
    return render_template("decisions/plans/section.html", plan=plan, section=None, form=form)


@bp.route("/manage/plans/<int:plan_id>/sections/<int:section_id>", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def plan_section(plan_id: int, section_id: int):
    plan = _plan(plan_id)
    section = _section(plan, section_id)
    form = PlanSectionForm()
    if showing_saved():
        form.code.data, form.name.data = section.code, section.name
        form.name_cy.data = section.name_cy
    if form.validate_on_submit():
        try:
            plans.update_section(section, _section_details(form), current_user)
        except DomainError as refused:
            show_refusal(form, refused, default="code")
        else:
            flash(bilingual.sentence(_("Changes to “%(name)s” saved."),
                                     name=bilingual.marked(section, "name")), "success")
            return redirect(url_for("decisions.plan", plan_id=plan.id) + "#sections")
    return render_template("decisions/plans/section.html", plan=plan, section=section,
                           form=form)


@bp.route("/manage/plans/<int:plan_id>/sections/<int:section_id>/remove",
          methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def remove_plan_section(plan_id: int, section_id: int):
    plan = _plan(plan_id)
    section = _section(plan, section_id)
    form = PlanSectionRemoveForm()
    back = redirect(url_for("decisions.plan", plan_id=plan.id) + "#sections")
    if form.validate_on_submit():
        if form.confirm.data != "yes":
            return back
        name = bilingual.marked(section, "name")
        try:
            plans.remove_section(section, current_user)
        except DomainError as refused:
            show_refusal(form, refused, default="confirm")
        else:
            flash(bilingual.sentence(_("Section “%(name)s” removed."), name=name), "success")
            return back
    use = plans.section_use(section)
    return render_template("decisions/plans/remove.html", plan=plan, section=section,
                           form=form, use=use,
                           in_use=plans.in_use_message(use) if use.any else "")
