"""After the award, as the CSP officer sees it: the offer and its acceptance, the offer
letter, the return schedule, filing returns, and asking for variations."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal.db import session, utcnow
from portal.formatting import long_date
from portal.models import (
    Award,
    AwardStatus,
    Bid,
    Fund,
    GrantReturn,
    ReturnCadence,
    ReturnEvidence,
    ReturnStatus,
    Round,
    Variation,
    VariationStatus,
)
from portal.services import accounts, awards, bids, decisions, variations
from tests import bidding
from tests.helpers import table_row_counts, text_of

OFFICER = bidding.OFFICER  # South Cambridgeshire
OTHER_OFFICER = "officer.fenland@example.org"
MANAGER = "manager@example.org"
FINANCE = "finance@example.org"
AMOUNT = 475000
LINES = [{"item": "Bike lights", "kind": "capital", "amount_pence": 225000},
         {"item": "Mechanic for twelve sessions", "kind": "revenue", "amount_pence": 180000},
         {"item": "Spare parts", "kind": "revenue", "amount_pence": 70000}]
MEASURES = [{"measure": "Lights given out", "target": 300, "how_measured": "Sign-up sheets"},
            {"measure": "Bikes repaired", "target": 120, "how_measured": "Mechanic's log"}]
CONDITIONS = "Publicise the OPCC's support on every leaflet."
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00" + b"\x00" * 200


# --- making awards ----------------------------------------------------------------------------


def bid_with_lines(app, officer_email: str = OFFICER, title: str | None = None) -> int:
    """A submitted bid with capital and revenue lines and two outcome measures, running a
    whole financial year."""
    with app.test_request_context():
        officer = accounts.get_user_by_email(officer_email)
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        year = round_.financial_year
        bid = bids.start_bid(round_, officer, bids.new_creation_token())
        for section in bids.sections_for(round_):
            answers = bidding._answers(year, AMOUNT)[section.key]
            if section.key == "about":
                answers.update(start_date=f"{year}-04-01", end_date=f"{year + 1}-03-31",
                               title=title or "Bike lights and repairs")
            if section.key == "budget":
                answers["rows"] = LINES
            if section.key == "outcomes":
                answers["rows"] = MEASURES
            bids.save_section(bid, section.key, answers, completed=True, expected_version=None,
                              actor=officer)
        bids.submit(bid, officer)
        session.commit()
        return bid.id


def awarded(app, *, officer_email: str = OFFICER, accepted: bool = False,
            cadence: ReturnCadence | None = None, title: str | None = None) -> int:
    """An approved bid's award (an offer, or accepted when asked); returns the award id."""
    bid_id = bid_with_lines(app, officer_email, title)
    with app.test_request_context():
        manager = accounts.get_user_by_email(MANAGER)
        bid = session.get(Bid, bid_id)
        if cadence is not None:
            bid.round.return_cadence = cadence
        decisions.approve(bid, AMOUNT, purpose="Bike lights and repairs", conditions=CONDITIONS,
                          reasons="Safer roads in winter", actor=manager,
                          override_reason="Decided before the portal held assessments (test)")
        session.commit()
        award = session.scalar(select(Award).where(Award.bid_id == bid_id))
        if accepted:
            awards.accept(award, "Sam Officer", "Community safety officer", True,
                          accounts.get_user_by_email(officer_email),
                          now=bidding.early_acceptance(award.round))
            session.commit()
        return award.id


def facts(app, award_id: int) -> dict:
    """What the database holds about an award, read in one go."""
    with app.app_context():
        award = session.get(Award, award_id)
        return {
            "status": award.status, "accepted_name": award.accepted_name,
            "accepted_role": award.accepted_role, "end_date": award.end_date,
            "lines": {line.item: line.id for line in award.lines},
            "measures": [m.id for m in award.bid.outcomes],
            "returns": [r.id for r in award.returns],
            "variations": [(v.kind.value, v.status, v.moves, v.new_end_date, v.reason)
                           for v in award.variations],
        }


def return_facts(app, return_id: int) -> dict:
    with app.app_context():
        grant_return = session.get(GrantReturn, return_id)
        return {
            "status": grant_return.status,
            "spend": {line.award_line.item: line.spend_pence for line in grant_return.lines},
            "outcomes": {o.outcome_measure_id: (o.achieved, o.rag.value if o.rag else None,
                                                o.narrative) for o in grant_return.outcomes},
            "case_study": grant_return.case_study,
            "underspend": grant_return.forecast_underspend_pence,
            "evidence": [e.original_name for e in grant_return.evidence],
            "reviews": [r.outcome for r in grant_return.reviews],
            "version": grant_return.version,
        }


def officer_client(app, email: str = OFFICER):
    client = app.test_client()
    client.sign_in(email)
    return client


