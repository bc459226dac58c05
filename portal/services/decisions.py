"""Decisions: approve within the round's budget, or decline with feedback.

The budget guarantee: the amount is committed by one guarded UPDATE
(``committed + amount <= budget`` in its WHERE clause), which the database applies
atomically, and a CHECK constraint on the rounds table refuses any total above the
budget behind it. Two managers approving at the same moment cannot overspend.

The policy on assessments, stated once (:func:`readiness`): a bid is ready for a decision
when the round's required assessments are in (by default every assigned assessor who is not
conflicted, and at least one; or at least N when the round says so). Before that, a manager
may still decide, but only with an override reason, which the decision keeps and the audit
trail, the decision page and the exports show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import Select, case, func, select
from sqlalchemy.exc import IntegrityError

from portal.db import session, utcnow
from portal.formatting import money
from portal.models import (
    AssessmentStatus,
    Assignment,
    Bid,
    BidStatus,
    ConflictStatus,
    Decision,
    DecisionOutcome,
    Round,
    User,
)
from portal.services import DomainError, alignment, audit, awards, plans, policy, years
from portal.services.bids import _next_reference
from portal.services.policy import Action
from portal.services.workflow import Conflict, Transition, atomic, move, tell
from portal.workflows import BID

DECIDABLE = {BidStatus.SUBMITTED, BidStatus.IN_ASSESSMENT}
DECIDED = {BidStatus.AWARDED, BidStatus.NOT_FUNDED}
OVERRIDE_LIMIT = 2000  # characters of an override reason


# --- readiness: the round's required assessments ---------------------------------------------


@dataclass(frozen=True)
class Readiness:
    """Whether a bid has the assessments its round requires before a decision.

    ``submitted``: assessments submitted (a reopened one does not count until submitted
    again); ``assigned``: assessors assigned and not conflicted; ``required``: the round's
    setting (None: every assigned assessor); ``met``: whether a decision may be made
    without an override reason."""

    submitted: int
    assigned: int
    required: int | None
    met: bool

    @property
    def needed(self) -> int:
        """How many submitted assessments would meet the requirement now."""
        return max(self.assigned, 1) if self.required is None else self.required

    def shortfall(self) -> str:
        """In words: what is missing (empty when the requirement is met)."""
        if self.met:
            return ""
        if self.required is None and self.assigned == 0:
            return _("No assessor has been assigned to this bid. This round needs every "
                     "assigned assessor to submit an assessment before a decision.")
        if self.required is None:
            return _("%(submitted)d of the %(assigned)d assigned assessors have submitted an "
                     "assessment. This round needs every assigned assessor to submit one "
                     "before a decision.", submitted=self.submitted, assigned=self.assigned)
        done = ngettext("%(num)d assessment has been submitted.",
                        "%(num)d assessments have been submitted.", self.submitted)
        return done + " " + _("This round needs at least %(needed)d before a decision.",
                              needed=self.required)


def readiness_of(submitted: int, assigned: int, required: int | None) -> Readiness:
    """The policy: with no setting, every assigned (non-conflicted) assessor has submitted
    and at least one is assigned; with N, at least N have submitted."""
    if required is None:
        met = assigned >= 1 and submitted >= assigned
    else:
        met = submitted >= required
    return Readiness(submitted, assigned, required, met)


def assessment_counts(bid_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(submitted, assigned) per bid, counting only assessors who are not conflicted: one
    query for any number of bids."""
    if not bid_ids:
        return {}
    # Typed without Any, so that the rows unpack typed (with Any they are plain objects).
    statement: Select[int, int, int | None] = (
        select(Assignment.bid_id, func.count(),
               func.sum(case((Assignment.status == AssessmentStatus.SUBMITTED, 1), else_=0)))
        .where(Assignment.bid_id.in_(bid_ids), Assignment.conflict != ConflictStatus.CONFLICTED)
        .group_by(Assignment.bid_id))
    return {bid_id: (int(done or 0), int(total))
            for bid_id, total, done in session.execute(statement)}


def readiness(bid: Bid, assignments: list[Assignment] | None = None) -> Readiness:
    """Whether ``bid`` has the assessments its round requires before a decision. A page that
    has the bid's ``assignments`` already passes them (no query)."""
    if assignments is None:
        submitted, assigned = assessment_counts([bid.id]).get(bid.id, (0, 0))
    else:
        counted = [a for a in assignments if a.conflict != ConflictStatus.CONFLICTED]
        assigned = len(counted)
        submitted = sum(1 for a in counted if a.status == AssessmentStatus.SUBMITTED)
    return readiness_of(submitted, assigned, bid.round.required_assessments)


def decision_of(bid: Bid) -> Decision | None:
    return session.scalar(select(Decision).where(Decision.bid_id == bid.id))


