"""The grants dashboard, a partnership's own figures and the exports: every figure agrees
with sums worked out here from the grants the test itself made; the charts are accessible
SVG with the same figures in a table; exports are filtered like the screen and refuse
unknown filters; the dashboard costs the same queries whatever the data."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.db import session, utcnow
from portal.models import Award, AwardStatus, Bid, Fund, GrantReturn, ReturnStatus, Round
from portal.services import accounts, assessment, awards, bids, decisions, reporting
from tests import bidding
from tests.helpers import signed_in, text_of

MANAGER, FINANCE, ADMIN = "manager@example.org", "finance@example.org", "admin@example.org"
ASSESSOR = "assessor1@example.org"
FENLAND, SOUTHCAMBS = "officer.fenland@example.org", "officer.southcambs@example.org"
CAMBRIDGE, HUNTS = "officer.cambridge@example.org", "officer.hunts@example.org"
FUND_NAMES = {"SCF": "Safer Communities Fund", "YF": "Youth Fund",
              "PCF": "Putting Communities First fund"}
ISSUE_LABELS = {"road_safety": "Road safety", "bike_theft": "Bike theft", "youth": "Youth",
                "anti_social_behaviour": "Anti-social behaviour", "fly_tipping": "Fly tipping"}
SHEETS = ["Bids", "Assessments", "Awards", "Payments", "Returns"]
NS = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def pounds(pence: int) -> str:
    return f"£{Decimal(pence) / 100:,.2f}"


def uk_today() -> date:
    return utcnow().astimezone(ZoneInfo("Europe/London")).date()


# --- grants made through the services, remembered for independent sums -------------------------


@dataclass
class Grant:
    award_id: int
    reference: str
    partnership: str
    fund: str
    issues: list[str]
    amount: int
    paid: int = 0
    spent: int = 0  # in approved returns only
    returned: int = 0  # repayments received


def make_grant(app, officer: str, code: str, lines: list[tuple[str, str, int]],
               issues: list[str]) -> Grant:
    """A bid for the whole financial year (a periodic and a final return) with ``issues``,
    approved in full by the manager and accepted by the partnership."""
    with app.test_request_context():
        user = accounts.get_user_by_email(officer)
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == code))
        year = round_.financial_year
        total = sum(pence for _item, _kind, pence in lines)
        bid = bids.start_bid(round_, user, bids.new_creation_token())
        answers = bidding._answers(year, total)
        answers["about"].update(title=f"{code} grant for {user.organisation.name}",
                                start_date=f"{year}-04-01", end_date=f"{year + 1}-03-31")
        answers["problem"]["issue_types"] = issues
        answers["budget"]["rows"] = [{"item": item, "kind": kind, "amount_pence": pence}
                                     for item, kind, pence in lines]
        for section in bids.sections_for(round_):
            bids.save_section(bid, section.key, answers[section.key], completed=True,
                              expected_version=None, actor=user)
        bids.submit(bid, user)
        decisions.approve(bid, total, purpose="Safer streets", conditions="",
                          reasons="Fewer incidents",
                          override_reason="Decided before the portal held assessments (test)",
                          actor=accounts.get_user_by_email(MANAGER))
        award = session.scalar(select(Award).where(Award.bid_id == bid.id))
        awards.accept(award, user.name, "Community safety officer", True, user,
                      now=bidding.early_acceptance(round_))
        session.commit()
        return Grant(award.id, bid.reference, user.organisation.name, code, issues, total)


def pay(app, grant: Grant, pence: int) -> None:
    with app.test_request_context():
        awards.record_payment(session.get(Award, grant.award_id), pence, utcnow().date(),
                              "BACS-1", accounts.get_user_by_email(FINANCE))
        session.commit()
    grant.paid += pence


def returns_of(app, grant: Grant) -> list[int]:
    """The award's returns, periodic first, final last."""
    with app.app_context():
        return [r.id for r in session.get(Award, grant.award_id).returns]


