"""Shared presentation: a bid's saved answers as rows for GOV.UK summary lists (check answers,
the officer's read-only bid, and the same bid read by assessors and the grants manager), and
audit events in words for every history and the audit trail. Every blueprint may use it; it
reads models and forms, never the request."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from flask import Flask, g, has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from forms.applicant import COST_KINDS, line_years
from portal import bilingual, questions
from portal.formatting import date_time, long_date, money, return_title
from portal.models import Bid, year_label
from portal.queries.history import ORGANISATION_KEYS, BidNames, RecordNames, record_names
from portal.services import form_versions
from portal.workflows import WORKFLOWS


def _choice_words(question: questions.Question, value: Any) -> str:
    return dict(questions.choices_of(question)).get(value, str(value or ""))


def _iso_day(value: Any) -> str:
    try:
        return long_date(date.fromisoformat(value)) if isinstance(value, str) and value else ""
    except ValueError:
        return str(value)


def _budget_list(rows: list[Any]) -> Markup:
    items = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        kind = _choice_label(row.get("kind"))
        years = "; ".join(f"{escape(year_label(year))}: {escape(money(pence))}"
                          for year, pence in line_years(row)
                          if pence) if len(row.get("year_amounts") or {}) > 1 else ""
        items.append(f"{escape(row.get('item') or '')} ({escape(kind)}): "
                     f"{escape(money(int(row.get('amount_pence') or 0)))}"
                     + (f" ({years})" if years else ""))
    return _list(items)


def _choice_label(kind: Any) -> str:
    return next((str(words) for value, words in COST_KINDS if value == kind and value),
                str(kind or ""))


def _outcome_list(rows: list[Any]) -> Markup:
    items = [f"{escape(row.get('measure') or '')}: {escape(row.get('target'))} "
             f"({escape(row.get('how_measured') or '')})" for row in rows
             if isinstance(row, dict)]
    return _list(items)


def _list(items: list[str]) -> Markup:
    if not items:
        return Markup("")
    return Markup('<ul class="govuk-list">' + "".join(f"<li>{i}</li>" for i in items) + "</ul>")


def _simple_value(question: questions.Question, value: Any,
                  files: dict[int, str] | None) -> str:
    code = question.type
    if value is None or value == "" or value == []:
        return ""
    if code == "money":
        return money(value) if isinstance(value, int) else str(value)
    if code == "whole_number":
        return f"{value:,}" if isinstance(value, int) else str(value)
    if code == "date":
        return _iso_day(value)
    if code == "confirm":
        return _("Yes") if value is True else _("No")
    if code in ("yes_no", "one_choice", "rag"):
        return _choice_words(question, value)
    if code == "several_choices":
        return ", ".join(_choice_words(question, v) for v in value) \
            if isinstance(value, list) else str(value)
    if code == "file":
        return (files or {}).get(value) or _("A file") if isinstance(value, int) else ""
    return str(value)


def answer_rows(section: questions.Section, answers: dict[str, Any], every: dict[str, Any],
                *, files: dict[int, str] | None = None,
                total_pence: int | None = None) -> list[dict[str, Any]]:
    """GOV.UK summary-list rows (label, value in words) of the questions of ``section``
    shown for its ``answers`` (``every``: all sections' answers, for conditions on earlier
    ones). ``files``: attached files' names by id, for file questions; ``total_pence``: the
    budget's total as the bid holds it (else the sum of its lines). The grants team's words
    are in the reader's language, English shown to a Welsh reader marked ``lang="en"``
    (``questions.marked``)."""
    answers = answers or {}
    everything = {**(every or {}), **answers}
    rows: list[dict[str, Any]] = []

    def row(label: Any, value: Any, html: bool = False) -> dict[str, Any]:
        return {"key": {"html": escape(label)}, "value": {"html" if html else "text": value}}

    for question in questions.shown_questions(section, everything):
        code = question.type
        label = question.marked("label")
        if not question.kind.answers:
            continue
        if code == "project_dates":
            rows.append(row(label, _iso_day(answers.get("start_date"))))
            rows.append(row(question.marked("end_label") or _("End date"),
                             _iso_day(answers.get("end_date"))))
        elif code == "issue_types":
            chosen = answers.get("issue_types") or []
            rows.append(row(label, ", ".join(_choice_words(question, v) for v in chosen)
                             if isinstance(chosen, list) else ""))
        elif code == "budget":
            lines = answers.get("rows") or []
            rows.append(row(label or _("Budget lines"), _budget_list(lines), html=True))
            total = total_pence if total_pence is not None else sum(
                int(r.get("amount_pence") or 0) for r in lines if isinstance(r, dict))
            rows.append(row(_("Total asked for"), money(total)))
            match = answers.get("match_funding_pence")
            rows.append(row(_("Match funding from others"),
                             money(match) if isinstance(match, int) and match else ""))
            rows.append(row(_("Where the match funding comes from"),
                             answers.get("match_funding_sources") or ""))
        elif code == "outcomes":
            rows.append(row(label or _("Outcome measures"),
                             _outcome_list(answers.get("rows") or []), html=True))
        elif code == "declarations":
            statements = [questions.marked(english, welsh)
                          for english, welsh in question.statement_pairs()]
            rows.append(row(statements[0], _("Yes") if answers.get("accurate") else _("No")))
            rows.append(row(statements[1], _("Yes") if answers.get("authorised") else _("No")))
            rows.append(row(_("Your full name"), answers.get("name") or ""))
            rows.append(row(_("Your role"), answers.get("role") or ""))
        elif code in ("title", "summary"):
            rows.append(row(label, answers.get(code) or ""))
        else:
            rows.append(row(label, _simple_value(question, answers.get(question.key), files)))
    return rows


def return_answer_sections(definition: questions.Definition, answers: dict[str, Any]
                           ) -> list[tuple[str, list[dict[str, Any]]]]:
    """A return's answers to its fund's own questions (issue 15), kept by question key:
    (section title, summary-list rows) for each section shown, conditions reading only the
    answers that count. The partnership's and finance's views of a return both show these."""
    every = questions.visible(definition, {s.key: answers for s in definition.sections})
    found: list[tuple[str, list[dict[str, Any]]]] = []
    for section in questions.shown_sections(definition, every):
        rows = answer_rows(section, answers, every)
        if rows:
            found.append((section.marked("title"), rows))
    return found


def summary_rows(bid: Bid, key: str) -> list[dict[str, Any]]:
    """(label, shown value) for each shown question of a bid's section, as saved, from the
    definition the bid is answered on."""
    definition = _definition(bid)
    section = definition.section(key)
    if section is None:
        return []
    every = questions.visible(definition, {s.key: s.answers or {} for s in bid.sections})
    saved = bid.section(key)
    files = {item.id: item.original_name for item in bid.evidence} if any(
        q.type == "file" for q in section.questions) else None
    return answer_rows(section, saved.answers if saved else {}, every, files=files,
                       total_pence=bid.amount_requested_pence)


def _definition(bid: Bid) -> questions.Definition:
    """The bid's definition, read once per bid in a request."""
    cache = g.setdefault("bid_definitions", {}) if has_app_context() else {}
    found = cache.get(bid.id)
    if found is None:
        found = cache[bid.id] = form_versions.definition_of(bid)
    return found