def _check_may_decide(bid: Bid, actor: User) -> None:
    policy.require(actor, Action.MANAGE_GRANTS, otherwise=_("Only a grants manager can decide bids."))
    assessed = session.scalar(select(Assignment.id).where(Assignment.bid_id == bid.id,
                                                          Assignment.assessor_id == actor.id))
    if assessed is not None:
        raise DomainError(_("You were assigned to assess this bid, so another manager must "
                            "decide it."))
    if decision_of(bid) is not None or bid.status in DECIDED:
        raise DomainError(_("This bid has already been decided."))
    if bid.status == BidStatus.MORE_INFORMATION_REQUESTED:
        raise DomainError(_("The partnership has not answered the question yet."))
    if bid.status not in DECIDABLE:
        raise DomainError(_("This bid cannot be decided: it has been withdrawn or not submitted."))


def _check_override(bid: Bid, override_reason: str) -> tuple[Readiness, str]:
    """The bid's readiness and the override reason to keep: empty when the required
    assessments are in; otherwise the reason is required."""
    ready = readiness(bid)
    if ready.met:
        return ready, ""
    reason = (override_reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason for deciding before the required assessments are "
                            "in. %(shortfall)s", shortfall=ready.shortfall()),
                          field="override_reason")
    if len(reason) > OVERRIDE_LIMIT:
        raise DomainError(_("The reason must be %(limit)d characters or fewer",
                            limit=OVERRIDE_LIMIT), field="override_reason")
    return ready, reason


def _move(name: str, bid: Bid, actor: User, now: datetime) -> Transition:
    """The bid's guarded write; losing it to another manager's decision reads as such."""
    try:
        return move(BID, name, bid, actor, values={"updated_at": now}, audit_event=False)
    except Conflict:
        if bid.status in DECIDED:
            raise Conflict(_("This bid has already been decided: another manager recorded a "
                             "decision a moment ago. Nothing was changed by this request."
                             )) from None
        raise


def _readiness_record(ready: Readiness, override_reason: str) -> dict[str, object]:
    return {"assessments_submitted": ready.submitted, "assessments_assigned": ready.assigned,
            "assessments_required": ready.required, "override_reason": override_reason}


def _record(bid: Bid, decision: Decision, actor: User) -> None:
    """Insert the decision; a second decision on the same bid fails on the unique bid_id."""
    try:
        with session.begin_nested():  # added inside: a clash leaves nothing pending
            session.add(decision)
            session.flush()
    except IntegrityError:
        raise DomainError(_("This bid has already been decided.")) from None


def bid_years(bid: Bid) -> dict[int, int]:
    """What the bid asks for in each financial year (pence by starting year): its lines'
    amounts per year added up; a line without years counts in the round's first year."""
    totals: dict[int, int] = {}
    for line in bid.budget_lines:
        amounts = years.by_year(line.year_amounts) or {bid.round.financial_year: line.amount_pence}
        for year, pence in amounts.items():
            totals[year] = totals.get(year, 0) + pence
    return totals


def award_years(bid: Bid, amount_pence: int) -> dict[int, int]:
    """What an award of ``amount_pence`` to ``bid`` takes from each financial year: the
    offer's approved lines (each line scaled, then each line's years) added up per year. The
    round's years are committed with exactly these, so what a year has committed is always
    the sum of its awards' lines for that year; scaling the bid's yearly totals instead
    differs from the lines by a penny here and there on a part award."""
    lines = awards.scaled_lines(bid, amount_pence)  # the offer's own split
    amounts = {year: pence for year, pence in awards.year_totals(lines).items() if pence}
    return amounts or {bid.round.financial_year: amount_pence}  # a bid without lines


@atomic
def commit_to_budget(round_: Round, amount: int, amounts: dict[int, int] | None = None) -> None:
    """Add ``amount`` to the round's committed total and ``amounts`` (pence per financial
    year; by default all of it in the round's first year) to each year's, or refuse if any
    would pass its budget (:func:`portal.services.years.commit`)."""
    years.commit(round_, amounts if amounts is not None else {round_.financial_year: amount})


def _check_years(round_: Round, amounts: dict[int, int]) -> None:
    """Each year's share of an award within that year's cap and what remains of its budget
    (issue 14: "the cap and pot are checked per year and in total"). Raises DomainError
    beside ``amount`` naming the year."""
    if (round_.years or 1) == 1:
        return
    rows = {row.financial_year: row for row in round_.year_budgets}
    for year, pence in amounts.items():
        row = rows.get(year)
        if row is None:
            raise DomainError(_("The round has no budget for %(year)s",
                                year=years.year_label(year)), field="amount")
        if row.cap_pence is not None and pence > row.cap_pence:
            raise DomainError(_("The award's share for %(year)s (%(amount)s) cannot be more "
                                "than the round's limit of %(cap)s a bid for that year",
                                year=row.label, amount=money(pence), cap=money(row.cap_pence)),
                              field="amount")
        if pence > row.remaining_pence:
            raise DomainError(_("This award would take %(amount)s from the budget for "
                                "%(year)s, but only %(remaining)s of it remains",
                                amount=money(pence), remaining=money(row.remaining_pence),
                                year=row.label), field="amount")


