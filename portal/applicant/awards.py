"""CSP officers after the award: the offer and its acceptance, the offer letter, the return
schedule and returns, and variations. Every rule is in portal.services.awards and portal.services.variations."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from wtforms import Field

from forms.awards import (
    QUESTION_PREFIX,
    RAG_CHOICES,
    AcceptOfferForm,
    ReturnForm,
    VariationForm,
    return_form,
)
from forms.fields import MoneyError, parse_money
from portal import presenters, questions
from portal.access import requires
from portal.applicant import bp
from portal.downloads import attachment
from portal.formatting import money
from portal.inputs import row_id
from portal.models import Award, CostKind, GrantReturn, VariationKind
from portal.oneshot import one_shot
from portal.refusals import show_refusal
from portal.security import showing_saved
from portal.services import DomainError, awards, return_evidence, variations, years
from portal.services.policy import Action

SPEND_FIELD = re.compile(r"^line-([0-9]+)$")


def _own_award(award_id: int) -> Award:
    award = awards.award_for_organisation(award_id, current_user.organisation_id)
    if award is None:
        abort(404)
    return award


def _own_return(award: Award, return_id: int) -> GrantReturn:
    grant_return = awards.return_for_organisation(return_id, current_user.organisation_id)
    if grant_return is None or grant_return.award_id != award.id:
        abort(404)
    return grant_return


def _first_line(form: Any) -> Field | None:
    """Where a refusal about the spend lines as a whole goes: the first line's spend."""
    line_ids = getattr(form, "line_ids", None)
    return form._fields.get(f"line-{line_ids[0]}") if line_ids else None


def _show_refusal(form: Any, refused: DomainError) -> bool:
    """The refusal beside the field it names (``lines``: the first line's spend); flashed,
    and False, when it names none (it is about the award or the return as a whole)."""
    return show_refusal(form, refused, where={"lines": _first_line})


# --- the list and the award ------------------------------------------------------------------


@bp.route("/awards/")
@requires(Action.APPLY)
def awards_list():
    rows = []
    for award in awards.awards_of(current_user.organisation_id):
        upcoming = next((r for r in award.returns if r.status in awards.OPEN_RETURN), None)
        rows.append({"award": award, "next": upcoming,
                     "state": awards.return_state(upcoming) if upcoming else None})
    return render_template("applicant/awards/list.html", rows=rows)


@bp.route("/awards/<int:award_id>")
@requires(Action.APPLY)
def award(award_id: int):
    award = _own_award(award_id)
    return render_template("applicant/awards/award.html", award=award,
                           states={r.id: awards.return_state(r) for r in award.returns},
                           line_names={line.id: line.item for line in award.lines},
                           figures=awards.year_figures(award) if awards.spans_years(award)
                           else [],
                           closed_actions=awards.closed_actions_with_money(award)
                           if award.status.value == "active" else [],
                           year_label=years.year_label)


@bp.route("/awards/<int:award_id>/offer-letter")
@requires(Action.APPLY)
def offer_letter(award_id: int):
    """The letter is written in the language the partnership worked in when the offer was
    made (issue 16), whatever the reader's, and stays so once offered (an offer made before
    the language was kept follows the partnership's): its element says which; the page
    around it is in the reader's."""
    award = _own_award(award_id)
    language = "cy" if (award.letter_language or award.organisation.language) == "cy" else "en"
    with force_locale("cy" if language == "cy" else "en_GB"):
        letter = Markup(render_template("applicant/awards/_offer_letter.html", award=award))
    return render_template("applicant/awards/offer_letter.html", award=award, letter=letter,
                           letter_language=language)


