"""Browser tests: headless Chromium against the portal served on loopback.

Every page a browser test loads is checked with axe-core (WCAG 2.2 AA rules); a test
that loads a page without checking it fails at teardown, so none can forget. A test
also fails if the browser reports a JavaScript error, a Content-Security-Policy
violation, a failed resource or a server error.

Chromium comes from Debian (``apt-get install chromium``), never from a download;
without it these tests are skipped locally and fail in CI.
"""

from __future__ import annotations

import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from portal import migrate
from portal.db import get_db
from tests.conftest import free_port, isolated_database, unavailable
from tests.helpers import load_demo

if TYPE_CHECKING:
    from playwright.sync_api import Browser as Chromium
    from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
AXE_PATH = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CSS_PATH = ROOT / "portal" / "static" / "build" / "portal.css"
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
AXE_RUN = """async () => {
  const results = await axe.run(document, {runOnly: {type: "tag",
    values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}});
  return results.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    helpUrl: v.helpUrl, targets: v.nodes.map(n => n.target.join(" ")),
    summary: v.nodes.length ? v.nodes[0].failureSummary : ""}));
}"""
SCRIPT_ELEMENT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
# The template's nonce'd inline script marks the body; init.js initialises components.
SCRIPTS_RAN = """() => ({
  inline: document.body.classList.contains("govuk-frontend-supported"),
  module: document.querySelector("[data-module='govuk-skip-link']")
            ?.hasAttribute("data-govuk-skip-link-init") ?? false,
})"""


# Reflow (WCAG 1.4.10): at 320 CSS pixels wide (a phone, or 400% zoom of a 1280px window)
# the page never scrolls sideways; wide tables scroll inside their own region instead.
NARROW = 320
WIDE_ELEMENTS = """() => {
  const root = document.documentElement;
  if (root.scrollWidth <= root.clientWidth) return null;
  const width = root.clientWidth;
  const wide = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    const scroller = element.closest(".portal-table-scroll");
    if (box.right > width + 1 && (!scroller || scroller.getBoundingClientRect().right > width + 1)) {
      const id = element.id ? "#" + element.id : "";
      const classes = typeof element.className === "string" && element.className
        ? "." + element.className.trim().split(/\\s+/).join(".") : "";
      wide.push(element.tagName.toLowerCase() + id + classes + " (" + Math.round(box.right) + "px)");
    }
  }
  return {scrollWidth: root.scrollWidth, clientWidth: width, wide: wide.slice(-8)};
}"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/browser carries the ``browser`` marker."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember whether a test's body failed, for the fixtures' teardown checks."""
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


# The server ----------------------------------------------------------------------------

@contextmanager
def served(backend: str, directory: Path, name: str, *, awards: bool = False,
           **config: Any) -> Iterator[tuple[str, Any]]:
    """The portal with the demo data (and the demo awards if asked), in a database of its own
    (the integration tests' ``app`` owns TEST_DATABASE_URL's schema; one per xdist worker),
    served on loopback with ``config``; yields its base URL and the app."""
    from tests.conftest import make_test_app

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    url, remove_database = isolated_database(backend, directory,
                                             f"{name}{'_' + worker if worker else ''}")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    app = make_test_app(url, directory, SERVER_NAME=None, TESTING=False, BASE_URL=base_url,
                        **config)
    engine = get_db(app).engine
    migrate.upgrade(engine)
    load_demo(app, awards=awards)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"{name}-{backend}",
                              daemon=True)
    thread.start()
    try:
        yield base_url, app
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        engine.dispose()
        remove_database()