@pytest.fixture
def officer(app):
    return officer_client(app)


def award_url(award_id: int) -> str:
    return f"/awards/{award_id}"


def return_url(award_id: int, return_id: int) -> str:
    return f"/awards/{award_id}/returns/{return_id}"


def complete_return(app, award_id: int, *, spend: tuple[str, str, str] = ("1,000", "500",
                                                                             "250.50")) -> dict:
    """The form as a CSP officer fills it in completely."""
    known = facts(app, award_id)
    lines = list(known["lines"].values())
    data = {f"line-{line_id}": amount for line_id, amount in zip(lines, spend)}
    for measure_id in known["measures"]:
        data[f"achieved-{measure_id}"] = "150"
        data[f"rag-{measure_id}"] = "green"
        data[f"narrative-{measure_id}"] = "Half way there, as planned."
    data["case_study"] = "A pupil who had no bike light now cycles to school all winter."
    data["forecast_underspend"] = "250"
    return data


def service_submit(app, return_id: int, email: str = OFFICER) -> None:
    """File a complete return through the service (set-up for finance's side)."""
    with app.test_request_context():
        grant_return = session.get(GrantReturn, return_id)
        award = grant_return.award
        outcomes = [awards.OutcomeInput(m.id, 10, "amber", "Going well")
                    for m in award.bid.outcomes]
        awards.save_return(grant_return, {award.lines[0].id: 10000}, outcomes, "A case",
                           0, submit=True, actor=accounts.get_user_by_email(email))
        session.commit()


def finance_review(app, return_id: int, approve: bool, comments: str = "") -> None:
    with app.test_request_context():
        awards.review_return(session.get(GrantReturn, return_id), approve, comments,
                             accounts.get_user_by_email(FINANCE))
        session.commit()


def error_links(response) -> dict[str, str]:
    """The error summary as {link target: message}."""
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    summary = soup.find(class_="govuk-error-summary")
    if summary is None:
        return {}
    return {a["href"].lstrip("#"): a.get_text(strip=True) for a in summary.find_all("a")}


def table_rows(response, caption: str) -> list[list[str]]:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    for table in soup.find_all("table"):
        found = table.find("caption")
        if found is not None and found.get_text(strip=True) == caption:
            return [[re.sub(r"\s+", " ", cell.get_text(" ", strip=True))
                     for cell in row.find_all(["th", "td"])]
                    for row in table.find("tbody").find_all("tr")]
    raise AssertionError(f"no table captioned {caption!r}")


# --- the offer and its acceptance -------------------------------------------------------------


def test_an_approved_bid_appears_on_the_awards_page_as_an_offer_to_accept(app, officer):
    award_id = awarded(app)
    page = officer.get("/awards/")
    assert page.status_code == 200
    text = text_of(page)
    assert "Bike lights and repairs" in text and "£4,750.00" in text
    assert "Offer to accept" in text
    assert f'href="{award_url(award_id)}"' in page.get_data(as_text=True)


def test_the_offer_shows_the_amount_lines_conditions_terms_and_return_dates(app, officer):
    award_id = awarded(app)
    response = officer.get(award_url(award_id))
    text = text_of(response)
    assert "£4,750.00" in text
    assert CONDITIONS in text
    assert "The grant must be spent on the approved budget lines" in text  # the fund's terms
    rows = table_rows(response, "Approved budget")
    assert rows[:3] == [["Bike lights", "Capital", "£2,250.00", "£2,250.00"],
                        ["Mechanic for twelve sessions", "Revenue", "£1,800.00", "£1,800.00"],
                        ["Spare parts", "Revenue", "£700.00", "£700.00"]]
    with app.test_request_context():
        award = session.get(Award, award_id)
        expected = [(long_date(r.period_start), long_date(r.period_end), long_date(r.due_date))
                    for r in award.returns]
    returns = table_rows(response, "Returns")
    # An offer made today counts its returns from today (none due within the grace period):
    # a whole-year project has a periodic and a final return, or only the final one late in
    # the year.
    assert len(returns) == len(expected) in (1, 2)
    for row, (start, end, due) in zip(returns, expected):
        assert f"{start} to {end}" in row[1] and row[2] == due


def test_accepting_the_offer_records_who_accepted_and_makes_the_award_active(app, officer):
    award_id = awarded(app)
    response = officer.submit(f"/awards/{award_id}/accept",
                              {"name": "Sam Officer", "role": "CSP manager", "confirm": "y"})
    assert response.status_code == 302 and response.headers["Location"] == award_url(award_id)
    known = facts(app, award_id)
    assert known["status"] == AwardStatus.ACTIVE
    assert (known["accepted_name"], known["accepted_role"]) == ("Sam Officer", "CSP manager")
    page = text_of(officer.get(award_url(award_id)))
    assert "You have accepted the offer" in page and "Sam Officer, CSP manager" in page


