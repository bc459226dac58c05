"""Assessing by sections (issue 15, point 5): each criterion names the application form's
sections it scores, the grants manager sets them with the criteria, and the assessor sees those
sections' answers beside the criterion's score, from the bid's own form version, with the
sections its answers hide left out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal import questions
from portal.db import session
from portal.models import (
    Assignment,
    AuditEvent,
    Bid,
    BidSection,
    Criterion,
    FormKind,
    FormVersion,
    Fund,
    Round,
    SectionStatus,
)
from portal.services import DomainError, accounts, form_versions, setup
from tests import bidding
from tests.helpers import signed_in, table_row_counts, text_of

MANAGER = "manager@example.org"
ASSESSOR = "assessor1@example.org"

CRITERIA = {
    "rows-0-title": "Evidence of need", "rows-0-guidance": "Local data.", "rows-0-weight": "60",
    "rows-0-sections": ["problem"],
    "rows-1-title": "Delivery", "rows-1-guidance": "", "rows-1-weight": "40",
    "rows-1-sections": ["delivery", "budget"],
    "scale_min": "0", "scale_max": "5",
    "descriptors-0-text": "No evidence", "descriptors-1-text": "Poor",
    "descriptors-2-text": "Partial", "descriptors-3-text": "Satisfactory",
    "descriptors-4-text": "Good", "descriptors-5-text": "Strong",
}

YOUNG = "Will the project work with young people?"
SAFE = "How will you keep them safe?"


@pytest.fixture
def manager(app):
    return signed_in(app, MANAGER)


def scf_round(app) -> Round:
    with app.app_context():
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        _ = round_.criteria
        return round_


def criteria_of(app, round_id) -> list[tuple[str, int, list[str]]]:
    with app.app_context():
        return [(c.title, c.weight, list(c.sections)) for c in session.scalars(
            select(Criterion).where(Criterion.round_id == round_id)
            .order_by(Criterion.position))]


def next_version(app) -> int:
    """The SCF round's next published version: its form with a yes/no question added to
    "What will be done" and a section shown only when the answer is yes."""
    with app.test_request_context():
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        current = form_versions.current(round_)
        definition = questions.read(current.definition).as_json()
        keys = [s["key"] for s in definition["sections"]]
        delivery = definition["sections"][keys.index("delivery")]
        delivery["questions"].append(
            {"key": "young_people_work", "type": "yes_no", "label": YOUNG, "hint": "",
             "required": False})
        definition["sections"].insert(keys.index("delivery") + 1, {
            "key": "safety", "title": "Keeping young people safe", "intro": "",
            "condition": {"question": "young_people_work", "value": "yes"},
            "questions": [{"key": "safety_plan", "type": "long_text", "label": SAFE,
                           "hint": "", "required": True, "limit": 500,
                           "limit_unit": "characters"}]})
        assert questions.problems(questions.read(definition)) == []
        now = datetime.now(UTC)
        version = FormVersion(kind=FormKind.APPLICATION, round_id=round_.id,
                              number=current.number + 1, definition=definition, revision=1,
                              in_use=True, published_at=now, created_at=now, updated_at=now)
        session.add(version)
        session.commit()
        return version.id


def bid_on(app, version_id: int | None, extra: dict[str, dict[str, Any]]) -> int:
    """A submitted SCF bid, answered on ``version_id`` (None: the version it started on),
    with ``extra`` answers merged into its sections (new sections added)."""
    bid_id = bidding.submitted_bid(app)
    with app.app_context():
        bid = session.get(Bid, bid_id)
        if version_id is not None:
            bid.form_version_id = version_id
        for key, answers in extra.items():
            section = session.get(BidSection, (bid_id, key))
            if section is None:
                session.add(BidSection(bid_id=bid_id, key=key, answers=answers,
                                       status=SectionStatus.COMPLETED, version=1))
            else:
                section.answers = {**section.answers, **answers}
        session.commit()
    return bid_id


def name_sections(app, named: dict[str, list[str]]) -> None:
    """Give the SCF round's criteria (by title) the sections they score."""
    with app.app_context():
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        for criterion in round_.criteria:
            criterion.sections = named.get(criterion.title, [])
        session.commit()