def file_return(app, return_id: int, officer: str, spend: list[int]) -> None:
    with app.test_request_context():
        grant_return = session.get(GrantReturn, return_id)
        award = grant_return.award
        outcomes = [awards.OutcomeInput(m.id, 100, "green", "On track")
                    for m in award.bid.outcomes]
        awards.save_return(grant_return, {line.id: pence for line, pence
                                          in zip(award.lines, spend)}, outcomes,
                           "A case study", 0, submit=True,
                           actor=accounts.get_user_by_email(officer))
        session.commit()


def review(app, return_id: int, approve: bool = True) -> None:
    with app.test_request_context():
        awards.review_return(session.get(GrantReturn, return_id), approve,
                             "" if approve else "Please add receipts",
                             accounts.get_user_by_email(FINANCE))
        session.commit()


def receive_repayment(app, grant: Grant) -> int:
    with app.test_request_context():
        [repayment] = session.get(Award, grant.award_id).repayments
        awards.record_repayment(repayment, utcnow().date(), "REMIT-1",
                                accounts.get_user_by_email(FINANCE))
        session.commit()
        return repayment.amount_pence


def set_due(app, return_id: int, due: date) -> None:
    with app.app_context():
        session.get(GrantReturn, return_id).due_date = due
        session.commit()


@dataclass
class Scenario:
    grants: list[Grant]
    year: int
    budgets: dict[str, int] = field(default_factory=dict)  # fund code -> round budget
    round_names: dict[str, str] = field(default_factory=dict)


def current_rounds(app) -> tuple[int, dict[str, int], dict[str, str]]:
    with app.app_context():
        rounds = session.scalars(select(Round).join(Fund)).all()
        year = max(r.financial_year for r in rounds)
        current = [r for r in rounds if r.financial_year == year]
        assert not session.scalars(select(Award)).all(), "the suite starts with no awards"
        return (year, {r.fund.code: r.budget_pence for r in current},
                {r.fund.code: r.name for r in current})


def build_scenario(app) -> Scenario:
    year, budgets, names = current_rounds(app)
    # Fenland: two issue types; paid in full; periodic return approved.
    fenland = make_grant(app, FENLAND, "SCF", [("Lights", "capital", 250000),
                                              ("Mechanic", "revenue", 150000)],
                         ["road_safety", "bike_theft"])
    pay(app, fenland, 400000)
    periodic, _final = returns_of(app, fenland)
    file_return(app, periodic, FENLAND, [100000, 50000])
    review(app, periodic)
    fenland.spent = 150000
    # South Cambridgeshire: part paid; its return is queried, so nothing counts as spent.
    south = make_grant(app, SOUTHCAMBS, "SCF", [("Cameras", "capital", 300000)],
                       ["road_safety"])
    pay(app, south, 100000)
    periodic, _final = returns_of(app, south)
    file_return(app, periodic, SOUTHCAMBS, [50000])
    review(app, periodic, approve=False)
    # Cambridge: youth fund, nothing paid, its first return overdue.
    cambridge = make_grant(app, CAMBRIDGE, "YF", [("Youth workers", "revenue", 250000)],
                           ["youth", "anti_social_behaviour"])
    periodic, final = returns_of(app, cambridge)
    set_due(app, periodic, uk_today() - timedelta(days=10))
    set_due(app, final, uk_today() + timedelta(days=30))
    # Huntingdonshire: closed with £500 of underspend repaid.
    hunts = make_grant(app, HUNTS, "SCF", [("Clearance days", "revenue", 200000)],
                       ["fly_tipping"])
    pay(app, hunts, 200000)
    for return_id, spend in zip(returns_of(app, hunts), [50000, 100000]):
        file_return(app, return_id, HUNTS, [spend])
        review(app, return_id)
    hunts.spent = 150000
    hunts.returned = receive_repayment(app, hunts)
    assert hunts.returned == 200000 - 150000
    return Scenario([fenland, south, cambridge, hunts], year, budgets, names)