def test_accepting_without_confirming_the_terms_shows_the_error_beside_the_checkbox(app,
                                                                                    officer):
    award_id = awarded(app)
    response = officer.submit(f"/awards/{award_id}/accept",
                              {"name": "Sam Officer", "role": "CSP manager"})
    assert response.status_code == 200
    assert error_links(response) == {
        "confirm": "Confirm that the partnership accepts the terms and conditions"}
    assert 'value="Sam Officer"' in response.get_data(as_text=True)  # input kept
    assert facts(app, award_id)["status"] == AwardStatus.OFFERED


def test_accepting_without_a_name_shows_the_error_beside_the_name(app, officer):
    award_id = awarded(app)
    response = officer.submit(f"/awards/{award_id}/accept",
                              {"name": "  ", "role": "CSP manager", "confirm": "y"})
    assert error_links(response) == {"name": "Enter your full name"}
    assert facts(app, award_id)["status"] == AwardStatus.OFFERED


def test_accepting_an_offer_twice_gives_a_clear_message_and_changes_nothing(app, officer):
    award_id = awarded(app, accepted=True)
    url = f"/awards/{award_id}/accept"
    assert "This offer has already been accepted by Sam Officer" in text_of(officer.get(url))
    response = officer.submit(url, {"name": "Someone Else", "role": "Chair", "confirm": "y"},
                              form_url=award_url(award_id))
    assert response.status_code == 302
    assert "This offer has already been accepted." in text_of(officer.get(award_url(award_id)))
    known = facts(app, award_id)
    assert (known["status"], known["accepted_name"]) == (AwardStatus.ACTIVE, "Sam Officer")


def test_the_offer_letter_is_a_printable_page_with_the_letter_only(app, officer):
    award_id = awarded(app)
    response = officer.get(f"/awards/{award_id}/offer-letter")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    soup = BeautifulSoup(html, "html.parser")
    main = soup.find("main")
    text = re.sub(r"\s+", " ", main.get_text(" "))
    assert "Print this page" in text
    assert "£4,750.00" in text and CONDITIONS in text and "Bike lights" in text
    assert "The grant must be spent on the approved budget lines" in text
    assert main.find("form") is None  # a letter, not a form
    # Everything but the letter stays off paper.
    header = soup.find("header")
    assert "govuk-!-display-none-print" in header.parent.get("class", [])
    assert "govuk-!-display-none-print" in soup.find("footer").parent.get("class", [])


def test_another_partnerships_award_is_not_found_on_any_of_its_pages(app):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    other = officer_client(app, OTHER_OFFICER)
    assert "Bike lights and repairs" not in text_of(other.get("/awards/"))
    for url in (award_url(award_id), f"/awards/{award_id}/accept",
                f"/awards/{award_id}/offer-letter", return_url(award_id, return_id),
                f"/awards/{award_id}/variations/new"):
        assert other.get(url).status_code == 404, url
    for url in (f"/awards/{award_id}/accept", return_url(award_id, return_id),
                f"/awards/{award_id}/variations/new"):
        assert other.submit(url, {"name": "X"}, form_url="/awards/").status_code == 404, url


def test_staff_without_the_officer_role_cannot_see_the_award_pages(app):
    award_id = awarded(app)
    finance = officer_client(app, FINANCE)
    assert finance.get("/awards/").status_code == 403
    assert finance.get(award_url(award_id)).status_code == 403
    assert app.test_client().get("/awards/").status_code == 302  # signed out: to sign in


def test_the_awards_list_costs_the_same_queries_for_one_award_or_several(app, officer,
                                                                         count_queries):
    awarded(app, title="First")
    officer.get("/awards/")
    with count_queries() as one:
        officer.get("/awards/")
    awarded(app, title="Second")
    awarded(app, title="Third")
    with count_queries() as three:
        assert "Third" in text_of(officer.get("/awards/"))
    assert len(three) == len(one)


# --- the return schedule ----------------------------------------------------------------------


def test_the_award_page_shows_each_return_as_due_overdue_received_approved_or_queried(app,
                                                                                       officer):
    award_id = awarded(app, accepted=True, cadence=ReturnCadence.QUARTERLY)
    first, second, third, final = facts(app, award_id)["returns"]
    for return_id in (first, second, third):
        service_submit(app, return_id)
    finance_review(app, first, approve=True)
    finance_review(app, second, approve=False, comments="The invoice is missing")
    with app.app_context():
        session.get(GrantReturn, final).due_date = utcnow().date() + timedelta(days=30)
        session.commit()
    states = [row[3] for row in table_rows(officer.get(award_url(award_id)), "Returns")]
    assert sorted(states) == ["Approved", "Due", "Queried", "Received"]
    with app.app_context():
        session.get(GrantReturn, final).due_date = utcnow().date() - timedelta(days=1)
        session.commit()
    states = [row[3] for row in table_rows(officer.get(award_url(award_id)), "Returns")]
    assert sorted(states) == ["Approved", "Overdue", "Queried", "Received"]


