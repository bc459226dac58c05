"""CSP officers: rounds open to them, their partnership's bids, the task list, submission."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import Field

from forms.applicant import (
    AnswerForm,
    BidSearchForm,
    EvidenceForm,
    RemoveEvidenceForm,
    StartBidForm,
    SubmitBidForm,
    WithdrawForm,
)
from forms.sections import QuestionsForm, section_form
from portal import presenters, questions
from portal.access import requires
from portal.applicant import bp
from portal.downloads import attachment
from portal.formatting import short_name
from portal.inputs import whole_number
from portal.models import Bid, BidStatus, Round, year_label
from portal.oneshot import one_shot
from portal.pagination import page_number
from portal.queries import applicant as queries
from portal.refusals import show_refusal
from portal.security import showing_saved
from portal.services import DomainError, audit, bids, decisions, evidence, rounds
from portal.services.policy import Action


def _own_bid(bid_id: int) -> Bid:
    bid = bids.bid_for_organisation(bid_id, current_user.organisation_id)
    if bid is None:
        abort(404)
    return bid


def _round_open_to_me(round_id: int) -> Round:
    round_ = queries.round_open_to(round_id, current_user.organisation.type.value)
    if round_ is None:
        abort(404)
    return round_


@bp.route("/bids/")
@requires(Action.APPLY)
def home():
    form = BidSearchForm(request.args)
    form.status.choices = [("", _("All statuses"))] + [
        (status.value, bids.status_label(status)) for status in BidStatus]
    valid = form.validate()
    # A search that cannot be understood shows the form with its errors beside the fields and
    # the bids unfiltered (issue 13), never a bare 400 page that loses what was typed.
    query = (form.q.data or "").strip() if valid else ""
    status = (form.status.data or "") if valid else ""
    page = queries.bids_page(current_user.organisation_id, page_number(), query, status)
    filtered = bool(query or status)
    return render_template("applicant/home.html", form=form, page=page, filtered=filtered,
                           status_label=bids.status_label,
                           pagination=page.govuk_params("applicant.home", q=query or None,
                                                        status=status or None)), \
        200 if valid else 400


@bp.route("/rounds/")
@requires(Action.APPLY)
def rounds_list():
    available = rounds.current_rounds(current_user.organisation.type.value)
    return render_template("applicant/rounds.html", rounds=available, state_of=rounds.state_of)


@bp.route("/rounds/<int:round_id>")
@requires(Action.APPLY)
def round_detail(round_id: int):
    round_ = _round_open_to_me(round_id)
    form = StartBidForm(token=bids.new_creation_token())
    return render_template("applicant/round.html", round=round_, form=form,
                           state=rounds.state_of(round_))


@bp.route("/rounds/<int:round_id>/start", methods=["POST"])
@requires(Action.APPLY)
def start_bid(round_id: int):
    round_ = _round_open_to_me(round_id)
    form = StartBidForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        bid = bids.start_bid(round_, current_user, form.token.data or "")
    except DomainError as refused:
        flash(refused.message, "error")
        return redirect(url_for("applicant.round_detail", round_id=round_.id))
    return redirect(url_for("applicant.bid", bid_id=bid.id))


@bp.route("/bids/<int:bid_id>")
@requires(Action.APPLY)
def bid(bid_id: int):
    bid = _own_bid(bid_id)
    draft = bid.status == BidStatus.DRAFT  # a draft shows its sections; a bid sent, its outcome
    return render_template("applicant/bid.html", bid=bid, sections=bids.sections_for(bid),
                           statuses=bids.section_statuses(bid) if draft else {},
                           history=audit.history("bid", bid.id),
                           open_request=None if draft else bids.open_request(bid),
                           decision=None if draft else decisions.decision_of(bid),
                           status_label=bids.status_label,
                           round_state=rounds.state_of(bid.round))


@bp.route("/bids/<int:bid_id>/sections/<key>", methods=["GET", "POST"])
@requires(Action.APPLY)
def section(bid_id: int, key: str):
    bid = _own_bid(bid_id)
    spec = bids.section_named(bid, key)
    if spec is None:
        abort(404)
    if bid.status != BidStatus.DRAFT:
        return redirect(url_for("applicant.check_answers", bid_id=bid.id))
    saved = bid.section(key)
    every = bids.visible_answers(bid)
    form = _section_form(spec, bid, every)
    conflict = None
    if request.method == "POST" and _forged(form):
        if not _stale(saved, bid):
            abort(400)  # a name no question of the section has: refused, nothing changes
        # A page of the form as it was before the OPCC published a new version: nothing is
        # saved, and what was typed is shown beside the section as it is now (issue 15).
        conflict = _form_changed(form, spec, saved, bid, every)
        return render_template("applicant/section.html", bid=bid, form=conflict["form"],
                               section=spec, conflict=conflict)
    if showing_saved():
        if saved is not None:
            form.load(saved.answers)
            form.completed.data = "yes" if saved.status == "completed" else "no"
        form.version.data = str(saved.version if saved else 0)
    elif form.validate_on_submit():
        expected = whole_number(form.version.data or "0")
        if expected is None or expected >= 2**31:  # a version no section can have: a forged form
            abort(400)
        uploads = {name: bids.Upload(upload.filename or "file", upload.stream)
                   for name, upload in form.uploads().items()}
        try:
            bids.save_section(bid, key, form.answers(), completed=form.is_completing(),
                              expected_version=expected or None, actor=current_user,
                              uploads=uploads)
        except bids.UnknownAnswers:
            abort(400)
        except bids.SectionConflict as clash:
            conflict = _conflict(form, spec, clash, bid, every)
            form = conflict["form"]
        except DomainError as refused:
            _show_refusal(form, refused)
        else:
            flash(_("“%(section)s” saved.", section=spec.words("title")), "success")
            return redirect(url_for("applicant.bid", bid_id=bid.id))
    return render_template("applicant/section.html", bid=bid, form=form, section=spec,
                           conflict=conflict)


def _section_form(spec: questions.Section, bid: Bid, every: dict[str, Any],
                  **kwargs: Any) -> QuestionsForm:
    """A section's form; the budget's with its round's financial years (issue 14: a round
    over several years has an amount per year on each line)."""
    form = section_form(spec, years=[(year, year_label(year))
                                     for year in bid.round.financial_years],
                        every=every, **kwargs)
    form.file_names = {item.id: item.original_name for item in bid.evidence} \
        if form.multipart() else {}
    return form


def _forged(form: QuestionsForm) -> bool:
    """Whether the post names a field the section's form does not have."""
    allowed = form.allowed_names()
    files = {name for name, bound in form._fields.items()
             if getattr(bound, "type", "") == "FileField"}
    return any(name not in allowed for name in request.form) or any(
        name not in files for name in request.files)


