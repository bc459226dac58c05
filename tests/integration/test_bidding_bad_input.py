"""Bad input gets a clear message beside the field and changes nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from portal.db import session
from portal.models import Bid, EvidenceFile
from tests import bidding
from tests.bidding import OFFICER
from tests.helpers import text_of


@pytest.fixture
def officer(client):
    client.sign_in(OFFICER)
    return client


@pytest.fixture
def draft(app, officer):
    bid_id = bidding.start(officer, app)
    with app.app_context():
        year = session.get(Bid, bid_id).round.financial_year
    return bid_id, year


def saved(app, bid_id, key):
    with app.app_context():
        section = session.get(Bid, bid_id).section(key)
        return None if section is None else dict(section.answers)


@pytest.mark.parametrize("typed", ["5000", "5,000", "£5,000.00", "4999.99"])
def test_money_typed_in_every_usual_way_is_accepted(app, officer, draft, typed):
    bid_id, year = draft
    answers = {"rows-0-item": "CCTV camera", "rows-0-kind": "capital", "rows-0-amount": typed,
               "completed": "yes"}
    response = bidding.save(officer, bid_id, "budget", answers, year)
    assert response.status_code == 302, text_of(response)[:800]


@pytest.mark.parametrize("typed, message", [
    ("-100", "Amount must be £0 or more"),
    ("100.505", "Amount must not have more than 2 decimal places"),
    ("a lot", "Enter an amount in pounds"),
    ("0", "Amount must be more than £0"),
])
def test_bad_amounts_are_refused_beside_the_field_and_kept(app, officer, draft, typed, message):
    bid_id, year = draft
    answers = {"rows-0-item": "Signs", "rows-0-kind": "capital", "rows-0-amount": typed,
               "completed": "no"}
    response = bidding.save(officer, bid_id, "budget", answers, year)
    page = response.get_data(as_text=True)
    assert message in text_of(response)
    assert 'href="#rows-0-amount"' in page  # the error summary links to the field
    assert f'value="{typed}"' in page  # what was typed is kept
    assert saved(app, bid_id, "budget") is None


def test_a_total_over_the_cap_is_refused_with_the_cap_in_pounds(app, officer, draft):
    bid_id, year = draft
    answers = {"rows-0-item": "CCTV", "rows-0-kind": "capital", "rows-0-amount": "3,000",
               "rows-1-item": "Installation", "rows-1-kind": "revenue", "rows-1-amount": "2,000.01",
               "completed": "no"}
    response = bidding.save(officer, bid_id, "budget", answers, year)
    assert "must be £5,000.00 or less" in text_of(response)
    assert saved(app, bid_id, "budget") is None


def test_putting_communities_first_has_no_per_bid_cap(app, officer):
    bid_id = bidding.start(officer, app, "PCF")
    with app.app_context():
        year = session.get(Bid, bid_id).round.financial_year
    answers = {"rows-0-item": "Project officer", "rows-0-kind": "revenue",
               "rows-0-amount": "45,000", "completed": "yes"}
    assert bidding.save(officer, bid_id, "budget", answers, year).status_code == 302


def test_a_half_filled_budget_line_is_refused(app, officer, draft):
    bid_id, year = draft
    answers = {"rows-0-item": "Signs", "rows-0-kind": "", "rows-0-amount": "",
               "completed": "no"}
    page = text_of(bidding.save(officer, bid_id, "budget", answers, year))
    assert "Select capital or revenue" in page and "Enter the amount" in page


@pytest.mark.parametrize("row", ["²", "٣", "9" * 4400, "9999999999"])
def test_a_forged_row_number_in_a_list_is_never_a_server_error(app, officer, draft, row):
    """WTForms reads a row number with ``str.isdigit`` then ``int``: "²" and 4,400 digits
    broke it (a 500 a tester found). The request drops such fields before any form reads them;
    a row beyond the list is a field the section does not have: refused (issue 15)."""
    bid_id, year = draft
    answers = {"rows-0-item": "Signs", "rows-0-kind": "capital", "rows-0-amount": "100",
               f"rows-{row}-item": "Forged", "completed": "no"}
    response = bidding.save(officer, bid_id, "budget", answers, year)
    assert response.status_code in (200, 302, 400)


def test_dates_out_of_order_are_refused(app, officer, draft):
    bid_id, year = draft
    answers = dict(bidding.ABOUT, start_date=["1", "3", "{next_year}"],
                   end_date=["1", "12", "{year}"])
    response = bidding.save(officer, bid_id, "about", answers, year)
    assert "End date must be the same as or after the start date" in text_of(response)
    assert saved(app, bid_id, "about") is None


def test_dates_outside_the_financial_year_are_refused(app, officer, draft):
    bid_id, year = draft
    answers = dict(bidding.ABOUT, end_date=["30", "4", "{next_year}"])
    response = bidding.save(officer, bid_id, "about", answers, year)
    assert "Dates must be between 1 April" in text_of(response)
    assert saved(app, bid_id, "about") is None


@pytest.mark.parametrize("parts, message", [
    (["31", "2", "{year}"], "Start date must be a real date"),
    (["", "12", "{year}"], "Start date must include a day, month and year"),
    (["x", "y", "z"], "Start date must be a real date"),
])
def test_impossible_dates_are_refused(app, officer, draft, parts, message):
    bid_id, year = draft
    response = bidding.save(officer, bid_id, "about", dict(bidding.ABOUT, start_date=parts), year)
    assert message in text_of(response)


def test_over_long_text_is_refused_and_the_limit_is_shown(app, officer, draft):
    bid_id, year = draft
    page = officer.get(bidding.section_url(bid_id, "about")).get_data(as_text=True)
    assert 'data-maxlength="1000"' in page  # the GOV.UK character count
    response = bidding.save(officer, bid_id, "about",
                            dict(bidding.ABOUT, summary="x" * 1001), year)
    assert "Summary of the project must be 1000 characters or fewer" in text_of(response)
    assert saved(app, bid_id, "about") is None


def test_empty_required_fields_are_named(app, officer, draft):
    bid_id, year = draft
    page = text_of(bidding.save(officer, bid_id, "problem", {"completed": "yes"}, year))
    for message in ("Select at least one issue", "Enter the district",
                    "Select the priority area category", "Enter what the evidence shows"):
        assert message in page


def test_choosing_other_needs_the_other_issue(app, officer, draft):
    bid_id, year = draft
    page = text_of(bidding.save(officer, bid_id, "problem",
                                dict(bidding.PROBLEM, issue_types=["other"]), year))
    assert "Enter the other issue" in page


def test_the_completed_question_must_be_answered(app, officer, draft):
    bid_id, year = draft
    answers = {k: v for k, v in bidding.DELIVERY.items() if k != "completed"}
    page = text_of(bidding.save(officer, bid_id, "delivery", answers, year))
    assert "Select whether you have completed this section" in page


def test_youth_ages_must_be_in_order(app, officer):
    bid_id = bidding.start(officer, app, "YF")
    with app.app_context():
        year = session.get(Bid, bid_id).round.financial_year
    page = text_of(bidding.save(officer, bid_id, "youth",
                                dict(bidding.YOUTH, age_from="16", age_to="12"), year))
    assert "“Oldest age” must be the same as or more than “Youngest age”" in page


def test_youth_section_needs_safeguarding_confirmed(app, officer):
    bid_id = bidding.start(officer, app, "YF")
    with app.app_context():
        year = session.get(Bid, bid_id).round.financial_year
    answers = {k: v for k, v in bidding.YOUTH.items() if k != "dbs_checked"}
    page = text_of(bidding.save(officer, bid_id, "youth", answers, year))
    assert "Confirm everyone working with young people has a DBS check" in page


def test_a_section_that_does_not_exist_is_404(officer, draft):
    bid_id, _year = draft
    assert officer.get(bidding.section_url(bid_id, "youth")).status_code == 404
    assert officer.get(bidding.section_url(bid_id, "nonsense")).status_code == 404


def test_another_partnerships_bid_is_404_everywhere(app, officer, draft):
    bid_id, year = draft
    other = app.test_client()
    other.sign_in("officer.fenland@example.org")
    for url in (f"/bids/{bid_id}", bidding.section_url(bid_id, "about"),
                f"/bids/{bid_id}/check-answers", f"/bids/{bid_id}/evidence",
                f"/bids/{bid_id}/withdraw", f"/bids/{bid_id}/answer",
                f"/bids/{bid_id}/submitted"):
        assert other.get(url).status_code == 404, url
    token = other.csrf_token("/bids/")
    response = other.post(bidding.section_url(bid_id, "about"),
                          data=dict(bidding.fill(bidding.ABOUT, year), csrf_token=token,
                                    version="0"))
    assert response.status_code == 404
    assert saved(app, bid_id, "about") is None


def test_another_partnerships_bid_is_not_listed(app, officer, draft):
    other = app.test_client()
    other.sign_in("officer.fenland@example.org")
    assert "Your partnership has no bids yet" in text_of(other.get("/bids/"))


def test_a_forged_section_form_is_refused_and_changes_nothing(app, officer, draft):
    bid_id, year = draft
    data = dict(bidding.fill(bidding.ABOUT, year), version="0")
    response = officer.post(bidding.section_url(bid_id, "about"), data=data)
    assert response.status_code == 400
    assert "The form you used has expired" in text_of(response)
    assert saved(app, bid_id, "about") is None


def test_a_tampered_version_is_refused(app, officer, draft):
    bid_id, year = draft
    response = bidding.save(officer, bid_id, "about", bidding.ABOUT, year, version="abc")
    assert response.status_code == 400
    assert saved(app, bid_id, "about") is None


# --- evidence files ---------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6300010000050001 0d0a2db40000000049454e44ae426082"
                    .replace(" ", ""))
EXE = b"MZ\x90\x00" + b"\x00" * 200


def upload(client, bid_id, name, content, description=""):
    return client.submit(f"/bids/{bid_id}/evidence",
                         {"file": (io.BytesIO(content), name), "description": description},
                         content_type="multipart/form-data")


def files(app, bid_id):
    with app.app_context():
        return list(session.scalars(select(EvidenceFile).where(EvidenceFile.bid_id == bid_id)))


def test_a_pdf_is_stored_under_a_generated_name_and_downloads_as_an_attachment(app, officer,
                                                                               draft):
    bid_id, _ = draft
    response = upload(officer, bid_id, "crime-data.pdf", PDF, "Police data")
    assert response.status_code == 302
    [stored] = files(app, bid_id)
    assert stored.original_name == "crime-data.pdf" and stored.content_type == "application/pdf"
    assert "crime-data" not in stored.stored_name
    assert app.static_folder not in app.config["UPLOAD_FOLDER"]
    download = officer.get(f"/bids/{bid_id}/evidence/{stored.id}")
    assert download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_a_welsh_file_name_downloads_under_its_own_name_in_a_header_a_server_can_send(
        app, officer, draft):
    """A breaker's "tystiolaeth ŵ.pdf" failed every download with a 500: the header carried
    the raw ŵ, which no server can send. The header is ASCII, with the name in RFC 6266's
    filename* (UTF-8)."""
    bid_id, _ = draft
    assert upload(officer, bid_id, "tystiolaeth ŵ ŷ.pdf", PDF).status_code == 302
    [stored] = files(app, bid_id)
    header = officer.get(f"/bids/{bid_id}/evidence/{stored.id}").headers["Content-Disposition"]
    header.encode("ascii")  # sendable
    assert header.startswith("attachment")
    assert "filename*=UTF-8''tystiolaeth%20%C5%B5%20%C5%B7.pdf" in header


@pytest.mark.parametrize("name, content", [
    ("data.csv", b"ward,incidents\nCambourne,12\n"),
    ("photo.png", PNG),
])
def test_other_allowed_types_are_accepted(app, officer, draft, name, content):
    bid_id, _ = draft
    assert upload(officer, bid_id, name, content).status_code == 302


@pytest.mark.parametrize("name, content, message", [
    ("report.pdf", EXE, "must be a PDF, Word, Excel, CSV, PNG or JPEG"),
    ("photo.png", PDF, "does not match what it contains"),
    ("notes.txt", b"just some text", "must be a PDF, Word, Excel, CSV, PNG or JPEG"),
    ("data.csv", b"\x00\x01\x02binary", "must be a PDF, Word, Excel, CSV, PNG or JPEG"),
    ("empty.pdf", b"", "The selected file is empty"),
])
def test_wrong_or_disguised_files_are_refused(app, officer, draft, name, content, message):
    bid_id, _ = draft
    response = upload(officer, bid_id, name, content)
    assert message in text_of(response)
    assert files(app, bid_id) == []


def test_files_over_the_size_limit_are_refused(app, officer, draft):
    bid_id, _ = draft
    app.config["MAX_UPLOAD_BYTES"] = 1024
    try:
        response = upload(officer, bid_id, "big.pdf", PDF + b"0" * 2048)
    finally:
        app.config["MAX_UPLOAD_BYTES"] = 10 * 1024 * 1024
    assert "must be smaller than" in text_of(response)
    assert files(app, bid_id) == []


def test_the_number_of_files_is_limited(app, officer, draft):
    bid_id, _ = draft
    app.config["MAX_UPLOADS_PER_BID"] = 2
    try:
        for i in range(2):
            assert upload(officer, bid_id, f"f{i}.pdf", PDF).status_code == 302
        response = officer.submit(f"/bids/{bid_id}/evidence",
                                  {"file": (io.BytesIO(PDF), "f3.pdf")},
                                  content_type="multipart/form-data",
                                  form_url=f"/bids/{bid_id}")
    finally:
        app.config["MAX_UPLOADS_PER_BID"] = 10
    assert "can have up to 2 files" in text_of(response)
    assert len(files(app, bid_id)) == 2


def test_another_partnership_cannot_download_a_file(app, officer, draft):
    bid_id, _ = draft
    upload(officer, bid_id, "crime-data.pdf", PDF)
    [stored] = files(app, bid_id)
    other = app.test_client()
    other.sign_in("officer.fenland@example.org")
    assert other.get(f"/bids/{bid_id}/evidence/{stored.id}").status_code == 404


def test_a_file_can_be_removed_from_a_draft(app, officer, draft):
    bid_id, _ = draft
    upload(officer, bid_id, "crime-data.pdf", PDF)
    [stored] = files(app, bid_id)
    response = officer.submit(f"/bids/{bid_id}/evidence/{stored.id}/remove", {},
                              form_url=f"/bids/{bid_id}/evidence")
    assert response.status_code == 302
    assert files(app, bid_id) == []


ALREADY = "That was already done"


def test_an_upload_posted_twice_attaches_the_file_once(app, officer, draft):
    """A double click on Upload: the same form (its one-time token) posted again is sent to
    the first post's result, not attached a second time."""
    bid_id, _ = draft
    url = f"/bids/{bid_id}/evidence"
    tokens = officer.form_tokens(url)
    for _ in range(2):
        response = officer.post(url, data={**tokens, "file": (io.BytesIO(PDF), "plan.pdf")},
                                content_type="multipart/form-data")
        assert response.status_code == 302
    assert len(files(app, bid_id)) == 1
    assert ALREADY in text_of(officer.get(response.headers["Location"]))


