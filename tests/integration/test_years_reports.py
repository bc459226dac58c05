"""Issue 14 on the grants dashboard and in the exports: a round over several financial years
(Putting Communities First: three) is reported per financial year and in total, and so is a
direct fund's budget. Every figure is checked against sums worked out here from the rows the
test made (budget and committed by year, payments by the year holding ``paid_on``, approved
returns' spend by the year their period ends in, within the award's years); the page's cost in
queries does not grow with the awards; a one-year round's figures are as they were."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.db import session
from portal.models import (
    Award,
    AwardStatus,
    Fund,
    GrantReturn,
    Payment,
    ReturnKind,
    ReturnLine,
    ReturnStatus,
    Round,
    RoundYear,
)
from portal.services import accounts, awards, bids, decisions, years
from tests import bidding
from tests.helpers import signed_in, text_of
from tests.integration.test_reports import (
    CAMBRIDGE,
    FENLAND,
    FINANCE,
    HUNTS,
    MANAGER,
    SOUTHCAMBS,
    csv_rows,
    file_return,
    make_grant,
    pay,
    returns_of,
    review,
    soup_of,
    table,
)
from tests.integration.test_reports import summary as summary_of

PCF_BUDGETS = (60_000_00, 65_000_00, 65_000_00)  # £190,000 over three years


def pounds(pence: int) -> str:
    return f"£{Decimal(pence) / 100:,.2f}"


def label(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def fy(day: date) -> int:
    """The financial year holding ``day``, worked out here (1 April to 31 March)."""
    return day.year if day >= date(day.year, 4, 1) else day.year - 1


# --- the rows the tests make ---------------------------------------------------------------------


def make_three_years(app, code: str = "PCF", budgets=PCF_BUDGETS, name: str | None = None) -> int:
    """The fund's round made to fund three financial years from its own, with ``budgets``."""
    with app.app_context():
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == code))
        assert round_.committed_pence == 0
        first = round_.financial_year
        round_.years = len(budgets)
        round_.budget_pence = sum(budgets)
        if name is not None:
            round_.name = name
        [only] = round_.year_budgets
        only.budget_pence = budgets[0]
        for offset, budget in enumerate(budgets[1:], start=1):
            round_.year_budgets.append(RoundYear(financial_year=first + offset,
                                                 budget_pence=budget, committed_pence=0))
        session.commit()
        return round_.id


@dataclass
class Grant:
    award_id: int
    round_id: int
    reference: str
    amount: int
    by_year: dict[int, int]  # what was asked and approved per year
    payments: list[tuple[date, int]] = field(default_factory=list)
    returns: list[tuple[date, int, bool]] = field(default_factory=list)  # end, spend, approved


def grant_over_years(app, officer: str, code: str, amounts: dict[int, int]) -> Grant:
    """A bid on the fund's round asking ``amounts`` (pence by starting year) on one line,
    approved in full and accepted."""
    with app.test_request_context():
        user = accounts.get_user_by_email(officer)
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == code))
        first = round_.financial_year
        total = sum(amounts.values())
        bid = bids.start_bid(round_, user, bids.new_creation_token())
        answers = bidding._answers(first, total)
        answers["about"].update(title=f"{code} grant for {user.organisation.name}",
                                start_date=f"{first}-04-01", end_date=f"{first + 1}-03-31")
        for section in bids.sections_for(round_):
            bids.save_section(bid, section.key, answers[section.key], completed=True,
                              expected_version=None, actor=user)
        bids.submit(bid, user)
        [line] = bid.budget_lines
        line.year_amounts = years.as_json(amounts)
        session.flush()
        decisions.approve(bid, total, purpose="Safer streets", conditions="",
                          reasons="Fewer incidents",
                          override_reason="Decided before the portal held assessments (test)",
                          actor=accounts.get_user_by_email(MANAGER))
        award = session.scalar(select(Award).where(Award.bid_id == bid.id))
        awards.accept(award, user.name, "Community safety officer", True, user,
                      now=bidding.early_acceptance(round_))
        session.commit()
        return Grant(award.id, round_.id, bid.reference, total, dict(amounts))