def _stale(saved: Any, bid: Bid) -> bool:
    """Whether the post may come from a page of an older version of the section: the version
    it carries is not the one saved now, or the section was never saved and the bid has
    moved to a newer version of its form since it started (publishing renews only the
    sections that were saved)."""
    posted = whole_number(request.form.get("version") or "0")
    if saved is not None:
        return posted != saved.version
    return posted == 0 and bid.form_version is not None and bid.form_version.number > 1


def _form_changed(mine: QuestionsForm, spec: questions.Section, saved: Any, bid: Bid,
                  every: dict[str, Any]) -> dict[str, Any]:
    """The section as saved now, with what this user typed listed beside it, unsaved: the
    answers to questions still asked, and the words typed for questions no longer asked."""
    newer = _section_form(spec, bid, every, formdata=None)
    if saved is not None:
        newer.load(saved.answers)
        newer.completed.data = "yes" if saved.status == "completed" else "no"
    newer.version.data = str(saved.version if saved is not None else 0)
    allowed = mine.allowed_names()
    gone = [{"key": {"text": _("A question no longer asked")},
             "value": {"text": "; ".join(value for value in request.form.getlist(name)
                                         if value.strip())}}
            for name in dict.fromkeys(request.form) if name not in allowed
            and any(value.strip() for value in request.form.getlist(name))]
    return {"form": newer, "mine": presenters.answer_rows(spec, mine.answers(), every) + gone,
            "by": None, "at": None, "form_changed": True}


