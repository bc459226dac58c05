"""The bid's state changes at real speed: a saved budget amended, a double-clicked submit,
a refused submit that leaves nothing, and everyone concerned told in plain text."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.db import session, utcnow
from portal.demo import DEMO_PASSWORD
from portal.models import (
    Assignment,
    AuditEvent,
    Bid,
    BidStatus,
    BudgetLine,
    OutcomeMeasure,
    ReferenceCounter,
    Role,
    User,
    UserRole,
)
from portal.services import accounts, bids
from tests import bidding
from tests.bidding import OFFICER
from tests.conftest import mail_server
from tests.helpers import signed_in, table_row_counts, text_of

MANAGER = "manager@example.org"


@pytest.fixture
def officer(client):
    client.sign_in(OFFICER)
    return client


def _budget(rows: list[tuple[str, str, str]]) -> dict[str, str]:
    data = {"match_funding": "", "match_funding_sources": "", "completed": "yes"}
    for i, (item, kind, amount) in enumerate(rows):
        data.update({f"rows-{i}-item": item, f"rows-{i}-kind": kind, f"rows-{i}-amount": amount})
    return data


def _lines(app, bid_id):
    with app.app_context():
        return [(line.position, line.item, line.amount_pence) for line in session.scalars(
            select(BudgetLine).where(BudgetLine.bid_id == bid_id).order_by(BudgetLine.position))]


def test_a_saved_budget_can_be_amended_again_and_again(app, officer):
    bid_id = bidding.start(officer, app)
    year = bidding.round_of(app, "SCF").financial_year
    saved = bidding.save(officer, bid_id, "budget", _budget([("Lights", "capital", "100")]), year)
    assert saved.status_code == 302
    again = bidding.save(officer, bid_id, "budget", _budget([("Lights", "capital", "200")]), year)
    assert again.status_code == 302
    assert _lines(app, bid_id) == [(1, "Lights", 20000)]
    longer = _budget([("Mechanic", "revenue", "300"), ("Lights", "capital", "200"),
                      ("Parts", "revenue", "50")])
    assert bidding.save(officer, bid_id, "budget", longer, year).status_code == 302
    assert _lines(app, bid_id) == [(1, "Mechanic", 30000), (2, "Lights", 20000),
                                   (3, "Parts", 5000)]
    shorter = _budget([("Parts", "revenue", "75")])
    assert bidding.save(officer, bid_id, "budget", shorter, year).status_code == 302
    assert _lines(app, bid_id) == [(1, "Parts", 7500)]
    with app.app_context():
        assert session.get(Bid, bid_id).amount_requested_pence == 7500


def test_outcomes_can_be_saved_again_with_more_or_fewer_rows(app, officer):
    bid_id = bidding.start(officer, app)
    year = bidding.round_of(app, "SCF").financial_year
    assert bidding.save(officer, bid_id, "outcomes", bidding.OUTCOMES, year).status_code == 302
    one = {"rows-0-measure": "Bikes marked", "rows-0-target": "80",
           "rows-0-how_measured": "Register", "completed": "yes"}
    assert bidding.save(officer, bid_id, "outcomes", one, year).status_code == 302
    assert bidding.save(officer, bid_id, "outcomes", bidding.OUTCOMES, year).status_code == 302
    with app.app_context():
        measures = list(session.scalars(select(OutcomeMeasure.measure).where(
            OutcomeMeasure.bid_id == bid_id).order_by(OutcomeMeasure.position)))
    assert measures == ["Bike lights given out", "Bikes repaired"]


def test_a_refused_submission_changes_nothing(app, officer):
    """The round closes while the officer reads the check-answers page: the submit that
    follows is refused and leaves no row behind (no reference taken, no token kept)."""
    bid_id = bidding.start(officer, app)
    bidding.complete(officer, app, bid_id)
    tokens = officer.form_tokens(f"/bids/{bid_id}/check-answers", action=f"/bids/{bid_id}/submit")
    with app.app_context():
        round_ = session.get(Bid, bid_id).round
        round_.closes_at = utcnow() - timedelta(minutes=1)
        session.commit()
    before = table_row_counts(app)
    response = officer.post(f"/bids/{bid_id}/submit", data=tokens)
    assert response.status_code == 302
    assert "This round closed" in text_of(officer.get(response.headers["Location"]))
    assert table_row_counts(app) == before


def test_a_post_without_the_form_token_does_nothing_and_says_so(app, officer):
    bid_id = bidding.start(officer, app)
    bidding.complete(officer, app, bid_id)
    tokens = officer.form_tokens(f"/bids/{bid_id}/check-answers", action=f"/bids/{bid_id}/submit")
    before = table_row_counts(app)
    for forged in ("", "x" * 44, tokens["once"][:22] + "A" * 22, "<b>" * 15):
        response = officer.post(f"/bids/{bid_id}/submit",
                                data={"csrf_token": tokens["csrf_token"], "once": forged})
        assert response.status_code == 302
        assert "nothing was done" in text_of(officer.get(response.headers["Location"],
                                                          follow_redirects=True))
    assert table_row_counts(app) == before


def test_a_token_issued_to_one_officer_is_refused_from_another(app, officer):
    bid_id = bidding.start(officer, app)
    bidding.complete(officer, app, bid_id)
    tokens = officer.form_tokens(f"/bids/{bid_id}/check-answers", action=f"/bids/{bid_id}/submit")
    with app.app_context():
        own = accounts.get_user_by_email(OFFICER)
        accounts.create_user("Second Officer", "officer2.southcambs@example.org",
                             own.organisation, {Role.OFFICER}, actor=None, password=DEMO_PASSWORD)
        session.commit()
    colleague = signed_in(app, "officer2.southcambs@example.org")
    before = table_row_counts(app)
    mine = colleague.form_tokens(f"/bids/{bid_id}/check-answers",
                                 action=f"/bids/{bid_id}/submit")
    response = colleague.post(f"/bids/{bid_id}/submit",
                              data={"csrf_token": mine["csrf_token"], "once": tokens["once"]})
    assert "nothing was done" in text_of(colleague.get(response.headers["Location"],
                                                            follow_redirects=True))
    assert table_row_counts(app) == before
    assert officer.post(f"/bids/{bid_id}/submit", data=tokens).headers["Location"].endswith(
        "/submitted")


def test_the_same_submit_form_posted_twice_shows_the_first_result(app, officer, smtp):
    bid_id = bidding.start(officer, app)
    bidding.complete(officer, app, bid_id)
    tokens = officer.form_tokens(f"/bids/{bid_id}/check-answers", action=f"/bids/{bid_id}/submit")
    assert "once" in tokens
    first = officer.post(f"/bids/{bid_id}/submit", data=tokens)
    second = officer.post(f"/bids/{bid_id}/submit", data=tokens)
    assert first.headers["Location"].endswith(f"/bids/{bid_id}/submitted")
    assert second.headers["Location"] == first.headers["Location"]
    assert "already done" in text_of(officer.get(second.headers["Location"]))
    with app.app_context():
        assert session.scalar(select(func.count()).select_from(ReferenceCounter)) == 1
        submitted = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "bid.submitted", AuditEvent.record_id == str(bid_id)))
    assert submitted == 1
    assert len([m for m in smtp.messages if "submitted" in m["Subject"]]) == len(
        _officers(app))


def _officers(app) -> list[str]:
    with app.app_context():
        bid_org = accounts.get_user_by_email(OFFICER).organisation_id
        return list(session.scalars(select(User.email).join(UserRole).where(
            User.organisation_id == bid_org, UserRole.role == Role.OFFICER,
            User.active.is_(True))))


@pytest.fixture
def race_app(committed_app):
    """A database whose writes commit, and a real SMTP server on loopback."""
    app = committed_app("submit_race")
    with mail_server(app) as mailbox:
        yield app, mailbox


def test_five_submits_at_once_make_one_submission_one_reference_and_one_email_each(race_app):
    app, smtp = race_app
    officer = signed_in(app, OFFICER)
    bid_id = bidding.start(officer, app)
    bidding.complete(officer, app, bid_id)
    tokens = officer.form_tokens(f"/bids/{bid_id}/check-answers", action=f"/bids/{bid_id}/submit")
    barrier = threading.Barrier(5)
    statuses: list[int] = []

    def click() -> None:
        client = app.test_client()
        client.check_pages = False
        for cookie in officer._cookies.values():
            client.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
        barrier.wait(timeout=30)
        statuses.append(client.post(f"/bids/{bid_id}/submit", data=tokens).status_code)

    threads = [threading.Thread(target=click) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [302] * 5
    with app.app_context():
        bid = session.get(Bid, bid_id)
        assert bid.status == BidStatus.SUBMITTED and bid.reference.endswith("-0001")
        assert session.scalar(select(ReferenceCounter.last)) == 1
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "bid.submitted")) == 1
    submitted = [m for m in smtp.messages if "submitted" in m["Subject"]]
    assert sorted(m["To"] for m in submitted) == sorted(_officers(app))


def test_an_answer_reaches_the_managers_and_the_assessors_in_plain_text(app, officer, smtp):
    title = "Children's & families' \"safe\" project"
    bid_id = bidding.submitted_bid(app, title=title)
    with app.test_request_context():
        manager = accounts.get_user_by_email(MANAGER)
        assessor = session.scalar(select(User).join(UserRole).where(
            UserRole.role == Role.ASSESSOR))
        session.add(Assignment(bid_id=bid_id, assessor_id=assessor.id,
                               assigned_by_id=manager.id))
        bid = session.get(Bid, bid_id)
        bids.request_more_information(bid, "Which schools & when?", manager)
        session.commit()
        assessor_email = assessor.email
    asked = [m for m in smtp.messages if "Question about bid" in m["Subject"]]
    assert asked and title in asked[0].get_content()
    assert "&amp;" not in asked[0].get_content() and "&#39;" not in asked[0].get_content()
    response = officer.submit(f"/bids/{bid_id}/answer", {"answer": "Two schools & a club"})
    assert response.status_code == 302
    answered = [m for m in smtp.messages if "question answered" in m["Subject"]]
    recipients = {m["To"] for m in answered}
    assert MANAGER in recipients and assessor_email in recipients
    body = answered[0].get_content()
    assert title in body and "Two schools & a club" in body and "&amp;" not in body


def test_a_withdrawal_tells_the_managers_and_the_assessors(app, officer, smtp):
    bid_id = bidding.submitted_bid(app)
    response = officer.submit(f"/bids/{bid_id}/withdraw", {"reason": "Funded elsewhere"})
    assert response.status_code == 302
    recipients = {m["To"] for m in smtp.messages if "withdrawn" in m["Subject"]}
    assert MANAGER in recipients and OFFICER in recipients


def test_a_section_saved_as_the_bid_is_submitted_never_changes_the_submitted_bid(race_app):
    """One officer submits while another saves the budget from a page loaded earlier: either
    the save comes first (and the submission checks what it saved) or it is refused."""
    app, _smtp = race_app
    officer = signed_in(app, OFFICER)
    bid_id = bidding.start(officer, app)
    bidding.complete(officer, app, bid_id)
    year = bidding.round_of(app, "SCF").financial_year
    saver = app.test_client()
    saver.check_pages = False
    for cookie in officer._cookies.values():
        saver.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    section = {**bidding.fill(_budget([("Staff", "revenue", "4,900")]), year),
               **saver.form_tokens(bidding.section_url(bid_id, "budget"))}
    submit = officer.form_tokens(f"/bids/{bid_id}/check-answers",
                                 action=f"/bids/{bid_id}/submit")
    barrier = threading.Barrier(2)

    def save() -> None:
        barrier.wait(timeout=30)
        saver.post(bidding.section_url(bid_id, "budget"), data=section)

    def press_submit() -> None:
        barrier.wait(timeout=30)
        officer.post(f"/bids/{bid_id}/submit", data=submit)

    threads = [threading.Thread(target=save), threading.Thread(target=press_submit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with app.app_context():
        bid = session.get(Bid, bid_id)
        actions = list(session.scalars(select(AuditEvent.action).where(
            AuditEvent.record_type == "bid", AuditEvent.record_id == str(bid_id))
            .order_by(AuditEvent.id)))
        lines = sum(line.amount_pence for line in bid.budget_lines)
    assert bid.status == BidStatus.SUBMITTED
    assert actions[-1] == "bid.submitted"  # nothing saved after the submission
    assert bid.amount_requested_pence == lines