def test_each_return_links_to_its_form_once_the_offer_is_accepted(app, officer):
    award_id = awarded(app)
    return_id = facts(app, award_id)["returns"][0]
    assert return_url(award_id, return_id) not in officer.get(award_url(award_id)).get_data(
        as_text=True)
    with app.test_request_context():
        awards.accept(session.get(Award, award_id), "Sam", "Officer", True,
                      accounts.get_user_by_email(OFFICER))
        session.commit()
    assert return_url(award_id, return_id) in officer.get(award_url(award_id)).get_data(
        as_text=True)


# --- filing a return --------------------------------------------------------------------------


def test_the_return_form_shows_capital_and_revenue_lines_in_separate_groups(app, officer):
    award_id = awarded(app, accepted=True)
    known = facts(app, award_id)
    page = officer.get(return_url(award_id, known["returns"][0]))
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    groups = {}
    for fieldset in soup.find_all("fieldset"):
        legend = fieldset.find("legend").get_text(strip=True)
        if legend.endswith("spend"):
            groups[legend] = sorted(i["name"] for i in fieldset.find_all("input"))
    lines = known["lines"]
    assert groups == {
        "Capital spend": [f"line-{lines['Bike lights']}"],
        "Revenue spend": sorted([f"line-{lines['Mechanic for twelve sessions']}",
                                 f"line-{lines['Spare parts']}"]),
    }
    assert "Allocation £2,250.00" in text_of(page)


def test_saving_a_draft_keeps_what_was_typed_and_submits_nothing(app, officer):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    lines = facts(app, award_id)["lines"]
    response = officer.submit(return_url(award_id, return_id),
                              {f"line-{lines['Bike lights']}": "£1,000.50",
                               "case_study": "Started", "save_draft": "y"})
    assert response.status_code == 302
    saved = return_facts(app, return_id)
    assert saved["status"] == ReturnStatus.DRAFT
    assert saved["spend"] == {"Bike lights": 100050} and saved["case_study"] == "Started"
    page = officer.get(return_url(award_id, return_id)).get_data(as_text=True)
    assert 'value="1,000.50"' in page and "Draft saved" in page


def first_return(app) -> tuple[str, str, int]:
    """An accepted award's first return: its page, the field of its "Bike lights" line, its id."""
    award_id = awarded(app, accepted=True)
    known = facts(app, award_id)
    return_id = known["returns"][0]
    return return_url(award_id, return_id), f"line-{known['lines']['Bike lights']}", return_id


@pytest.mark.parametrize("version", ["²", "٣", "99999999999", "-1", "1e3", "0"])
def test_a_forged_version_is_refused_and_never_a_server_error(app, officer, version):
    """``"²"`` passes ``str.isdigit`` and broke ``int`` (a 500 a tester found); a version that
    is there but is no version number would otherwise switch the check off."""
    url, bike_lights, return_id = first_return(app)
    counts = table_row_counts(app)
    response = officer.submit(url, {bike_lights: "100", "save_draft": "y", "version": version})
    assert response.status_code == 400
    assert table_row_counts(app) == counts


@pytest.mark.parametrize("line", ["9" * 4400, "9999999999", "99999", "²"])
def test_spend_against_a_line_that_is_no_line_is_refused_or_ignored(app, officer, line):
    url, bike_lights, return_id = first_return(app)
    counts = table_row_counts(app)
    response = officer.submit(url, {bike_lights: "100", "save_draft": "y", f"line-{line}": "10"})
    if line in ("²", "9" * 4400):  # no page of ours writes these: dropped, the rest saved
        assert response.status_code == 302
        assert return_facts(app, return_id)["spend"] == {"Bike lights": 10000}
    else:
        assert "Spend can only be reported against approved budget lines" in text_of(response)
        assert table_row_counts(app) == counts


def test_a_draft_can_be_saved_again_and_then_submitted(app, officer):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    lines = facts(app, award_id)["lines"]
    url = return_url(award_id, return_id)
    officer.submit(url, {f"line-{lines['Bike lights']}": "100", "save_draft": "y"})
    response = officer.submit(url, {f"line-{lines['Bike lights']}": "200", "save_draft": "y"})
    assert response.status_code == 302
    assert return_facts(app, return_id)["spend"] == {"Bike lights": 20000}
    response = officer.submit(url, complete_return(app, award_id) | {"submit": "y"})
    assert response.status_code == 302
    assert return_facts(app, return_id)["status"] == ReturnStatus.SUBMITTED