def assessor_page(app, manager, bid_id) -> BeautifulSoup:
    with app.app_context():
        assessor_id = accounts.get_user_by_email(ASSESSOR).id
    manager.submit(f"/manage/bids/{bid_id}", {"assessor": str(assessor_id)})
    assessor = signed_in(app, ASSESSOR)
    with app.app_context():
        number = session.scalar(select(Assignment.id).where(
            Assignment.bid_id == bid_id, Assignment.assessor_id == assessor_id))
    assessor.submit(f"/assess/{number}/declaration", {"conflict": "no"})
    response = assessor.get(f"/assess/{number}")
    assert response.status_code == 200
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def beside(page: BeautifulSoup, title: str) -> str:
    """The text shown under a criterion's heading in the scoring form, up to the next one."""
    form = page.find("form", action=lambda a: a and a.startswith("/assess/")
                     and a.rstrip("/").split("/")[-1].isdigit())
    heading = next(h for h in form.find_all("h3") if h.get_text(" ").strip().startswith(title))
    parts = []
    for sibling in heading.find_next_siblings():
        if sibling.name == "h3":
            break
        parts.append(sibling.get_text(" "))
    return " ".join(" ".join(parts).split())


# --- setting the sections --------------------------------------------------------------------


def test_the_manager_names_the_sections_each_criterion_scores(app, manager):
    round_ = scf_round(app)
    url = f"/manage/rounds/{round_.id}/criteria/edit"
    page = manager.get(url).get_data(as_text=True)
    soup = BeautifulSoup(page, "html.parser")
    offered = [box["value"] for box in soup.find_all("input", {"name": "rows-0-sections"})]
    assert offered == ["about", "problem", "delivery", "outcomes", "budget", "declarations"]
    response = manager.submit(url, CRITERIA)
    assert response.status_code == 302, text_of(response)
    assert criteria_of(app, round_.id) == [("Evidence of need", 60, ["problem"]),
                                           ("Delivery", 40, ["delivery", "budget"])]
    shown = text_of(manager.get(f"/manage/rounds/{round_.id}/criteria"))
    assert "Evidence of need Local data. The problem and the evidence 60%" in shown
    assert "What will be done Budget 40%" in shown
    # Shown again ticked, and the change is in the round's history.
    soup = BeautifulSoup(manager.get(url).get_data(as_text=True), "html.parser")
    assert [b["value"] for b in soup.find_all("input", {"name": "rows-1-sections"})
            if b.has_attr("checked")] == ["delivery", "budget"]
    with app.app_context():
        event = session.scalar(select(AuditEvent).where(
            AuditEvent.action == "round.criteria_changed"))
        assert event.after["criteria"][1]["sections"] == ["delivery", "budget"]


def test_sections_are_kept_in_the_forms_order_once_each(app):
    round_ = scf_round(app)
    with app.test_request_context():
        round_ = session.get(Round, round_.id)
        manager = accounts.get_user_by_email(MANAGER)
        setup.replace_criteria(round_, [setup.CriterionDetails(
            "All", "", 100, ("budget", "about", "budget"))], setup.scale_of(round_), manager)
        assert round_.criteria[0].sections == ["about", "budget"]


def test_criteria_with_sections_save_again_and_again_longer_and_shorter(app, manager):
    round_ = scf_round(app)
    url = f"/manage/rounds/{round_.id}/criteria/edit"
    saves = [
        [("Need", 50, ["problem"]), ("Value", 50, ["budget"])],
        [("Need", 40, ["problem", "about"]), ("Value", 30, []), ("Delivery", 30, ["delivery"])],
        [("Delivery", 100, ["delivery", "outcomes"])],
        [("Need", 20, []), ("Delivery", 80, ["problem"])],
    ]
    for rows in saves:
        data = {k: v for k, v in CRITERIA.items() if not k.startswith("rows-")}
        for index, (title, weight, sections) in enumerate(rows):
            data.update({f"rows-{index}-title": title, f"rows-{index}-weight": str(weight),
                         f"rows-{index}-guidance": "", f"rows-{index}-sections": sections})
        response = manager.submit(url, data)
        assert response.status_code == 302, text_of(response)
        order = ["about", "problem", "delivery", "outcomes", "budget", "declarations"]
        assert criteria_of(app, round_.id) == [
            (t, w, sorted(s, key=order.index)) for t, w, s in rows]


@pytest.mark.parametrize("forged", ["nope", "youth", "problem\u202e", "../about"])
def test_a_section_the_form_does_not_have_is_refused_beside_the_field(app, manager, forged):
    round_ = scf_round(app)
    url = f"/manage/rounds/{round_.id}/criteria/edit"
    manager.get(url)  # the page as first shown (a round made without a form gets version 1)
    counts = table_row_counts(app)
    before = criteria_of(app, round_.id)
    response = manager.submit(url, {**CRITERIA, "rows-1-sections": ["delivery", forged]})
    assert response.status_code == 200
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    group = soup.find("input", {"name": "rows-1-sections"}).find_parent(
        class_="govuk-form-group")
    assert "govuk-form-group--error" in group["class"]
    assert group.find(class_="govuk-error-message")
    assert soup.find(class_="govuk-error-summary")
    assert table_row_counts(app) == counts
    assert criteria_of(app, round_.id) == before