@pytest.fixture
def scenario(app) -> Scenario:
    return build_scenario(app)


@pytest.fixture
def manager(app):
    return signed_in(app, MANAGER)


@pytest.fixture
def finance(app):
    return signed_in(app, FINANCE)


# --- reading pages -----------------------------------------------------------------------------


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def table(response, table_id: str) -> dict[str, list[str]]:
    """The table's rows (body and footer) by their heading cell: the other cells' text."""
    element = soup_of(response).find("table", id=table_id)
    assert element is not None, f"no table {table_id}"
    rows = {}
    for row in element.find_all("tr")[1:]:
        cells = [" ".join(c.get_text(" ", strip=True).split()) for c in row.find_all(["th", "td"])]
        rows[cells[0]] = cells[1:]
    return rows


def summary(response) -> dict[str, str]:
    soup = soup_of(response)
    return {row.find("dt").get_text(strip=True): row.find("dd").get_text(strip=True)
            for row in soup.find_all(class_="govuk-summary-list__row")}


def round_label(scenario: Scenario, code: str) -> str:
    return f"{FUND_NAMES[code]}, {scenario.round_names[code]}"


def expected_returns(app, grants: list[Grant]) -> tuple[int, int, int]:
    """(due, overdue, queried) worked out from the returns of the test's active awards."""
    today = uk_today()
    due = overdue = queried = 0
    with app.app_context():
        for grant in grants:
            award = session.get(Award, grant.award_id)
            if award.status != AwardStatus.ACTIVE:
                continue
            for item in award.returns:
                if item.status in (ReturnStatus.DUE, ReturnStatus.DRAFT):
                    overdue += item.due_date < today
                    due += item.due_date >= today
                queried += item.status == ReturnStatus.QUERIED
    return due, overdue, queried


# --- the dashboard -----------------------------------------------------------------------------


def test_the_dashboard_totals_match_the_grants_made(app, manager, scenario):
    page = manager.get("/reports/")
    assert page.status_code == 200
    grants = scenario.grants
    figures = summary(page)
    committed = sum(g.amount for g in grants)
    assert figures["Budget"] == pounds(sum(scenario.budgets.values()))
    assert figures["Committed"] == pounds(committed) == "£11,500.00"
    assert figures["Remaining"] == pounds(sum(scenario.budgets.values()) - committed)
    assert figures["Paid"] == pounds(sum(g.paid for g in grants)) == "£7,000.00"
    assert figures["Spent (approved returns)"] == pounds(sum(g.spent for g in grants))
    assert figures["Underspend returned"] == pounds(sum(g.returned for g in grants)) == "£500.00"
    due, overdue, _queried = expected_returns(app, grants)
    assert (figures["Returns due"], figures["Returns overdue"]) == (str(due), str(overdue))
    assert overdue >= 1 and due >= 1


def test_each_fund_and_round_shows_budget_committed_remaining_paid_spent_and_returned(
        app, manager, scenario):
    rows = table(manager.get("/reports/"), "table-rounds")
    for code, budget in scenario.budgets.items():
        mine = [g for g in scenario.grants if g.fund == code]
        committed = sum(g.amount for g in mine)
        assert rows[round_label(scenario, code)] == [
            pounds(budget), pounds(committed), pounds(budget - committed),
            pounds(sum(g.paid for g in mine)), pounds(sum(g.spent for g in mine)),
            pounds(sum(g.returned for g in mine))], code
    with app.app_context():  # the round's own committed total agrees with the awards
        scf = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF",
                                                             Round.financial_year == scenario.year))
        assert scf.committed_pence == sum(g.amount for g in scenario.grants if g.fund == "SCF")
    assert rows["Total"][1] == pounds(sum(g.amount for g in scenario.grants))


