"""What a section's save changed, named by its questions (issue 15): the words the bid's
history shows."""

from __future__ import annotations

from portal import questions, standard_forms
from portal.services.answer_changes import questions_changed

DEFINITION = questions.read(standard_forms.application(youth=True))


def _section(key: str) -> questions.Section:
    section = DEFINITION.section(key)
    assert section is not None
    return section


def test_a_changed_answer_is_named_by_its_question_label() -> None:
    before = {"district": "Fenland", "places": "March", "priority_category": "emerging"}
    after = {"district": "Fenland", "places": "March, Wisbech",
             "priority_category": "preventing"}
    assert questions_changed(_section("problem"), before, after) == [
        "Parishes or wards", "Priority area category"]


def test_nothing_changed_names_nothing() -> None:
    answers = {"title": "Bike marking", "summary": "Marking bikes.",
               "start_date": "2026-12-01", "end_date": "2027-03-31"}
    assert questions_changed(_section("about"), answers, dict(answers)) == []


def test_an_empty_answer_equals_a_missing_one() -> None:
    assert questions_changed(_section("problem"), {}, {"other_issue": "", "issue_types": []}) \
        == []


def test_a_first_save_names_every_question_answered() -> None:
    after = {"activities": "Marking events", "delivered_by": "PCSOs"}
    assert questions_changed(_section("delivery"), None, after) == [
        "What will be done?", "Who will do it?"]


def test_the_projects_dates_name_the_date_that_changed() -> None:
    before = {"title": "T", "start_date": "2026-12-01", "end_date": "2027-03-31"}
    after = {"title": "T", "start_date": "2026-12-01", "end_date": "2027-02-28"}
    assert questions_changed(_section("about"), before, after) == ["End date"]
    after["start_date"] = "2026-11-01"
    assert questions_changed(_section("about"), before, after) == ["Start date", "End date"]


def test_a_built_in_question_is_named_once_whichever_part_changed() -> None:
    rows = [{"item": "Kits", "kind": "capital", "amount_pence": 100_00}]
    before = {"rows": rows, "match_funding_pence": 0, "match_funding_sources": ""}
    after = {**before, "rows": [{**rows[0], "amount_pence": 120_00}],
             "match_funding_pence": 50_00}
    assert questions_changed(_section("budget"), before, after) == ["Budget lines"]
    declared = {"accurate": True, "authorised": True, "name": "Ann", "role": "Officer"}
    assert questions_changed(_section("declarations"), declared,
                             {**declared, "authorised": False}) == ["Declarations"]


def test_a_confirmation_and_a_number_changing() -> None:
    before = {"age_from": 11, "age_to": 16, "safeguarding_policy": True}
    after = {"age_from": 11, "age_to": 17}
    assert questions_changed(_section("youth"), before, after) == [
        "Oldest age", "We have a safeguarding policy that covers this project"]


def test_a_question_without_a_label_is_named_by_its_key() -> None:
    section = questions.Section("extra", "Extra", questions=[
        questions.Question("code", "short_text", label="")])
    assert questions_changed(section, {"code": "a"}, {"code": "b"}) == ["code"]
