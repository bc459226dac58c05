"""Files attached at the same moment: the limit on a bid's files holds, and no file reaches a
bid after it was submitted (found by posting uploads in parallel through gunicorn)."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from portal.db import session, write_intent
from portal.models import (
    AuditEvent,
    Award,
    Bid,
    EvidenceFile,
    Fund,
    GrantReturn,
    ReturnEvidence,
    Round,
)
from portal.services import DomainError, accounts, bids, evidence
from portal.services import return_evidence as return_files
from tests import bidding
from tests.bidding import OFFICER
from tests.integration.test_awards_applicant import OFFICER as AWARD_OFFICER
from tests.integration.test_awards_applicant import awarded

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def real_app(committed_app):
    return committed_app("evidence_race")


def complete_draft(app) -> int:
    """A bid with every section complete, not yet submitted."""
    with app.test_request_context():
        officer = accounts.get_user_by_email(OFFICER)
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        bid = bids.start_bid(round_, officer, bids.new_creation_token())
        for section in bids.sections_for(round_):
            answers = bidding._answers(round_.financial_year, 300000)[section.key]
            bids.save_section(bid, section.key, answers, completed=True, expected_version=None,
                              actor=officer)
        session.commit()
        return bid.id


def race(app, bid_id: int, actions: list[Callable[[Bid, object], object]],
         officer_email: str = OFFICER) -> list[str]:
    """Run each action on the bid at the same moment, each in its own request; their outcomes."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(action: Callable[[Bid, object], object]) -> None:
        with app.test_request_context(method="POST"):
            token = write_intent.set(False)
            officer = accounts.get_user_by_email(officer_email)
            bid = session.get(Bid, bid_id)
            _ = bid.evidence, bid.round, officer.roles
            session.commit()
            write_intent.reset(token)
            barrier.wait(timeout=60)
            try:
                action(bid, officer)
                session.commit()
                result = "done"
            except DomainError:
                session.rollback()
                result = "refused"
            except Exception as exc:  # noqa: BLE001 - a database error would be a failure
                session.rollback()
                result = f"error: {type(exc).__name__}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def upload(bid, officer) -> None:
    evidence.add(bid, "plan.pdf", io.BytesIO(PDF), "", officer)


def test_uploads_at_once_never_pass_the_limit_on_files(real_app):
    app = real_app
    bid_id = complete_draft(app)
    most = app.config["MAX_UPLOADS_PER_BID"]
    with app.test_request_context(method="POST"):
        officer = accounts.get_user_by_email(OFFICER)
        bid = session.get(Bid, bid_id)
        for _ in range(most - 1):
            upload(bid, officer)
        session.commit()
    outcomes = race(app, bid_id, [upload] * 4)
    assert sorted(outcomes) == ["done", "refused", "refused", "refused"], outcomes
    with app.app_context():
        assert session.scalar(select(func.count()).select_from(EvidenceFile)
                              .where(EvidenceFile.bid_id == bid_id)) == most


def test_no_file_reaches_a_bid_after_its_submission(real_app):
    app = real_app
    bid_id = complete_draft(app)

    def submit(bid, officer) -> None:
        bids.submit(bid, officer)

    outcomes = race(app, bid_id, [submit] + [upload] * 4)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    with app.app_context():
        actions = bid_actions(bid_id)
        assert "bid.submitted" in actions
        after = actions[actions.index("bid.submitted"):]
        assert "bid.evidence_added" not in after, actions
        files = session.scalar(select(func.count()).select_from(EvidenceFile)
                               .where(EvidenceFile.bid_id == bid_id))
        assert files == actions.count("bid.evidence_added") == outcomes.count("done") - 1


def test_uploads_at_once_never_pass_the_limit_on_a_returns_files(real_app):
    app = real_app
    award_id = awarded(app, accepted=True)
    most = app.config.get("MAX_UPLOADS_PER_RETURN") or app.config["MAX_UPLOADS_PER_BID"]
    with app.test_request_context(method="POST"):
        officer = accounts.get_user_by_email(AWARD_OFFICER)
        award = session.get(Award, award_id)
        grant_return = award.returns[0]
        for _ in range(most - 1):
            return_files.add_return_evidence(grant_return, "spend.pdf", io.BytesIO(PDF), officer)
        session.commit()
        return_id, bid_id = grant_return.id, award.bid_id

    def add(bid, officer) -> None:
        grant_return = session.get(GrantReturn, return_id)
        return_files.add_return_evidence(grant_return, "spend.pdf", io.BytesIO(PDF), officer)

    outcomes = race(app, bid_id, [add] * 4, AWARD_OFFICER)
    assert sorted(outcomes) == ["done", "refused", "refused", "refused"], outcomes
    with app.app_context():
        assert session.scalar(select(func.count()).select_from(ReturnEvidence)
                              .where(ReturnEvidence.return_id == return_id)) == most


def test_no_file_leaves_a_bid_after_its_submission(real_app):
    app = real_app
    bid_id = complete_draft(app)
    with app.test_request_context(method="POST"):
        officer = accounts.get_user_by_email(OFFICER)
        bid = session.get(Bid, bid_id)
        ids = [upload_returning_id(bid, officer) for _ in range(4)]
        session.commit()

    def submit(bid, officer) -> None:
        bids.submit(bid, officer)

    def remover(evidence_id: int):
        def remove(bid, officer) -> None:
            time.sleep(0.05)  # the submission goes first, as a tester's slower clicks did
            evidence.remove(bid, evidence_id, officer)
        return remove

    outcomes = race(app, bid_id, [submit] + [remover(i) for i in ids])
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    with app.app_context():
        actions = bid_actions(bid_id)
        after = actions[actions.index("bid.submitted"):]
        assert "bid.evidence_removed" not in after, actions


def upload_returning_id(bid, officer) -> int:
    return evidence.add(bid, "plan.pdf", io.BytesIO(PDF), "", officer).id


def bid_actions(bid_id: int) -> list[str]:
    """The audit trail's actions on the bid, in the order they were recorded."""
    return list(session.scalars(
        select(AuditEvent.action).where(AuditEvent.record_type == "bid",
                                        AuditEvent.record_id == str(bid_id))
        .order_by(AuditEvent.id)))
