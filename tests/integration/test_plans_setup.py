"""The grants manager keeps the Police and Crime Plan (issue 18): plans in force from a date,
their sections, and each fund's default section; bad input and refusals change nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.db import session, uk_today
from portal.models import AuditEvent, Award, Fund, Plan, PlanSection
from portal.services import accounts, plans, setup
from tests.helpers import table_row_counts, text_of

MANAGER = "manager@example.org"
OFFICER = "officer.southcambs@example.org"
SECTIONS = (("PCF", "Putting Communities First"), ("VAWG", "Tackling violence against women"),
            ("FAIR", "A fair justice system"))


@pytest.fixture
def manager(client):
    client.sign_in(MANAGER)
    return client


def make_plan(app, on: date, title: str = "", sections=SECTIONS) -> tuple[int, list[int]]:
    """A plan in force from ``on`` with ``sections``, made through the services."""
    with app.test_request_context():
        actor = accounts.get_user_by_email(MANAGER)
        plan = plans.create_plan(plans.PlanDetails(
            title or f"Police and Crime Plan from {on.isoformat()}", on.year, on.year + 2, on),
            actor)
        ids = [plans.add_section(plan, plans.SectionDetails(code, name), actor).id
               for code, name in sections]
        session.commit()
        return plan.id, ids


def plan_today(app) -> tuple[int, list[int]]:
    """A plan of our own in force today (UK date): from today, unless one starts today."""
    with app.app_context():
        taken = session.scalar(select(Plan.id).where(Plan.in_force_from == uk_today()))
    assert taken is None, "a plan already starts today"
    return make_plan(app, uk_today(), "Plan in force today")


def section_codes(app, plan_id) -> list[str]:
    with app.app_context():
        return [s.code for s in session.scalars(
            select(PlanSection).where(PlanSection.plan_id == plan_id)
            .order_by(PlanSection.position, PlanSection.id))]


def events(app, action):
    with app.app_context():
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def errors_beside(response, field: str) -> str:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    message = soup.find(id=f"{field}-error")
    return message.get_text(" ", strip=True) if message else ""


PLAN = {"title": "Police and Crime Plan 2081 to 2084", "title_cy": "",
        "first_year": "2081", "last_year": "2083", "in_force_from": ["1", "5", "2081"]}
SECTION = {"code": "PCF", "name": "Putting Communities First", "name_cy": ""}


# --- creating and listing -----------------------------------------------------------------


def test_the_manager_creates_a_plan_adds_sections_and_sees_it_listed(app, manager):
    response = manager.submit("/manage/plans/new", PLAN)
    assert response.status_code == 302, errors_beside(response, "title")
    with app.app_context():
        plan = session.scalar(select(Plan).where(Plan.title == PLAN["title"]))
        assert (plan.first_year, plan.last_year, plan.in_force_from) == (2081, 2083,
                                                                         date(2081, 5, 1))
    page_url = f"/manage/plans/{plan.id}"
    assert response.headers["Location"] == page_url
    for code, name in SECTIONS:
        added = manager.submit(f"{page_url}/sections/new", {"code": code, "name": name})
        assert added.status_code == 302, text_of(added)
    assert section_codes(app, plan.id) == ["PCF", "VAWG", "FAIR"]
    listed = text_of(manager.get("/manage/plans"))
    assert "Police and Crime Plan 2081 to 2084" in listed
    assert "2081/82 to 2083/84" in listed and "1 May 2081" in listed
    assert "Later: not yet in force" in listed
    assert "Tackling violence against women" in listed
    [created] = events(app, "plan.created")
    assert created.after["in_force_from"] == "2081-05-01" and created.record_id == str(plan.id)
    assert len(events(app, "plan.section_added")) == 3
    # The manager's home links to it.
    assert 'href="/manage/plans"' in manager.get("/manage/").get_data(as_text=True)


def test_a_new_plan_may_start_from_the_sections_of_the_plan_before(app, manager):
    first_id, _ids = make_plan(app, date(2086, 4, 1))
    response = manager.submit("/manage/plans/new", dict(
        PLAN, title="Next plan", first_year="2089", last_year="2091",
        in_force_from=["1", "4", "2089"], copy_sections="y"))
    assert response.status_code == 302
    with app.app_context():
        new = session.scalar(select(Plan).where(Plan.title == "Next plan"))
    assert section_codes(app, new.id) == ["PCF", "VAWG", "FAIR"]
    assert section_codes(app, first_id) == ["PCF", "VAWG", "FAIR"]  # the old plan keeps its


def test_the_plan_in_force_is_the_latest_on_or_before_the_day(app):
    first, _ = make_plan(app, date(2090, 4, 1), "First")
    second, _ = make_plan(app, date(2095, 4, 1), "Second")
    with app.app_context():
        earliest = session.scalar(select(Plan.in_force_from).order_by(Plan.in_force_from))
        assert plans.plan_in_force(earliest - timedelta(days=1)) is None
        assert plans.sections_in_force(earliest - timedelta(days=1)) == []
        before_first = plans.plan_in_force(date(2090, 3, 31))
        assert before_first is None or before_first.id not in (first, second)
        assert plans.plan_in_force(date(2090, 4, 1)).id == first
        assert plans.plan_in_force(date(2095, 3, 31)).id == first
        assert plans.plan_in_force(date(2095, 4, 1)).id == second  # the change date
        assert [s.code for s in plans.sections_in_force(date(2095, 4, 1))] == \
            ["PCF", "VAWG", "FAIR"]


def test_the_list_says_which_plan_is_in_force_today_and_which_are_earlier_or_later(app,
                                                                                   manager):
    now_id, _ = plan_today(app)
    make_plan(app, date(2001, 4, 1), "An old plan")
    make_plan(app, date(2097, 4, 1), "A plan to come")
    soup = BeautifulSoup(manager.get("/manage/plans").get_data(as_text=True), "html.parser")

    def state(title: str) -> str:
        heading = soup.find("h2", string=title)
        return heading.find_parent("section").find("strong", class_="govuk-tag").get_text()

    assert state("Plan in force today").strip() == "In force today"
    assert state("An old plan").strip() == "Earlier: replaced"
    assert state("A plan to come").strip() == "Later: not yet in force"


# --- refusals change nothing --------------------------------------------------------------


def test_two_plans_cannot_share_a_date_and_the_refusal_changes_nothing(app, manager):
    make_plan(app, date(2081, 5, 1), "Already there")
    before = table_row_counts(app)
    response = manager.submit("/manage/plans/new", PLAN)
    assert response.status_code == 200
    assert "“Already there” is already in force from that date" in errors_beside(
        response, "in_force_from")
    assert table_row_counts(app) == before


@pytest.mark.parametrize(("field", "value", "message"), [
    ("title", "", "Enter the title of the plan"),
    ("title", "   ", "Enter the title of the plan"),
    ("title", "x" * 201, "200 characters or fewer"),
    ("title", "Plan\x07", "hidden control characters"),
    ("title", "Plan\u202e", "hidden control characters"),
    ("title_cy", "c" * 201, "200 characters or fewer"),
    ("title_cy", "Cynllun\x1b", "hidden control characters"),
    ("first_year", "", "Enter the first financial year"),
    ("first_year", "１２３４", "must be a year from 2000 to 2100"),
    ("first_year", "1999", "must be a year from 2000 to 2100"),
    ("first_year", "20815", "must be a year from 2000 to 2100"),
    ("last_year", "2080", "cannot be before the first"),
    ("last_year", "2081\x00", "hidden control characters"),
    ("last_year", "2<b>", "must be a year from 2000 to 2100"),
    ("in_force_from", ["", "", ""], "Enter the date the plan is in force from"),
    ("in_force_from", ["31", "2", "2081"], "must be a real date"),
    ("in_force_from", ["1", "5", "1999"], "must be in 2000 to 2100"),
    ("in_force_from", ["1", "5", ""], "must include a day, month and year"),
])
def test_bad_input_on_every_plan_field_is_refused_beside_it(app, manager, field, value,
                                                             message):
    before = table_row_counts(app)
    response = manager.submit("/manage/plans/new", {**PLAN, field: value})
    assert response.status_code == 200
    assert message in errors_beside(response, field), text_of(response)
    assert table_row_counts(app) == before


def test_markup_in_a_title_is_kept_as_typed_and_shown_as_text(app, manager):
    response = manager.submit("/manage/plans/new",
                              {**PLAN, "title": "<script>alert(1)</script> Plan"})
    assert response.status_code == 302
    html = manager.get("/manage/plans").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Plan" in html


@pytest.mark.parametrize(("field", "value", "message"), [
    ("code", "", "Enter the section’s code"),
    ("code", "P C F", "1 to 20 letters, numbers or hyphens"),
    ("code", "<b>", "1 to 20 letters, numbers or hyphens"),
    ("code", "ÄBC", "1 to 20 letters, numbers or hyphens"),
    ("code", "A" * 21, "20 characters or fewer"),
    ("code", "PCF\x07", "hidden control characters"),
    ("code", "pcf", "already has a section with the code pcf"),  # another's, in any case
    ("name", "", "Enter the section’s name"),
    ("name", "n" * 201, "200 characters or fewer"),
    ("name", "Name\u202e", "hidden control characters"),
    ("name", "SAFER ROADS", "already has a section called"),  # another's, in any case
    ("name_cy", "w" * 201, "200 characters or fewer"),
    ("name_cy", "Enw\x0b", "hidden control characters"),
    ("name_cy", "safer roads", "already has a section called"),  # another's English
])
def test_bad_input_on_every_section_field_is_refused_beside_it(app, manager, field, value,
                                                                message):
    plan_id, _ = make_plan(app, date(2082, 4, 1),
                           sections=(("PCF", "Putting Communities First"),
                                     ("ROAD", "Safer roads")))
    before = table_row_counts(app)
    data = {"code": "NEW", "name": "A new section", "name_cy": "", field: value}
    response = manager.submit(f"/manage/plans/{plan_id}/sections/new", data)
    assert response.status_code == 200
    assert message in errors_beside(response, field), text_of(response)
    assert table_row_counts(app) == before


def test_a_section_is_changed_and_its_code_may_match_its_own_in_another_case(app, manager):
    plan_id, ids = make_plan(app, date(2083, 4, 1))
    url = f"/manage/plans/{plan_id}/sections/{ids[0]}"
    response = manager.submit(url, {"code": "pcf", "name": "Communities first",
                                    "name_cy": "Cymunedau’n gyntaf"})
    assert response.status_code == 302
    assert section_codes(app, plan_id) == ["pcf", "VAWG", "FAIR"]
    [changed] = events(app, "plan.section_changed")
    assert changed.before["code"] == "PCF" and changed.after["name_cy"] == "Cymunedau’n gyntaf"
    before = table_row_counts(app)
    clash = manager.submit(url, {"code": "VAWG", "name": "Communities first"})
    assert "already has a section with the code VAWG" in errors_beside(clash, "code")
    assert table_row_counts(app) == before


def test_a_section_moves_once_however_often_its_button_is_posted(app, manager):
    plan_id, ids = make_plan(app, date(2084, 4, 1))
    url = f"/manage/plans/{plan_id}/sections/move"
    for _ in range(2):  # a double click
        response = manager.submit(url, {"move": f"{ids[2]}:0"}, form_url=f"/manage/plans/{plan_id}")
        assert response.status_code == 302
    assert section_codes(app, plan_id) == ["FAIR", "PCF", "VAWG"]
    assert len(events(app, "plan.section_moved")) == 1
    before = table_row_counts(app)
    for forged in ("x:1", f"{ids[0]}:-1", f"{ids[0]}:１", "99999999999:0", ""):
        manager.submit(url, {"move": forged}, form_url=f"/manage/plans/{plan_id}")
    assert table_row_counts(app) == before


def test_a_section_in_use_cannot_be_removed_and_one_not_in_use_can(app, manager):
    plan_id, ids = plan_today(app)
    with app.app_context():
        session.scalar(select(Fund).where(Fund.code == "SCF")).plan_section_id = ids[0]
        session.commit()
    url = f"/manage/plans/{plan_id}/sections/{ids[0]}/remove"
    page = text_of(manager.get(url))
    assert "cannot be removed" in page and "1 fund" in page
    before = table_row_counts(app)
    refused = manager.submit(url, {"confirm": "yes"}, form_url=f"/manage/plans/{plan_id}")
    assert refused.status_code == 200
    assert "cannot be removed while it is in use (1 fund, 0 bids, 0 awards)" in \
        errors_beside(refused, "confirm")
    assert table_row_counts(app) == before
    removed = manager.submit(f"/manage/plans/{plan_id}/sections/{ids[1]}/remove",
                             {"confirm": "yes"})
    assert removed.status_code == 302
    assert section_codes(app, plan_id) == ["PCF", "FAIR"]
    [event] = events(app, "plan.section_removed")
    assert event.before["code"] == "VAWG"


def test_a_plans_date_cannot_change_once_an_award_is_listed_under_its_sections(app, manager):
    from tests.integration.test_direct_awards import make, make_budget, officer_agreement

    plan_id, ids = make_plan(app, date(2085, 4, 1))
    round_id = make_budget(app)
    assert make(manager, round_id, officer_agreement(app, round_id)).status_code == 302
    with app.app_context():
        award = session.scalar(select(Award).order_by(Award.id.desc()).limit(1))
        award.plan_section_id = ids[0]  # as the decision would list it
        session.commit()
    url = f"/manage/plans/{plan_id}"
    assert "cannot change: grants have been awarded" in text_of(manager.get(url))
    before = table_row_counts(app)
    refused = manager.submit(url, {**PLAN, "title": "Renamed", "first_year": "2085",
                                   "last_year": "2087", "in_force_from": ["2", "4", "2085"]})
    assert "The date cannot change" in errors_beside(refused, "in_force_from")
    assert table_row_counts(app) == before
    kept = manager.submit(url, {**PLAN, "title": "Renamed", "first_year": "2085",
                                "last_year": "2087", "in_force_from": ["1", "4", "2085"]})
    assert kept.status_code == 302  # the title may change


# --- the fund's default section ----------------------------------------------------------


def fund_form(app, code: str, **changes) -> dict:
    """The fund's form as it would be posted, the fund first given no section."""
    with app.app_context():
        fund = session.scalar(select(Fund).where(Fund.code == code))
        fund.plan_section_id = None
        session.commit()
        data = {"code": fund.code, "name": fund.name, "purpose": fund.purpose,
                "payment_rule": fund.payment_rule.value, "terms": fund.terms,
                "name_cy": fund.name_cy, "purpose_cy": fund.purpose_cy,
                "terms_cy": fund.terms_cy, "plan_section": ""}
        for box in ("is_youth", "allows_multi_year", "direct"):
            if getattr(fund, box):
                data[box] = "y"
        return {**data, **changes}, fund.id