def test_spend_counts_only_from_approved_returns(app, manager, scenario):
    rows = table(manager.get("/reports/"), "table-partnerships")
    # South Cambridgeshire reported £500 in a return finance queried: not spent yet.
    assert rows["South Cambridgeshire CSP"] == ["1", "£3,000.00", "£1,000.00", "£0.00", "£0.00"]


def test_figures_by_partnership_list_every_partnership(app, manager, scenario):
    rows = table(manager.get("/reports/"), "table-partnerships")
    for grant in scenario.grants:
        assert rows[grant.partnership] == ["1", pounds(grant.amount), pounds(grant.paid),
                                           pounds(grant.spent), pounds(grant.returned)]
    assert rows["East Cambridgeshire CSP"] == ["0", "£0.00", "£0.00", "£0.00", "£0.00"]


def test_an_award_counts_under_each_issue_type_of_its_bid_and_the_page_says_so(
        app, manager, scenario):
    page = manager.get("/reports/")
    rows = table(page, "table-issue-types")
    by_issue: dict[str, list[Grant]] = defaultdict(list)
    for grant in scenario.grants:
        for issue in grant.issues:
            by_issue[issue].append(grant)
    assert set(rows) == {ISSUE_LABELS[issue] for issue in by_issue}
    for issue, grants in by_issue.items():
        assert rows[ISSUE_LABELS[issue]] == [
            str(len(grants)), pounds(sum(g.amount for g in grants)),
            pounds(sum(g.paid for g in grants)), pounds(sum(g.spent for g in grants)),
            pounds(sum(g.returned for g in grants))], issue
    assert rows["Road safety"][1] == "£7,000.00"  # Fenland's and South Cambridgeshire's
    assert "counted under each of them" in text_of(page)


def test_returns_due_overdue_and_queried_are_counted_by_round(app, finance, scenario):
    rows = table(finance.get("/reports/"), "table-returns")
    for code in scenario.budgets:
        mine = [g for g in scenario.grants if g.fund == code]
        assert rows[round_label(scenario, code)] == [
            str(n) for n in expected_returns(app, mine)], code
    assert rows[round_label(scenario, "YF")][1] == "1"  # Cambridge's overdue return
    assert rows[round_label(scenario, "SCF")][2] == "1"  # South Cambridgeshire's queried one


def test_the_dashboard_filters_by_fund_and_defaults_to_the_current_year(app, finance, scenario):
    page = finance.get("/reports/?fund=YF")
    rows = table(page, "table-rounds")
    assert list(rows) == [round_label(scenario, "YF"), "Total"]
    assert summary(page)["Committed"] == "£2,500.00"
    label = f"{scenario.year}/{(scenario.year + 1) % 100:02d}"
    assert f"Financial year {label}" in text_of(finance.get("/reports/"))
    empty = finance.get("/reports/?year=2001")
    assert empty.status_code == 200 and summary(empty)["Committed"] == "£0.00"
    assert "There are no funding rounds for this selection." in text_of(empty)


def test_charts_are_accessible_svg_with_the_same_figures_in_a_table(app, manager, scenario):
    page = manager.get("/reports/")
    soup = soup_of(page)
    assert soup.find_all(style=True) == []  # the Content Security Policy forbids them
    charts = soup.find_all("svg")
    assert {svg["id"] for svg in charts} == {"chart-rounds", "chart-partnerships",
                                             "chart-issue-types", "chart-sections"}
    for svg in charts:
        assert svg["role"] == "img"
        title_id, desc_id = svg["aria-labelledby"].split()
        assert svg.find("title", id=title_id).get_text(strip=True)
        assert "table" in svg.find("desc", id=desc_id).get_text()
    # The partnership chart's bars say what the table says.
    chart = soup.find("svg", id="chart-partnerships")
    texts = [t.get_text(strip=True) for t in chart.find_all("text")]
    rows = table(page, "table-partnerships")
    for name, cells in rows.items():
        position = texts.index(name)
        assert texts[position + 1:position + 3] == [f"Committed: {cells[1]}",
                                                    f"Paid: {cells[2]}"]
    # Bars are drawn to one scale: the biggest committed figure has the longest bar.
    widths = {int(r["width"]) for r in chart.find_all("rect")}
    assert max(widths) > 0