def add_payment(app, grant: Grant, paid_on: date, pence: int) -> None:
    """A payment made on ``paid_on`` (any day: the years to come too), paid to date with it."""
    with app.app_context():
        award = session.get(Award, grant.award_id)
        finance = accounts.get_user_by_email(FINANCE)
        session.add(Payment(award_id=award.id, amount_pence=pence, paid_on=paid_on,
                            reference=f"BACS-{paid_on.isoformat()}-{len(grant.payments)}",
                            recorded_by_id=finance.id))
        award.paid_pence += pence
        session.commit()
    grant.payments.append((paid_on, pence))


def add_return(app, grant: Grant, period_end: date, pence: int,
               status: ReturnStatus = ReturnStatus.APPROVED) -> None:
    """A return for the six months to ``period_end`` spending ``pence`` on the award's line."""
    with app.app_context():
        award = session.get(Award, grant.award_id)
        grant_return = GrantReturn(
            award_id=award.id, kind=ReturnKind.PERIODIC,
            period_start=period_end - timedelta(days=180), period_end=period_end,
            due_date=period_end + timedelta(days=30), status=status,
            submitted_at=datetime(period_end.year, period_end.month, period_end.day, 12,
                                  tzinfo=UTC))
        grant_return.lines = [ReturnLine(award_line_id=award.lines[0].id, spend_pence=pence)]
        session.add(grant_return)
        session.commit()
    grant.returns.append((period_end, pence, status == ReturnStatus.APPROVED))


# --- the sums the page must show -----------------------------------------------------------------


def expected_by_year(app, round_id: int, grants: list[Grant]) -> dict[int, list[int]]:
    """Budget, committed, remaining, paid and spent per financial year of the round, worked
    out from the rows made: committed from what each award was approved per year, paid by the
    year holding each payment, spent by the year each approved return's period ends in,
    brought within the award's years (the rules of portal.services.years, on the objects)."""
    with app.app_context():
        round_ = session.get(Round, round_id)
        budgets = {row.financial_year: row.budget_pence for row in round_.year_budgets}
        spent: dict[int, int] = defaultdict(int)
        for grant in grants:
            award = session.get(Award, grant.award_id)
            award_years = years.award_years(award)
            for item in award.returns:
                if item.status == ReturnStatus.APPROVED:
                    year = years.return_year(item, award_years)
                    spent[year] += item.spend_pence
    committed: dict[int, int] = defaultdict(int)
    paid: dict[int, int] = defaultdict(int)
    for grant in grants:
        for year, pence in grant.by_year.items():
            committed[year] += pence
        for paid_on, pence in grant.payments:
            paid[fy(paid_on)] += pence
    return {year: [budget, committed[year], budget - committed[year], paid[year], spent[year]]
            for year, budget in budgets.items()}


def money_row(figures: list[int]) -> list[str]:
    return [pounds(pence) for pence in figures]


def totals(by_year: dict[int, list[int]]) -> list[int]:
    return [sum(values[i] for values in by_year.values()) for i in range(5)]


@dataclass
class Scenario:
    first: int
    round_id: int
    grants: list[Grant]