def test_an_upload_without_a_valid_one_time_token_says_nothing_was_done(app, officer, draft):
    """An old tab's form (no token): the page says why beside the file, nothing is kept."""
    bid_id, _ = draft
    url = f"/bids/{bid_id}/evidence"
    response = officer.post(url, data={"csrf_token": officer.form_tokens(url)["csrf_token"],
                                       "file": (io.BytesIO(PDF), "plan.pdf")},
                            content_type="multipart/form-data")
    assert response.status_code == 200
    assert "This form had expired" in text_of(response)
    assert 'href="#file"' in response.get_data(as_text=True)
    assert files(app, bid_id) == []


def test_each_file_has_its_own_remove_and_a_second_click_shows_the_page_not_a_404(
        app, officer, draft):
    bid_id, _ = draft
    url = f"/bids/{bid_id}/evidence"
    for name in ("a.pdf", "b.pdf"):
        upload(officer, bid_id, name, PDF)
    first, second = files(app, bid_id)
    actions = [f"{url}/{item.id}/remove" for item in (first, second)]
    forms = [officer.form_tokens(url, action=action) for action in actions]
    assert forms[0]["once"] != forms[1]["once"]
    for action, tokens in zip(actions, forms):  # both from the same page
        assert officer.post(action, data=tokens).status_code == 302
    assert files(app, bid_id) == []
    again = officer.post(actions[0], data=forms[0])
    assert again.status_code == 302 and again.headers["Location"].endswith(url)
    assert ALREADY in text_of(officer.get(again.headers["Location"]))


