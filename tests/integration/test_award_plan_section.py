"""The section of the Police and Crime Plan an existing award is listed under (issue 18
follow-up): on the grants manager's award page, a grant decided without a section is given
one, changed and cleared; saving what is saved records nothing; an id not offered (another
plan's, a missing one, one too large for the column, words) is refused beside the select and
changes no table; a section of an older plan the award has is offered and kept; only the
grants manager may change it; and the board's list then shows the grant under its section."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import select

from portal.db import session, uk_today
from portal.models import AuditEvent, Award, PlanSection
from portal.services import DomainError, alignment, decisions
from portal.services.policy import NotAllowed
from tests.alignment import make_plan
from tests.helpers import signed_in, table_row_counts
from tests.integration.test_every_form_saves_twice import _assessed_bid, _user

MANAGER = "manager@example.org"
OFFICER = "officer.southcambs@example.org"
FINANCE = "finance@example.org"
NOT_LISTED = "Select a section of the Police and Crime Plan from the list"
ACTION = "award.plan_section_changed"


def _award(app: Flask) -> int:
    """An approved award listed under no section (as every grant decided before issue 18)."""
    with app.test_request_context():
        bid, _ = _assessed_bid()
        decisions.approve(bid, bid.amount_requested_pence, purpose="Bike lights and repairs",
                          conditions="", reasons="Safer roads in winter", actor=_user(MANAGER))
        award = session.scalar(select(Award).where(Award.bid_id == bid.id))
        assert award.plan_section_id is None
        session.commit()
        return award.id


def _plan(app: Flask, days_ago: int = 0) -> dict[str, int]:
    """A plan in force from ``days_ago`` days ago (today's by default: the demo's becomes an
    older plan)."""
    with app.app_context():
        ids = make_plan(uk_today() - timedelta(days=days_ago))
        session.commit()
        return ids


def _section_of(app: Flask, award_id: int) -> int | None:
    with app.app_context():
        return session.get(Award, award_id).plan_section_id


def _events(app: Flask, award_id: int) -> list[tuple[Any, Any]]:
    with app.app_context():
        return [(e.before, e.after) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == ACTION,
                                     AuditEvent.record_type == "award",
                                     AuditEvent.record_id == str(award_id))
            .order_by(AuditEvent.id))]


def _error_beside(response: Any) -> str:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    message = soup.find(id="plan_section-error")
    return message.get_text(" ", strip=True) if message else ""


def _options(response: Any) -> tuple[list[str], list[str]]:
    """The select's options (values) and those selected."""
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    select_ = soup.find("select", attrs={"name": "plan_section"})
    options = select_.find_all("option")
    return ([o.get("value") for o in options],
            [o.get("value") for o in options if o.has_attr("selected")])


def _post(client: Any, award_id: int, value: str) -> Any:
    return client.submit(f"/manage/awards/{award_id}/plan-section", {"plan_section": value},
                         form_url=f"/manage/awards/{award_id}")


def test_the_manager_gives_an_award_a_section_changes_it_and_clears_it(app: Flask) -> None:
    award_id = _award(app)
    ids = _plan(app)
    manager = signed_in(app, MANAGER)
    page = manager.get(f"/manage/awards/{award_id}")
    offered, chosen = _options(page)
    assert offered == ["", str(ids["PCF"]), str(ids["VIC"]), str(ids["ROAD"])]
    assert chosen == [""]

    saved = _post(manager, award_id, str(ids["PCF"]))
    assert saved.status_code == 302, _error_beside(saved)
    assert _section_of(app, award_id) == ids["PCF"]
    assert _options(manager.get(f"/manage/awards/{award_id}"))[1] == [str(ids["PCF"])]
    _post(manager, award_id, str(ids["VIC"]))
    assert _section_of(app, award_id) == ids["VIC"]
    _post(manager, award_id, "")
    assert _section_of(app, award_id) is None
    assert _events(app, award_id) == [
        ({"plan_section": None}, {"plan_section": "PCF"}),
        ({"plan_section": "PCF"}, {"plan_section": "VIC"}),
        ({"plan_section": "VIC"}, {"plan_section": None})]
    history = manager.get(f"/manage/audit?record_type=award&record_id={award_id}")
    assert "Section of the Police and Crime Plan changed" in history.get_data(as_text=True)


def test_saving_the_section_it_has_records_nothing(app: Flask) -> None:
    award_id = _award(app)
    ids = _plan(app)
    manager = signed_in(app, MANAGER)
    _post(manager, award_id, str(ids["ROAD"]))
    counts = table_row_counts(app)
    again = _post(manager, award_id, str(ids["ROAD"]))
    assert again.status_code == 302
    assert table_row_counts(app) == counts
    assert len(_events(app, award_id)) == 1
    # None saved as none: nothing either.
    other = _award(app)
    counts = table_row_counts(app)
    assert _post(manager, other, "").status_code == 302
    assert table_row_counts(app) == counts