@bp.route("/awards/<int:award_id>/accept", methods=["GET", "POST"])
@requires(Action.APPLY)
@one_shot
def accept_offer(award_id: int):
    award = _own_award(award_id)
    form = AcceptOfferForm()
    if form.validate_on_submit():
        try:
            awards.accept(award, form.name.data or "", form.role.data or "",
                          bool(form.confirm.data), current_user)
        except DomainError as refused:
            if not _show_refusal(form, refused):
                return redirect(url_for("applicant.award", award_id=award.id))
        else:
            flash(_("You have accepted the offer. The grant is now active."), "success")
            return redirect(url_for("applicant.award", award_id=award.id))
    return render_template("applicant/awards/accept.html", award=award, form=form)


# --- returns ---------------------------------------------------------------------------------


def _line_groups(award: Award) -> list[tuple[str, list[Any]]]:
    groups = [(_("Capital"), [line for line in award.lines if line.kind == CostKind.CAPITAL]),
              (_("Revenue"), [line for line in award.lines if line.kind == CostKind.REVENUE])]
    return [(title, lines) for title, lines in groups if lines]


def _load_return(form: ReturnForm, grant_return: GrantReturn) -> None:
    for line in grant_return.lines:
        field = form._fields.get(f"line-{line.award_line_id}")
        if field is not None:
            field.data = line.spend_pence
    for outcome in grant_return.outcomes:
        if f"achieved-{outcome.outcome_measure_id}" not in form._fields:
            continue
        form[f"achieved-{outcome.outcome_measure_id}"].data = outcome.achieved
        form[f"rag-{outcome.outcome_measure_id}"].data = outcome.rag.value if outcome.rag else None
        form[f"narrative-{outcome.outcome_measure_id}"].data = outcome.narrative
    for report in grant_return.actions:
        if f"action-rag-{report.action_id}" not in form._fields:
            continue
        form[f"action-rag-{report.action_id}"].data = report.rag.value if report.rag else None
        form[f"action-narrative-{report.action_id}"].data = report.narrative
    form["case_study"].data = grant_return.case_study
    form["version"].data = str(grant_return.version)
    form["actions_seen"].data = awards.actions_stamp(grant_return.award)
    form.load_answers(dict(grant_return.answers or {}))
    if grant_return.forecast_underspend_pence:
        form["forecast_underspend"].data = grant_return.forecast_underspend_pence


def _posted_spend(form: ReturnForm) -> dict[int, int]:
    """The spend typed against the award's lines, plus any posted for a line that is not
    one of them (a forged field), so that the service refuses it rather than it being
    silently dropped."""
    spend = form.spend()
    for key, value in request.form.items():
        match = SPEND_FIELD.match(key)
        line_id = row_id(match.group(1)) if match else None
        if match and line_id not in form.line_ids:
            line_id = line_id or 0  # no line has it: the service refuses it as not approved
            try:
                spend[line_id] = parse_money(value) if value.strip() else 0
            except MoneyError:
                spend[line_id] = 0
    return spend


def _posted_answers(form: ReturnForm) -> dict[str, Any]:
    """The answers typed to the fund's questions, plus any posted under a question name the
    page has no field for (a forged field), so that the service refuses it rather than it
    being silently dropped."""
    answers = form.answers()
    known = form.question_field_names()
    start = QUESTION_PREFIX + "-"
    for name in request.form:
        if name.startswith(start) and name not in known:
            answers[name.removeprefix(start)] = request.form.get(name, "")
    return answers


def _save_return(form: ReturnForm, grant_return: GrantReturn) -> None:
    """Attach the file (if any) and save, all or nothing: a refusal keeps neither."""
    upload = form["evidence"].data
    outcomes = [awards.OutcomeInput(measure_id, achieved, rag, narrative)
                for measure_id, achieved, rag, narrative in form.outcome_values()]
    # The action plan's reports (issue 14) go only to an award that has actions, so that
    # returns of awards without them are saved as before.
    extra: dict[str, Any] = {}
    if grant_return.award.actions:
        extra["actions"] = [awards.ActionInput(action_id, rag, narrative)
                            for action_id, rag, narrative in form.action_values()]
        # The page always sends the stamp it showed: one missing is no match (only a service
        # caller without a page passes None, and no check).
        extra["actions_seen"] = form["actions_seen"].data or ""
    # The fund's own questions (issue 15), answered on the version the page showed.
    extra["answers"] = _posted_answers(form)
    extra["form_seen"] = form["form_seen"].data or ""
    return_evidence.save_return_with_file(
        grant_return,
        (upload.filename, upload.stream) if upload is not None and upload.filename else None,
        _posted_spend(form), outcomes, form["case_study"].data or "",
        form["forecast_underspend"].data or 0, submit=form.is_submitting(),
        actor=current_user, expected_version=_version(form), **extra)


