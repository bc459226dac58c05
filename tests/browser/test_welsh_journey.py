"""The service in Welsh, end to end (issue 16): the Welsh-preferring demo officer bids, the
Welsh-preferring grants manager looks at the bid, and a signed-out reader who chose Cymraeg
reads the public pages. On every page (axe-checked by the harness) no English shows outside
elements marked ``lang="en"`` (tests/browser/english.py).

What people type is shown as typed, so this test types Welsh."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from portal.db import session
from tests.browser.conftest import Browser, served
from tests.browser.english import Detector, describe
from tests.helpers import DEMO_PASSWORD

OFFICER = "swyddog.hunts@example.org"
MANAGER = "rheolwr@example.org"
TITLE = "Sesiynau trwsio beiciau a goleuadau i deuluoedd incwm isel"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
WELSH_ANSWER = ("Bydd y prosiect yn rhoi goleuadau beic i blant ac yn trwsio beiciau mewn "
                "sesiynau wythnosol yn y ganolfan gymunedol.")


@pytest.fixture(scope="module")
def welsh_server(backend: str, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[tuple[str, Any]]:
    """A server of this module's own, so that what others typed in English (other tests'
    bids) is known: the detector leaves typed text alone."""
    with served(backend, tmp_path_factory.mktemp(f"welsh-{backend}"), "welsh") as served_:
        yield served_


@pytest.fixture(scope="module")
def live_server(welsh_server: tuple[str, Any]) -> str:
    return welsh_server[0]


def typed_by_people(app: Any) -> frozenset[str]:
    """Text the demo's people typed (names, titles, answers): shown as typed."""
    from portal.models import Bid, BidSection, BudgetLine, OutcomeMeasure, User

    found: set[str] = set()
    with app.test_request_context():
        for column in (User.name, Bid.title, BudgetLine.item, OutcomeMeasure.measure,
                       OutcomeMeasure.how_measured):
            found.update(value for value in session.scalars(select(column)) if value)
        saved_answers: list[dict[str, Any]] = list(session.scalars(select(BidSection.answers)))
        for saved in saved_answers:
            found.update(v for v in (saved or {}).values() if isinstance(v, str) and v)
    return frozenset(" ".join(text.split()) for text in found)


def detect(browser: Browser, app: Any) -> Detector:
    detector = Detector(typed_by_people(app))
    browser.inspectors.append(detector)
    return detector


def assert_welsh(detector: Detector) -> None:
    """Fail naming each English text: its page, the text and its element. Messages only
    untranslated (the catalogue's gaps, which its own test names) are listed after."""
    problems = detector.english + detector.untranslated
    assert not problems, (
        f"English outside lang=\"en\" on Welsh pages ({len(detector.english)} found, and "
        f"{len(detector.untranslated)} untranslated messages):\n  " + describe(problems))


def sign_in(browser: Browser, email: str) -> None:
    browser.goto("/sign-in")
    browser.page.locator("input[name=email]").fill(email)
    browser.page.locator("input[name=password]").fill(DEMO_PASSWORD)
    browser.click(browser.page.locator("main form button[type=submit]").first)


def submit(browser: Browser) -> None:
    """The form's main button: WTForms' ``submit``, else the first primary button."""
    named = browser.page.locator("main form button[name=submit]")
    browser.click(named.first if named.count() else browser.page.locator(
        "main form button[type=submit]:not(.govuk-button--secondary)").first)


def save_section(browser: Browser) -> None:
    page = browser.page
    page.locator("input[name=completed][value=yes]").check()
    submit(browser)
    assert page.locator(".govuk-error-summary").count() == 0, browser.text()
    assert page.locator(".govuk-notification-banner").count() == 1, browser.text()


def type_date(browser: Browser, name: str, day: int, month: int, year: int) -> None:
    for part, value in (("day", day), ("month", month), ("year", year)):
        browser.page.locator(f"#{name}-{part}").fill(str(value))


