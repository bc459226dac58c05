"""The public register and grant agreements over several financial years (issue 14): an
agreement is found on the register "with its amount and dates". A round over several years
counts in every year it funds, as the dashboard counts it: its grants are listed under each of
its years (and under no other), the year filter offers each of them, and the fund is shown with
its years ("2026/27 to 2028/29"), the award with its project dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.db import session
from portal.exports import giving360
from portal.models import Award, Bid, Decision, Fund, Round
from portal.queries import public as public_queries
from tests import bidding
from tests.helpers import signed_in, text_of
from tests.integration.test_direct_awards import (
    MANAGER,
    YEAR,
    make,
    make_budget,
    officer_agreement,
)
from tests.integration.test_transparency import award

TITLE = "CSP Project Officer"  # the three-year agreement of test_direct_awards
FUND = "Commissioner's agreements PCFD"


def year_label(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def three_year_agreement(app) -> None:
    """The £135,000 agreement from 1 April of this financial year to 31 March three years on,
    made through the direct award form from a budget over three years."""
    round_id = make_budget(app)
    made = make(signed_in(app, MANAGER), round_id, officer_agreement(app, round_id))
    assert made.status_code == 302, text_of(made)


def round_the_year_after(app) -> None:
    """A round of one year, the year after the agreement's last, so that year is a choice."""
    with app.app_context():
        fund = session.scalar(select(Fund).where(Fund.code == "SCF"))
        session.add(Round(fund_id=fund.id, name="Later round", financial_year=YEAR + 3,
                          opens_at=datetime(YEAR + 3, 4, 1, tzinfo=UTC),
                          closes_at=datetime(YEAR + 3, 6, 30, tzinfo=UTC),
                          budget_pence=10_000_00, cap_pence=None, committed_pence=0,
                          eligible_organisation_types=["csp"]))
        session.commit()


def shown(client, query: str) -> str:
    response = client.get(f"/transparency{query}")
    assert response.status_code == 200, text_of(response)
    return text_of(response)


def card(client, query: str, title: str) -> dict[str, str]:
    """The summary card of the grant ``title`` as {key: value}."""
    soup = BeautifulSoup(client.get(f"/transparency{query}").get_data(as_text=True),
                         "html.parser")
    for found in soup.select(".govuk-summary-card"):
        if found.select_one(".govuk-summary-card__title").get_text(strip=True) == title:
            return {row.select_one(".govuk-summary-list__key").get_text(" ", strip=True):
                    " ".join(row.select_one(".govuk-summary-list__value").get_text(" ").split())
                    for row in found.select(".govuk-summary-list__row")}
    raise AssertionError(f"no card for {title}")


def test_an_agreement_over_three_years_is_listed_under_each_of_its_years_only(app, client):
    three_year_agreement(app)
    round_the_year_after(app)
    for year in (YEAR, YEAR + 1, YEAR + 2):
        page = shown(client, f"?year={year}")
        assert TITLE in page, year
        assert "Showing 1 to 1 of 1 grants" in page, year
        assert TITLE in shown(client, f"?year={year}&fund=PCFD")
    after = shown(client, f"?year={YEAR + 3}")
    assert TITLE not in after and "No grants match these filters" in after
    assert "No grants match these filters" in shown(client, f"?year={YEAR + 1}&fund=SCF")
    with app.app_context():
        for year, total in ((YEAR - 1, 0), (YEAR, 1), (YEAR + 2, 1), (YEAR + 3, 0)):
            page = public_queries.register(year, None, 1, 20)
            assert (page.total, len(page.items)) == (total, total), year
            # the 360Giving export shares what counts as published, year by year
            assert len(session.execute(giving360.awarded_query(year)).unique().all()) == total


def test_the_register_shows_the_funds_years_and_the_projects_dates(app, client):
    three_year_agreement(app)
    for query in ("", f"?year={YEAR + 1}"):
        values = card(client, query, TITLE)
        assert values["Amount"] == "£135,000.00"
        assert values["Fund"] == f"{FUND}, {year_label(YEAR)} to {year_label(YEAR + 2)}"
        assert values["Project dates"] == f"1 April {YEAR} to 31 March {YEAR + 3}"
    with app.app_context():
        [row] = public_queries.register(YEAR + 2, "PCFD", 1, 20).items
        assert (row.financial_year, row.years) == (YEAR, 3)
        assert (row.start_date.isoformat(), row.end_date.isoformat()) == \
            (f"{YEAR}-04-01", f"{YEAR + 3}-03-31")


