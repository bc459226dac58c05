"""A submitted bid through assessment in a real browser: the grants manager assigns two
assessors, each declares no conflict and scores (they disagree), the manager moderates,
ranks the round and approves the bid. Every page is axe-checked by the harness.

The live server's app is not exposed by conftest.py, so the bid is made over HTTP by the
officer's browser context (its request client shares the context's cookies): the real
forms' fields posted with their CSRF tokens, without loading pages. The officer's journey
through the pages themselves is test_bidding_browser.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from tests.bidding import OFFICER
from tests.browser.conftest import Browser
from tests.helpers import DEMO_PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import APIRequestContext, APIResponse

MANAGER = "manager@example.org"
ASSESSORS = {"assessor1@example.org": "Alex Assessor", "assessor2@example.org": "Sam Assessor"}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ONCE = re.compile(r'name="once"[^>]*value="([^"]+)"')
REFERENCE = re.compile(r"SCF-\d{4}-\d{4}")


def sign_in(browser: Browser, email: str) -> None:
    browser.goto("/sign-in")
    browser.fill("Email address", email)
    browser.fill("Password", DEMO_PASSWORD)
    browser.click_button("Sign in", within="main")


def pounds(text: str) -> int:
    """Pence from text such as '£4,750.00'."""
    match = re.search(r"£([\d,]+)\.(\d\d)", text)
    assert match, text
    return int(match.group(1).replace(",", "")) * 100 + int(match.group(2))


def summary_value(browser: Browser, key: str) -> str:
    key_cell = browser.page.locator(".govuk-summary-list__key",
                                    has_text=re.compile(rf"^\s*{re.escape(key)}\s*$"))
    row = browser.page.locator(".govuk-summary-list__row").filter(has=key_cell)
    return " ".join(row.locator(".govuk-summary-list__value").inner_text().split())


# The bid, made by the officer over HTTP -------------------------------------------------------

def _post(request: APIRequestContext, url: str, fields: list[tuple[str, str]],
          form_page: str) -> APIResponse:
    """Post a form as the browser would: with the CSRF token of the form's page (and its
    one-time token, for a one-shot form)."""
    page = request.get(form_page)
    assert page.ok, (form_page, page.status)
    token = CSRF.search(page.text())
    assert token, f"no CSRF token on {form_page}"
    once = ONCE.search(page.text())
    extra = [("once", once.group(1))] if once else []
    response = request.post(url, data=urlencode([*fields, *extra,
                                                 ("csrf_token", token.group(1))]),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.ok, (url, response.status, response.text()[:500])
    return response


def submitted_bid(request: APIRequestContext, title: str) -> tuple[int, str]:
    """Start, complete and submit a Safer Communities Fund bid; its id and reference."""
    signed_in = _post(request, "/sign-in", [("email", OFFICER), ("password", DEMO_PASSWORD)],
                      "/sign-in")
    assert urlsplit(signed_in.url).path == "/bids/", signed_in.url
    rounds = request.get("/rounds/").text()
    round_id = re.search(r'href="/rounds/(\d+)">Safer Communities Fund<', rounds).group(1)
    round_page = request.get(f"/rounds/{round_id}").text()
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', round_page).group(1)
    year = int(re.search(r"(\d{4})/\d\d", round_page).group(1))
    started = _post(request, f"/rounds/{round_id}/start", [("token", token)],
                    f"/rounds/{round_id}")
    bid_path = urlsplit(started.url).path
    assert re.fullmatch(r"/bids/\d+", bid_path), started.url
    sections: dict[str, list[tuple[str, str]]] = {
        "about": [("title", title),
                  ("summary", "Free bike repair sessions and bike lights for low-income "
                              "families in South Cambridgeshire."),
                  ("start_date", "1"), ("start_date", "12"), ("start_date", str(year)),
                  ("end_date", "28"), ("end_date", "2"), ("end_date", str(year + 1))],
        "problem": [("issue_types", "road_safety"), ("issue_types", "bike_theft"),
                    ("district", "South Cambridgeshire"), ("places", "Cambourne, Northstowe"),
                    ("priority_category", "preventing"),
                    ("evidence_sources", "Police collision data and a survey of parents."),
                    ("evidence_shows", "Children cycling without lights after dark.")],
        "delivery": [("activities", "Twelve bike repair sessions and 300 sets of lights."),
                     ("delivered_by", "The community safety team with a bike charity."),
                     ("partners", "Cambridgeshire Constabulary and two primary schools.")],
        "outcomes": [("rows-0-measure", "Bike lights given out"), ("rows-0-target", "300"),
                     ("rows-0-how_measured", "Sign-up sheets")],
        "budget": [("rows-0-item", "Bike lights"), ("rows-0-kind", "capital"),
                   ("rows-0-amount", "2,250"), ("rows-1-item", "Mechanic"),
                   ("rows-1-kind", "revenue"), ("rows-1-amount", "1,800"),
                   ("rows-2-item", "Spare parts"), ("rows-2-kind", "revenue"),
                   ("rows-2-amount", "700")],
        "declarations": [("accurate", "y"), ("authorised", "y"), ("name", "Sam Officer"),
                         ("role", "Community safety officer")],
    }
    for key, fields in sections.items():
        url = f"{bid_path}/sections/{key}"
        saved = _post(request, url, [*fields, ("version", ""), ("completed", "yes")], url)
        assert urlsplit(saved.url).path == bid_path, (key, saved.url, saved.text()[:3000])
    done = _post(request, f"{bid_path}/submit", [], f"{bid_path}/check-answers")
    assert urlsplit(done.url).path == f"{bid_path}/submitted", done.url
    reference = REFERENCE.search(done.text())
    assert reference, done.text()[:3000]
    return int(bid_path.rsplit("/", 1)[1]), reference.group(0)


# Assessors ------------------------------------------------------------------------------------

def assess(open_browser: Callable[..., Browser], email: str, reference: str, title: str,
           scores: list[int], recommendation: str) -> Browser:
    """Sign in as the assessor, declare no conflict, score every criterion and submit."""
    browser = open_browser()
    page = browser.page
    sign_in(browser, email)
    assert browser.h1() == "Assessments"
    browser.click_link(reference)
    assert browser.h1() == "Declare any conflict of interest"
    page.get_by_label("No, I have no conflict of interest", exact=True).check()
    browser.click_button("Continue")
    assert browser.h1() == title
    assert "Other assessors' scores" not in browser.text()
    groups = page.get_by_role("group", name=re.compile(r"^Score for "))
    justifications = page.get_by_label("Justification for this score", exact=True)
    assert groups.count() == justifications.count() == len(scores)
    for n, score in enumerate(scores):
        groups.nth(n).get_by_role("radio", name=re.compile(rf"^{score} –")).check()
        justifications.nth(n).fill(f"Scored {score}: the evidence given for this criterion.")
    page.get_by_label(recommendation, exact=True).check()
    browser.fill("Comments for the grants manager", f"Recommend: {recommendation}.")
    browser.click_button("Submit assessment")
    assert "Assessment submitted." in browser.text(".govuk-notification-banner")
    assert "You submitted this assessment on" in browser.text()
    assert page.get_by_role("heading", name="Other assessors' scores").is_visible()
    return browser


# The journey ----------------------------------------------------------------------------------

def test_a_bid_is_assessed_moderated_ranked_and_approved(
        open_browser: Callable[..., Browser]) -> None:
    title = f"Bike lights for the dark evenings {uuid.uuid4().hex[:8]}"
    officer = open_browser()
    bid_id, reference = submitted_bid(officer.context.request, title)

    manager = open_browser()
    page = manager.page
    sign_in(manager, MANAGER)
    assert manager.h1() == "Rounds and decisions"
    manager.click_link("Safer Communities Fund")
    committed_before = pounds(summary_value(manager, "Committed"))
    manager.click_link(reference)
    assert manager.h1() == title and manager.path == f"/manage/bids/{bid_id}"
    assert "No assessors assigned yet." in manager.text()
    for name in ASSESSORS.values():
        page.get_by_label("Assign an assessor", exact=True).select_option(label=name)
        manager.click_button("Assign")
        assert f"{name} assigned." in manager.text(".govuk-notification-banner")
    assert "In assessment" in manager.text()

    high = assess(open_browser, "assessor1@example.org", reference, title, [5, 5, 5, 5], "Fund")
    assert "No other assessor has submitted yet." in high.text()
    low_scores = [2, 4, 2, 4]
    low = assess(open_browser, "assessor2@example.org", reference, title, low_scores,
                 "Do not fund")
    others = low.text("table")
    assert "Alex Assessor" in others and "You" in others
    first_row = low.page.locator("main table tbody tr").first
    cells = [c.strip() for c in first_row.locator("td").all_inner_texts()]
    assert cells == ["2", "5"]  # this assessor, then Alex Assessor

    manager.goto(f"/manage/bids/{bid_id}")
    assert manager.text("table").count("Submitted") == 2
    manager.click_button("Compare and moderate scores")
    assert manager.h1() == "Compare and moderate scores"
    flagged = sum(1 for score in low_scores if 5 - score >= 2)
    assert manager.text("table").count("Differ by 2 or more") == flagged == 2
    form = page.locator("main form")
    selects = form.get_by_role("combobox")
    assert selects.count() == len(low_scores)
    for n in range(selects.count()):
        selects.nth(n).select_option("4")
    manager.fill("Why these are the moderated scores",
                 "Alex weighed the police data more; Sam doubted the school survey. "
                 "Agreed at moderation: good on every criterion.")
    manager.click_button("Save moderated scores")
    assert "Moderated scores saved." in manager.text(".govuk-notification-banner")
    assert summary_value(manager, "Moderated score") == "80.0%"

    manager.click_link("Back to the round")
    manager.click_link("Rank bids against the remaining budget")
    assert manager.h1() == "Bids ranked against the remaining budget"
    row = page.locator("main table tbody tr").filter(has_text=reference)
    assert row.count() == 1
    ranked = " ".join(row.inner_text().split())
    assert "80.0%" in ranked and "moderated" in ranked and "£4,750.00" in ranked
    manager.click_link(reference, within="main table")

    manager.click_button("Record a decision")
    assert manager.h1() == "Record a decision"
    page.get_by_label("Approve", exact=True).check()
    manager.fill("Amount awarded", "4,750")
    manager.fill("Purpose of the grant", "Bike lights and repair sessions for families")
    manager.fill("Conditions (optional)", "Publicise the OPCC's support")
    manager.fill("Why the grant will reduce crime and disorder",
                 "Fewer bike thefts and safer cycling after dark")
    manager.click_button("Record decision")
    assert "Decision recorded" in manager.text(".govuk-notification-banner")
    decision = page.get_by_role("heading", name=re.compile(r"^Decision DEC-\d{4}-\d{4}$"))
    assert decision.count() == 1
    assert summary_value(manager, "Outcome") == "Approved"
    assert summary_value(manager, "Amount") == "£4,750.00"

    manager.click_link("Back to the round")
    assert pounds(summary_value(manager, "Committed")) == committed_before + 4_750_00
    bid_row = page.locator("main table tbody tr").filter(has_text=reference)
    assert "£4,750.00" in bid_row.inner_text()