def test_the_earlier_finance_query_is_shown_above_the_form(app, officer):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    service_submit(app, return_id)
    finance_review(app, return_id, approve=False, comments="The invoice is missing.")
    page = officer.get(return_url(award_id, return_id))
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    banner = soup.find(class_="govuk-notification-banner")
    assert "The invoice is missing." in banner.get_text()
    assert banner.find_next("form") is not None  # the query comes before the form
    assert 'value="100.00"' in page.get_data(as_text=True)  # the earlier answers, to revise


def test_submitting_a_complete_return_sends_it_to_finance(app, officer):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    data = complete_return(app, award_id)
    data["submit"] = "y"
    response = officer.submit(return_url(award_id, return_id), data)
    assert response.status_code == 302 and response.headers["Location"] == award_url(award_id)
    saved = return_facts(app, return_id)
    assert saved["status"] == ReturnStatus.SUBMITTED
    assert saved["spend"] == {"Bike lights": 100000, "Mechanic for twelve sessions": 50000,
                              "Spare parts": 25050}
    assert set(saved["outcomes"].values()) == {(150, "green", "Half way there, as planned.")}
    assert saved["underspend"] == 25000 and "cycles to school" in saved["case_study"]
    page = officer.get(award_url(award_id))
    assert "Return submitted" in text_of(page)
    assert table_rows(page, "Returns")[0][3] == "Received"
    shown = officer.get(return_url(award_id, return_id))
    assert "You submitted this return" in text_of(shown) and "£1,750.50" in text_of(shown)
    assert 'name="submit"' not in shown.get_data(as_text=True)  # no longer editable


def test_submitting_without_every_outcome_shows_the_error_beside_the_outcome(app, officer):
    award_id = awarded(app, accepted=True)
    known = facts(app, award_id)
    return_id = known["returns"][0]
    data = complete_return(app, award_id)
    second = known["measures"][1]
    data[f"narrative-{second}"] = ""
    data["submit"] = "y"
    response = officer.submit(return_url(award_id, return_id), data)
    assert response.status_code == 200
    assert error_links(response) == {
        f"achieved-{second}": "Give what was achieved, a RAG status and a narrative for every "
                              "outcome"}
    saved = return_facts(app, return_id)
    assert saved["status"] == ReturnStatus.DUE and saved["spend"] == {}


@pytest.mark.parametrize("field, value, message", [
    ("line", "-5", "Amount must be £0 or more"),
    ("line", "12abc", "Enter an amount in pounds, like 4750 or 4,750.00"),
    ("line", "10.999", "Amount must not have more than 2 decimal places (pence)"),
    ("forecast_underspend", "-1", "Amount must be £0 or more"),
    ("achieved", "lots", "Enter what was achieved as a whole number, like 12"),
    ("achieved", "-3", "What was achieved must be a whole number from 0 to 10,000,000"),
    ("rag", "purple", "Select a RAG status"),
])
def test_bad_values_in_a_return_are_refused_beside_their_field_and_nothing_is_saved(
        app, officer, field, value, message):
    award_id = awarded(app, accepted=True)
    known = facts(app, award_id)
    return_id = known["returns"][0]
    data = complete_return(app, award_id)
    name = {"line": f"line-{known['lines']['Spare parts']}",
            "achieved": f"achieved-{known['measures'][0]}",
            "rag": f"rag-{known['measures'][0]}"}.get(field, field)
    data[name] = value
    data["save_draft"] = "y"
    response = officer.submit(return_url(award_id, return_id), data)
    assert response.status_code == 200
    assert error_links(response) == {name: message}
    assert f'value="{value}"' in response.get_data(as_text=True) or field == "rag"
    saved = return_facts(app, return_id)
    assert (saved["status"], saved["spend"], saved["outcomes"], saved["case_study"]) == (
        ReturnStatus.DUE, {}, {}, "")


def test_spend_posted_for_a_line_that_is_not_the_awards_is_refused(app, officer):
    award_id = awarded(app, accepted=True)
    other_award = awarded(app, officer_email=OTHER_OFFICER)
    foreign_line = next(iter(facts(app, other_award)["lines"].values()))
    return_id = facts(app, award_id)["returns"][0]
    data = complete_return(app, award_id)
    data[f"line-{foreign_line}"] = "100"
    data["submit"] = "y"
    response = officer.submit(return_url(award_id, return_id), data)
    assert response.status_code == 200
    assert "Spend can only be reported against approved budget lines." in error_links(
        response).values()
    assert return_facts(app, return_id)["status"] == ReturnStatus.DUE
    assert return_facts(app, return_id)["spend"] == {}


