"""Direct awards (issue 14, point 1) and action plans (point 3): the grants manager makes an
award to a partnership without a round of bids, from the budget of a direct fund; it goes
through the offer, acceptance and payment as any award, and appears on the public register and
in 360Giving. Seeds: a three-year agreement with South Cambridgeshire for a CSP Project
Officer (£45,000 a year, six-monthly monitoring); a CDRP's yearly allocation of £15,277 with
an action plan."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.db import session, uk_today
from portal.models import (
    Award,
    AwardAction,
    AwardStatus,
    Bid,
    BidStatus,
    Fund,
    Round,
    RoundYear,
    UserRole,
)
from portal.models.funds import PaymentRule, ReturnCadence
from portal.models.users import Role
from portal.services import accounts, agreements, awards, rounds
from portal.services.rounds import financial_year_of
from tests import bidding
from tests.helpers import signed_in, table_row_counts, text_of
from tests.integration.test_transparency import package, problems, set_area_code, validator

__all__ = ["validator"]  # the 360Giving validator fixture, used here too

MANAGER = "manager@example.org"
FINANCE = "finance@example.org"
SOUTH_CAMBS = bidding.OFFICER
FENLAND = "officer.fenland@example.org"
YEAR = financial_year_of(uk_today())
YEARS = [YEAR, YEAR + 1, YEAR + 2]
PER_YEAR = 61_000_00


# --- a direct fund and its budget, made with the models (the round setup is elsewhere) -----


def make_budget(app, *, code="PCFD", years=3, per_year=PER_YEAR, direct=True) -> int:
    with app.app_context():
        fund = Fund(code=code, name=f"Commissioner's agreements {code}",
                    purpose="Direct awards to partnerships", direct=direct,
                    payment_rule=PaymentRule.ADVANCE, terms="Grant agreement terms")
        session.add(fund)
        round_ = Round(fund=fund, name=f"Budget {YEAR}", financial_year=YEAR, years=years,
                       opens_at=datetime(YEAR, 4, 1, tzinfo=UTC),
                       closes_at=datetime(YEAR + years, 3, 31, tzinfo=UTC),
                       budget_pence=per_year * years, committed_pence=0,
                       eligible_organisation_types=["csp"],
                       return_cadence=ReturnCadence.SIX_MONTHLY)
        if years > 1:
            round_.year_budgets = [RoundYear(financial_year=YEAR + n, budget_pence=per_year,
                                             committed_pence=0) for n in range(years)]
        session.add(round_)
        session.commit()
        return round_.id


def organisation_id(app, email) -> int:
    with app.app_context():
        return accounts.get_user_by_email(email).organisation_id


def officer_agreement(app, round_id, **changes) -> dict[str, Any]:
    """The three-year agreement for a CSP Project Officer, as the form posts it."""
    data: dict[str, Any] = {
        "organisation": str(organisation_id(app, SOUTH_CAMBS)),
        "title": "CSP Project Officer",
        "purpose": "A Project Officer for the South Cambridgeshire CSP for three years",
        "start_date": ["1", "4", str(YEAR)], "end_date": ["31", "3", str(YEAR + 3)],
        "lines-0-item": "CSP Project Officer (salary and on-costs)", "lines-0-kind": "revenue",
        "lines-0-actions": "",
        "amount": "135,000",
        "conditions": "Six-monthly monitoring and reporting",
        "reasons": "Coordinates the partnership's work against anti-social behaviour",
    }
    for year in YEARS:
        data[f"lines-0-year_{year}"] = "45000"
    data.update(changes)
    return data


def allocation(app, round_id, **changes) -> dict[str, Any]:
    """A CDRP's yearly allocation of £15,277 with its action plan."""
    data: dict[str, Any] = {
        "organisation": str(organisation_id(app, FENLAND)),
        "title": "Yearly allocation",
        "purpose": "The partnership's action plan for the year",
        "start_date": ["1", "4", str(YEAR)], "end_date": ["31", "3", str(YEAR + 1)],
        "lines-0-item": "Community engagement", "lines-0-kind": "revenue",
        f"lines-0-year_{YEAR}": "10,000", "lines-0-actions": "1.1, 1.4",
        "lines-1-item": "Hoarding training", "lines-1-kind": "revenue",
        f"lines-1-year_{YEAR}": "1,000", "lines-1-actions": "1.4",
        "lines-2-item": "Cameras", "lines-2-kind": "capital",
        f"lines-2-year_{YEAR}": "4,277", "lines-2-actions": "2.1",
        "amount": "15,277",
        "conditions": "", "reasons": "Actions agreed against the Strategic Assessment",
        "actions-0-number": "1.1", "actions-0-title": "Street briefings",
        "actions-0-lead": "CSP manager", "actions-0-target_date": ["30", "9", str(YEAR)],
        "actions-1-number": "1.4", "actions-1-title": "Hoarding awareness",
        "actions-1-lead": "Fire service", "actions-1-target_date": ["", "", ""],
        "actions-2-number": "2.1", "actions-2-title": "Cameras at hot spots",
        "actions-2-lead": "", "actions-2-target_date": ["", "", ""],
    }
    data.update(changes)
    return data


