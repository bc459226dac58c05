"""The grants manager: rounds, assignment, moderation, ranking, questions and decisions."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from forms.review import (
    AskForm,
    AssignForm,
    AuditSearchForm,
    BulkAssignForm,
    DecisionForm,
    moderation_form,
)
from portal import bilingual
from portal.access import requires
from portal.decisions import bp
from portal.downloads import attachment, csv_file
from portal.exports.tables import RANKING, csv_chunks
from portal.inputs import row_id, whole_number
from portal.models import AssessmentStatus, Bid, Round, User
from portal.oneshot import one_shot
from portal.pagination import page_number
from portal.presenters import summary_rows
from portal.queries import decisions as queries
from portal.queries import reminders as reminder_queries
from portal.refusals import show_refusal
from portal.security import showing_saved
from portal.services import (
    DomainError,
    alignment,
    assessment,
    audit,
    awards,
    bids,
    decisions,
    evidence,
    rounds,
)
from portal.services.policy import Action


@bp.route("/manage/")
@requires(Action.MANAGE_GRANTS)
def home():
    page = queries.rounds_page(page_number())
    return render_template("decisions/home.html", page=page, state_of=rounds.state_of)


def _round(round_id: int) -> Round:
    return queries.round_by_id(round_id) or abort(404)


def _bid(bid_id: int) -> Bid:
    # Drafts are a 404 too: they belong to the partnership until submitted.
    return queries.submitted_bid(bid_id) or abort(404)


def _assessor_choices() -> list[tuple[str, str]]:
    return [("", _("Choose an assessor"))] + [(str(u.id), u.name)
                                              for u in assessment.assessors()]


def _chosen_assessor(raw: str) -> User | None:
    """The user whose id the assessor list sent, or None."""
    chosen = row_id(raw)
    return queries.user(chosen) if chosen is not None else None


def _progress(bid_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(submitted assessments, assessors assigned and not conflicted) per bid, in one
    query: the counts the readiness for a decision reads."""
    return decisions.assessment_counts(bid_ids)