def _conflict(mine: QuestionsForm, spec: questions.Section, clash: bids.SectionConflict,
              bid: Bid, every: dict[str, Any]) -> dict[str, Any]:
    """Show the newer saved version; keep what this user typed beside it, unsaved."""
    newer = _section_form(spec, bid, every, formdata=None)
    newer.load(clash.current.answers)
    newer.completed.data = "yes" if clash.current.status == "completed" else "no"
    newer.version.data = str(clash.current.version)
    return {"form": newer, "mine": presenters.answer_rows(spec, mine.answers(), every),
            "by": clash.current.updated_by, "at": clash.current.updated_at}


def _first_amount(form: Any) -> Field | None:
    """Where a refusal about the budget as a whole (``rows``) goes: the first amount (its
    first year's, in a round over several years); the first field of a list of other rows."""
    rows = getattr(form, "rows", None)
    if rows is None or not rows.entries:
        return None
    first = rows.entries[0].form
    if not hasattr(first, "amount"):
        return form.answer_field("rows")
    return first.year_0 if getattr(first, "year_count", 0) else first.amount


def _show_refusal(form: QuestionsForm, refused: DomainError) -> None:
    """A section's refusal beside the field it names (``rows``: the first budget amount);
    one naming no field of the section goes beside "Have you completed this section?"."""
    show_refusal(form, refused, where={"rows": _first_amount,
                                       "match_funding_pence": lambda f: f.match_funding},
                 default="completed")


@bp.route("/bids/<int:bid_id>/evidence", methods=["GET", "POST"])
@requires(Action.APPLY)
@one_shot
def evidence_files(bid_id: int):
    bid = _own_bid(bid_id)
    form = EvidenceForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            added = evidence.add(bid, upload.filename or "file", upload.stream,
                                 form.description.data or "", current_user)
        except DomainError as refused:
            show_refusal(form, refused, default="file")
        else:
            # The name as stored (cleaned by the service), shortened for the sentence.
            flash(_("“%(name)s” uploaded.", name=short_name(added.original_name)), "success")
            return redirect(url_for("applicant.evidence_files", bid_id=bid.id))
    # One Remove form for each file, each with its own one-time token: a double click on
    # one acts once, and removing another file from the same page is another intent.
    return render_template("applicant/evidence.html", bid=bid, form=form,
                           remove_forms={item.id: RemoveEvidenceForm(formdata=None)
                                         for item in bid.evidence},
                           limit_mb=evidence.max_upload_bytes() // (1024 * 1024),
                           most=evidence.most_per_bid())


@bp.route("/bids/<int:bid_id>/evidence/<int:evidence_id>/remove", methods=["POST"])
@requires(Action.APPLY)
@one_shot
def remove_evidence(bid_id: int, evidence_id: int):
    bid = _own_bid(bid_id)
    if not RemoveEvidenceForm().validate_on_submit():
        abort(400)
    answering = bids.question_answered_by(bid, evidence_id)
    if answering is not None and bid.status == BidStatus.DRAFT:
        flash(_("This file answers “%(question)s”: upload another file there to replace it.",
                question=answering), "error")
        return redirect(url_for("applicant.evidence_files", bid_id=bid.id))
    if bid.status != BidStatus.DRAFT or all(item.id != evidence_id for item in bid.evidence):
        abort(404)  # a submitted bid's files, and ids not of this bid, are not removable here
    try:
        evidence.remove(bid, evidence_id, current_user)
    except DomainError as refused:
        # Raced (submitted or removed meanwhile), or a form without a valid one-time token
        # (``workflow.atomic``'s dry run): the evidence page says why nothing was done.
        flash(refused.message, "error")
    else:
        flash(_("File removed."), "success")
    return redirect(url_for("applicant.evidence_files", bid_id=bid.id))