def test_a_remove_without_a_valid_one_time_token_says_nothing_was_done(app, officer, draft):
    """An old tab's form (no token): nothing removed, and the page says why, not a 404."""
    bid_id, _ = draft
    upload(officer, bid_id, "plan.pdf", PDF)
    [stored] = files(app, bid_id)
    url = f"/bids/{bid_id}/evidence"
    tokens = officer.form_tokens(url, action=f"{url}/{stored.id}/remove")
    response = officer.post(f"{url}/{stored.id}/remove",
                            data={"csrf_token": tokens["csrf_token"]})
    assert response.status_code == 302
    assert "This form had expired" in text_of(officer.get(response.headers["Location"]))
    assert len(files(app, bid_id)) == 1
    other = officer.post(f"{url}/{stored.id + 1000}/remove",
                         data={"csrf_token": tokens["csrf_token"]})
    assert other.status_code == 404  # ids not of this bid, as before


# --- the dashboard ----------------------------------------------------------------------------


def make_bids(app, count, title="Bid"):
    from portal.models import Round
    from portal.services import accounts, bids

    with app.app_context():
        officer = accounts.get_user_by_email(OFFICER)
        round_ = session.scalar(select(Round))
        for i in range(count):
            bid = bids.start_bid(round_, officer, bids.new_creation_token())
            bid.title = f"{title} {i:03d}"
        session.commit()


