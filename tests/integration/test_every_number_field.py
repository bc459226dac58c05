"""Numbers through the pages (issue 13, point 3 and "Numbers"): "５０００" (full-width), "٥٠٠٠"
(Arabic-Indic) and "1_000" are refused as money in a budget line, a payment, an award and a
variation, with the message beside the field and nothing saved, on both databases; a
40-digit outcome target is told the most it can be; a criteria post missing its first row
keeps every row in its place. Every such field of every form is covered class by class in
``tests/unit/test_form_fields.py``.
"""

from __future__ import annotations

import pytest

from tests import bidding
from tests.helpers import signed_in, table_row_counts, text_of
from tests.integration.test_awards_applicant import (
    awarded,
    complete_return,
    facts,
    return_facts,
    return_url,
    variation_url,
)
from tests.integration.test_bidding_bad_input import saved
from tests.integration.test_decision_integrity import assessed_bid, decide, decisions_of
from tests.integration.test_decision_integrity import error_beside as error_of
from tests.integration.test_finance import FINANCE, make_award, payments_of, post_payment
from tests.integration.test_round_setup import MANAGER, ROUND, fund_named

# Spaces inside a number were once taken out: "50 00" was stored as £5,000.00, "1 2.3 4" as
# £12.34, "1,2 34" as £1,234.00.
NOT_MONEY = ["５０００", "٥٠٠٠", "1_000", "1e3", "0x10", "5,00,0", "50 00", "1 2.3 4", "1,2 34"]
MONEY_MESSAGE = "Enter an amount in pounds, like 4750 or 4,750.00"


@pytest.mark.parametrize("typed", NOT_MONEY)
def test_a_budget_line_takes_ascii_digits_only(app, typed):
    officer = signed_in(app, bidding.OFFICER)
    bid_id = bidding.start(officer, app)
    year = bidding.round_of(app, "SCF").financial_year
    answers = {"rows-0-item": "Signs", "rows-0-kind": "capital", "rows-0-amount": typed,
               "completed": "no"}
    counts = table_row_counts(app)
    response = bidding.save(officer, bid_id, "budget", answers, year)
    assert response.status_code == 200
    assert MONEY_MESSAGE in error_of(response, "rows-0-amount")
    assert saved(app, bid_id, "budget") is None
    assert table_row_counts(app) == counts


@pytest.mark.parametrize("typed", NOT_MONEY)
def test_a_payment_takes_ascii_digits_only(app, typed):
    award_id = make_award(app)
    response = post_payment(signed_in(app, FINANCE), award_id, amount=typed)
    assert response.status_code == 200
    assert MONEY_MESSAGE in error_of(response, "amount")
    assert payments_of(app, award_id) == (0, 0)


@pytest.mark.parametrize("typed", NOT_MONEY)
def test_an_award_amount_takes_ascii_digits_only(app, typed):
    bid_id = assessed_bid(app)
    response = decide(signed_in(app, "manager@example.org"), bid_id, amount=typed)
    assert response.status_code == 200
    assert MONEY_MESSAGE in error_of(response, "amount")
    assert decisions_of(app, bid_id) == []


@pytest.mark.parametrize("typed", NOT_MONEY)
def test_a_variation_amount_takes_ascii_digits_only(app, typed):
    award_id = awarded(app, accepted=True)
    lines = facts(app, award_id)["lines"]
    officer = signed_in(app, bidding.OFFICER)
    response = officer.submit(variation_url(award_id), {
        "kind": "reallocation", "from_line": str(lines["Spare parts"]),
        "to_line": str(lines["Bike lights"]), "amount": typed, "reason": "Because"})
    assert response.status_code == 200
    assert MONEY_MESSAGE in error_of(response, "amount")
    assert facts(app, award_id)["variations"] == []


@pytest.mark.parametrize(("typed", "message"), [
    ("9" * 40, "Target must be 10,000,000 or fewer"),
    ("３００", "Target must be a whole number, like 12"),
    ("1_000", "Target must be a whole number, like 12"),
])
def test_an_outcome_target_is_a_bounded_whole_number(app, typed, message):
    officer = signed_in(app, bidding.OFFICER)
    bid_id = bidding.start(officer, app)
    answers = {"rows-0-measure": "Lights given out", "rows-0-target": typed,
               "rows-0-how_measured": "Sign-up sheets", "completed": "no"}
    response = bidding.save(officer, bid_id, "outcomes", answers,
                            bidding.round_of(app, "SCF").financial_year)
    assert response.status_code == 200
    assert error_of(response, "rows-0-target") == f"Error: {message}"
    assert 'href="#rows-0-target"' in response.get_data(as_text=True)
    assert saved(app, bid_id, "outcomes") is None


def test_a_budget_post_missing_its_first_row_keeps_the_rows_in_place(app):
    officer = signed_in(app, bidding.OFFICER)
    bid_id = bidding.start(officer, app)
    answers = {"rows-1-item": "Signs", "rows-1-kind": "capital", "rows-1-amount": "wrong",
               "completed": "no"}
    response = bidding.save(officer, bid_id, "budget", answers,
                            bidding.round_of(app, "SCF").financial_year)
    assert response.status_code == 200, text_of(response)[:500]
    page = response.get_data(as_text=True)
    assert MONEY_MESSAGE in error_of(response, "rows-1-amount")  # beside row 1, not row 0
    assert 'href="#rows-1-amount"' in page and 'name="rows-8-item"' not in page


@pytest.mark.parametrize(("field", "typed", "message"), [
    *[("budget", typed, MONEY_MESSAGE) for typed in NOT_MONEY],
    ("cap", "50 00", MONEY_MESSAGE),
    ("opens_time", "1 7:00", "Opening time must be a real time, like 9:00 or 17:00"),
    ("closes_time", "1 7:00", "Closing time must be a real time, like 9:00 or 17:00"),
    ("closes_time", "5 :00pm", "Closing time must be a real time, like 9:00 or 17:00"),
])
def test_a_round_takes_money_and_times_without_spaces_inside(app, field, typed, message):
    manager = signed_in(app, MANAGER)
    fund = fund_named(app, "SCF")
    counts = table_row_counts(app)
    response = manager.submit(f"/manage/funds/{fund.id}/rounds/new", dict(ROUND, **{field: typed}))
    assert response.status_code == 200
    assert error_of(response, field) == f"Error: {message}"
    assert table_row_counts(app) == counts


def test_a_round_still_takes_spaces_at_either_end_and_after_the_pound_sign(app):
    manager = signed_in(app, MANAGER)
    fund = fund_named(app, "SCF")
    response = manager.submit(f"/manage/funds/{fund.id}/rounds/new", dict(
        ROUND, budget=" £ 40,000 ", cap="£ 5000", opens_time=" 9:00 ", closes_time="5 pm"))
    assert response.status_code == 302, text_of(response)[:500]


@pytest.mark.parametrize("typed", ["50 00", "1 2.3 4", "1,2 34"])
def test_return_spend_takes_no_spaces_inside_the_number(app, typed):
    award_id = awarded(app, accepted=True)
    known = facts(app, award_id)
    return_id = known["returns"][0]
    data = complete_return(app, award_id)
    name = f"line-{known['lines']['Spare parts']}"
    data[name] = typed
    data["save_draft"] = "y"
    officer = signed_in(app, bidding.OFFICER)
    counts = table_row_counts(app)
    response = officer.submit(return_url(award_id, return_id), data)
    assert response.status_code == 200
    assert MONEY_MESSAGE in error_of(response, name)
    assert return_facts(app, return_id)["spend"] == {}
    assert table_row_counts(app) == counts