# --- audit events in words ----------------------------------------------------------------------
# Every history (an award's, a bid's, a round's, an account's) and the audit trail show what an
# event recorded through ``event_details``: sentences in the reader's words, money in pounds,
# dates as UK dates; a detail without a sentence of its own is "Label: value", never JSON.
#
# In the reader's language (issue 16): our words from the catalogue; the grants team's words
# (a bid's questions and sections) from the bid's form, in Welsh where given; names of rounds,
# funds and organisations in Welsh where given. Words in another language than the reader's
# (the English the grants team gave no Welsh for, a Welsh name read in English, a language's
# own name) are marked while the sentences are made with private-use characters, which
# ``event_details`` turns into ``<span lang="…">`` once the text is escaped (WCAG 2.2, 3.1.2
# Language of Parts), and ``event_sentences`` (plain text) leaves out.

Details = dict[str, Any]

_OPEN = {"en": "\ue000", "cy": "\ue001"}
_CLOSE = "\ue002"
_MARKS = re.compile("[\ue000-\ue002]")
_LANGUAGE_NAMES = {"en": "English", "cy": "Cymraeg"}  # each in its own language


def _in(language: str, text: str, *, always: bool = False) -> str:
    """``text``, known to be in ``language``, marked so unless that is the reader's (or
    ``always``: a language's own name)."""
    if not text or (not always and language == ("cy" if bilingual.welsh_wanted() else "en")):
        return text
    return f"{_OPEN[language]}{text}{_CLOSE}"


def _chosen(english: str, welsh: str) -> str:
    """What the OPCC typed in the reader's language (``bilingual.chosen``), the English shown
    to a Welsh reader marked."""
    shown, fallback = bilingual.chosen(english, welsh)
    return _in("en", shown) if fallback else shown


def _team_words(text: str, welsh: str = "") -> str:
    """The grants team's words (a question's label, a section's title) in the reader's
    language (``questions.words``: their Welsh, else the catalogue's for the standard forms'
    words), English shown to a Welsh reader marked."""
    shown = questions.words(text, welsh)
    return _in("en", shown) if questions.in_english(text, welsh) else shown


def _unmarked(value: Any) -> Any:
    """Details as recorded, without the private-use characters that mark languages (a user
    may have typed them)."""
    if isinstance(value, str):
        return _MARKS.sub("", value)
    if isinstance(value, list):
        return [_unmarked(item) for item in value]
    if isinstance(value, dict):
        return {_unmarked(key): _unmarked(item) for key, item in value.items()}
    return value


def _markup(text: str) -> Markup:
    """Sentences with their languages marked, escaped, the marks as ``<span lang>``."""
    html = str(escape(text))
    for language, mark in _OPEN.items():
        html = html.replace(mark, f'<span lang="{language}">')
    return Markup(html.replace(_CLOSE, "</span>"))


class _Words(str):
    """A detail's value already in words (marked where it is in another language)."""