@pytest.mark.parametrize("value", ["another plan", "missing", "9" * 20, "12345678901",
                                   "five", "-1"])
def test_an_id_not_offered_is_refused_beside_the_select(app: Flask, value: str) -> None:
    award_id = _award(app)
    ids = _plan(app)
    with app.app_context():  # a section of the demo's plan, now an older one
        older = session.scalar(select(PlanSection.id).where(PlanSection.id.not_in(
            list(ids.values()))).order_by(PlanSection.id.desc()))
        missing = (session.scalar(select(PlanSection.id).order_by(PlanSection.id.desc()))
                   or 0) + 1000
    posted = {"another plan": str(older), "missing": str(missing)}.get(value, value)
    manager = signed_in(app, MANAGER)
    manager.get(f"/manage/awards/{award_id}")
    counts = table_row_counts(app)
    refused = _post(manager, award_id, posted)
    assert refused.status_code == 200
    assert _error_beside(refused) == f"Error: {NOT_LISTED}"
    assert table_row_counts(app) == counts
    assert _section_of(app, award_id) is None


def test_the_service_refuses_another_plans_section_and_a_missing_one(app: Flask) -> None:
    award_id = _award(app)
    ids = _plan(app)
    with app.test_request_context():
        older = session.scalar(select(PlanSection.id).where(PlanSection.id.not_in(
            list(ids.values()))).order_by(PlanSection.id))
        award = session.get(Award, award_id)
        counts = table_row_counts(app)
        for section_id in (older, 2**31 - 1):
            with pytest.raises(DomainError) as refused:
                alignment.relist_award(award, section_id, _user(MANAGER))
            assert refused.value.field == "plan_section"
            assert refused.value.message == NOT_LISTED
        with pytest.raises(NotAllowed):
            alignment.relist_award(award, ids["PCF"], _user(OFFICER))
        session.rollback()
    assert table_row_counts(app) == counts


def test_an_older_plans_section_the_award_has_is_offered_and_kept(app: Flask) -> None:
    award_id = _award(app)
    old = _plan(app, days_ago=30)
    manager = signed_in(app, MANAGER)
    _post(manager, award_id, str(old["VIC"]))
    new = _plan(app)  # a new plan comes into force: the award keeps its section
    page = manager.get(f"/manage/awards/{award_id}")
    offered, chosen = _options(page)
    assert offered == ["", *(str(new[code]) for code in ("PCF", "VIC", "ROAD")), str(old["VIC"])]
    assert chosen == [str(old["VIC"])]
    assert "Police and Crime Plan from" in page.get_data(as_text=True)  # named with its plan
    counts = table_row_counts(app)
    assert _post(manager, award_id, str(old["VIC"])).status_code == 302  # saved as it is
    assert table_row_counts(app) == counts
    _post(manager, award_id, str(new["PCF"]))
    assert _section_of(app, award_id) == new["PCF"]
    # Once left, the older plan's section is no longer offered.
    assert str(old["VIC"]) not in _options(manager.get(f"/manage/awards/{award_id}"))[0]
    refused = _post(manager, award_id, str(old["VIC"]))
    assert _error_beside(refused) == f"Error: {NOT_LISTED}"
    assert _section_of(app, award_id) == new["PCF"]


@pytest.mark.parametrize("email", [OFFICER, FINANCE])
def test_only_the_grants_manager_may_change_it(app: Flask, email: str) -> None:
    award_id = _award(app)
    ids = _plan(app)
    client = signed_in(app, email)
    counts = table_row_counts(app)
    assert client.get(f"/manage/awards/{award_id}").status_code in (403, 404)
    response = client.post(f"/manage/awards/{award_id}/plan-section",
                           data={"plan_section": str(ids["PCF"])})
    assert response.status_code in (400, 403, 404)
    assert table_row_counts(app) == counts
    assert _section_of(app, award_id) is None


def test_the_boards_list_shows_the_award_under_its_new_section(app: Flask) -> None:
    award_id = _award(app)
    ids = _plan(app, days_ago=1)
    with app.app_context():
        award = session.get(Award, award_id)
        reference, year = award.bid.reference, award.round.financial_year
    manager = signed_in(app, MANAGER)

    def section_holding() -> str:
        page = manager.get(f"/reports/plan-list?year={year}")
        soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
        holding = [group.find("h2").get_text(" ", strip=True)
                   for group in soup.select("section.portal-print-group")
                   if reference in group.get_text(" ")]
        assert len(holding) == 1, holding
        return holding[0]

    assert section_holding() == "Not aligned to a section"
    _post(manager, award_id, str(ids["VIC"]))
    assert section_holding().startswith("VIC")
