"""Issue 15, "Done when", in a real browser: the grants manager makes a new Safer Communities
round, copies the Safer Communities form into it, adds a yes/no question and a long-text
question asked only on "yes", previews them, names their section in a criterion and the round
is open; a Fenland officer answers both (the second appears when "Yes" is chosen) and
submits; an assessor sees both answers beside the criterion that names their section; the
manager finds both in the bids CSV. Every page is axe-checked by the harness.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from portal.db import UK
from portal.services.rounds import financial_year_of
from tests.browser.conftest import Browser, served
from tests.browser.test_assessment_browser import sign_in

MANAGER = "manager@example.org"
FENLAND = "officer.fenland@example.org"
ASSESSOR = "assessor1@example.org"
YOUNG = "Will the project work with young people?"
SAFE = "How will you keep young people safe?"
SAFE_ANSWER = "Two DBS-checked youth workers at every session, and a named safeguarding lead."


@pytest.fixture(scope="module")
def builder_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A server of this module's own: the journey adds a round to the Safer Communities
    Fund."""
    with served(backend, tmp_path_factory.mktemp(f"builder-{backend}"), "builder") as server:
        yield server


@pytest.fixture(scope="module")
def live_server(builder_server: Any) -> str:
    return builder_server[0]


def _day(browser: Browser, legend: str, day: datetime) -> None:
    group = browser.page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def test_a_designed_question_is_answered_assessed_and_exported(
        open_browser: Callable[..., Browser]) -> None:
    today = datetime.now(UK)
    year = financial_year_of(today.date())
    closes = datetime(year + 1, 3, 31, tzinfo=UK)
    round_name = f"Winter round {uuid.uuid4().hex[:6]}"

    # The grants manager: a new round, the Safer Communities form copied into it, two questions.
    manager = open_browser()
    page = manager.page
    sign_in(manager, MANAGER)
    manager.goto("/manage/funds")
    manager.click_link("Add a round – Safer Communities Fund")
    manager.fill("Name of the round", round_name)
    manager.fill("Financial year", str(year))
    _day(manager, "Opening date", today)
    manager.fill("Opening time", "0:00")
    _day(manager, "Closing date", closes)
    manager.fill("Closing time", "12:00")
    manager.fill("Budget", "20,000")
    manager.fill("Most a bid can ask for", "5,000")
    page.get_by_label("Community Safety Partnership", exact=False).first.check()
    page.get_by_role("group", name=re.compile("monitoring returns")).get_by_role(
        "radio").first.check()
    manager.click_button("Save round" if page.get_by_role(
        "button", name="Save round").count() else "Create round")
    # A new round's criteria come next: one criterion, scoring "What will be done".
    found = re.fullmatch(r"/manage/rounds/(\d+)/criteria/edit", manager.path)
    assert found, (manager.path, manager.text()[:2000])
    round_id = found.group(1)
    titles = page.locator('input[name$="-title"]')
    for n in range(titles.count()):
        titles.nth(n).fill("")
        page.locator(f'[name="rows-{n}-weight"]').fill("")
    titles.first.fill("Delivery and safety")
    page.locator('[name="rows-0-weight"]').fill("100")
    page.get_by_role("group", name="Sections criterion 1 scores").get_by_label(
        "What will be done", exact=True).check()
    manager.click_button("Save criteria")
    assert "saved" in manager.text(".govuk-notification-banner")
    manager.goto(f"/manage/rounds/{round_id}")
    manager.click_link("Design the application form")
    assert manager.h1() == "Application form"
    form_path = manager.path
    manager.click_button("Copy another form")
    source = page.get_by_label("Copy the form of")
    offered = [text.strip() for text in source.locator("option").all_inner_texts()]
    source.select_option(label=next(o for o in offered
                                    if o.startswith("Safer Communities Fund")))
    manager.click_button("Copy this form")
    assert manager.path == form_path, manager.text()[:1500]

    manager.click_link("Add a question to What will be done")
    page.get_by_label("Yes or no", exact=True).check()
    manager.click_button("Continue")
    manager.fill("Question", YOUNG)
    page.get_by_label("Key (optional)").fill("young_people")
    manager.click_button("Save question")
    assert YOUNG in manager.text()

    manager.click_link("Add a question to What will be done")
    page.get_by_label("Long text", exact=True).check()
    manager.click_button("Continue")
    manager.fill("Question", SAFE)
    page.get_by_label("Key (optional)").fill("keeping_safe")
    asked = page.get_by_label("When is this question asked?")
    offered = [text.strip() for text in asked.locator("option").all_inner_texts()]
    asked.select_option(label=next(o for o in offered if YOUNG in o and "Yes" in o))
    manager.click_button("Save question")
    assert SAFE in manager.text()

    manager.click_link("Preview the form as applicants see it")
    manager.click_link("What will be done")
    assert page.get_by_role("group", name=YOUNG).is_visible()
    assert page.get_by_label(SAFE).count() == 1

    # The Fenland officer answers both and submits.
    officer = open_browser()
    sign_in(officer, FENLAND)
    officer.goto("/rounds/")
    assert round_name in officer.text()
    officer.goto(f"/rounds/{round_id}")
    officer.click_button("Start a bid")
    bid_path = officer.path
    bid_page = officer.page
    start = today + timedelta(days=1)
    answers = {
        "About the project": lambda: (
            officer.fill("Project title", "Safer evenings for Wisbech"),
            officer.fill("Summary of the project", "Evening youth sessions in Wisbech."),
            _day(officer, "Start date", start), _day(officer, "End date", closes)),
        "The problem and the evidence": lambda: (
            bid_page.get_by_label("Anti-social behaviour").check(),
            officer.fill("District", "Fenland"),
            officer.fill("Parishes or wards", "Wisbech"),
            bid_page.get_by_label("Preventing").check(),
            officer.fill("Where does your evidence come from?", "Police incident data."),
            officer.fill("What does the evidence show?", "Disorder on winter evenings.")),
        "What will be done": lambda: (
            officer.fill("What will be done?", "Twenty evening sessions."),
            officer.fill("Who will do it?", "The district council's youth team."),
            officer.fill("Which partners are involved?", "Cambridgeshire Constabulary."),
            _young_and_safe(officer)),
        "Outcomes": lambda: (
            bid_page.locator('[name="rows-0-measure"]').fill("Sessions held"),
            bid_page.locator('[name="rows-0-target"]').fill("20"),
            bid_page.locator('[name="rows-0-how_measured"]').fill("Attendance registers")),
        "Budget": lambda: (
            bid_page.locator('[name="rows-0-item"]').fill("Youth workers"),
            bid_page.locator('[name="rows-0-kind"]').select_option("revenue"),
            bid_page.locator('[name="rows-0-amount"]').fill("3,000")),
        "Declarations": lambda: (
            bid_page.get_by_label("The information in this bid is true and complete").check(),
            bid_page.get_by_label("The partnership has agreed to this bid", exact=False).check(),
            officer.fill("Your full name", "Fen Officer"),
            officer.fill("Your role", "Community safety officer")),
    }
    for title, answer in answers.items():
        officer.click_link(title)
        answer()
        bid_page.get_by_label("Yes, I’ve completed this section").check()
        officer.click_button("Save and continue")
        assert officer.path == bid_path, (title, officer.text()[:2000])
    officer.click_button("Check your answers and submit")
    assert YOUNG in officer.text() and SAFE_ANSWER in officer.text()
    officer.click_button("Submit bid")
    reference = re.search(r"SCF-\d{4}-\d{4}", officer.text()).group(0)

    # The manager assigns the assessor; the assessor sees both answers beside the criterion.
    manager.goto(f"/manage/bids/{bid_path.rsplit('/', 1)[1]}")
    page.get_by_label("Assign an assessor", exact=True).select_option(label="Alex Assessor")
    manager.click_button("Assign")
    assessor = open_browser()
    sign_in(assessor, ASSESSOR)
    assessor.click_link(reference)
    assessor.page.get_by_label("No, I have no conflict of interest", exact=True).check()
    assessor.click_button("Continue")
    assert assessor.h1() == "Safer evenings for Wisbech"
    criterion = assessor.page.get_by_role("group", name=re.compile(r"^Score for ")).first
    assert criterion.count() == 1
    shown = assessor.text()
    assert YOUNG in shown and "Yes" in shown and SAFE in shown and SAFE_ANSWER in shown

    # The manager finds both answers in the bids CSV.
    response = manager.context.request.get(f"/reports/export/bids.csv?year={year}")
    assert response.ok, response.status
    rows = list(csv.DictReader(io.StringIO(response.text())))
    row = next(r for r in rows if r["reference"] == reference)
    assert row["answer:young_people"] == "Yes"
    assert row["answer:keeping_safe"] == SAFE_ANSWER