def fill_sections(browser: Browser, bid_path: str, year: int) -> None:
    page = browser.page
    browser.goto(f"{bid_path}/sections/about")
    page.locator("#title").fill(TITLE)
    page.locator("#summary").fill(WELSH_ANSWER)
    type_date(browser, "start_date", 1, 12, year)
    type_date(browser, "end_date", 28, 2, year + 1)
    save_section(browser)

    browser.goto(f"{bid_path}/sections/problem")
    page.locator("input[name=issue_types][value=road_safety]").check()
    page.locator("input[name=issue_types][value=bike_theft]").check()
    page.locator("#district").fill("Swydd Huntingdon")
    page.locator("#places").fill("Huntingdon, St Ives")
    page.locator("input[name=priority_category][value=preventing]").check()
    page.locator("#evidence_sources").fill("Data gwrthdrawiadau’r heddlu ac arolwg o rieni.")
    page.locator("#evidence_shows").fill("Plant yn beicio heb oleuadau wedi iddi dywyllu.")
    save_section(browser)

    browser.goto(f"{bid_path}/sections/delivery")
    page.locator("#activities").fill("Deuddeg sesiwn trwsio beiciau a 300 set o oleuadau.")
    page.locator("#delivered_by").fill("Tîm diogelwch cymunedol y cyngor ac elusen feiciau.")
    page.locator("#partners").fill("Yr heddlu, dwy ysgol gynradd a’r cyngor plwyf.")
    save_section(browser)

    browser.goto(f"{bid_path}/sections/outcomes")
    page.locator("#rows-0-measure").fill("Goleuadau beic a roddwyd")
    page.locator("#rows-0-target").fill("300")
    page.locator("#rows-0-how_measured").fill("Taflenni cofrestru ym mhob sesiwn")
    save_section(browser)

    browser.goto(f"{bid_path}/sections/budget")
    for n, (item, kind, amount) in enumerate((("Goleuadau beic", "capital", "2,250"),
                                              ("Mecanydd", "revenue", "1,800"))):
        page.locator(f"#rows-{n}-item").fill(item)
        page.locator(f"#rows-{n}-kind").select_option(kind)
        page.locator(f"#rows-{n}-amount").fill(amount)
    save_section(browser)

    browser.goto(f"{bid_path}/sections/declarations")
    page.locator("#accurate").check()
    page.locator("#authorised").check()
    page.locator("#name").fill("Gwen Swyddog")
    page.locator("#role").fill("Swyddog diogelwch cymunedol")
    save_section(browser)


def test_a_welsh_officer_bids_and_a_welsh_manager_reads_it_all_in_welsh(
        open_browser: Any, welsh_server: tuple[str, Any], tmp_path: Path) -> None:
    _url, app = welsh_server
    browser = open_browser()
    detector = detect(browser, app)
    page = browser.page

    sign_in(browser, OFFICER)
    assert page.locator("html").get_attribute("lang") == "cy"
    assert browser.path == "/bids/"
    browser.goto("/rounds/")
    browser.click(page.locator("main a[href='/rounds/1']"))
    year = int(re.search(r"\b(20\d\d)/\d\d\b", browser.text()).group(1))  # type: ignore[union-attr]
    submit(browser)  # start a bid
    bid_path = browser.path
    assert re.fullmatch(r"/bids/\d+", bid_path)

    fill_sections(browser, bid_path, year)
    browser.goto(f"{bid_path}/evidence")
    pdf = tmp_path / "arolwg-rhieni.pdf"
    pdf.write_bytes(PDF)
    page.locator("#file").set_input_files(pdf)
    page.locator("#description").fill("Arolwg o rieni")
    submit(browser)
    assert "arolwg-rhieni.pdf" in browser.text()

    browser.goto(bid_path)
    browser.goto(f"{bid_path}/check-answers")
    assert TITLE in browser.text()
    submit(browser)
    assert browser.path.endswith("/submitted"), browser.text()
    assert re.search(r"SCF-\d{4}-\d{4}", browser.text(".govuk-panel"))

    manager = open_browser()
    manager.inspectors.append(detector)
    sign_in(manager, MANAGER)
    assert manager.page.locator("html").get_attribute("lang") == "cy"
    manager.goto("/manage/rounds/1")
    manager.goto(f"/manage{bid_path}")
    assert TITLE in manager.text()
    manager.goto("/manage/rounds/1/form")

    assert_welsh(detector)


def test_a_signed_out_welsh_reader_reads_the_public_pages_in_welsh(
        browser_page: Browser, welsh_server: tuple[str, Any]) -> None:
    _url, app = welsh_server
    browser, page = browser_page, browser_page.page
    browser.goto("/")
    browser.click(page.locator("footer a[href='/account/language']"))
    page.locator("input[name=language][value=cy]").check()
    submit(browser)
    assert page.locator("html").get_attribute("lang") == "cy"
    detector = detect(browser, app)
    for path in ("/", "/transparency", "/accessibility", "/privacy", "/cookies", "/sign-in"):
        browser.goto(path)
    with page.expect_navigation():
        page.goto("/no-such-page")
    # The browser reports a page answered 404 as a failed resource: expected here.
    browser.problems = [p for p in browser.problems if "/no-such-page" not in p]
    browser.check()
    assert page.locator("html").get_attribute("lang") == "cy"
    assert_welsh(detector)