def _version(form: ReturnForm) -> int | None:
    """The version the page showed (None from a page without it: no check). A version that
    is there but no version number was not written by our page: 400, nothing saved."""
    raw = form["version"].data
    version = row_id(raw)
    if version is None and (raw or "").strip():
        abort(400)
    return version


def _checked(form: ReturnForm) -> bool:
    """The return's fields and its questions' answers checked (both, so that every error
    shows at once): the questions from the definition, every shown required one on submit."""
    fine = form.validate_on_submit()
    return form.check_answers(form.is_submitting()) and fine


def _show_return_refusal(form: ReturnForm, refused: DomainError) -> bool:
    """A refusal about an answer (``q-<key>``) beside its question; others as before."""
    start = QUESTION_PREFIX + "-"
    if refused.field == "questions":  # the questions changed: beside the first of them now
        first = next((bound for question_form in form.question_forms
                      for bound in question_form), None)
        target = first if first is not None else form["case_study"]
        target.errors = [*target.errors, refused.message]
        return True
    if refused.field and refused.field.startswith(start):
        bound = form.question_field(refused.field.removeprefix(start))
        if bound is not None:
            bound.errors = [*bound.errors, refused.message]
            return True
    return _show_refusal(form, refused)


@bp.route("/awards/<int:award_id>/returns/<int:return_id>", methods=["GET", "POST"])
@requires(Action.APPLY)
@one_shot
def award_return(award_id: int, return_id: int):
    award = _own_award(award_id)
    grant_return = _own_return(award, return_id)
    form = return_form(list(award.lines), list(award.bid.outcomes), list(award.actions))
    version = awards.return_version(grant_return)
    form.add_questions(questions.read(version.definition if version is not None else None),
                       dict(grant_return.answers or {}))
    lock = awards.return_lock(grant_return)
    if request.method == "GET":
        form["form_seen"].data = awards.form_stamp(version)
        if showing_saved():
            _load_return(form, grant_return)
    elif lock is not None or _checked(form):
        # Not editable: straight to the service, which says why (closed, not accepted, in).
        try:
            _save_return(form, grant_return)
        except DomainError as refused:
            if not _show_return_refusal(form, refused):
                return redirect(url_for("applicant.award_return", award_id=award.id,
                                        return_id=grant_return.id))
            form["version"].data = str(grant_return.version)  # the next save is over this one
            # The page shows the questions as they are now: its next save answers them.
            form["form_seen"].data = awards.form_stamp(version)
        else:
            if form.is_submitting():
                flash(_("Return submitted. Finance will check it and tell you if anything "
                        "needs to change."), "success")
                return redirect(url_for("applicant.award", award_id=award.id))
            flash(_("Draft saved. You can come back to it until you submit it."), "success")
            return redirect(url_for("applicant.award_return", award_id=award.id,
                                    return_id=grant_return.id))
    queries = [r for r in reversed(grant_return.reviews) if r.outcome == "queried"]
    checks = {check.line.id: check for check in awards.line_checks(grant_return)}
    return render_template(
        "applicant/awards/return.html", award=award, grant_return=grant_return, form=form,
        state=awards.return_state(grant_return), queries=queries, checks=checks,
        groups=_line_groups(award), measures=list(award.bid.outcomes),
        lock=lock, sendable=awards.sendable(grant_return),
        outcomes={o.outcome_measure_id: o for o in grant_return.outcomes},
        rag_labels=dict(RAG_CHOICES), action_reports=awards.action_reports(grant_return),
        question_sections=_question_sections(form),
        answer_sections=presenters.return_answer_sections(
            awards.answered_questions(grant_return), dict(grant_return.answers or {}))
        if lock is not None else [])


