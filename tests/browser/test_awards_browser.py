"""An award from offer to close in a real browser, every page axe-checked by the harness.

The CSP officer accepts the offer and reads the offer letter; finance pays the whole award
in advance; the officer files the six-monthly return, finance queries it, the officer
revises it and finance approves it; the officer asks to move money between two budget
lines and the grants manager approves; the officer files the final return with less spent
than paid; finance approves it, the award closes with the underspend to repay, and finance
records the repayment.

The figures (all worked out here, not by the portal):

    line (kind)            original  revised  periodic (queried -> approved)  final  eligible
    Bike lights (capital)     2,250    2,250   1,500                            600     2,100
    Mechanic... (revenue)     1,800    2,000     600 -> 750                   1,150     1,900
    Spare parts (revenue)       700      500     250                            200       450
    total                     4,750    4,750   2,350 -> 2,500                 1,950     4,450

Paid £4,750.00 in advance, eligible spend £4,450.00: £300.00 to repay. Without the
variation the mechanic's line would be capped at £1,800.00 and £400.00 would be owed.

The bid and its approval are set up through the services, against the live server's own
database: conftest.py does not expose the live app, so it is found through the server's
thread (the werkzeug server serving ``live_server``'s port).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.db import session
from portal.models import Award, Fund, Round
from portal.services import accounts, bids, decisions, setup
from portal.services.awards import add_months
from tests import bidding
from tests.browser.conftest import Browser, served
from tests.helpers import DEMO_PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Locator

OFFICER = bidding.OFFICER  # officer.southcambs@example.org
MANAGER = "manager@example.org"
FINANCE = "finance@example.org"
PARTNERSHIP = "South Cambridgeshire CSP"

LIGHTS, MECHANIC, PARTS = "Bike lights", "Mechanic for twelve sessions", "Spare parts"
LINES = [{"item": LIGHTS, "kind": "capital", "amount_pence": 2_250_00},
         {"item": MECHANIC, "kind": "revenue", "amount_pence": 1_800_00},
         {"item": PARTS, "kind": "revenue", "amount_pence": 700_00}]
AMOUNT = sum(line["amount_pence"] for line in LINES)  # £4,750.00, within the £5,000 cap
MEASURES = [{"measure": "Lights given out", "target": 300, "how_measured": "Sign-up sheets"},
            {"measure": "Bikes repaired", "target": 120, "how_measured": "Mechanic's log"}]
PURPOSE = "Bike lights and repair sessions for families on low incomes"
CONDITIONS = "Publicise the OPCC's support on every leaflet."
TERMS = "Underspend is returned to the OPCC and overpayments are recovered."  # the fund's
ACCEPT = ("On behalf of the partnership, I accept this grant on the terms and conditions of "
          "this offer")
QUERY = "The mechanic's September invoice is missing from the spend: please add it."
UK = ZoneInfo("Europe/London")


# Set-up: an approved bid, through the services, in the live server's database ---------------

@dataclass(frozen=True)
class Offer:
    award_id: int
    reference: str  # the bid's, e.g. SCF-2026-0003
    title: str
    year: int  # the round's financial year


@pytest.fixture(scope="module")
def awards_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A server of this module's own: the journey adds a round for next year to its fund."""
    with served(backend, tmp_path_factory.mktemp(f"awards-{backend}"), "awards") as server:
        yield server


@pytest.fixture(scope="module")
def live_server(awards_server: Any) -> str:
    return awards_server[0]


