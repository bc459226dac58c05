"""The grants manager sets up funds, rounds and criteria; bad input changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from portal.db import session
from portal.models import Assignment, AuditEvent, Criterion, Fund, Round, Score
from portal.services import accounts
from tests import bidding
from tests.helpers import signed_in, text_of

MANAGER = "manager@example.org"

FUND = {
    "name": "Rural Crime Fund", "code": "rcf", "purpose": "Small grants against rural crime.",
    "payment_rule": "arrears", "terms": "Spend the grant on the approved lines.",
}
ROUND = {
    "name": "2027/28 round", "financial_year": "2027",
    "opens_on": ["1", "4", "2027"], "opens_time": "9:00",
    "closes_on": ["1", "12", "2027"], "closes_time": "5pm",
    "budget": "£40,000.00", "cap": "5,000", "eligible_organisation_types": ["csp"],
    "return_cadence": "quarterly", "guidance": "Read the criteria.",
}
CRITERIA = {
    "rows-0-title": "Evidence of need", "rows-0-guidance": "Local data.", "rows-0-weight": "60",
    "rows-1-title": "Value for money", "rows-1-guidance": "", "rows-1-weight": "40",
    "scale_min": "0", "scale_max": "5",
    "descriptors-0-text": "No evidence", "descriptors-1-text": "Poor",
    "descriptors-2-text": "Partial", "descriptors-3-text": "Satisfactory",
    "descriptors-4-text": "Good", "descriptors-5-text": "Strong",
}


@pytest.fixture
def manager(client):
    client.sign_in(MANAGER)
    return client


def fund_named(app, code):
    with app.app_context():
        return session.scalar(select(Fund).where(Fund.code == code))


def round_of(app, code):
    with app.app_context():
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == code))
        _ = round_.criteria  # load them while the session is open
        return round_


def criteria_of(app, round_id):
    with app.app_context():
        return [(c.title, c.weight) for c in session.scalars(
            select(Criterion).where(Criterion.round_id == round_id).order_by(Criterion.position))]


def events(app, action):
    with app.app_context():
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def count(app, model):
    with app.app_context():
        return session.scalar(select(func.count()).select_from(model))


def round_form(round_, **changes):
    return dict(ROUND, name=round_.name, **changes)


# --- the list ---------------------------------------------------------------------------------


def test_the_manager_sees_every_fund_with_its_rounds_budget_committed_and_remaining(app,
                                                                                    manager):
    with app.app_context():
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        round_.committed_pence = 1_250_00
        session.commit()
    page = text_of(manager.get("/manage/funds"))
    for text in ("Safer Communities Fund", "Youth Fund", "Putting Communities First fund",
                 "£30,000.00", "£1,250.00", "£28,750.00", "No limit"):
        assert text in page


def test_the_list_costs_the_same_queries_for_few_and_many_rounds(app, manager, count_queries):
    counts = []
    for extra in (0, 25):
        with app.app_context():
            fund = session.scalar(select(Fund).where(Fund.code == "YF"))
            for i in range(extra):
                session.add(Round(fund=fund, name=f"Extra {i}", financial_year=2030,
                                  opens_at=datetime(2030, 4, 1, tzinfo=UTC),
                                  closes_at=datetime(2030, 6, 1, tzinfo=UTC),
                                  budget_pence=100, committed_pence=0,
                                  eligible_organisation_types=["csp"],
                                  criteria=[Criterion(position=1, title="All", weight=100)]))
            session.commit()
        counts.append([])
        for url in ("/manage/funds", "/manage/"):
            with count_queries() as queries:
                assert manager.get(url).status_code == 200
            counts[-1].append(len(queries))
    assert counts[0] == counts[1], counts
    # The manager's home lists rounds a page at a time, newest first.
    home = manager.get("/manage/").get_data(as_text=True)
    assert "Showing 1 to 25 of" in home and 'rel="next"' in home


# --- funds ------------------------------------------------------------------------------------


def test_a_new_fund_is_created_with_its_terms_and_audited(app, manager):
    response = manager.submit("/manage/funds/new", dict(FUND, is_youth="y"))
    assert response.status_code == 302
    fund = fund_named(app, "RCF")
    assert fund.name == "Rural Crime Fund" and fund.is_youth and not fund.allows_multi_year
    assert fund.terms == "Spend the grant on the approved lines."
    assert response.headers["Location"] == f"/manage/funds/{fund.id}/rounds/new"
    [event] = events(app, "fund.created")
    assert event.record_id == str(fund.id) and event.after["code"] == "RCF"
    assert event.actor_label.endswith("<manager@example.org>")


def test_a_fund_and_its_terms_can_be_changed_and_the_change_is_audited(app, manager):
    fund = fund_named(app, "SCF")
    url = f"/manage/funds/{fund.id}/edit"
    page = manager.get(url).get_data(as_text=True)
    assert "The grant must be spent on the approved budget lines" in page  # today's terms
    data = {"name": fund.name, "code": "SCF", "purpose": fund.purpose, "payment_rule": "advance",
            "terms": "New terms: spend it by March."}
    assert manager.submit(url, data).status_code == 302
    assert fund_named(app, "SCF").terms == "New terms: spend it by March."
    [event] = events(app, "fund.updated")
    assert event.before["terms"].startswith("The grant must be spent")
    assert event.after["terms"] == "New terms: spend it by March."


@pytest.mark.parametrize("changes, message", [
    ({"code": "scf"}, "A fund with the code SCF already exists"),
    ({"name": "youth FUND"}, "A fund called “youth FUND” already exists"),
    ({"code": "S-1"}, "Short code must be 2 to 10 capital letters or numbers"),
])
def test_a_duplicate_or_malformed_fund_code_or_name_is_refused_beside_the_field(
        app, manager, changes, message):
    before = count(app, Fund)
    response = manager.submit("/manage/funds/new", dict(FUND, **changes))
    page = response.get_data(as_text=True)
    assert message in text_of(response)
    assert f'href="#{next(iter(changes))}"' in page  # the error summary links to the field
    assert count(app, Fund) == before and events(app, "fund.created") == []


def test_renaming_a_fund_to_another_funds_name_is_refused_and_changes_nothing(app, manager):
    fund = fund_named(app, "SCF")
    data = {"name": "Youth Fund", "code": "SCF", "purpose": fund.purpose,
            "payment_rule": "advance", "terms": fund.terms}
    response = manager.submit(f"/manage/funds/{fund.id}/edit", data)
    assert "A fund called “Youth Fund” already exists" in text_of(response)
    assert fund_named(app, "SCF").name == "Safer Communities Fund"


@pytest.mark.parametrize("data", [{}, {"name": "   ", "code": " ", "purpose": "\n",
                                       "payment_rule": "weekly", "terms": "  "}])
def test_empty_required_fund_fields_are_named(app, manager, data):
    page = text_of(manager.submit("/manage/funds/new", data))
    for message in ("Enter the name of the fund", "Enter a short code",
                    "Enter the purpose of the fund", "Select how grants are paid",
                    "Enter the terms and conditions of grant"):
        assert message in page
    assert "Not a valid choice" not in page and count(app, Fund) == 3


def test_a_funds_code_cannot_change_once_bids_have_references_using_it(app, manager):
    bidding.submitted_bid(app)
    fund = fund_named(app, "SCF")
    data = {"name": fund.name, "code": "SAFE", "purpose": fund.purpose,
            "payment_rule": "advance", "terms": fund.terms}
    response = manager.submit(f"/manage/funds/{fund.id}/edit", data)
    assert "The code cannot change: bids have references that start with SCF" in text_of(response)
    assert fund_named(app, "SAFE") is None


def test_a_fund_cannot_become_a_youth_fund_once_bids_have_been_started(app, manager):
    bidding.submitted_bid(app)
    fund = fund_named(app, "SCF")
    data = {"name": fund.name, "code": "SCF", "purpose": fund.purpose, "is_youth": "y",
            "payment_rule": "advance", "terms": fund.terms}
    response = manager.submit(f"/manage/funds/{fund.id}/edit", data)
    assert "Whether this is a youth fund cannot change once bids have been started" in \
        text_of(response)
    assert not fund_named(app, "SCF").is_youth


# --- rounds -----------------------------------------------------------------------------------


def test_a_new_round_is_stored_in_utc_from_uk_clock_times_and_audited(app, manager):
    fund = fund_named(app, "SCF")
    response = manager.submit(f"/manage/funds/{fund.id}/rounds/new", ROUND)
    assert response.status_code == 302
    with app.app_context():
        round_ = session.scalar(select(Round).where(Round.name == "2027/28 round"))
        assert round_.fund_id == fund.id and round_.financial_year == 2027
        # 9:00 British Summer Time is 8:00 UTC; 5pm in December (GMT) is 17:00 UTC.
        assert round_.opens_at == datetime(2027, 4, 1, 8, 0, tzinfo=UTC)
        assert round_.closes_at == datetime(2027, 12, 1, 17, 0, tzinfo=UTC)
        assert (round_.budget_pence, round_.cap_pence) == (40_000_00, 5_000_00)
        assert round_.eligible_organisation_types == ["csp"]
        assert round_.return_cadence == "quarterly" and round_.guidance == "Read the criteria."
        round_id = round_.id
    assert response.headers["Location"] == f"/manage/rounds/{round_id}/criteria/edit"
    [event] = events(app, "round.created")
    assert event.record_id == str(round_id) and event.after["budget_pence"] == 40_000_00


def test_the_round_form_shows_saved_times_in_uk_time(app, manager):
    fund = fund_named(app, "SCF")
    manager.submit(f"/manage/funds/{fund.id}/rounds/new", ROUND)
    with app.app_context():
        round_id = session.scalar(select(Round.id).where(Round.name == "2027/28 round"))
    page = manager.get(f"/manage/rounds/{round_id}/edit").get_data(as_text=True)
    assert 'value="09:00"' in page and 'value="17:00"' in page
    assert 'value="40,000.00"' in page and 'value="5,000.00"' in page


def test_a_round_may_have_no_cap_per_bid(app, manager):
    fund = fund_named(app, "SCF")
    response = manager.submit(f"/manage/funds/{fund.id}/rounds/new", dict(ROUND, cap=""))
    assert response.status_code == 302
    with app.app_context():
        assert session.scalar(select(Round.cap_pence).where(Round.name == "2027/28 round")) is None


def test_a_round_can_be_changed_and_the_change_is_audited(app, manager):
    round_ = round_of(app, "SCF")
    response = manager.submit(f"/manage/rounds/{round_.id}/edit",
                              round_form(round_, budget="35,000", cap=""))
    assert response.status_code == 302
    changed = round_of(app, "SCF")
    assert changed.budget_pence == 35_000_00 and changed.cap_pence is None
    [event] = events(app, "round.updated")
    assert event.before["budget_pence"] == 30_000_00 and event.after["budget_pence"] == 35_000_00
    assert event.before["cap_pence"] == 5_000_00 and event.after["cap_pence"] is None


@pytest.mark.parametrize("typed", ["5000", "5,000", "£5,000.00"])
def test_money_typed_in_every_usual_way_is_accepted(app, manager, typed):
    round_ = round_of(app, "SCF")
    response = manager.submit(f"/manage/rounds/{round_.id}/edit",
                              round_form(round_, budget=typed, cap=typed))
    assert response.status_code == 302, text_of(response)[:800]
    assert round_of(app, "SCF").budget_pence == 5_000_00


@pytest.mark.parametrize("field", ["budget", "cap"])
@pytest.mark.parametrize("typed, message", [
    ("-100", "Amount must be £0 or more"),
    ("100.505", "Amount must not have more than 2 decimal places"),
    ("a lot", "Enter an amount in pounds"),
])
def test_bad_money_is_refused_beside_the_field_and_kept(app, manager, field, typed, message):
    round_ = round_of(app, "SCF")
    response = manager.submit(f"/manage/rounds/{round_.id}/edit",
                              round_form(round_, **{field: typed}))
    page = response.get_data(as_text=True)
    assert message in text_of(response)
    assert f'href="#{field}"' in page and f'value="{typed}"' in page
    assert round_of(app, "SCF").budget_pence == 30_000_00
    assert events(app, "round.updated") == []


@pytest.mark.parametrize("closes_on, closes_time", [
    (["31", "3", "2027"], "17:00"),  # the day before it opens
    (["1", "4", "2027"], "9:00"),  # the moment it opens
])
def test_closing_before_opening_is_refused(app, manager, closes_on, closes_time):
    round_ = round_of(app, "SCF")
    response = manager.submit(f"/manage/rounds/{round_.id}/edit",
                              round_form(round_, closes_on=closes_on, closes_time=closes_time))
    assert "The round must close after it opens" in text_of(response)
    assert 'href="#closes_on"' in response.get_data(as_text=True)
    assert round_of(app, "SCF").closes_at == round_.closes_at


def test_a_cap_larger_than_the_budget_is_refused(app, manager):
    round_ = round_of(app, "SCF")
    response = manager.submit(f"/manage/rounds/{round_.id}/edit",
                              round_form(round_, budget="4,000", cap="5,000"))
    assert ("The most a bid can ask for (£5,000.00) cannot be more than the budget (£4,000.00)"
            in text_of(response))
    assert round_of(app, "SCF").budget_pence == 30_000_00


def test_a_cap_of_nothing_is_refused(app, manager):
    round_ = round_of(app, "SCF")
    response = manager.submit(f"/manage/rounds/{round_.id}/edit", round_form(round_, cap="0"))
    assert "The most a bid can ask for must be more than £0" in text_of(response)
    assert round_of(app, "SCF").cap_pence == 5_000_00


def test_the_budget_cannot_go_below_what_is_already_committed(app, manager):
    with app.app_context():
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        round_.committed_pence = 12_000_00
        session.commit()
    round_ = round_of(app, "SCF")
    response = manager.submit(f"/manage/rounds/{round_.id}/edit",
                              round_form(round_, budget="11,999.99", cap=""))
    assert ("The budget cannot be less than £12,000.00, the amount already committed"
            in text_of(response))
    assert 'href="#budget"' in response.get_data(as_text=True)
    assert round_of(app, "SCF").budget_pence == 30_000_00
    exactly = manager.submit(f"/manage/rounds/{round_.id}/edit",
                             round_form(round_, budget="12,000", cap=""))
    assert exactly.status_code == 302


def test_a_second_round_with_the_same_name_in_a_fund_is_refused(app, manager):
    round_ = round_of(app, "SCF")
    before = count(app, Round)
    response = manager.submit(f"/manage/funds/{round_.fund_id}/rounds/new",
                              dict(ROUND, name=round_.name.upper()))
    assert f"Safer Communities Fund already has a round called “{round_.name.upper()}”" in \
        text_of(response)
    assert count(app, Round) == before


def test_empty_required_round_fields_are_named(app, manager):
    fund = fund_named(app, "SCF")
    before = count(app, Round)
    page = text_of(manager.submit(f"/manage/funds/{fund.id}/rounds/new", {}))
    for message in ("Enter the name of the round", "Enter the financial year",
                    "Enter the opening date", "Enter the opening time", "Enter the closing date",
                    "Enter the closing time", "Enter the budget", "Select who can bid",
                    "Select how often returns are due"):
        assert message in page
    assert count(app, Round) == before


@pytest.mark.parametrize("changes, message", [
    ({"opens_on": ["31", "2", "2027"]}, "Opening date must be a real date"),
    ({"closes_on": ["", "12", "2027"]}, "Closing date must include a day, month and year"),
    ({"opens_time": "25:00"}, "Opening time must be a real time, like 9:00 or 17:00"),
    ({"closes_time": "teatime"}, "Closing time must be a real time"),
    ({"financial_year": "27/28"}, "Financial year must be a year like 2026"),
    ({"eligible_organisation_types": ["charities"]}, "Select who can bid"),
])
def test_impossible_dates_times_and_years_are_refused(app, manager, changes, message):
    round_ = round_of(app, "SCF")
    response = manager.submit(f"/manage/rounds/{round_.id}/edit", round_form(round_, **changes))
    assert message in text_of(response)
    assert events(app, "round.updated") == []


# --- criteria ---------------------------------------------------------------------------------


def test_the_criteria_page_shows_weights_and_the_default_scale(app, manager):
    round_ = round_of(app, "SCF")
    page = text_of(manager.get(f"/manage/rounds/{round_.id}/criteria"))
    for text in ("Evidence of need", "30%", "Value for money", "20%", "Total 100%",
                 "Scoring scale: 0 to 5", "0 No evidence", "1 Poor", "2 Partial",
                 "3 Satisfactory", "4 Good", "5 Strong", "Change criteria"):
        assert text in page


def test_criteria_can_be_replaced_reweighted_and_removed_and_the_change_is_audited(app,
                                                                                   manager):
    round_ = round_of(app, "SCF")
    kept_id = round_.criteria[0].id
    url = f"/manage/rounds/{round_.id}/criteria/edit"
    page = manager.get(url).get_data(as_text=True)
    assert 'value="Evidence of need"' in page and 'value="Strong"' in page
    response = manager.submit(url, CRITERIA)
    assert response.headers["Location"] == f"/manage/rounds/{round_.id}/criteria"
    assert criteria_of(app, round_.id) == [("Evidence of need", 60), ("Value for money", 40)]
    assert round_of(app, "SCF").criteria[0].id == kept_id
    [event] = events(app, "round.criteria_changed")
    assert [c["weight"] for c in event.before["criteria"]] == [30, 25, 25, 20]
    assert [c["weight"] for c in event.after["criteria"]] == [60, 40]


def test_a_new_round_gets_its_first_criteria_and_a_scale_of_its_own(app, manager):
    fund = fund_named(app, "SCF")
    manager.submit(f"/manage/funds/{fund.id}/rounds/new", ROUND)
    with app.app_context():
        round_id = session.scalar(select(Round.id).where(Round.name == "2027/28 round"))
    data = dict(CRITERIA, scale_min="1", scale_max="4", **{
        "descriptors-0-text": "Weak", "descriptors-1-text": "Fair",
        "descriptors-2-text": "Good", "descriptors-3-text": "Excellent",
        "descriptors-4-text": "", "descriptors-5-text": ""})
    assert manager.submit(f"/manage/rounds/{round_id}/criteria/edit", data).status_code == 302
    with app.app_context():
        criteria = list(session.scalars(select(Criterion).where(Criterion.round_id == round_id)))
        assert {(c.scale_min, c.scale_max) for c in criteria} == {(1, 4)}
        assert criteria[0].descriptors == {"1": "Weak", "2": "Fair", "3": "Good",
                                           "4": "Excellent"}


@pytest.mark.parametrize("weights, total", [(("60", "30"), 90), (("60", "50"), 110)])
def test_weights_that_do_not_add_up_to_100_are_refused_with_the_total(app, manager, weights,
                                                                      total):
    round_ = round_of(app, "SCF")
    data = dict(CRITERIA, **{"rows-0-weight": weights[0], "rows-1-weight": weights[1]})
    response = manager.submit(f"/manage/rounds/{round_.id}/criteria/edit", data)
    assert f"Weights must add up to 100. They add up to {total}." in text_of(response)
    assert 'href="#rows-0-weight"' in response.get_data(as_text=True)
    assert criteria_of(app, round_.id) == [("Evidence of need", 30),
                                           ("A swift, visible response", 25),
                                           ("Outcomes and measures", 25), ("Value for money", 20)]
    assert events(app, "round.criteria_changed") == []


@pytest.mark.parametrize("changes, message, field", [
    ({"rows-1-title": ""}, "Enter the criterion", "rows-1-title"),
    ({"rows-1-weight": ""}, "Enter the weight", "rows-1-weight"),
    ({"rows-1-weight": "forty"}, "Weight must be a whole number from 1 to 100", "rows-1-weight"),
    ({"rows-1-weight": "0"}, "Weight must be a whole number from 1 to 100", "rows-1-weight"),
    ({"rows-0-title": "", "rows-0-guidance": "", "rows-0-weight": "", "rows-1-title": "",
      "rows-1-weight": ""}, "Enter at least one criterion", "rows-0-title"),
    ({"descriptors-3-text": ""}, "Enter a descriptor for a score of 3", "descriptors-3-text"),
    ({"scale_max": "3"}, "Leave this blank: a scale from 0 to 3 has 4 scores",
     "descriptors-4-text"),
    ({"scale_max": "0"}, "Highest score must be a whole number from 1 to 10", "scale_max"),
    ({"scale_min": "3", "scale_max": "2"}, "The highest score must be more than the lowest",
     "scale_max"),
    ({"scale_max": "9"}, "A scale can have at most 6 scores", "scale_max"),
])
def test_bad_criteria_are_refused_beside_the_field(app, manager, changes, message, field):
    round_ = round_of(app, "SCF")
    response = manager.submit(f"/manage/rounds/{round_.id}/criteria/edit",
                              dict(CRITERIA, **changes))
    assert message in text_of(response)
    assert f'href="#{field}"' in response.get_data(as_text=True)
    assert len(criteria_of(app, round_.id)) == 4


def scored(app, round_, score):
    """An assessor's score (or a blank one) against the round's first criterion."""
    bid_id = bidding.submitted_bid(app)
    with app.app_context():
        assessor = accounts.get_user_by_email("assessor1@example.org")
        manager_user = accounts.get_user_by_email(MANAGER)
        assignment = Assignment(bid_id=bid_id, assessor_id=assessor.id,
                                assigned_by_id=manager_user.id)
        assignment.scores = [Score(criterion_id=round_.criteria[0].id, score=score)]
        session.add(assignment)
        session.commit()


def test_criteria_cannot_change_once_a_bid_has_been_scored(app, manager):
    round_ = round_of(app, "SCF")
    scored(app, round_, 4)
    page = text_of(manager.get(f"/manage/rounds/{round_.id}/criteria"))
    assert "These criteria cannot change: bids have already been scored against them." in page
    assert "Change criteria" not in page
    url = f"/manage/rounds/{round_.id}/criteria/edit"
    refused = manager.get(url, follow_redirects=True)
    assert "The criteria cannot change: bids have already been scored" in text_of(refused)
    token = manager.csrf_token(f"/manage/rounds/{round_.id}/edit")
    response = manager.post(url, data=dict(CRITERIA, csrf_token=token), follow_redirects=True)
    assert "The criteria cannot change" in text_of(response)
    assert len(criteria_of(app, round_.id)) == 4
    assert events(app, "round.criteria_changed") == []


def test_the_service_refuses_scored_criteria_whichever_way_it_is_called(app):
    from portal.services import DomainError, setup

    round_ = round_of(app, "SCF")
    scored(app, round_, 0)  # a score of 0 is still a score
    with app.test_request_context():
        actor = accounts.get_user_by_email(MANAGER)
        live = session.get(Round, round_.id)
        with pytest.raises(DomainError, match="bids have already been scored"):
            setup.replace_criteria(live, [setup.CriterionDetails("All", "", 100)],
                                   setup.scale_of(live), actor)


def test_a_blank_score_does_not_lock_the_criteria(app, manager):
    round_ = round_of(app, "SCF")
    scored(app, round_, None)
    data = dict(CRITERIA, **{"rows-0-title": "Need", "rows-0-weight": "100",
                             "rows-1-title": "", "rows-1-weight": ""})
    assert manager.submit(f"/manage/rounds/{round_.id}/criteria/edit", data).status_code == 302
    assert criteria_of(app, round_.id) == [("Need", 100)]


# --- forged forms, unknown ids, other roles -----------------------------------------------------


def post_urls(app):
    fund_id, round_id = fund_named(app, "SCF").id, round_of(app, "SCF").id
    return {
        "/manage/funds/new": FUND,
        f"/manage/funds/{fund_id}/edit": dict(FUND, code="SCF", name="Safer Communities Fund"),
        f"/manage/funds/{fund_id}/rounds/new": ROUND,
        f"/manage/rounds/{round_id}/edit": ROUND,
        f"/manage/rounds/{round_id}/criteria/edit": CRITERIA,
    }


def test_forged_forms_are_refused_and_change_nothing(app, manager):
    before = (count(app, Fund), count(app, Round), count(app, AuditEvent))
    for url, data in post_urls(app).items():
        response = manager.post(url, data=data)
        assert response.status_code == 400, url
        assert "The form you used has expired" in text_of(response)
    assert (count(app, Fund), count(app, Round), count(app, AuditEvent)) == before
    assert fund_named(app, "SCF").terms.startswith("The grant must be spent")


@pytest.mark.parametrize("url", [
    "/manage/funds/9999/edit", "/manage/funds/9999/rounds/new", "/manage/rounds/9999/edit",
    "/manage/rounds/9999/criteria", "/manage/rounds/9999/criteria/edit",
])
def test_unknown_ids_are_404(manager, url):
    assert manager.get(url).status_code == 404
    if url.endswith("/edit") or url.endswith("/new"):
        token = manager.csrf_token("/manage/funds/new")
        assert manager.post(url, data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("email", ["officer.fenland@example.org", "assessor1@example.org",
                                   "finance@example.org", "admin@example.org"])
def test_only_the_grants_manager_may_set_up_funds_and_rounds(app, client, email):
    urls = post_urls(app)
    client.sign_in(email)
    token = client.csrf_token("/privacy")  # the sign-out form's: a valid token for this user
    before = count(app, AuditEvent)
    views = ["/manage/funds", f"/manage/rounds/{round_of(app, 'SCF').id}/criteria"]
    for url in [*views, *urls]:
        assert client.get(url).status_code == 403, url
    for url, data in urls.items():
        assert client.post(url, data=dict(data, csrf_token=token)).status_code == 403, url
    assert count(app, Fund) == 3 and count(app, AuditEvent) == before


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/manage/funds")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


# --- assessments needed before a decision -------------------------------------------------------


def test_a_round_needs_every_assigned_assessor_unless_it_says_how_many(app, manager):
    fund = fund_named(app, "SCF")
    manager.submit(f"/manage/funds/{fund.id}/rounds/new", ROUND)
    with app.app_context():
        round_id = session.scalar(select(Round.id).where(Round.name == "2027/28 round"))
        assert session.get(Round, round_id).required_assessments is None
    url = f"/manage/rounds/{round_id}/edit"
    assert "Assessments needed before a decision" in text_of(manager.get(url))
    round_ = round_of(app, "SCF")
    changed = manager.submit(url, dict(ROUND, required_assessments="2"))
    assert changed.status_code == 302
    with app.app_context():
        assert session.get(Round, round_id).required_assessments == 2
    [event] = [e for e in events(app, "round.updated") if e.record_id == str(round_id)]
    assert (event.before["required_assessments"], event.after["required_assessments"]) == (
        None, 2)
    assert 'value="2"' in manager.get(url).get_data(as_text=True)
    assert manager.submit(url, dict(ROUND, required_assessments="")).status_code == 302
    with app.app_context():
        assert session.get(Round, round_id).required_assessments is None
    assert round_.required_assessments is None  # the SCF round was never touched


@pytest.mark.parametrize("typed", ["0", "-1", "two", "1.5", "21"])
def test_assessments_needed_must_be_a_whole_number_from_1(app, manager, typed):
    round_ = round_of(app, "SCF")
    url = f"/manage/rounds/{round_.id}/edit"
    before = events(app, "round.updated")
    response = manager.submit(url, round_form(round_, required_assessments=typed))
    assert response.status_code == 200
    assert ("Assessments needed must be a whole number from 1 to 20, or blank for every "
            "assigned assessor") in text_of(response)
    assert round_of(app, "SCF").required_assessments is None
    assert events(app, "round.updated") == before


def test_the_service_refuses_an_impossible_number_of_assessments_needed(app):
    from portal.services import setup

    with app.test_request_context():
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        details = setup.RoundDetails(
            name=round_.name, financial_year=round_.financial_year,
            opens_on=setup.uk_date_and_time(round_.opens_at)[0],
            opens_time=setup.uk_date_and_time(round_.opens_at)[1],
            closes_on=setup.uk_date_and_time(round_.closes_at)[0],
            closes_time=setup.uk_date_and_time(round_.closes_at)[1],
            budget_pence=round_.budget_pence, cap_pence=round_.cap_pence,
            eligible_organisation_types=["csp"], return_cadence=round_.return_cadence,
            guidance="", required_assessments=0)
        with pytest.raises(setup.DomainError, match="whole number from 1"):
            setup.update_round(round_, details, accounts.get_user_by_email(MANAGER))
        session.expire_all()
        assert session.get(Round, round_.id).required_assessments is None


# --- criteria saved again and again -------------------------------------------------------------


def criteria_rows(*rows):
    """The criteria form with ``rows`` of (title, weight), the rest blank."""
    data = {key: value for key, value in CRITERIA.items() if not key.startswith("rows-")}
    for index in range(8):
        title, weight = rows[index] if index < len(rows) else ("", "")
        data[f"rows-{index}-title"] = title
        data[f"rows-{index}-guidance"] = f"How to judge {title}" if title else ""
        data[f"rows-{index}-weight"] = str(weight)
    return data


def test_criteria_save_any_number_of_times_longer_shorter_and_reordered(app, manager):
    round_ = round_of(app, "SCF")
    url = f"/manage/rounds/{round_.id}/criteria/edit"
    saves = [
        [("Need", 40), ("Delivery", 30), ("Value", 20), ("Reach", 10)],  # as many as before
        [("Value", 50), ("Need", 50)],  # shorter and reordered
        [("Reach", 10), ("Need", 30), ("Value", 20), ("Delivery", 25), ("Legacy", 15)],
        [("Legacy", 100)],  # one left
        [("Need", 20), ("Legacy", 20), ("Value", 20), ("Delivery", 20), ("Reach", 10),
         ("Safety", 5), ("Partners", 5)],  # longer than ever
    ]
    for rows in saves:
        response = manager.submit(url, criteria_rows(*rows))
        assert response.status_code == 302, text_of(response)
        assert criteria_of(app, round_.id) == [(title, weight) for title, weight in rows]
    with app.app_context():
        positions = session.scalars(select(Criterion.position).where(
            Criterion.round_id == round_.id).order_by(Criterion.position)).all()
        assert positions == list(range(1, len(saves[-1]) + 1))
    assert len(events(app, "round.criteria_changed")) == len(saves)
    page = text_of(manager.get(f"/manage/rounds/{round_.id}/criteria"))
    assert "Partners" in page and "Total 100%" in page


# --- where the criteria form shows a refusal -------------------------------------------------
# Totals and "enter one" go beside the first criterion actually typed (not a blank first row), a
# descriptor's beside its own box.

SCALE = {key: value for key, value in CRITERIA.items() if not key.startswith("rows-")}


def scf_round_id(app) -> int:
    with app.app_context():
        return session.scalar(select(Round.id).join(Fund).where(Fund.code == "SCF"))


def test_a_weight_total_is_refused_beside_the_first_criterion_typed(app, manager):
    """Row 0 left blank: the total goes beside row 1's weight, the first one typed."""
    data = dict(SCALE, **{"rows-0-title": "", "rows-0-guidance": "", "rows-0-weight": "",
                          "rows-1-title": "Evidence of need", "rows-1-weight": "60",
                          "rows-2-title": "Value for money", "rows-2-weight": "30"})
    response = manager.submit(f"/manage/rounds/{scf_round_id(app)}/criteria/edit", data)
    assert "Weights must add up to 100. They add up to 90." in text_of(response)
    html = response.get_data(as_text=True)
    assert 'href="#rows-1-weight"' in html
    assert 'href="#rows-0-weight"' not in html


