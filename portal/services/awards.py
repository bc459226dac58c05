"""After the award: offers and acceptance, payments, the return schedule, returns and
their check by finance, variations, closing and repayment of underspend.

Totals always reconcile: a return's total is the sum of its lines; paid never exceeds
the award (a guarded UPDATE with a CHECK constraint behind it); underspend is paid
minus eligible spend, where eligible spend on a line is capped at its allocation (an
overspend is met by the recipient, not by the grant).

Every status change goes through its workflow (``portal.workflows``: AWARD, RETURN,
REPAYMENT, VARIATION) with one guarded write, and everything that follows it (lines,
money, email) happens only if that write won. Every public function that changes state is
``@atomic``: a refusal leaves nothing behind. A payment's reference is recorded once per
award (checked first, with a unique key behind the check for two posted at once).
"""

from __future__ import annotations

import calendar
import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol, cast

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal import questions
from portal.db import UK, session, uk_today, utcnow
from portal.formatting import long_date, money
from portal.models import (
    Award,
    AwardAction,
    AwardLine,
    AwardStatus,
    Bid,
    Decision,
    FormVersion,
    GrantReturn,
    Payment,
    Rag,
    Repayment,
    RepaymentStatus,
    ReturnAction,
    ReturnKind,
    ReturnLine,
    ReturnOutcome,
    ReturnReview,
    ReturnStatus,
    User,
)
from portal.models.awards import return_overdue
from portal.models.funds import PaymentRule, ReturnCadence
from portal.services import DomainError, audit, form_versions, policy, years
from portal.services.policy import Action
from portal.services.rounds import financial_year_of
from portal.services.workflow import Conflict, atomic, move, tell
from portal.workflows import AWARD, REPAYMENT, RETURN

CADENCE_MONTHS = {ReturnCadence.SIX_MONTHLY: 6, ReturnCadence.QUARTERLY: 3,
                  ReturnCadence.ANNUAL: 12}
OPEN_RETURN = {ReturnStatus.DUE, ReturnStatus.DRAFT, ReturnStatus.QUERIED}


class ReturnLock(enum.StrEnum):
    """Why the partnership can no longer change a return."""

    AWARD_CLOSED = "award_closed"
    NOT_ACCEPTED = "not_accepted"  # the offer is not accepted yet
    SENT = "sent"  # submitted to finance, or approved


_LOCK_REFUSALS = {
    ReturnLock.AWARD_CLOSED: _l("This award is closed: no more returns can be filed."),
    ReturnLock.NOT_ACCEPTED: _l("Accept the offer before filing returns."),
    ReturnLock.SENT: _l("This return has been submitted and cannot be changed now."),
}


# --- dates -----------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months (the month's last day if it is shorter)."""
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def return_schedule(start: date, end: date, cadence: ReturnCadence, final_weeks: int,
                    not_before: date | None = None) -> list[tuple[ReturnKind, date, date, date]]:
    """(kind, period start, period end, due date) for a project running ``start``..``end``,
    soonest due first: periods within the project's dates, one after another, from its start
    to its end.

    Periods follow the financial year from 1 April (six-monthly: April-September due
    31 October, October-March due 30 April: the published PCC grant agreement in the domain
    brief, "Financial returns"); a period is reported by a periodic return only if it ends
    before the project does. The final return covers what is left and is due
    ``final_weeks`` after the project ends.

    No return falls due before ``not_before`` (the day the offer is accepted plus the grace
    period, :func:`earliest_due`): a return that would is merged into the next one, so the
    first return due covers from the start of the project; a final return that would is due
    on ``not_before`` (issue 13: an offer accepted on 30 November must not have a return
    already overdue for the period to 30 September). A project over several financial years
    never has a return across the end of a financial year (issue 14: each year's spend is set
    against that year's money): a period ending on 31 March is reported on its own, due on
    ``not_before`` if it would have been due before.
    """
    schedule = []
    months = CADENCE_MONTHS.get(cadence)
    several_years = financial_year_of(start) != financial_year_of(end)
    if months is None and several_years:
        # A project over several financial years reports at least once a year, so that its
        # spend can be put against each year's money (issue 14).
        months = CADENCE_MONTHS[ReturnCadence.ANNUAL]
    covered_until = start - timedelta(days=1)
    if months:
        anchor = date(start.year if start.month >= 4 else start.year - 1, 4, 1)
        period_start = anchor
        while period_start <= end:
            period_end = add_months(period_start, months) - timedelta(days=1)
            if period_end >= end:
                break
            due = _month_end(add_months(period_end.replace(day=1), 1))
            year_ends = several_years and (period_end.month, period_end.day) == (3, 31)
            if period_end >= start and (not_before is None or due >= not_before or year_ends):
                if not_before is not None:
                    due = max(due, not_before)
                schedule.append((ReturnKind.PERIODIC, covered_until + timedelta(days=1),
                                 period_end, due))
                covered_until = period_end
            period_start = period_end + timedelta(days=1)
    final_due = end + timedelta(weeks=final_weeks)
    if not_before is not None:
        final_due = max(final_due, not_before)
    schedule.append((ReturnKind.FINAL, covered_until + timedelta(days=1), end, final_due))
    return schedule


def earliest_due(accepted_on: date) -> date:
    """The first day a return may fall due for an offer accepted on ``accepted_on`` (a UK
    date): ``RETURN_GRACE_DAYS`` (a setting, default 30) later."""
    return accepted_on + timedelta(days=int(current_app.config["RETURN_GRACE_DAYS"]))


def _schedule_for(award: Award, accepted_on: date) -> list[tuple[ReturnKind, date, date, date]]:
    round_ = award.round
    return return_schedule(award.start_date, award.end_date, round_.return_cadence,
                           round_.fund.final_return_weeks, earliest_due(accepted_on))


def _reschedule(award: Award, wanted: list[tuple[ReturnKind, date, date, date]]) -> None:
    """Make the award's returns the schedule ``wanted`` (:func:`return_schedule`), in place:
    a return whose period still ends on the same day (and is of the same kind) keeps its row
    and id and takes its new start and due date; the rest go (flushed first, so the unique
    (award, period start, kind) key never sees two at once) and new ones are added. Only
    before any return is filed: at acceptance, every return is still due."""
    current = {(r.kind, r.period_end): r for r in award.returns}
    keep = {(kind, last) for kind, _first, last, _due in wanted}
    for key, row in current.items():
        if key not in keep:
            award.returns.remove(row)
    session.flush()
    for kind, first, last, due in wanted:
        kept = current.get((kind, last))
        if kept is None:
            award.returns.append(GrantReturn(kind=kind, period_start=first, period_end=last,
                                             due_date=due, status=ReturnStatus.DUE))
        else:
            kept.period_start, kept.due_date = first, due
    session.flush()


