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
from tests.helpers import DEMO_PASSWORD

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


def test_a_save_after_the_session_ended_keeps_what_was_typed(browser_page: Browser):
    """The ended warning's advice is true: close it, save, sign in, and what was typed is
    there. The browser still has its cookie when the save arrives (its Expires is the
    absolute limit; only the server counts idleness), so the server knows whose it is."""
    page = browser_page.page
    # Getting to the section takes longer than the quiet time before the warning here: while
    # it does, "Stay signed in" whenever the warning is in the way (Playwright runs the
    # handler before an action the dialog would block).
    warning = page.get_by_role("dialog", name="You’re about to be signed out")
    page.add_locator_handler(warning, lambda dialog: dialog.get_by_role(
        "button", name="Stay signed in").click())
    sign_in(browser_page, OFFICER)
    browser_page.click_button("See funding rounds and start a bid")
    browser_page.click_link("Safer Communities Fund")
    browser_page.click_button("Start a bid")
    browser_page.click_link("About the project")
    section = browser_page.path
    typed = "Typed in a real browser while the session ran out, then saved."
    browser_page.fill("Summary of the project", typed)
    page.remove_locator_handler(warning)

    ended = page.get_by_role("dialog", name="You have been signed out")
    ended.wait_for(state="visible", timeout=(LIFETIME + 20) * 1000)
    page.wait_for_timeout(2000)  # well past the end, as the server counts it
    cookies = {c["name"]: c for c in browser_page.context.cookies()}
    assert "session" in cookies  # the browser kept it past the idle end
    assert cookies["session"]["expires"] == -1 or cookies["session"]["expires"] > (
        page.evaluate("Date.now() / 1000") + 3600)
    browser_page.check()
    ended.get_by_role("button", name="Close").click()
    ended.wait_for(state="hidden")

    browser_page.click_button("Save and continue")
    assert browser_page.path == "/sign-in", browser_page.text()
    assert "what you typed will be shown again" in browser_page.text()
    browser_page.fill("Email address", OFFICER)
    browser_page.fill("Password", DEMO_PASSWORD)
    browser_page.click_button("Sign in", within="main")
    assert browser_page.path == section
    assert "We kept what you typed" in browser_page.text()
    assert page.get_by_label("Summary of the project", exact=True).input_value() == typed
