"""A three-year grant agreement in a real browser (issue 14), every page axe-checked by the
harness at full width and at 320 px.

The grants manager makes South Cambridgeshire's Project Officer agreement as a direct award
from a three-year budget of a direct fund; the partnership's officer accepts it; finance (not
the manager who decided it: separation of duties) records the first year's payment; the officer
files the first return with spend on the line and action 1.1's RAG status; finance approves it.
The public register and the 360Giving export publish the agreement with its amount and dates,
and the grants dashboard shows the budget per financial year and in total.

The figures (all worked out here, not by the portal):

    financial year    budget    committed (the line)   paid      spent (approved return)
    first (this)      60,000    45,000                 45,000    SPEND
    second            50,000    45,000                      0        0
    third             50,000    45,000                      0        0
    total            160,000   135,000                 45,000    SPEND

The fund and its budget are set up through the models against the live server's own database
(a fund of this module's own, so the demo's direct fund and its 2022-25 agreement leave these
figures alone). The agreement starts on 1 April of the current financial year: its first
return covers from that day, so it may be sent today whatever the day (a return is sent only
once its period has started, issue 13), and the first year's payment is within the payment
plan today.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.db import session
from portal.models import Fund, Organisation, OrganisationType, ReturnCadence, Round, RoundYear
from portal.models.funds import PaymentRule
from tests.browser.conftest import Browser, served
from tests.browser.test_awards_browser import (
    FINANCE,
    MANAGER,
    OFFICER,
    PARTNERSHIP,
    banner,
    fill_date,
    follow,
    long_date,
    row,
    rows,
    sign_in,
    summary_value,
)

UK = ZoneInfo("Europe/London")
FUND_CODE = "CSPO"
FUND_NAME = "CSP Project Officer agreements"
TITLE = "CSP Project Officer"
ITEM = "CSP Project Officer"
PURPOSE = "A Project Officer for South Cambridgeshire CSP for three years"
CONDITIONS = "six-monthly monitoring and reporting"
REASONS = ("The officer runs the partnership's action plan against burglary and "
           "anti-social behaviour")
ACTION_NUMBER = "1.1"
ACTION_TITLE = "Oversee the work of the new Project Officer"
ACTION_LEAD = "Community safety manager"
TERMS = "Underspend is returned to the OPCC; money is time-limited to its financial year."
YEARLY = 45_000_00  # the line, each year
SPEND = 21_250_00  # spent on the line in the first return's period
NARRATIVE = "The officer started in May and chairs the monthly tasking meeting."
ACCEPT = ("On behalf of the partnership, I accept this grant on the terms and conditions of "
          "this offer")


def financial_year_of(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def year_label(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def pounds(pence: int) -> str:
    return f"£{pence // 100:,}.{pence % 100:02d}"


# Set-up: a direct fund with a three-year budget, in the live server's database -------------

@dataclass(frozen=True)
class Budget:
    round_id: int
    name: str  # the round's: "2026/27 to 2028/29"
    first: int  # the first financial year, this one
    budgets: dict[int, int]  # pence by financial year

    @property
    def years(self) -> list[int]:
        return sorted(self.budgets)

    @property
    def start(self) -> date:
        return date(self.first, 4, 1)

    @property
    def end(self) -> date:
        return date(self.years[-1] + 1, 3, 31)


@pytest.fixture(scope="module")
def agreements_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A server of this module's own: the journey adds a fund and its budget."""
    with served(backend, tmp_path_factory.mktemp(f"agreements-{backend}"),
                "agreements") as server:
        yield server


@pytest.fixture(scope="module")
def live_server(agreements_server: Any) -> str:
    return agreements_server[0]


@pytest.fixture(scope="module")
def budget(agreements_server: Any) -> Budget:
    """A fund of direct awards and its budget over three financial years from this one."""
    first = financial_year_of(datetime.now(UK).date())
    budgets = {first: 60_000_00, first + 1: 50_000_00, first + 2: 50_000_00}
    name = f"{year_label(first)} to {year_label(first + 2)}"
    with agreements_server[1].test_request_context():
        fund = Fund(code=FUND_CODE, name=FUND_NAME, purpose="Agreements with partnerships",
                    is_youth=False, allows_multi_year=True, direct=True,
                    payment_rule=PaymentRule.ADVANCE, terms=TERMS, final_return_weeks=4)
        round_ = Round(fund=fund, name=name, financial_year=first, years=3,
                       opens_at=datetime.combine(date(first, 4, 1), time(9), tzinfo=UK),
                       closes_at=datetime.combine(date(first + 3, 3, 31), time(17), tzinfo=UK),
                       budget_pence=sum(budgets.values()), cap_pence=None, committed_pence=0,
                       eligible_organisation_types=[OrganisationType.CSP.value],
                       return_cadence=ReturnCadence.SIX_MONTHLY,
                       guidance="A budget for direct awards: never open to bids.")
        round_.year_budgets = [RoundYear(financial_year=year, budget_pence=pence,
                                         committed_pence=0)
                               for year, pence in budgets.items()]
        session.add(round_)
        session.commit()
        return Budget(round_.id, name, first, budgets)