def form_url(round_id) -> str:
    return f"/manage/direct-awards/new/{round_id}"


def make(client, round_id, data, *, confirm=True, **kwargs):
    """Post the form to the check page (and on to making the award when ``confirm``)."""
    url = form_url(round_id)
    checked = client.submit(url, {**data, "check": "Continue"})
    if not confirm or checked.status_code != 200 or "Check the direct award" not in \
            text_of(checked):
        return checked
    carried = carried_fields(checked)
    return client.post(url, data={**carried, "confirm": "Make the award"}, **kwargs)


def carried_fields(page) -> dict[str, list[str]]:
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    form = next(f for f in soup.find_all("form", method="post")
                if "/direct-awards/new/" in (f.get("action") or ""))
    values: dict[str, list[str]] = {}
    for hidden in form.find_all("input", attrs={"type": "hidden"}):
        values.setdefault(hidden["name"], []).append(hidden.get("value", ""))
    return values


def award_of(app, organisation) -> Award | None:
    with app.app_context():
        return session.scalar(select(Award).where(Award.organisation_id == organisation))


def error_beside(response, field) -> str:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    group = soup.find(id=f"{field}-error") or soup.find(id=f"{field}-day-error")
    if group is None:
        for element in soup.select(".govuk-error-message"):
            if field in (element.get("id") or ""):
                return element.get_text(" ", strip=True)
        return ""
    return group.get_text(" ", strip=True)


@pytest.fixture
def manager(app):
    return signed_in(app, MANAGER)


# --- the whole journey ----------------------------------------------------------------------


