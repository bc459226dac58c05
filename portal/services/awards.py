"""After the award: offers and acceptance, payments, the return schedule, returns and
their check by finance, variations, closing and repayment of underspend.

Totals always reconcile: a return's total is the sum of its lines; paid never exceeds
the award (a guarded UPDATE with a CHECK constraint behind it); underspend is paid
minus eligible spend, where eligible spend on a line is capped at its allocation (an
overspend is met by the recipient, not by the grant).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload

from portal.db import session, uk_today, utcnow
from portal.formatting import long_date, money
from portal.models import (
    Award,
    AwardLine,
    AwardStatus,
    Bid,
    Decision,
    GrantReturn,
    Payment,
    Rag,
    Repayment,
    ReturnKind,
    ReturnLine,
    ReturnOutcome,
    ReturnReview,
    ReturnStatus,
    Role,
    Variation,
    VariationKind,
    VariationStatus,
    User,
)
from portal.models.funds import PaymentRule, ReturnCadence
from portal.services import DomainError, audit, email
from portal.services.bids import officers_of

CADENCE_MONTHS = {ReturnCadence.SIX_MONTHLY: 6, ReturnCadence.QUARTERLY: 3,
                  ReturnCadence.ANNUAL: 12}
OPEN_RETURN = {ReturnStatus.DUE, ReturnStatus.DRAFT, ReturnStatus.QUERIED}


# --- dates -----------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def return_schedule(start: date, end: date, cadence: ReturnCadence,
                    final_weeks: int) -> list[tuple[ReturnKind, date, date, date]]:
    """(kind, period start, period end, due date) for a project running ``start``..``end``.

    Periods follow the financial year from 1 April (six-monthly: April-September due
    31 October, October-March due 30 April); a period is reported by a periodic return
    only if it ends before the project does. The final return covers what is left and is
    due ``final_weeks`` after the project ends.
    """
    schedule = []
    months = CADENCE_MONTHS.get(cadence)
    covered_until = start - timedelta(days=1)
    if months:
        anchor = date(start.year if start.month >= 4 else start.year - 1, 4, 1)
        period_start = anchor
        while period_start <= end:
            period_end = _add_months(period_start, months) - timedelta(days=1)
            if period_end >= end:
                break
            if period_end >= start:
                due = _month_end(_add_months(period_end.replace(day=1), 1))
                schedule.append((ReturnKind.PERIODIC, max(period_start, start), period_end, due))
                covered_until = period_end
            period_start = period_end + timedelta(days=1)
    schedule.append((ReturnKind.FINAL, covered_until + timedelta(days=1), end,
                     end + timedelta(weeks=final_weeks)))
    return schedule


# --- offers and acceptance -------------------------------------------------------------------


def _scaled_lines(bid: Bid, amount: int) -> list[AwardLine]:
    """The bid's lines as approved lines; a part award scales them to add up exactly."""
    requested = bid.amount_requested_pence or 1
    lines = []
    for line in bid.budget_lines:
        share = line.amount_pence * amount // requested
        lines.append(AwardLine(position=line.position, item=line.item, kind=line.kind,
                               original_pence=share, revised_pence=share))
    if lines:
        remainder = amount - sum(line.original_pence for line in lines)
        lines[-1].original_pence += remainder
        lines[-1].revised_pence += remainder
    return lines


def create_offer(bid: Bid, decision: Decision, actor: User) -> Award:
    start = bid.start_date or decision.decision_date
    end = bid.end_date or date(bid.round.financial_year + 1, 3, 31)
    award = Award(bid_id=bid.id, decision_id=decision.id, round_id=bid.round_id,
                  organisation_id=bid.organisation_id, status=AwardStatus.OFFERED,
                  amount_pence=decision.amount_pence, paid_pence=0, start_date=start,
                  end_date=end, offered_at=utcnow())
    award.lines = _scaled_lines(bid, decision.amount_pence)
    award.returns = [GrantReturn(kind=kind, period_start=first, period_end=last, due_date=due,
                                 status=ReturnStatus.DUE)
                     for kind, first, last, due in return_schedule(
                         start, end, bid.round.return_cadence, bid.round.fund.final_return_weeks)]
    session.add(award)
    session.flush()
    audit.record("award.offered", "award", award.id, actor=actor,
                 after={"bid": bid.reference, "amount": award.amount_pence,
                        "returns": [r.due_date.isoformat() for r in award.returns]})
    return award


def award_for_organisation(award_id: int, organisation_id: int) -> Award | None:
    return session.scalar(select(Award).where(Award.id == award_id,
                                              Award.organisation_id == organisation_id))