def test_a_round_of_one_year_still_shows_its_one_year(app, client):
    bid_id = award(app, "SCF", title="Bike lights for one year")
    with app.app_context():
        year = session.get(Bid, bid_id).round.financial_year
    values = card(client, "", "Bike lights for one year")
    assert values["Fund"] == f"Safer Communities Fund, {year_label(year)}"
    assert values["Project dates"].count(" to ") == 1


def test_a_decision_without_an_award_row_is_listed_without_dates(app, client):
    bid_id = award(app, "SCF", title="Decided before the portal kept awards")
    with app.app_context():
        session.delete(session.scalar(select(Award).join(Decision, Decision.id ==
                                                         Award.decision_id)
                                      .where(Decision.bid_id == bid_id)))
        session.commit()
    values = card(client, "", "Decided before the portal kept awards")
    assert "Project dates" not in values and values["Amount"] == "£4,750.00"


def test_the_year_filter_offers_every_year_a_round_funds(app, client):
    three_year_agreement(app)
    with app.app_context():
        years, _funds = public_queries.register_choices()
    assert {YEAR, YEAR + 1, YEAR + 2} <= set(years) and YEAR + 3 not in years
    assert years == sorted(set(years), reverse=True)
    html = client.get("/transparency").get_data(as_text=True)
    for year in (YEAR + 1, YEAR + 2):
        assert re.search(rf'<option value="{year}">{year_label(year)}</option>', html)
    chosen = client.get(f"/transparency?year={YEAR + 2}").get_data(as_text=True)
    assert re.search(rf'<option value="{YEAR + 2}"\s+selected', chosen)


@pytest.mark.parametrize("year", [
    "{later}abc", "99999999999", "{after}", "-{later}", "%2B{later}", "{later}.0", "0{later}",
    "２０２７", "{later}%01", "%3Cscript%3E{later}", "{later}/{short}", "9" * 5000,
])
def test_odd_years_give_the_form_error_as_other_searches_do(app, client, year):
    three_year_agreement(app)
    later = YEAR + 1
    query = year.format(later=later, after=YEAR + 3, short=f"{(later + 1) % 100:02d}")
    response = client.get(f"/transparency?year={query}")
    assert response.status_code == 400, query
    html = response.get_data(as_text=True)
    soup = BeautifulSoup(html, "html.parser")
    summary = soup.select_one(".govuk-error-summary")
    assert summary is not None and summary.find("a", href="#year") is not None
    group = soup.find(id="year").find_parent(class_="govuk-form-group")
    assert "govuk-form-group--error" in group["class"]
    assert "Select a financial year from the list" in group.get_text()
    assert soup.title.get_text().startswith("Error:")
    assert TITLE not in text_of(response) and "<script>" not in html


def test_the_register_costs_the_same_queries_for_1_and_20_grants_over_three_years(
        app, client, count_queries):
    counts = []
    made = 0
    for total in (1, 20):
        while made < total:
            award(app, "SCF", 1_000_00, title=f"Grant {made}")
            made += 1
        with app.app_context():  # the fund's round funds three years, and so do its grants
            round_ = bidding.round_of(app, "SCF")
            session.get(Round, round_.id).years = 3
            year = round_.financial_year
            for grant in session.scalars(select(Award).where(Award.round_id == round_.id)):
                grant.end_date = date(year + 3, 3, 31)
            session.commit()
        counted = []
        for query in ("", f"?year={year + 2}", f"?year={year + 1}&fund=SCF"):
            with count_queries() as queries:
                page = shown(client, query)
            assert f"of {total} grants" in page, query
            counted.append(len(queries))
        counts.append(counted)
    assert counts[0] == counts[1]


def test_an_agreement_of_one_year_from_a_budget_over_three_is_listed_in_its_own_year(app,
                                                                                     client):
    """The attack on issue 14: a direct fund's budget over three years holds agreements of
    one year too; each is listed under the years its project dates touch, not every year of
    the budget."""
    round_id = make_budget(app)
    one_year = officer_agreement(app, round_id, title="Second-year marshals",
                                 start_date=["1", "4", str(YEAR + 1)],
                                 end_date=["31", "3", str(YEAR + 2)],
                                 amount="10,000", **{f"lines-0-year_{YEAR}": "",
                                                     f"lines-0-year_{YEAR + 1}": "10000",
                                                     f"lines-0-year_{YEAR + 2}": ""})
    made = make(signed_in(app, MANAGER), round_id, one_year)
    assert made.status_code == 302, text_of(made)
    for year, listed in ((YEAR, False), (YEAR + 1, True), (YEAR + 2, False)):
        assert ("Second-year marshals" in shown(client, f"?year={year}")) is listed, year
        with app.app_context():
            titles = [d.bid.title for d in session.scalars(giving360.awarded_query(year))]
        assert ("Second-year marshals" in titles) is listed, year
