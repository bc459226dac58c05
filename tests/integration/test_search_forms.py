"""Every GET search or filter form answers input it cannot use with the page itself: the form,
an error summary and the error beside its field, the search kept where it can be (issue 13),
never a bare "The request could not be understood" page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests import bidding
from tests.helpers import signed_in

PORTAL = Path(__file__).resolve().parents[2] / "portal"
ADMIN, MANAGER = "admin@example.org", "manager@example.org"
OFFICER = bidding.OFFICER

# (who, path and query, the field that is wrong): every view that reads request.args for a
# search or filter, each kind of bad value it may be sent.
BAD_SEARCHES = [
    (OFFICER, "/bids/?q=a%01b", "q"),
    (OFFICER, "/bids/?q=" + "x" * 101, "q"),
    (OFFICER, "/bids/?status=zzz", "status"),
    (OFFICER, "/bids/?q=a%E2%80%AEb&status=submitted", "q"),
    (ADMIN, "/admin/?q=a%01b", "q"),
    (ADMIN, "/admin/?q=" + "x" * 101, "q"),
    (MANAGER, "/manage/audit?record_type=zzz", "record_type"),
    (MANAGER, "/manage/audit?user=a%01b", "user"),
    (MANAGER, "/manage/audit?record_id=" + "9" * 61, "record_id"),
    (MANAGER, "/reports/?year=zzz", "year"),
    (MANAGER, "/reports/?year=1850", "year"),
    (MANAGER, "/reports/?fund=NOPE", "fund"),
    (OFFICER, "/reports/partnership?year=zzz", "year"),
    (OFFICER, "/reports/partnership?fund=NOPE", "fund"),
    (None, "/transparency?year=zzz", "year"),
    (None, "/transparency?fund=NOPE", "fund"),
]
# The views whose source reads request.args for a search (file: how many reads): a new one
# needs cases above.
KNOWN_READERS = {"applicant/routes.py", "admin/routes.py", "decisions/routes.py",
                 "reports/routes.py", "public/transparency.py", "auth/routes.py",
                 "pagination.py",
                 # A link proposing a re-allocation (issue 14): ids through row_id, and only
                 # a line and an action of the award's own proposals fill the form.
                 "applicant/awards.py",
                 # The type of a new question (issue 15), chosen by a GET form: a type not
                 # offered is refused beside the radios (test_form_design.py).
                 "decisions/forms.py"}


def test_every_view_reading_query_arguments_is_known():
    readers = {str(path.relative_to(PORTAL)) for path in PORTAL.rglob("*.py")
               if "request.args" in path.read_text()}
    assert readers <= KNOWN_READERS, sorted(readers - KNOWN_READERS)


@pytest.mark.parametrize(("who", "url", "field"), BAD_SEARCHES)
def test_a_search_not_understood_shows_the_form_with_the_error_beside_the_field(
        app, client, who, url, field):
    browser = signed_in(app, who) if who else client
    page = browser.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code in {200, 400}, (url, page.status_code)
    assert "could not be understood" not in html
    soup = BeautifulSoup(html, "html.parser")
    summary = soup.select_one(".govuk-error-summary")
    assert summary is not None, url
    assert summary.find("a", href=f"#{field}") is not None, (url, summary)
    control = soup.find(id=field)
    assert control is not None and control.find_parent("form", method="get") is not None, url
    group = control.find_parent(class_="govuk-form-group")
    assert "govuk-form-group--error" in group["class"], (url, group)
    assert group.select_one(".govuk-error-message").get_text(strip=True), url
    assert soup.title.get_text().startswith("Error:"), soup.title


def test_the_bid_search_keeps_what_was_typed_and_still_lists_the_bids(app):
    officer = signed_in(app, OFFICER)
    page = officer.get("/bids/?q=" + "y" * 101)
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    assert page.status_code == 400
    assert soup.find(id="q")["value"] == "y" * 101
    assert re.search(r"must be 100 characters or fewer", soup.get_text())
    fine = officer.get("/bids/?status=submitted")
    assert fine.status_code == 200
    assert BeautifulSoup(fine.get_data(as_text=True), "html.parser").select_one(
        ".govuk-error-summary") is None


def test_the_dashboard_shows_this_years_figures_beside_a_year_not_understood(app):
    page = signed_in(app, MANAGER).get("/reports/?year=zzz")
    text = BeautifulSoup(page.get_data(as_text=True), "html.parser").get_text(" ")
    assert page.status_code == 400
    assert "“zzz” is not a financial year" in text
    assert "Grants dashboard" in text


def test_the_exports_still_refuse_a_year_not_understood_with_the_reason(app):
    page = signed_in(app, MANAGER).get("/reports/export/workbook.xlsx?year=zzz")
    assert page.status_code == 400
    assert "is not a financial year" in page.get_data(as_text=True)