@atomic
def approve(bid: Bid, amount_pence: int, *, purpose: str, conditions: str, reasons: str,
            actor: User, override_reason: str = "", plan_section_id: int | None = None,
            now: datetime | None = None) -> Decision:
    """Approve ``amount_pence`` (pence, at most what was asked and the round's cap) within
    what remains of the round's budget; records the decision (DEC-<year>-<n>), the offer and
    tells the partnership. Before the round's required assessments are in, only with an
    ``override_reason``. The award is listed under the section of the Police and Crime Plan
    ``plan_section_id`` (one of ``alignment.sections_for_decision``; None: under none; issue
    18). All or nothing: a refusal (DomainError beside a field, or ``Conflict`` when another
    manager decided first) leaves no decision, no commitment."""
    _check_may_decide(bid, actor)
    plans.hold_sections([plan_section_id])
    section = alignment.offered_section(plan_section_id, alignment.sections_for_decision(bid))
    if amount_pence <= 0:
        raise DomainError(_("Enter an amount more than £0"), field="amount")
    if amount_pence > bid.amount_requested_pence:
        raise DomainError(_("The award cannot be more than the %(asked)s asked for",
                            asked=money(bid.amount_requested_pence)), field="amount")
    cap = bid.round.cap_pence
    if cap is not None and amount_pence > cap:
        raise DomainError(_("The award cannot be more than the round's limit of %(cap)s",
                            cap=money(cap)), field="amount")
    for value, field, message in ((purpose, "purpose", _("Enter the purpose of the grant")),
                                  (reasons, "reasons", _("Enter why the grant will reduce crime "
                                                         "and disorder"))):
        if not value.strip():
            raise DomainError(message, field=field)
    if amount_pence > bid.round.remaining_pence:
        raise DomainError(_("Only %(remaining)s of the round's budget remains.",
                            remaining=money(bid.round.remaining_pence)), field="amount")
    amounts = award_years(bid, amount_pence)
    _check_years(bid.round, amounts)
    ready, override = _check_override(bid, override_reason)
    now = now or utcnow()
    before = bid.status.value
    transition = _move("award", bid, actor, now)
    # Read again with the bid's row held: an assessment reopened a moment ago counts.
    ready, override = _check_override(bid, override_reason)
    commit_to_budget(bid.round, amount_pence, amounts)
    decision = Decision(bid_id=bid.id, outcome=DecisionOutcome.APPROVED, amount_pence=amount_pence,
                        purpose=purpose.strip(), conditions=conditions.strip(),
                        crime_reduction_reasons=reasons.strip(), decided_by_id=actor.id,
                        decided_at=now, decision_date=now.date(), override_reason=override,
                        reference=_next_reference(f"DEC-{bid.round.financial_year}"))
    _record(bid, decision, actor)
    audit.record(transition.action, "bid", bid.id, actor=actor, before={"status": before},
                 after={"status": BidStatus.AWARDED.value, "reference": decision.reference,
                        "amount": amount_pence, "conditions": decision.conditions,
                        "plan_section": section.code if section is not None else None,
                        **_readiness_record(ready, override)})
    award = awards.create_offer(bid, decision, actor)
    if section is not None:
        award.plan_section = section
        session.flush()
    _tell_partnership(transition, bid, decision)
    return decision


@atomic
def decline(bid: Bid, *, feedback: str, actor: User, override_reason: str = "",
            now: datetime | None = None) -> Decision:
    """Decline with feedback for the partnership (DEC-<year>-<n>); before the round's
    required assessments are in, only with an ``override_reason``. Raises DomainError or
    ``Conflict`` (decided a moment ago by someone else); a refusal changes nothing."""
    _check_may_decide(bid, actor)
    if not feedback.strip():
        raise DomainError(_("Enter feedback for the partnership"), field="feedback")
    ready, override = _check_override(bid, override_reason)
    now = now or utcnow()
    before = bid.status.value
    transition = _move("decline", bid, actor, now)
    ready, override = _check_override(bid, override_reason)  # again, the bid's row held
    decision = Decision(bid_id=bid.id, outcome=DecisionOutcome.DECLINED, amount_pence=0,
                        feedback=feedback.strip(), decided_by_id=actor.id, decided_at=now,
                        decision_date=now.date(), override_reason=override,
                        reference=_next_reference(f"DEC-{bid.round.financial_year}"))
    _record(bid, decision, actor)
    audit.record(transition.action, "bid", bid.id, actor=actor, before={"status": before},
                 after={"status": BidStatus.NOT_FUNDED.value, "reference": decision.reference,
                        "feedback": decision.feedback, **_readiness_record(ready, override)})
    _tell_partnership(transition, bid, decision)
    return decision


def _tell_partnership(transition: Transition, bid: Bid, decision: Decision) -> None:
    subject = (_l("Bid %(reference)s approved", reference=bid.reference)
               if decision.outcome == DecisionOutcome.APPROVED
               else _l("Bid %(reference)s not funded", reference=bid.reference))
    tell(transition, subject, "decision_made", organisation_id=bid.organisation_id, bid=bid,
         decision=decision)
