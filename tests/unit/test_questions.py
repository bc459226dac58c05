"""The rules a form definition keeps (issue 15, "Bad input"), read without a database."""

from __future__ import annotations

import copy

import pytest
from flask import Flask
from flask_babel import Babel, force_locale, gettext
from markupsafe import escape

from forms.sections import QuestionsForm
from portal import questions, standard_forms


@pytest.fixture
def words_app():
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        yield app


def _standard() -> dict:
    return copy.deepcopy(standard_forms.application(youth=True))


def _fields(found: list[questions.Problem]) -> set[tuple[str | None, str]]:
    return {(p.question, p.field) for p in found}


def test_the_standard_forms_keep_every_rule(words_app):
    for youth in (False, True):
        assert questions.problems(questions.read(standard_forms.application(youth=youth))) == []


def test_every_name_of_a_section_form_is_kept_from_question_keys():
    own = {name for name in dir(QuestionsForm) if not name.startswith("_")} - {"Meta"}
    assert own <= questions.RESERVED_KEYS, sorted(own - questions.RESERVED_KEYS)


@pytest.mark.parametrize("change, where", [
    # A condition on a later question, or on itself.
    (lambda d: d["sections"][1]["questions"][0].update(
        condition={"question": "priority_category", "value": "emerging"}),
     ("issue_types", "condition_question")),
    (lambda d: d["sections"][1]["questions"][5].update(
        condition={"question": "priority_category", "value": "emerging"}),
     ("priority_category", "condition_question")),
    # A choice question without choices; a limit below zero; two questions with one key.
    (lambda d: d["sections"][1]["questions"][5].update(choices=[]),
     ("priority_category", "choices")),
    (lambda d: d["sections"][2]["questions"][0].update(limit=-1), ("activities", "limit")),
    (lambda d: d["sections"][2]["questions"][1].update(key="activities"),
     ("activities", "key")),
    # A condition on a value the question cannot have; a key kept for the form's own use.
    (lambda d: d["sections"][1]["questions"][1].update(
        condition={"question": "issue_types", "value": "nonsense"}),
     ("other_issue", "condition_value")),
    (lambda d: d["sections"][2]["questions"][0].update(key="answers"), ("answers", "key")),
    (lambda d: d["sections"][5]["questions"][1].update(low=30, high=20),
     ("age_to", "high")),
])
def test_a_definition_that_cannot_work_is_refused_beside_the_field(words_app, change, where):
    definition = _standard()
    change(definition)
    assert where in _fields(questions.problems(questions.read(definition)))


@pytest.mark.parametrize("builtin", ["title", "summary", "project_dates", "budget", "outcomes",
                                     "declarations"])
def test_removing_a_built_in_part_the_round_needs_is_refused(words_app, builtin):
    definition = _standard()
    for section in definition["sections"]:
        section["questions"] = [q for q in section["questions"] if q["type"] != builtin]
    found = questions.problems(questions.read(definition))
    assert any(p.field == "sections" and p.question is None for p in found), found


def test_a_hidden_answer_is_neither_required_nor_kept(words_app):
    section = questions.read(_standard()).section("problem")
    answers = {"issue_types": ["road_safety"], "other_issue": "posted anyway"}
    assert "other_issue" not in questions.kept(section, answers, {})
    problems = questions.section_problems(section, {"issue_types": ["road_safety"]}, {},
                                          completing=True)
    assert "other_issue" not in problems
    problems = questions.section_problems(section, {"issue_types": ["other"]}, {},
                                          completing=True)
    assert problems["other_issue"] == "Enter the other issue"


def test_answers_move_to_a_new_version_where_their_question_still_is(words_app):
    old = _standard()
    saved = {"delivery": {"activities": "Sessions", "delivered_by": "Council",
                          "partners": "Police"},
             "budget": {"rows": [{"item": "Lights", "kind": "capital", "amount_pence": 100}],
                        "match_funding_pence": 0, "match_funding_sources": ""},
             "outcomes": {"rows": [{"measure": "Lights", "target": 3, "how_measured": "Log"}]}}
    new = copy.deepcopy(old)
    delivery = new["sections"][2]
    delivery["questions"] = [q for q in delivery["questions"] if q["key"] != "partners"]
    new["sections"][0]["questions"].append(
        {"key": "delivered_by", "type": "long_text", "label": "Who", "required": True})
    delivery["questions"] = [q for q in delivery["questions"] if q["key"] != "delivered_by"]
    moved = questions.carried(questions.read(new), saved)
    assert moved["about"] == {"delivered_by": "Council"}
    assert moved["delivery"] == {"activities": "Sessions"}
    assert moved["budget"]["rows"][0]["item"] == "Lights"
    assert moved["outcomes"]["rows"][0]["measure"] == "Lights"


def test_a_section_key_the_designer_s_addresses_use_is_refused(words_app):
    definition = _standard()
    definition["sections"][2]["key"] = "new"
    assert (None, "key") in _fields(questions.problems(questions.read(definition)))