def _young_and_safe(officer: Browser) -> None:
    """Yes to the yes/no question; the long-text question then appears (JavaScript shows it
    only on "Yes") and is answered."""
    page = officer.page
    safe = page.get_by_label(SAFE)
    group = page.get_by_role("group", name=YOUNG)
    group.get_by_label("No", exact=True).check()
    assert not safe.is_visible()
    assert group.get_by_label("Yes", exact=True).get_attribute("aria-controls") == \
        "question-keeping_safe"
    group.get_by_label("Yes", exact=True).check()
    assert safe.is_visible()
    safe.fill(SAFE_ANSWER)


def test_a_funds_return_form_is_designed_page_by_page(
        open_browser: Callable[..., Browser]) -> None:
    """Every page of a fund's return form, as the grants manager goes through them (axe-
    checked, and at 320 px, by the harness): a section added and changed, a RAG question
    added and changed, previewed, then removed."""
    manager = open_browser()
    page = manager.page
    sign_in(manager, MANAGER)
    manager.goto("/manage/funds")
    manager.click_link("Design the return form – Youth Fund")
    assert manager.h1() == "Return form"
    form_path = manager.path
    manager.click_button("Add a section")
    manager.fill("Title", "Progress")
    manager.click_button("Save section")
    manager.click_link("Change section Progress")
    manager.fill("Title", "Progress this period")
    manager.click_button("Save section")
    manager.click_link("Add a question to Progress this period")
    page.get_by_label("Red, amber or green", exact=True).check()
    manager.click_button("Continue")
    manager.fill("Question", "Overall progress")
    manager.click_button("Save question")
    assert manager.path == form_path and "Overall progress" in manager.text()
    manager.click_link("Change Overall progress")
    manager.fill("Hint (optional)", "Green if on track.")
    manager.click_button("Save question")
    manager.click_link("Preview the form")
    manager.click_link("Progress this period")
    assert page.get_by_role("group", name="Overall progress").is_visible()
    manager.goto(form_path)
    manager.click_link("Remove Overall progress")
    page.get_by_label("Yes", exact=True).check()
    manager.click_button("Continue" if page.get_by_role("button", name="Continue").count()
                         else "Remove question")
    assert "No questions yet." in manager.text()
    manager.click_link("Remove section Progress this period")
    page.get_by_label("Yes", exact=True).check()
    manager.click_button("Continue" if page.get_by_role("button", name="Continue").count()
                         else "Remove section")
    assert "This form has no questions of its own yet." in manager.text()