def test_a_three_year_agreement_is_offered_accepted_paid_and_published(app, manager, validator):
    round_id = make_budget(app)
    set_area_code(app, SOUTH_CAMBS, "E07000012")
    made = make(manager, round_id, officer_agreement(app, round_id), follow_redirects=True)
    assert made.status_code == 200, text_of(made)
    assert "Direct award" in text_of(made) and "made" in text_of(made)
    with app.app_context():
        award = session.scalar(select(Award).where(
            Award.organisation_id == organisation_id(app, SOUTH_CAMBS)))
        assert award is not None and award.status == AwardStatus.OFFERED
        assert award.amount_pence == 135_000_00
        assert award.payment_plan == {str(y): 45_000_00 for y in YEARS}
        assert award.bid.status == BidStatus.AWARDED
        assert award.bid.reference.startswith(f"PCFD-{YEAR}-")
        assert award.decision.reference.startswith(f"DEC-{YEAR}-")
        assert award.decision.crime_reduction_reasons.startswith("Coordinates")
        # six-monthly returns over three years, and a final one
        assert len(award.returns) >= 4  # six-monthly (those already past folded), and a final
        budget = session.get(Round, round_id)
        assert [(y.financial_year, y.committed_pence) for y in budget.year_budgets] == \
            [(y, 45_000_00) for y in YEARS]
        award_id, bid_reference = award.id, award.bid.reference
        assert not rounds.open_to(budget, "csp")  # never offered to applicants
    assert manager.get(f"/manage/awards/{award_id}").status_code == 200

    # The partnership is told, sees the offer and accepts it; another partnership cannot.
    other = signed_in(app, FENLAND)
    assert other.get(f"/awards/{award_id}").status_code == 404
    assert other.get(f"/awards/{award_id}/accept").status_code == 404
    officer = signed_in(app, SOUTH_CAMBS)
    assert "CSP Project Officer" in text_of(officer.get(f"/awards/{award_id}"))
    offer = BeautifulSoup(officer.get(f"/awards/{award_id}/accept").get_data(as_text=True),
                          "html.parser")
    [budget_table] = [t for t in offer.find_all("table")
                      if "Approved budget" in t.caption.get_text()]
    heads = [th.get_text(strip=True) for th in budget_table.thead.find_all("th")]
    assert [f"{y}/{(y + 1) % 100:02d}" for y in YEARS] == [h for h in heads if "/" in h]
    cells = [td.get_text(strip=True) for td in budget_table.tbody.tr.find_all("td")]
    assert cells.count("£45,000.00") == 3 and "£135,000.00" in cells  # each year, the line
    accepted = officer.submit(f"/awards/{award_id}/accept",
                              {"name": "Sam Officer", "role": "CSP manager", "confirm": "y"},
                              follow_redirects=True)
    assert "accepted the offer" in text_of(accepted)
    assert award_of(app, organisation_id(app, SOUTH_CAMBS)).status == AwardStatus.ACTIVE

    # The manager who made it cannot pay it, even with the finance role; finance can.
    with app.app_context():
        user = accounts.get_user_by_email(MANAGER)
        user.role_rows.append(UserRole(role=Role.FINANCE))
        session.commit()
    both = signed_in(app, MANAGER)
    payment = {"amount": "45,000", "paid_on": [str(d) for d in (uk_today().day,
                                                                  uk_today().month,
                                                                  uk_today().year)],
               "reference": "BACS-DIR-1"}
    refused = both.submit(f"/finance/awards/{award_id}/payments", payment,
                          form_url=f"/finance/awards/{award_id}", follow_redirects=True)
    assert "someone else must record its payments" in text_of(refused)
    assert award_of(app, organisation_id(app, SOUTH_CAMBS)).paid_pence == 0
    finance = signed_in(app, FINANCE)
    paid = finance.submit(f"/finance/awards/{award_id}/payments", payment,
                          form_url=f"/finance/awards/{award_id}", follow_redirects=True)
    assert "Payment of £45,000.00 recorded" in text_of(paid)

    # Public register and 360Giving, with the fund as the grant programme.
    register = text_of(manager.get("/transparency"))
    assert "CSP Project Officer" in register
    data = package(manager)
    assert problems(validator, data) == []
    grant = next(g for g in data["grants"] if g["id"].endswith(bid_reference))
    assert grant["amountAwarded"] == Decimal("135000.00")
    assert grant["grantProgramme"] == [{"code": "PCFD", "title": "Commissioner's agreements PCFD"}]
    assert grant["beneficiaryLocation"][0]["geoCode"] == "E07000012"
    assert grant["beneficiaryLocation"][0]["geoCodeType"] == "NMD"


def test_a_unitary_council_area_is_published_as_ua(app, manager, validator):
    round_id = make_budget(app)
    set_area_code(app, SOUTH_CAMBS, "E06000031")
    assert make(manager, round_id, officer_agreement(app, round_id)).status_code == 302
    data = package(manager)
    assert problems(validator, data) == []
    assert [p["geoCodeType"] for g in data["grants"] for p in g["beneficiaryLocation"]] == ["UA"]