@pytest.fixture(scope="module")
def host_council(agreements_server: Any) -> str:
    with agreements_server[1].test_request_context():
        return session.scalar(select(Organisation.host_council)
                              .where(Organisation.name == PARTNERSHIP)) or ""


# Helpers ------------------------------------------------------------------------------------

FOOT = """table => [...table.querySelectorAll("tfoot tr")].map(row =>
  [...row.children].map(cell => cell.innerText.replace(/\\s+/g, " ").trim()))"""


def foot(browser: Browser, table: str) -> list[list[str]]:
    return browser.page.get_by_role("table", name=table, exact=True).evaluate(FOOT)


def first_return(start: date, accepted: date, grace_days: int) -> tuple[date, date]:
    """(period end, due date) of the first return of an agreement from ``start`` over several
    years, six-monthly, accepted on ``accepted``: periods end on 30 September (due 31 October)
    and 31 March (due 30 April); none falls due within ``grace_days`` of acceptance, so the
    first one due after that covers from the start."""
    not_before = accepted + timedelta(days=grace_days)
    year = start.year
    while True:
        for end, due in ((date(year, 9, 30), date(year, 10, 31)),
                         (date(year + 1, 3, 31), date(year + 1, 4, 30))):
            if end >= start and due >= not_before:
                return end, due
        year += 1


def card(browser: Browser, title: str) -> Any:
    """The public register's summary card with this title."""
    heading = browser.page.get_by_role("heading", name=title, exact=True)
    return browser.page.locator(".govuk-summary-card").filter(has=heading)


def card_value(found: Any, key: str) -> str:
    key_cell = found.page.locator(".govuk-summary-list__key",
                             has_text=re.compile(rf"^\s*{re.escape(key)}\s*$"))
    value = found.locator(".govuk-summary-list__row").filter(has=key_cell)
    return " ".join(value.locator(".govuk-summary-list__value").inner_text().split())


# The journey --------------------------------------------------------------------------------