def test_a_chart_draws_only_the_largest_groups_when_there_are_many_and_says_so(app):
    from portal.reports import routes

    many = [reporting.Row(key=f"Partnership {n:02d}", committed_pence=n * 1000,
                          paid_pence=n * 500) for n in range(routes.CHARTED + 5)]
    board = reporting.Dashboard(filters=reporting.Filters(year=2026), rounds=[],
                                partnerships=many, issue_types=[])
    with app.test_request_context():
        chart = routes._charts(board, 2026, {}, partnership=False)["partnerships"]
    drawn = [group.label for group in chart.groups]
    assert len(drawn) == routes.CHARTED
    assert drawn == [row.key for row in many[5:]]  # the largest, in the table's order
    assert f"Only the {routes.CHARTED} largest of {len(many)} are drawn" in chart.description
    few = many[:3]
    with app.test_request_context():
        chart = routes._charts(reporting.Dashboard(
            filters=board.filters, rounds=[], partnerships=few, issue_types=[]),
            2026, {}, partnership=False)["partnerships"]
    assert [g.label for g in chart.groups] == [r.key for r in few]
    assert "Only the" not in chart.description


def test_the_dashboard_costs_the_same_queries_for_no_grants_and_many(app, count_queries):
    client = signed_in(app, MANAGER)
    officer = signed_in(app, FENLAND)

    def cost() -> tuple[int, int]:
        with count_queries() as dashboard:
            assert client.get("/reports/").status_code == 200
        with count_queries() as partnership:
            assert officer.get("/reports/partnership").status_code == 200
        return len(dashboard), len(partnership)

    before = cost()
    build_scenario(app)
    for n in range(3):
        grant = make_grant(app, FENLAND, "PCF", [(f"Officer {n}", "revenue", 1000000)],
                           ["anti_social_behaviour", "youth"])
        periodic, _final = returns_of(app, grant)
        file_return(app, periodic, FENLAND, [200000])
        review(app, periodic)
    assert cost() == before


# --- a partnership's own figures ---------------------------------------------------------------


def test_an_officer_sees_only_their_own_partnerships_figures(app, scenario):
    fenland = scenario.grants[0]
    client = signed_in(app, FENLAND)
    page = client.get("/reports/partnership")
    assert page.status_code == 200
    text = text_of(page)
    assert "Safer Fenland Partnership" in text
    for other in scenario.grants[1:]:
        assert other.partnership not in text
    assert summary(page)["Awarded"] == pounds(fenland.amount) == "£4,000.00"
    assert summary(page)["Paid"] == pounds(fenland.paid)
    assert summary(page)["Spent (approved returns)"] == pounds(fenland.spent)
    rows = table(page, "table-rounds")
    assert rows[round_label(scenario, "SCF")] == [
        pounds(fenland.amount), pounds(fenland.paid), pounds(fenland.spent), "£0.00"]
    assert rows[round_label(scenario, "YF")] == ["£0.00"] * 4
    issues = table(page, "table-issue-types")
    assert set(issues) == {"Road safety", "Bike theft"}
    assert issues["Road safety"][1] == "£4,000.00"  # not South Cambridgeshire's too
    assert "Budget" not in summary(page)
    svg = soup_of(page).find("svg", id="chart-rounds")
    assert svg["role"] == "img" and svg.find("title")


def test_another_officer_sees_their_own_figures_not_fenlands(app, scenario):
    page = signed_in(app, CAMBRIDGE).get("/reports/partnership?fund=YF")
    assert summary(page)["Awarded"] == "£2,500.00"
    assert summary(page)["Returns overdue"] == "1"
    assert "Safer Fenland Partnership" not in text_of(page)


