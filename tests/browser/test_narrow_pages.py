"""Every page at 320px wide (a phone, or 400% zoom): each GET page of the portal, reached by
following links as each demo account (with the demo awards, so the award, return and
finance pages have something to show), is checked by axe-core and must not scroll sideways;
wide tables scroll inside their own region (issue 13, point 14).

The crawl visits one address per endpoint and account (the first link found to it, and every
page that takes no argument), and fails if an HTML page of the url map was reached by no
account and is not named below with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import HTTPException

from portal.access import access_of
from tests.browser.conftest import NARROW, Browser, served
from tests.browser.test_sign_in_browser import sign_in

ACCOUNTS = ["officer.southcambs@example.org", "officer.fenland@example.org",
            "assessor1@example.org", "manager@example.org", "finance@example.org",
            "admin@example.org"]
NOT_CRAWLED = {"auth.sign_out"}  # POST only; signing out ends the crawl
# GET endpoints no link leads to in the demo data, and why.
UNREACHED_BY_LINKS = {
    "auth.reset_password": "reached from an emailed link only",
    "auth.accept_invitation": "reached from an emailed link only",
}
# Pages of a record in a state the demo data has none in (a draft bid, an open question, a
# bid being assessed, a return to check, a change to decide): the flows of the other browser
# tests reach them, and every page a browser test loads is checked at 320px too (conftest).
IN_FLOWS = {
    "applicant.section": "test_bidding_browser", "applicant.evidence_files":
    "test_bidding_browser", "applicant.submitted": "test_bidding_browser",
    # Linked from a draft's task list while a plan is in force (the demo's, issue 18).
    "applicant.plan_sections": "a draft bid's task list, with a plan in force",
    "applicant.withdraw": "a submitted bid of the officer's", "applicant.answer":
    "an open question", "applicant.accept_offer": "test_awards_browser",
    "decisions.ask": "a bid in assessment", "decisions.decide": "test_assessment_browser",
    "decisions.moderate": "test_assessment_browser", "decisions.variation":
    "test_awards_browser", "finance.check_return": "test_awards_browser",
    "review.assess": "test_assessment_browser", "review.declare": "test_assessment_browser",
    # The form designer (issue 15): a question's page is reached by choosing its type (a GET
    # form), and the demo's return forms' pages through the flow that builds one.
    "decisions.round_form_question_new": "test_form_builder_browser",
    **dict.fromkeys(("decisions.return_form_preview_section", "decisions.return_form_question",
                     "decisions.return_form_question_new", "decisions.return_form_question_remove",
                     "decisions.return_form_question_type", "decisions.return_form_section",
                     "decisions.return_form_section_remove"), "test_form_builder_browser"),
}
NOT_PAGES = {  # files and JSON, not HTML pages
    "applicant.download_evidence", "applicant.download_return_evidence",
    "decisions.download_evidence", "review.download_evidence", "decisions.ranking_csv",
    "public.giving360_csv", "public.giving360_json", "public.healthz", "reports.export_csv",
    "reports.export_workbook", "auth.keep_alive", "auth.session_status",
    "reports.plan_list_csv", "reports.plan_list_workbook",
}
LINKS = """() => Array.from(document.querySelectorAll("a[href]"), a => a.href)"""


@pytest.fixture(scope="module")
def demo_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The portal with the demo data and the demo awards, served on loopback."""
    with served(backend, tmp_path_factory.mktemp(f"narrow-{backend}"), "narrow",
                awards=True) as server:
        yield server


def _endpoint(app: Any, path: str) -> str | None:
    try:
        endpoint, _values = app.url_map.bind("127.0.0.1").match(path, method="GET")
    except HTTPException:
        return None
    return str(endpoint)


def plain_paths(app: Any) -> list[str]:
    """The GET pages that take no argument (lists a "See all" link leads to only when long)."""
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if not rule.arguments and "GET" in (rule.methods or set())
                  and rule.endpoint not in NOT_PAGES | NOT_CRAWLED | {"static"})


def _crawl(browser: Browser, base_url: str, app: Any, seen: set[str],
           seeds: list[str]) -> None:
    """Follow every same-site link, one address per endpoint, checking each HTML page."""
    queue = [browser.page.url, *seeds]
    visited: set[str] = set()
    while queue:
        url = queue.pop(0)
        parts = urlsplit(url)
        if parts.netloc != urlsplit(base_url).netloc:
            continue
        endpoint = _endpoint(app, parts.path)
        if endpoint is None or endpoint in visited or endpoint in NOT_CRAWLED:
            continue
        visited.add(endpoint)
        response = browser.context.request.get(url)  # downloads are not pages
        if "text/html" not in response.headers.get("content-type", "") or not response.ok:
            continue
        if browser.page.url != url:
            browser.goto(url)  # checked at its width and at NARROW (conftest)
        seen.add(endpoint)
        queue += [link.split("#")[0] for link in browser.page.evaluate(LINKS)]


def html_endpoints(app: Any) -> set[str]:
    """The GET endpoints of the url map that are views of ours."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in (rule.methods or set()):
            continue
        if access_of(app.view_functions[rule.endpoint]) is None:
            continue
        found.add(rule.endpoint)
    return found


def test_every_page_reads_at_320px_without_sideways_scroll(chromium, axe_source, demo_server):
    base_url, app = demo_server
    seen: set[str] = set()
    opened: list[Browser] = []
    try:
        for email in [None, *ACCOUNTS]:
            context = chromium.new_context(base_url=base_url,
                                           viewport={"width": NARROW, "height": 800})
            context.set_default_timeout(10_000)
            browser = Browser(context, axe_source)
            opened.append(browser)
            if email is None:
                browser.goto("/")
            else:
                sign_in(browser, email)
            _crawl(browser, base_url, app, seen, seeds=[base_url + path
                                                         for path in plain_paths(app)])
        for browser in opened:
            browser.assert_all_checked()
            browser.assert_no_problems()
    finally:
        for browser in opened:
            browser.context.close()
    missed = (html_endpoints(app) - seen - set(UNREACHED_BY_LINKS) - set(IN_FLOWS)
              - NOT_CRAWLED - NOT_PAGES)
    assert not missed, " ".join(sorted(missed))
    assert len(seen) > 40


def test_the_narrow_check_catches_a_page_that_scrolls_sideways(browser_page: Browser):
    browser_page.goto("/")
    browser_page.page.evaluate("""() => { const wide = document.createElement("div");
        wide.style.width = "900px"; wide.textContent = "wide";
        document.querySelector("main").append(wide); }""")
    with pytest.raises(AssertionError, match="scrolls sideways at 320px"):
        browser_page.check_narrow()