def test_a_yearly_allocation_holds_its_action_plan(app, manager):
    round_id = make_budget(app, years=1, per_year=20_000_00, code="CDRP")
    made = make(manager, round_id, allocation(app, round_id))
    assert made.status_code == 302, text_of(made)
    with app.app_context():
        award = award_of(app, organisation_id(app, FENLAND))
        award = session.get(Award, award.id)
        assert award.amount_pence == 15_277_00
        assert [(a.number, a.title, a.lead, a.target_date) for a in award.actions] == [
            ("1.1", "Street briefings", "CSP manager", date(YEAR, 9, 30)),
            ("1.4", "Hoarding awareness", "Fire service", None),
            ("2.1", "Cameras at hot spots", "", None)]
        assert [line.action_numbers for line in award.lines] == [["1.1", "1.4"], ["1.4"], ["2.1"]]
        award_id = award.id
    page = text_of(manager.get(f"/manage/awards/{award_id}"))
    assert "Hoarding awareness" in page and "1.1, 1.4" in page
    # The partnership reads the plan, and which actions each line relates to, in its offer.
    officer = signed_in(app, FENLAND)
    for url in (f"/awards/{award_id}", f"/awards/{award_id}/accept"):
        page = text_of(officer.get(url))
        assert "Action plan" in page and "Hoarding awareness" in page, url
        assert "Relates to actions" in page and "1.1, 1.4" in page, url


# --- the check page and posting twice -------------------------------------------------------


def test_the_check_page_shows_the_answers_and_makes_nothing_until_confirmed(app, manager):
    round_id = make_budget(app)
    before = table_row_counts(app)
    page = make(manager, round_id, officer_agreement(app, round_id), confirm=False)
    assert "Check the direct award" in text_of(page)
    assert "£135,000.00" in text_of(page)
    assert table_row_counts(app) == before
    changed = manager.post(form_url(round_id), data={**carried_fields(page),
                                                      "change": "Change the answers"})
    assert 'value="CSP Project Officer"' in changed.get_data(as_text=True)
    assert table_row_counts(app) == before


def test_the_form_posted_twice_makes_one_award(app, manager):
    round_id = make_budget(app)
    page = make(manager, round_id, officer_agreement(app, round_id), confirm=False)
    carried = {**carried_fields(page), "confirm": "Make the award"}
    first = manager.post(form_url(round_id), data=carried)
    second = manager.post(form_url(round_id), data={**carried, "title": "Changed on resending"})
    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    # Sent again with changes: the award stands as made, and the manager is told so.
    page = text_of(manager.get(second.location))
    assert "This form already made direct award" in page and "nothing was changed" in page
    assert "Changed on resending" not in page
    with app.app_context():
        count = len(session.scalars(select(Bid).where(Bid.round_id == round_id)).all())
        assert count == 1
        assert session.get(Round, round_id).committed_pence == 135_000_00


