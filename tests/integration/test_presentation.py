"""Presentation (issue 13, points 12 and 14): histories in words with money in pounds on
every page that shows them; an action is offered only when it can be taken; every table
scrolls inside its own labelled container."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.db import session
from portal.models import AuditEvent, Award, VariationKind
from portal.presenters import event_details
from portal.services import accounts, variations
from tests import bidding
from tests.helpers import signed_in, text_of
from tests.integration.test_finance import FINANCE, MANAGER, OFFICER, make_award, pay

RAW = re.compile(r"[{}\[\]]|_pence|\b\d{5,}\b")  # JSON, key names, pence as a bare number


def history_cells(page) -> list[str]:
    """The text of the Details column of the page's history table."""
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    table = next(t for t in soup.find_all("table")
                 if "History" in t.find("caption").get_text())
    return [" ".join(row.find_all("td")[-1].get_text().split())
            for row in table.find("tbody").find_all("tr")]


def test_the_finance_award_history_reads_in_words_with_pounds(app):
    award_id = make_award(app)
    pay(app, award_id, 150000)
    page = signed_in(app, FINANCE).get(f"/finance/awards/{award_id}")
    cells = history_cells(page)
    assert any(c.startswith("Payment of £1,500.00 recorded, reference BACS-1, paid on ")
               for c in cells), cells
    assert any("Grant of £4,000.00 offered" in c for c in cells), cells
    assert not [c for c in cells if RAW.search(c)], cells


def test_the_audit_trail_and_the_bid_page_show_no_json(app):
    award_id = make_award(app)
    pay(app, award_id, 150000)
    manager = signed_in(app, MANAGER)
    trail = manager.get("/manage/audit")
    assert trail.status_code == 200
    text = text_of(trail)
    assert "Payment of £1,500.00 recorded" in text
    assert '{"' not in trail.get_data(as_text=True) and "_pence" not in text
    with app.app_context():
        bid_id = session.get(Award, award_id).bid_id
    page = manager.get(f"/manage/bids/{bid_id}")
    assert "Grant of £4,000.00 approved" in text_of(page)
    assert '{"' not in page.get_data(as_text=True)


def test_every_recorded_event_reads_without_json_or_raw_pence(app):
    award_id = make_award(app)
    pay(app, award_id, 150000)
    with app.test_request_context():
        events = list(session.scalars(select(AuditEvent)))
        assert len({e.action for e in events}) >= 8
        for event in events:
            text = event_details(event)
            assert not RAW.search(text), (event.action, event.after, text)


# --- actions offered only when they can be taken ---------------------------------------------


def payment_form(page) -> bool:
    return re.search(r'action="[^"]*/payments"', page.get_data(as_text=True)) is not None


def test_record_a_payment_is_offered_only_while_something_can_be_paid(app):
    award_id = make_award(app)  # paid in advance: all £4,000 payable now
    finance = signed_in(app, FINANCE)
    page = finance.get(f"/finance/awards/{award_id}")
    assert payment_form(page) and "Up to £4,000.00 can be paid now." in text_of(page)
    pay(app, award_id, 400000)
    page = finance.get(f"/finance/awards/{award_id}")
    assert not payment_form(page)
    assert "Up to £0.00" not in text_of(page)
    assert "The award has been paid in full: nothing more can be paid." in text_of(page)


def test_in_arrears_nothing_is_offered_before_a_return_is_approved(app):
    award_id = make_award(app, code="PCF", title="Lighting the underpass")
    page = signed_in(app, FINANCE).get(f"/finance/awards/{award_id}")
    assert not payment_form(page)
    assert "payments follow approved returns" in text_of(page)


def test_a_change_is_not_offered_while_one_waits_for_a_decision(app):
    award_id = make_award(app)
    officer = signed_in(app, OFFICER)
    button = "Ask to move money or extend the end date"
    assert button in text_of(officer.get(f"/awards/{award_id}"))
    with app.test_request_context():
        award = session.get(Award, award_id)
        variations.request_variation(award, VariationKind.EXTENSION, "Venue late",
                                     accounts.get_user_by_email(OFFICER),
                                     new_end_date=award.end_date + timedelta(days=60))
        session.commit()
    text = text_of(officer.get(f"/awards/{award_id}"))
    assert button not in text
    assert "You can ask for another once the OPCC has decided it." in text