@bp.route("/bids/<int:bid_id>/evidence/<int:evidence_id>")
@requires(Action.APPLY)
def download_evidence(bid_id: int, evidence_id: int):
    return attachment(_own_bid(bid_id).evidence, evidence_id, evidence.stored_name)


@bp.route("/bids/<int:bid_id>/check-answers")
@requires(Action.APPLY)
def check_answers(bid_id: int):
    bid = _own_bid(bid_id)
    return render_template("applicant/check_answers.html", bid=bid,
                           sections=bids.sections_for(bid),
                           statuses=bids.section_statuses(bid),
                           missing=bids.incomplete_sections(bid), form=SubmitBidForm(),
                           round_state=rounds.state_of(bid.round),
                           status_label=bids.status_label,
                           summary_rows=presenters.summary_rows)


@bp.route("/bids/<int:bid_id>/submit", methods=["POST"])
@requires(Action.APPLY)
@one_shot
def submit(bid_id: int):
    bid = _own_bid(bid_id)
    if not SubmitBidForm().validate_on_submit():
        abort(400)
    if bid.status != BidStatus.DRAFT and bid.reference:
        return redirect(url_for("applicant.submitted", bid_id=bid.id))  # another tab's click
    try:
        bids.submit(bid, current_user)
    except DomainError as refused:
        flash(refused.message, "error")
        return redirect(url_for("applicant.check_answers", bid_id=bid.id))
    return redirect(url_for("applicant.submitted", bid_id=bid.id))


@bp.route("/bids/<int:bid_id>/submitted")
@requires(Action.APPLY)
def submitted(bid_id: int):
    bid = _own_bid(bid_id)
    if bid.reference is None:
        return redirect(url_for("applicant.bid", bid_id=bid.id))
    return render_template("applicant/submitted.html", bid=bid)


@bp.route("/bids/<int:bid_id>/withdraw", methods=["GET", "POST"])
@requires(Action.APPLY)
@one_shot
def withdraw(bid_id: int):
    bid = _own_bid(bid_id)
    if bid.status not in bids.WITHDRAWABLE:
        flash(_("This bid can no longer be withdrawn."), "error")
        return redirect(url_for("applicant.bid", bid_id=bid.id))
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            bids.withdraw(bid, form.reason.data, current_user)
        except DomainError as refused:
            show_refusal(form, refused, default="reason")
        else:
            flash(_("Bid %(reference)s withdrawn.", reference=bid.reference), "success")
            return redirect(url_for("applicant.bid", bid_id=bid.id))
    return render_template("applicant/withdraw.html", bid=bid, form=form)


@bp.route("/bids/<int:bid_id>/answer", methods=["GET", "POST"])
@requires(Action.APPLY)
@one_shot
def answer(bid_id: int):
    bid = _own_bid(bid_id)
    question = bids.open_request(bid)
    if question is None or bid.status != BidStatus.MORE_INFORMATION_REQUESTED:
        flash(_("There is no open question on this bid."), "error")
        return redirect(url_for("applicant.bid", bid_id=bid.id))
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            bids.answer_request(bid, question.id, form.answer.data, current_user)
        except DomainError as refused:
            show_refusal(form, refused, default="answer")
        else:
            flash(_("Your answer has been sent to the OPCC."), "success")
            return redirect(url_for("applicant.bid", bid_id=bid.id))
    return render_template("applicant/answer.html", bid=bid, form=form, question=question)
