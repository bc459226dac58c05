"""An action is offered only when it can be taken (issue 13, presentation): the assessor
select leaves out assessors already assigned; asking a question or deciding while a question
waits shows a sentence saying why, not a form that would be refused."""

from __future__ import annotations

from bs4 import BeautifulSoup

from portal.db import session
from portal.models import Bid
from portal.services import accounts, assessment, bids
from tests import bidding
from tests.helpers import signed_in, text_of

MANAGER, ASSESSOR = "manager@example.org", "assessor1@example.org"


def _assessor_options(page) -> dict[str, str]:
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    select = soup.find("select", id="assessor")
    return {o["value"]: o.get_text(strip=True) for o in select.find_all("option") if o["value"]}


def test_the_assessor_select_leaves_out_assessors_already_assigned(app):
    bid_id = bidding.submitted_bid(app)
    manager = signed_in(app, MANAGER)
    before = _assessor_options(manager.get(f"/manage/bids/{bid_id}"))
    with app.test_request_context():
        assessor = accounts.get_user_by_email(ASSESSOR)
        assessment.assign(session.get(Bid, bid_id), assessor,
                          accounts.get_user_by_email(MANAGER))
        session.commit()
        assessor_id = str(assessor.id)
    assert assessor_id in before
    page = manager.get(f"/manage/bids/{bid_id}")
    after = _assessor_options(page)
    assert assessor_id not in after and set(after) == set(before) - {assessor_id}
    refused = manager.submit(f"/manage/bids/{bid_id}", {"assessor": assessor_id})
    assert refused.status_code in {200, 400}
    assert "There is a problem" in text_of(refused)


def _ask(app, bid_id: int) -> None:
    with app.test_request_context():
        bids.request_more_information(session.get(Bid, bid_id), "Who delivers it?",
                                      accounts.get_user_by_email(MANAGER))
        session.commit()


def test_asking_while_a_question_waits_shows_a_sentence_not_the_form(app):
    bid_id = bidding.submitted_bid(app)
    manager = signed_in(app, MANAGER)
    assert 'name="question"' in manager.get(f"/manage/bids/{bid_id}/ask").get_data(as_text=True)
    _ask(app, bid_id)
    page = manager.get(f"/manage/bids/{bid_id}/ask")
    assert page.status_code == 200
    assert 'name="question"' not in page.get_data(as_text=True)
    assert "A question is already waiting for an answer" in text_of(page)


def test_deciding_while_a_question_waits_says_why_not_yet(app):
    bid_id = bidding.submitted_bid(app)
    manager = signed_in(app, MANAGER)
    assert 'name="outcome"' in manager.get(f"/manage/bids/{bid_id}/decide").get_data(
        as_text=True)
    _ask(app, bid_id)
    page = manager.get(f"/manage/bids/{bid_id}/decide")
    html = page.get_data(as_text=True)
    assert 'name="outcome"' not in html
    assert "A decision cannot be made yet: the bid is waiting for" in text_of(page)
    assert f'href="/manage/bids/{bid_id}"' in html