@pytest.fixture(scope="module")
def offer(awards_server: Any) -> Offer:
    """A submitted Safer Communities Fund bid for the whole of next financial year, approved
    in full by the grants manager. Next year's, so that an offer accepted today, whatever the
    day, has a periodic April-September return and a final one: no return falls due within
    RETURN_GRACE_DAYS of acceptance (issue 13), and late in this year the periodic return
    would have been merged into the final one."""
    title = f"Bike lights and repairs {uuid.uuid4().hex[:8]}"
    with awards_server[1].test_request_context():
        officer = accounts.get_user_by_email(OFFICER)
        manager = accounts.get_user_by_email(MANAGER)
        this_year = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        year = this_year.financial_year + 1
        today = datetime.now(UK).date()
        round_ = setup.create_round(this_year.fund, setup.RoundDetails(
            name=f"{year}/{(year + 1) % 100:02d} round", financial_year=year,
            opens_on=today - timedelta(days=1), opens_time=time(9, 0),
            closes_on=today + timedelta(days=30), closes_time=time(12, 0),
            budget_pence=10_000_000, cap_pence=500_000, eligible_organisation_types=["csp"],
            return_cadence=this_year.return_cadence, guidance=""), manager)
        bid = bids.start_bid(round_, officer, bids.new_creation_token())
        for section in bids.sections_for(round_):
            answers: dict[str, Any] = bidding._answers(year, AMOUNT)[section.key]
            if section.key == "about":
                answers.update(title=title, start_date=f"{year}-04-01",
                               end_date=f"{year + 1}-03-31")
            elif section.key == "budget":
                answers["rows"] = LINES
            elif section.key == "outcomes":
                answers["rows"] = MEASURES
            bids.save_section(bid, section.key, answers, completed=True,
                              expected_version=None, actor=officer)
        bids.submit(bid, officer)
        decisions.approve(bid, AMOUNT, purpose=PURPOSE, conditions=CONDITIONS,
                          reasons="Safer cycling to school in the dark",
                          override_reason="Decided before the portal held assessments (test)",
                          actor=manager)
        session.commit()
        award = session.scalar(select(Award).where(Award.bid_id == bid.id))
        return Offer(award.id, bid.reference, title, year)


# Helpers ----------------------------------------------------------------------------------

ROWS = """table => [...table.querySelectorAll("tbody tr")].map(row =>
  [...row.children].map(cell => cell.innerText.replace(/\\s+/g, " ").trim()))"""


def sign_in(browser: Browser, email: str) -> None:
    browser.goto("/sign-in")
    browser.fill("Email address", email)
    browser.fill("Password", DEMO_PASSWORD)
    browser.click_button("Sign in", within="main")


def follow(browser: Browser, target: Locator) -> None:
    """Click a link or button found by a locator, wait for the new page, axe-check it."""
    with browser.page.expect_navigation():
        target.click()
    browser.check()


def rows(browser: Browser, table: str) -> list[list[str]]:
    """The body rows of the table with this caption (its accessible name), cell by cell."""
    return browser.page.get_by_role("table", name=table, exact=True).evaluate(ROWS)


def row(browser: Browser, table: str, heading: str) -> list[str]:
    found = [cells for cells in rows(browser, table) if cells[0] == heading]
    assert len(found) == 1, (table, heading, rows(browser, table))
    return found[0]


def summary_value(browser: Browser, key: str) -> str:
    key_cell = browser.page.locator(".govuk-summary-list__key",
                                    has_text=re.compile(rf"^\s*{re.escape(key)}\s*$"))
    found = browser.page.locator(".govuk-summary-list__row").filter(has=key_cell)
    return " ".join(found.locator(".govuk-summary-list__value").inner_text().split())


def banner(browser: Browser) -> str:
    return browser.text(".govuk-notification-banner--success")


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def fill_date(browser: Browser, legend: str, day: date) -> None:
    group = browser.page.get_by_role("group", name=legend, exact=True)
    for part, value in (("Day", day.day), ("Month", day.month), ("Year", day.year)):
        group.get_by_label(part, exact=True).fill(str(value))


def fill_return(browser: Browser, spend: dict[str, str], achieved: tuple[str, str],
                rag: str, case_study: str, forecast: str) -> None:
    page = browser.page
    for item, pounds in spend.items():
        browser.fill(item, pounds)
    for measure, count in zip(MEASURES, achieved):
        group = page.get_by_role("group", name=measure["measure"], exact=True)
        group.get_by_label("Achieved so far", exact=True).fill(count)
        group.get_by_label(rag, exact=True).check()
        group.get_by_label("Narrative", exact=True).fill(
            f"{count} of {measure['target']} so far: sessions were full at both schools.")
    browser.fill("Case study", case_study)
    browser.fill("Forecast underspend", forecast)


# The journey --------------------------------------------------------------------------------