def test_a_section_and_a_question_cannot_share_a_key(words_app):
    definition = _standard()
    definition["sections"][2]["questions"][0]["key"] = "problem"
    found = questions.problems(questions.read(definition))
    assert any(p.section == "problem" and p.field == "key" for p in found), found


def test_a_return_form_cannot_ask_for_a_file(words_app):
    definition = {"sections": [{"key": "progress", "title": "Progress", "questions": [
        {"key": "photo", "type": "file", "label": "A photo", "required": True}]}]}
    found = questions.problems(questions.read(definition), application=False)
    assert ("photo", "type") in _fields(found)


def test_a_section_with_nothing_to_answer_is_not_a_task(words_app):
    definition = _standard()
    definition["sections"].insert(1, {"key": "empty", "title": "Still being written",
                                      "questions": []})
    definition["sections"].insert(2, {"key": "notes", "title": "Notes", "questions": [
        {"key": "note", "type": "guidance", "label": "Read this", "required": False}]})
    shown = [s.key for s in questions.shown_sections(questions.read(definition), {})]
    assert "empty" not in shown and "notes" not in shown and "about" in shown


def test_an_answer_ticked_twice_is_refused_by_the_server(words_app):
    question = questions.read_question({"key": "days", "type": "several_choices",
                                        "label": "Days", "choices": [
                                            {"value": "monday", "text": "Monday"}]})
    assert questions.answer_problem(question, ["monday", "monday"], completing=True)
    assert questions.answer_problem(question, ["monday"], completing=True) is None


@pytest.mark.parametrize("value, message", [
    (-5, "Count must be 2 or more"), (1, "Count must be 2 or more"),
    (51, "Count must be 50 or fewer"), (10**12, "Count must be 50 or fewer")])
def test_a_number_out_of_range_reads_as_its_field_says_it(words_app, value, message):
    question = questions.read_question({"key": "count", "type": "whole_number",
                                        "label": "Count", "low": 2, "high": 50})
    assert questions.answer_problem(question, value, completing=True) == message


def test_an_answer_in_a_hidden_section_shows_and_requires_nothing_later(words_app):
    """Breakers' finding: a question shown by an answer in a section that is now hidden was
    still asked and required."""
    definition = questions.read({"sections": [
        {"key": "gate", "title": "Gate", "questions": [
            {"key": "q0", "type": "yes_no", "label": "Gate?"}]},
        {"key": "hid", "title": "Hidden", "condition": {"question": "q0", "value": "yes"},
         "questions": [{"key": "h1", "type": "yes_no", "label": "H1?"}]},
        {"key": "after", "title": "After", "condition": {"question": "h1", "value": "yes"},
         "questions": [{"key": "a1", "type": "short_text", "label": "A1"}]},
        {"key": "later", "title": "Later", "questions": [
            {"key": "l1", "type": "short_text", "label": "L1",
             "condition": {"question": "h1", "value": "yes"}}]}]})
    saved = {"gate": {"q0": "no"}, "hid": {"h1": "yes"}, "later": {"l1": "typed"}}
    counted = questions.visible(definition, saved)
    assert counted == {"q0": "no"}
    assert [s.key for s in questions.shown_sections(definition, counted)] == ["gate", "later"]
    later = definition.section("later")
    assert questions.section_problems(later, {}, counted, completing=True) == {}
    assert questions.kept(later, saved["later"], counted) == {}


def test_a_summary_over_a_limit_tightened_since_is_a_problem(words_app):
    """Breakers' finding: a built-in summary over a limit lowered after it was typed stayed
    complete and was submitted."""
    definition = _standard()
    definition["sections"][0]["questions"][1]["limit"] = 10
    about = questions.read(definition).section("about")
    found = questions.section_problems(about, {"title": "T", "summary": "x" * 52,
                                               "start_date": "2026-12-01",
                                               "end_date": "2027-01-01"}, {},
                                       completing=True)
    assert "summary" in found and "10 characters" in found["summary"]


def test_an_answer_of_another_type_is_left_behind_by_a_new_version(words_app):
    """Breakers' finding: a key given to a question of another type carried the old answer
    into it ("Pick date: apple")."""
    old = {"extra": {"flag": "yes", "pick": "apple", "many": ["red"], "words": "hello",
                     "kept": "text"}}
    new = questions.read({"sections": [{"key": "extra", "title": "Extra", "questions": [
        {"key": "flag", "type": "whole_number", "label": "Flag"},
        {"key": "pick", "type": "date", "label": "Pick"},
        {"key": "many", "type": "money", "label": "Many"},
        {"key": "words", "type": "confirm", "label": "Words"},
        {"key": "kept", "type": "long_text", "label": "Kept"}]}]})
    assert questions.carried(new, old) == {"extra": {"kept": "text"}}


# --- the Welsh beside the English (issue 16) -------------------------------------------------