_KEY_LABELS: dict[str, Any] = {
    "active": _l("Active"), "allows_multi_year": _l("Projects may run over several years"),
    "direct": _l("Makes direct awards"),
    "amount": _l("Amount"), "answered_request": _l("Question answered"),
    "assessments_assigned": _l("Assessments assigned"),
    "assessments_required": _l("Assessments required"),
    "assessments_submitted": _l("Assessments submitted"), "assessor": _l("Assessor"),
    "assignment": _l("Assignment"), "award": _l("Award"), "bid": _l("Bid"),
    "budget_pence": _l("Budget"), "cap_pence": _l("Most a bid may ask for"),
    "closes_at": _l("Closes"), "code": _l("Code"), "comment": _l("Comment"),
    "comments": _l("Comments"), "conditions": _l("Conditions"), "conflict": _l("Declaration"),
    "conflicted": _l("Conflict of interest"), "criteria": _l("Criteria"),
    "descriptors": _l("Descriptions of the scores"), "eligible_organisation_types":
    _l("Who may bid"), "eligible_spend": _l("Eligible spend"), "email": _l("Email address"),
    "end_date": _l("End date"), "feedback": _l("Feedback"), "file": _l("File"),
    "financial_year": _l("Financial year"), "from": _l("From budget line"),
    "fund": _l("Fund"), "guidance": _l("Guidance"), "is_youth": _l("Youth fund"),
    "justification": _l("Justification"), "kind": _l("Kind of change"),
    "language": _l("Language"), "limit": _l("Not sent"), "locked": _l("Account locked"), "max": _l("Highest score"),
    "min": _l("Lowest score"), "moves": _l("Money moved"), "name": _l("Name"),
    "new_end_date": _l("New end date"), "new_item": _l("New budget line"),
    "opens_at": _l("Opens"), "organisation": _l("Organisation"),
    "override_reason": _l("Decided before the required assessments because"),
    "paid": _l("Paid"), "paid_on": _l("Paid on"), "paid_to_date": _l("Paid to date"),
    "payment_rule": _l("Payment rule"), "purpose": _l("Purpose"), "question": _l("Question"),
    "rationale": _l("Rationale"), "reason": _l("Reason"), "received_on": _l("Received on"),
    "recommendation": _l("Recommendation"), "reference": _l("Reference"),
    "required_assessments": _l("Assessments required"), "return_cadence": _l("Returns"),
    "returns": _l("Returns due"), "role": _l("Role"), "roles": _l("Roles"),
    "round": _l("Round"), "scale": _l("Scoring scale"), "score": _l("Score"),
    "scores": _l("Scores"), "section": _l("Section"), "size": _l("Size"),
    "changed": _l("Answers changed"), "what_changed": _l("What changed"),
    "type": _l("Type of question"),
    "answers_left_behind": _l("Answers to questions no longer asked"),
    "sections_removed": _l("Sections no longer in the form"),
    "draft_bids_moved": _l("Draft bids moved to it"),
    "draft_returns_moved": _l("Returns not yet sent moved to it"), "direction": _l("Moved"),
    "spend": _l("Spend reported"), "status": _l("Status"), "terms": _l("Terms"),
    "title": _l("Title"), "to": _l("To budget line"), "underspend": _l("Underspend to repay"),
    "variation": _l("Change asked for"), "version": _l("Version"), "weight": _l("Weight"),
    "weighted": _l("Weighted score"),
    # The Welsh beside what the OPCC types (issue 16).
    "name_cy": _l("Name in Welsh"), "purpose_cy": _l("Purpose in Welsh"),
    "terms_cy": _l("Terms in Welsh"), "guidance_cy": _l("Guidance in Welsh"),
    "title_cy": _l("Title in Welsh"),
    # The designer's details (issues 15 and 16): a question's or section's words, in English
    # and in Welsh, and where a form was copied from.
    "label": _l("Question’s wording"), "moved": _l("Moved"), "intro": _l("Introduction"),
    "copied_from": _l("Copied from"), "copied_version": _l("Version copied"),
    "label_cy": _l("Question in Welsh"), "hint_cy": _l("Hint in Welsh"),
    "error_cy": _l("Message when it is not answered, in Welsh"),
    "intro_cy": _l("Introduction in Welsh"), "choices_cy": _l("Choices in Welsh"),
    "statements_cy": _l("Statements in Welsh"), "text_cy": _l("Words in Welsh"),
    "end_label_cy": _l("Second date’s label in Welsh"),
    "end_hint_cy": _l("Second date’s hint in Welsh"),
    # Agreements over several years, direct awards and action plans (issues 14 and 15).
    "years": _l("Financial years"), "year_budgets": _l("Each year’s budget and cap"),
    "partnership": _l("Partnership"), "plan": _l("Payments planned"),
    "actions": _l("Action plan"), "lines": _l("Actions of each budget line"),
    "number": _l("Number"), "lead": _l("Lead"), "target_date": _l("Target date"),
    "start_date": _l("Start date"),
    # Alignment to the Police and Crime Plan (issue 18): sections by their codes.
    "plan_sections": _l("Sections of the Police and Crime Plan"),
    "plan_section": _l("Section of the Police and Crime Plan"),
    # The plan's own events (issue 18).
    "in_force_from": _l("In force from"), "position": _l("Place in the plan"),
    "first_year": _l("First financial year"), "last_year": _l("Last financial year"),
    "sections_copied": _l("Sections copied from the plan before"),
}
# Details that hold questions' or sections' keys (issue 15): shown as words.
_KEYS_AS_WORDS = {"answers_left_behind", "sections_removed"}
# Details that hold what the OPCC typed in English beside a Welsh field (``name`` and
# ``name_cy``), by the kind of record: marked English for a Welsh reader.
_ENGLISH_FIELDS = {"fund": {"name", "purpose", "terms", "plan_section"},
                   "round": {"name", "guidance"},
                   "form": {"label", "title", "copied_from"},
                   "plan": {"title", "name", "copied_from"}}