# --- exports -----------------------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


HEADERS = {
    "bids": ["reference", "title", "partnership", "fund", "round", "financial_year", "status",
             "issue_types", "amount_requested_gbp", "match_funding_gbp", "start_date",
             "end_date", "submitted_at"],
    "assessments": ["bid_reference", "partnership", "fund", "round", "assessor", "assigned_at",
                    "conflict", "status", "recommendation", "score_percent", "submitted_at"],
    "awards": ["reference", "decision_reference", "title", "partnership", "fund", "round",
               "financial_year", "financial_years", "status", "amount_gbp", "paid_gbp", "spent_gbp",
               "returned_gbp", "start_date", "end_date", "offered_at", "accepted_at",
               "closed_at", "override_reason"],
    "payments": ["award_reference", "partnership", "fund", "round", "paid_on", "amount_gbp",
                 "payment_reference", "recorded_at"],
    "returns": ["award_reference", "partnership", "fund", "round", "kind", "period_start",
                "period_end", "due_date", "status", "state", "spend_gbp",
                "forecast_underspend_gbp", "submitted_at", "approved_at"],
}


def test_the_awards_csv_has_a_row_per_award_with_money_in_pounds(app, finance, scenario):
    response = finance.get("/reports/export/awards.csv")
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert header == HEADERS["awards"]
    by_reference = {row[0]: dict(zip(header, row)) for row in rows}
    assert set(by_reference) == {g.reference for g in scenario.grants}
    for grant in scenario.grants:
        row = by_reference[grant.reference]
        assert (row["partnership"], row["fund"]) == (grant.partnership, grant.fund)
        assert [Decimal(row[k]) * 100 for k in ("amount_gbp", "paid_gbp", "spent_gbp",
                                                "returned_gbp")] == [
            grant.amount, grant.paid, grant.spent, grant.returned]
        assert row["start_date"] == f"{scenario.year}-04-01"


def test_the_bids_csv_lists_submitted_bids_with_their_issue_types_but_no_drafts(
        app, manager, scenario):
    with app.test_request_context():
        officer = accounts.get_user_by_email(FENLAND)
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        draft = bids.start_bid(round_, officer, bids.new_creation_token())
        session.commit()
        draft_id = draft.id
    header, *rows = csv_rows(manager.get("/reports/export/bids.csv"))
    assert header[:len(HEADERS["bids"])] == HEADERS["bids"]
    assert all(h.startswith("answer:") for h in header[len(HEADERS["bids"]):])  # issue 15
    assert len(rows) == len(scenario.grants)
    fenland = next(dict(zip(header, r)) for r in rows if r[0] == scenario.grants[0].reference)
    assert fenland["issue_types"] == "road_safety; bike_theft"
    assert fenland["amount_requested_gbp"] == "4000.00" and fenland["status"] == "awarded"
    assert all(row[0] for row in rows)  # the draft has no reference and no row
    with app.app_context():
        assert session.get(Bid, draft_id).status.value == "draft"


def test_the_payments_returns_and_assessments_csvs(app, manager, scenario):
    header, *payments = csv_rows(manager.get("/reports/export/payments.csv"))
    assert header == HEADERS["payments"]
    assert sorted(Decimal(row[5]) * 100 for row in payments) == sorted(
        g.paid for g in scenario.grants if g.paid)
    header, *returns = csv_rows(manager.get("/reports/export/returns.csv"))
    assert header == HEADERS["returns"]
    assert len(returns) == 2 * len(scenario.grants)
    states = [row[9] for row in returns]
    due, overdue, queried = expected_returns(app, scenario.grants)
    assert (states.count("overdue"), states.count("queried")) == (overdue, queried)
    bid_id = bidding.submitted_bid(app, CAMBRIDGE, title="Assessed bid")
    with app.test_request_context():
        assessment.assign(session.get(Bid, bid_id), accounts.get_user_by_email(ASSESSOR),
                          accounts.get_user_by_email(MANAGER))
        session.commit()
        reference = session.get(Bid, bid_id).reference
    header, *assessed = csv_rows(manager.get("/reports/export/assessments.csv"))
    assert header == HEADERS["assessments"]
    assert [(row[0], row[4], row[7]) for row in assessed] == [
        (reference, "Alex Assessor", "not_started")]


