"""OPCC assessors: their queue, conflict declarations and scoring."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms.review import ConflictForm, ReopenForm, assessment_form
from portal import presenters, questions
from portal.access import requires
from portal.downloads import attachment
from portal.inputs import whole_number
from portal.models import AssessmentStatus, Assignment, Bid, ConflictStatus, Criterion
from portal.oneshot import one_shot
from portal.pagination import page_number
from portal.presenters import summary_rows
from portal.queries import review as queries
from portal.refusals import show_refusal
from portal.review import bp
from portal.security import showing_saved
from portal.services import DomainError, assessment, bids, evidence, form_versions
from portal.services.policy import Action


def _mine(assignment_id: int) -> Assignment:
    assignment = assessment.assignment_for(assignment_id, current_user)
    if assignment is None:
        abort(404)
    return assignment


def _cleared(assignment_id: int) -> Assignment:
    """The assignment, only once the assessor has declared no conflict."""
    assignment = _mine(assignment_id)
    if assignment.conflict == ConflictStatus.CONFLICTED:
        abort(404)
    return assignment


@bp.route("/assess/")
@requires(Action.ASSESS)
def home():
    page = queries.queue_page(current_user, page_number())
    return render_template("review/home.html", page=page,
                           pagination=page.govuk_params("review.home"),
                           status_label=bids.status_label)


@bp.route("/assess/<int:assignment_id>/declaration", methods=["GET", "POST"])
@requires(Action.ASSESS)
@one_shot
def declare(assignment_id: int):
    assignment = _mine(assignment_id)
    if assignment.conflict != ConflictStatus.UNDECLARED:
        if request.method == "POST":  # declared a moment ago (another tab, a double click)
            flash(_("You have already made your declaration for this bid."), "info")
        return redirect(url_for("review.assess", assignment_id=assignment.id))
    form = ConflictForm()
    if form.validate_on_submit():
        try:
            assessment.declare(assignment, form.conflict.data == "yes", form.reason.data or "",
                               current_user)
        except DomainError as refused:
            # One naming no field (declared a moment ago, in another tab) is flashed.
            if not show_refusal(form, refused,
                                default="conflict" if refused.field is not None else None):
                return redirect(url_for("review.assess", assignment_id=assignment.id))
        else:
            if assignment.conflict == ConflictStatus.CONFLICTED:
                flash(_("You have declared a conflict of interest. The grants manager has been "
                        "told and will reassign the bid."), "success")
                return redirect(url_for("review.home"))
            flash(_("You have declared that you have no conflict of interest. You can now "
                    "score the bid."), "success")
            return redirect(url_for("review.assess", assignment_id=assignment.id))
    return render_template("review/declare.html", assignment=assignment, bid=assignment.bid,
                           form=form)


def _load(form: Any, assignment: Assignment) -> None:
    for score in assignment.scores:
        form[f"score-{score.criterion_id}"].data = (None if score.score is None
                                                    else str(score.score))
        form[f"justification-{score.criterion_id}"].data = score.justification
    form.recommendation.data = assignment.recommendation.value if assignment.recommendation \
        else None
    form.comments.data = assignment.comments or ""


def _inputs(form: Any, criteria: list[Criterion]) -> list[assessment.ScoreInput]:
    inputs = []
    for criterion in criteria:
        raw = form[f"score-{criterion.id}"].data
        if raw in (None, "", "None"):
            score = None
        else:  # "５", "1_0", "+5" or 40 digits: refused by the service as outside the scale
            number = whole_number(raw, digits=3)
            score = -1 if number is None else number
        inputs.append(assessment.ScoreInput(criterion.id, score,
                                            form[f"justification-{criterion.id}"].data or ""))
    return inputs


@bp.route("/assess/<int:assignment_id>", methods=["GET", "POST"])
@requires(Action.ASSESS)
@one_shot
def assess(assignment_id: int):
    assignment = _cleared(assignment_id)
    if assignment.conflict == ConflictStatus.UNDECLARED:
        return redirect(url_for("review.declare", assignment_id=assignment.id))
    bid = assignment.bid
    criteria = list(bid.round.criteria)
    form = assessment_form(criteria)
    if showing_saved():
        _load(form, assignment)
    elif form.validate_on_submit():
        submitting = bool(form.submit.data)
        try:
            assessment.save_assessment(assignment, _inputs(form, criteria),
                                       form.recommendation.data or None, form.comments.data or "",
                                       submit=submitting, actor=current_user)
        except assessment.AssessmentErrors as refused:
            for error in refused.errors:
                show_refusal(form, error)
        except DomainError as refused:
            flash(refused.message, "error")
        else:
            flash(_("Assessment submitted.") if submitting else _("Draft saved."), "success")
            return redirect(url_for("review.assess", assignment_id=assignment.id))
    return _assessment_page(assignment, form, criteria)


def _scored_answers(bid: Bid, criteria: list[Criterion]) -> dict[int, list[dict[str, Any]]]:
    """Each criterion's sections (by criterion id), as the assessor sees them beside its
    score: the title and answers (summary list rows) of each section it names that the bid's
    own form version has and shows for its answers (a section hidden by a condition, or not
    in that version, is left out)."""
    definition = form_versions.definition_of(bid)
    saved = {section.key: section.answers or {} for section in bid.sections}
    every = questions.visible(definition, saved)
    shown = {section.key: section for section in questions.shown_sections(definition, every)}
    files = {item.id: item.original_name for item in bid.evidence} if any(
        q.type == "file" for _s, q in definition.questions()) else {}
    scored: dict[int, list[dict[str, Any]]] = {}
    for criterion in criteria:
        scored[criterion.id] = [
            {"title": shown[key].marked("title") or key,
             "rows": presenters.answer_rows(shown[key], saved.get(key, {}), every, files=files,
                                            total_pence=bid.amount_requested_pence)}
            for key in criterion.sections or [] if key in shown]
    return scored


def _assessment_page(assignment: Assignment, form: Any, criteria: list[Criterion]) -> str:
    bid = assignment.bid
    submitted = assignment.status == AssessmentStatus.SUBMITTED
    return render_template("review/assess.html", assignment=assignment, bid=bid, form=form,
                           criteria=criteria, others=assessment.others_visible_to(assignment),
                           scored_answers=_scored_answers(bid, criteria),
                           summary_rows=summary_rows, sections=bids.sections_for(bid),
                           submitted=submitted,
                           reopen_form=ReopenForm() if submitted and bid.status in
                           assessment.ASSESSABLE else None)


@bp.route("/assess/<int:assignment_id>/reopen", methods=["POST"])
@requires(Action.ASSESS)
@one_shot
def reopen(assignment_id: int):
    assignment = _cleared(assignment_id)
    if not ReopenForm().validate_on_submit():
        abort(400)
    try:
        assessment.reopen(assignment, current_user)
    except DomainError as refused:
        flash(refused.message, "error")
    else:
        flash(_("Assessment reopened. It does not count until you submit it again."),
              "success")
    return redirect(url_for("review.assess", assignment_id=assignment.id))


@bp.route("/assess/<int:assignment_id>/evidence/<int:evidence_id>")
@requires(Action.ASSESS)
def download_evidence(assignment_id: int, evidence_id: int):
    assignment = _cleared(assignment_id)
    if assignment.conflict != ConflictStatus.NONE:
        abort(404)
    return attachment(assignment.bid.evidence, evidence_id, evidence.stored_name)