# A bid section's state (bid_sections.status: no workflow's).
_SECTION_STATES: dict[str, Any] = {"not_started": _l("Not yet started"),
                                   "in_progress": _l("In progress"),
                                   "completed": _l("Completed")}
# Amounts in pence (besides keys ending in _pence).
_MONEY = {"amount", "paid_to_date", "paid", "spend", "eligible_spend", "underspend"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


@lru_cache(maxsize=1)
def _choices() -> dict[str, dict[str, Any]]:
    """Codes stored in details and their words (lazy: read in the reader's language)."""
    from forms.admin import ROLE_CHOICES
    from forms.review import RECOMMENDATIONS
    from forms.setup import ORGANISATION_TYPES, PAYMENT_RULES, RETURN_CADENCES

    return {
        "roles": dict(ROLE_CHOICES), "recommendation": dict(RECOMMENDATIONS),
        "payment_rule": dict(PAYMENT_RULES), "return_cadence": dict(RETURN_CADENCES),
        "eligible_organisation_types": dict(ORGANISATION_TYPES),
        "section": _section_titles(),
        # The designer's changes (issue 15): a question's type and the options changed.
        "type": {code: kind.name for code, kind in questions.TYPES.items()},
        "what_changed": _DESIGN_FIELDS,
        "kind": {"reallocation": _l("Move money between budget lines"),
                 "extension": _l("Extend the end date")},
        "moved": _DIRECTIONS, "direction": _DIRECTIONS,
        "limit": {"address": _l("too many emails to this address"),
                  "client": _l("too many requests from this computer")},
    }


# Which way the designer moved a section or question.
_DIRECTIONS: dict[str, Any] = {"up": _l("up"), "down": _l("down")}

# The names of a question's options in the designer's words: what a ``form.question_changed``
# event lists as changed.
_DESIGN_FIELDS: dict[str, Any] = {
    "label": _l("Question"), "hint": _l("Hint"), "required": _l("Whether it must be answered"),
    "error": _l("Message when it is not answered"), "condition": _l("When it is asked"),
    "limit": _l("Limit"), "limit_unit": _l("What the limit counts"),
    "low": _l("Lowest answer allowed"), "high": _l("Highest answer allowed"),
    "choices": _l("Choices"), "at_least": _l("The answer it may not be less than"),
    "statements": _l("Statements"), "end_label": _l("Second date’s label"),
    "end_hint": _l("Second date’s hint"), "title": _l("Title"), "intro": _l("Introduction"),
    "key": _l("Key"), "type": _l("Type"),
    # Their Welsh (issue 16), in the audit's words for the same keys.
    **{key: _KEY_LABELS[key] for key in ("label_cy", "hint_cy", "error_cy", "statements_cy",
                                         "end_label_cy", "end_hint_cy", "title_cy",
                                         "intro_cy")},
}


def _section_titles() -> dict[str, Any]:
    """Section keys in words: the standard forms' sections (a section of a form of the
    grants team's own is named by its key, in words)."""
    from portal import standard_forms

    titles: dict[str, Any] = {}
    for section in standard_forms.application(youth=True)["sections"]:
        titles[section["key"]] = _l(section["title"])  # noqa: INT001 - words of the catalogue
    return titles


def _label(key: str) -> str:
    """A detail's name: ours, or the key in words ('budget_pence' -> 'Budget')."""
    if key in _KEY_LABELS:
        return str(_KEY_LABELS[key])
    if key.isdigit():
        return _("A criterion")  # an id: never shown bare
    words = key.removesuffix("_pence").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _size(octets: int) -> str:
    if octets >= 1024 * 1024:
        return _("%(n)s MB", n=f"{octets / 1024 / 1024:.1f}")
    if octets >= 1024:
        return _("%(n)s KB", n=f"{octets / 1024:.0f}")
    return _("%(n)s bytes", n=octets)


def _words(key: str, value: Any, states: Any = None) -> str:
    """One detail's value in words: pounds for pence, UK dates, labels for codes, lists and
    mappings spelled out."""
    if isinstance(value, _Words):
        return str(value)
    if _empty(value):
        return _("none")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if key == "actions" and isinstance(value, list):
        return "; ".join(_action(item) for item in value if isinstance(item, dict))
    if isinstance(value, list):
        return ", ".join(_words(key, item, states) for item in value)
    if key == "sections_removed" and isinstance(value, str):
        return _section_words(value)
    if key in _KEYS_AS_WORDS and isinstance(value, str):
        return _in("en", value.replace("_", " "))  # a question's key, read as words
    if key == "language" and str(value) in _LANGUAGE_NAMES:
        return _in(str(value), _LANGUAGE_NAMES[str(value)], always=True)
    if key == "years" and isinstance(value, dict):  # pence by financial year
        return "; ".join(f"{_year(year)}: {_pence(pence)}" for year, pence in value.items())
    if key == "lines" and isinstance(value, dict):  # an action plan's actions by line
        return "; ".join(_("“%(item)s”: %(actions)s", item=item,
                           actions=_words("number", numbers)) for item, numbers in value.items())
    if isinstance(value, dict):
        return "; ".join(f"{_label(k)}: {_words(k, v, states)}" for k, v in value.items())
    if isinstance(value, int) and (key in _MONEY or key.endswith("_pence")):
        return money(value)
    if key == "weighted" and isinstance(value, int):
        return f"{value / 100:.1f}%"
    if key == "size" and isinstance(value, int):
        return _size(value)
    if key in {"status", "conflict"} and states is not None and str(value) in states.states:
        return states.label(str(value))
    choices = _choices().get(key)
    if choices is not None and str(value) in choices:
        return str(choices[str(value)])
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return long_date(date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, str) and _ISO_MOMENT.match(value):
        try:
            return date_time(datetime.fromisoformat(value))
        except ValueError:
            return value
    if key == "status" and str(value) in _SECTION_STATES:
        return str(_SECTION_STATES[str(value)])  # a state of no workflow (a section's)
    return str(value)


def _action(action: Details) -> str:
    """An action of an award's action plan: 1.4 “Conference” (led by Ann, by 31 March 2027)."""
    said = _("%(number)s “%(title)s”", number=action.get("number") or "",
             title=action.get("title") or "")
    more = []
    if action.get("lead"):
        more.append(_("led by %(lead)s", lead=action["lead"]))
    if action.get("target_date"):
        more.append(_("by %(date)s", date=_words("target_date", action["target_date"])))
    return f"{said} ({', '.join(more)})" if more else said


def _section_words(key: str, definition: questions.Definition | None = None) -> str:
    """A bid section's title by its key: from the bid's form (``definition``) in the reader's
    language, else the standard forms' (the catalogue's), else the key in words, marked
    English for a Welsh reader."""
    section = definition.section(key) if definition is not None else None
    if section is not None and section.title:
        return _team_words(section.title, section.title_cy)
    known = _choices()["section"].get(key)
    if known is not None:
        return str(known)
    words = key.replace("_", " ").strip()
    return _in("en", words[:1].upper() + words[1:]) if words else _("a section")


def _answer_label(stored: str, section: questions.Section | None) -> str:
    """A question named in a ``bid.section_saved`` event's ``changed`` (its label as the
    definition held it, ``answer_changes.questions_changed``): the question's words in the
    reader's language, found in the bid's form; else the catalogue's, else marked English."""
    for question in section.questions if section is not None else []:
        if question.type == "project_dates":
            if stored == (question.label or "start_date"):
                return (_team_words(question.label, question.label_cy) if question.label
                        else _label("start_date"))
            if stored == (question.end_label or "end_date"):
                return (_team_words(question.end_label, question.end_label_cy)
                        if question.end_label else _label("end_date"))
        elif stored == (question.label or question.key):
            return (_team_words(question.label, question.label_cy) if question.label
                    else _in("en", question.key))
    return _team_words(stored)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _workflow_of(action: str, record_type: str = "") -> Any:
    """The workflow whose states a ``status`` detail names: the one of the action's
    transition, else the record's own (a bid's status for a bid)."""
    for workflow in WORKFLOWS.values():
        if any(t.action == action for t in workflow.transitions.values()):
            return workflow
    return WORKFLOWS.get(record_type)


def _sentence(text: str) -> str:
    text = text.strip()
    shown = _MARKS.sub("", text).rstrip()
    return text if not shown or shown[-1] in ".?!" else text + "."


def _line(names: RecordNames, line_id: Any) -> str:
    """A budget line of an award by its item (“Mechanic”), else "a budget line": never its id."""
    item = names.award_lines.get(line_id) if isinstance(line_id, int) else None
    return _("“%(item)s”", item=item) if item else _("a budget line")


def _moves(moves: list[Details], names: RecordNames) -> str:
    parts = []
    for step in moves:
        amount = money(int(step.get("amount") or 0))
        if "from_year" in step:  # a carry-forward (issue 14)
            parts.append(_("%(amount)s of %(line)s from %(from)s to %(to)s", amount=amount,
                           line=_line(names, step.get("line")),
                           **{"from": _year(step.get("from_year")),
                              "to": _year(step.get("to_year"))}))
        elif step.get("to") is None:
            parts.append(_("%(amount)s from %(from)s to a new line “%(item)s”",
                           amount=amount, **{"from": _line(names, step.get("from")),
                                             "item": step.get("new_item") or ""}))
        else:
            parts.append(_("%(amount)s from %(from)s to %(to)s", amount=amount,
                           **{"from": _line(names, step.get("from")),
                              "to": _line(names, step.get("to"))}))
    return "; ".join(parts)


def _year(value: Any) -> str:
    """A financial year by its starting year (2022 or "2022") as users write it, 2022/23."""
    text = str(value)
    return year_label(int(text)) if text.isascii() and text.isdigit() else _("a year")


def _years(before: Details, after: Details) -> str:
    """A carry-forward's lines, each year by year: “Bike lights” 2025/26 £666.67 to £333.34."""
    parts = []
    for item, amounts in after.items():
        was = before.get(item) or {}
        if not isinstance(amounts, dict) or not isinstance(was, dict):
            continue
        for year, pence in sorted(amounts.items()):
            if was.get(year) != pence:
                parts.append(_("“%(item)s” %(year)s from %(before)s to %(after)s", item=item,
                               year=_year(year), before=_pence(was.get(year, 0)),
                               after=_pence(pence)))
    return _("Money carried forward: %(changes)s", changes="; ".join(parts) or _("none"))


def _lines(before: Details, after: Details) -> str:
    parts = []
    for item, pence in after.items():
        if item not in before:
            parts.append(_("“%(item)s” added with %(amount)s", item=item, amount=_pence(pence)))
        elif before[item] != pence:
            parts.append(_("“%(item)s” from %(before)s to %(after)s", item=item,
                           before=_pence(before[item]), after=_pence(pence)))
    return _("Budget lines revised: %(changes)s", changes="; ".join(parts) or _("none"))


def _pence(value: Any) -> str:
    return money(value) if isinstance(value, int) else str(value)


def _scores(scores: Details, names: RecordNames) -> str:
    """Each score beside its criterion's title (“Need”: 4), else "a criterion": never the
    criterion's id, which is what the audit details key scores by."""
    parts = []
    for criterion, given in scores.items():
        number = int(criterion) if str(criterion).isdigit() else None
        title = names.criteria.get(number) if number is not None else None
        which = (_("“%(title)s”", title=_chosen(title, names.criteria_cy.get(number or 0, "")))
                 if title else _("a criterion"))
        score = given.get("score") if isinstance(given, dict) else given
        text = _("%(criterion)s: %(score)s", criterion=which, score=_words("score", score))
        if isinstance(given, dict) and given.get("justification"):
            text += f" ({given['justification']})"
        parts.append(text)
    return "; ".join(parts) or _("none")


def _criterion(criterion: Details) -> str:
    title = _in("en", str(criterion.get("title") or ""))
    if criterion.get("title_cy"):
        return _("%(title)s (in Welsh: %(welsh)s; weight %(weight)s)",
                 title=title, welsh=_in("cy", str(criterion["title_cy"])),
                 weight=criterion.get("weight", ""))
    return _("%(title)s (weight %(weight)s)", title=title, weight=criterion.get("weight", ""))


def _criteria(snapshot: Details) -> str:
    criteria = ", ".join(_criterion(c) for c in snapshot.get("criteria") or [])
    scale = snapshot.get("scale") or {}
    text = _("Criteria: %(criteria)s", criteria=criteria or _("none"))
    if scale:
        text += ". " + _("Scores from %(min)s to %(max)s", min=_words("min", scale.get("min")),
                         max=_words("max", scale.get("max")))
    return text


def _special(action: str, before: Details, after: Details, names: RecordNames,
             bid: BidNames | None = None) -> tuple[list[str], set[str]]:
    """The sentences of actions that read better as one sentence, and the keys they used
    (``bid``: the form and names of the bid the event is about, if it is a bid's)."""
    a = after
    if action == "award.payment_recorded":
        return [_("Payment of %(amount)s recorded, reference %(reference)s, paid on %(date)s",
                  amount=_pence(a.get("amount")), reference=a.get("reference") or _("none"),
                  date=_words("paid_on", a.get("paid_on")))], {"amount", "reference", "paid_on"}
    if action == "award.offered":
        return [_("Grant of %(amount)s offered on bid %(bid)s", amount=_pence(a.get("amount")),
                  bid=a.get("bid") or "")], {"amount", "bid"}
    if action == "award.accepted" and a.get("name"):
        return [_("Accepted by %(name)s, %(role)s", name=a["name"], role=a.get("role") or "")], \
            {"name", "role"}
    if action == "award.repayment_received":
        return [_("Repayment of %(amount)s received on %(date)s, reference %(reference)s",
                  amount=_pence(a.get("amount")), date=_words("received_on", a.get("received_on")),
                  reference=a.get("reference") or _("none"))], {"amount", "received_on",
                                                                "reference"}
    if action == "award.extended":
        return [_("End date moved from %(before)s to %(after)s",
                  before=_words("end_date", before.get("end_date")),
                  after=_words("end_date", a.get("end_date")))], {"end_date"}
    if action == "award.lines_revised":
        return [_lines(before, a)], set(before) | set(a)
    if action == "award.carried_forward":
        return [_years(before, a)], set(before) | set(a)
    if action == "award.payment_plan_revised":
        was, now = before.get("plan") or {}, a.get("plan") or {}
        if not isinstance(was, dict) or not isinstance(now, dict):
            return [], set()
        parts = [_("%(year)s from %(before)s to %(after)s", year=_year(year),
                   before=_pence(was.get(year, 0)), after=_pence(pence))
                 for year, pence in sorted(now.items()) if was.get(year, 0) != pence]
        return [_("Payments planned: %(changes)s", changes="; ".join(parts) or _("none"))], \
            {"plan"}
    if action == "variation.requested":
        if a.get("kind") == "extension":
            said = _("Asked to extend the end date to %(date)s",
                     date=_words("new_end_date", a.get("new_end_date")))
        else:
            said = _("Asked to move %(moves)s", moves=_moves(a.get("moves") or [], names))
        return [said], {"kind", "moves", "new_end_date", "variation"}
    if action in {"decision.approved", "decision.declined"}:
        said = (_("Grant of %(amount)s approved, decision %(reference)s",
                  amount=_pence(a.get("amount")), reference=a.get("reference") or "")
                if action == "decision.approved" else
                _("Declined, decision %(reference)s", reference=a.get("reference") or ""))
        used = {"amount", "reference"}
        if a.get("direct") and a.get("partnership"):
            said = _("Direct award of %(amount)s to %(partnership)s, decision %(reference)s",
                     amount=_pence(a.get("amount")), partnership=a["partnership"],
                     reference=a.get("reference") or "")
            used |= {"direct", "partnership"}
        if "assessments_required" in a and a.get("assessments_required") is None:
            # The round names no number: every assigned assessor's assessment is required.
            said += ". " + _("%(submitted)s of %(assigned)s assessments submitted (every "
                             "assigned assessor's assessment is required)",
                             submitted=a.get("assessments_submitted") or 0,
                             assigned=a.get("assessments_assigned") or 0)
        elif "assessments_required" in a:
            said += ". " + _("%(submitted)s of %(required)s required assessments submitted "
                             "(%(assigned)s assigned)",
                             submitted=a.get("assessments_submitted") or 0,
                             required=a.get("assessments_required"),
                             assigned=a.get("assessments_assigned") or 0)
        if "assessments_required" in a:
            used |= {"assessments_submitted", "assessments_required", "assessments_assigned"}
        if not a.get("override_reason"):
            used.add("override_reason")
        return [said], used
    if action == "bid.created":
        round_name, fund_name = str(a.get("round") or ""), str(a.get("fund") or "")
        if bid is not None:
            round_name = _named(round_name, bid.round_name, bid.round_name_cy)
            fund_name = _named(fund_name, bid.fund_name, bid.fund_name_cy)
        else:
            round_name, fund_name = _in("en", round_name), _in("en", fund_name)
        return [_("Bid started in %(round)s (%(fund)s)", round=round_name, fund=fund_name)], \
            {"round", "fund"}
    if action == "bid.section_saved":
        key = str(a.get("section") or "")
        definition = bid.definition if bid is not None else None
        said = [_("“%(section)s” saved: %(status)s", section=_section_words(key, definition),
                  status=_words("status", a.get("status")))]
        changed = a.get("changed")
        if isinstance(changed, list) and changed:
            section = definition.section(key) if definition is not None else None
            said.append(_("%(label)s: %(value)s", label=_label("changed"),
                          value=", ".join(_answer_label(str(label), section)
                                          for label in changed)))
        return said, {"section", "status", "version", "changed"}
    if action in {"bid.evidence_added", "return.evidence_added"}:
        return [_("File “%(name)s” attached (%(size)s)", name=a.get("file") or "",
                  size=_words("size", a.get("size")))], {"file", "size", "award"}
    if action == "bid.evidence_removed":
        return [_("File “%(name)s” removed", name=before.get("file") or "")], {"file"}
    if action in {"bid.evidence_lost", "return.evidence_lost"}:
        return [_("File “%(name)s” was missing from the file store, so its record was removed",
                  name=before.get("file") or "")], {"file", "stored_as", "award"}
    if action == "bid.submitted" and a.get("reference"):
        return [_("Submitted as %(reference)s", reference=a["reference"])], {"reference"}
    if action == "bid.question_answered":
        return [], {"answered_request"}
    if action.startswith("return."):
        return [], {"award"}
    if action.startswith("variation."):
        return [], {"variation"}
    if action == "assessment.assigned":
        return [_("Assigned to %(name)s", name=a.get("assessor") or "")], {"assessor",
                                                                            "assignment"}
    if action == "assessment.conflict_declared":
        said = (_("%(name)s declared a conflict of interest: %(reason)s",
                  name=a.get("assessor") or "", reason=a.get("reason") or "")
                if a.get("conflicted") else
                _("%(name)s declared no conflict of interest", name=a.get("assessor") or ""))
        return [said], {"assessor", "conflicted", "reason", "conflict"}
    if action in {"assessment.submitted", "assessment.draft_saved", "assessment.rescored"}:
        said = [_("Assessment by %(name)s", name=a.get("assessor") or "")]
        if a.get("weighted") is not None:
            said.append(_("Weighted score %(score)s", score=_words("weighted", a["weighted"])))
        if a.get("recommendation"):
            said.append(_("Recommendation: %(recommendation)s",
                          recommendation=_words("recommendation", a["recommendation"])))
        if a.get("scores"):
            said.append(_("Scores: %(scores)s", scores=_scores(a["scores"], names)))
        return said, set(a) | set(before)
    if action == "assessment.reopened":
        return [_("%(name)s reopened their assessment", name=a.get("assessor") or "")], \
            set(a) | set(before)
    if action == "assessment.moderated":
        said = [_("Moderated score %(score)s", score=_words("weighted", a.get("weighted")))]
        if a.get("scores"):
            said.append(_("Scores: %(scores)s", scores=_scores(a["scores"], names)))
        if a.get("rationale"):
            said.append(_("Rationale: %(text)s", text=a["rationale"]))
        return said, set(a) | set(before)
    if action == "round.criteria_changed":
        return [_criteria(a)], set(a) | set(before)
    return [], set()


def _named(recorded: str, english: str, welsh: str) -> str:
    """A name an event recorded (in English) in the reader's language: the record's Welsh
    when the record still has that English name, else the name as recorded, marked."""
    return _chosen(english, welsh) if recorded and recorded == english else _in("en", recorded)


def _prepared(action: str, details: Details, names: RecordNames,
              bid: BidNames | None) -> Details:
    """An event's details, what is known to be in a language marked as such and the names
    the events record in English put in the reader's language (as ``_Words``)."""
    kind = action.split(".", 1)[0]
    english = _ENGLISH_FIELDS.get(kind, set())
    found = dict(details)
    for key, value in details.items():
        if key.endswith("_cy") and isinstance(value, str):
            found[key] = _Words(_in("cy", value))
        elif key in english and isinstance(value, str):
            found[key] = _Words(_in("en", value))
        elif key in ORGANISATION_KEYS and isinstance(value, str) and value:
            found[key] = _Words(_named(value, value, names.organisations.get(value, ""))
                                if value in names.organisations else _in("en", value))
        elif kind == "form" and key == "question" and isinstance(value, str):
            found[key] = _Words(_in("en", value))  # the key the grants team gave it
        elif key == "section" and kind != "bid" and isinstance(value, str) and value:
            found[key] = _Words(_section_words(value))  # (a bid's: its own sentence)
    return found


def _marked_sentences(action: str, before: Details | None, after: Details | None,
                      record_type: str = "", names: RecordNames | None = None,
                      record_id: Any = None) -> list[str]:
    """``event_sentences``, with the marks of what is in another language than the
    reader's."""
    names = names or RecordNames()
    text = str(record_id or "")
    record = int(text) if text.isascii() and text.isdigit() else None
    bid = names.bids.get(record) if record is not None and record_type == "bid" else None
    before = _prepared(action, _unmarked(dict(before or {})), names, bid)
    after = _prepared(action, _unmarked(dict(after or {})), names, bid)
    states = _workflow_of(action, record_type)
    sentences, used = _special(action, before, after, names, bid)
    for key in list(after) + [k for k in before if k not in after]:
        if key in used:
            continue
        label = _label(key)
        if key in before and key in after:
            if before[key] == after[key]:
                continue
            sentences.append(_("%(label)s changed from %(before)s to %(after)s", label=label,
                               before=_words(key, before[key], states),
                               after=_words(key, after[key], states)))
        elif _empty(before.get(key)) and _empty(after.get(key)):
            continue  # nothing was recorded under it
        elif key in after:
            sentences.append(_("%(label)s: %(value)s", label=label,
                               value=_words(key, after[key], states)))
        else:
            sentences.append(_("%(label)s was %(value)s", label=label,
                               value=_words(key, before[key], states)))
    return [_sentence(s) for s in sentences if s]


def event_sentences(action: str, before: Details | None, after: Details | None,
                    record_type: str = "", names: RecordNames | None = None,
                    record_id: Any = None) -> list[str]:
    """What an audit event recorded, as sentences of plain text: an action's own sentence
    where it has one, then each other detail as "Label: value" (or "Label changed from x to
    y" when the event has both before and after, and unchanged details left out). Records
    the details name by id (budget lines, criteria) are named from ``names``
    (``event_names``), else in words ("a budget line"), never by their id; a bid's questions
    and sections (``record_id``: the bid's) by its form, in the reader's language."""
    return [_MARKS.sub("", sentence) for sentence in _marked_sentences(
        action, before, after, record_type, names, record_id)]


def event_names(events: Any) -> RecordNames:
    """The names of the records a page's events point at by id: one query per kind of record,
    whatever the number of events. ``events``: audit events, or a ``Page`` of them."""
    return record_names(list(getattr(events, "items", events) or []))


def event_details(event: Any, names: RecordNames | None = None) -> Markup:
    """An audit event's details in words (``event_sentences`` joined), escaped, what is in
    another language than the reader's in ``<span lang>``: what histories and the audit trail
    show beside the action's name; ``names`` from ``event_names``."""
    return _markup(" ".join(_marked_sentences(event.action, event.before, event.after,
                                              event.record_type or "", names,
                                              event.record_id)))


def event_record(event: Any, names: RecordNames | None = None) -> str:
    """The record an event of an award's history is about, in words ("Return for 1 April 2026
    to 30 September 2026", "Change asked for: extend the end date"), or "" when the history's
    own record (or one without a name) is meant: never "return 4"."""
    names = names or RecordNames()
    record = int(event.record_id) if str(event.record_id or "").isdigit() else None
    if event.record_type == "return" and record in names.returns:
        kind, start, end = names.returns[record]
        return return_title(kind, start, end)
    if event.record_type == "variation" and record in names.variations:
        words = _choices()["kind"].get(names.variations[record])
        return _("Change asked for: %(kind)s", kind=str(words).lower()) if words else ""
    return ""


def section_title(key: str, bid: Bid | None = None) -> Markup:
    """A bid section's title by its key ("about" -> "About the project"): from ``bid``'s form
    when given (its Welsh where the grants team gave it), else the standard forms'; a section
    of the grants team's own otherwise by its key in words, marked English for a Welsh
    reader."""
    return _markup(_section_words(key, _definition(bid) if bid is not None else None))


def init_app(app: Flask) -> None:
    app.add_template_filter(event_details)
    app.add_template_filter(event_names)
    app.add_template_filter(event_record)
    app.add_template_filter(section_title)
