"""The budget guarantee under load: many managers approving at the same moment never
commit more than the round's budget, and exactly the affordable number succeed."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from portal.db import session, write_intent
from portal.models import Bid, BidStatus, Decision, Fund, Round
from portal.services import DomainError, accounts, decisions
from tests import bidding

BIDS = 16
AMOUNT = 475000  # £4,750 each: £76,000 asked of a £30,000 budget


@pytest.fixture
def real_app(committed_app):
    return committed_app("concurrency")


def test_simultaneous_approvals_never_pass_the_budget(real_app):
    app = real_app
    ids = [bidding.submitted_bid(app, f"officer.{short}@example.org", amount_pence=AMOUNT,
                                 title=f"Bid {i}")
           for i, short in enumerate(["cambridge", "eastcambs", "fenland", "hunts",
                                      "peterborough", "southcambs"] * 3)][:BIDS]
    with app.app_context():
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        budget = round_.budget_pence
    affordable = budget // AMOUNT
    assert BIDS * AMOUNT > 2 * budget
    barrier = threading.Barrier(BIDS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def approve(bid_id: int) -> None:
        with app.test_request_context():
            # Read first, in a read-only transaction that ends before the race, so every
            # thread reaches the starting line holding no lock and no connection.
            token = write_intent.set(False)
            manager = accounts.get_user_by_email("manager@example.org")
            bid = session.get(Bid, bid_id)
            _ = bid.round.criteria, bid.organisation, manager.roles
            session.commit()
            write_intent.reset(token)
            barrier.wait(timeout=60)
            try:
                decisions.approve(bid, AMOUNT, purpose="Lights", conditions="",
                                  reasons="Safer roads", actor=manager,
                                  override_reason="Decided at the panel before assessment")
                session.commit()
                result = "approved"
            except DomainError:
                session.rollback()
                result = "refused"
            except Exception as exc:  # noqa: BLE001 - a database error is a refusal too
                session.rollback()
                result = f"error: {type(exc).__name__}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=approve, args=(bid_id,)) for bid_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(outcomes) == BIDS
    assert set(outcomes) <= {"approved", "refused"}, outcomes  # refusals are clear messages
    assert outcomes.count("approved") == affordable, outcomes
    with app.app_context():
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        awarded = session.scalar(select(func.coalesce(func.sum(Decision.amount_pence), 0))
                                 .join(Bid).where(Bid.round_id == round_.id))
        assert round_.committed_pence == awarded == affordable * AMOUNT
        assert round_.committed_pence <= round_.budget_pence
        statuses = session.scalars(select(Bid.status).where(Bid.id.in_(ids))).all()
        assert statuses.count(BidStatus.AWARDED) == affordable


def test_the_database_itself_refuses_a_committed_total_above_the_budget(real_app):
    """Behind the guarded update, a CHECK constraint: even a raw write cannot overspend."""
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    with real_app.app_context():
        round_id = session.scalar(select(Round.id).join(Fund).where(Fund.code == "SCF"))
        with pytest.raises(IntegrityError):
            session.execute(update(Round).where(Round.id == round_id)
                            .values(committed_pence=Round.budget_pence + 1))
            session.flush()
        session.rollback()