def accept(award: Award, name: str, role: str, confirmed: bool, actor: User) -> None:
    if award.status != AwardStatus.OFFERED:
        raise DomainError(_("This offer has already been accepted."))
    if award.organisation_id != actor.organisation_id:
        raise DomainError(_("Only the partnership's officers can accept this offer."))
    if not name.strip():
        raise DomainError(_("Enter your full name"), field="name")
    if not role.strip():
        raise DomainError(_("Enter your role"), field="role")
    if not confirmed:
        raise DomainError(_("Confirm that the partnership accepts the terms and conditions"),
                          field="confirm")
    award.status = AwardStatus.ACTIVE
    award.accepted_at = utcnow()
    award.accepted_by_id = actor.id
    award.accepted_name = name.strip()
    award.accepted_role = role.strip()
    audit.record("award.accepted", "award", award.id, actor=actor,
                 before={"status": AwardStatus.OFFERED.value},
                 after={"status": AwardStatus.ACTIVE.value, "name": award.accepted_name,
                        "role": award.accepted_role})


# --- payments --------------------------------------------------------------------------------


def eligible_spend(award: Award) -> int:
    """Approved spend, each line capped at its revised allocation (overspend is the
    recipient's)."""
    spent: dict[int, int] = {}
    for grant_return in award.returns:
        if grant_return.status == ReturnStatus.APPROVED:
            for line in grant_return.lines:
                spent[line.award_line_id] = spent.get(line.award_line_id, 0) + line.spend_pence
    return sum(min(spent.get(line.id, 0), line.revised_pence) for line in award.lines)


def payable_now(award: Award) -> int:
    """What may be paid now under the fund's rule, never beyond the award."""
    rule = award.round.fund.payment_rule
    if award.status != AwardStatus.ACTIVE:
        return 0
    ceiling = award.amount_pence
    if rule == PaymentRule.ARREARS:
        ceiling = min(ceiling, eligible_spend(award))
    return max(0, ceiling - award.paid_pence)


