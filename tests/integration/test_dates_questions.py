"""Asking the partnership a question (issue 13, point 4): an answer-by date must be after
today and at most MOST_DAYS_TO_ANSWER days ahead; otherwise it is refused beside the field and
changes nothing; the email states the answer-by date as a UK date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.db import uk_today
from portal.formatting import long_date
from portal.services.bids import MOST_DAYS_TO_ANSWER
from tests import bidding
from tests.helpers import signed_in, table_row_counts, text_of

MANAGER = "manager@example.org"


def _ask(client, bid_id: int, respond_by):
    data = {"question": "Which schools take part, and when?"}
    if respond_by is not None:
        data["respond_by"] = [str(respond_by.day), str(respond_by.month), str(respond_by.year)]
    return client.submit(f"/manage/bids/{bid_id}/ask", data)


@pytest.mark.parametrize("days_from_today", [-1, -365 * 30, 0, MOST_DAYS_TO_ANSWER + 1, "9999"])
def test_an_answer_by_date_not_after_today_or_too_far_ahead_is_refused_beside_the_field(
        app, days_from_today):
    bid_id = bidding.submitted_bid(app)
    manager = signed_in(app, MANAGER)
    before = table_row_counts(app)
    day = date(9999, 12, 31) if days_from_today == "9999" else \
        uk_today() + timedelta(days=days_from_today)
    response = _ask(manager, bid_id, day)
    assert response.status_code == 200
    assert 'href="#respond_by' in response.get_data(as_text=True)
    assert "The answer-by date must be after today and no later than" in text_of(response)
    assert table_row_counts(app) == before


def test_the_email_to_the_partnership_states_the_answer_by_date(app, smtp):
    bid_id = bidding.submitted_bid(app)
    answer_by = uk_today() + timedelta(days=14)
    response = _ask(signed_in(app, MANAGER), bid_id, answer_by)
    assert response.status_code == 302, text_of(response)[:1000]
    [message] = [m for m in smtp.to(bidding.OFFICER) if "Question about bid" in m["Subject"]]
    with app.test_request_context():
        shown = long_date(answer_by)  # "14 December 2026"
    assert f"Please answer by {shown}." in message.get_content()


def test_a_question_with_no_answer_by_date_says_none(app, smtp):
    bid_id = bidding.submitted_bid(app)
    assert _ask(signed_in(app, MANAGER), bid_id, None).status_code == 302
    [message] = [m for m in smtp.to(bidding.OFFICER) if "Question about bid" in m["Subject"]]
    assert "Please answer by" not in message.get_content()


@pytest.mark.parametrize("days", [1, MOST_DAYS_TO_ANSWER])
def test_tomorrow_and_the_last_day_allowed_are_fine_answer_by_dates(app, days):
    bid_id = bidding.submitted_bid(app)
    response = _ask(signed_in(app, MANAGER), bid_id, uk_today() + timedelta(days=days))
    assert response.status_code == 302, text_of(response)[:1000]
