"""The warning before an idle session ends, in a real browser (issue 13, point 9): a modal
dialog with focus moved into it, the time left announced politely, "Stay signed in" renewing
the session, and a plain "signed out" when the time runs out. The portal is served with a
short idle lifetime so that the warning comes within seconds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.browser.conftest import Browser, served
from tests.browser.test_sign_in_browser import sign_in

LIFETIME = 24  # seconds of idleness before a session ends
WARNING = 20  # seconds before the end that the warning opens
OFFICER = "officer.fenland@example.org"
DIALOG = "#session-timeout"


@pytest.fixture(scope="module")
def live_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The portal whose idle sessions end after LIFETIME seconds, warning WARNING before."""
    with served(backend, tmp_path_factory.mktemp(f"idle-{backend}"), "idle",
                PERMANENT_SESSION_LIFETIME=timedelta(seconds=LIFETIME),
                SESSION_WARNING_SECONDS=WARNING) as (url, _):
        yield url


def seconds_left(browser: Browser) -> int:
    """What the server says, without renewing the session."""
    return browser.page.evaluate(
        "async () => (await (await fetch('/session')).json()).seconds_left")


def test_the_warning_comes_before_the_end_and_stay_signed_in_renews(browser_page: Browser):
    sign_in(browser_page, OFFICER)
    assert browser_page.path == "/bids/"
    page = browser_page.page
    page.locator("main a").first.focus()  # where focus goes back to
    focused = page.evaluate("document.activeElement.outerHTML")
    dialog = page.get_by_role("dialog", name="You’re about to be signed out")
    dialog.wait_for(state="visible", timeout=(LIFETIME - WARNING + 20) * 1000)

    # Modal, named by its heading, focus moved into it, the time left said politely.
    assert dialog.get_attribute("aria-modal") == "true"
    assert page.evaluate(f"document.querySelector('{DIALOG}').contains(document.activeElement)")
    live = page.locator(f"{DIALOG} [aria-live='polite']")
    assert "we will sign you out in" in live.inner_text()
    assert "seconds" in live.inner_text()
    visible = page.locator(f"{DIALOG} [data-countdown]")
    first = visible.inner_text()
    page.wait_for_timeout(1500)
    assert visible.inner_text() != first  # counts down each second on screen
    browser_page.check()  # axe-core on the page with the dialog open

    before = seconds_left(browser_page)
    assert 0 < before <= WARNING
    dialog.get_by_role("button", name="Stay signed in").click()
    dialog.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.outerHTML") == focused
    assert seconds_left(browser_page) > WARNING  # renewed: the idle lifetime starts again
    browser_page.goto("/bids/")  # still signed in
    assert browser_page.h1() == "Your bids"


def test_when_the_time_runs_out_the_warning_says_so(browser_page: Browser):
    sign_in(browser_page, OFFICER)
    page = browser_page.page
    ended = page.get_by_role("dialog", name="You have been signed out")
    ended.wait_for(state="visible", timeout=(LIFETIME + 20) * 1000)
    assert ended.get_by_role("button", name="Stay signed in").is_hidden()
    sign_in_again = ended.get_by_role("link", name="Sign in again")
    assert sign_in_again.get_attribute("href") == "/sign-in?next=/bids/"
    assert "close this message and save it" in page.locator(
        f"{DIALOG} [aria-live='polite']").inner_text()
    browser_page.check()
    ended.get_by_role("button", name="Close").click()
    ended.wait_for(state="hidden")
    browser_page.goto("/bids/")  # the session really ended: sign in to see the page
    assert browser_page.path == "/sign-in"