def build(app) -> Scenario:
    round_id = make_three_years(app)
    with app.app_context():
        first = session.get(Round, round_id).financial_year
    # Fenland: money in all three years; paid in each; a return approved in each year, one
    # ending after the round's last year (counted in its last year), one only submitted.
    fenland = grant_over_years(app, FENLAND, "PCF",
                               {first: 20_000_00, first + 1: 25_000_00, first + 2: 15_000_00})
    add_payment(app, fenland, date(first, 5, 10), 10_000_00)
    add_payment(app, fenland, date(first + 1, 3, 31), 5_000_00)  # still the first year
    add_payment(app, fenland, date(first + 1, 4, 1), 12_500_00)  # the second year
    add_payment(app, fenland, date(first + 3, 1, 15), 7_000_00)  # the third year
    add_return(app, fenland, date(first, 9, 30), 4_000_00)
    add_return(app, fenland, date(first + 1, 3, 31), 6_000_00)
    add_return(app, fenland, date(first + 1, 9, 30), 9_000_00)
    add_return(app, fenland, date(first + 3, 9, 30), 3_000_00)  # after the last year
    add_return(app, fenland, date(first + 2, 9, 30), 8_000_00, ReturnStatus.SUBMITTED)
    # Cambridge: money in the first two years only; a return in the third counts in its second.
    cambridge = grant_over_years(app, CAMBRIDGE, "PCF", {first: 10_000_00, first + 1: 5_000_00})
    add_payment(app, cambridge, date(first, 6, 1), 10_000_00)
    add_return(app, cambridge, date(first + 2, 9, 30), 2_500_00)
    add_return(app, cambridge, date(first, 9, 30), 1_000_00, ReturnStatus.QUERIED)
    return Scenario(first, round_id, [fenland, cambridge])


@pytest.fixture
def manager(app):
    return signed_in(app, MANAGER)


# --- the dashboard -------------------------------------------------------------------------------


def test_the_three_year_round_is_shown_per_year_and_in_total_as_the_sums_say(app, manager):
    scenario = build(app)
    first = scenario.first
    page = manager.get("/reports/")
    assert page.status_code == 200
    rows = table(page, f"table-years-{scenario.round_id}")
    expected = expected_by_year(app, scenario.round_id, scenario.grants)
    assert list(expected) == [first, first + 1, first + 2]
    assert list(rows) == [label(first), label(first + 1), label(first + 2), "Total"]
    for year, figures in expected.items():
        assert rows[label(year)] == money_row(figures), year
    assert rows["Total"] == money_row(totals(expected))
    # The sums, spelled out once: the rules above are the ones meant.
    assert [expected[y][1] for y in expected] == [30_000_00, 30_000_00, 15_000_00]
    assert [expected[y][3] for y in expected] == [25_000_00, 12_500_00, 7_000_00]
    assert [expected[y][4] for y in expected] == [10_000_00, 11_500_00, 3_000_00]
    assert rows["Total"] == money_row([190_000_00, 75_000_00, 115_000_00, 44_500_00,
                                       24_500_00])


def test_the_totals_by_year_agree_with_the_rounds_table_and_the_round_itself(app, manager):
    scenario = build(app)
    page = manager.get("/reports/")
    by_year = table(page, f"table-years-{scenario.round_id}")["Total"]
    first = scenario.first
    rounds = table(page, "table-rounds")
    name = f"Putting Communities First fund, {first}/{(first + 1) % 100:02d} round " \
           f"({label(first)} to {label(first + 2)})"
    assert name in rounds
    # Budget, committed, remaining, paid and spent: the same in both tables.
    assert rounds[name][:5] == by_year
    with app.app_context():
        round_ = session.get(Round, scenario.round_id)
        assert by_year[:2] == [pounds(round_.budget_pence), pounds(round_.committed_pence)]
        assert round_.financial_year_label == f"{label(first)} to {label(first + 2)}"
        paid = sum(session.get(Award, g.award_id).paid_pence for g in scenario.grants)
    assert by_year[3] == pounds(paid)


def test_the_chart_beside_the_table_by_year_says_the_same_figures(app, manager):
    scenario = build(app)
    page = manager.get("/reports/")
    soup = soup_of(page)
    assert soup.find_all(style=True) == []
    svg = soup.find("svg", id=f"chart-years-{scenario.round_id}")
    assert svg is not None and svg["role"] == "img"
    title_id, desc_id = svg["aria-labelledby"].split()
    assert "money by financial year" in svg.find("title", id=title_id).get_text()
    assert "table" in svg.find("desc", id=desc_id).get_text()
    texts = [t.get_text(strip=True) for t in svg.find_all("text")]
    rows = table(page, f"table-years-{scenario.round_id}")
    for year in (scenario.first, scenario.first + 1, scenario.first + 2):
        cells = rows[label(year)]
        at = texts.index(label(year))
        assert texts[at + 1:at + 5] == [f"Budget: {cells[0]}", f"Committed: {cells[1]}",
                                        f"Paid: {cells[3]}", f"Spent: {cells[4]}"]