def test_a_descriptor_past_the_top_score_is_refused_beside_its_own_box(app, manager):
    data = dict(SCALE, **{"rows-0-title": "Evidence of need", "rows-0-weight": "100",
                          "scale_max": "2"})
    response = manager.submit(f"/manage/rounds/{scf_round_id(app)}/criteria/edit", data)
    assert "Leave this blank: a scale from 0 to 2 has 3 scores" in text_of(response)
    assert 'href="#descriptors-3-text"' in response.get_data(as_text=True)


# --- funds of direct awards (issue 14) ---------------------------------------------------------


def test_a_fund_of_direct_awards_is_set_up_through_the_forms_and_never_offered_to_bidders(
        app, manager):
    assert manager.submit("/manage/funds/new",
                          dict(FUND, code="DAF", name="Direct agreements", direct="y"),
                          ).status_code == 302
    fund = fund_named(app, "DAF")
    assert fund.direct
    [event] = events(app, "fund.created")
    assert event.after["direct"] is True
    response = manager.submit(f"/manage/funds/{fund.id}/rounds/new",
                              dict(ROUND, name="2027/28 budget"))
    assert response.status_code == 302, text_of(response)[:400]
    budgets = text_of(manager.get("/manage/direct-awards"))
    assert "Direct agreements" in budgets and "2027/28 budget" in budgets
    # Its kind cannot change once it has a budget: the bids and awards depend on it.
    data = {"name": fund.name, "code": "DAF", "purpose": fund.purpose,
            "payment_rule": "arrears", "terms": fund.terms}
    page = text_of(manager.submit(f"/manage/funds/{fund.id}/edit", data))
    assert "cannot change once it has rounds or budgets" in page
    assert fund_named(app, "DAF").direct
    officer = signed_in(app, "officer.fenland@example.org")
    assert "2027/28 budget" not in text_of(officer.get("/rounds/"))
    budget = session_round(app, "2027/28 budget")
    assert officer.get(f"/rounds/{budget}").status_code == 404