def test_the_dashboard_costs_the_same_queries_for_5_and_200_bids(app, officer, count_queries):
    counts = []
    for total in (5, 200):
        make_bids(app, total - (5 if total == 200 else 0))
        with count_queries() as queries:
            response = officer.get("/bids/")
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_dashboard_is_searchable_filterable_and_paginated(app, officer):
    make_bids(app, 30, "Lights")
    make_bids(app, 2, "Fly tipping cameras")
    page = text_of(officer.get("/bids/"))
    assert "Showing 1 to 25 of 32 bids" in page
    assert "Showing 26 to 32 of 32 bids" in text_of(officer.get("/bids/?page=2"))
    found = text_of(officer.get("/bids/?q=fly+tipping"))
    assert "Fly tipping cameras 000" in found and "Lights 000" not in found
    assert "Showing 1 to 32 of 32" not in text_of(officer.get("/bids/?status=submitted"))
    assert "No bids match your search" in text_of(officer.get("/bids/?status=submitted"))


def test_search_characters_mean_themselves(app, officer):
    """``%`` and ``_`` are what was typed, not SQL wildcards: "50%" finds only the bid with
    "50%" in its title, "_" finds none of the bids without an underscore."""
    make_bids(app, 3, "Lights")
    make_bids(app, 1, "Cut burglary 50% now")
    found = text_of(officer.get("/bids/?q=50%25"))
    assert "Cut burglary 50% now 000" in found and "Lights 000" not in found
    assert "No bids match your search" in text_of(officer.get("/bids/?q=_"))


def test_an_unknown_status_filter_is_a_400(officer):
    assert officer.get("/bids/?status=bogus").status_code == 400


def test_starting_bids_never_duplicates(app, officer):
    with app.app_context():
        before = session.scalar(select(func.count()).select_from(Bid))
    bidding.start(officer, app)
    with app.app_context():
        assert session.scalar(select(func.count()).select_from(Bid)) == before + 1