def test_exports_follow_the_fund_filter(app, finance, scenario):
    header, *rows = csv_rows(finance.get("/reports/export/awards.csv?fund=YF"))
    assert [row[0] for row in rows] == [scenario.grants[2].reference]
    header, *rows = csv_rows(finance.get("/reports/export/payments.csv?fund=yf"))
    assert rows == []  # Cambridge's youth grant is not paid yet


def test_exports_can_cover_every_financial_year_at_once(app, finance, scenario):
    cambridge = scenario.grants[2]
    with app.app_context():  # the youth grant's round moves to the year before
        round_ = session.scalar(select(Round).join(Fund).where(
            Fund.code == "YF", Round.financial_year == scenario.year))
        round_.financial_year = scenario.year - 1
        session.commit()
    this_year = [row[0] for row in csv_rows(finance.get("/reports/export/awards.csv"))[1:]]
    assert cambridge.reference not in this_year and len(this_year) == 3
    response = finance.get("/reports/export/awards.csv?year=all")
    assert response.headers["Content-Disposition"] == "attachment; filename=awards-all-years.csv"
    every_year = [row[0] for row in csv_rows(response)[1:]]
    assert sorted(every_year) == sorted(g.reference for g in scenario.grants)
    rows = csv_rows(finance.get("/reports/export/awards.csv?year=ALL&fund=YF"))[1:]
    assert [row[0] for row in rows] == [cambridge.reference]
    page = soup_of(finance.get("/reports/"))
    links = {a["href"] for a in page.select("a[href*='year=all']")}
    assert "/reports/export/awards.csv?year=all" in links
    assert "/reports/export/workbook.xlsx?year=all" in links
    # The dashboards themselves show one year at a time.
    assert finance.get("/reports/?year=all").status_code == 400


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_an_empty_selection_gives_a_csv_of_headers_only(app, finance, scenario, name):
    response = finance.get(f"/reports/export/{name}.csv?year=2001")
    assert csv_rows(response) == [HEADERS[name]]