# --- offers and acceptance -------------------------------------------------------------------


def scaled_lines(bid: Bid, amount: int) -> list[AwardLine]:
    """The bid's lines as approved lines of an award of ``amount`` pence: a part award shares
    the amount among the lines in proportion (:func:`portal.services.years.share`: none gets
    more than it asked for), and each line's amounts per financial year with it; the lines
    add up to ``amount`` exactly."""
    asked = {index: line.amount_pence for index, line in enumerate(bid.budget_lines)}
    shares = years.share(asked, amount, bid.amount_requested_pence or 1)
    lines = [AwardLine(position=line.position, item=line.item, kind=line.kind,
                       original_pence=shares[index], revised_pence=shares[index])
             for index, line in enumerate(bid.budget_lines)]
    if lines:  # lines that do not add up to what was asked: the last takes the difference
        lines[-1].original_pence += amount - sum(line.original_pence for line in lines)
        lines[-1].revised_pence = lines[-1].original_pence
    for approved, line in zip(lines, bid.budget_lines, strict=True):
        amounts = years.by_year(line.year_amounts) or {bid.round.financial_year: 1}
        split = years.scale(amounts, approved.original_pence, sum(amounts.values()))
        approved.original_years = years.as_json(split)
        approved.revised_years = years.as_json(split)
    return lines


@atomic
def create_offer(bid: Bid, decision: Decision, actor: User) -> Award:
    """The offer made by ``decision`` (at its moment), with the approved lines and the return
    schedule as it would be were the offer accepted the day it is made; acceptance makes the
    schedule again from the day it is accepted (:func:`accept`)."""
    start = bid.start_date or decision.decision_date
    end = bid.end_date or date(bid.round.financial_year + 1, 3, 31)
    offered_at = decision.decided_at or utcnow()
    award = Award(bid_id=bid.id, decision_id=decision.id, round_id=bid.round_id,
                  organisation_id=bid.organisation_id, status=AwardStatus.OFFERED,
                  amount_pence=decision.amount_pence, paid_pence=0, start_date=start,
                  end_date=end, offered_at=offered_at,
                  letter_language=bid.organisation.language)
    award.lines = scaled_lines(bid, decision.amount_pence)
    award.payment_plan = years.as_json(year_totals(award.lines))
    award.returns = [GrantReturn(kind=kind, period_start=first, period_end=last, due_date=due,
                                 status=ReturnStatus.DUE)
                     for kind, first, last, due in return_schedule(
                         start, end, bid.round.return_cadence, bid.round.fund.final_return_weeks,
                         earliest_due(offered_at.astimezone(UK).date()))]
    session.add(award)
    session.flush()
    audit.record("award.offered", "award", award.id, actor=actor,
                 after={"bid": bid.reference, "amount": award.amount_pence,
                        "returns": [r.due_date.isoformat() for r in award.returns]})
    return award


def year_totals(lines: list[AwardLine], *, revised: bool = False) -> dict[int, int]:
    """The lines' amounts per financial year added up (pence by starting year): the original
    allocation, or the revised one."""
    totals: dict[int, int] = {}
    for line in lines:
        for year, pence in years.by_year(line.revised_years if revised
                                          else line.original_years).items():
            totals[year] = totals.get(year, 0) + pence
    return totals


def award_of_bid(bid_id: int) -> Award | None:
    """The award made on a bid (competitive or direct), if one was."""
    return session.scalar(select(Award).where(Award.bid_id == bid_id))


def award_for_organisation(award_id: int, organisation_id: int) -> Award | None:
    return session.scalar(select(Award).where(Award.id == award_id,
                                              Award.organisation_id == organisation_id))


def lock_award(award: Award, *, with_returns: bool = False) -> None:
    """Hold the award's row until the request ends (PostgreSQL; SQLite's writers queue
    anyway) and read it again (with its lines, and its returns when asked): checks then see
    what writers before this one committed.

    Take it before the service's first write: the audit's lock, taken by the first write,
    must never be held while waiting for a row another writer holds."""
    session.execute(select(Award.id).where(Award.id == award.id).with_for_update())
    session.refresh(award, ["status", "paid_pence", "end_date"])
    session.scalars(select(AwardLine).where(AwardLine.award_id == award.id)
                    .execution_options(populate_existing=True)).all()
    session.refresh(award, ["lines"])
    if with_returns:
        session.scalars(select(GrantReturn).where(GrantReturn.award_id == award.id)
                        .options(selectinload(GrantReturn.lines))
                        .execution_options(populate_existing=True)).all()


@atomic
def accept(award: Award, name: str, role: str, confirmed: bool, actor: User,
           now: datetime | None = None) -> None:
    """The partnership accepts the offer at ``now`` (default: this moment): one guarded write
    from offered to active; the return schedule is made again from the day of acceptance (no
    return due within ``RETURN_GRACE_DAYS`` of it: :func:`return_schedule`); the partnership,
    the managers and finance are told. Raises DomainError or ``Conflict``."""
    if award.status != AwardStatus.OFFERED:
        raise DomainError(_("This offer has already been accepted."))
    policy.require(actor, Action.ACT_FOR_PARTNERSHIP, award,
                   otherwise=_("Only the partnership's officers can accept this offer."))
    if not name.strip():
        raise DomainError(_("Enter your full name"), field="name")
    if not role.strip():
        raise DomainError(_("Enter your role"), field="role")
    if not confirmed:
        raise DomainError(_("Confirm that the partnership accepts the terms and conditions"),
                          field="confirm")
    name, role = name.strip(), role.strip()
    now = now or utcnow()
    schedule = _schedule_for(award, now.astimezone(UK).date())
    transition = move(AWARD, "accept", award, actor,
                      values={"accepted_at": now, "accepted_by_id": actor.id,
                              "accepted_name": name, "accepted_role": role},
                      after={"name": name, "role": role,
                             "returns": [due.isoformat() for *_period, due in schedule]})
    _reschedule(award, schedule)
    tell(transition, _l("Offer for %(reference)s accepted", reference=award.bid.reference),
         "offer_accepted", organisation_id=award.organisation_id, award=award,
         accepted_by=actor)


