"""The bids export's answer columns (issue 15): one per question key across the form versions
in use, in form order, a key new in a later version placed after the question it follows."""

from __future__ import annotations

from portal import questions, standard_forms
from portal.exports.tables import answer_columns


def _form(*sections: tuple[str, list[tuple[str, str]]]) -> questions.Definition:
    return questions.read({"sections": [
        {"key": key, "title": key, "questions": [{"key": k, "type": t, "label": k}
                                                  for k, t in asked]}
        for key, asked in sections]})


def test_the_standard_form_leaves_out_what_has_its_own_column_and_guidance() -> None:
    keys = [q.key for q in answer_columns([questions.read(
        standard_forms.application(youth=False))])]
    assert keys == ["summary", "other_issue", "district", "places", "priority_category",
                    "evidence_sources", "evidence_shows", "activities", "delivered_by",
                    "partners", "outcomes", "budget", "declarations"]


def test_versions_join_in_form_order_each_key_once() -> None:
    first = _form(("a", [("one", "short_text"), ("two", "short_text")]),
                  ("b", [("three", "yes_no")]))
    second = _form(("a", [("new_first", "short_text"), ("one", "short_text"),
                          ("between", "money"), ("two", "short_text")]),
                   ("c", [("three", "long_text"), ("last", "date")]))
    columns = answer_columns([first, second])
    assert [q.key for q in columns] == ["new_first", "one", "between", "two", "three", "last"]
    # The first version that asks a key gives its question (its label heads the column).
    assert next(q for q in columns if q.key == "three").type == "yes_no"


def test_no_versions_no_columns() -> None:
    assert answer_columns([]) == []