def sheets_of(data: bytes) -> dict[str, list[dict[str, ElementTree.Element]]]:
    """Each sheet's rows, as {column letters: cell element}, by the sheet's name."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    names = [sheet.get("name") for sheet in book.find("x:sheets", NS)]
    result = {}
    for number, name in enumerate(names, start=1):
        sheet = ElementTree.fromstring(archive.read(f"xl/worksheets/sheet{number}.xml"))
        result[name] = [{re.sub(r"\d", "", c.get("r")): c for c in row.findall("x:c", NS)}
                        for row in sheet.find("x:sheetData", NS)]
    return result


def cell_text(cell: ElementTree.Element) -> str:
    inline = cell.find("x:is/x:t", NS)
    return inline.text if inline is not None else cell.find("x:v", NS).text


def number_formats(data: bytes) -> list[str]:
    """The number format code of each cell style, by style index."""
    styles = ElementTree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("xl/styles.xml"))
    codes = {n.get("numFmtId"): n.get("formatCode")
             for n in styles.iterfind("x:numFmts/x:numFmt", NS)}
    return [codes.get(xf.get("numFmtId"), "General")
            for xf in styles.find("x:cellXfs", NS)]


def test_an_empty_selection_gives_a_valid_workbook_with_headers_only(app, finance):
    response = finance.get("/reports/export/workbook.xlsx?year=2001")
    assert response.status_code == 200
    assert response.mimetype == ("application/vnd.openxmlformats-officedocument."
                                 "spreadsheetml.sheet")
    data = response.get_data()
    response.close()
    sheets = sheets_of(data)
    assert list(sheets) == SHEETS
    for name, rows in sheets.items():
        assert len(rows) == 1, name
    assert [cell_text(c) for c in sheets["Awards"][0].values()][:3] == [
        "Reference", "Decision", "Title"]


def test_the_workbook_writes_money_as_pounds_with_a_currency_format_and_dates_as_dates(
        app, manager, scenario):
    response = manager.get("/reports/export/workbook.xlsx?fund=SCF")
    data = response.get_data()
    response.close()
    assert "grants-" in response.headers["Content-Disposition"]
    sheets, formats = sheets_of(data), number_formats(data)
    headings = {cell_text(c): col for col, c in sheets["Awards"][0].items()}
    rows = {cell_text(row["A"]): row for row in sheets["Awards"][1:]}
    scf = [g for g in scenario.grants if g.fund == "SCF"]
    assert set(rows) == {g.reference for g in scf}
    for grant in scf:
        amount = rows[grant.reference][headings["Awarded"]]
        assert amount.get("t") is None  # a number, not text
        assert Decimal(cell_text(amount)) * 100 == grant.amount
        assert "£#,##0.00" in formats[int(amount.get("s"))]
        start = rows[grant.reference][headings["Start date"]]
        assert start.get("t") is None
        assert int(cell_text(start)) == (date(scenario.year, 4, 1) - date(1899, 12, 30)).days
        assert "yyyy" in formats[int(start.get("s"))]
    assert len(sheets["Payments"]) == 1 + sum(1 for g in scf if g.paid)


def test_text_that_looks_like_a_formula_stays_text_in_the_csv(app, manager):
    bid_id = bidding.submitted_bid(app, title="=HYPERLINK(\"http://evil\")")
    header, *rows = csv_rows(manager.get("/reports/export/bids.csv"))
    with app.app_context():
        reference = session.get(Bid, bid_id).reference
    row = next(dict(zip(header, r)) for r in rows if r[0] == reference)
    assert row["title"].startswith("'=")


# --- bad input and access ----------------------------------------------------------------------


@pytest.mark.parametrize("url, message", [
    ("/reports/?year=abc", "“abc” is not a financial year"),
    ("/reports/?year=20256", "is not a financial year"),
    ("/reports/?fund=NOPE", "There is no fund with the code “NOPE”"),
    ("/reports/export/bids.csv?year=abc", "is not a financial year"),
    ("/reports/export/awards.csv?fund=NOPE", "There is no fund with the code"),
    ("/reports/export/nope.csv", "There is no export called “nope”"),
    ("/reports/export/workbook.xlsx?fund=NOPE", "There is no fund with the code"),
])
def test_unknown_filter_values_are_refused_with_a_message(app, manager, url, message):
    response = manager.get(url)
    assert response.status_code == 400
    assert message in text_of(response)


def test_an_officer_giving_an_unknown_year_is_refused_with_a_message(app):
    response = signed_in(app, FENLAND).get("/reports/partnership?year=abc")
    assert response.status_code == 400
    assert "is not a financial year" in text_of(response)


MANAGER_PAGES = ["/reports/", "/reports/export/bids.csv", "/reports/export/workbook.xlsx"]


@pytest.mark.parametrize("email", [FENLAND, ASSESSOR, ADMIN])
def test_only_managers_and_finance_see_the_dashboard_and_exports(app, email):
    client = signed_in(app, email)
    for url in MANAGER_PAGES:
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("email", [MANAGER, FINANCE, ASSESSOR, ADMIN])
def test_only_officers_see_the_partnership_view(app, email):
    assert signed_in(app, email).get("/reports/partnership").status_code == 403


@pytest.mark.parametrize("url", MANAGER_PAGES + ["/reports/partnership"])
def test_signed_out_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")