@bp.route("/manage/rounds/<int:round_id>", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
@one_shot
def round_page(round_id: int):
    round_ = _round(round_id)
    submitted = queries.round_bids(round_.id)
    form = BulkAssignForm()
    form.assessor.choices = _assessor_choices()
    form.bids.choices = [(str(b.id), f"{b.reference} – {b.title}") for b in submitted
                         if b.status in assessment.ASSESSABLE]
    if form.validate_on_submit():
        assessor = _chosen_assessor(form.assessor.data)
        chosen = [b for b in submitted if str(b.id) in set(form.bids.data)]
        if assessor is None:
            form.assessor.errors.append(_("Choose an assessor"))
        else:
            try:
                done, skipped = assessment.assign_many(chosen, assessor, current_user)
            except DomainError as refused:
                done, skipped = 0, [refused.message]
            if done:
                flash(ngettext("%(name)s assigned to %(num)d bid.",
                               "%(name)s assigned to %(num)d bids.", done, name=assessor.name),
                      "success")
                for reason in skipped:
                    flash(reason, "error")
                return redirect(url_for("decisions.round_page", round_id=round_.id))
            form.bids.errors = [*form.bids.errors, *skipped] or [
                _("Select at least one bid")]
    return render_template("decisions/round.html", round=round_, bids=submitted, form=form,
                           progress=_progress([b.id for b in submitted]),
                           status_label=bids.status_label, state=rounds.state_of(round_),
                           history=audit.history("round", round_.id))


@bp.route("/manage/bids/<int:bid_id>", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
@one_shot
def bid(bid_id: int):
    bid = _bid(bid_id)
    form = AssignForm()
    form.assessor.choices = _assessor_choices()
    if form.validate_on_submit():
        assessor = _chosen_assessor(form.assessor.data)
        try:
            if assessor is None:
                raise DomainError(_("Choose an assessor"), field="assessor")
            assessment.assign(bid, assessor, current_user)
        except DomainError as refused:
            show_refusal(form, refused, default="assessor")
        else:
            flash(_("%(name)s assigned.", name=assessor.name), "success")
            return redirect(url_for("decisions.bid", bid_id=bid.id))
    # Only assessors not yet assigned to this bid are offered: assigning one again is refused
    # (by the service, whose reason a forged post still gets).
    assignments = assessment.assignments_of(bid)
    taken = {str(a.assessor_id) for a in assignments}
    form.assessor.choices = [c for c in form.assessor.choices if c[0] not in taken]
    return render_template("decisions/bid.html", bid=bid, form=form, assignments=assignments,
                           decision=decisions.decision_of(bid),
                           award=awards.award_of_bid(bid.id),
                           readiness=decisions.readiness(bid, assignments),
                           moderation=assessment.moderation_of(bid),
                           history=audit.history("bid", bid.id), summary_rows=summary_rows,
                           sections=bids.sections_for(bid), status_label=bids.status_label,
                           open_request=bids.open_request(bid))


@bp.route("/manage/bids/<int:bid_id>/evidence/<int:evidence_id>")
@requires(Action.MANAGE_GRANTS)
def download_evidence(bid_id: int, evidence_id: int):
    return attachment(_bid(bid_id).evidence, evidence_id, evidence.stored_name)


@bp.route("/manage/bids/<int:bid_id>/moderate", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
@one_shot
def moderate(bid_id: int):
    bid = _bid(bid_id)
    criteria = list(bid.round.criteria)
    form = moderation_form(criteria)
    submitted = [a for a in assessment.assignments_of(bid)
                 if a.status == AssessmentStatus.SUBMITTED]
    current = assessment.moderation_of(bid)
    if showing_saved():
        form.seen.data = assessment.moderation_stamp(current)
    if showing_saved() and current is not None:
        for item in current.scores:
            form[f"score-{item.criterion_id}"].data = str(item.score)
        form.rationale.data = current.rationale
    if form.validate_on_submit():
        scores: dict[int, int] = {}
        for criterion in criteria:
            raw = form[f"score-{criterion.id}"].data
            if raw not in (None, ""):
                number = whole_number(raw, digits=3)  # ASCII digits: not "５" or "1_0"
                scores[criterion.id] = -1 if number is None else number
        try:
            assessment.moderate(bid, scores, form.rationale.data, current_user,
                                seen=form.seen.data or "")
        except DomainError as refused:
            if not show_refusal(form, refused):
                return redirect(url_for("decisions.bid", bid_id=bid.id))
            # The scores typed stay on the page; saving again now is over what is saved.
            current = assessment.moderation_of(bid)
            form.seen.data = assessment.moderation_stamp(current)
        else:
            flash(_("Moderated scores saved."), "success")
            return redirect(url_for("decisions.bid", bid_id=bid.id))
    rows = assessment.side_by_side(bid, submitted, current)
    return render_template("decisions/moderate.html", bid=bid, form=form, rows=rows,
                           submitted=submitted, criteria=criteria)


@bp.route("/manage/bids/<int:bid_id>/ask", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
@one_shot
def ask(bid_id: int):
    bid = _bid(bid_id)
    form = AskForm()
    if form.validate_on_submit():
        try:
            bids.request_more_information(bid, form.question.data, current_user,
                                          respond_by=form.respond_by.data)
        except DomainError as refused:
            if not show_refusal(form, refused):
                return redirect(url_for("decisions.bid", bid_id=bid.id))
        else:
            flash(bilingual.sentence(_("Your question has been sent to %(csp)s."),
                                     csp=bilingual.marked(bid.organisation, "name")), "success")
            return redirect(url_for("decisions.bid", bid_id=bid.id))
    return render_template("decisions/ask.html", bid=bid, form=form,
                           open_request=bids.open_request(bid))


@bp.route("/manage/bids/<int:bid_id>/decide", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
@one_shot
def decide(bid_id: int):
    bid = _bid(bid_id)
    existing = decisions.decision_of(bid)
    if existing is not None:
        flash(_("This bid has already been decided."), "error")
        return redirect(url_for("decisions.bid", bid_id=bid.id))
    form = DecisionForm()
    form.plan_section.choices = alignment.award_choices(alignment.sections_for_decision(bid))
    if showing_saved():
        form.amount.data = bid.amount_requested_pence
        default = alignment.decision_default(bid)
        form.plan_section.data = default.id if default is not None else None
    if form.validate_on_submit():
        override = form.override_reason.data or ""
        try:
            if form.outcome.data == "approve":
                if form.amount.data is None:
                    raise DomainError(_("Enter the amount awarded"), field="amount")
                decisions.approve(bid, form.amount.data, purpose=form.purpose.data or "",
                                  conditions=form.conditions.data or "",
                                  reasons=form.reasons.data or "", override_reason=override,
                                  plan_section_id=form.plan_section.data, actor=current_user)
            else:
                decisions.decline(bid, feedback=form.feedback.data or "",
                                  override_reason=override, actor=current_user)
        except DomainError as refused:  # Conflict too: decided a moment ago by another
            if not show_refusal(form, refused):
                return redirect(url_for("decisions.bid", bid_id=bid.id))
        else:
            flash(bilingual.sentence(_("Decision recorded and %(csp)s told."),
                                     csp=bilingual.marked(bid.organisation, "name")), "success")
            return redirect(url_for("decisions.bid", bid_id=bid.id))
    return render_template("decisions/decide.html", bid=bid, form=form, round=bid.round,
                           readiness=decisions.readiness(bid),
                           open_request=bids.open_request(bid))


@bp.route("/manage/rounds/<int:round_id>/ranking")
@requires(Action.MANAGE_GRANTS)
def ranking(round_id: int):
    round_ = _round(round_id)
    return render_template("decisions/ranking.html", round=round_,
                           ranked=assessment.ranking(round_))


@bp.route("/manage/rounds/<int:round_id>/ranking.csv")
@requires(Action.MANAGE_GRANTS)
def ranking_csv(round_id: int):
    round_ = _round(round_id)
    ranked = assessment.ranking(round_)

    def yes_no(flag: bool) -> str:
        return "yes" if flag else "no"

    rows = ({"rank": position, "reference": item.bid.reference, "title": item.bid.title,
             "partnership": bilingual.text(item.bid, "partnership"), "score_basis_points": item.basis_points,
             "moderated": yes_no(item.moderated), "assessments": item.assessed,
             "requested_pence": item.bid.amount_requested_pence,
             "cumulative_pence": item.cumulative_pence,
             "within_remaining_budget": yes_no(item.fits),
             "assessments_needed_in": yes_no(item.readiness.met)}
            for position, item in enumerate(ranked, start=1))
    return csv_file(csv_chunks(RANKING, rows),
                    f"ranking-{round_.fund.code}-{round_.financial_year}.csv")


@bp.route("/manage/audit")
@requires(Action.MANAGE_GRANTS)
def audit_trail():
    form = AuditSearchForm(request.args)
    if not form.validate():
        return render_template("decisions/audit.html", form=form, page=None,
                               pagination=None), 400
    page = queries.audit_page(page_number(), user=form.user.data or "",
                              record_type=form.record_type.data or "",
                              record_id=form.record_id.data or "",
                              start=form.date_from.data, end=form.date_to.data)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("decisions/audit.html", form=form, page=page,
                           pagination=page.govuk_params("decisions.audit_trail", **args))


@bp.route("/manage/reminders")
@requires(Action.MANAGE_GRANTS)
def held_reminders():
    """Return reminders nobody could receive (issue 13): sent by a later run of the reminders
    once the partnership has an active officer again."""
    page = reminder_queries.held_page(page_number())
    return render_template("decisions/held_reminders.html", page=page,
                           pagination=page.govuk_params("decisions.held_reminders"))