@pytest.fixture(scope="session")
def live_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The portal with demo data, served on loopback; yields its base URL."""
    with served(backend, tmp_path_factory.mktemp(f"live-{backend}"), "browser") as (url, _):
        yield url


# The browser ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_PATH.exists():
        unavailable(f"Browser tests skipped: {AXE_PATH} missing (run npm ci)")
    if not CSS_PATH.exists():
        unavailable(f"Browser tests skipped: {CSS_PATH} missing (run npm run build)")
    return AXE_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    """One headless Debian Chromium for the whole session."""
    if not Path(CHROMIUM_PATH).exists():
        unavailable("Browser tests skipped: Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True,
                                             args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


class Browser:
    """A Playwright page that checks every page it loads.

    Navigate with ``goto``, ``click_link`` and ``click_button``: each waits for the
    new page and runs axe-core on it. After anything else that loads a page, call
    ``check()``. Problems the browser reports (JavaScript errors, CSP violations,
    failed resources, server errors) fail the next check.
    """

    def __init__(self, context: BrowserContext, axe_source: str, *, javascript: bool = True,
                 twin: BrowserContext | None = None) -> None:
        self.context = context
        self.twin = twin  # with JavaScript off: a context with it on, for axe
        self.page = context.new_page()
        self.axe_source = axe_source
        self.javascript = javascript
        self.loaded: list[str] = []   # every document the page loaded, in order
        self.checked: list[str] = []  # every document axe checked
        self.problems: list[str] = []
        # Further checks of each checked page (e.g. tests/browser/english.py's detector).
        self.inspectors: list[Callable[[Page], None]] = []
        self.page.on("load", lambda page: self.loaded.append(page.url))
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", self._request_failed)
        self.page.on("response", self._response)

    # What the browser reports

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            location = message.location.get("url", "") if message.location else ""
            self.problems.append(f"console error on {self.page.url}: {message.text} {location}")

    def _request_failed(self, request: Request) -> None:
        if request.failure == "net::ERR_ABORTED":
            return  # e.g. a favicon request cut short by the next navigation
        self.problems.append(f"request failed: {request.method} {request.url} "
                             f"({request.failure})")

    def _response(self, response: Response) -> None:
        if response.status >= 500:
            self.problems.append(f"server error {response.status}: {response.request.method} "
                                 f"{response.url}")

    def assert_no_problems(self) -> None:
        if self.problems:
            raise AssertionError("The browser reported problems:\n  " +
                                 "\n  ".join(self.problems))

    # Checks

    def check(self) -> None:
        """Run axe-core on the current page, then again at 320px wide, where the page must
        not scroll sideways; fail on any violation or browser problem."""
        self.page.wait_for_load_state("load")
        url = self.page.url
        violations = self._axe(self.page) if self.javascript else self._axe_on_copy()
        self.checked.append(url)
        if violations:
            raise AssertionError(f"axe-core found {len(violations)} accessibility "
                                 f"violation(s) on {url}:\n" + format_violations(violations))
        self.check_narrow()
        for inspect in self.inspectors:
            inspect(self.page)
        if self.javascript:
            ran = self.page.evaluate(SCRIPTS_RAN)
            assert ran["inline"], f"{url}: the nonce'd inline script did not run (CSP?)"
            assert ran["module"], f"{url}: init.js did not initialise GOV.UK Frontend"
        self.assert_no_problems()

    def check_narrow(self) -> None:
        """The current page at ``NARROW`` pixels wide: no sideways scroll of the page, and
        axe-core still clean. The window's size is put back afterwards."""
        url = self.page.url
        size = self.page.viewport_size
        if size is not None and size["width"] > NARROW:
            self.page.set_viewport_size({"width": NARROW, "height": size["height"]})
        try:
            wide = self.page.evaluate(WIDE_ELEMENTS)
            if wide is not None:
                raise AssertionError(
                    f"{url} scrolls sideways at {NARROW}px wide (scrollWidth "
                    f"{wide['scrollWidth']} > {wide['clientWidth']}); too wide: "
                    + ", ".join(wide["wide"]))
            if size is not None and size["width"] > NARROW:
                violations = (self._axe(self.page) if self.javascript
                              else self._axe_on_copy(width=NARROW))
                if violations:
                    raise AssertionError(f"axe-core found {len(violations)} accessibility "
                                         f"violation(s) on {url} at {NARROW}px wide:\n"
                                         + format_violations(violations))
        finally:
            if size is not None and size["width"] > NARROW:
                self.page.set_viewport_size(size)

    def _axe(self, page: Page) -> list[dict[str, Any]]:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(self.axe_source)  # evaluate is not subject to the page's CSP
        return page.evaluate(AXE_RUN)

    def _axe_on_copy(self, width: int | None = None) -> list[dict[str, Any]]:
        """axe-core on a page that has JavaScript off.

        There Chromium runs no tasks or microtasks for evaluated code, so axe.run never
        settles. Instead a twin page with JavaScript on loads the same document (as this
        browser has it, without its scripts) at the same URL, with the same styles, and
        axe checks that.
        """
        assert self.twin is not None
        url = self.page.url
        html = SCRIPT_ELEMENT.sub("", self.page.content())
        twin = self.twin.new_page()
        if width is not None:
            twin.set_viewport_size({"width": width, "height": (twin.viewport_size or
                                                               {"height": 720})["height"]})
        try:
            twin.route(lambda address: address == url,
                       lambda route: route.fulfill(status=200, body=html,
                                                   content_type="text/html; charset=utf-8"))
            twin.goto(url)
            return self._axe(twin)
        finally:
            twin.close()

    def assert_all_checked(self) -> None:
        unchecked = Counter(self.loaded) - Counter(self.checked)
        if unchecked:
            raise AssertionError("Pages loaded but never checked with axe-core (use the "
                                 "Browser helpers or call check()): " +
                                 ", ".join(sorted(unchecked)))

    # Navigation

    def _navigate(self, action: Callable[[], Any]) -> None:
        with self.page.expect_navigation():
            action()
        self.check()

    def goto(self, path: str) -> None:
        self._navigate(lambda: self.page.goto(path))

    def click_link(self, name: str, *, within: str = "body") -> None:
        link = self.page.locator(within).get_by_role("link", name=name, exact=True)
        self._navigate(link.click)

    def click_button(self, name: str, *, within: str = "body") -> None:
        button = self.page.locator(within).get_by_role("button", name=name, exact=True)
        self._navigate(button.click)

    def click(self, locator: Any) -> None:
        """Click a Playwright locator that loads a page (a link or button found otherwise
        than by its name), and check the new page."""
        self._navigate(locator.click)

    def fill(self, label: str, value: str) -> None:
        self.page.get_by_label(label, exact=True).fill(value)

    # Reading the page

    @property
    def path(self) -> str:
        return urlsplit(self.page.url).path

    def h1(self) -> str:
        return self.page.locator("h1").inner_text().strip()

    def text(self, selector: str = "main") -> str:
        return " ".join(self.page.locator(selector).inner_text().split())


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = violation["targets"]
        shown = ", ".join(targets[:3]) + (f" (+{len(targets) - 3} more)" if len(targets) > 3
                                          else "")
        lines.append(f"- {violation['id']} [{violation['impact']}]: {violation['help']} "
                     f"({violation['helpUrl']})\n    at {shown}\n    "
                     + " ".join(violation["summary"].split()))
    return "\n".join(lines)