def test_two_posts_of_one_form_at_the_same_moment_make_one_award(committed_app):
    """Two requests committing for real (a database of the test's own): one award."""
    own = committed_app("direct_twice")
    round_id = make_budget(own)
    clients = [signed_in(own, MANAGER) for _ in range(2)]
    page = make(clients[0], round_id, officer_agreement(own, round_id), confirm=False)
    carried = {**carried_fields(page), "confirm": "Make the award"}
    # Each client posts with its own session's CSRF token, and the one creation token.
    posts = [{**carried, "csrf_token": other.csrf_token(form_url(round_id))}
             for other in clients]
    barrier = threading.Barrier(len(clients))
    results: list[int] = []

    def post(other, data) -> None:
        barrier.wait()
        results.append(other.post(form_url(round_id), data=data).status_code)

    threads = [threading.Thread(target=post, args=pair)
               for pair in zip(clients, posts, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [302, 302]
    with own.app_context():
        assert len(session.scalars(select(Award).where(Award.round_id == round_id)).all()) == 1
        assert session.get(Round, round_id).committed_pence == 135_000_00


# --- refusals: nothing changed --------------------------------------------------------------


def test_a_year_above_what_remains_of_its_budget_is_refused_beside_its_amount(app, manager):
    round_id = make_budget(app)
    before = table_row_counts(app)
    data = officer_agreement(app, round_id, **{f"lines-0-year_{YEAR + 1}": "61,001",
                                                "amount": "151,001"})
    response = make(manager, round_id, data)
    assert response.status_code == 200
    assert "only £61,000.00 of the budget for that year remains" in \
        error_beside(response, f"lines-0-year_{YEAR + 1}")
    assert table_row_counts(app) == before


def test_an_amount_that_is_not_the_lines_total_is_refused(app, manager):
    round_id = make_budget(app)
    before = table_row_counts(app)
    response = make(manager, round_id, officer_agreement(app, round_id, amount="130,000"))
    assert "must equal the total of the budget lines" in error_beside(response, "amount")
    assert table_row_counts(app) == before


def test_a_line_relating_to_an_action_not_in_the_plan_is_refused(app, manager):
    round_id = make_budget(app, years=1, per_year=20_000_00, code="CDRP")
    before = table_row_counts(app)
    data = allocation(app, round_id, **{"lines-2-actions": "2.1, 3.7"})
    response = make(manager, round_id, data)
    assert "action 3.7, which is not in the action plan" in error_beside(response,
                                                                         "lines-2-actions")
    assert table_row_counts(app) == before


def test_dates_outside_the_budgets_years_are_refused(app, manager):
    round_id = make_budget(app, years=1, per_year=20_000_00, code="CDRP")
    before = table_row_counts(app)
    data = allocation(app, round_id, end_date=["31", "3", str(YEAR + 2)])
    response = make(manager, round_id, data)
    assert "Dates must be between" in error_beside(response, "end_date")
    assert table_row_counts(app) == before


@pytest.mark.parametrize("organisation", ["999999", "99999999999999999999", "５", "x"])
def test_an_unknown_partnership_is_refused_beside_the_field(app, manager, organisation):
    round_id = make_budget(app)
    before = table_row_counts(app)
    response = make(manager, round_id, officer_agreement(app, round_id,
                                                          organisation=organisation))
    assert response.status_code == 200
    assert "Select a partnership from the list" in error_beside(response, "organisation")
    assert table_row_counts(app) == before


def test_a_partnership_that_is_not_a_csp_is_refused_by_the_service(app):
    round_id = make_budget(app)
    with app.test_request_context():
        manager = accounts.get_user_by_email(MANAGER)
        opcc = accounts.get_user_by_email(FINANCE).organisation_id
        from portal.services import DomainError

        with pytest.raises(DomainError) as refused:
            agreements.check_direct_award(
                opcc, round_id, title="T", purpose="P", start_date=date(YEAR, 4, 1),
                end_date=date(YEAR, 12, 31), conditions="", reasons="R", actor=manager,
                lines=[agreements.LineInput("Item", "revenue", {YEAR: 100})])
        assert refused.value.field == "organisation"


@pytest.mark.parametrize("path", ["/manage/direct-awards/new/{other}",
                                  "/manage/direct-awards/new/999999999",
                                  "/manage/direct-awards/new/99999999999999999999",
                                  "/manage/awards/999999999",
                                  "/manage/awards/99999999999999999999/action-plan"])
def test_a_round_not_of_a_direct_fund_and_missing_or_huge_ids_are_404(app, manager, path):
    direct = make_budget(app)
    other = make_budget(app, code="OPEN", direct=False)
    data = {**officer_agreement(app, direct), "check": "Continue", "confirm": "Make the award",
            **manager.form_tokens(form_url(direct))}
    before = table_row_counts(app)
    url = path.format(other=other)
    assert manager.get(url).status_code == 404
    assert manager.post(url, data=data).status_code in (404, 405)
    assert table_row_counts(app) == before


def test_the_budget_of_a_direct_fund_is_never_open_to_bids(app):
    round_id = make_budget(app, years=1, per_year=20_000_00, code="CDRP")
    officer = signed_in(app, SOUTH_CAMBS)
    assert officer.get(f"/rounds/{round_id}").status_code == 404
    with app.app_context():
        assert round_id not in [r.id for r in rounds.current_rounds("csp")]


def test_only_managers_reach_the_pages(app):
    round_id = make_budget(app)
    for email in (SOUTH_CAMBS, FINANCE, "assessor1@example.org"):
        other = signed_in(app, email)
        assert other.get("/manage/direct-awards").status_code == 403
        assert other.get(form_url(round_id)).status_code == 403


# --- text -----------------------------------------------------------------------------------


def test_markup_is_kept_as_text_and_control_characters_and_long_text_are_refused(app, manager):
    round_id = make_budget(app)
    before = table_row_counts(app)
    hidden = make(manager, round_id, officer_agreement(app, round_id, title="Officer\u202e"))
    assert "hidden control characters" in error_beside(hidden, "title")
    long = make(manager, round_id, officer_agreement(app, round_id, purpose="x" * 1001))
    assert "1000 characters or fewer" in error_beside(long, "purpose")
    assert table_row_counts(app) == before
    markup = "<script>alert(1)</script> & <b>Officer</b>"
    made = make(manager, round_id, officer_agreement(app, round_id, title=markup[:120]))
    assert made.status_code == 302
    page = manager.get(made.location).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- the action plan page -------------------------------------------------------------------


def _plan_award(app, manager) -> int:
    round_id = make_budget(app, years=1, per_year=20_000_00, code="CDRP")
    assert make(manager, round_id, allocation(app, round_id)).status_code == 302
    return award_of(app, organisation_id(app, FENLAND)).id


def plan_form(client, award_id) -> dict[str, Any]:
    page = client.get(f"/manage/awards/{award_id}/action-plan")
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    form = next(f for f in soup.find_all("form", method="post")
                if "/action-plan" in (f.get("action") or ""))
    data: dict[str, Any] = {}
    for element in form.find_all("input"):
        if element.get("type") == "submit":
            continue
        data.setdefault(element["name"], []).append(element.get("value", ""))
    return data


def test_removing_an_action_a_line_still_relates_to_is_refused_beside_the_line(app, manager):
    award_id = _plan_award(app, manager)
    before = table_row_counts(app)
    data = plan_form(manager, award_id)
    data["actions-1-number"], data["actions-1-title"], data["actions-1-lead"] = [""], [""], [""]
    response = manager.post(f"/manage/awards/{award_id}/action-plan", data=data)
    assert response.status_code == 200
    assert "Line 1 relates to action 1.4: take it off the line first" in \
        error_beside(response, "lines-0-actions")
    assert table_row_counts(app) == before


def test_the_action_plan_saves_twice_with_changes_and_rows_added_and_removed(app, manager):
    award_id = _plan_award(app, manager)
    url = f"/manage/awards/{award_id}/action-plan"
    data = plan_form(manager, award_id)
    data["lines-0-actions"] = ["1.1"]
    data["lines-1-actions"] = [""]
    data["actions-1-number"], data["actions-1-title"], data["actions-1-lead"] = [""], [""], [""]
    data["actions-3-number"], data["actions-3-title"] = ["3.1"], ["Youth diversion"]
    first = manager.post(url, data=data)
    assert first.status_code == 302, text_of(first)
    again = manager.post(url, data=data)  # the same post again: the same result
    assert again.status_code == 302
    with app.app_context():
        award = session.get(Award, award_id)
        assert [a.number for a in award.actions] == ["1.1", "2.1", "3.1"]
        assert [line.action_numbers for line in award.lines] == [["1.1"], [], ["2.1"]]
    data = plan_form(manager, award_id)
    data["actions-0-title"] = ["Street briefings, monthly"]
    data["actions-0-number"], data["actions-1-number"] = ["2.1"], ["1.1"]  # swapped
    data["lines-0-actions"], data["lines-2-actions"] = ["2.1"], ["1.1"]
    swapped = manager.post(url, data=data)
    assert swapped.status_code == 302, text_of(swapped)[:1500]
    with app.app_context():
        award = session.get(Award, award_id)
        assert [(a.number, a.title) for a in award.actions] == [
            ("2.1", "Street briefings, monthly"), ("1.1", "Cameras at hot spots"),
            ("3.1", "Youth diversion")]


def test_a_save_from_a_stale_page_does_not_overwrite_another_managers(app, manager):
    award_id = _plan_award(app, manager)
    url = f"/manage/awards/{award_id}/action-plan"
    stale = plan_form(manager, award_id)
    fresh = plan_form(manager, award_id)
    fresh["actions-3-number"], fresh["actions-3-title"] = ["4.1"], ["Night marshals"]
    assert manager.post(url, data=fresh).status_code == 302
    stale["actions-3-number"], stale["actions-3-title"] = ["5.1"], ["Something else"]
    response = manager.post(url, data=stale)
    assert response.status_code == 200
    assert "Another manager changed this action plan" in text_of(response)
    with app.app_context():
        assert [a.number for a in session.get(Award, award_id).actions] == [
            "1.1", "1.4", "2.1", "4.1"]


def test_a_refused_save_keeps_the_page_on_the_plan_it_was_opened_on(app, manager):
    """Breaker of issue 14: after a refusal the page used to take the newest plan's stamp, so
    one more click wrote over another manager's change."""
    award_id = _plan_award(app, manager)
    url = f"/manage/awards/{award_id}/action-plan"
    stale = plan_form(manager, award_id)
    fresh = plan_form(manager, award_id)
    fresh["actions-3-number"], fresh["actions-3-title"] = ["4.1"], ["Night marshals"]
    assert manager.post(url, data=fresh).status_code == 302
    stale["actions-3-number"], stale["actions-3-title"] = ["1.1"], ["A repeated number"]
    assert "in the plan twice" in error_beside(manager.post(url, data=stale),
                                                "actions-3-number")
    stale["actions-3-number"] = ["5.1"]  # the slip mended, on the page as it was opened
    response = manager.post(url, data=stale)
    assert "Another manager changed this action plan" in text_of(response)
    with app.app_context():
        assert [a.number for a in session.get(Award, award_id).actions] == [
            "1.1", "1.4", "2.1", "4.1"]


def _reported_award(app, manager) -> tuple[int, int]:
    """The plan's award accepted, its first return saved as a draft reporting action 1.4."""
    award_id = _plan_award(app, manager)
    with app.test_request_context():
        award = session.get(Award, award_id)
        officer = accounts.get_user_by_email(FENLAND)
        awards.accept(award, "Fen Officer", "Community safety officer", True, officer)
        action = next(a for a in award.actions if a.number == "1.4")
        grant_return = award.returns[0]
        awards.save_return(grant_return, {}, [], "", 0, submit=False, actor=officer,
                           actions=[awards.ActionInput(action.id, "closed",
                                                       "Conference cancelled")])
        session.commit()
        return award_id, action.id


@pytest.mark.parametrize("change, field, words", [
    ({"actions-1-number": "1.5", "lines-0-actions": "1.1", "lines-1-actions": ""},
     "actions-1-number", "cannot be removed or renumbered"),
    ({"actions-1-number": "", "actions-1-title": "", "actions-1-lead": "",
      "lines-0-actions": "1.1", "lines-1-actions": ""}, None,
     "cannot be removed or renumbered"),  # a blanked row: said above the form
    ({"actions-1-title": "Buy a car"}, "actions-1-title", "its wording cannot change"),
])
def test_an_action_reported_in_a_return_keeps_its_number_and_words(app, manager, change, field,
                                                                    words):
    """Breaker of issue 14: rows were kept by position, so removing or renumbering an action
    moved or deleted what a return had reported about it."""
    award_id, action_id = _reported_award(app, manager)
    url = f"/manage/awards/{award_id}/action-plan"
    data = plan_form(manager, award_id)
    before = table_row_counts(app)
    data.update({name: [value] for name, value in change.items()})
    response = manager.post(url, data=data)
    assert words in (error_beside(response, field) if field else text_of(response))
    assert table_row_counts(app) == before
    # Its lead and target date may change; the report stays with the action it was about.
    data = plan_form(manager, award_id)
    data["actions-1-lead"] = ["Domestic abuse co-ordinator"]
    data["actions-0-number"], data["actions-2-number"] = ["2.1"], ["1.1"]  # others swap
    data["lines-0-actions"], data["lines-2-actions"] = ["2.1, 1.4"], ["1.1"]
    assert manager.post(url, data=data).status_code == 302
    with app.app_context():
        award = session.get(Award, award_id)
        reported = session.get(AwardAction, action_id)
        assert (reported.number, reported.title, reported.lead) == (
            "1.4", "Hoarding awareness", "Domestic abuse co-ordinator")
        [report] = [r for r in award.returns[0].actions if r.rag is not None]
        assert (report.action_id, report.rag.value, report.narrative) == (
            action_id, "closed", "Conference cancelled")


def test_a_badly_formed_or_repeated_action_number_is_refused(app, manager):
    award_id = _plan_award(app, manager)
    before = table_row_counts(app)
    url = f"/manage/awards/{award_id}/action-plan"
    for number, words in (("1.x", "numbers separated by full stops"),
                          ("01.1", "numbers separated by full stops"),
                          ("１.1", "numbers separated by full stops"),
                          ("1.1", "in the plan twice")):
        data = plan_form(manager, award_id)
        data["actions-3-number"], data["actions-3-title"] = [number], ["Another"]
        response = manager.post(url, data=data)
        assert words in error_beside(response, "actions-3-number"), number
    assert table_row_counts(app) == before


def test_json_of_the_audit_names_the_direct_award(app, manager):
    round_id = make_budget(app)
    assert make(manager, round_id, officer_agreement(app, round_id)).status_code == 302
    from portal.models import AuditEvent

    with app.app_context():
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "decision.approved")
                               .order_by(AuditEvent.id.desc()))
        after = event.after if isinstance(event.after, dict) else json.loads(event.after)
        assert after["direct"] is True and after["amount"] == 135_000_00


