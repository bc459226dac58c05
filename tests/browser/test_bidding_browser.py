"""A CSP officer bids in a real browser: every section through its form, a file, submission.

Every page is axe-checked by the harness (see conftest.py).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from tests.bidding import OFFICER
from tests.browser.conftest import Browser
from tests.helpers import DEMO_PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Locator

COMPLETED = "Yes, I’ve completed this section"
SECTIONS = ("About the project", "The problem and the evidence", "What will be done",
            "Outcomes", "Budget", "Declarations")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def sign_in(browser: Browser, email: str) -> None:
    browser.goto("/sign-in")
    browser.fill("Email address", email)
    browser.fill("Password", DEMO_PASSWORD)
    browser.click_button("Sign in", within="main")


def type_date(group: Locator, day: int, month: int, year: int) -> None:
    for label, value in (("Day", day), ("Month", month), ("Year", year)):
        group.get_by_label(label, exact=True).fill(str(value))


def save_section(browser: Browser, title: str) -> None:
    """Mark the open section complete, save it and come back to the task list."""
    browser.page.get_by_label(COMPLETED, exact=True).check()
    browser.click_button("Save and continue")
    assert browser.page.locator(".govuk-error-summary").count() == 0, browser.text()
    assert f"“{title}” saved." in browser.text(".govuk-notification-banner")


def status_of(browser: Browser, section: str) -> str:
    item = browser.page.locator(".govuk-task-list__item").filter(
        has=browser.page.get_by_role("link", name=section, exact=True))
    return " ".join(item.locator(".govuk-task-list__status").inner_text().split())


def test_an_officer_completes_every_section_and_submits_a_bid(browser_page: Browser,
                                                              tmp_path: Path) -> None:
    browser, page = browser_page, browser_page.page
    title = f"Bike repair sessions and bike lights for low-income families {uuid.uuid4().hex[:8]}"
    sign_in(browser, OFFICER)
    assert browser.h1() == "Your bids"

    browser.click_button("See funding rounds and start a bid")
    assert browser.h1() == "Funding rounds"
    browser.click_link("Safer Communities Fund")
    assert browser.h1() == "Safer Communities Fund"
    year_label = page.locator(".govuk-summary-list__row").filter(has_text="Financial year")\
        .locator(".govuk-summary-list__value").inner_text().strip()
    year = int(year_label.split("/")[0])  # e.g. 2026/27: 1 April 2026 to 31 March 2027
    browser.click_button("Start a bid")
    assert re.fullmatch(r"/bids/\d+", browser.path)
    assert browser.h1() == "Untitled bid"
    for section in SECTIONS:
        assert status_of(browser, section) == "Not yet started"

    browser.click_link("About the project")
    browser.fill("Project title", title)
    browser.fill("Summary of the project",
                 "Free bike repair sessions and bike lights for low-income families in South "
                 "Cambridgeshire, so children can cycle to school safely in winter.")
    type_date(page.get_by_role("group", name="Start date"), 1, 12, year)
    type_date(page.get_by_role("group", name="End date"), 28, 2, year + 1)
    save_section(browser, "About the project")
    assert browser.h1() == title

    browser.click_link("The problem and the evidence")
    # "Other issue" is asked only when "Other" is selected (issue 15: conditions): the page's
    # script shows it then, and hides it again.
    other_issue = page.get_by_label("Other issue", exact=True)
    assert other_issue.is_hidden()
    page.get_by_label("Other", exact=True).check()
    assert other_issue.is_visible()
    page.get_by_label("Other", exact=True).uncheck()
    assert other_issue.is_hidden()
    page.get_by_label("Road safety", exact=True).check()
    page.get_by_label("Bike theft", exact=True).check()
    browser.fill("District", "South Cambridgeshire")
    browser.fill("Parishes or wards", "Cambourne, Northstowe")
    page.get_by_label("Preventing", exact=True).check()
    browser.fill("Where does your evidence come from?",
                 "Police collision data and a survey of parents at two primary schools.")
    browser.fill("What does the evidence show?",
                 "Children cycling without lights after dark; bikes left unrepaired.")
    save_section(browser, "The problem and the evidence")

    browser.click_link("What will be done")
    browser.fill("What will be done?",
                 "Twelve bike repair sessions and 300 sets of lights given out.")
    browser.fill("Who will do it?",
                 "The district council's community safety team with a local bike charity.")
    browser.fill("Which partners are involved?",
                 "Cambridgeshire Constabulary, two primary schools, the parish council.")
    save_section(browser, "What will be done")

    browser.click_link("Outcomes")
    for n, (measure, target, how) in enumerate((
            ("Bike lights given out", "300", "Sign-up sheets at each session"),
            ("Bikes repaired", "120", "Mechanic's log")), start=1):
        row = page.get_by_role("group", name=f"Outcome {n}", exact=True)
        row.get_by_label("Measure", exact=True).fill(measure)
        row.get_by_label("Target", exact=True).fill(target)
        row.get_by_label("How it will be measured", exact=True).fill(how)
    save_section(browser, "Outcomes")

    browser.click_link("Budget")
    for n, (item, kind, amount) in enumerate((
            ("Bike lights", "Capital", "£2,250.00"),
            ("Mechanic", "Revenue", "1,800"),
            ("Spare parts", "Revenue", "700")), start=1):
        row = page.get_by_role("group", name=f"Budget line {n}", exact=True)
        row.get_by_label("Item", exact=True).fill(item)
        row.get_by_label("Capital or revenue", exact=True).select_option(label=kind)
        row.get_by_label("Amount", exact=True).fill(amount)
    save_section(browser, "Budget")

    browser.click_link("Declarations")
    page.get_by_label("The information in this bid is true and complete", exact=True).check()
    page.get_by_label("The partnership has agreed to this bid", exact=False).check()
    browser.fill("Your full name", "Sam Officer")
    browser.fill("Your role", "Community safety officer")
    save_section(browser, "Declarations")

    for section in SECTIONS:
        assert status_of(browser, section) == "Completed", section
    assert "You have completed 6 of 6 sections" in browser.text()

    pdf = tmp_path / "parent-survey.pdf"
    pdf.write_bytes(PDF)
    browser.click_link("Evidence files")
    page.get_by_label("Upload a file", exact=True).set_input_files(pdf)
    browser.fill("What the file shows (optional)", "Survey of parents")
    browser.click_button("Upload file")
    assert "“parent-survey.pdf” uploaded." in browser.text(".govuk-notification-banner")
    assert "parent-survey.pdf" in browser.text("table")
    browser.click_link("Return to the task list")
    assert status_of(browser, "Evidence files") == "1 file"

    browser.click_button("Check your answers and submit")
    assert browser.h1() == "Check your answers before submitting your bid"
    cards = [" ".join(t.split()) for t in
             page.locator(".govuk-summary-card__title").all_inner_texts()]
    assert cards == [*SECTIONS, "Evidence files", "Police and Crime Plan"]
    answers = browser.text()
    assert title in answers
    assert "Road safety, Bike theft" in answers
    assert "Bike lights given out: 300" in answers and "Bikes repaired: 120" in answers
    assert "Bike lights (Capital): £2,250.00" in answers
    assert "Mechanic (Revenue): £1,800.00" in answers
    assert "Spare parts (Revenue): £700.00" in answers
    assert "Total asked for £4,750.00" in answers
    assert "parent-survey.pdf" in answers

    browser.click_button("Submit bid")
    panel = browser.text(".govuk-panel")
    assert "Bid submitted" in panel
    assert re.search(r"SCF-\d{4}-\d{4}", panel), panel
    assert re.search(rf"SCF-{year}-\d{{4}}", panel), panel