def test_a_return_is_only_found_under_its_own_award(app, officer):
    first = awarded(app, accepted=True, title="First")
    second = awarded(app, accepted=True, title="Second")
    return_of_second = facts(app, second)["returns"][0]
    assert officer.get(return_url(first, return_of_second)).status_code == 404
    assert officer.get(return_url(first, 999999)).status_code == 404


def test_a_return_cannot_be_filed_on_a_closed_award(app, officer):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    with app.test_request_context():
        awards.close(session.get(Award, award_id), accounts.get_user_by_email(FINANCE))
        session.commit()
    page = officer.get(return_url(award_id, return_id))
    assert "This award is closed: no more returns can be filed." in text_of(page)
    assert 'name="submit"' not in page.get_data(as_text=True)
    data = complete_return(app, award_id) | {"submit": "y"}
    response = officer.submit(return_url(award_id, return_id), data,
                              form_url=award_url(award_id))
    assert response.status_code == 302
    assert "This award is closed" in text_of(officer.get(response.headers["Location"]))
    assert return_facts(app, return_id)["status"] == ReturnStatus.DUE
    assert return_facts(app, return_id)["spend"] == {}


def test_a_return_cannot_be_filed_before_the_offer_is_accepted(app, officer):
    award_id = awarded(app)
    return_id = facts(app, award_id)["returns"][0]
    page = officer.get(return_url(award_id, return_id))
    assert "Accept the offer before filing returns." in text_of(page)
    data = complete_return(app, award_id) | {"submit": "y"}
    response = officer.submit(return_url(award_id, return_id), data,
                              form_url=award_url(award_id))
    assert response.status_code == 302
    assert return_facts(app, return_id)["status"] == ReturnStatus.DUE


def test_a_submitted_return_cannot_be_changed_by_posting_again(app, officer):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    service_submit(app, return_id)
    before = return_facts(app, return_id)
    data = complete_return(app, award_id) | {"submit": "y"}
    response = officer.submit(return_url(award_id, return_id), data,
                              form_url=award_url(award_id))
    assert response.status_code == 302
    page = text_of(officer.get(response.headers["Location"]))
    assert "This return has been submitted and cannot be changed now." in page
    assert return_facts(app, return_id) == before


def test_finance_queries_are_shown_first_and_the_return_can_be_revised_and_resubmitted(
        app, officer):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    service_submit(app, return_id)
    finance_review(app, return_id, approve=False, comments="The invoice for the lights is "
                                                           "missing.")
    page = officer.get(return_url(award_id, return_id))
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    banner = soup.find(class_="govuk-notification-banner")
    assert "The invoice for the lights is missing." in banner.get_text()
    assert banner.find_next("form") is not None  # the query comes before the form
    assert 'value="100.00"' in page.get_data(as_text=True)  # the earlier answers, to revise
    assert table_rows(officer.get(award_url(award_id)), "Returns")[0][3] == "Queried"
    data = complete_return(app, award_id) | {"submit": "y"}
    response = officer.submit(return_url(award_id, return_id), data)
    assert response.status_code == 302
    saved = return_facts(app, return_id)
    assert saved["status"] == ReturnStatus.SUBMITTED
    assert saved["reviews"] == ["queried", "resubmitted"]


def test_evidence_is_attached_to_a_return_and_downloads_as_an_attachment(app, officer):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    response = officer.submit(return_url(award_id, return_id),
                              {"evidence": (io.BytesIO(PDF), "invoice.pdf"), "save_draft": "y"},
                              content_type="multipart/form-data")
    assert response.status_code == 302
    assert return_facts(app, return_id)["evidence"] == ["invoice.pdf"]
    with app.app_context():
        item = session.scalar(select(ReturnEvidence).where(ReturnEvidence.return_id == return_id))
        assert item.content_type == "application/pdf" and item.stored_name != "invoice.pdf"
    page = officer.get(return_url(award_id, return_id)).get_data(as_text=True)
    link = f"{return_url(award_id, return_id)}/evidence/{item.id}"
    assert link in page
    download = officer.get(link)
    assert download.status_code == 200 and download.data == PDF
    assert "attachment" in download.headers["Content-Disposition"]
    other = officer_client(app, OTHER_OFFICER)
    assert other.get(link).status_code == 404


def test_a_disguised_evidence_file_is_refused_and_the_return_is_not_saved(app, officer):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    data = complete_return(app, award_id) | {"evidence": (io.BytesIO(EXE), "invoice.pdf"),
                                             "save_draft": "y"}
    response = officer.submit(return_url(award_id, return_id), data,
                              content_type="multipart/form-data")
    assert response.status_code == 200
    assert error_links(response) == {
        "evidence": "The selected file must be a PDF, Word, Excel, CSV, PNG or JPEG"}
    saved = return_facts(app, return_id)
    assert saved["evidence"] == [] and saved["spend"] == {} and saved["status"] == ReturnStatus.DUE