def test_a_three_year_agreement_is_made_accepted_paid_reported_and_published(
        open_browser: Callable[..., Browser], budget: Budget, host_council: str,
        agreements_server: Any) -> None:
    first, second, third = budget.years
    today = datetime.now(UK).date()  # the day payments and acceptance are compared with
    lines = {year: YEARLY for year in budget.years}
    amount = sum(lines.values())  # £135,000.00
    assert amount == 135_000_00

    # The grants manager makes the direct award ---------------------------------------------
    manager = open_browser()
    page = manager.page
    sign_in(manager, MANAGER)
    assert manager.h1() == "Rounds and decisions"
    manager.click_link("Make a direct award")
    assert manager.h1() == "Make a direct award"
    budgets = rows(manager, "Budgets of direct funds")
    at = next(i for i, cells in enumerate(budgets) if cells[0].startswith(FUND_NAME))
    assert budgets[at:at + 3] == [
        [f"{FUND_NAME} {budget.name}", year_label(first), "£60,000.00", "£60,000.00",
         f"Make an award from {FUND_NAME} – {budget.name}"],
        [year_label(second), "£50,000.00", "£50,000.00"],
        [year_label(third), "£50,000.00", "£50,000.00"]]
    manager.click_link(f"Make an award from {FUND_NAME} – {budget.name}")
    assert manager.path == f"/manage/direct-awards/new/{budget.round_id}"
    assert manager.h1() == "Make a direct award"
    for year in budget.years:
        assert summary_value(manager, f"Remaining in {year_label(year)}") == \
            f"{pounds(budget.budgets[year])} of {pounds(budget.budgets[year])}"

    page.get_by_label("Partnership", exact=True).select_option(label=PARTNERSHIP)
    manager.fill("Title", TITLE)
    manager.fill("Purpose of the grant", PURPOSE)
    fill_date(manager, "Start date", budget.start)
    fill_date(manager, "End date", budget.end)
    line = page.get_by_role("group", name="Budget line 1", exact=True)
    line.get_by_label("Item", exact=True).fill(ITEM)
    line.get_by_label("Capital or revenue", exact=True).select_option(label="Revenue")
    for year in budget.years:
        line.get_by_label(f"Amount for {year_label(year)}", exact=True).fill("45,000")
    line.get_by_label("Relates to actions (optional)", exact=True).fill(ACTION_NUMBER)
    manager.fill("Amount awarded", "135,000.00")
    manager.fill("Conditions (optional)", CONDITIONS)
    manager.fill("Why the grant will reduce crime and disorder", REASONS)
    action = page.get_by_role("group", name="Action 1", exact=True)
    action.get_by_label("Number", exact=True).fill(ACTION_NUMBER)
    action.get_by_label("Action", exact=True).fill(ACTION_TITLE)
    action.get_by_label("Lead (optional)", exact=True).fill(ACTION_LEAD)
    manager.click_button("Continue")

    assert manager.h1() == "Check the direct award"
    assert summary_value(manager, "Partnership") == PARTNERSHIP
    assert summary_value(manager, "Title") == TITLE
    assert summary_value(manager, "Dates") == f"{long_date(budget.start)} – " \
                                              f"{long_date(budget.end)}"
    assert summary_value(manager, "Amount awarded") == "£135,000.00"
    assert summary_value(manager, "Conditions") == CONDITIONS
    assert rows(manager, "Budget lines") == [
        [ITEM, "Revenue", "£45,000.00", "£45,000.00", "£45,000.00", ACTION_NUMBER],
        ["Total per year (payment plan)", "£45,000.00", "£45,000.00", "£45,000.00", ""]]
    assert rows(manager, "Action plan") == [[ACTION_NUMBER, ACTION_TITLE, ACTION_LEAD, ""]]
    manager.click_button("Make the award")

    made = re.fullmatch(r"/manage/awards/([0-9]+)", manager.path)
    assert made is not None, manager.path
    award_id = int(made.group(1))
    assert "made and South Cambridgeshire CSP told." in banner(manager)
    reference = re.search(rf"{FUND_CODE}-{first}-[0-9]{{4}}", banner(manager))
    assert reference is not None
    reference_text = reference.group(0)
    assert summary_value(manager, "Amount awarded") == "£135,000.00"
    assert summary_value(manager, "Paid so far") == "£0.00"
    assert rows(manager, "Budget lines") == [
        ["1", ITEM, "£45,000.00", "£45,000.00", "£45,000.00", "£135,000.00", ACTION_NUMBER],
        ["Payment plan", "£45,000.00", "£45,000.00", "£45,000.00", "£135,000.00", ""]]
    assert rows(manager, "Action plan") == [[ACTION_NUMBER, ACTION_TITLE, ACTION_LEAD, ""]]

    # The officer finds the offer and accepts it ---------------------------------------------
    award_path = f"/awards/{award_id}"
    officer = open_browser()
    sign_in(officer, OFFICER)
    officer.click_link("Your awards: offers, returns and changes")
    listed = officer.page.locator("main table tbody tr").filter(has_text=reference_text)
    assert "£135,000.00" in listed.inner_text() and "Offer to accept" in listed.inner_text()
    officer.click_link(TITLE)
    assert officer.path == award_path and officer.h1() == TITLE
    assert summary_value(officer, "Award") == "£135,000.00"
    assert summary_value(officer, "Project runs") == \
        f"{long_date(budget.start)} to {long_date(budget.end)}"
    officer.click_button("Accept the offer", within="main")  # a link styled as a button
    assert officer.path == f"{award_path}/accept"
    offered = officer.text()
    assert f"The OPCC offers {PARTNERSHIP} a grant of £135,000.00" in offered
    assert CONDITIONS in offered and TERMS in offered
    officer.fill("Your full name", "Sam Officer")
    officer.fill("Your role", "Community safety officer")
    officer.page.get_by_label(ACCEPT, exact=True).check()
    officer.click_button("Accept the offer", within="main form")
    assert officer.path == award_path
    assert "You have accepted the offer. The grant is now active." in banner(officer)
    assert summary_value(officer, "Accepted by") == \
        f"Sam Officer, Community safety officer, on {long_date(today)}"
    assert rows(officer, "Money by financial year") == [
        [year_label(year), "£45,000.00", "£0.00", "£45,000.00"] for year in budget.years]
    grace = int(agreements_server[1].config["RETURN_GRACE_DAYS"])
    period_end, due = first_return(budget.start, today, grace)
    assert row(officer, "Returns", f"Periodic return due {long_date(due)}")[1:] == [
        f"{long_date(budget.start)} to {long_date(period_end)}", long_date(due), "Due"]

    # Finance records the first year's payment ----------------------------------------------
    finance = open_browser()
    sign_in(finance, FINANCE)
    finance.click_link("All awards: payments and repayments")
    finance.click_link(reference_text)
    finance_award = finance.path
    assert finance_award == f"/finance/awards/{award_id}"
    assert summary_value(finance, "Award") == "£135,000.00"
    assert summary_value(finance, "Payable now") == "£45,000.00"  # the plan's first year
    assert "Up to £45,000.00 can be paid now." in finance.text()
    finance.fill("Amount paid", "45,000.00")
    fill_date(finance, "Date paid", today)
    payment_reference = f"BACS-{uuid.uuid4().hex[:6].upper()}"
    finance.fill("Payment reference", payment_reference)
    finance.click_button("Record payment")
    assert "Payment of £45,000.00 recorded." in banner(finance)
    assert rows(finance, "Payments made on this award") == [
        [long_date(today), payment_reference, "Frankie Finance", "£45,000.00"],
        ["Paid to date", "£45,000.00"]]
    assert summary_value(finance, "Payable now") == "£0.00"  # not ahead of the plan
    assert rows(finance, "Money by financial year") == [
        [year_label(year), "£45,000.00", "£0.00", "£45,000.00", "£45,000.00",
         "£45,000.00" if year == first else "£0.00"] for year in budget.years]

    # The officer files the first return: spend and action 1.1's RAG status -------------------
    officer.goto(award_path)
    assert summary_value(officer, "Paid so far") == "£45,000.00"
    follow(officer, officer.page.get_by_role(
        "link", name=f"Periodic return due {long_date(due)}", exact=True))
    assert officer.h1() == \
        f"Periodic return: {long_date(budget.start)} to {long_date(period_end)}"
    officer.fill(ITEM, "21,250.00")
    plan = officer.page.get_by_role("group", name=f"Action {ACTION_NUMBER}: {ACTION_TITLE}",
                                    exact=True)
    plan.get_by_label("Green: on track", exact=True).check()
    plan.get_by_label(f"Narrative for action {ACTION_NUMBER}", exact=True).fill(NARRATIVE)
    officer.fill("Case study", "A parish with repeat burglaries now has a watch scheme.")
    officer.fill("Forecast underspend", "0")
    officer.click_button("Submit return")
    assert officer.path == award_path
    assert "Return submitted." in banner(officer)
    assert row(officer, "Returns", f"Periodic return due {long_date(due)}")[3] == "Received"

    # Finance approves it -----------------------------------------------------------------------
    finance.goto("/finance/")
    to_check = finance.page.get_by_role("table", exact=True,
                                        name="Submitted returns waiting to be checked, "
                                             "oldest first")
    queued = to_check.locator("tbody tr").filter(has_text=reference_text)
    assert pounds(SPEND) in queued.inner_text()
    follow(finance, queued.get_by_role("link", name=reference_text, exact=True))
    assert f"Total in this return: {pounds(SPEND)}" in finance.text()
    assert [cells[:2] for cells in rows(finance, "Each action's RAG status and narrative")] \
        == [[f"{ACTION_NUMBER} {ACTION_TITLE}", "Green"]]
    assert NARRATIVE in finance.text()
    finance.page.get_by_label("Approve the return", exact=True).check()
    finance.click_button("Save your check")
    assert "Return approved. The partnership has been told." in banner(finance)

    # The public register and the 360Giving open data -----------------------------------------
    public = open_browser()
    public.goto("/transparency")
    assert public.h1() == "Grants awarded"
    public.page.get_by_label("Fund", exact=True).select_option(label=FUND_NAME)
    public.click_button("Show grants")
    assert "Showing 1 to 1 of 1 grants" in public.text()
    grant_card = card(public, TITLE)
    assert card_value(grant_card, "Amount") == "£135,000.00"
    assert card_value(grant_card, "Recipient") == \
        f"{PARTNERSHIP} (money paid to {host_council})"
    assert card_value(grant_card, "Fund") == \
        f"{FUND_NAME}, {year_label(first)} to {year_label(third)}"
    assert card_value(grant_card, "Project dates") == \
        f"{long_date(budget.start)} to {long_date(budget.end)}"
    assert card_value(grant_card, "Purpose") == PURPOSE
    assert card_value(grant_card, "Conditions") == CONDITIONS
    assert card_value(grant_card, "Why it is expected to reduce crime and disorder") == REASONS
    assert card_value(grant_card, "Bid reference") == reference_text
    decided_on = datetime.now(UTC).date()  # decisions are dated by the UTC day
    assert card_value(grant_card, "Decision").endswith(f"on {long_date(decided_on)}")

    response = public.page.request.get("/transparency/360giving.json")
    assert response.ok
    package = json.loads(response.text(), parse_float=Decimal)
    found = [g for g in package["grants"]
             if g.get("grantProgramme", [{}])[0].get("code") == FUND_CODE]
    assert len(found) == 1, found
    grant = found[0]
    assert grant["id"].endswith(f"-{reference_text}")
    assert grant["title"] == TITLE and grant["description"] == PURPOSE
    assert grant["amountAwarded"] == Decimal("135000.00")
    assert grant["amountDisbursed"] == Decimal("45000.00")
    assert grant["awardDate"] == decided_on.isoformat()
    assert grant["plannedDates"] == [{"startDate": budget.start.isoformat(),
                                      "endDate": budget.end.isoformat()}]
    assert grant["recipientOrganization"][0]["department"] == PARTNERSHIP
    assert grant["grantProgramme"] == [{"code": FUND_CODE, "title": FUND_NAME}]

    # The dashboard: the three-year budget per year and in total -------------------------------
    committed = dict(lines)
    paid = {year: (YEARLY if year == financial_year_of(today) else 0) for year in budget.years}
    spent = {year: (SPEND if year == financial_year_of(period_end) else 0)
             for year in budget.years}
    expected_rows = [[year_label(year), pounds(budget.budgets[year]), pounds(committed[year]),
                      pounds(budget.budgets[year] - committed[year]), pounds(paid[year]),
                      pounds(spent[year])] for year in budget.years]
    totals = [sum(figures.values()) for figures in (budget.budgets, committed)]
    expected_total = ["Total", pounds(totals[0]), pounds(totals[1]),
                      pounds(totals[0] - totals[1]), pounds(sum(paid.values())),
                      pounds(sum(spent.values()))]
    assert expected_total == ["Total", "£160,000.00", "£135,000.00", "£25,000.00",
                              "£45,000.00", pounds(SPEND)]

    manager.goto("/")
    manager.click_link("Dashboards and exports")
    assert manager.h1() == "Grants dashboard"
    manager.page.get_by_label("Fund", exact=True).select_option(label=FUND_NAME)
    manager.click_button("Show figures")
    assert manager.h1() == "Grants dashboard"
    caption = (f"Budget, committed, paid and spent by financial year: {FUND_NAME}, "
               f"{budget.name}")
    assert rows(manager, caption) == expected_rows
    assert foot(manager, caption) == [expected_total]
    # The round's line by fund and round, and the summary, give the same totals.
    by_round = row(manager, "Budget, committed, paid, spent and underspend returned by fund "
                            "and round", f"{FUND_NAME}, {budget.name}")
    assert by_round[1:] == expected_total[1:] + ["£0.00"]
    assert summary_value(manager, "Budget") == expected_total[1]
    assert summary_value(manager, "Committed") == expected_total[2]
    assert summary_value(manager, "Remaining") == expected_total[3]
    assert summary_value(manager, "Paid") == expected_total[4]
    assert summary_value(manager, "Spent (approved returns)") == expected_total[5]
    # The chart beside it draws the same figures, each bar saying in words what it is.
    drawn = manager.page.locator(f"svg#chart-years-{budget.round_id} text").all_text_contents()
    assert drawn[:4] == ["Budget", "Committed", "Paid", "Spent"]  # the legend
    assert drawn[4:] == [text for cells in expected_rows for text in (
        cells[0], f"Budget: {cells[1]}", f"Committed: {cells[2]}", f"Paid: {cells[4]}",
        f"Spent: {cells[5]}")]