def test_a_return_page_opened_before_the_plan_changed_saves_nothing(app, manager):
    """The attack on issue 14: a report posted from a page opened before the grants manager
    reworded an action was kept against words the officer never saw."""
    award_id, _reported = _reported_award(app, manager)
    with app.app_context():
        award = session.get(Award, award_id)
        return_id = award.returns[0].id
        cameras = next(a.id for a in award.actions if a.number == "2.1")
    officer = signed_in(app, FENLAND)
    url = f"/awards/{award_id}/returns/{return_id}"
    stale = officer.form_tokens(url) if hasattr(officer, "form_tokens") else {}
    page = BeautifulSoup(officer.get(url).get_data(as_text=True), "html.parser")
    seen = page.find("input", attrs={"name": "actions_seen"})["value"]
    version = page.find("input", attrs={"name": "version"})["value"]
    data = plan_form(manager, award_id)
    data["actions-2-title"] = ["Stop all cameras"]
    assert manager.post(f"/manage/awards/{award_id}/action-plan", data=data).status_code == 302
    before = table_row_counts(app)
    response = officer.submit(url, {**stale, "actions_seen": seen, "version": version,
                                    f"action-rag-{cameras}": "green",
                                    f"action-narrative-{cameras}": "Cameras ran every night",
                                    "save_draft": "Save as draft"})
    assert response.status_code == 200
    assert "changed the award's action plan" in text_of(response)
    assert "Cameras ran every night" in response.get_data(as_text=True)  # kept on the page
    assert table_row_counts(app) == before
    # A page always sends the stamp it showed: a post without it is no match either.
    response = officer.submit(url, {"actions_seen": "", f"action-rag-{cameras}": "green",
                                    f"action-narrative-{cameras}": "Cameras ran every night",
                                    "save_draft": "Save as draft"})
    assert "changed the award's action plan" in text_of(response)
    assert table_row_counts(app) == before
