"""Decisions: approve within the round's budget, or decline with feedback.

The budget guarantee: the amount is committed by one guarded UPDATE
(``committed + amount <= budget`` in its WHERE clause), which the database applies
atomically, and a CHECK constraint on the rounds table refuses any total above the
budget behind it. Two managers approving at the same moment cannot overspend.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.db import session, utcnow
from portal.formatting import money
from portal.models import Assignment, Bid, BidStatus, Decision, DecisionOutcome, Role, Round
from portal.models import User
from portal.services import DomainError, audit, awards, email
from portal.services.bids import _move, _next_reference, officers_of

DECIDABLE = {BidStatus.SUBMITTED, BidStatus.IN_ASSESSMENT}


def decision_of(bid: Bid) -> Decision | None:
    return session.scalar(select(Decision).where(Decision.bid_id == bid.id))


def _check_may_decide(bid: Bid, actor: User) -> None:
    if not actor.has_role(Role.MANAGER):
        raise DomainError(_("Only a grants manager can decide bids."))
    assessed = session.scalar(select(Assignment.id).where(Assignment.bid_id == bid.id,
                                                          Assignment.assessor_id == actor.id))
    if assessed is not None:
        raise DomainError(_("You were assigned to assess this bid, so another manager must "
                            "decide it."))
    if decision_of(bid) is not None or bid.status in {BidStatus.AWARDED, BidStatus.NOT_FUNDED}:
        raise DomainError(_("This bid has already been decided."))
    if bid.status == BidStatus.MORE_INFORMATION_REQUESTED:
        raise DomainError(_("The partnership has not answered the question yet."))
    if bid.status not in DECIDABLE:
        raise DomainError(_("This bid cannot be decided: it has been withdrawn or not submitted."))


def _record(bid: Bid, decision: Decision, actor: User) -> None:
    """Insert the decision; a second decision on the same bid fails on the unique bid_id."""
    session.add(decision)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise DomainError(_("This bid has already been decided.")) from None


def commit_to_budget(round_: Round, amount: int) -> None:
    """Add ``amount`` to the round's committed total, or refuse if it would pass the budget."""
    result = session.execute(
        update(Round)
        .where(Round.id == round_.id, Round.committed_pence + amount <= Round.budget_pence)
        .values(committed_pence=Round.committed_pence + amount)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.refresh(round_)
        raise DomainError(_("Only %(remaining)s of the round's budget remains.",
                            remaining=money(round_.remaining_pence)), field="amount")
    session.refresh(round_)


def approve(bid: Bid, amount_pence: int, *, purpose: str, conditions: str, reasons: str,
            actor: User, now: datetime | None = None) -> Decision:
    _check_may_decide(bid, actor)
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
    now = now or utcnow()
    decision = Decision(bid_id=bid.id, outcome=DecisionOutcome.APPROVED, amount_pence=amount_pence,
                        purpose=purpose.strip(), conditions=conditions.strip(),
                        crime_reduction_reasons=reasons.strip(), decided_by_id=actor.id,
                        decided_at=now, decision_date=now.date(),
                        reference=_next_reference(f"DEC-{bid.round.financial_year}"))
    _record(bid, decision, actor)
    commit_to_budget(bid.round, amount_pence)
    _move(bid, BidStatus.AWARDED, actor, decision=decision.reference, amount=amount_pence)
    audit.record("decision.approved", "bid", bid.id, actor=actor,
                 after={"reference": decision.reference, "amount": amount_pence,
                        "conditions": decision.conditions})
    awards.create_offer(bid, decision, actor)
    _tell_partnership(bid, decision)
    return decision


def decline(bid: Bid, *, feedback: str, actor: User, now: datetime | None = None) -> Decision:
    _check_may_decide(bid, actor)
    if not feedback.strip():
        raise DomainError(_("Enter feedback for the partnership"), field="feedback")
    now = now or utcnow()
    decision = Decision(bid_id=bid.id, outcome=DecisionOutcome.DECLINED, amount_pence=0,
                        feedback=feedback.strip(), decided_by_id=actor.id, decided_at=now,
                        decision_date=now.date(),
                        reference=_next_reference(f"DEC-{bid.round.financial_year}"))
    _record(bid, decision, actor)
    _move(bid, BidStatus.NOT_FUNDED, actor, decision=decision.reference)
    audit.record("decision.declined", "bid", bid.id, actor=actor,
                 after={"reference": decision.reference, "feedback": decision.feedback})
    _tell_partnership(bid, decision)
    return decision


def _tell_partnership(bid: Bid, decision: Decision) -> None:
    subject = (_("Bid %(reference)s approved", reference=bid.reference)
               if decision.outcome == DecisionOutcome.APPROVED
               else _("Bid %(reference)s not funded", reference=bid.reference))
    for officer in officers_of(bid.organisation):
        email.send(officer.email, subject, "decision_made", user=officer, bid=bid,
                   decision=decision)