def test_a_funds_default_section_is_chosen_from_the_plan_in_force_saved_and_shown(app,
                                                                                  manager):
    old_id, old_ids = make_plan(app, uk_today() - timedelta(days=1), "The old plan")
    plan_id, ids = plan_today(app)
    later_id, later_ids = make_plan(app, uk_today() + timedelta(days=30), "The next plan")
    data, fund_id = fund_form(app, "SCF")
    url = f"/manage/funds/{fund_id}/edit"
    offered = BeautifulSoup(manager.get(url).get_data(as_text=True), "html.parser")
    options = [o["value"] for o in offered.find(id="plan_section").find_all("option")]
    assert options == ["", *map(str, ids)]
    response = manager.submit(url, {**data, "plan_section": str(ids[1])})
    assert response.status_code == 302
    with app.app_context():
        assert session.get(Fund, fund_id).plan_section_id == ids[1]
    [event] = events(app, "fund.updated")
    assert event.after["plan_section"] == "VAWG Tackling violence against women"
    assert "plan_section" not in event.before
    shown = BeautifulSoup(manager.get(url).get_data(as_text=True), "html.parser")
    assert shown.find(id="plan_section").find("option", selected=True)["value"] == str(ids[1])
    # A section of another plan than today's is refused; none is allowed.
    for other in (old_ids[0], later_ids[0], 2**31, "x"):
        before = table_row_counts(app)
        refused = manager.submit(url, {**data, "plan_section": str(other)})
        assert refused.status_code == 200
        assert errors_beside(refused, "plan_section"), other
        assert table_row_counts(app) == before
    assert manager.submit(url, {**data, "plan_section": ""}).status_code == 302
    with app.app_context():
        assert session.get(Fund, fund_id).plan_section_id is None