def test_evidence_is_not_kept_when_the_rest_of_the_return_is_refused(app, officer):
    award_id = awarded(app, accepted=True)
    known = facts(app, award_id)
    return_id = known["returns"][0]
    uploads = Path(app.config["UPLOAD_FOLDER"])
    before = set(uploads.iterdir()) if uploads.exists() else set()
    data = complete_return(app, award_id) | {"evidence": (io.BytesIO(PDF), "invoice.pdf"),
                                             f"narrative-{known['measures'][0]}": "",
                                             "submit": "y"}
    response = officer.submit(return_url(award_id, return_id), data,
                              content_type="multipart/form-data")
    assert response.status_code == 200 and error_links(response)
    assert return_facts(app, return_id)["evidence"] == []
    assert set(uploads.iterdir()) == before  # no orphan file left behind


def test_forged_forms_without_a_csrf_token_are_refused(app, officer):
    award_id = awarded(app)
    return_id = facts(app, award_id)["returns"][0]
    response = officer.post(f"/awards/{award_id}/accept",
                            data={"name": "Sam", "role": "Officer", "confirm": "y"})
    assert response.status_code == 400
    assert facts(app, award_id)["status"] == AwardStatus.OFFERED
    with app.test_request_context():
        awards.accept(session.get(Award, award_id), "Sam", "Officer", True,
                      accounts.get_user_by_email(OFFICER))
        session.commit()
    data = complete_return(app, award_id) | {"submit": "y"}
    assert officer.post(return_url(award_id, return_id), data=data).status_code == 400
    assert return_facts(app, return_id)["status"] == ReturnStatus.DUE
    response = officer.post(f"/awards/{award_id}/variations/new",
                            data={"kind": "extension", "reason": "Late start"})
    assert response.status_code == 400
    assert facts(app, award_id)["variations"] == []


# --- variations -------------------------------------------------------------------------------


def variation_url(award_id: int) -> str:
    return f"/awards/{award_id}/variations/new"


def test_asking_to_move_money_between_two_lines_records_a_request(app, officer):
    award_id = awarded(app, accepted=True)
    lines = facts(app, award_id)["lines"]
    response = officer.submit(variation_url(award_id), {
        "kind": "reallocation", "from_line": str(lines["Bike lights"]),
        "to_line": str(lines["Spare parts"]), "amount": "£200", "reason": "Lights were cheaper"})
    assert response.status_code == 302 and response.headers["Location"] == award_url(award_id)
    [(kind, status, moves, _end, reason)] = facts(app, award_id)["variations"]
    assert (kind, status, reason) == ("reallocation", VariationStatus.REQUESTED,
                                      "Lights were cheaper")
    assert moves == [{"from": lines["Bike lights"], "to": lines["Spare parts"], "new_item": "",
                      "amount": 20000}]
    [row] = table_rows(officer.get(award_url(award_id)), "Changes asked for")
    assert row[1] == "Move £200.00 from “Bike lights” to “Spare parts”"
    assert row[3] == "Waiting for a decision"


def test_asking_to_move_money_to_a_new_line_names_the_line(app, officer):
    award_id = awarded(app, accepted=True)
    lines = facts(app, award_id)["lines"]
    officer.submit(variation_url(award_id), {
        "kind": "reallocation", "from_line": str(lines["Spare parts"]), "to_line": "new",
        "new_item": "Helmets", "amount": "150", "reason": "Parents asked for helmets"})
    [(_kind, _status, moves, _end, _reason)] = facts(app, award_id)["variations"]
    assert moves == [{"from": lines["Spare parts"], "to": None, "new_item": "Helmets",
                      "amount": 15000}]
    [row] = table_rows(officer.get(award_url(award_id)), "Changes asked for")
    assert "to “Helmets (new line)”" in row[1]


def test_asking_to_extend_the_end_date_records_the_new_date(app, officer):
    award_id = awarded(app, accepted=True)
    end = facts(app, award_id)["end_date"]
    later = end + timedelta(days=91)
    response = officer.submit(variation_url(award_id), {
        "kind": "extension", "new_end_date": [str(later.day), str(later.month), str(later.year)],
        "amount": "not looked at", "reason": "The school term started late"})
    assert response.status_code == 302
    [(kind, status, moves, new_end, _reason)] = facts(app, award_id)["variations"]
    assert (kind, status, moves, new_end) == ("extension", VariationStatus.REQUESTED, [], later)
    assert facts(app, award_id)["end_date"] == end  # nothing changes until the OPCC agrees
    with app.test_request_context():
        shown = long_date(later)
    assert f"Extend the end date to {shown}" in text_of(officer.get(award_url(award_id)))


