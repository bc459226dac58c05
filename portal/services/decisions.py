"""Decisions: approve within the round's budget, or decline with feedback.

The budget guarantee: the amount is committed by one guarded UPDATE
(``committed + amount <= budget`` in its WHERE clause), which the database applies
atomically, and a CHECK constraint on the rounds table refuses any total above the
budget behind it. Two managers approving at the same moment cannot overspend.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.db import session, utcnow
from portal.formatting import money
from portal.models import Assignment, Bid, BidStatus, Decision, DecisionOutcome, Role, Round
from portal.models import User
from portal.services import DomainError, audit, awards
from portal.services.bids import _next_reference
from portal.services.workflow import atomic, move, tell
from portal.workflows import BID

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


@atomic
def approve(bid: Bid, amount_pence: int, *, purpose: str, conditions: str, reasons: str,
            actor: User, now: datetime | None = None) -> Decision:
    """Approve ``amount_pence`` (pence, at most what was asked and the round's cap) within
    what remains of the round's budget; records the decision (DEC-<year>-<n>), the offer and
    tells the partnership. All or nothing: a refusal (DomainError beside a field, or
    ``Conflict`` when another manager decided first) leaves no decision, no commitment."""
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
    if amount_pence > bid.round.remaining_pence:
        raise DomainError(_("Only %(remaining)s of the round's budget remains.",
                            remaining=money(bid.round.remaining_pence)), field="amount")
    now = now or utcnow()
    transition = move(BID, "award", bid, actor, values={"updated_at": now}, audit_event=False)
    commit_to_budget(bid.round, amount_pence)
    decision = Decision(bid_id=bid.id, outcome=DecisionOutcome.APPROVED, amount_pence=amount_pence,
                        purpose=purpose.strip(), conditions=conditions.strip(),
                        crime_reduction_reasons=reasons.strip(), decided_by_id=actor.id,
                        decided_at=now, decision_date=now.date(),
                        reference=_next_reference(f"DEC-{bid.round.financial_year}"))
    _record(bid, decision, actor)
    audit.record(transition.action, "bid", bid.id, actor=actor,
                 before={"status": BidStatus.IN_ASSESSMENT.value},
                 after={"status": BidStatus.AWARDED.value, "reference": decision.reference,
                        "amount": amount_pence, "conditions": decision.conditions})
    awards.create_offer(bid, decision, actor)
    _tell_partnership(transition, bid, decision)
    return decision


@atomic
def decline(bid: Bid, *, feedback: str, actor: User, now: datetime | None = None) -> Decision:
    """Decline with feedback for the partnership (DEC-<year>-<n>). Raises DomainError or
    ``Conflict`` (decided a moment ago by someone else); a refusal changes nothing."""
    _check_may_decide(bid, actor)
    if not feedback.strip():
        raise DomainError(_("Enter feedback for the partnership"), field="feedback")
    now = now or utcnow()
    transition = move(BID, "decline", bid, actor, values={"updated_at": now},
                      audit_event=False)
    decision = Decision(bid_id=bid.id, outcome=DecisionOutcome.DECLINED, amount_pence=0,
                        feedback=feedback.strip(), decided_by_id=actor.id, decided_at=now,
                        decision_date=now.date(),
                        reference=_next_reference(f"DEC-{bid.round.financial_year}"))
    _record(bid, decision, actor)
    audit.record(transition.action, "bid", bid.id, actor=actor,
                 after={"status": BidStatus.NOT_FUNDED.value, "reference": decision.reference,
                        "feedback": decision.feedback})
    _tell_partnership(transition, bid, decision)
    return decision


def _tell_partnership(transition, bid: Bid, decision: Decision) -> None:  # type: ignore[no-untyped-def]
    subject = (_l("Bid %(reference)s approved", reference=bid.reference)
               if decision.outcome == DecisionOutcome.APPROVED
               else _l("Bid %(reference)s not funded", reference=bid.reference))
    tell(transition, subject, "decision_made", organisation_id=bid.organisation_id, bid=bid,
         decision=decision)
