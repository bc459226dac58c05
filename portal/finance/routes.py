"""Finance: the returns queue, payments within the award, the check of a return,
repayments of underspend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.orm import selectinload
from wtforms import Field

from forms.finance import PaymentForm, RepaymentForm, ReturnCheckForm
from portal.access import requires
from portal.db import session, uk_today
from portal.finance import bp
from portal.formatting import money
from portal.models import (
    Award,
    AwardStatus,
    Bid,
    GrantReturn,
    Organisation,
    Repayment,
    RepaymentStatus,
    ReturnLine,
    ReturnOutcome,
    ReturnReview,
    ReturnStatus,
)
from portal.models.bids import CostKind
from portal.oneshot import one_shot
from portal.pagination import page_number, paginate
from portal.services import DomainError, audit, awards, rounds
from portal.services.policy import Action

ON_HOME = 10  # items of each short list on the home page; the rest are a click away
SHOWN = {ReturnStatus.SUBMITTED, ReturnStatus.QUERIED, ReturnStatus.APPROVED}


def refuse(form: FlaskForm, refused: DomainError, fallback: Field) -> bool:
    """Put the refusal beside the field it names; False if it names none."""
    if not refused.field:
        return False
    target = form._fields.get(refused.field) or fallback
    target.errors = [*target.errors, refused.message]
    return True


# --- home --------------------------------------------------------------------------------------


# The lists select only the columns they show: loading whole awards would drag in their bids,
# rounds and funds, long texts and all.
_AWARD_COLUMNS = (Award.id.label("award_id"), Bid.reference.label("reference"),
                  Organisation.name.label("partnership"))


def _with_award(statement, award_id=GrantReturn.award_id):  # type: ignore[no-untyped-def]
    """``statement`` joined to the award (by ``award_id``), its bid and its partnership."""
    return (statement.join(Award, Award.id == award_id)
            .join(Bid, Bid.id == Award.bid_id)
            .join(Organisation, Organisation.id == Award.organisation_id))


def _return_columns() -> tuple:
    return (GrantReturn.id, GrantReturn.kind, GrantReturn.period_start, GrantReturn.period_end,
            GrantReturn.due_date, GrantReturn.status, GrantReturn.submitted_at, *_AWARD_COLUMNS)


def _queue():  # type: ignore[no-untyped-def]
    """Submitted returns waiting to be checked, oldest first, with the spend they report."""
    spend = (select(cast(func.coalesce(func.sum(ReturnLine.spend_pence), 0), BigInteger))
             .where(ReturnLine.return_id == GrantReturn.id).scalar_subquery())
    return (_with_award(select(*_return_columns(), spend.label("spend_pence")))
            .where(GrantReturn.status == ReturnStatus.SUBMITTED)
            .order_by(GrantReturn.submitted_at, GrantReturn.id))


def _open_returns():  # type: ignore[no-untyped-def]
    """Returns still awaited from partnerships on open awards, soonest first."""
    return (_with_award(select(*_return_columns()))
            .where(Award.status == AwardStatus.ACTIVE,
                   GrantReturn.status.in_(awards.OPEN_RETURN))
            .order_by(GrantReturn.due_date, GrantReturn.id))


def _repayments_awaited():  # type: ignore[no-untyped-def]
    """Underspend still to be repaid, oldest request first."""
    return (_with_award(select(Repayment.id, Repayment.amount_pence, Repayment.requested_at,
                               *_AWARD_COLUMNS), Repayment.award_id)
            .where(Repayment.received_on.is_(None))
            .order_by(Repayment.requested_at, Repayment.id))


def _first(statement) -> tuple[list, bool]:  # type: ignore[no-untyped-def]
    """The first ON_HOME rows of ``statement``, and whether there are more."""
    rows = list(session.execute(statement.limit(ON_HOME + 1)))
    return rows[:ON_HOME], len(rows) > ON_HOME


@bp.route("/finance/")
@requires(Action.HANDLE_MONEY)
def home():
    """Bounded whatever the data: a page of the queue; the first few returns awaited and
    repayments, with a link to the rest when there are more; this year's newest rounds (the
    dashboard has them all)."""
    submitted = (select(func.count()).select_from(GrantReturn)
                 .where(GrantReturn.status == ReturnStatus.SUBMITTED))
    queue = paginate(_queue(), page_number(), rows=True, count=submitted)
    due, more_due = _first(_open_returns())
    repayments, more_repayments = _first(_repayments_awaited())
    return render_template("finance/home.html", queue=queue, due=due, more_due=more_due,
                           repayments=repayments, more_repayments=more_repayments,
                           state_of=awards.return_state, today=uk_today(),
                           rounds=rounds.current_rounds(limit=ON_HOME),
                           round_state=rounds.state_of)


@bp.route("/finance/returns/due")
@requires(Action.HANDLE_MONEY)
def returns_due():
    page = paginate(_open_returns(), page_number(), rows=True)
    return render_template("finance/returns_due.html", page=page, state_of=awards.return_state,
                           today=uk_today())


@bp.route("/finance/repayments")
@requires(Action.HANDLE_MONEY)
def repayments():
    page = paginate(_repayments_awaited(), page_number(), rows=True)
    return render_template("finance/repayments.html", page=page)


@bp.route("/finance/awards/")
@requires(Action.HANDLE_MONEY)
def award_list():
    page = paginate(select(Award).order_by(Award.offered_at.desc(), Award.id.desc()),
                    page_number())
    return render_template("finance/awards.html", page=page)


# --- one award: payments and repayments ----------------------------------------------------------


def _award(award_id: int) -> Award:
    return awards.award_with_everything(award_id) or abort(404)


def _award_page(award: Award, payment_form: PaymentForm, repayment_form: RepaymentForm,
                form: object | None = None) -> str:
    return render_template(
        "finance/award.html", award=award, payment_form=payment_form,
        repayment_form=repayment_form, form=form, payable=awards.payable_now(award),
        eligible=awards.eligible_spend(award), rule=award.round.fund.payment_rule,
        state_of=awards.return_state, today=uk_today(),
        groups=_allocation_groups(award),
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
        try:
            payment = awards.record_payment(award, form.amount.data, form.paid_on.data,
                                            form.reference.data, current_user)
        except DomainError as refused:
            if not refuse(form, refused, form.amount):
                flash(refused.message, "error")
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
        try:
            awards.record_repayment(repayment, form.received_on.data,
                                    form.received_reference.data, current_user)
        except DomainError as refused:
            if refused.field == "reference":
                refused.field = "received_reference"
            if not refuse(form, refused, form.received_reference):
                flash(refused.message, "error")
                return redirect(url_for("finance.award", award_id=award.id))
        else:
            flash(_("Repayment of %(amount)s recorded as received.",
                    amount=money(repayment.amount_pence)), "success")
            return redirect(url_for("finance.award", award_id=award.id))
    return _award_page(award, PaymentForm(formdata=None), form, form=form)


# --- the check of a return -----------------------------------------------------------------------


@dataclass
class KindGroup:
    """The lines of one kind (capital or revenue) with their totals, for display."""

    kind: CostKind
    rows: list = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)

    def add(self, row: object, **amounts: int) -> None:
        self.rows.append(row)
        for key, value in amounts.items():
            self.totals[key] = self.totals.get(key, 0) + value


def _groups(items: list, amounts: Callable[[object], dict[str, int]],
            kind_of: Callable[[object], CostKind]) -> list[KindGroup]:
    groups = {kind: KindGroup(kind) for kind in CostKind}
    for item in items:
        groups[kind_of(item)].add(item, **amounts(item))
    return [group for group in groups.values() if group.rows]


def _allocation_groups(award: Award) -> list[KindGroup]:
    return _groups(list(award.lines),
                   lambda line: {"original": line.original_pence, "revised": line.revised_pence},
                   lambda line: line.kind)


def _check_groups(grant_return: GrantReturn) -> list[KindGroup]:
    return _groups(awards.line_checks(grant_return),
                   lambda c: {"allocation": c.line.revised_pence,
                              "original": c.line.original_pence, "previous": c.previous_pence,
                              "this": c.this_pence, "to_date": c.to_date_pence,
                              "variance": c.variance_pence},
                   lambda c: c.line.kind)


def _return(return_id: int) -> GrantReturn:
    grant_return = session.scalar(
        select(GrantReturn).where(GrantReturn.id == return_id)
        .options(selectinload(GrantReturn.outcomes).joinedload(ReturnOutcome.measure),
                 selectinload(GrantReturn.reviews).joinedload(ReturnReview.by)))
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
            if not refuse(form, refused, form.comments):
                flash(refused.message, "error")
                return redirect(url_for("finance.check_return", return_id=grant_return.id))
        else:
            flash(_checked_message(award, approve), "success")
            return redirect(url_for("finance.check_return", return_id=grant_return.id))
    shown = grant_return.status in SHOWN
    return render_template(
        "finance/check_return.html", grant_return=grant_return, award=award, form=form,
        shown=shown, groups=_check_groups(grant_return) if shown else [],
        state=awards.return_state(grant_return, uk_today()),
        eligible=awards.eligible_spend(award))


def _checked_message(award: Award, approved: bool) -> str:
    if not approved:
        return _("Return queried. The partnership has been told what to change.")
    if award.status != AwardStatus.CLOSED:
        return _("Return approved. The partnership has been told.")
    owed = sum(r.amount_pence for r in award.repayments
               if r.status == RepaymentStatus.AWAITED)
    if owed:
        return _("Final return approved and the award closed: %(amount)s of underspend is to "
                 "be repaid.", amount=money(owed))
    return _("Final return approved and the award closed: no underspend to repay.")
