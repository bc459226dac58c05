"""A round's dates are checked against its financial year (issue 13, point 4): a 2026/27
round may open up to a year before the year starts and must close by its end. Every date
field of the round form is found from the form itself, on create and on edit; a refusal is
shown beside the field and changes no table."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from forms.fields import DayMonthYearField
from forms.setup import RoundForm
from portal.db import session
from portal.models import Fund
from portal.services.setup import round_date_bounds
from tests.helpers import table_row_counts, text_of

MANAGER = "manager@example.org"
ROUND = {
    "name": "2026/27 spring round", "financial_year": "2026",
    "opens_on": ["1", "4", "2026"], "opens_time": "9:00",
    "closes_on": ["30", "6", "2026"], "closes_time": "17:00",
    "budget": "30,000", "cap": "5,000", "eligible_organisation_types": ["csp"],
    "return_cadence": "six_monthly", "guidance": "",
}


def _dmy(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def date_fields() -> list[str]:
    """Every date field of the round form (found, not listed): each must have bounds."""
    return [name for name, field in vars(RoundForm).items()
            if isinstance(getattr(field, "field_class", None), type)
            and issubclass(field.field_class, DayMonthYearField)]


@pytest.fixture
def manager(client):
    client.sign_in(MANAGER)
    return client


def _urls(app) -> dict[str, str]:
    with app.app_context():
        fund = session.scalars(select(Fund).where(Fund.code == "SCF")).one()
        round_id = fund.rounds[0].id
        return {"create": f"/manage/funds/{fund.id}/rounds/new",
                "edit": f"/manage/rounds/{round_id}/edit"}


def test_every_date_field_of_the_round_form_has_bounds_from_its_financial_year():
    assert date_fields() == ["opens_on", "closes_on"]
    assert set(round_date_bounds(2026)) == set(date_fields())


def _outside(field: str) -> list[tuple[date, str]]:
    """Days just outside each bound of ``field`` for a 2026/27 round, and a phrase of the
    refusal."""
    earliest, latest = round_date_bounds(2026)[field]
    days = [(latest + timedelta(days=1), "31 March 2027")]
    if field == "opens_on":
        days.append((earliest - timedelta(days=1), "1 April 2025"))
    else:  # a close before the earliest opening is before the opening too
        days.append((earliest - timedelta(days=1), "close after it opens"))
    return days


CASES = [(field, day, words) for field in ["opens_on", "closes_on"]
         for day, words in _outside(field)]


@pytest.mark.parametrize("how", ["create", "edit"])
@pytest.mark.parametrize("field, day, words", CASES + [
    ("opens_on", date(2029, 10, 1), "31 March 2027"),  # the tester's round, years away
    ("closes_on", date(9999, 11, 30), "31 March 2027"),
])
def test_a_date_outside_its_financial_year_is_refused_beside_the_field_and_saves_nothing(
        app, manager, how, field, day, words):
    url = _urls(app)[how]
    data = dict(ROUND, **{field: _dmy(day)})
    if field == "opens_on":  # keep the close after the opening, so only the bound is wrong
        data["closes_on"] = _dmy(max(day, date(2026, 6, 30)) + timedelta(days=1))
    before = table_row_counts(app)
    response = manager.submit(url, data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'href="#{field}"' in page, text_of(response)[:1500]
    assert words in text_of(response)
    assert table_row_counts(app) == before


@pytest.mark.parametrize("field", ["opens_on", "closes_on"])
def test_each_bound_itself_is_accepted(app, manager, field):
    earliest, latest = round_date_bounds(2026)[field]
    if field == "opens_on":
        days = {"opens_on": earliest, "closes_on": date(2026, 6, 30)}, \
            {"opens_on": latest, "closes_on": latest}
    else:
        days = {"opens_on": date(2026, 4, 1), "closes_on": latest},
    for number, chosen in enumerate(days):
        data = dict(ROUND, name=f"Bound round {field} {number}",
                    **{name: _dmy(day) for name, day in chosen.items()})
        if chosen["opens_on"] == chosen["closes_on"]:
            data.update(opens_time="9:00", closes_time="17:00")
        response = manager.submit(_urls(app)["create"], data)
        assert response.status_code == 302, text_of(response)[:1500]


def test_a_round_may_open_before_its_year_starts(app, manager):
    data = dict(ROUND, name="Early round", opens_on=["5", "1", "2026"],
                closes_on=["27", "2", "2026"])
    assert manager.submit(_urls(app)["create"], data).status_code == 302