def test_the_round_is_shown_in_each_year_it_funds_and_only_those(app, manager):
    scenario = build(app)
    first = scenario.first
    whole = table(manager.get("/reports/"), f"table-years-{scenario.round_id}")
    for year in (first + 1, first + 2):
        page = manager.get(f"/reports/?year={year}")
        assert page.status_code == 200
        assert table(page, f"table-years-{scenario.round_id}") == whole
        assert f"({label(first)} to {label(first + 2)})" in text_of(page)
        options = [o["value"] for o in soup_of(page).find("select", id="year").find_all("option")]
        assert str(first + 2) in options
    later = manager.get(f"/reports/?year={first + 3}")
    assert soup_of(later).find("table", id=f"table-years-{scenario.round_id}") is None
    assert summary_of(later)["Committed"] == "£0.00"


def test_a_one_year_round_keeps_its_figures_and_has_no_table_by_year(app, manager):
    scenario = build(app)
    scf = make_grant(app, HUNTS, "SCF", [("Clearance days", "revenue", 200000)], ["fly_tipping"])
    pay(app, scf, 150000)
    periodic, _final = returns_of(app, scf)
    file_return(app, periodic, HUNTS, [60000])
    review(app, periodic)
    page = manager.get("/reports/")
    with app.app_context():
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        name, budget, round_id = f"Safer Communities Fund, {round_.name}", round_.budget_pence, \
            round_.id
        assert round_.financial_year_label == label(scenario.first)
    rows = table(page, "table-rounds")
    assert rows[name] == money_row([budget, 200000, budget - 200000, 150000, 60000, 0])
    assert soup_of(page).find("table", id=f"table-years-{round_id}") is None
    figures = summary_of(page)
    with app.app_context():
        budgets = sum(r.budget_pence for r in session.scalars(select(Round)))
    assert figures["Budget"] == pounds(budgets)
    assert figures["Committed"] == pounds(200000 + 75_000_00)


def test_a_direct_funds_budget_has_its_table_by_year(app, manager):
    scenario = build(app)
    with app.app_context():
        pcf = session.get(Round, scenario.round_id)
        # Made as an ordinary fund, then marked direct once its award is made: the award is
        # stored as a direct award is (an awarded bid and its decision), without depending on
        # the form that makes one.
        fund = Fund(code="DIR", name="Project Officer <b>agreement</b>", purpose="Direct awards",
                    direct=False)
        session.add(fund)
        session.add(Round(fund=fund, name="Allocation", financial_year=pcf.financial_year,
                          opens_at=pcf.opens_at, closes_at=pcf.closes_at,
                          budget_pence=45_000_00, committed_pence=0, cap_pence=None,
                          eligible_organisation_types=["csp"]))
        session.commit()
        direct = session.scalar(select(Round).where(Round.fund_id == fund.id))
        direct_id = direct.id
    grant = grant_over_years(app, SOUTHCAMBS, "DIR", {scenario.first: 45_000_00})
    with app.app_context():
        session.scalar(select(Fund).where(Fund.code == "DIR")).direct = True
        session.commit()
    add_payment(app, grant, date(scenario.first, 7, 1), 11_250_00)
    add_return(app, grant, date(scenario.first, 9, 30), 9_000_00)
    page = manager.get("/reports/")
    rows = table(page, f"table-years-{direct_id}")
    expected = expected_by_year(app, direct_id, [grant])
    assert rows[label(scenario.first)] == money_row(expected[scenario.first]) == money_row(
        [45_000_00, 45_000_00, 0, 11_250_00, 9_000_00])
    assert rows["Total"] == rows[label(scenario.first)]
    html = page.get_data(as_text=True)
    assert "<b>agreement</b>" not in html and "&lt;b&gt;agreement&lt;/b&gt;" in html
    assert "Direct awards" in text_of(page)
    # The direct award is in the dashboards' other tables and in the awards export.
    assert table(page, "table-partnerships")["South Cambridgeshire CSP"][1] == pounds(45_000_00)
    header, *awards_rows = csv_rows(signed_in(app, FINANCE).get("/reports/export/awards.csv"))
    assert grant.reference in [row[0] for row in awards_rows]