@pytest.fixture
def open_browser(request: pytest.FixtureRequest, chromium: Chromium, live_server: str,
                 axe_source: str) -> Iterator[Callable[..., Browser]]:
    """``open_browser(**context_options)``: a new context and page on the live server.

    At teardown every page each browser loaded must have been axe-checked and the
    browser must have reported no problems.
    """
    opened: list[Browser] = []

    def open_(**options: Any) -> Browser:
        javascript = options.get("java_script_enabled", True)
        context = chromium.new_context(base_url=live_server, **options)
        twin = None if javascript else chromium.new_context(base_url=live_server)
        for each in (context, twin):
            if each is not None:
                each.set_default_timeout(10_000)
        browser = Browser(context, axe_source, javascript=javascript, twin=twin)
        opened.append(browser)
        return browser

    yield open_
    try:
        # A test that already failed needs no second report of the same trouble.
        for browser in opened if not request.node.stash.get(CALL_FAILED, True) else []:
            browser.assert_all_checked()
            browser.assert_no_problems()
    finally:
        for browser in opened:
            browser.context.close()
            if browser.twin is not None:
                browser.twin.close()


@pytest.fixture
def browser_page(open_browser: Callable[..., Browser]) -> Browser:
    """A fresh browser context and page, with every page load checked by axe-core."""
    return open_browser()


@pytest.fixture
def page(browser_page: Browser) -> Page:
    """The Playwright page behind ``browser_page``: call ``browser_page.check()`` after
    anything that loads a page, or teardown fails."""
    return browser_page.page