def test_a_fund_keeps_its_section_of_an_older_plan_until_changed(app, manager):
    old_id, old_ids = make_plan(app, uk_today() - timedelta(days=1), "The old plan")
    data, fund_id = fund_form(app, "SCF")
    with app.app_context():
        session.get(Fund, fund_id).plan_section_id = old_ids[2]
        session.commit()
    plan_id, ids = plan_today(app)
    url = f"/manage/funds/{fund_id}/edit"
    offered = BeautifulSoup(manager.get(url).get_data(as_text=True), "html.parser")
    select_ = offered.find(id="plan_section")
    assert [o["value"] for o in select_.find_all("option")] == ["", *map(str, ids),
                                                                 str(old_ids[2])]
    assert select_.find("option", selected=True)["value"] == str(old_ids[2])
    saved = manager.submit(url, {**data, "name": "Safer Communities Fund (renamed)",
                                 "plan_section": str(old_ids[2])})
    assert saved.status_code == 302
    with app.app_context():
        assert session.get(Fund, fund_id).plan_section_id == old_ids[2]


def test_a_new_fund_is_created_with_its_default_section(app, manager):
    plan_id, ids = plan_today(app)
    response = manager.submit("/manage/funds/new", {
        "name": "Rural Crime Fund", "code": "RCF", "purpose": "Rural crime.",
        "payment_rule": "arrears", "terms": "Terms.", "plan_section": str(ids[0])})
    assert response.status_code == 302
    with app.app_context():
        fund = session.scalar(select(Fund).where(Fund.code == "RCF"))
        assert fund.plan_section_id == ids[0]
    [event] = [e for e in events(app, "fund.created") if e.record_id == str(fund.id)]
    assert event.after["plan_section"] == "PCF Putting Communities First"


