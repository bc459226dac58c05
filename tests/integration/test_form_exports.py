"""Answers in the exports (issue 15, point 7): the bids CSV and workbook have one column per
question of the forms the exported bids were answered on, named ``answer:<key>``, in words,
through the formula guard, at a cost that does not grow with the number of bids."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from portal import questions
from portal.db import session
from portal.models import Bid, BidSection, FormKind, FormVersion, Fund, Round, SectionStatus
from portal.services import form_versions
from tests import bidding
from tests.helpers import signed_in

MANAGER = "manager@example.org"
YOUNG = "Will the project work with young people?"
SAFE = "How will you keep them safe?"


@pytest.fixture
def manager(app):
    return signed_in(app, MANAGER)


def next_version(app) -> int:
    """The SCF round's next published version: its form with a yes/no question added to
    "What will be done" and a section shown only when the answer is yes."""
    with app.test_request_context():
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        current = form_versions.current(round_)
        definition = questions.read(current.definition).as_json()
        keys = [s["key"] for s in definition["sections"]]
        definition["sections"][keys.index("delivery")]["questions"].append(
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


def bid_on(app, version_id: int | None, extra: dict[str, dict[str, Any]],
           code: str = "SCF") -> tuple[int, str]:
    """A submitted bid answered on ``version_id`` (None: the one it started on), with
    ``extra`` answers merged into its sections as stored (new sections added); its id and
    reference."""
    bid_id = bidding.submitted_bid(app, code=code)
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
        return bid_id, bid.reference


def bids_csv(client, query: str = "") -> tuple[list[str], dict[str, dict[str, str]]]:
    response = client.get(f"/reports/export/bids.csv{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header, *rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    return header, {row[0]: dict(zip(header, row)) for row in rows}


FIXED = ["reference", "title", "partnership", "fund", "round", "financial_year", "status",
         "issue_types", "amount_requested_gbp", "match_funding_gbp", "start_date",
         "end_date", "submitted_at"]


def test_each_question_has_a_column_by_its_key_with_the_answer_in_words(app, manager):
    version_id = next_version(app)
    _id, reference = bid_on(app, version_id, {
        "delivery": {"young_people_work": "yes"},
        "safety": {"safety_plan": "Two DBS-checked youth workers."}})
    header, rows = bids_csv(manager, "?fund=SCF")
    assert header[:len(FIXED)] == FIXED
    answers = header[len(FIXED):]
    # In form order, across the versions in use; the title, dates and issue types have their
    # own columns already, guidance text no answer.
    assert answers == [
        "answer:summary", "answer:other_issue", "answer:district", "answer:places",
        "answer:priority_category", "answer:evidence_sources", "answer:evidence_shows",
        "answer:activities", "answer:delivered_by", "answer:partners",
        "answer:young_people_work", "answer:safety_plan", "answer:outcomes", "answer:budget",
        "answer:declarations"]
    row = rows[reference]
    assert row["answer:young_people_work"] == "Yes"
    assert row["answer:safety_plan"] == "Two DBS-checked youth workers."
    assert row["answer:district"] == "Fenland"
    assert row["answer:priority_category"] == "Emerging"  # the choice's words
    assert row["answer:other_issue"] == ""
    assert row["answer:budget"] == "Lights (Capital): 4750.00"  # pounds, as amount_requested
    assert row["answer:outcomes"] == "Lights given out: 300 (Sign-up sheets)"
    assert row["answer:declarations"] == "Confirmed by Sam, Officer"


def test_a_hidden_answer_and_a_question_the_bids_version_lacks_are_blank(app, manager):
    _id, older = bid_on(app, None, {"delivery": {"young_people_work": "yes"}})  # version 1
    version_id = next_version(app)
    _id, hidden = bid_on(app, version_id, {
        "delivery": {"young_people_work": "no"},
        "safety": {"safety_plan": "Left over"}})  # hidden by the answer "no"
    _header, rows = bids_csv(manager, "?fund=SCF")
    assert rows[hidden]["answer:young_people_work"] == "No"
    assert rows[hidden]["answer:safety_plan"] == ""
    # Version 1 never asked it: an answer stored under its key is not read.
    assert rows[older]["answer:young_people_work"] == ""
    assert rows[older]["answer:district"] == "Fenland"


def test_an_export_of_bids_on_one_version_has_only_its_questions(app, manager):
    bid_on(app, None, {})
    next_version(app)  # published, but no exported bid uses it
    header, _rows = bids_csv(manager, "?fund=SCF")
    assert "answer:district" in header
    assert "answer:young_people_work" not in header and "answer:safety_plan" not in header


@pytest.mark.parametrize("typed, shown", [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("@SUM(1+1)", "'@SUM(1+1)"),
    ("+44 1632 960001", "'+44 1632 960001"),
    ("  -2+3", "'  -2+3"),
    ("\uff1dHYPERLINK(1)", "'\uff1dHYPERLINK(1)"),
])
def test_an_answer_that_looks_like_a_formula_stays_text(app, manager, typed, shown):
    version_id = next_version(app)
    _id, reference = bid_on(app, version_id, {
        "problem": {"district": typed},
        "delivery": {"young_people_work": "yes"}, "safety": {"safety_plan": typed}})
    _header, rows = bids_csv(manager, "?fund=SCF")
    assert rows[reference]["answer:district"] == shown
    assert rows[reference]["answer:safety_plan"] == shown


def test_markup_stays_as_typed_and_control_characters_are_dropped(app, manager):
    version_id = next_version(app)
    # Stored outside the forms (which refuse control characters): a terminal would run them.
    _id, reference = bid_on(app, version_id, {
        "problem": {"district": "<script>alert(1)</script> & \"Fen\""},
        "delivery": {"young_people_work": "yes",
                     "activities": "Ring\x07 the bell\x1b[31m, then\r\nsessions"},
        "safety": {"safety_plan": "Line one\nLine two\ttabbed"}})
    _header, rows = bids_csv(manager, "?fund=SCF")
    row = rows[reference]
    assert row["answer:district"] == "<script>alert(1)</script> & \"Fen\""
    assert row["answer:activities"] == "Ring the bell[31m, then\r\nsessions"
    assert row["answer:safety_plan"] == "Line one\nLine two\ttabbed"


def test_the_export_costs_the_same_queries_for_one_bid_and_many(app, manager, count_queries):
    version_id = next_version(app)
    bid_on(app, version_id, {"delivery": {"young_people_work": "yes"},
                             "safety": {"safety_plan": "Plan"}})
    with count_queries() as few:
        response = manager.get("/reports/export/bids.csv")
        one = response.get_data(as_text=True)
    for number in range(6):
        bid_on(app, version_id if number % 2 else None,
               {"delivery": {"young_people_work": "yes"},
                "safety": {"safety_plan": f"Plan {number}"}},
               code="YF" if number == 5 else "SCF")
    with count_queries() as many:
        response = manager.get("/reports/export/bids.csv")
        more = response.get_data(as_text=True)
    assert more.count("\r\n") >= one.count("\r\n") + 6
    assert len(many) == len(few), many


def test_the_workbook_has_the_answers_under_their_questions_labels(app, manager):
    version_id = next_version(app)
    _id, reference = bid_on(app, version_id, {
        "delivery": {"young_people_work": "yes"},
        "safety": {"safety_plan": "=1+1 Two workers"}})
    response = manager.get("/reports/export/workbook.xlsx?fund=SCF")
    data = response.get_data()
    response.close()
    with zipfile.ZipFile(io.BytesIO(data)) as book:  # constant memory: strings inline
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    strings = [node.text or "" for node in ElementTree.fromstring(sheet).iter(
        "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}t")]
    assert YOUNG in strings and SAFE in strings and "=1+1 Two workers" in strings
    assert "<f>" not in sheet  # text, never a formula