def test_the_service_refuses_an_unknown_section_whatever_the_page_sent(app):
    round_ = scf_round(app)
    with app.test_request_context():
        round_ = session.get(Round, round_.id)
        manager = accounts.get_user_by_email(MANAGER)
        before = [(c.title, list(c.sections)) for c in round_.criteria]
        with pytest.raises(DomainError) as refused:
            setup.replace_criteria(round_, [
                setup.CriterionDetails("Need", "", 50, ("problem",)),
                setup.CriterionDetails("Value", "", 50, ("youth",))],
                setup.scale_of(round_), manager)
        assert refused.value.field == "sections-1"
        assert [(c.title, list(c.sections)) for c in round_.criteria] == before


def test_a_section_only_an_earlier_version_has_is_offered_and_says_so(app, manager):
    round_ = scf_round(app)
    with app.app_context():
        version = form_versions.current(session.get(Round, round_.id))
        definition = questions.read(version.definition).as_json()
    version_id = next_version(app)  # adds "safety": now current
    with app.app_context():  # a third version without it
        later = session.get(FormVersion, version_id)
        now = datetime.now(UTC)
        session.add(FormVersion(kind=FormKind.APPLICATION, round_id=round_.id,
                                number=later.number + 1, definition=definition, revision=1,
                                in_use=False, published_at=now, created_at=now,
                                updated_at=now))
        session.commit()
    soup = BeautifulSoup(manager.get(f"/manage/rounds/{round_.id}/criteria/edit")
                         .get_data(as_text=True), "html.parser")
    boxes = soup.find_all("input", {"name": "rows-0-sections"})
    assert [b["value"] for b in boxes][-1] == "safety"
    label = soup.find("label", {"for": boxes[-1]["id"]}).get_text(" ").strip()
    assert label == "Keeping young people safe (earlier versions of the form)"
    response = manager.submit(f"/manage/rounds/{round_.id}/criteria/edit",
                              {**CRITERIA, "rows-1-sections": ["safety"]})
    assert response.status_code == 302, text_of(response)


# --- what the assessor sees ------------------------------------------------------------------


def test_the_assessor_sees_the_named_sections_answers_beside_the_criterion(app, manager):
    version_id = next_version(app)
    bid_id = bid_on(app, version_id, {
        "delivery": {"young_people_work": "yes"},
        "safety": {"safety_plan": "Two DBS-checked youth workers at every session."}})
    name_sections(app, {"Evidence of need": ["problem"],
                        "A swift, visible response": ["delivery", "safety"]})
    page = assessor_page(app, manager, bid_id)
    swift = beside(page, "A swift, visible response")
    assert f"{YOUNG} Yes" in swift
    assert f"{SAFE} Two DBS-checked youth workers at every session." in swift
    assert "Keeping young people safe" in swift
    need = beside(page, "Evidence of need")
    assert "Fenland" not in need or "District" in need  # the problem section's answers
    assert "District" in need and SAFE not in need
    assert YOUNG not in beside(page, "Value for money")  # names no section: no answers


def test_a_section_its_answers_hide_is_not_shown_to_the_assessor(app, manager):
    version_id = next_version(app)
    bid_id = bid_on(app, version_id, {
        "delivery": {"young_people_work": "no"},
        # Left over from before the answer changed: hidden, so never shown.
        "safety": {"safety_plan": "Left over plan"}})
    name_sections(app, {"A swift, visible response": ["delivery", "safety"]})
    swift = beside(assessor_page(app, manager, bid_id), "A swift, visible response")
    assert f"{YOUNG} No" in swift
    assert "Left over plan" not in swift and SAFE not in swift


def test_the_assessor_sees_the_bids_own_version_not_the_rounds_current_one(app, manager):
    bid_id = bid_on(app, None, {})  # answered on version 1
    next_version(app)  # the round's form now asks more
    name_sections(app, {"A swift, visible response": ["delivery", "safety"]})
    swift = beside(assessor_page(app, manager, bid_id), "A swift, visible response")
    assert "What will be done?" in swift
    assert YOUNG not in swift and SAFE not in swift
