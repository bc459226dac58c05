"""CSP officers bid online: rounds, the task list, sections, submission, withdrawal."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.db import session, utcnow
from portal.models import AuditEvent, Bid, BidStatus, BudgetLine, Round
from portal.services import accounts, bids, workflow
from portal.workflows import BID
from tests import bidding
from tests.bidding import OFFICER
from tests.helpers import text_of


@pytest.fixture
def officer(client):
    client.sign_in(OFFICER)
    return client


def load_bid(app, bid_id):
    from sqlalchemy.orm import selectinload

    with app.app_context():
        return session.get(Bid, bid_id, options=[selectinload(Bid.sections),
                                                 selectinload(Bid.budget_lines)])


def test_officers_see_rounds_with_purpose_cap_closing_time_and_criteria(app, officer):
    round_ = bidding.round_of(app, "SCF")
    page = text_of(officer.get(f"/rounds/{round_.id}"))
    assert "swift, visible response" in page
    assert "£5,000.00" in page
    assert "Evidence of need" in page and "30%" in page
    assert "Closes" in page and " at " in page  # a time of day, in UK time
    assert "Start a bid" in page


def test_closed_and_future_rounds_are_shown_as_such(app, officer):
    with app.app_context():
        scf = session.scalar(select(Round).where(Round.id == bidding.round_of(app, "SCF").id))
        yf = session.get(Round, bidding.round_of(app, "YF").id)
        scf.opens_at, scf.closes_at = utcnow() - timedelta(days=60), utcnow() - timedelta(days=1)
        yf.opens_at, yf.closes_at = utcnow() + timedelta(days=5), utcnow() + timedelta(days=50)
        session.commit()
    page = text_of(officer.get("/rounds/"))
    assert "Closed" in page and "Opens later" in page and "Open" in page
    closed = text_of(officer.get(f"/rounds/{bidding.round_of(app, 'SCF').id}"))
    assert "This round closed on" in closed and "Start a bid" not in closed


def test_a_new_bid_is_a_task_list_of_sections_not_yet_started(app, officer):
    bid_id = bidding.start(officer, app)
    page = text_of(officer.get(f"/bids/{bid_id}"))
    for title in ("About the project", "The problem and the evidence", "What will be done",
                  "Outcomes", "Budget", "Declarations"):
        assert title in page
    assert "Young people and safeguarding" not in page  # only for the Youth Fund
    assert page.count("Not yet started") == 6


def test_the_youth_fund_adds_the_youth_section(app, officer):
    bid_id = bidding.start(officer, app, "YF")
    assert "Young people and safeguarding" in text_of(officer.get(f"/bids/{bid_id}"))


def test_posting_the_start_form_twice_makes_one_bid(app, officer):
    round_ = bidding.round_of(app, "SCF")
    page = officer.get(f"/rounds/{round_.id}").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    first = officer.submit(f"/rounds/{round_.id}/start", {"token": token},
                           form_url=f"/rounds/{round_.id}")
    second = officer.submit(f"/rounds/{round_.id}/start", {"token": token},
                            form_url=f"/rounds/{round_.id}")
    assert first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        assert session.scalar(select(func.count()).select_from(Bid)) == 1


def test_sections_save_in_any_order_and_show_their_status(app, officer):
    bid_id = bidding.start(officer, app)
    year = load_bid(app, bid_id).round.financial_year
    bidding.save(officer, bid_id, "budget", bidding.BUDGET, year)
    partial = dict(bidding.DELIVERY, completed="no", partners="")
    bidding.save(officer, bid_id, "delivery", partial, year)
    page = text_of(officer.get(f"/bids/{bid_id}"))
    assert page.count("Completed") == 1 and page.count("In progress") == 1
    assert page.count("Not yet started") == 4
    bid = load_bid(app, bid_id)
    assert bid.amount_requested_pence == 475000


def test_a_section_in_progress_keeps_what_was_typed(app, officer):
    bid_id = bidding.start(officer, app)
    year = load_bid(app, bid_id).round.financial_year
    bidding.save(officer, bid_id, "about", {"title": "Half done", "completed": "no"}, year)
    page = officer.get(bidding.section_url(bid_id, "about")).get_data(as_text=True)
    assert 'value="Half done"' in page


def test_marking_a_section_complete_requires_every_answer(app, officer):
    bid_id = bidding.start(officer, app)
    year = load_bid(app, bid_id).round.financial_year
    response = bidding.save(officer, bid_id, "about", {"title": "Only a title",
                                                       "completed": "yes"}, year)
    page = text_of(response)
    assert response.status_code == 200
    assert "Enter a summary of the project" in page and "Enter the start date" in page
    assert 'value="Only a title"' in response.get_data(as_text=True)
    assert load_bid(app, bid_id).section("about") is None


def test_the_budget_total_is_computed_from_the_lines(app, officer):
    bid_id = bidding.start(officer, app)
    bidding.complete(officer, app, bid_id)
    bid = load_bid(app, bid_id)
    with app.app_context():
        lines = session.scalars(select(BudgetLine).where(BudgetLine.bid_id == bid_id)
                                .order_by(BudgetLine.position)).all()
    assert [line.amount_pence for line in lines] == [225000, 180000, 70000]
    assert [line.kind.value for line in lines] == ["capital", "revenue", "revenue"]
    assert bid.amount_requested_pence == sum(line.amount_pence for line in lines)
    assert "£4,750.00" in text_of(officer.get(f"/bids/{bid_id}/check-answers"))


def test_check_answers_shows_every_section_with_change_links(app, officer):
    bid_id = bidding.start(officer, app)
    bidding.complete(officer, app, bid_id)
    page = officer.get(f"/bids/{bid_id}/check-answers").get_data(as_text=True)
    for key in ("about", "problem", "delivery", "outcomes", "budget", "declarations"):
        assert f'href="/bids/{bid_id}/sections/{key}"' in page
    assert "Bike lights given out: 300" in page
    assert "Road safety, Bike theft" in page


def test_submitting_gives_a_reference_a_confirmation_and_an_email(app, officer, smtp):
    bid_id = bidding.start(officer, app)
    bidding.complete(officer, app, bid_id)
    response = bidding.submit(officer, bid_id)
    assert response.headers["Location"] == f"/bids/{bid_id}/submitted"
    bid = load_bid(app, bid_id)
    assert bid.status == BidStatus.SUBMITTED
    assert re.fullmatch(rf"SCF-{bid.round.financial_year}-\d{{4}}", bid.reference)
    confirmation = text_of(officer.get(response.headers["Location"]))
    assert "Bid submitted" in confirmation and bid.reference in confirmation
    [message] = smtp.to(OFFICER)
    assert bid.reference in message["Subject"]
    assert "£4,750.00" in message.get_content()


def test_references_count_up_within_a_fund_and_year(app, client):
    references = []
    for officer_email in (OFFICER, "officer.fenland@example.org"):
        other = app.test_client()
        other.sign_in(officer_email)
        bid_id = bidding.start(other, app)
        bidding.complete(other, app, bid_id)
        bidding.submit(other, bid_id)
        references.append(load_bid(app, bid_id).reference)
    numbers = [int(ref.rsplit("-", 1)[1]) for ref in references]
    assert numbers[1] == numbers[0] + 1


def test_submitting_twice_keeps_one_reference(app, officer, smtp):
    bid_id = bidding.start(officer, app)
    bidding.complete(officer, app, bid_id)
    bidding.submit(officer, bid_id)
    reference = load_bid(app, bid_id).reference
    again = bidding.submit(officer, bid_id)
    assert again.headers["Location"] == f"/bids/{bid_id}/submitted"
    assert load_bid(app, bid_id).reference == reference
    assert len(smtp.to(OFFICER)) == 1


def test_a_bid_cannot_be_submitted_with_sections_to_do(app, officer):
    bid_id = bidding.start(officer, app)
    bidding.complete(officer, app, bid_id, skip=("declarations",))
    page = text_of(officer.get(f"/bids/{bid_id}/check-answers"))
    assert "You cannot submit yet" in page and "Declarations" in page
    response = bidding.submit(officer, bid_id)
    assert "Complete every section before you submit" in text_of(officer.get(
        response.headers["Location"]))
    assert load_bid(app, bid_id).status == BidStatus.DRAFT


def test_submission_is_refused_after_the_exact_closing_time_and_the_draft_kept(app, officer):
    bid_id = bidding.start(officer, app)
    bidding.complete(officer, app, bid_id)
    with app.app_context():
        round_ = session.get(Round, load_bid(app, bid_id).round_id)
        round_.closes_at = utcnow().replace(microsecond=0) - timedelta(seconds=1)
        session.commit()
    token = officer.csrf_token("/bids/")
    response = officer.post(f"/bids/{bid_id}/submit", data={"csrf_token": token})
    page = text_of(officer.get(response.headers["Location"]))
    assert "This round closed on" in page
    bid = load_bid(app, bid_id)
    assert bid.status == BidStatus.DRAFT and bid.reference is None
    assert bid.section("about").answers["title"] == bidding.ABOUT["title"]


def test_a_submitted_bid_is_read_only(app, officer):
    bid_id = bidding.start(officer, app)
    bidding.complete(officer, app, bid_id)
    bidding.submit(officer, bid_id)
    page = officer.get(f"/bids/{bid_id}/check-answers").get_data(as_text=True)
    assert f'href="/bids/{bid_id}/sections/about"' not in page
    assert officer.get(bidding.section_url(bid_id, "about")).status_code == 302
    with app.app_context():
        bid = session.get(Bid, bid_id)
        with pytest.raises(bids.DomainError):
            bids.save_section(bid, "about", {"title": "Changed"}, completed=False,
                              expected_version=1, actor=accounts.get_user_by_email(OFFICER))


def test_every_officer_of_the_partnership_can_edit_its_drafts(app, officer):
    bid_id = bidding.start(officer, app)
    with app.app_context():
        csp = accounts.get_user_by_email(OFFICER).organisation
        accounts.create_user("Second Officer", "second@example.org", csp,
                             {accounts.Role.OFFICER}, actor=None,
                             password="meadow-lantern-copper-violin")
        session.commit()
    colleague = app.test_client()
    colleague.sign_in("second@example.org", "meadow-lantern-copper-violin")
    year = load_bid(app, bid_id).round.financial_year
    response = bidding.save(colleague, bid_id, "delivery", bidding.DELIVERY, year)
    assert response.status_code == 302


def test_a_save_from_a_stale_copy_is_refused_and_shows_the_newer_version(app, officer):
    bid_id = bidding.start(officer, app)
    year = load_bid(app, bid_id).round.financial_year
    bidding.save(officer, bid_id, "delivery", dict(bidding.DELIVERY, completed="no"), year)
    stale = bidding.version_of(officer, bid_id, "delivery")
    bidding.save(officer, bid_id, "delivery", dict(bidding.DELIVERY, activities="First edit"),
                 year, version=stale)
    response = bidding.save(officer, bid_id, "delivery",
                            dict(bidding.DELIVERY, activities="Second edit"), year, version=stale)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "saved this section on" in text_of(response)
    assert "First edit" in page  # the newer saved version, in the form
    assert "Second edit" in page  # what this user typed, kept beside it
    assert load_bid(app, bid_id).section("delivery").answers["activities"] == "First edit"


def test_withdrawing_a_submitted_bid_needs_a_reason_and_is_recorded(app, officer):
    bid_id = bidding.start(officer, app)
    bidding.complete(officer, app, bid_id)
    bidding.submit(officer, bid_id)
    empty = officer.submit(f"/bids/{bid_id}/withdraw", {"reason": ""})
    assert "Enter why you are withdrawing the bid" in text_of(empty)
    assert load_bid(app, bid_id).status == BidStatus.SUBMITTED
    done = officer.submit(f"/bids/{bid_id}/withdraw", {"reason": "Funded by the parish instead"})
    assert done.status_code == 302
    bid = load_bid(app, bid_id)
    assert bid.status == BidStatus.WITHDRAWN and bid.withdrawal_reason.startswith("Funded")
    history = text_of(officer.get(f"/bids/{bid_id}"))
    assert "Withdrawn: Funded by the parish instead" in history


def test_a_draft_cannot_be_withdrawn(app, officer):
    bid_id = bidding.start(officer, app)
    response = officer.get(f"/bids/{bid_id}/withdraw")
    assert response.status_code == 302
    assert load_bid(app, bid_id).status == BidStatus.DRAFT


def test_answering_a_request_for_information_returns_the_bid_to_the_assessors(app, officer, smtp):
    bid_id = bidding.start(officer, app)
    bidding.complete(officer, app, bid_id)
    bidding.submit(officer, bid_id)
    with app.test_request_context():
        bid = session.get(Bid, bid_id)
        manager = accounts.get_user_by_email("manager@example.org")
        workflow.move(BID, "start_assessment", bid, manager)
        bids.request_more_information(bid, "How many sessions are in school holidays?",
                                      accounts.get_user_by_email("manager@example.org"))
        session.commit()
    assert any("Question about bid" in m["Subject"] for m in smtp.to(OFFICER))
    page = text_of(officer.get(f"/bids/{bid_id}"))
    assert "More information requested" in page and "school holidays" in page
    response = officer.submit(f"/bids/{bid_id}/answer", {"answer": "Four of the twelve."})
    assert response.status_code == 302
    bid = load_bid(app, bid_id)
    assert bid.status == BidStatus.IN_ASSESSMENT
    page = text_of(officer.get(f"/bids/{bid_id}"))
    assert "school holidays" in page and "Four of the twelve." in page  # both stay on the bid
    assert "Question answered" in page


def test_every_state_change_is_audited(app, officer):
    bid_id = bidding.start(officer, app)
    bidding.complete(officer, app, bid_id)
    bidding.submit(officer, bid_id)
    with app.app_context():
        actions = list(session.scalars(select(AuditEvent.action).where(
            AuditEvent.record_type == "bid", AuditEvent.record_id == str(bid_id))))
    assert actions[0] == "bid.created"
    assert actions.count("bid.section_saved") == 6
    assert actions[-1] == "bid.submitted"


def test_the_workflow_refuses_moves_it_does_not_list(app, officer):
    bid_id = bidding.start(officer, app)
    with app.app_context():
        bid = session.get(Bid, bid_id)
        manager = accounts.get_user_by_email("manager@example.org")
        with pytest.raises(bids.DomainError):
            workflow.move(BID, "award", bid, manager)
        assert bid.status == BidStatus.DRAFT