def test_the_award_page_shows_original_and_revised_allocations_side_by_side(app, officer):
    award_id = awarded(app, accepted=True)
    lines = facts(app, award_id)["lines"]
    officer.submit(variation_url(award_id), {
        "kind": "reallocation", "from_line": str(lines["Bike lights"]),
        "to_line": str(lines["Mechanic for twelve sessions"]), "amount": "250",
        "reason": "More sessions"})
    with app.test_request_context():
        variation = session.scalar(select(Variation).where(Variation.award_id == award_id))
        variations.decide_variation(variation, True, "Agreed", accounts.get_user_by_email(MANAGER))
        session.commit()
    page = officer.get(award_url(award_id))
    rows = table_rows(page, "Approved budget")
    assert rows[0] == ["Bike lights", "Capital", "£2,250.00", "£2,000.00"]
    assert rows[1] == ["Mechanic for twelve sessions", "Revenue", "£1,800.00", "£2,050.00"]
    assert rows[-1] == ["Total", "", "£4,750.00", "£4,750.00"]
    [row] = table_rows(page, "Changes asked for")
    assert row[3].startswith("Approved") and "Agreed" in row[3]


@pytest.mark.parametrize("changes, field, message", [
    ({}, "kind", "Select what you want to change"),
    ({"amount": "-5"}, "amount", "Amount must be £0 or more"),
    ({"amount": "five pounds"}, "amount", "Enter an amount in pounds, like 4750 or 4,750.00"),
    ({"amount": ""}, "amount", "Enter an amount more than £0"),
    ({"amount": "5000"}, "amount", "“Spare parts” has only £700.00 to move"),
    ({"to_line": "same"}, "to_line", "Choose two different lines"),
    ({"to_line": ""}, "to_line", "Choose a line to move money to, or name a new line"),
    ({"to_line": "new", "new_item": " "}, "to_line",
     "Choose a line to move money to, or name a new line"),
    ({"from_line": "999999"}, "from_line", "Choose a line to move money from"),
    ({"to_line": "999999"}, "to_line", "Choose a line to move money to"),
    ({"reason": ""}, "reason", "Enter the reason for the change"),
    ({"kind": "extension"}, "new_end_date", "Enter the new end date"),
    ({"kind": "extension", "new_end_date": ["1", "1", "2000"]}, "new_end_date",
     "The new end date must be after"),
    ({"kind": "extension", "new_end_date": ["31", "2", "2030"]}, "new_end_date",
     "New end date must be a real date"),
])
def test_bad_variation_requests_are_refused_beside_the_field_and_change_nothing(
        app, officer, changes, field, message):
    award_id = awarded(app, accepted=True)
    lines = facts(app, award_id)["lines"]
    data = {"kind": "reallocation", "from_line": str(lines["Spare parts"]),
            "to_line": str(lines["Bike lights"]), "amount": "100", "reason": "Because"}
    if not changes:
        del data["kind"]
    data.update(changes)
    if data.get("to_line") == "same":
        data["to_line"] = data["from_line"]
    response = officer.submit(variation_url(award_id), data)
    assert response.status_code == 200
    errors = error_links(response)
    assert list(errors) == [field] and errors[field].startswith(message), errors
    assert facts(app, award_id)["variations"] == []


def test_variations_cannot_be_asked_for_before_the_offer_is_accepted(app, officer):
    award_id = awarded(app)
    assert 'name="reason"' not in officer.get(variation_url(award_id)).get_data(as_text=True)
    response = officer.submit(variation_url(award_id),
                              {"kind": "extension", "new_end_date": ["1", "1", "2040"],
                               "reason": "Late"}, form_url=award_url(award_id))
    assert response.status_code == 302
    assert "Variations can only be asked for on an active award." in text_of(
        officer.get(response.headers["Location"]))
    assert facts(app, award_id)["variations"] == []


def test_the_reminder_email_link_opens_the_return(app, officer):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    with app.test_request_context():
        from flask import render_template

        grant_return = session.get(GrantReturn, return_id)
        body = render_template("emails/return_reminder.txt", user=grant_return.award.bid
                               .organisation, grant_return=grant_return,
                               award=grant_return.award, overdue=False)
    url = re.search(r"http://portal\.test(/awards/\S+)", body).group(1)
    assert url == return_url(award_id, return_id)
    assert officer.get(url).status_code == 200


def test_no_award_means_an_empty_awards_page(app, officer):
    assert "Your partnership has no awards yet" in text_of(officer.get("/awards/"))
    with app.app_context():
        assert session.scalar(select(func.count(Award.id))) == 0