def schedule_texts(year: int) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    """The periodic and final returns of a project running financial year ``year``, as the
    pages show them: (kind, period, due date)."""
    periodic = ("Periodic return", f"1 April {year} to 30 September {year}",
                f"31 October {year}")
    final = ("Final return", f"1 October {year} to 31 March {year + 1}",
             long_date(date(year + 1, 3, 31) + timedelta(weeks=6)))
    return periodic, final


def let_time_pass(awards_server: Any, award_id: int, years: int) -> None:
    """Simulate ``years`` passing: the award's project dates, return periods and due dates
    move back by that many years, straight in the live server's database. A return is sent
    only once its period has started (issue 13), and the journey's project runs next
    financial year (so that an offer accepted today keeps both of its returns, see
    ``offer``): without this, none of its returns could be sent today."""
    with awards_server[1].test_request_context():
        award = session.get_one(Award, award_id)
        back = -12 * years
        award.start_date = add_months(award.start_date, back)
        award.end_date = add_months(award.end_date, back)
        for grant_return in award.returns:
            grant_return.period_start = add_months(grant_return.period_start, back)
            grant_return.period_end = add_months(grant_return.period_end, back)
            grant_return.due_date = add_months(grant_return.due_date, back)
        session.commit()


def test_an_award_runs_from_offer_to_close_with_its_underspend_repaid(
        open_browser: Callable[..., Browser], offer: Offer, awards_server: Any) -> None:
    periodic, final = schedule_texts(offer.year)  # as offered: next financial year
    today = datetime.now(UTC).date()  # what the server compares payment dates with
    award_path = f"/awards/{offer.award_id}"

    # The officer finds the offer, reads it and accepts it ------------------------------------
    officer = open_browser()
    page = officer.page
    sign_in(officer, OFFICER)
    assert officer.h1() == "Your bids"
    officer.click_link("Your awards: offers, returns and changes")
    assert officer.h1() == "Your awards"
    listed = page.locator("main table tbody tr").filter(has_text=offer.reference)
    assert "£4,750.00" in listed.inner_text() and "Offer to accept" in listed.inner_text()
    officer.click_link(offer.title)
    assert officer.path == award_path and officer.h1() == offer.title
    assert "Offer to accept" in officer.text()
    assert summary_value(officer, "Award") == "£4,750.00"
    assert summary_value(officer, "Accepted by") == "Not yet accepted"

    officer.click_button("Accept the offer", within="main")  # a link styled as a button
    assert officer.path == f"{award_path}/accept" and officer.h1() == "Accept the offer"
    offered = officer.text()
    assert f"The OPCC offers {PARTNERSHIP} a grant of £4,750.00" in offered
    assert rows(officer, "Approved budget") == [
        [LIGHTS, "Capital", "£2,250.00"], [MECHANIC, "Revenue", "£1,800.00"],
        [PARTS, "Revenue", "£700.00"], ["Total", "", "£4,750.00"]]
    assert CONDITIONS in offered and TERMS in offered
    assert rows(officer, "Returns you will need to send") == [list(periodic), list(final)]
    officer.fill("Your full name", "Sam Officer")
    officer.fill("Your role", "Community safety officer")
    page.get_by_label(ACCEPT, exact=True).check()
    officer.click_button("Accept the offer", within="main form")
    assert officer.path == award_path
    assert "You have accepted the offer. The grant is now active." in banner(officer)
    assert "Active" in officer.text("main p .govuk-tag")
    accepted_on = long_date(datetime.now(UK).date())
    assert summary_value(officer, "Accepted by") == \
        f"Sam Officer, Community safety officer, on {accepted_on}"
    assert summary_value(officer, "Paid so far") == "£0.00"

    officer.click_link("Offer letter (print-friendly)")
    assert officer.h1() == f"Grant offer: {offer.title}"
    letter = officer.text()
    assert f"I am pleased to offer {PARTNERSHIP} a grant of £4,750.00" in letter
    assert f"from 1 April {offer.year} to 31 March {offer.year + 1}" in letter
    assert CONDITIONS in letter and TERMS in letter and PURPOSE in letter
    assert (f"Accepted on behalf of {PARTNERSHIP} by Sam Officer, Community safety officer, "
            f"on {accepted_on}.") in letter
    page.emulate_media(media="print")  # only the letter goes on paper
    assert not page.locator("header").first.is_visible()
    assert not page.locator("footer").first.is_visible()
    assert page.get_by_role("heading", name=f"Grant offer: {offer.title}").is_visible()
    page.emulate_media(media="screen")
    officer.click_link("Back to the award")

    # Time passes: the project is under way -------------------------------------------------
    # A year on, the project runs this financial year and both of its returns' periods have
    # started (the final one starts on 1 October: from April to September that is two years
    # on). Acceptance stays today, so payments are still dated today.
    years = 1 if date(offer.year - 1, 10, 1) <= datetime.now(UK).date() else 2
    let_time_pass(awards_server, offer.award_id, years)
    periodic, final = schedule_texts(offer.year - years)

    # Finance pays the whole award in advance -----------------------------------------------
    finance = open_browser()
    sign_in(finance, FINANCE)
    assert finance.h1() == "Finance"
    finance.click_link("All awards: payments and repayments")
    finance.click_link(offer.reference)
    finance_award = finance.path
    assert finance_award == f"/finance/awards/{offer.award_id}"
    assert summary_value(finance, "Award") == "£4,750.00"
    assert summary_value(finance, "Paid to date") == "£0.00"
    assert summary_value(finance, "Payable now") == "£4,750.00"
    assert "Up to £4,750.00 can be paid now." in finance.text()
    finance.fill("Amount paid", "4,750.00")
    fill_date(finance, "Date paid", today)
    reference = f"BACS-{uuid.uuid4().hex[:6].upper()}"
    finance.fill("Payment reference", reference)
    finance.click_button("Record payment")
    assert "Payment of £4,750.00 recorded." in banner(finance)
    assert rows(finance, "Payments made on this award") == [
        [long_date(today), reference, "Frankie Finance", "£4,750.00"],
        ["Paid to date", "£4,750.00"]]
    assert summary_value(finance, "Paid to date") == "£4,750.00"
    assert summary_value(finance, "Payable now") == "£0.00"

    # The officer files the six-monthly return --------------------------------------------
    officer.goto(award_path)
    assert summary_value(officer, "Paid so far") == "£4,750.00"
    follow(officer, page.get_by_role("link", name=f"Periodic return due {periodic[2]}"))
    return_path = officer.path
    assert officer.h1() == f"Periodic return: {periodic[1]}"
    assert "Allocation £1,800.00. Approved in earlier returns: £0.00." in officer.text()
    fill_return(officer, {LIGHTS: "1,500", MECHANIC: "600", PARTS: "250.00"},
                ("140", "50"), "Green: on track",
                "A Year 6 pupil who had no light now cycles to school all winter.", "0")
    officer.click_button("Submit return")
    assert officer.path == award_path
    assert "Return submitted." in banner(officer)
    assert row(officer, "Returns", f"Periodic return due {periodic[2]}")[3] == "Received"

    # Finance queries it ---------------------------------------------------------------------
    finance.goto("/finance/")
    to_check = finance.page.get_by_role("table", exact=True,
                                        name="Submitted returns waiting to be checked, "
                                             "oldest first")
    queued = to_check.locator("tbody tr").filter(has_text=offer.reference)
    assert "£2,350.00" in queued.inner_text() and f"Return for {periodic[1]}" in \
        queued.inner_text()
    follow(finance, queued.get_by_role("link", name=offer.reference, exact=True))
    periodic_check = finance.path
    assert finance.h1() == f"Return for {periodic[1]}"
    assert "Total in this return: £2,350.00" in finance.text()
    assert row(finance, "Revenue", MECHANIC) == [
        MECHANIC, "£1,800.00", "£0.00", "£600.00", "£600.00", "£1,200.00"]
    assert row(finance, "Capital", LIGHTS) == [
        LIGHTS, "£2,250.00", "£0.00", "£1,500.00", "£1,500.00", "£750.00"]
    outcomes = rows(finance, "Outcomes achieved against their targets")
    assert [cells[:4] for cells in outcomes] == [["Lights given out", "300", "140", "Green"],
                                                 ["Bikes repaired", "120", "50", "Green"]]
    finance.page.get_by_label("Query the return and send it back", exact=True).check()
    finance.fill("Comments for the partnership", QUERY)
    finance.click_button("Save your check")
    assert "Return queried. The partnership has been told what to change." in banner(finance)
    assert "Queried" in finance.text("main p .govuk-tag")

    # The officer sees the query, revises and resubmits ---------------------------------------
    officer.goto(award_path)
    assert row(officer, "Returns", f"Periodic return due {periodic[2]}")[3] == "Queried"
    follow(officer, page.get_by_role("link", name=f"Periodic return due {periodic[2]}"))
    assert officer.path == return_path
    query = officer.text(".govuk-notification-banner")
    assert "What finance asked you to change" in query and QUERY in query
    assert page.get_by_label(MECHANIC, exact=True).input_value() == "600.00"  # kept
    officer.fill(MECHANIC, "750")
    officer.click_button("Submit return")
    assert "Return submitted." in banner(officer)

    # Finance approves it ----------------------------------------------------------------
    finance.goto("/finance/")
    queued = to_check.locator("tbody tr").filter(has_text=offer.reference)
    assert "£2,500.00" in queued.inner_text()
    follow(finance, queued.get_by_role("link", name=offer.reference, exact=True))
    assert finance.path == periodic_check
    assert "Total in this return: £2,500.00" in finance.text()
    history = [cells[1] for cells in rows(finance, "Checks, queries and resubmissions of "
                                                   "this return")]
    assert history == ["Queried", "Resubmitted by the partnership"]
    finance.page.get_by_label("Approve the return", exact=True).check()
    finance.click_button("Save your check")
    assert "Return approved. The partnership has been told." in banner(finance)
    assert summary_value(finance, "Approved spend so far (eligible)") == "£2,500.00"

    # The officer asks to move money from one line to another ---------------------------------
    officer.goto(award_path)
    assert row(officer, "Returns", f"Periodic return due {periodic[2]}")[3] == "Approved"
    officer.click_button("Ask to move money or extend the end date", within="main")
    assert officer.h1() == "Ask to change the award"
    page.get_by_label("Move money between budget lines", exact=True).check()
    page.get_by_label("Move money from", exact=True).select_option(label=PARTS)
    page.get_by_label("Move it to", exact=True).select_option(label=MECHANIC)
    officer.fill("Amount to move", "200")
    officer.fill("Why do you need this change?",
                 "Parts cost less than planned; two more repair sessions are needed.")
    officer.click_button("Ask for the change")
    assert officer.path == award_path
    assert "Your request has been sent to the OPCC." in banner(officer)
    asked = rows(officer, "Changes asked for")
    assert len(asked) == 1
    assert asked[0][1] == f"Move £200.00 from “{PARTS}” to “{MECHANIC}”"
    assert asked[0][3] == "Waiting for a decision"

    # The grants manager approves it ---------------------------------------------------------
    manager = open_browser()
    sign_in(manager, MANAGER)
    assert manager.h1() == "Rounds and decisions"
    manager.click_link("Variations to decide")
    assert manager.h1() == "Variations to decide"
    waiting = manager.page.locator("main table tbody tr").filter(has_text=offer.reference)
    assert "Move money between budget lines" in waiting.inner_text()
    follow(manager, waiting.get_by_role("link", name=offer.reference, exact=True))
    assert manager.h1() == "Move money between budget lines"
    assert rows(manager, "Money to move") == [[PARTS, MECHANIC, "£200.00"]]
    manager.page.get_by_label("Approve the change", exact=True).check()
    manager.fill("Comment for the partnership", "Agreed: the sessions are well attended.")
    manager.click_button("Record decision")
    assert "Variation approved and the award updated." in banner(manager)
    assert rows(manager, "Budget lines") == [
        [LIGHTS, "Capital", "£2,250.00", "£2,250.00"],
        [MECHANIC, "Revenue", "£1,800.00", "£2,000.00"],
        [PARTS, "Revenue", "£700.00", "£500.00"]]

    # The award page shows the original and revised allocations side by side -------------------
    officer.goto(award_path)
    assert rows(officer, "Approved budget") == [
        [LIGHTS, "Capital", "£2,250.00", "£2,250.00"],
        [MECHANIC, "Revenue", "£1,800.00", "£2,000.00"],
        [PARTS, "Revenue", "£700.00", "£500.00"],
        ["Total", "", "£4,750.00", "£4,750.00"]]
    decided = rows(officer, "Changes asked for")[0][3]
    assert decided == "Approved Agreed: the sessions are well attended."

    # The officer files the final return, with less spent than was paid ------------------------
    follow(officer, page.get_by_role("link", name=f"Final return due {final[2]}"))
    assert officer.h1() == f"Final return: {final[1]}"
    shown = officer.text()
    assert "Allocation £2,000.00. Approved in earlier returns: £750.00." in shown
    assert "Allocation £500.00. Approved in earlier returns: £250.00." in shown
    fill_return(officer, {LIGHTS: "600", MECHANIC: "1,150", PARTS: "200"},
                ("300", "118"), "Green: on track",
                "Forty children now ride to school with lights and working brakes.", "300")
    officer.click_button("Submit return")
    assert "Return submitted." in banner(officer)

    # Finance approves it: the award closes and the underspend is to be repaid -----------------
    finance.goto("/finance/")
    queued = to_check.locator("tbody tr").filter(has_text=offer.reference)
    assert "£1,950.00" in queued.inner_text() and "Final return" in queued.inner_text()
    follow(finance, queued.get_by_role("link", name=offer.reference, exact=True))
    assert finance.h1() == f"Final return, {final[1]}"
    assert "Total in this return: £1,950.00" in finance.text()
    assert row(finance, "Revenue", MECHANIC) == [
        MECHANIC, "£2,000.00 originally £1,800.00", "£750.00", "£1,150.00", "£1,900.00",
        "£100.00"]
    assert row(finance, "Revenue", PARTS) == [
        PARTS, "£500.00 originally £700.00", "£250.00", "£200.00", "£450.00", "£50.00"]
    assert row(finance, "Capital", LIGHTS) == [
        LIGHTS, "£2,250.00", "£1,500.00", "£600.00", "£2,100.00", "£150.00"]
    assert "Forecast underspend: £300.00" in finance.text()
    finance.page.get_by_label("Approve the return", exact=True).check()
    finance.click_button("Save your check")
    assert ("Final return approved and the award closed: £300.00 of underspend is to be "
            "repaid.") in banner(finance)

    finance.goto("/finance/")
    owed = finance.page.get_by_role("table", exact=True,
                                    name="Underspend that partnerships are to repay")
    owed_row = owed.locator("tbody tr").filter(has_text=offer.reference)
    assert "£300.00" in owed_row.inner_text()
    follow(finance, owed_row.get_by_role("link", name=offer.reference, exact=True))
    assert finance.path == finance_award
    assert "Closed" in finance.text("main p .govuk-tag")
    assert summary_value(finance, "Paid to date") == "£4,750.00"
    assert summary_value(finance, "Approved spend (eligible)") == "£4,450.00"
    assert summary_value(finance, "Amount to repay") == "£300.00"
    assert summary_value(finance, "Received") == "Not yet received"

    # Finance records the repayment ------------------------------------------------------------
    fill_date(finance, "Date received", today)
    receipt = f"REC-{uuid.uuid4().hex[:6].upper()}"
    finance.fill("Receipt reference", receipt)
    finance.click_button("Record as received")
    assert "Repayment of £300.00 recorded as received." in banner(finance)
    assert summary_value(finance, "Received") == f"{long_date(today)}, reference {receipt}"
    assert finance.page.get_by_role("button", name="Record as received").count() == 0
    finance.goto("/finance/")
    assert offer.reference not in finance.text()  # nothing awaited, nothing to check

    # The officer's award page shows it closed ---------------------------------------------------
    officer.goto(award_path)
    assert "Closed" in officer.text("main p .govuk-tag")
    assert "£300.00 of the grant was not spent on eligible costs" in officer.text()
    assert "Received by the OPCC on" in officer.text()
    assert summary_value(officer, "Paid so far") == "£4,750.00"
    states = {cells[0]: cells[3] for cells in rows(officer, "Returns")}
    assert states == {f"Periodic return due {periodic[2]}": "Approved",
                      f"Final return due {final[2]}": "Approved"}
    assert page.get_by_role("button", name="Ask to move money or extend the end date").count() \
        == 0