_WELSH_SECTION = {"key": "young", "title": "Young people", "intro": "About them.",
                  "title_cy": "Pobl ifanc", "intro_cy": "Amdanyn nhw.", "questions": [
                      {"key": "who", "type": "one_choice", "label": "Who takes part?",
                       "label_cy": "Pwy sy’n cymryd rhan?", "hint": "Pick one.",
                       "hint_cy": "Dewiswch un.", "required": True,
                       "error": "Select who", "error_cy": "Dewiswch pwy",
                       "choices": [{"value": "girls", "text": "Girls", "text_cy": "Merched"},
                                   {"value": "boys", "text": "Boys", "text_cy": "Bechgyn"}]},
                      {"key": "club", "type": "short_text", "label": "Club <name>", "hint": "",
                       "required": True, "error": "Enter the club", "limit": None,
                       "limit_unit": "characters"},
                      {"key": "declarations", "type": "declarations", "label": "Declarations",
                       "hint": "", "required": True, "statements": ["True", "Agreed"],
                       "statements_cy": ["Gwir", ""]}]}


def _welsh_section() -> questions.Section:
    return questions.read({"sections": [copy.deepcopy(_WELSH_SECTION)]}).sections[0]


def test_the_welsh_is_read_and_kept_beside_the_english(words_app):
    data = {"sections": [copy.deepcopy(_WELSH_SECTION)]}
    assert questions.read(data).as_json() == data
    # A definition without Welsh keeps the shape it had before issue 16.
    standard = _standard()
    assert questions.read(standard).as_json() == standard


def test_a_welsh_reader_sees_the_welsh_an_english_reader_the_english(words_app):
    section = _welsh_section()
    who = section.question("who")
    assert (section.words("title"), who.words("label"), who.words("hint")) == (
        "Young people", "Who takes part?", "Pick one.")
    assert questions.choices_of(who) == [("girls", "Girls"), ("boys", "Boys")]
    assert str(who.marked("label")) == "Who takes part?"  # nothing marked in English
    with force_locale("cy"):
        assert (section.words("title"), section.words("intro")) == ("Pobl ifanc",
                                                                    "Amdanyn nhw.")
        assert (who.words("label"), who.words("hint")) == ("Pwy sy’n cymryd rhan?",
                                                           "Dewiswch un.")
        assert questions.choices_of(who) == [("girls", "Merched"), ("boys", "Bechgyn")]
        assert str(who.marked("label")) == "Pwy sy’n cymryd rhan?"
        assert questions.answer_problem(who, None, completing=True) == "Dewiswch pwy"


def test_english_shown_to_a_welsh_reader_is_marked_and_escaped(words_app):
    club = _welsh_section().question("club")
    assert str(club.marked("label")) == "Club &lt;name&gt;"
    with force_locale("cy"):
        assert str(club.marked("label")) == '<span lang="en">Club &lt;name&gt;</span>'
        assert str(club.marked("label", block=True)) == \
            '<div lang="en">Club &lt;name&gt;</div>'
        assert str(questions.marked_message("Enter the club", club)) == \
            '<span lang="en">Enter the club</span>'
        # Its label in a sentence of the catalogue's: the label marked, the rest as it is.
        message = questions.answer_problem(club, "x" * 201, completing=True)
        marked = str(questions.marked_message(message, club))
        assert '<span lang="en">Club &lt;name&gt;</span>' in marked
        assert marked.replace('<span lang="en">Club &lt;name&gt;</span>', "") == \
            str(escape(message.replace("Club <name>", "")))


def test_the_standard_words_show_the_catalogues_welsh(words_app):
    """Compared with gettext itself: whatever the catalogue holds, a standard question shows
    it, and is marked English only where it has no Welsh."""
    question = questions.read(_standard()).question("activities")
    with force_locale("cy"):
        expected = gettext(question.label)
        assert question.words("label") == expected
        assert questions.in_english(question.label) == (expected == question.label)


def test_declarations_take_each_statement_s_welsh_where_given(words_app):
    declarations = _welsh_section().question("declarations")
    with force_locale("cy"):
        shown = [questions.words(en, cy) for en, cy in declarations.statement_pairs()]
        assert shown == ["Gwir", "Agreed"]
        assert questions.in_english("Agreed", "")


@pytest.mark.parametrize("change, where", [
    (lambda s: s.update(title_cy="a" * 121), (None, "title_cy")),
    (lambda s: s.update(intro_cy="a" * 2001), (None, "intro_cy")),
    (lambda s: s["questions"][0].update(label_cy="a" * 501), ("who", "label_cy")),
    (lambda s: s["questions"][0].update(hint_cy="a" * 2001), ("who", "hint_cy")),
    (lambda s: s["questions"][0].update(error_cy="a" * 501), ("who", "error_cy")),
    (lambda s: s["questions"][0]["choices"][1].update(text_cy="a" * 201), ("who", "choices_cy")),
    (lambda s: s["questions"][2].update(statements_cy=["", "a" * 501]),
     ("declarations", "statement_2_cy")),
])
def test_welsh_too_long_is_refused_beside_its_field(words_app, change, where):
    section = copy.deepcopy(_WELSH_SECTION)
    assert where not in _fields(questions.problems(questions.read({"sections": [section]})))
    change(section)
    found = questions.problems(questions.read({"sections": [section]}))
    assert where in _fields(found), found