# --- wide tables ----------------------------------------------------------------------------------


def test_every_table_scrolls_in_a_labelled_focusable_region(app):
    award_id = make_award(app)
    pay(app, award_id, 150000)
    page = signed_in(app, FINANCE).get(f"/finance/awards/{award_id}")
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    tables = soup.find_all("table")
    assert len(tables) >= 4
    for table in tables:
        region = table.parent
        assert "portal-table-scroll" in region.get("class", []), table.find("caption")
        assert region.get("tabindex") == "0" and region.get("role") == "region"
        assert region.get("aria-label") == table.find("caption").get_text(" ", strip=True)


# --- navigation -----------------------------------------------------------------------------------


def test_every_page_of_an_area_marks_its_navigation_item(app):
    officer = signed_in(app, OFFICER)
    for path in ("/bids/", "/awards/", "/rounds/"):
        soup = BeautifulSoup(officer.get(path).get_data(as_text=True), "html.parser")
        link = soup.find("a", class_="govuk-service-navigation__link", href="/bids/")
        assert link is not None and link.get("aria-current") == "true", path


# --- evidence uploads -----------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _upload(client, bid_id, name):
    return client.submit(f"/bids/{bid_id}/evidence", {"file": (io.BytesIO(PDF), name)},
                         content_type="multipart/form-data")


def test_the_upload_message_shows_the_name_safely_and_shortened(app, client):
    client.sign_in(OFFICER)
    bid_id = bidding.start(client, app)
    name = "R&D report \u202e\x07" + "x" * 150 + ".pdf"
    response = _upload(client, bid_id, name)
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    banner = BeautifulSoup(html, "html.parser").select_one(".govuk-notification-banner")
    said = banner.get_text(" ", strip=True)
    assert "“R&amp;D report" in html  # escaped as any text
    assert "\u202e" not in said and "\x07" not in said
    message = re.search(r"“(.*)” uploaded\.", said)
    assert message is not None and len(message.group(1)) <= 60, said
    assert message.group(1).endswith("x.pdf") and "…" in message.group(1)


def test_at_the_file_limit_the_error_leads_to_a_sentence_on_the_page(app, client):
    client.sign_in(OFFICER)
    bid_id = bidding.start(client, app)
    app.config["MAX_UPLOADS_PER_BID"] = 1
    try:
        assert _upload(client, bid_id, "one.pdf").status_code == 302
        response = client.submit(f"/bids/{bid_id}/evidence",
                                 {"file": (io.BytesIO(PDF), "two.pdf")},
                                 content_type="multipart/form-data",
                                 form_url=f"/bids/{bid_id}")
    finally:
        app.config["MAX_UPLOADS_PER_BID"] = 10
    # CheckedClient has checked that the summary's link leads to a visible element.
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert soup.select_one(".govuk-error-summary a[href='#file']") is not None
    assert soup.find(id="file").name == "p"
    assert "up to 1" in soup.find(id="file").get_text()


def test_the_audit_trail_costs_the_same_however_many_records_its_events_name(
        app, count_queries):
    """Histories name the records their events point at (returns, budget lines, criteria):
    one query per kind of record on the page, never one per event."""
    from tests import bidding
    from tests.helpers import signed_in

    manager = signed_in(app, "manager@example.org")

    def cost() -> int:
        with count_queries() as queries:
            assert manager.get("/manage/audit").status_code == 200
        return len(queries)

    bidding.submitted_bid(app, title="A first bid")
    few = cost()
    assert app.test_cli_runner().invoke(args=["demo-data"]).exit_code == 0  # awards, returns
    every_kind = cost()
    assert every_kind <= few + 4  # at most one query more per kind: returns, lines, criteria...
    for n in range(6):
        bidding.submitted_bid(app, title=f"Another bid {n}")
    assert cost() <= every_kind  # more events, no more queries