def _condition_words(definition: questions.Definition, condition: dict[str, str] | None
                     ) -> Markup:
    """When a section is asked, in words for the page (empty: always), the question's label
    and answer marked ``lang="en"`` where English is shown to a Welsh reader."""
    found = questions.condition_words(definition, condition)
    if found is None:
        return Markup("")
    if found.confirm:
        return found.sentence(_("Answer these questions only if you confirm “%(label)s”."))
    return found.sentence(
        _("Answer these questions only if your answer to “%(label)s” is “%(value)s”."))


def _question_sections(form: ReturnForm) -> list[dict[str, Any]]:
    """The fund's questions as the return page shows them: each section's title, intro,
    when it is asked, and its form: the title in the reader's language, marked ``lang="en"``
    where it is English shown to a Welsh reader; the intro as plain text (made paragraphs)."""
    return [{"title": f.section.marked("title"), "intro": f.section.words("intro"),
             "condition": _condition_words(form.definition, f.section.condition), "form": f}
            for f in form.question_forms]


@bp.route("/awards/<int:award_id>/returns/<int:return_id>/evidence/<int:evidence_id>")
@requires(Action.APPLY)
def download_return_evidence(award_id: int, return_id: int, evidence_id: int):
    award = _own_award(award_id)
    grant_return = _own_return(award, return_id)
    return attachment(grant_return.evidence, evidence_id, return_evidence.stored_name)


# --- variations ------------------------------------------------------------------------------


@bp.route("/awards/<int:award_id>/variations/new", methods=["GET", "POST"])
@requires(Action.APPLY)
@one_shot
def new_variation(award_id: int):
    award = _own_award(award_id)
    form = VariationForm()
    form.set_lines(list(award.lines))
    form.set_years([(year, years.year_label(year))
                    for year in variations.carry_forward_years(award)])
    if showing_saved():
        _propose(form, award)
    if form.validate_on_submit():
        kind = VariationKind(form.kind.data)
        moves = (form.moves() if kind == VariationKind.REALLOCATION else
                 form.carry_moves() if kind == VariationKind.CARRY_FORWARD else None)
        try:
            variations.request_variation(
                award, kind, form.reason.data or "", current_user, moves=moves,
                new_end_date=form.new_end_date.data if kind == VariationKind.EXTENSION
                else None)
        except DomainError as refused:
            if not _show_refusal(form, refused):
                return redirect(url_for("applicant.award", award_id=award.id))
        else:
            flash(_("Your request has been sent to the OPCC. The award page shows when it "
                    "is decided."), "success")
            return redirect(url_for("applicant.award", award_id=award.id))
    return render_template("applicant/awards/variation.html", award=award, form=form)


def _propose(form: VariationForm, award: Award) -> None:
    """A re-allocation proposed from the award page (an action closed with money left on its
    line): the form starts with the line, the amount and the reason filled in. Only a line
    of this award and what it has left are taken from the link; the rest is the officer's."""
    for proposal in awards.closed_actions_with_money(award):
        if row_id(request.args.get("from_line", "")) != proposal.line.id:
            continue
        if row_id(request.args.get("action", "")) != proposal.action.id:
            continue
        form.kind.data = VariationKind.REALLOCATION.value
        form.from_line.data = str(proposal.line.id)
        form.amount.data = proposal.left_pence
        form.reason.data = _("Action %(number)s (%(title)s) is closed with %(amount)s left on "
                             "“%(item)s”.", number=proposal.action.number,
                             title=proposal.action.title, amount=money(proposal.left_pence),
                             item=proposal.line.item)
        return