# --- payments --------------------------------------------------------------------------------


SENT_RETURN = {ReturnStatus.SUBMITTED, ReturnStatus.APPROVED}


def spend_by_year(award: Award, statuses: frozenset[ReturnStatus] | set[ReturnStatus] = frozenset(
        {ReturnStatus.APPROVED})) -> dict[int, dict[int, int]]:
    """Spend reported in the award's returns of ``statuses`` (by default: approved), per
    line id and financial year: a return's spend belongs to the year of
    :func:`portal.services.years.return_year`."""
    award_years = years.award_years(award)
    spent: dict[int, dict[int, int]] = {}
    for grant_return in award.returns:
        if grant_return.status not in statuses:
            continue
        year = years.return_year(grant_return, award_years)
        for line in grant_return.lines:
            of_line = spent.setdefault(line.award_line_id, {})
            of_line[year] = of_line.get(year, 0) + line.spend_pence
    return spent


def line_year_amounts(line: AwardLine) -> dict[int, int] | None:
    """The line's revised amount per financial year, or None when its years do not add up to
    its revised total (a line without years: its total is its only cap)."""
    amounts = years.by_year(line.revised_years)
    if not amounts or sum(amounts.values()) != line.revised_pence:
        return None
    return amounts


def _eligible_of_line(line: AwardLine, spent: dict[int, int]) -> dict[int, int]:
    """Eligible spend of one line per year: each year's approved spend capped at the line's
    revised amount for that year (overspend, in a year or in all, is the recipient's)."""
    amounts = line_year_amounts(line)
    if amounts is None:  # no years to cap by: the total caps, counted in the last year spent
        total = min(sum(spent.values()), line.revised_pence)
        return {max(spent): total} if spent else {}
    return {year: min(pence, amounts.get(year, 0)) for year, pence in spent.items()}


def eligible_spend(award: Award) -> int:
    """Approved spend, each line capped per financial year at its revised amount for that
    year (overspend is the recipient's; what a year leaves unspent is not spent in a later
    one unless a carry-forward moved it there). For a one-year award: each line capped at its
    revised allocation."""
    spent = spend_by_year(award)
    return sum(sum(_eligible_of_line(line, spent.get(line.id, {})).values())
               for line in award.lines)


@dataclass
class YearFigures:
    """One financial year of an award, for the pages: the lines' revised allocation, the
    spend approved in returns, what of it is eligible, and what is left (allocation less
    eligible spend: underspend once the year is over, unless carried forward); the payments
    planned and made in the year."""

    year: int
    allocation_pence: int = 0
    spend_pence: int = 0
    eligible_pence: int = 0
    planned_pence: int = 0
    paid_pence: int = 0

    @property
    def label(self) -> str:
        return years.year_label(self.year)

    @property
    def left_pence(self) -> int:
        return self.allocation_pence - self.eligible_pence


def payments_by_year(award: Award) -> dict[int, int]:
    """What was paid in each financial year (a payment's year is that of its ``paid_on``)."""
    paid: dict[int, int] = {}
    for payment in award.payments:
        year = financial_year_of(payment.paid_on)
        paid[year] = paid.get(year, 0) + payment.amount_pence
    return paid


def year_figures(award: Award) -> list[YearFigures]:
    """The award's money year by year (:class:`YearFigures`), earliest first: every year it
    has money, spend or payments in."""
    spent = spend_by_year(award)
    rows: dict[int, YearFigures] = {}

    def row(year: int) -> YearFigures:
        return rows.setdefault(year, YearFigures(year))

    for year in years.award_years(award):
        row(year)
    for line in award.lines:
        for year, pence in (line_year_amounts(line) or {}).items():
            row(year).allocation_pence += pence
        of_line = spent.get(line.id, {})
        for year, pence in of_line.items():
            row(year).spend_pence += pence
        for year, pence in _eligible_of_line(line, of_line).items():
            row(year).eligible_pence += pence
    for year, pence in years.by_year(award.payment_plan).items():
        row(year).planned_pence += pence
    for year, pence in payments_by_year(award).items():
        row(year).paid_pence += pence
    return [rows[year] for year in sorted(rows)]


def spans_years(award: Award) -> bool:
    """Whether the award's money is over more than one financial year (pages then show it
    year by year)."""
    return len(years.award_years(award)) > 1 or len(years.by_year(award.payment_plan)) > 1


def planned_to_date(award: Award, today: date | None = None) -> tuple[int, int] | None:
    """(the payments planned for the years up to the current financial year, that year), or
    None when the award has no plan. The first year of the plan counts from acceptance even
    before it starts (an offer may be accepted before its year: its first payment is not
    ahead of the plan)."""
    plan = years.by_year(award.payment_plan)
    if not plan:
        return None
    year = max(financial_year_of(today or uk_today()), min(plan))
    return sum(pence for planned, pence in plan.items() if planned <= year), year


def payable_now(award: Award) -> int:
    """What may be paid now under the fund's rule, never beyond the award (pence). In arrears,
    never beyond the spend approved in returns; once the final return is approved, never beyond
    the eligible spend whatever the rule (paying more would only ask for it back); never ahead
    of the payment plan (the years planned up to the current financial year)."""
    if award.status != AwardStatus.ACTIVE:
        return 0
    ceiling = _ceiling_by_rule(award)
    planned = planned_to_date(award)
    if planned is not None:
        ceiling = min(ceiling, planned[0])
    return max(0, ceiling - award.paid_pence)


def _ceiling_by_rule(award: Award) -> int:
    """The most paid to date may be under the award and the fund's rule, the plan aside."""
    ceiling = award.amount_pence
    if award.round.fund.payment_rule == PaymentRule.ARREARS or final_return_approved(award):
        ceiling = min(ceiling, eligible_spend(award))
    return ceiling


def accepted_on(award: Award) -> date | None:
    """The UK day the offer was accepted (None while it is an offer)."""
    return award.accepted_at.astimezone(UK).date() if award.accepted_at else None


