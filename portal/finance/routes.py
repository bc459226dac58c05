"""Finance: the returns queue, payments within the award, the check of a return,
repayments of underspend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import Field

from forms.finance import PaymentForm, RepaymentForm, ReturnCheckForm
from portal import presenters
from portal.access import requires
from portal.finance import bp
from portal.formatting import money
from portal.models import Award, AwardLine, AwardStatus, GrantReturn, ReturnStatus
from portal.models.bids import CostKind
from portal.models.funds import PaymentRule
from portal.oneshot import one_shot
from portal.pagination import page_number
from portal.queries import finance as queries
from portal.queries.finance import uk_today
from portal.refusals import Target, show_refusal
from portal.services import DomainError, audit, awards, rounds
from portal.services.policy import Action

ON_HOME = 10  # items of each short list on the home page; the rest are a click away
SHOWN = {ReturnStatus.SUBMITTED, ReturnStatus.QUERIED, ReturnStatus.APPROVED}
Item = TypeVar("Item")  # an award line or the check of one


def _shown(form: FlaskForm, refused: DomainError, fallback: Field,
           where: dict[str, Target] | None = None) -> bool:
    """A refusal naming a field is shown beside it (or beside ``fallback`` when the form has
    no such field): True. One naming none is flashed: False, and the view redirects."""
    if not refused.field:
        flash(refused.message, "error")
        return False
    return show_refusal(form, refused, where=where, default=fallback)


# --- home --------------------------------------------------------------------------------------


@bp.route("/finance/")
@requires(Action.HANDLE_MONEY)
def home():
    """Bounded whatever the data: a page of the queue; the first few returns awaited and
    repayments, with a link to the rest when there are more; this year's newest rounds (the
    dashboard has them all)."""
    queue = queries.returns_queue(page_number())
    due, more_due = queries.first_returns_awaited(ON_HOME)
    repayments, more_repayments = queries.first_repayments_awaited(ON_HOME)
    return render_template("finance/home.html", queue=queue, due=due, more_due=more_due,
                           repayments=repayments, more_repayments=more_repayments,
                           state_of=awards.return_state, today=uk_today(),
                           rounds=rounds.current_rounds(limit=ON_HOME),
                           round_state=rounds.state_of)


@bp.route("/finance/returns/due")
@requires(Action.HANDLE_MONEY)
def returns_due():
    page = queries.returns_awaited(page_number())
    return render_template("finance/returns_due.html", page=page, state_of=awards.return_state,
                           today=uk_today())


@bp.route("/finance/repayments")
@requires(Action.HANDLE_MONEY)
def repayments():
    page = queries.repayments_awaited(page_number())
    return render_template("finance/repayments.html", page=page)


@bp.route("/finance/awards/")
@requires(Action.HANDLE_MONEY)
def award_list():
    page = queries.awards(page_number())
    return render_template("finance/awards.html", page=page)


# --- one award: payments and repayments ----------------------------------------------------------


def _award(award_id: int) -> Award:
    return awards.award_with_everything(award_id) or abort(404)


def _nothing_payable(award: Award) -> str:
    """Why nothing can be paid on an active award now (``awards.payable_now`` is £0): the
    page says so instead of offering a payment the service would refuse."""
    if award.paid_pence >= award.amount_pence:
        return _("The award has been paid in full: nothing more can be paid.")
    if awards.final_return_approved(award):
        return _("The final return is approved and its eligible spend of %(eligible)s has been "
                 "paid: nothing more can be paid.", eligible=money(awards.eligible_spend(award)))
    if award.round.fund.payment_rule == PaymentRule.ARREARS:
        return _("Under this fund's rule payments follow approved returns: the spend approved "
                 "so far has been paid, so nothing can be paid until another return is "
                 "approved.")
    return _("Nothing can be paid now.")


def _award_page(award: Award, payment_form: PaymentForm, repayment_form: RepaymentForm,
                form: object | None = None) -> str:
    payable = awards.payable_now(award)
    return render_template(
        "finance/award.html", award=award, payment_form=payment_form,
        repayment_form=repayment_form, form=form, payable=payable,
        nothing_payable=_nothing_payable(award) if payable <= 0 else "",
        eligible=awards.eligible_spend(award), rule=award.round.fund.payment_rule,
        final_approved=awards.final_return_approved(award),
        state_of=awards.return_state, today=uk_today(),
        groups=_allocation_groups(award),
        figures=awards.year_figures(award) if awards.spans_years(award) else [],
        history=audit.history("award", award.id, ("return", [r.id for r in award.returns])))


@bp.route("/finance/awards/<int:award_id>")
@requires(Action.HANDLE_MONEY)
def award(award_id: int):
    award = _award(award_id)
    return _award_page(award, PaymentForm(formdata=None), RepaymentForm(formdata=None))


# Services are all or nothing (``@atomic``): a refusal, shown beside its field or as a
# message, leaves nothing behind. One-shot forms: the same post twice acts once.


@bp.route("/finance/awards/<int:award_id>/payments", methods=["POST"])
@requires(Action.HANDLE_MONEY)
@one_shot
def record_payment(award_id: int):
    award = _award(award_id)
    form = PaymentForm()
    if form.validate_on_submit():
        amount, paid_on = form.amount.data, form.paid_on.data
        assert amount is not None and paid_on is not None  # both Required: validated above
        try:
            payment = awards.record_payment(award, amount, paid_on, form.reference.data,
                                            current_user)
        except DomainError as refused:
            if not _shown(form, refused, form.amount):
                return redirect(url_for("finance.award", award_id=award.id))
        else:
            flash(_("Payment of %(amount)s recorded.", amount=money(payment.amount_pence)),
                  "success")
            return redirect(url_for("finance.award", award_id=award.id))
    return _award_page(award, form, RepaymentForm(formdata=None), form=form)


@bp.route("/finance/awards/<int:award_id>/repayments/<int:repayment_id>", methods=["POST"])
@requires(Action.HANDLE_MONEY)
@one_shot
def record_repayment(award_id: int, repayment_id: int):
    award = _award(award_id)
    repayment = next((r for r in award.repayments if r.id == repayment_id), None)
    if repayment is None:
        abort(404)
    form = RepaymentForm()
    if form.validate_on_submit():
        received_on = form.received_on.data
        assert received_on is not None  # Required: validated above
        try:
            awards.record_repayment(repayment, received_on, form.received_reference.data,
                                    current_user)
        except DomainError as refused:
            if not _shown(form, refused, form.received_reference,
                          where={"reference": form.received_reference}):
                return redirect(url_for("finance.award", award_id=award.id))
        else:
            flash(_("Repayment of %(amount)s recorded as received.",
                    amount=money(repayment.amount_pence)), "success")
            return redirect(url_for("finance.award", award_id=award.id))
    return _award_page(award, PaymentForm(formdata=None), form, form=form)


# --- the check of a return -----------------------------------------------------------------------


@dataclass
class KindGroup(Generic[Item]):
    """The lines of one kind (capital or revenue) with their totals, for display."""

    kind: CostKind
    rows: list[Item] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)

    def add(self, row: Item, **amounts: int) -> None:
        self.rows.append(row)
        for key, value in amounts.items():
            self.totals[key] = self.totals.get(key, 0) + value


def _groups(items: list[Item], amounts: Callable[[Item], dict[str, int]],
            kind_of: Callable[[Item], CostKind]) -> list[KindGroup[Item]]:
    groups: dict[CostKind, KindGroup[Item]] = {kind: KindGroup(kind) for kind in CostKind}
    for item in items:
        groups[kind_of(item)].add(item, **amounts(item))
    return [group for group in groups.values() if group.rows]


def _allocation_groups(award: Award) -> list[KindGroup[AwardLine]]:
    return _groups(list(award.lines),
                   lambda line: {"original": line.original_pence, "revised": line.revised_pence},
                   lambda line: line.kind)


def _check_groups(grant_return: GrantReturn) -> list[KindGroup[awards.LineCheck]]:
    return _groups(awards.line_checks(grant_return),
                   lambda c: {"allocation": c.allocation_pence,
                              "original": c.line.original_pence, "previous": c.previous_pence,
                              "this": c.this_pence, "to_date": c.to_date_pence,
                              "variance": c.variance_pence},
                   lambda c: c.line.kind)


def _return(return_id: int) -> GrantReturn:
    grant_return = queries.return_to_check(return_id)
    if grant_return is None:
        abort(404)
    awards.award_with_everything(grant_return.award_id)  # its lines and the other returns
    return grant_return


@bp.route("/finance/returns/<int:return_id>", methods=["GET", "POST"])
@requires(Action.HANDLE_MONEY)
@one_shot
def check_return(return_id: int):
    grant_return = _return(return_id)
    award = grant_return.award
    form = ReturnCheckForm()
    if form.validate_on_submit():
        approve = form.outcome.data == "approve"
        try:
            awards.review_return(grant_return, approve, form.comments.data or "",
                                 current_user)
        except DomainError as refused:
            if not _shown(form, refused, form.comments):
                return redirect(url_for("finance.check_return", return_id=grant_return.id))
        else:
            flash(_checked_message(award, approve), "success")
            return redirect(url_for("finance.check_return", return_id=grant_return.id))
    shown = grant_return.status in SHOWN
    return render_template(
        "finance/check_return.html", grant_return=grant_return, award=award, form=form,
        shown=shown, groups=_check_groups(grant_return) if shown else [],
        state=awards.return_state(grant_return, uk_today()),
        eligible=awards.eligible_spend(award),
        action_reports=awards.action_reports(grant_return) if shown else [],
        answer_sections=_answer_sections(grant_return) if shown else [])


def _answer_sections(grant_return: GrantReturn) -> list[tuple[str, list[dict[str, Any]]]]:
    """The return's answers to its fund's own questions, in the version it was answered on."""
    return presenters.return_answer_sections(awards.answered_questions(grant_return),
                                             dict(grant_return.answers or {}))


def _checked_message(award: Award, approved: bool) -> str:
    if not approved:
        return _("Return queried. The partnership has been told what to change.")
    if award.status != AwardStatus.CLOSED:
        return _("Return approved. The partnership has been told.")
    owed = queries.owed_pence(award.id)
    if owed:
        return _("Final return approved and the award closed: %(amount)s of underspend is to "
                 "be repaid.", amount=money(owed))
    return _("Final return approved and the award closed: no underspend to repay.")