def session_round(app, name: str) -> int:
    with app.app_context():
        return session.scalar(select(Round.id).where(Round.name == name))


def test_the_funds_list_calls_a_direct_funds_rounds_budgets_for_direct_awards(app, manager):
    """A direct fund's round is never open to bids: the list does not call it open."""
    result = app.test_cli_runner().invoke(args=["demo-data"])  # the seeds' agreements too
    assert result.exit_code == 0, result.output
    page = text_of(manager.get("/manage/funds"))
    assert "Community safety partnership agreements" in page and "Direct awards" in page


def test_a_fund_with_a_round_over_several_years_keeps_allowing_them(app, manager):
    """The attack on issue 14: unticking the box left a three-year round whose form no
    longer showed its years, and could not be saved."""
    fund = fund_named(app, "PCF")
    with app.app_context():
        round_ = session.scalar(select(Round).where(Round.fund_id == fund.id))
        round_.years = 3  # as the round form makes it (years and their budgets aside)
        session.commit()
    data = {"name": fund.name, "code": "PCF", "purpose": fund.purpose,
            "payment_rule": fund.payment_rule.value, "terms": fund.terms}
    page = text_of(manager.submit(f"/manage/funds/{fund.id}/edit", data))
    assert "while a round of the fund funds more than one" in page
    assert fund_named(app, "PCF").allows_multi_year