def _check_money_date(award: Award, day: date, field: str, future: str) -> None:
    """Money paid or received under an award is dated from the day its offer was accepted
    (nothing is paid before the grant agreement exists: the Government Grants Functional
    Standard in the domain brief) to today: a payment recorded is a fact, not a plan. Raises
    DomainError beside ``field``, with ``future`` for a day after today."""
    if day > uk_today():
        raise DomainError(future, field=field)
    first = accepted_on(award)
    if first is not None and day < first:
        raise DomainError(_("The date cannot be before %(date)s, when the offer was accepted",
                            date=long_date(first)), field=field)


def _already_paid(award: Award, reference: str) -> DomainError:
    return DomainError(_("A payment with reference %(reference)s is already recorded for this "
                         "award", reference=reference), field="reference")


def payment_with_reference(award: Award, reference: str) -> int | None:
    """The id of the award's payment with this reference, if one is recorded."""
    # BACS-0001 and bacs-0001 are one bank reference.
    return session.scalar(select(Payment.id).where(
        Payment.award_id == award.id, func.lower(Payment.reference) == reference.lower()))


@atomic
def record_payment(award: Award, amount: int, paid_on: date, reference: str,
                   actor: User) -> Payment:
    """Record a payment within the award (and the fund's payment rule). The same reference
    twice on one award is refused beside the reference: checked first, and by the unique
    key when two arrive at once. Paid to date moves by one guarded UPDATE; the award closes
    when this pays the balance after the final return."""
    policy.require(actor, Action.RECORD_PAYMENT, award,
                   otherwise=_("Only finance can record payments."))
    lock_award(award, with_returns=True)
    if award.status != AwardStatus.ACTIVE:
        raise DomainError(_("Payments can only be made on an accepted, open award."))
    if amount <= 0:
        raise DomainError(_("Enter an amount more than £0"), field="amount")
    reference = reference.strip()
    if not reference:
        raise DomainError(_("Enter the payment reference"), field="reference")
    _check_money_date(award, paid_on, "paid_on",
                      _("The payment date must be today or in the past"))
    if payment_with_reference(award, reference) is not None:
        raise _already_paid(award, reference)
    allowed = payable_now(award)
    if amount > allowed:
        rule = award.round.fund.payment_rule
        planned = planned_to_date(award)
        if planned is not None and planned[0] < _ceiling_by_rule(award):
            reason = _("Payments cannot run ahead of the payment plan: %(planned)s is planned "
                       "up to %(year)s, so %(n)s can be paid now.", planned=money(planned[0]),
                       year=years.year_label(planned[1]), n=money(allowed))
        elif rule == PaymentRule.ARREARS:
            reason = _("Under this fund's rule payments follow approved returns: %(n)s can be "
                       "paid now.", n=money(allowed))
        elif final_return_approved(award):
            reason = _("The final return is approved: payments cannot exceed the eligible "
                       "spend, so %(n)s can be paid now.", n=money(allowed))
        else:
            reason = _("Payments cannot exceed the award: %(n)s remains to be paid.",
                       n=money(allowed))
        raise DomainError(reason, field="amount")
    payment = Payment(award_id=award.id, amount_pence=amount, paid_on=paid_on,
                      reference=reference, recorded_by_id=actor.id, recorded_at=utcnow())
    try:
        with session.begin_nested():
            session.add(payment)
            session.flush()
    except IntegrityError:  # the same payment, posted at the same moment, won first
        raise _already_paid(award, reference) from None
    # An UPDATE's result is a CursorResult (it has a row count); execute() is typed for any.
    result = cast(CursorResult[Any], session.execute(
        update(Award).where(Award.id == award.id,
                            Award.paid_pence + amount <= Award.amount_pence)
        .values(paid_pence=Award.paid_pence + amount)
        .execution_options(synchronize_session=False)))
    if result.rowcount != 1:
        raise DomainError(_("Payments cannot exceed the award."), field="amount")
    session.refresh(award, ["paid_pence", "payments"])
    audit.record("award.payment_recorded", "award", award.id, actor=actor,
                 after={"amount": amount, "paid_on": paid_on.isoformat(),
                        "reference": payment.reference, "paid_to_date": award.paid_pence})
    if final_return_approved(award) and award.paid_pence >= eligible_spend(award):
        close(award, actor)  # the balance after the final return is paid
    return payment


def final_return_approved(award: Award) -> bool:
    return any(r.kind == ReturnKind.FINAL and r.status == ReturnStatus.APPROVED
               for r in award.returns)


# --- returns ---------------------------------------------------------------------------------


@dataclass
class OutcomeInput:
    measure_id: int
    achieved: int | None
    rag: str | None
    narrative: str


@dataclass
class ActionInput:
    """A return's report on one action of the award's action plan, as typed."""

    action_id: int
    rag: str | None
    narrative: str


