"""Signing in and out in a real browser, for every role, with every page axe-checked."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.conftest import Browser
from tests.helpers import DEMO_PASSWORD

ROLES = [
    # (demo account, home path, home page's heading)
    ("officer.fenland@example.org", "/bids/", "Your bids"),
    ("assessor1@example.org", "/assess/", "Assessments"),
    ("manager@example.org", "/manage/", "Rounds and decisions"),
    ("finance@example.org", "/finance/", "Finance"),
    ("admin@example.org", "/admin/", "Users"),
]


def sign_in(browser: Browser, email: str, password: str = DEMO_PASSWORD) -> None:
    browser.goto("/")
    browser.click_button("Sign in", within="main")  # the start button: a link, role=button
    assert browser.path == "/sign-in"
    assert browser.h1() == "Sign in"
    browser.fill("Email address", email)
    browser.fill("Password", password)
    browser.click_button("Sign in", within="main")


@pytest.mark.parametrize(("email", "home", "heading"), ROLES,
                         ids=[email.split("@")[0] for email, _, _ in ROLES])
def test_each_role_signs_in_to_its_home_and_out(browser_page: Browser, email: str, home: str,
                                                heading: str) -> None:
    sign_in(browser_page, email)

    assert browser_page.path == home
    assert browser_page.h1() == heading

    browser_page.click_button("Sign out", within="header")

    assert browser_page.path == "/sign-in"
    assert browser_page.h1() == "Sign in"
    assert "You have signed out." in browser_page.text(".govuk-notification-banner")


def test_wrong_password_shows_the_error_next_to_the_field(browser_page: Browser) -> None:
    sign_in(browser_page, "assessor2@example.org", "not-the-password")

    assert browser_page.path == "/sign-in"
    page = browser_page.page
    assert page.title().startswith("Error:")
    summary = page.locator(".govuk-error-summary")
    assert "There is a problem" in summary.inner_text()
    assert summary.get_by_role("link", name="Enter a correct email address and password")\
        .get_attribute("href") == "#email"
    described_by = page.get_by_label("Email address", exact=True).get_attribute(
        "aria-describedby") or ""
    messages = " ".join(page.locator(f"#{id_}").inner_text() for id_ in described_by.split())
    assert "Enter a correct email address and password" in messages


@pytest.mark.parametrize(("link", "heading"), [
    ("Accessibility statement", "Accessibility statement for Community safety grants"),
    ("Privacy", "Privacy notice"),
    ("Cookies", "Cookies"),
])
def test_footer_pages_are_reachable_and_accessible(browser_page: Browser, link: str,
                                                   heading: str) -> None:
    browser_page.goto("/")
    browser_page.click_link(link, within="footer")

    assert browser_page.h1() == heading


def test_sign_in_works_without_javascript(open_browser: Callable[..., Browser]) -> None:
    browser = open_browser(java_script_enabled=False)
    sign_in(browser, "officer.fenland@example.org")

    assert browser.path == "/bids/"
    assert browser.h1() == "Your bids"
    assert not browser.page.evaluate("() => document.body.classList.contains('js-enabled')")

    browser.click_button("Sign out", within="header")

    assert browser.path == "/sign-in"
    assert "You have signed out." in browser.text(".govuk-notification-banner")