def test_the_awards_export_names_each_rounds_financial_years(app):
    scenario = build(app)
    scf = make_grant(app, HUNTS, "SCF", [("Clearance days", "revenue", 200000)], ["fly_tipping"])
    first = scenario.first
    for url in ("/reports/export/awards.csv", f"/reports/export/awards.csv?year={first + 1}",
                "/reports/export/awards.csv?year=all"):
        header, *rows = csv_rows(signed_in(app, FINANCE).get(url))
        by_reference = {row[0]: dict(zip(header, row)) for row in rows}
        for grant in scenario.grants:
            assert by_reference[grant.reference]["financial_years"] == \
                f"{label(first)} to {label(first + 2)}", url
            assert by_reference[grant.reference]["financial_year"] == str(first)
        if "?year=" not in url or url.endswith("all"):
            assert by_reference[scf.reference]["financial_years"] == label(first)
        else:
            assert scf.reference not in by_reference  # a one-year round is in its year only


def test_the_table_by_year_costs_the_same_queries_for_few_awards_and_many(app, count_queries):
    client = signed_in(app, MANAGER)
    officer = signed_in(app, FENLAND)
    round_id = make_three_years(app)
    with app.app_context():
        first = session.get(Round, round_id).financial_year
    one = grant_over_years(app, FENLAND, "PCF", {first: 1_000_00, first + 1: 1_000_00})
    add_payment(app, one, date(first, 5, 1), 1_000_00)
    add_return(app, one, date(first, 9, 30), 500_00)

    def cost() -> tuple[int, int]:
        with count_queries() as dashboard:
            assert client.get("/reports/").status_code == 200
        with count_queries() as partnership:
            assert officer.get("/reports/partnership").status_code == 200
        return len(dashboard), len(partnership)

    before = cost()
    made = [one]
    for n, officer_email in enumerate([CAMBRIDGE, HUNTS, SOUTHCAMBS, FENLAND, CAMBRIDGE]):
        grant = grant_over_years(app, officer_email, "PCF",
                                 {first: 2_000_00 + n, first + 1: 3_000_00, first + 2: 1_000_00})
        for offset in range(3):
            add_payment(app, grant, date(first + offset, 6, 1 + n), 1_000_00)
            add_return(app, grant, date(first + offset, 9, 30), 700_00)
        made.append(grant)
    assert cost() == before
    rows = table(client.get("/reports/"), f"table-years-{round_id}")
    expected = expected_by_year(app, round_id, made)
    assert rows["Total"] == money_row(totals(expected))


def test_an_offered_award_not_yet_accepted_counts_as_committed_in_its_years(app, manager):
    """Committed is the round's own per year (``RoundYear``), whether or not the offer has
    been accepted, as the rounds table has it."""
    scenario = build(app)
    with app.app_context():
        award = session.get(Award, scenario.grants[0].award_id)
        assert award.status == AwardStatus.ACTIVE
        rows = {r.financial_year: r.committed_pence
                for r in session.get(Round, scenario.round_id).year_budgets}
    shown = table(manager.get("/reports/"), f"table-years-{scenario.round_id}")
    assert [shown[label(year)][1] for year in sorted(rows)] == [
        pounds(rows[year]) for year in sorted(rows)]


def test_a_round_whose_name_gives_its_years_is_not_labelled_twice(app, manager):
    with app.app_context():
        first = session.scalar(select(Round).join(Fund).where(Fund.code == "PCF")).financial_year
    name = f"{label(first)} to {label(first + 2)} round"
    round_id = make_three_years(app, name=name)
    page = manager.get("/reports/")
    assert f"Putting Communities First fund, {name}" in table(page, "table-rounds")
    assert f"({label(first)} to {label(first + 2)})" not in text_of(page)
    assert soup_of(page).find("table", id=f"table-years-{round_id}") is not None