def actions_stamp(award: Award) -> str:
    """What identifies the actions a return page showed (each one's id, number and words): a
    digest a save compares, :func:`save_return`."""
    text = json.dumps([[a.id, a.number, a.title] for a in award.actions], ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def return_lock(grant_return: GrantReturn) -> ReturnLock | None:
    """The one rule for whether the partnership may still change a return (save it, submit
    it, attach a file): None while its award is active and the return is open (due, a draft
    or queried); otherwise why not. The services refuse with :func:`require_return_editable`,
    the return page shows its form only when :func:`return_editable` and says why not from
    this."""
    status = grant_return.award.status
    if status == AwardStatus.CLOSED:
        return ReturnLock.AWARD_CLOSED
    if status != AwardStatus.ACTIVE:
        return ReturnLock.NOT_ACCEPTED
    if grant_return.status not in OPEN_RETURN:
        return ReturnLock.SENT
    return None


def sendable_from(grant_return: GrantReturn) -> date:
    """The first UK day the partnership may send (submit) the return, and finance approve it:
    the day its period starts. A return reports what happened in its period, so none can be
    sent before that period has begun (issue 13: a final return sent, approved and closed
    before the project started). Drafts may be saved at any time."""
    return grant_return.period_start


def sendable(grant_return: GrantReturn, today: date | None = None) -> bool:
    """Whether the return may be sent on ``today`` (default: the UK's today)."""
    return (today or uk_today()) >= sendable_from(grant_return)


def _not_sendable_yet(grant_return: GrantReturn) -> str:
    return _("You can send this return from %(date)s",
             date=long_date(sendable_from(grant_return)))


def spend_reported(award: Award, grant_return: GrantReturn | None = None,
                   spend: dict[int, int] | None = None) -> int:
    """Spend (pence) reported in the award's sent returns (submitted or approved), with
    ``spend`` in place of ``grant_return``'s own lines when given."""
    total = 0
    for other in award.returns:
        if grant_return is not None and other.id == grant_return.id:
            continue
        if other.status in {ReturnStatus.SUBMITTED, ReturnStatus.APPROVED}:
            total += sum(line.spend_pence for line in other.lines)
    return total + sum((spend or {}).values())


def forecast_ceiling(award: Award, grant_return: GrantReturn, spend: dict[int, int]) -> int:
    """The most the return may forecast as underspend (pence): what the award has left, its
    amount less the spend reported (:func:`spend_reported`, this return's ``spend`` included),
    never below 0. Nobody can leave unspent more than they still have."""
    return max(0, award.amount_pence - spend_reported(award, grant_return, spend))


def return_editable(grant_return: GrantReturn) -> bool:
    """Whether the partnership may still change the return (see :func:`return_lock`)."""
    return return_lock(grant_return) is None


def require_return_editable(grant_return: GrantReturn) -> None:
    """Refuse (a DomainError naming no field) unless the return may still be changed."""
    lock = return_lock(grant_return)
    if lock is not None:
        raise DomainError(str(_LOCK_REFUSALS[lock]))


def return_for_organisation(return_id: int, organisation_id: int) -> GrantReturn | None:
    return session.scalar(select(GrantReturn).join(Award)
                          .where(GrantReturn.id == return_id,
                                 Award.organisation_id == organisation_id))


# --- the fund's own questions on a return (issue 15) ------------------------------------------

#: What a return page's question field is named: ``q-<question key>`` (keys are lower case
#: letters, digits and "_", so they never meet the return form's own fields). A refusal about
#: an answer names its field so.
ANSWER_FIELD = "q-"


def answer_field(key: str) -> str:
    return ANSWER_FIELD + key


def return_version(grant_return: GrantReturn) -> FormVersion | None:
    """The return form ``grant_return`` is answered on: the version it was first saved on
    (or, not yet sent, the one a publishing moved it to: ``form_design.publish``), or, never
    saved on one yet, its fund's current return form (None: the fund has none, and its
    returns ask only their built-in parts)."""
    if grant_return.form_version_id is not None:
        return session.get(FormVersion, grant_return.form_version_id)
    return form_versions.return_form(grant_return.award.round.fund)


def answered_questions(grant_return: GrantReturn) -> questions.Definition:
    """The definition a return's saved answers are read with: the version it was saved on
    (a return never saved on one, such as one sent before its fund had a return form, has
    answered no question of the fund's own)."""
    version = grant_return.form_version_id and session.get(FormVersion,
                                                           grant_return.form_version_id)
    return questions.read(version.definition if version else None)


def form_stamp(version: FormVersion | None) -> str:
    """What identifies the questions a return page showed (the version and its revision, as
    a version not yet in use may still be changed in place); compared on save."""
    return f"{version.id}.{version.revision}" if version is not None else "none"


def _unknown_answer_message(names: list[str]) -> str:
    shown = [name for name in names if questions.KEY_PATTERN.match(name)]
    if shown:
        return _("This return has no question “%(key)s”. Nothing was saved.", key=shown[0])
    return _("This return has no such question. Nothing was saved.")


def checked_answers(definition: questions.Definition, answers: dict[str, Any], *,
                    completing: bool) -> dict[str, Any]:
    """A return's ``answers`` (by question key, as saved: text, numbers, ISO dates, choices'
    values, True) checked from ``definition`` alone and kept as they will be saved: names
    no question has are refused; answers of hidden sections and questions are dropped (never
    required, never kept); every shown question's answer is checked, and, ``completing``
    (on submit), every shown required question must have one. Raises DomainError beside the
    first question at fault (:func:`answer_field`)."""
    names = {part for _section, question in definition.questions()
             if not question.kind.builtin for part in question.parts}
    unknown = sorted(name for name in answers if name not in names)
    if unknown:  # beside the first question (a forged field has no place of its own)
        first = next((q.key for _s, q in definition.questions()
                      if q.kind.answers and not q.kind.builtin), None)
        raise DomainError(_unknown_answer_message(unknown),
                          field=answer_field(first) if first else None)
    # Hidden questions' answers go, then whatever only they showed, until none is left.
    kept = dict(answers)
    while True:
        shown: dict[str, Any] = {}
        for section in questions.shown_sections(definition, kept):
            shown.update(questions.kept(section, kept, kept))
        if shown == kept:
            break
        kept = shown
    for section in questions.shown_sections(definition, kept):
        problems = questions.section_problems(section, kept, kept, completing=completing)
        for question in section.questions:
            if question.key in problems:
                raise DomainError(problems[question.key], field=answer_field(question.key))
    # A question left blank has no answer (kept out, as it would be never asked).
    return {key: value for key, value in kept.items() if value not in (None, "", [])}


def _version_to_answer(grant_return: GrantReturn) -> FormVersion | None:
    """The version a save of ``grant_return`` answers: its own, or (its first save on one) its
    fund's current return form, marked in use first (``form_versions.use``: from now on the
    designer changes it only by a new version) and read again, so the questions checked are
    those the version keeps."""
    if grant_return.form_version_id is not None:
        return session.get(FormVersion, grant_return.form_version_id)
    version = form_versions.return_form(grant_return.award.round.fund)
    if version is not None:
        form_versions.use(version)
        session.refresh(version)
    return version


@atomic
def save_return(grant_return: GrantReturn, spend: dict[int, int],
                outcomes: list[OutcomeInput], case_study: str, forecast_underspend: int, *,
                submit: bool, actor: User, expected_version: int | None = None,
                actions: list[ActionInput] | None = None,
                actions_seen: str | None = None,
                answers: dict[str, Any] | None = None,
                form_seen: str | None = None) -> None:
    """Save a return as a draft (any number of times, lines and outcomes updated in place)
    or submit it to finance (who, with the partnership, are told): not before its period
    starts (:func:`sendable`, beside ``submit``), with a forecast underspend no more than the
    award has left (:func:`forecast_ceiling`). Raises DomainError beside the field it is about, or ``Conflict`` when the return moved meanwhile or was
    saved since ``expected_version`` (the version the officer's page showed; None: no
    check).

    ``actions``: the RAG status and narrative of each action of the award's action plan
    (issue 14), updated in place like the outcomes; all required on submit, optional on a
    draft; None leaves the return's action reports as they are (and is refused on submit
    when the award has actions). ``actions_seen``: the :func:`actions_stamp` the page showed;
    if the plan's actions changed since (renumbered, reworded, added or removed by the grants
    manager), ``Conflict``: a report is never kept against words the officer did not see.

    ``answers``: the answers to the fund's own questions (issue 15), by question key, checked
    by :func:`checked_answers` (on submit every required one) and saved in place of the
    return's; None leaves them as they are (a submit still needs every required one). The
    first save takes the fund's current return form (:func:`return_version`) and keeps it:
    a submitted return keeps the questions it answered. ``form_seen``: the
    :func:`form_stamp` the page showed; if the questions changed since, ``Conflict``.

    The award's row is held first (:func:`lock_award`), so that a save and a change of the
    action plan happen one after the other."""
    award = grant_return.award
    lock_award(award)
    session.refresh(award, ["actions"])
    require_return_editable(grant_return)
    first_on_form = grant_return.form_version_id is None
    version = _version_to_answer(grant_return)
    if form_seen is not None and form_seen != form_stamp(version):
        raise Conflict(_("The OPCC changed this return's questions while you were working on "
                         "it. Nothing was saved: the questions are shown as they are now, "
                         "with what you typed; check them and save again."), field="questions")
    if actions_seen is not None and actions_seen != actions_stamp(award):
        raise Conflict(_("The OPCC changed the award's action plan while you were working on "
                         "this return. Nothing was saved: open the return again to see the "
                         "actions as they are now, and report on them."),
                       field=f"action-rag-{award.actions[0].id}" if award.actions else "actions")
    lines = {line.id: line for line in award.lines}
    for line_id, pence in spend.items():
        if line_id not in lines:
            raise DomainError(_("Spend can only be reported against approved budget lines."),
                              field="lines")
        if pence < 0:
            raise DomainError(_("Spend cannot be negative"), field=f"line-{line_id}")
    if forecast_underspend < 0:
        raise DomainError(_("Forecast underspend cannot be negative"),
                          field="forecast_underspend")
    ceiling = forecast_ceiling(award, grant_return, spend)
    if forecast_underspend > ceiling:
        raise DomainError(_("Forecast underspend must be %(most)s or less: what the award has "
                            "left after the spend reported", most=money(ceiling)),
                          field="forecast_underspend")
    measures = {m.id for m in award.bid.outcomes}
    for item in outcomes:
        if item.measure_id not in measures:
            raise DomainError(_("Outcomes can only be reported against the agreed measures."))
        if item.rag is not None and item.rag not in {r.value for r in Rag}:
            raise DomainError(_("Select a RAG status"), field=f"rag-{item.measure_id}")
        if item.achieved is not None and item.achieved < 0:
            raise DomainError(_("Achieved must be 0 or more"),
                              field=f"achieved-{item.measure_id}")
    if len({o.measure_id for o in outcomes}) != len(outcomes):
        raise DomainError(_("Report on each outcome measure once."))
    _check_actions(award, actions, submit)
    if submit and not sendable(grant_return):
        raise DomainError(_not_sendable_yet(grant_return), field="submit")
    if submit:
        for item in outcomes:
            if item.achieved is None or item.rag is None or not item.narrative.strip():
                raise DomainError(_("Give what was achieved, a RAG status and a narrative for "
                                    "every outcome"), field=f"achieved-{item.measure_id}")
        if len({o.measure_id for o in outcomes}) != len(measures):
            raise DomainError(_("Report on every outcome measure."))
    definition = questions.read(version.definition if version is not None else None)
    given = answers if answers is not None else dict(grant_return.answers or {})
    kept_answers = checked_answers(definition, given, completing=submit)
    before = grant_return.status
    name = "submit" if submit else "save_queried" if before == ReturnStatus.QUERIED else "save"
    values: dict[str, Any] = {"case_study": case_study.strip(),
                              "forecast_underspend_pence": forecast_underspend,
                              "version": grant_return.version + 1}
    if submit:
        values["submitted_at"] = utcnow()
    if answers is not None:
        values["answers"] = kept_answers
    if first_on_form and version is not None:
        values["form_version_id"] = version.id
    if expected_version is not None and expected_version != grant_return.version:
        raise Conflict(_("Someone else saved this return while you were working on it. Your "
                         "figures are below, not saved: check them against the return and "
                         "save again."), field="lines")
    guard = {"version": expected_version} if expected_version is not None else None
    transition = move(RETURN, name, grant_return, actor, values=values, guard=guard,
                      after={"spend": sum(spend.values()), "award": award.id})
    # The write won: the lines and outcomes follow, read afresh (a save that waited for
    # another's commit sees the rows that one left).
    session.refresh(grant_return, ["lines", "outcomes", "actions"])
    _replace_lines(grant_return, spend)
    _replace_outcomes(grant_return, outcomes)
    if actions is not None:
        _replace_actions(grant_return, actions)
    if submit and before == ReturnStatus.QUERIED:
        grant_return.reviews.append(ReturnReview(outcome="resubmitted", comments="",
                                                 by_id=actor.id, at=utcnow()))
    session.flush()
    if submit:
        tell(transition, _l("Return for %(reference)s submitted", reference=award.bid.reference),
             "return_submitted", organisation_id=award.organisation_id,
             grant_return=grant_return, award=award, submitted_by=actor)


def _replace_lines(grant_return: GrantReturn, spend: dict[int, int]) -> None:
    """Update the return's lines in place (one row per budget line, as the unique key says)."""
    current = {line.award_line_id: line for line in grant_return.lines}
    for line_id, line in current.items():
        if line_id not in spend:
            grant_return.lines.remove(line)
    session.flush()
    for line_id, pence in sorted(spend.items()):
        if line_id in current:
            current[line_id].spend_pence = pence
        else:
            grant_return.lines.append(ReturnLine(award_line_id=line_id, spend_pence=pence))


def _replace_outcomes(grant_return: GrantReturn, outcomes: list[OutcomeInput]) -> None:
    def fill(row: ReturnOutcome, item: OutcomeInput) -> None:
        row.achieved = item.achieved
        row.rag = Rag(item.rag) if item.rag else None
        row.narrative = item.narrative.strip()

    _in_place(grant_return.outcomes, "outcome_measure_id",
              {item.measure_id: item for item in outcomes},
              lambda key: ReturnOutcome(outcome_measure_id=key), fill)


def _in_place(rows: list[Any], key: str, wanted: dict[int, Any], new: Any, fill: Any) -> None:
    """A return's reports (one row per ``key``, as its unique key says) made ``wanted``, in
    place: rows no longer wanted go first (flushed, so the key never sees two at once), kept
    rows are filled again, new ones added (``new(key)``), each through ``fill(row, item)``."""
    current = {getattr(row, key): row for row in rows}
    for found, row in current.items():
        if found not in wanted:
            rows.remove(row)
    session.flush()
    for wanted_key, item in wanted.items():
        row = current.get(wanted_key)
        if row is None:
            row = new(wanted_key)
            rows.append(row)
        fill(row, item)


def _check_actions(award: Award, actions: list[ActionInput] | None, submit: bool) -> None:
    """Each action reported is one of the award's, once, with a RAG status of the four; on
    submit, every action of the award has a RAG status and a narrative. Refuses beside the
    action's RAG field."""
    known = {action.id for action in award.actions}
    reported = actions or []
    for item in reported:
        if item.action_id not in known:
            raise DomainError(_("Report only on the actions of this award's action plan."),
                              field="actions")
        if item.rag is not None and item.rag not in {r.value for r in Rag}:
            raise DomainError(_("Select a RAG status"), field=f"action-rag-{item.action_id}")
    if len({item.action_id for item in reported}) != len(reported):
        raise DomainError(_("Report on each action once."), field="actions")
    if not submit:
        return
    given = {item.action_id: item for item in reported}
    for action in award.actions:
        given_item = given.get(action.id)
        if given_item is None or given_item.rag is None:
            raise DomainError(_("Select a RAG status for action %(number)s",
                                number=action.number), field=f"action-rag-{action.id}")
        if not given_item.narrative.strip():
            raise DomainError(_("Give a narrative for action %(number)s", number=action.number),
                              field=f"action-narrative-{action.id}")


def _replace_actions(grant_return: GrantReturn, actions: list[ActionInput]) -> None:
    """The return's action reports updated in place, as the outcomes are."""
    def fill(row: ReturnAction, item: ActionInput) -> None:
        row.rag = Rag(item.rag) if item.rag else None
        row.narrative = item.narrative.strip()

    _in_place(grant_return.actions, "action_id", {item.action_id: item for item in actions},
              lambda key: ReturnAction(action_id=key), fill)


def action_reports(grant_return: GrantReturn) -> list[tuple[AwardAction, ReturnAction | None]]:
    """Each action of the award's plan beside the return's report on it (None: not
    reported), in the plan's order."""
    reports = {row.action_id: row for row in grant_return.actions}
    return [(action, reports.get(action.id)) for action in grant_return.award.actions]


@dataclass
class ClosedAction:
    """An action reported closed whose line still has money left: a re-allocation to
    propose (issue 14, seed 000: "£1,000 from a cancelled conference")."""

    action: AwardAction
    line: AwardLine
    left_pence: int


def closed_actions_with_money(award: Award) -> list[ClosedAction]:
    """Each action reported CLOSED in a submitted or approved return (the latest such return
    that reports it says), with each of its lines (``AwardLine.action_numbers``) that still
    has money left: its revised amount less the spend approved on it."""
    latest: dict[int, tuple[tuple[date, int], Rag | None]] = {}
    for grant_return in award.returns:
        if grant_return.status not in SENT_RETURN:
            continue
        key = (grant_return.period_end, grant_return.id)
        for row in grant_return.actions:
            if row.action_id not in latest or latest[row.action_id][0] < key:
                latest[row.action_id] = (key, row.rag)
    spent = spend_by_year(award)
    found = []
    for action in award.actions:
        if action.id not in latest or latest[action.id][1] != Rag.CLOSED:
            continue
        for line in award.lines:
            if action.number not in (line.action_numbers or []):
                continue
            left = line.revised_pence - sum(spent.get(line.id, {}).values())
            if left > 0:
                found.append(ClosedAction(action, line, left))
    return found


@dataclass
class LineCheck:
    line: AwardLine
    previous_pence: int  # approved in earlier returns (of the same financial year, see below)
    this_pence: int
    to_date_pence: int
    variance_pence: int  # allocation minus spend to date: negative is an overspend
    # The allocation the return is checked against: the line's revised allocation, or, for
    # an award with money in several financial years, the line's amount for the return's
    # year (issue 14), named by ``year`` (None for a one-year award).
    allocation_pence: int = 0
    year: int | None = None

    @property
    def year_label(self) -> str:
        return years.year_label(self.year) if self.year is not None else ""

    @property
    def overspent(self) -> bool:
        return self.variance_pence < 0


def line_checks(grant_return: GrantReturn) -> list[LineCheck]:
    """Each approved line against the spend of ``grant_return`` and of the approved returns
    before it: for an award with money in several financial years, within the return's year
    (:func:`portal.services.years.return_year`) and against the line's amount for that year,
    as eligible spend is worked out; otherwise against the line's revised allocation."""
    award = grant_return.award
    award_years = years.award_years(award)
    year = years.return_year(grant_return, award_years) if len(award_years) > 1 else None
    previous: dict[int, int] = {}
    for other in award.returns:
        earlier = (other.period_end, other.id) < (grant_return.period_end, grant_return.id)
        same_year = year is None or years.return_year(other, award_years) == year
        if earlier and same_year and other.status == ReturnStatus.APPROVED:
            for spent in other.lines:
                previous[spent.award_line_id] = previous.get(spent.award_line_id, 0) + \
                    spent.spend_pence
    this = {line.award_line_id: line.spend_pence for line in grant_return.lines}
    checks = []
    for line in award.lines:
        to_date = previous.get(line.id, 0) + this.get(line.id, 0)
        by_year = line_year_amounts(line) if year is not None else None
        allocation = by_year.get(year, 0) if by_year is not None and year is not None \
            else line.revised_pence
        checks.append(LineCheck(line, previous.get(line.id, 0), this.get(line.id, 0), to_date,
                                allocation - to_date, allocation,
                                year if by_year is not None else None))
    return checks


@atomic
def review_return(grant_return: GrantReturn, approve: bool, comments: str,
                  actor: User) -> None:
    """Finance approves a submitted return or queries it with comments: one guarded write
    from submitted; the partnership is told. Approving the final return closes the award
    once the balance is paid. Raises DomainError or ``Conflict`` (checked a moment ago)."""
    policy.require(actor, Action.HANDLE_MONEY, otherwise=_("Only finance can check returns."))
    award = grant_return.award
    final_approval = approve and grant_return.kind == ReturnKind.FINAL
    if final_approval:  # it may close the award: read what a payment at this moment left
        lock_award(award, with_returns=True)
    if grant_return.status != ReturnStatus.SUBMITTED:
        raise DomainError(_("Only a submitted return can be checked: this one is %(status)s.",
                            status=RETURN.label(grant_return.status).lower()))
    if approve and not sendable(grant_return):
        raise DomainError(_("This return covers from %(date)s: it can be approved from then",
                            date=long_date(sendable_from(grant_return))), field="outcome")
    comments = comments.strip()
    if not approve and not comments:
        raise DomainError(_("Say what needs to change"), field="comments")
    if final_approval:
        # Approving the final return may close the award and work out its underspend: every
        # other return must be in and approved first, or its spend would never count (the
        # attack on issue 14: a late-accepted agreement's earlier years were still due).
        waiting = [r for r in award.returns
                   if r.id != grant_return.id and r.status != ReturnStatus.APPROVED]
        if waiting:
            first = min(waiting, key=lambda r: (r.period_start, r.id))
            raise DomainError(_("Approve the award's other returns first: the return for "
                                "%(first)s to %(last)s is %(status)s.",
                                first=long_date(first.period_start),
                                last=long_date(first.period_end),
                                status=RETURN.label(first.status).lower()), field="outcome")
    now = utcnow()
    transition = move(RETURN, "approve" if approve else "query", grant_return, actor,
                      values={"approved_at": now} if approve else None,
                      after={"comments": comments})
    grant_return.reviews.append(ReturnReview(outcome="approved" if approve else "queried",
                                             comments=comments, by_id=actor.id, at=now))
    session.flush()
    tell(transition, _l("Return approved") if approve else _l("Return queried: please revise"),
         "return_reviewed", organisation_id=award.organisation_id, grant_return=grant_return,
         comments=comments, approved=approve)
    if final_approval and award.status == AwardStatus.ACTIVE and \
            award.paid_pence >= eligible_spend(award):
        close(award, actor)  # paid in arrears, it closes when the balance is paid


@atomic
def close(award: Award, actor: User | None) -> Repayment | None:
    """The final return is approved and paid: one guarded write from active to closed, then
    the underspend (paid minus eligible) to repay, and the partnership is told."""
    eligible = eligible_spend(award)
    underspend = award.paid_pence - eligible
    now = utcnow()
    transition = move(AWARD, "close", award, actor, values={"closed_at": now},
                      after={"paid": award.paid_pence, "eligible_spend": eligible,
                             "underspend": max(0, underspend)})
    repayment = None
    if underspend > 0:
        repayment = Repayment(amount_pence=underspend, requested_at=now,
                              status=RepaymentStatus.AWAITED)
        award.repayments.append(repayment)
        session.flush()
        tell(transition, _l("Underspend to repay: %(amount)s", amount=money(underspend)),
             "repayment_requested", organisation_id=award.organisation_id, award=award,
             repayment=repayment, eligible=eligible)
    else:
        tell(transition, _l("Grant %(reference)s closed", reference=award.bid.reference),
             "award_closed", organisation_id=award.organisation_id, award=award,
             eligible=eligible)
    return repayment


@atomic
def record_repayment(repayment: Repayment, received_on: date, reference: str,
                     actor: User) -> None:
    """Finance records the underspend as received: one guarded write from awaited; the
    partnership is told. Raises DomainError or ``Conflict`` (recorded a moment ago)."""
    policy.require(actor, Action.HANDLE_MONEY,
                   otherwise=_("Only finance can record repayments."))
    if repayment.status != RepaymentStatus.AWAITED or repayment.received_on is not None:
        raise DomainError(_("This repayment has already been recorded as received."))
    reference = reference.strip()
    if not reference:
        raise DomainError(_("Enter the receipt reference"), field="reference")
    _check_money_date(repayment.award, received_on, "received_on",
                      _("The date received must be today or in the past"))
    transition = move(REPAYMENT, "receive", repayment, actor,
                      values={"received_on": received_on, "received_reference": reference,
                              "recorded_by_id": actor.id},
                      record_id=repayment.award_id,
                      after={"amount": repayment.amount_pence,
                             "received_on": received_on.isoformat(), "reference": reference})
    award = repayment.award
    tell(transition, _l("Repayment for %(reference)s received", reference=award.bid.reference),
         "repayment_received", organisation_id=award.organisation_id, award=award,
         repayment=repayment)


def awards_of(organisation_id: int) -> list[Award]:
    return list(session.scalars(
        select(Award).where(Award.organisation_id == organisation_id)
        .options(selectinload(Award.returns)).order_by(Award.offered_at.desc())))


def award_with_everything(award_id: int) -> Award | None:
    return session.scalar(
        select(Award).where(Award.id == award_id)
        .options(selectinload(Award.lines), selectinload(Award.payments),
                 selectinload(Award.returns).selectinload(GrantReturn.lines),
                 selectinload(Award.returns).selectinload(GrantReturn.actions),
                 selectinload(Award.variations), selectinload(Award.repayments),
                 selectinload(Award.actions)))


class ReturnFacts(Protocol):
    """What :func:`return_state` reads: a loaded return, or a row selecting these columns."""

    @property
    def status(self) -> ReturnStatus: ...

    @property
    def due_date(self) -> date: ...


def return_state(grant_return: ReturnFacts, today: date | None = None) -> str:
    """received (submitted) / approved / queried / overdue / due, as users see it on ``today``
    (by default the UK's today). Overdue is the one rule (``GrantReturn.is_overdue``) the
    dashboard counts and the reminders follow."""
    if grant_return.status in {ReturnStatus.SUBMITTED, ReturnStatus.APPROVED}:
        return "received" if grant_return.status == ReturnStatus.SUBMITTED else "approved"
    if grant_return.status == ReturnStatus.QUERIED:
        return "queried"
    on = today or uk_today()
    return "overdue" if return_overdue(grant_return.status, grant_return.due_date, on) else "due"