def record_payment(award: Award, amount: int, paid_on: date, reference: str,
                   actor: User) -> Payment:
    if not actor.has_role(Role.FINANCE):
        raise DomainError(_("Only finance can record payments."))
    if award.decision.decided_by_id == actor.id:
        raise DomainError(_("You approved this award, so someone else must record its "
                            "payments."))
    if award.status != AwardStatus.ACTIVE:
        raise DomainError(_("Payments can only be made on an accepted, open award."))
    if amount <= 0:
        raise DomainError(_("Enter an amount more than £0"), field="amount")
    if not reference.strip():
        raise DomainError(_("Enter the payment reference"), field="reference")
    if paid_on > uk_today():
        raise DomainError(_("The payment date must be today or in the past"), field="paid_on")
    allowed = payable_now(award)
    if amount > allowed:
        rule = award.round.fund.payment_rule
        reason = (_("Under this fund's rule payments follow approved returns: %(n)s can be "
                    "paid now.", n=money(allowed)) if rule == PaymentRule.ARREARS else
                  _("Payments cannot exceed the award: %(n)s remains to be paid.",
                    n=money(allowed)))
        raise DomainError(reason, field="amount")
    result = session.execute(
        update(Award).where(Award.id == award.id,
                            Award.paid_pence + amount <= Award.amount_pence)
        .values(paid_pence=Award.paid_pence + amount)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise DomainError(_("Payments cannot exceed the award."), field="amount")
    payment = Payment(award_id=award.id, amount_pence=amount, paid_on=paid_on,
                      reference=reference.strip(), recorded_by_id=actor.id, recorded_at=utcnow())
    session.add(payment)
    session.flush()
    session.refresh(award)
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


def return_for_organisation(return_id: int, organisation_id: int) -> GrantReturn | None:
    return session.scalar(select(GrantReturn).join(Award)
                          .where(GrantReturn.id == return_id,
                                 Award.organisation_id == organisation_id))


def save_return(grant_return: GrantReturn, spend: dict[int, int],
                outcomes: list[OutcomeInput], case_study: str, forecast_underspend: int, *,
                submit: bool, actor: User) -> None:
    award = grant_return.award
    if award.status == AwardStatus.CLOSED:
        raise DomainError(_("This award is closed: no more returns can be filed."))
    if award.status != AwardStatus.ACTIVE:
        raise DomainError(_("Accept the offer before filing returns."))
    if grant_return.status not in OPEN_RETURN:
        raise DomainError(_("This return has been submitted and cannot be changed now."))
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
    measures = {m.id for m in award.bid.outcomes}
    for item in outcomes:
        if item.measure_id not in measures:
            raise DomainError(_("Outcomes can only be reported against the agreed measures."))
        if item.rag is not None and item.rag not in {r.value for r in Rag}:
            raise DomainError(_("Select a RAG status"), field=f"rag-{item.measure_id}")
        if item.achieved is not None and item.achieved < 0:
            raise DomainError(_("Achieved must be 0 or more"),
                              field=f"achieved-{item.measure_id}")
    if submit:
        for item in outcomes:
            if item.achieved is None or item.rag is None or not item.narrative.strip():
                raise DomainError(_("Give what was achieved, a RAG status and a narrative for "
                                    "every outcome"), field=f"achieved-{item.measure_id}")
        if len({o.measure_id for o in outcomes}) != len(measures):
            raise DomainError(_("Report on every outcome measure."))
    before = grant_return.status
    _replace_lines(grant_return, spend)
    _replace_outcomes(grant_return, outcomes)
    grant_return.case_study = case_study.strip()
    grant_return.forecast_underspend_pence = forecast_underspend
    grant_return.version += 1
    if submit:
        if before == ReturnStatus.QUERIED:
            grant_return.reviews.append(ReturnReview(outcome="resubmitted", comments="",
                                                     by_id=actor.id, at=utcnow()))
        grant_return.status = ReturnStatus.SUBMITTED
        grant_return.submitted_at = utcnow()
    elif before == ReturnStatus.DUE:
        grant_return.status = ReturnStatus.DRAFT
    session.flush()
    audit.record("return.submitted" if submit else "return.saved", "return", grant_return.id,
                 actor=actor, before={"status": before.value},
                 after={"status": grant_return.status.value,
                        "spend": grant_return.spend_pence, "award": award.id})


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
    current = {o.outcome_measure_id: o for o in grant_return.outcomes}
    wanted = {o.measure_id for o in outcomes}
    for measure_id, row in current.items():
        if measure_id not in wanted:
            grant_return.outcomes.remove(row)
    session.flush()
    for item in outcomes:
        row = current.get(item.measure_id)
        if row is None:
            row = ReturnOutcome(outcome_measure_id=item.measure_id)
            grant_return.outcomes.append(row)
        row.achieved = item.achieved
        row.rag = Rag(item.rag) if item.rag else None
        row.narrative = item.narrative.strip()


@dataclass
class LineCheck:
    line: AwardLine
    previous_pence: int  # approved in earlier returns
    this_pence: int
    to_date_pence: int
    variance_pence: int  # allocation minus spend to date: negative is an overspend

    @property
    def overspent(self) -> bool:
        return self.variance_pence < 0


def line_checks(grant_return: GrantReturn) -> list[LineCheck]:
    award = grant_return.award
    previous: dict[int, int] = {}
    for other in award.returns:
        earlier = (other.period_end, other.id) < (grant_return.period_end, grant_return.id)
        if earlier and other.status == ReturnStatus.APPROVED:
            for line in other.lines:
                previous[line.award_line_id] = previous.get(line.award_line_id, 0) + \
                    line.spend_pence
    this = {line.award_line_id: line.spend_pence for line in grant_return.lines}
    checks = []
    for line in award.lines:
        to_date = previous.get(line.id, 0) + this.get(line.id, 0)
        checks.append(LineCheck(line, previous.get(line.id, 0), this.get(line.id, 0), to_date,
                                line.revised_pence - to_date))
    return checks


def review_return(grant_return: GrantReturn, approve: bool, comments: str,
                  actor: User) -> None:
    if not actor.has_role(Role.FINANCE):
        raise DomainError(_("Only finance can check returns."))
    if grant_return.status != ReturnStatus.SUBMITTED:
        raise DomainError(_("Only a submitted return can be checked: this one is %(status)s.",
                            status=grant_return.status.value.replace("_", " ")))
    if not approve and not comments.strip():
        raise DomainError(_("Say what needs to change"), field="comments")
    grant_return.reviews.append(ReturnReview(outcome="approved" if approve else "queried",
                                             comments=comments.strip(), by_id=actor.id,
                                             at=utcnow()))
    grant_return.status = ReturnStatus.APPROVED if approve else ReturnStatus.QUERIED
    if approve:
        grant_return.approved_at = utcnow()
    session.flush()
    audit.record("return.approved" if approve else "return.queried", "return", grant_return.id,
                 actor=actor, before={"status": ReturnStatus.SUBMITTED.value},
                 after={"status": grant_return.status.value, "comments": comments.strip()})
    award = grant_return.award
    for officer in officers_of(award.organisation):
        email.send(officer.email,
                   _("Return approved") if approve else _("Return queried: please revise"),
                   "return_reviewed", user=officer, grant_return=grant_return,
                   comments=comments.strip(), approved=approve)
    if approve and grant_return.kind == ReturnKind.FINAL and award.paid_pence >= \
            eligible_spend(award):
        close(award, actor)  # paid in arrears, it closes when the balance is paid


def close(award: Award, actor: User) -> Repayment | None:
    """The final return is approved: compute underspend (paid minus eligible) and close."""
    eligible = eligible_spend(award)
    underspend = award.paid_pence - eligible
    repayment = None
    if underspend > 0:
        repayment = Repayment(award_id=award.id, amount_pence=underspend, requested_at=utcnow())
        session.add(repayment)
    award.status = AwardStatus.CLOSED
    award.closed_at = utcnow()
    session.flush()
    audit.record("award.closed", "award", award.id, actor=actor,
                 before={"status": AwardStatus.ACTIVE.value},
                 after={"status": AwardStatus.CLOSED.value, "paid": award.paid_pence,
                        "eligible_spend": eligible, "underspend": max(0, underspend)})
    if repayment is not None:
        for officer in officers_of(award.organisation):
            email.send(officer.email, _("Underspend to repay: %(amount)s",
                                        amount=money(underspend)),
                       "repayment_requested", user=officer, award=award, repayment=repayment)
    return repayment


def record_repayment(repayment: Repayment, received_on: date, reference: str,
                     actor: User) -> None:
    if not actor.has_role(Role.FINANCE):
        raise DomainError(_("Only finance can record repayments."))
    if repayment.received_on is not None:
        raise DomainError(_("This repayment has already been recorded as received."))
    if not reference.strip():
        raise DomainError(_("Enter the payment reference"), field="reference")
    if received_on > uk_today():
        raise DomainError(_("The date received must be today or in the past"),
                          field="received_on")
    repayment.received_on = received_on
    repayment.received_reference = reference.strip()
    repayment.recorded_by_id = actor.id
    session.flush()
    audit.record("award.repayment_received", "award", repayment.award_id, actor=actor,
                 after={"amount": repayment.amount_pence, "received_on": received_on.isoformat(),
                        "reference": repayment.received_reference})


# --- variations ------------------------------------------------------------------------------


def request_variation(award: Award, kind: VariationKind, reason: str, actor: User, *,
                      moves: list[dict[str, Any]] | None = None,
                      new_end_date: date | None = None) -> Variation:
    if award.status != AwardStatus.ACTIVE:
        raise DomainError(_("Variations can only be asked for on an active award."))
    if not reason.strip():
        raise DomainError(_("Enter the reason for the change"), field="reason")
    lines = {line.id: line for line in award.lines}
    if kind == VariationKind.REALLOCATION:
        if not moves:
            raise DomainError(_("Say how much to move and between which lines"), field="amount")
        for move in moves:
            source = lines.get(move.get("from"))
            if source is None:
                raise DomainError(_("Choose a line to move money from"), field="from_line")
            if move.get("to") is not None and move["to"] not in lines:
                raise DomainError(_("Choose a line to move money to"), field="to_line")
            if move.get("to") is None and not (move.get("new_item") or "").strip():
                raise DomainError(_("Choose a line to move money to, or name a new line"),
                                  field="to_line")
            if move.get("to") == move.get("from"):
                raise DomainError(_("Choose two different lines"), field="to_line")
            if int(move.get("amount", 0)) <= 0:
                raise DomainError(_("Enter an amount more than £0"), field="amount")
            if int(move["amount"]) > source.revised_pence:
                raise DomainError(_("“%(item)s” has only %(n)s to move", item=source.item,
                                    n=money(source.revised_pence)), field="amount")
    else:
        if new_end_date is None:
            raise DomainError(_("Enter the new end date"), field="new_end_date")
        if new_end_date <= award.end_date:
            raise DomainError(_("The new end date must be after %(date)s",
                                date=long_date(award.end_date)), field="new_end_date")
    variation = Variation(award_id=award.id, kind=kind, reason=reason.strip(),
                          moves=moves or [], new_end_date=new_end_date,
                          requested_by_id=actor.id, requested_at=utcnow())
    session.add(variation)
    session.flush()
    audit.record("variation.requested", "award", award.id, actor=actor,
                 after={"variation": variation.id, "kind": kind.value, "moves": moves or [],
                        "new_end_date": new_end_date.isoformat() if new_end_date else None})
    return variation


def decide_variation(variation: Variation, approve: bool, comment: str, actor: User) -> None:
    if not actor.has_role(Role.MANAGER):
        raise DomainError(_("Only a grants manager can decide variations."))
    if variation.status != VariationStatus.REQUESTED:
        raise DomainError(_("This variation has already been decided."))
    if not approve and not comment.strip():
        raise DomainError(_("Give the reason for declining"), field="comment")
    award = variation.award
    if approve and variation.kind == VariationKind.REALLOCATION:
        _check_moves(award, variation.moves)  # every move checked before any line changes
        lines = {line.id: line for line in award.lines}
        before = {line.item: line.revised_pence for line in award.lines}
        for move in variation.moves:
            source = lines[move["from"]]
            amount = int(move["amount"])
            source.revised_pence -= amount
            if move.get("to") is not None:
                lines[move["to"]].revised_pence += amount
            else:
                new = AwardLine(position=max(lines_pos(award)) + 1, item=move["new_item"].strip(),
                                kind=source.kind, original_pence=0, revised_pence=amount,
                                note=_("Added by variation"))
                award.lines.append(new)
        session.flush()
        audit.record("award.lines_revised", "award", award.id, actor=actor, before=before,
                     after={line.item: line.revised_pence for line in award.lines})
    if approve and variation.kind == VariationKind.EXTENSION and variation.new_end_date:
        before_end = award.end_date
        award.end_date = variation.new_end_date
        final = next((r for r in award.returns if r.kind == ReturnKind.FINAL), None)
        if final is not None and final.status in OPEN_RETURN:
            final.period_end = award.end_date
            final.due_date = award.end_date + timedelta(weeks=award.round.fund.final_return_weeks)
        audit.record("award.extended", "award", award.id, actor=actor,
                     before={"end_date": before_end.isoformat()},
                     after={"end_date": award.end_date.isoformat()})
    variation.status = VariationStatus.APPROVED if approve else VariationStatus.DECLINED
    variation.decided_by_id = actor.id
    variation.decided_at = utcnow()
    variation.decision_comment = comment.strip()
    session.flush()
    audit.record("variation.approved" if approve else "variation.declined", "award", award.id,
                 actor=actor, after={"variation": variation.id, "comment": comment.strip()})


def _check_moves(award: Award, moves: list[dict[str, Any]]) -> None:
    """Refuse a reallocation that no longer fits the lines, before changing anything."""
    revised = {line.id: line.revised_pence for line in award.lines}
    items = {line.id: line.item for line in award.lines}
    for move in moves:
        amount = int(move["amount"])
        source = move["from"]
        if source not in revised or amount > revised[source]:
            raise DomainError(_("“%(item)s” no longer has %(n)s to move",
                                item=items.get(source, "?"), n=money(amount)))
        revised[source] -= amount
        if move.get("to") is not None:
            if move["to"] not in revised:
                raise DomainError(_("A line in this variation no longer exists."))
            revised[move["to"]] += amount


def lines_pos(award: Award) -> list[int]:
    return [line.position for line in award.lines] or [0]


def variations_waiting():  # type: ignore[no-untyped-def]
    return list(session.scalars(
        select(Variation).where(Variation.status == VariationStatus.REQUESTED)
        .options(joinedload(Variation.award).joinedload(Award.organisation))
        .order_by(Variation.requested_at)))


def awards_of(organisation_id: int) -> list[Award]:
    return list(session.scalars(
        select(Award).where(Award.organisation_id == organisation_id)
        .options(selectinload(Award.returns)).order_by(Award.offered_at.desc())))


def award_with_everything(award_id: int) -> Award | None:
    return session.scalar(
        select(Award).where(Award.id == award_id)
        .options(selectinload(Award.lines), selectinload(Award.payments),
                 selectinload(Award.returns).selectinload(GrantReturn.lines),
                 selectinload(Award.variations), selectinload(Award.repayments)))


def return_state(grant_return: GrantReturn, today: date) -> str:
    """due / overdue / received (submitted or approved) / queried / draft, as users see it."""
    if grant_return.status in {ReturnStatus.SUBMITTED, ReturnStatus.APPROVED}:
        return "received" if grant_return.status == ReturnStatus.SUBMITTED else "approved"
    if grant_return.status == ReturnStatus.QUERIED:
        return "queried"
    return "overdue" if grant_return.due_date < today else "due"
