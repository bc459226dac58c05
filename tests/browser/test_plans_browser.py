"""Issue 18 in a real browser: the grants manager creates a Police and Crime Plan, adds,
changes, moves and removes its sections, and names a fund's default section. Every page is
axe-checked by the harness (WCAG 2.2 AA), at its width and at 320 px."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.conftest import Browser, served
from tests.browser.test_assessment_browser import sign_in

MANAGER = "manager@example.org"


@pytest.fixture(scope="module")
def plans_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with served(backend, tmp_path_factory.mktemp(f"plans-{backend}"), "plans") as server:
        yield server


@pytest.fixture(scope="module")
def live_server(plans_server: Any) -> str:
    return plans_server[0]


def test_the_manager_keeps_the_plan_and_a_funds_default_section(
        open_browser: Callable[..., Browser]) -> None:
    manager = open_browser()
    page = manager.page
    sign_in(manager, MANAGER)
    manager.goto("/manage/")
    manager.click_link("Police and Crime Plan")
    manager.click_button("Create a plan")
    manager.fill("Title of the plan", "Police and Crime Plan 2096 to 2099")
    manager.fill("First financial year", "2096")
    manager.fill("Last financial year", "2098")
    group = page.get_by_role("group", name="In force from")
    group.get_by_label("Day").fill("1")
    group.get_by_label("Month").fill("4")
    group.get_by_label("Year").fill("2096")
    page.get_by_label("Start with the sections of the plan before", exact=False).check()
    manager.click_button("Create plan")
    assert "created" in manager.text(".govuk-notification-banner")
    copied = page.locator(".govuk-summary-list__key").all_inner_texts()
    assert copied, "the sections of the plan before were copied"

    manager.click_button("Add a section")
    manager.fill("Code", "NEW-1")
    manager.fill("Name", "A section added in the browser")
    manager.click_button("Save section")
    assert "NEW-1" in page.locator(".govuk-summary-list__key").all_inner_texts()
    manager.click_button("Move up A section added in the browser")
    keys = page.locator(".govuk-summary-list__key").all_inner_texts()
    assert keys[-2] == "NEW-1", keys
    manager.click_link("Change A section added in the browser")
    manager.fill("Name", "A section renamed in the browser")
    manager.click_button("Save section")
    manager.click_link("Remove A section renamed in the browser")
    page.get_by_label("Yes", exact=True).check()
    manager.click_button("Continue")
    assert "NEW-1" not in page.locator(".govuk-summary-list__key").all_inner_texts()

    # A fund's default section: one of the plan in force today's.
    manager.goto("/manage/funds")
    manager.click_link("Change fund and terms – Safer Communities Fund")
    select = page.get_by_label("Section of the Police and Crime Plan its grants support",
                               exact=False)
    options = select.locator("option").all_inner_texts()
    select.select_option(label=options[-1])
    manager.click_button("Save fund")
    assert "saved" in manager.text(".govuk-notification-banner")
