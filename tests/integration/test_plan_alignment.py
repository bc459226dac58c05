"""Bids, decisions and awards aligned to the Police and Crime Plan (issue 18, point 2): a bid
starts with its fund's default section and its officer chooses the sections it supports; the
grants manager lists the grant under one section when deciding (or making a direct award);
an id not offered is refused beside its field; a grant keeps its section when a new plan
comes into force."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import select

from portal.db import session, uk_today
from portal.models import AuditEvent, Award, Bid, Decision
from portal.services import DomainError, alignment, assessment, bids, decisions
from tests import bidding
from tests.alignment import make_plan, set_default
from tests.helpers import signed_in, table_row_counts, text_of
from tests.integration.test_direct_awards import make, make_budget, officer_agreement
from tests.integration.test_every_form_saves_twice import _bid, _user

OFFICER = bidding.OFFICER
OTHER_OFFICER = "officer.fenland@example.org"
MANAGER = "manager@example.org"
CHOOSE = "Select the sections of the Police and Crime Plan your bid supports"
NOT_OFFERED = "Select sections of the Police and Crime Plan from the list"
NOT_LISTED = "Select a section of the Police and Crime Plan from the list"


def _in_context(app: Flask, make_it: Any) -> Any:
    with app.test_request_context():
        made = make_it()
        session.commit()
    return made


def _plan(app: Flask, days_ago: int = 0, sections: Any = None, **kwargs: Any) -> dict[str, int]:
    on = uk_today() - timedelta(days=days_ago)
    return _in_context(app, lambda: make_plan(on, **({"sections": sections} if sections else {}),
                                              **kwargs))


def _chosen(app: Flask, bid_id: int) -> list[str]:
    with app.app_context():
        return [s.code for s in session.get(Bid, bid_id).plan_sections]


def _error_beside(response: Any, field: str) -> str:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    message = soup.find(id=f"{field}-error")
    return message.get_text(" ", strip=True) if message else ""


def _selected(response: Any, name: str) -> list[str]:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    select_ = soup.find("select", attrs={"name": name})
    return [o.get("value") for o in select_.find_all("option") if o.has_attr("selected")]


def _options(response: Any, name: str) -> list[str]:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    return [o.get("value") for o in soup.find("select", attrs={"name": name}).find_all("option")]


def _events(app: Flask, action: str, bid_id: int) -> list[AuditEvent]:
    with app.app_context():
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == action, AuditEvent.record_type == "bid",
            AuditEvent.record_id == str(bid_id)).order_by(AuditEvent.id)))


def _draft(app: Flask) -> int:
    return _in_context(app, lambda: _bid().id)


def _assessed(app: Flask, section_ids: list[int] | None = None) -> int:
    """A submitted, assessed bid, that chose ``section_ids`` while a draft."""

    def made() -> int:
        bid = _bid()
        if section_ids is not None:
            alignment.choose_sections(bid, section_ids, _user(OFFICER))
        bids.submit(bid, _user(OFFICER))
        assessor = _user("assessor1@example.org")
        assignment = assessment.assign(bid, assessor, _user(MANAGER))
        assessment.declare(assignment, False, "", assessor)
        return bid.id

    return _in_context(app, made)


def _approve(section: str | int | None, **changes: Any) -> dict[str, Any]:
    data = {"outcome": "approve", "amount": "1,000", "purpose": "Bike lights",
            "conditions": "", "reasons": "Safer roads for children", "feedback": "",
            "override_reason": "The panel met early"}
    if section is not None:
        data["plan_section"] = str(section)
    data.update(changes)
    return data


def _award_section(app: Flask, bid_id: int) -> int | None:
    with app.app_context():
        award = session.scalar(select(Award).where(Award.bid_id == bid_id))
        assert award is not None
        return award.plan_section_id


# --- the applicant chooses ------------------------------------------------------------------


def test_a_bid_starts_with_its_funds_default_section_and_the_task_list_says_so(app: Flask):
    ids = _plan(app)
    _in_context(app, lambda: set_default("SCF", ids["VIC"]))
    officer = signed_in(app, OFFICER)
    bid_id = bidding.start(officer, app)
    assert _chosen(app, bid_id) == ["VIC"]
    page = text_of(officer.get(f"/bids/{bid_id}"))
    assert "Sections of the Police and Crime Plan 1 section chosen" in page
    assert _events(app, "bid.created", bid_id)[0].after["plan_sections"] == ["VIC"]


def test_the_officer_chooses_several_sections_and_saves_again_with_other_choices(app: Flask):
    ids = _plan(app)
    _in_context(app, lambda: set_default("SCF", None))
    bid_id = _draft(app)
    officer = signed_in(app, OFFICER)
    assert "Sections of the Police and Crime Plan Not yet started" in text_of(
        officer.get(f"/bids/{bid_id}"))
    url = f"/bids/{bid_id}/plan"
    page = officer.get(url)
    assert page.status_code == 200 and CHOOSE in text_of(page)
    saved = officer.submit(url, {"plan_sections": [str(ids["PCF"]), str(ids["ROAD"])]})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/bids/{bid_id}")
    assert _chosen(app, bid_id) == ["PCF", "ROAD"]
    saved = officer.submit(url, {"plan_sections": [str(ids["VIC"])]})
    assert saved.status_code == 302
    assert _chosen(app, bid_id) == ["VIC"]
    events = _events(app, "bid.plan_sections_chosen", bid_id)
    assert [(e.before, e.after) for e in events] == [
        ({"plan_sections": []}, {"plan_sections": ["PCF", "ROAD"]}),
        ({"plan_sections": ["PCF", "ROAD"]}, {"plan_sections": ["VIC"]})]
    shown = officer.get(url)
    checked = BeautifulSoup(shown.get_data(as_text=True), "html.parser").select(
        "input[name=plan_sections][checked]")
    assert [box["value"] for box in checked] == [str(ids["VIC"])]
    answers = officer.get(f"/bids/{bid_id}/check-answers")
    assert "VIC – Supporting victims" in text_of(answers)
    assert f'href="/bids/{bid_id}/plan"' in answers.get_data(as_text=True)


def test_none_chosen_is_refused_while_the_plan_has_sections(app: Flask):
    ids = _plan(app)
    _in_context(app, lambda: set_default("SCF", ids["PCF"]))
    bid_id = _draft(app)
    officer = signed_in(app, OFFICER)
    before = table_row_counts(app)
    refused = officer.submit(f"/bids/{bid_id}/plan", {})
    assert refused.status_code == 200
    assert _error_beside(refused, "plan_sections").endswith(CHOOSE)
    assert table_row_counts(app) == before
    assert _chosen(app, bid_id) == ["PCF"]


def test_without_a_plan_there_is_nothing_to_choose_and_the_bid_can_still_be_sent(app: Flask):
    with app.app_context():
        if alignment.sections_for_bid(session.get(Bid, _draft(app))):
            return  # the demo data has a plan in force: covered by the tests above
    bid_id = _draft(app)
    officer = signed_in(app, OFFICER)
    assert "Police and Crime Plan" not in text_of(officer.get(f"/bids/{bid_id}"))
    assert "no Police and Crime Plan in force" in text_of(officer.get(f"/bids/{bid_id}/plan"))
    sent = officer.submit(f"/bids/{bid_id}/submit", {"submit": "Submit bid"},
                          form_url=f"/bids/{bid_id}/check-answers")
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/submitted")


def test_a_submitted_bid_keeps_its_sections_and_changes_nothing(app: Flask):
    ids = _plan(app)
    _in_context(app, lambda: set_default("SCF", ids["PCF"]))
    bid_id = _in_context(app, lambda: _bid(submit=True).id)
    officer = signed_in(app, OFFICER)
    shown = officer.get(f"/bids/{bid_id}/plan")
    assert shown.status_code == 302  # back to the bid: nothing to change
    assert "can no longer be changed" in text_of(officer.get(shown.headers["Location"]))
    answers = text_of(officer.get(f"/bids/{bid_id}/check-answers"))
    assert "PCF – Putting Communities First" in answers
    draft_id = _draft(app)  # a draft's form, its tokens valid, posted to the submitted bid
    before = table_row_counts(app)
    refused = officer.submit(f"/bids/{bid_id}/plan", {"plan_sections": [str(ids["VIC"])]},
                             form_url=f"/bids/{draft_id}/plan")
    assert refused.status_code == 200
    assert "can no longer be changed" in _error_beside(refused, "plan_sections")
    assert table_row_counts(app) == before
    assert _chosen(app, bid_id) == ["PCF"]


def test_someone_elses_bid_is_not_found(app: Flask):
    _plan(app)
    bid_id = _draft(app)
    other = signed_in(app, OTHER_OFFICER)
    assert other.get(f"/bids/{bid_id}/plan").status_code == 404
    assert other.submit(f"/bids/{bid_id}/plan", {"plan_sections": []},
                        form_url="/bids/").status_code == 404
    assert other.get("/bids/99999999/plan").status_code == 404


def test_section_ids_not_offered_are_refused_beside_the_boxes(app: Flask):
    old = _plan(app, days_ago=20, sections=(("OLD", "An older priority"),))
    ids = _plan(app)
    _in_context(app, lambda: set_default("SCF", ids["PCF"]))
    bid_id = _draft(app)
    officer = signed_in(app, OFFICER)
    for posted in (str(old["OLD"]), "99999999", "9" * 20, "abc", "１", "-1", ""):
        before = table_row_counts(app)
        refused = officer.submit(f"/bids/{bid_id}/plan",
                                 {"plan_sections": [str(ids["VIC"]), posted]})
        assert refused.status_code == 200, posted
        assert _error_beside(refused, "plan_sections"), posted
        assert table_row_counts(app) == before, posted
        assert _chosen(app, bid_id) == ["PCF"], posted


# --- the grants manager lists the grant under a section ---------------------------------------


def test_the_decision_proposes_the_bids_section_and_the_managers_choice_is_the_awards(app):
    ids = _plan(app)
    _in_context(app, lambda: set_default("SCF", ids["PCF"]))
    bid_id = _assessed(app, [ids["VIC"], ids["ROAD"]])
    manager = signed_in(app, MANAGER)
    shown = text_of(manager.get(f"/manage/bids/{bid_id}"))
    assert "VIC – Supporting victims" in shown and "ROAD – Safer roads" in shown
    url = f"/manage/bids/{bid_id}/decide"
    page = manager.get(url)
    assert _selected(page, "plan_section") == [str(ids["VIC"])]
    assert _options(page, "plan_section") == ["", str(ids["PCF"]), str(ids["VIC"]),
                                              str(ids["ROAD"])]
    decided = manager.submit(url, _approve(ids["ROAD"]))
    assert decided.status_code == 302, text_of(decided)
    assert _award_section(app, bid_id) == ids["ROAD"]
    assert _events(app, "decision.approved", bid_id)[0].after["plan_section"] == "ROAD"
    assert "ROAD – Safer roads" in text_of(manager.get(f"/manage/bids/{bid_id}"))


def test_a_bid_that_chose_nothing_is_proposed_the_funds_default_and_may_be_listed_under_none(
        app: Flask):
    ids = _plan(app)
    _in_context(app, lambda: set_default("SCF", None))
    bid_id = _assessed(app)
    _in_context(app, lambda: set_default("SCF", ids["ROAD"]))
    manager = signed_in(app, MANAGER)
    url = f"/manage/bids/{bid_id}/decide"
    assert _selected(manager.get(url), "plan_section") == [str(ids["ROAD"])]
    decided = manager.submit(url, _approve(""))
    assert decided.status_code == 302, text_of(decided)
    assert _award_section(app, bid_id) is None


def test_section_ids_not_offered_at_decision_are_refused_beside_the_select(app: Flask):
    old = _plan(app, days_ago=20, sections=(("OLD", "An older priority"),))
    ids = _plan(app)
    _in_context(app, lambda: set_default("SCF", ids["PCF"]))
    bid_id = _assessed(app)
    manager = signed_in(app, MANAGER)
    url = f"/manage/bids/{bid_id}/decide"
    for posted in (str(old["OLD"]), "99999999", "9" * 20, "abc", "٣"):
        before = table_row_counts(app)
        refused = manager.submit(url, _approve(posted))
        assert refused.status_code == 200, posted
        assert _error_beside(refused, "plan_section").endswith(NOT_LISTED), posted
        assert table_row_counts(app) == before, posted
    with app.app_context():
        assert session.scalar(select(Decision).where(Decision.bid_id == bid_id)) is None
        # The service refuses what the form let through (a forged call), beside the select.
        with app.test_request_context():
            bid = session.get(Bid, bid_id)
            try:
                decisions.approve(bid, 100000, purpose="p", conditions="", reasons="r",
                                  override_reason="early", plan_section_id=old["OLD"],
                                  actor=_user(MANAGER))
            except DomainError as refused:
                assert refused.field == "plan_section"
            else:
                raise AssertionError("a section of another plan was accepted")


def test_a_direct_award_is_proposed_the_funds_section_and_carries_the_one_chosen(app: Flask):
    ids = _plan(app)
    round_id = make_budget(app)
    _in_context(app, lambda: set_default("PCFD", ids["VIC"]))
    manager = signed_in(app, MANAGER)
    url = f"/manage/direct-awards/new/{round_id}"
    assert _selected(manager.get(url), "plan_section") == [str(ids["VIC"])]
    for posted in ("99999999", "9" * 20, "x"):
        refused = make(manager, round_id, officer_agreement(app, round_id, plan_section=posted))
        assert refused.status_code == 200
        assert _error_beside(refused, "plan_section").endswith(NOT_LISTED), posted
    checked = make(manager, round_id, officer_agreement(app, round_id,
                                                        plan_section=str(ids["ROAD"])),
                   confirm=False)
    assert "ROAD – Safer roads" in text_of(checked)
    made = make(manager, round_id, officer_agreement(app, round_id,
                                                     plan_section=str(ids["ROAD"])))
    assert made.status_code == 302, text_of(made)
    with app.app_context():
        award = session.scalar(select(Award).where(Award.round_id == round_id))
        assert award.plan_section_id == ids["ROAD"]
        assert [s.code for s in award.bid.plan_sections] == ["ROAD"]
        event = session.scalar(select(AuditEvent).where(
            AuditEvent.action == "decision.approved",
            AuditEvent.record_id == str(award.bid_id)))
        assert event.after["plan_section"] == "ROAD"


# --- a new plan ------------------------------------------------------------------------------


def test_a_grant_aligned_to_an_older_plan_keeps_its_section_after_a_new_plan(app: Flask):
    old = _plan(app, days_ago=30, sections=(("OLD", "An older priority"),
                                            ("KEPT", "Kept from before")))
    _in_context(app, lambda: set_default("SCF", old["OLD"]))
    granted = _assessed(app, [old["KEPT"]])
    waiting = _assessed(app, [old["KEPT"]])
    draft_id = _draft(app)  # starts with the fund's (older) default
    manager = signed_in(app, MANAGER)
    decided = manager.submit(f"/manage/bids/{granted}/decide", _approve(old["KEPT"]))
    assert decided.status_code == 302, text_of(decided)
    assert _award_section(app, granted) == old["KEPT"]

    new = _plan(app, sections=(("NEW", "A new priority"),), title="The new plan")
    assert _award_section(app, granted) == old["KEPT"]
    page = manager.get(f"/manage/bids/{waiting}/decide")
    assert _selected(page, "plan_section") == [str(old["KEPT"])]
    offered = _options(page, "plan_section")
    assert str(new["NEW"]) in offered and str(old["KEPT"]) in offered
    assert str(old["OLD"]) in offered  # the fund's default, still named by the fund
    decided = manager.submit(f"/manage/bids/{waiting}/decide", _approve(old["KEPT"]))
    assert decided.status_code == 302, text_of(decided)
    assert _award_section(app, waiting) == old["KEPT"]

    officer = signed_in(app, OFFICER)
    choosing = officer.get(f"/bids/{draft_id}/plan")
    boxes = [box["value"] for box in BeautifulSoup(choosing.get_data(as_text=True),
                                                   "html.parser").select(
        "input[name=plan_sections]")]
    assert boxes == [str(new["NEW"]), str(old["OLD"])]
    assert "an earlier plan" in text_of(choosing)
    assert officer.submit(f"/bids/{draft_id}/plan",
                          {"plan_sections": [str(new["NEW"])]}).status_code == 302
    assert _chosen(app, draft_id) == ["NEW"]
    refused = officer.submit(f"/bids/{draft_id}/plan", {"plan_sections": [str(old["OLD"])]})
    assert _error_beside(refused, "plan_sections"), "an old section given up is not offered"