# --- who may, and ids in addresses --------------------------------------------------------


def test_missing_other_plans_and_too_large_ids_are_not_found(app, manager):
    first, first_ids = make_plan(app, date(2087, 4, 1))
    second, second_ids = make_plan(app, date(2088, 4, 1))
    for url in ("/manage/plans/999999", "/manage/plans/2147483648",
                "/manage/plans/99999999999999999999",
                f"/manage/plans/{first}/sections/{second_ids[0]}",
                f"/manage/plans/{first}/sections/{second_ids[0]}/remove",
                f"/manage/plans/{first}/sections/2147483648",
                "/manage/plans/999999/sections/new"):
        assert manager.get(url).status_code == 404, url
    before = table_row_counts(app)
    response = manager.submit(f"/manage/plans/{first}/sections/{second_ids[0]}/remove",
                              {"confirm": "yes"}, form_url=f"/manage/plans/{first}")
    assert response.status_code == 404
    response = manager.submit(f"/manage/plans/{first}/sections/move",
                              {"move": f"{second_ids[0]}:2"}, form_url=f"/manage/plans/{first}")
    assert response.status_code == 302
    assert table_row_counts(app) == before


def test_only_the_grants_manager_may_keep_the_plan(app, client):
    plan_id, ids = make_plan(app, date(2089, 9, 1))
    urls = ["/manage/plans", "/manage/plans/new", f"/manage/plans/{plan_id}",
            f"/manage/plans/{plan_id}/sections/new",
            f"/manage/plans/{plan_id}/sections/{ids[0]}",
            f"/manage/plans/{plan_id}/sections/{ids[0]}/remove"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    client.sign_in(OFFICER)
    for url in urls:
        assert client.get(url).status_code == 403, url
    assert client.post(f"/manage/plans/{plan_id}/sections/move",
                       data={"move": f"{ids[0]}:2"}).status_code in (400, 403)


# --- two managers at once (committed writes) -------------------------------------------------


@pytest.fixture
def real_app(committed_app):
    return committed_app("plans")


def _manager():
    return accounts.get_user_by_email(MANAGER)


def test_managers_adding_one_code_in_several_cases_at_once_add_one_section(real_app):
    from tests.integration.test_welsh_name_races import race

    plan_id, _ = make_plan(real_app, date(2091, 4, 1), sections=())

    def add(code: str, name: str):
        def job() -> None:
            plans.add_section(session.get(Plan, plan_id), plans.SectionDetails(code, name),
                              _manager())
        return job

    variants = ["race", "RACE", "Race", "rAcE", "RaCe", "raCE"]
    outcomes = race(real_app, [add(code, f"Race {n}") for n, code in enumerate(variants)])
    assert outcomes.count("saved") == 1, outcomes
    outcomes = race(real_app, [add(f"N{n}", name) for n, name in
                               enumerate(["Same name", "SAME NAME", "same name", "Same Name"])])
    assert outcomes.count("saved") == 1, outcomes
    assert len(section_codes(real_app, plan_id)) == 2


def test_managers_giving_plans_one_date_at_once_make_one_plan(real_app):
    from tests.integration.test_welsh_name_races import race

    def create(number: int):
        def job() -> None:
            plans.create_plan(plans.PlanDetails(f"Raced plan {number}", 2092, 2094,
                                                date(2092, 4, 1)), _manager())
        return job

    outcomes = race(real_app, [create(n) for n in range(6)])
    assert outcomes.count("saved") == 1, outcomes


def test_a_section_removed_while_a_fund_chooses_it_ends_one_way_or_the_other(real_app):
    from tests.integration.test_welsh_name_races import race

    plan_id, ids = plan_today(real_app)
    with real_app.app_context():
        fund = session.scalar(select(Fund).where(Fund.code == "SCF"))
        fund.plan_section_id = None
        session.commit()
        fund_id = fund.id

    def choose() -> None:
        fund = session.get(Fund, fund_id)
        setup.update_fund(fund, setup_details(fund, ids[0]), _manager())

    def remove() -> None:
        plans.remove_section(session.get(PlanSection, ids[0]), _manager())

    race(real_app, [choose, remove])
    with real_app.app_context():
        chosen = session.get(Fund, fund_id).plan_section_id
        exists_ = session.get(PlanSection, ids[0]) is not None
    assert (chosen == ids[0] and exists_) or (chosen is None and not exists_), (chosen, exists_)


def setup_details(fund: Fund, section_id: int):
    return setup.FundDetails(
        code=fund.code, name=fund.name, purpose=fund.purpose, is_youth=fund.is_youth,
        allows_multi_year=fund.allows_multi_year, payment_rule=fund.payment_rule,
        terms=fund.terms, direct=fund.direct, name_cy=fund.name_cy,
        purpose_cy=fund.purpose_cy, terms_cy=fund.terms_cy, plan_section_id=section_id)


def _spare_section(app, code: str) -> int:
    """A section added to the plan in force today, used by nothing yet: its id."""
    with app.test_request_context():
        plan = plans.plan_in_force(uk_today())
        section = plans.add_section(plan, plans.SectionDetails(code, f"Spare {code}"),
                                    _manager())
        session.commit()
        return section.id


def _approve(bid_id: int, section_id: int):
    def job() -> None:
        from portal.models import Bid
        from portal.services import decisions

        decisions.approve(session.get(Bid, bid_id), 1000, purpose="Lights", conditions="",
                          reasons="Good value", actor=_manager(), override_reason="Raced",
                          plan_section_id=section_id)
    return job


def test_a_section_removed_while_a_grant_is_listed_under_it_ends_one_way_or_the_other(
        real_app):
    """A breaker's decision and removal at once ended in a deadlock or a foreign-key error
    (a 500 either way): the decision now holds the section and its plan."""
    from tests.bidding import submitted_bid
    from tests.integration.test_welsh_name_races import race

    for attempt in range(3):
        section_id = _spare_section(real_app, f"GONE{attempt}")
        bid_id = submitted_bid(real_app)

        def remove(section_id: int = section_id) -> None:
            plans.remove_section(session.get(PlanSection, section_id), _manager())

        outcomes = race(real_app, [_approve(bid_id, section_id), remove])
        with real_app.app_context():
            from portal.models import Award

            award = session.scalar(select(Award).where(Award.bid_id == bid_id))
            kept = session.get(PlanSection, section_id) is not None
        if award is not None:
            assert kept and award.plan_section_id == section_id, outcomes
        else:
            assert not kept and sorted(outcomes) == ["refused", "saved"], outcomes


def test_a_plans_date_moved_while_a_grant_is_listed_under_it_ends_one_way_or_the_other(
        real_app):
    """A breaker moved a plan's date past a grant decided under it at the same moment:
    the grant stood under a plan not yet in force, and the date was locked there."""
    from tests.bidding import submitted_bid
    from tests.integration.test_welsh_name_races import race

    yesterday = uk_today() - timedelta(days=1)
    plan_id, ids = make_plan(real_app, yesterday, title="Plan from yesterday")
    bid_id = submitted_bid(real_app)

    def move_date() -> None:
        plan = session.get(Plan, plan_id)
        plans.update_plan(plan, plans.PlanDetails(plan.title, plan.first_year, plan.last_year,
                                                  uk_today() + timedelta(days=30)), _manager())

    race(real_app, [_approve(bid_id, ids[0]), move_date])
    with real_app.app_context():
        from portal.models import Award

        award = session.scalar(select(Award).where(Award.bid_id == bid_id))
        in_force_from = session.get(Plan, plan_id).in_force_from
    if award is not None and award.plan_section_id == ids[0]:
        assert in_force_from == yesterday  # the move was refused
    else:
        assert in_force_from > uk_today()  # the decision was refused: not offered


def test_a_section_changed_while_it_is_removed_is_refused_in_words(real_app):
    """A breaker's edit racing the removal failed with a 500 (the section could not be
    refreshed)."""
    from tests.integration.test_welsh_name_races import race

    for attempt in range(3):
        section_id = _spare_section(real_app, f"EDIT{attempt}")

        def change(section_id: int = section_id, attempt: int = attempt) -> None:
            section = session.get(PlanSection, section_id)
            if section is None:  # removed before this request read it: a 404 page
                return
            plans.update_section(section, plans.SectionDetails(f"EDITED{attempt}",
                                                               "Changed"), _manager())

        def remove(section_id: int = section_id) -> None:
            plans.remove_section(session.get(PlanSection, section_id), _manager())

        race(real_app, [change, remove])  # each saved or refused in words, never an error


def test_a_plans_years_cannot_change_once_a_grant_is_listed_under_it(app, manager):
    from tests.bidding import submitted_bid

    plan_id, ids = plan_today(app)
    bid_id = submitted_bid(app)
    with app.test_request_context():
        from portal.models import Bid
        from portal.services import decisions

        decisions.approve(session.get(Bid, bid_id), 1000, purpose="Lights", conditions="",
                          reasons="Good value", actor=_manager(), override_reason="Test",
                          plan_section_id=ids[0])
        session.commit()
        plan = session.get(Plan, plan_id)
        before = table_row_counts(app)
        with pytest.raises(plans.DomainError) as refused:
            plans.update_plan(plan, plans.PlanDetails(plan.title, 2099, 2100,
                                                      plan.in_force_from), _manager())
        assert refused.value.field == "first_year"
        session.rollback()
    assert table_row_counts(app) == before


def test_a_plans_date_cannot_move_once_a_fund_or_bid_uses_its_sections(app, manager):
    """A breaker moved a plan whose section a fund and bids used to a later date; a bid was
    then decided under a plan not yet in force, and the date locked there."""
    plan_id, ids = plan_today(app)
    with app.test_request_context():
        fund = session.scalar(select(Fund).where(Fund.code == "SCF"))
        fund.plan_section_id = ids[0]
        session.commit()
        plan = session.get(Plan, plan_id)
        before = table_row_counts(app)
        with pytest.raises(plans.DomainError) as refused:
            plans.update_plan(plan, plans.PlanDetails(plan.title, plan.first_year,
                                                      plan.last_year,
                                                      uk_today() + timedelta(days=31)),
                              _manager())
        assert refused.value.field == "in_force_from"
        session.rollback()
    assert table_row_counts(app) == before


def test_the_boards_list_takes_no_plan_dated_after_the_year_as_the_years_plan(app):
    """A plan whose years cover a year but which comes into force after it is not that
    year's plan (a breaker's plan moved to 2028 took 2026/27's place on the list)."""
    from portal.services import plan_report, reporting

    year = uk_today().year + 30
    early, _ = make_plan(app, date(year, 4, 1), title="Early plan")
    late, late_ids = make_plan(app, date(year + 2, 5, 1), title="Late plan")
    with app.test_request_context():
        later = session.get(Plan, late)
        later.first_year = year  # covers the year, but in force only two years on
        session.commit()
        found = plan_report.plan_list(reporting.Filters(year=year, fund_id=None,
                                                        organisation_id=None))
        assert found.plan_title == "Early plan"
        assert late_ids[0] not in {group.section.id for group in found.groups}
