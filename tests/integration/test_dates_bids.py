"""A bid's project dates are checked against its round (issue 13, point 4): a project starts
no earlier than the round's financial year starts or the round opens, and ends by the year's
end (three financial years for a multi-year fund). Refusals are beside the field and save
nothing; every date field of the section is tried at each bound."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.db import session
from portal.models import Round
from portal.services.bids import project_date_bounds
from tests import bidding
from tests.helpers import table_row_counts, text_of

DATE_FIELDS = ("start_date", "end_date")


@pytest.fixture
def officer(client):
    client.sign_in(bidding.OFFICER)
    return client


def _dmy(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def _draft(app, client, code: str) -> tuple[int, int, date, date]:
    bid_id = bidding.start(client, app, code)
    with app.app_context():
        round_ = session.get(Round, bidding.round_of(app, code).id)
        first, last = project_date_bounds(round_)
        return bid_id, round_.financial_year, first, last


def _save(client, bid_id: int, year: int, start: date, end: date):
    answers = dict(bidding.ABOUT, start_date=_dmy(start), end_date=_dmy(end))
    return bidding.save(client, bid_id, "about", answers, year)


@pytest.mark.parametrize("code", ["SCF", "PCF"])
@pytest.mark.parametrize("field", DATE_FIELDS)
@pytest.mark.parametrize("side", ["before the first day", "after the last day"])
def test_each_project_date_outside_the_rounds_bounds_is_refused_beside_it(
        app, officer, code, field, side):
    bid_id, year, first, last = _draft(app, officer, code)
    outside = first - timedelta(days=1) if side == "before the first day" else \
        last + timedelta(days=1)
    days = {"start_date": first, "end_date": last, field: outside}
    if days["end_date"] < days["start_date"]:  # keep the order right: only the bound is wrong
        days["start_date" if field == "end_date" else "end_date"] = outside
    before = table_row_counts(app)
    response = _save(officer, bid_id, year, days["start_date"], days["end_date"])
    assert response.status_code == 200
    assert f'href="#{field}' in response.get_data(as_text=True) or \
        f'href="#{"start_date" if field == "end_date" else "end_date"}' in \
        response.get_data(as_text=True)
    assert "Dates must be between" in text_of(response)
    assert table_row_counts(app) == before


@pytest.mark.parametrize("code", ["SCF", "PCF"])
def test_a_project_running_from_the_first_to_the_last_day_allowed_is_saved(app, officer, code):
    bid_id, year, first, last = _draft(app, officer, code)
    assert _save(officer, bid_id, year, first, last).status_code == 302


def test_a_one_year_fund_ends_with_the_financial_year_and_a_multi_year_fund_three_years_on(app):
    with app.app_context():
        scf = session.get(Round, bidding.round_of(app, "SCF").id)
        pcf = session.get(Round, bidding.round_of(app, "PCF").id)
        year = scf.financial_year
        assert project_date_bounds(scf)[1] == date(year + 1, 3, 31)
        assert project_date_bounds(pcf)[1] == date(pcf.financial_year + 3, 3, 31)
        assert project_date_bounds(scf)[0] >= date(year, 4, 1)


def test_a_project_cannot_start_before_its_round_opens(app):
    from datetime import UTC, datetime

    from portal.services import DomainError, accounts, bids

    with app.test_request_context():
        officer = accounts.get_user_by_email(bidding.OFFICER)
        round_ = session.get(Round, bidding.round_of(app, "SCF").id)
        year = round_.financial_year
        # The round opened on 1 June, after its year began: 1 April is before it opened.
        round_.opens_at = datetime(year, 6, 1, 8, 0, tzinfo=UTC)
        round_.closes_at = datetime(year, 7, 1, 8, 0, tzinfo=UTC)
        session.flush()
        bid = bids.start_bid(round_, officer, bids.new_creation_token(),
                             now=datetime(year, 6, 2, tzinfo=UTC))
        with pytest.raises(DomainError) as refused:
            bids.save_section(bid, "about", {"title": "T", "summary": "S",
                                             "start_date": f"{year}-04-01",
                                             "end_date": f"{year}-09-30"},
                              completed=False, expected_version=None, actor=officer)
        assert refused.value.field == "start_date"
        assert "1 June" in refused.value.message


def test_an_end_before_the_start_is_refused_by_the_service_too(app):
    from portal.services import DomainError, accounts, bids

    with app.test_request_context():
        officer = accounts.get_user_by_email(bidding.OFFICER)
        round_ = session.get(Round, bidding.round_of(app, "SCF").id)
        bid = bids.start_bid(round_, officer, bids.new_creation_token())
        year = round_.financial_year
        with pytest.raises(DomainError) as refused:
            bids.save_section(bid, "about", {"title": "T", "summary": "S",
                                             "start_date": f"{year}-12-01",
                                             "end_date": f"{year}-11-30"},
                              completed=False, expected_version=None, actor=officer)
        assert refused.value.field == "end_date"
