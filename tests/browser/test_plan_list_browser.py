"""The board's list of grants by section of the Police and Crime Plan, printed (issue 18: "the
printed list has no navigation and fits A4").

A grants manager opens the list from the dashboard (axe-checked, at 320px too, by the
harness), then the page is laid out for print: the skip link, header, service navigation,
footer, back link, filters, links and buttons are not displayed, nothing is wider than an
A4 page, and Chromium prints it to a PDF whose pages are all A4 portrait (595 x 842 points).

The demo's grants are served by a server of this module's own; one grant is given a purpose
with a long unbroken word (a web address, say), which must wrap rather than widen the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from portal.db import session
from portal.models import Award, Decision, Plan, PlanSection, Round
from portal.services import plans
from portal.services.rounds import financial_year_of
from tests.browser.conftest import Browser, served
from tests.browser.test_assessment_browser import sign_in

MANAGER = "manager@example.org"
LONG_WORD = "https://www.example.org/" + "community-safety-" * 8 + "report.pdf"
# A4 is 210 x 297 mm: 595.3 x 841.9 points, 793.7 x 1122.5 CSS pixels; less the list's 15 mm
# margins (assets/scss/_print.scss) it is 680 CSS pixels wide.
A4_POINTS = (595.3, 841.9)
A4_PIXELS = (794, 1123)
A4_INSIDE_MARGINS = 680
MEDIA_BOX = re.compile(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]")
SCREEN_ONLY = [".govuk-skip-link", ".govuk-template__header", ".govuk-header",
               ".govuk-service-navigation", ".govuk-template__footer", ".govuk-footer",
               ".govuk-back-link", "main form", "main .govuk-button",
               "main .govuk-inset-text"]
DISPLAYS = """(selectors) => selectors.map(selector => [selector,
  Array.from(document.querySelectorAll(selector), e => getComputedStyle(e).display)])"""
WIDTHS = """() => ({scroll: document.documentElement.scrollWidth,
                   client: document.documentElement.clientWidth})"""


@pytest.fixture(scope="module")
def list_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with served(backend, tmp_path_factory.mktemp(f"plan-list-{backend}"), "planlist",
                awards=True) as server:
        yield server


@pytest.fixture(scope="module")
def live_server(list_server: Any) -> str:
    return list_server[0]


@pytest.fixture(scope="module")
def year(list_server: Any) -> int:
    """The latest financial year with demo grants; its grants aligned to the plan in force
    where the demo left them unaligned (every other one, so the list also has grants aligned
    to none), and one grant's purpose given a long unbroken word."""
    app = list_server[1]
    with app.test_request_context():
        awards = list(session.scalars(select(Award).join(Round, Round.id == Award.round_id)
                                      .order_by(Round.financial_year.desc(), Award.id)))
        assert awards, "the demo has grants"
        shown = awards[0].round.financial_year
        in_year = [award for award in awards if award.round.financial_year == shown]
        sections = plans.sections_in_force(awards[0].offered_at.date())
        if not sections:  # the demo without its plans: one of our own
            plan = Plan(title="Police and Crime Plan", first_year=shown - 1,
                        last_year=shown + 2, in_force_from=awards[0].offered_at.date())
            plan.sections = [PlanSection(code="PCF", name="Putting Communities First",
                                         position=1),
                             PlanSection(code="KPS", name="Keeping people safe", position=2)]
            session.add(plan)
            session.flush()
            sections = list(plan.sections)
        for number, award in enumerate(in_year):
            if award.plan_section_id is None and number % 2 == 0:
                award.plan_section_id = sections[number % len(sections)].id
        decision = session.get(Decision, in_year[0].decision_id)
        decision.purpose = f"Street lighting and outreach, as set out in {LONG_WORD}"
        session.commit()
        assert shown >= financial_year_of(awards[-1].offered_at.date()) - 10
        return shown


def displays(page: Any, selectors: list[str]) -> dict[str, list[str]]:
    return dict(page.evaluate(DISPLAYS, selectors))


def test_the_list_prints_on_a4_without_navigation(browser_page: Browser, year: int) -> None:
    browser = browser_page
    sign_in(browser, MANAGER)
    browser.goto(f"/reports/?year={year}")
    browser.click(browser.page.locator(f'main a[href="/reports/plan-list?year={year}"]'))
    assert browser.h1() == "Grants awarded by section of the Police and Crime Plan"
    page = browser.page
    assert LONG_WORD in browser.text()
    assert page.get_by_role("button", name="Print this list").is_visible()
    on_screen = displays(page, SCREEN_ONLY)
    for selector in (".govuk-template__header", ".govuk-service-navigation",
                     ".govuk-template__footer", "main form"):
        assert on_screen[selector] and "none" not in on_screen[selector], selector

    page.emulate_media(media="print")
    try:
        printed = displays(page, SCREEN_ONLY)
        for selector, values in printed.items():
            assert values == ["none"] * len(values), (selector, values)
        assert all(printed[s] for s in (".govuk-template__header", ".govuk-footer",
                                        ".govuk-service-navigation", "main form"))
        # Each section's heading stays with its first rows; its table's headings repeat.
        assert page.evaluate("""() => Array.from(document.querySelectorAll(
            ".portal-print-group h2"), h => getComputedStyle(h).breakAfter)""") \
            == ["avoid"] * page.locator(".portal-print-group h2").count()
        for width in (A4_PIXELS[0], A4_INSIDE_MARGINS):
            page.set_viewport_size({"width": width, "height": A4_PIXELS[1]})
            widths = page.evaluate(WIDTHS)
            assert widths["scroll"] <= widths["client"], (width, widths)
        pdf = page.pdf(format="A4", print_background=True)
    finally:
        page.emulate_media(media="screen")
    boxes = [tuple(float(n) for n in box) for box in MEDIA_BOX.findall(pdf)]
    assert boxes, "the PDF has pages"
    for x0, y0, x1, y1 in boxes:
        assert abs((x1 - x0) - A4_POINTS[0]) < 2 and abs((y1 - y0) - A4_POINTS[1]) < 2, \
            (x0, y0, x1, y1)
