"""Forms as data (issue 15): a form definition is a list of sections, each a list of questions,
kept as JSON on a ``FormVersion`` and read here, by every layer that shows, checks or exports
answers. Nothing here reads the request or the database.

A definition is ``{"sections": [section, ...]}``; a section is ``{"key", "title", "intro",
"condition", "questions": [question, ...]}``; a question is ``{"key", "type", "label", "hint",
"required", "condition", ...}`` with the options of its type:

- ``limit`` and ``limit_unit`` ("characters" or "words") for text;
- ``low`` and ``high`` for whole numbers and money (money in pence);
- ``choices``: ``[{"value": "a", "text": "A"}, ...]`` for one choice and several choices;
- ``at_least``: the key of an earlier whole-number question this one may not be below;
- ``statements``: the two sentences of the declarations.

Every word the grants team writes may have its Welsh beside it, under the same name with
``_cy`` (issue 16): a section's ``title_cy`` and ``intro_cy``; a question's ``label_cy``,
``hint_cy``, ``error_cy``, ``end_label_cy``, ``end_hint_cy`` and ``statements_cy``; a choice's
``text_cy``. A Welsh reader sees the Welsh where it is given; else the catalogue's Welsh for
the standard forms' words; else the English, which a page marks ``lang="en"``
(:func:`words`, :func:`marked`, ``Section.words``/``Question.marked``...).

A condition is ``{"question": key, "value": value}``: the question or section is shown only
when that earlier question's answer is (or, for several choices, includes) the value. A hidden
question is neither required nor kept.

Answers are saved per section, as today: a question's answer under its key; a built-in
question's under its fixed *parts* (``start_date`` and ``end_date`` for the project's dates,
``rows`` and the match funding for the budget...), which the rest of the portal reads (the
bid's title, dates, amount, budget lines and outcome measures). The rules a definition must
keep (issue 15, "Bad input") are :func:`problems`; the rules an answer must keep,
:func:`answer_problem`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import has_app_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from portal.reference import ISSUE_TYPES

# --- the types of question ------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionType:
    """A kind of question: its name in the designer and what it may be given."""

    code: str
    name: Any
    builtin: bool = False
    #: The answer's names in a section's saved answers (a simple question: its own key).
    parts: tuple[str, ...] = ()
    answers: bool = True  # guidance text has no answer
    choices: bool = False  # one choice, several choices: needs its choices
    limit: bool = False  # text: a limit in characters or words
    range: bool = False  # whole number, money: lowest and highest
    #: Another question may be shown only when this one has a value.
    condition_source: bool = False
    #: A round's application form must have it (removing it breaks the portal's records).
    needed: bool = False
    #: Only application forms (a return's built-in parts are on its page already).
    application_only: bool = False


TYPES: dict[str, QuestionType] = {t.code: t for t in [
    QuestionType("short_text", _l("Short text"), limit=True),
    QuestionType("long_text", _l("Long text"), limit=True),
    QuestionType("whole_number", _l("Whole number"), range=True),
    QuestionType("money", _l("Money"), range=True),
    QuestionType("date", _l("Date")),
    QuestionType("yes_no", _l("Yes or no"), condition_source=True),
    QuestionType("one_choice", _l("One choice"), choices=True, condition_source=True),
    QuestionType("several_choices", _l("Several choices"), choices=True,
                 condition_source=True),
    QuestionType("confirm", _l("A statement to confirm"), condition_source=True),
    QuestionType("rag", _l("Red, amber or green")),
    QuestionType("email", _l("Email address")),
    QuestionType("phone", _l("Phone number")),
    QuestionType("url", _l("Web address")),
    QuestionType("file", _l("File upload")),
    QuestionType("guidance", _l("Guidance text (no answer)"), answers=False),
    # Built in: the parts of a bid the rest of the portal reads. Placed and worded by the
    # grants team, never taken apart.
    QuestionType("title", _l("Project title (built in)"), builtin=True, parts=("title",),
                 needed=True, application_only=True),
    QuestionType("summary", _l("Summary of the project (built in)"), builtin=True,
                 parts=("summary",), limit=True, needed=True, application_only=True),
    QuestionType("project_dates", _l("Project start and end dates (built in)"), builtin=True,
                 parts=("start_date", "end_date"), needed=True, application_only=True),
    QuestionType("issue_types", _l("Issues the project tackles (built in)"), builtin=True,
                 parts=("issue_types",), application_only=True, condition_source=True),
    QuestionType("budget", _l("Budget lines, capital or revenue (built in)"), builtin=True,
                 parts=("rows", "match_funding_pence", "match_funding_sources"), needed=True,
                 application_only=True),
    QuestionType("outcomes", _l("Outcomes with numeric targets (built in)"), builtin=True,
                 parts=("rows",), needed=True, application_only=True),
    QuestionType("declarations", _l("Declarations (built in)"), builtin=True,
                 parts=("accurate", "authorised", "name", "role"), needed=True,
                 application_only=True),
]}

#: The simple types a grants team may add, in the order the designer offers them.
SIMPLE_TYPES = [code for code, kind in TYPES.items() if not kind.builtin]
BUILTIN_TYPES = [code for code, kind in TYPES.items() if kind.builtin]
#: Names a simple question's key may not take: built-in parts, and the section form's own.
#: A section's form keeps its questions as attributes under their keys, so a key may not be
#: one of the form's own names either (``tests/unit/test_questions.py`` keeps this complete).
RESERVED_KEYS = frozenset(part for kind in TYPES.values() for part in kind.parts) | {
    "version", "completed", "submit", "csrf_token", "once", "actions_seen", "meta", "data",
    "errors", "validate", "validate_on_submit", "is_submitted", "hidden_tag", "populate_obj",
    "process", "post_process", "answers", "answer_field", "allowed_names", "blocks", "check",
    "completing", "completion", "every", "is_completing", "load", "multi_year", "multipart",
    "round_years", "section", "shown_keys", "uploads", "validate_end_date", "form_errors",
    "extra_validators"}

#: Words the designer's addresses use beside a section's key (``/sections/new``).
ROUTE_WORDS = frozenset({"new"})

RAG_CHOICES = [("green", _l("Green")), ("amber", _l("Amber")), ("red", _l("Red"))]
YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]
LIMIT_UNITS = ("characters", "words")

# Bounds of the options (each a column or a page's sense, not a guess).
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
SECTION_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,29}$")  # bid_sections.key is 30 long
MOST_SECTIONS = 30
MOST_QUESTIONS = 60  # in a section
MOST_CHOICES = 50
LONGEST_LABEL = 500
LONGEST_HINT = 2000
LONGEST_CHOICE = 200
LONGEST_TITLE = 120
MOST_CHARACTERS = 20_000
MOST_WORDS = 3_000
DEFAULT_SHORT_LIMIT = 200
DEFAULT_LONG_LIMIT = 2000
HIGHEST_NUMBER = 10_000_000  # an INTEGER column holds it with room to spare
HIGHEST_MONEY = 100_000_000_000  # £1,000,000,000 in pence

EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
PHONE = re.compile(r"^\+?[0-9 ()-]{7,20}$")
URL = re.compile(r"^https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[^\s]*)?$", re.IGNORECASE)


# --- a definition, read ---------------------------------------------------------------------


@dataclass
class Question:
    key: str
    type: str
    label: str = ""
    hint: str = ""
    required: bool = True
    condition: dict[str, str] | None = None
    limit: int | None = None
    limit_unit: str = "characters"
    low: int | None = None
    high: int | None = None
    choices: list[dict[str, str]] = field(default_factory=list)
    at_least: str | None = None
    statements: list[str] = field(default_factory=list)
    end_label: str = ""  # the project's dates: the second date's label and hint
    end_hint: str = ""
    #: The message when a required answer is missing (GOV.UK: "Enter your full name");
    #: empty: "Enter an answer to “label”".
    error: str = ""
    # The Welsh of the words above, where the grants team gave it (issue 16).
    label_cy: str = ""
    hint_cy: str = ""
    error_cy: str = ""
    end_label_cy: str = ""
    end_hint_cy: str = ""
    statements_cy: list[str] = field(default_factory=list)

    @property
    def kind(self) -> QuestionType:
        return TYPES[self.type]

    def words(self, name: str) -> str:
        """Its ``name`` (label, hint, error, end_label, end_hint) in the reader's language."""
        return words(getattr(self, name), getattr(self, f"{name}_cy"))

    def marked(self, name: str, *, block: bool = False) -> Markup:
        """:meth:`words`, escaped, English shown to a Welsh reader marked ``lang="en"``."""
        return marked(getattr(self, name), getattr(self, f"{name}_cy"), block=block)

    def statement_pairs(self) -> list[tuple[str, str]]:
        """The declarations' two statements: (English, Welsh), "" where there is none."""
        english = [*self.statements, "", ""][:2]
        welsh = [*self.statements_cy, "", ""][:2]
        return list(zip(english, welsh, strict=True))

    @property
    def parts(self) -> tuple[str, ...]:
        """Its answer's names in the section's saved answers."""
        if not self.kind.answers:
            return ()
        return self.kind.parts or (self.key,)

    def choice_pairs(self) -> list[tuple[str, str]]:
        """(value, words) of the answers it offers: its own, or those of its type."""
        if self.type == "yes_no":
            return [(v, str(t)) for v, t in YES_NO]
        if self.type == "rag":
            return [(v, str(t)) for v, t in RAG_CHOICES]
        if self.type == "confirm":
            return [("yes", _("Confirmed"))]
        if self.type == "issue_types":
            return [(v, str(t)) for v, t in ISSUE_TYPES]
        return [(c.get("value", ""), c.get("text", "")) for c in self.choices]

    def choice_welsh(self) -> dict[str, str]:
        """The Welsh of its own choices' words, by value, where given."""
        return {c["value"]: c["text_cy"] for c in self.choices if c.get("text_cy")}

    def text_limit(self) -> int:
        if self.limit is not None:
            return self.limit
        return DEFAULT_LONG_LIMIT if self.type in ("long_text", "summary") \
            else DEFAULT_SHORT_LIMIT

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "type": self.type, "label": self.label,
                                "hint": self.hint, "required": self.required}
        if self.error:
            data["error"] = self.error
        for name in ("label_cy", "hint_cy", "error_cy"):
            if getattr(self, name):
                data[name] = getattr(self, name)
        if self.condition:
            data["condition"] = dict(self.condition)
        if self.kind.limit:
            data["limit"] = self.limit
            data["limit_unit"] = self.limit_unit
        if self.kind.range:
            data["low"], data["high"] = self.low, self.high
        if self.kind.choices:
            data["choices"] = [dict(c) for c in self.choices]
        if self.at_least:
            data["at_least"] = self.at_least
        if self.type == "declarations":
            data["statements"] = list(self.statements)
            if any(self.statements_cy):
                data["statements_cy"] = list(self.statements_cy)
        if self.type == "project_dates":
            data["end_label"], data["end_hint"] = self.end_label, self.end_hint
            for name in ("end_label_cy", "end_hint_cy"):
                if getattr(self, name):
                    data[name] = getattr(self, name)
        return data


@dataclass
class Section:
    key: str
    title: str
    intro: str = ""
    condition: dict[str, str] | None = None
    questions: list[Question] = field(default_factory=list)
    title_cy: str = ""
    intro_cy: str = ""

    def words(self, name: str) -> str:
        """Its ``title`` or ``intro`` in the reader's language."""
        return words(getattr(self, name), getattr(self, f"{name}_cy"))

    def marked(self, name: str, *, block: bool = False) -> Markup:
        """:meth:`words`, escaped, English shown to a Welsh reader marked ``lang="en"``."""
        return marked(getattr(self, name), getattr(self, f"{name}_cy"), block=block)

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)

    def has(self, type_code: str) -> bool:
        return any(q.type == type_code for q in self.questions)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "title": self.title, "intro": self.intro,
                                "questions": [q.as_json() for q in self.questions]}
        for name in ("title_cy", "intro_cy"):
            if getattr(self, name):
                data[name] = getattr(self, name)
        if self.condition:
            data["condition"] = dict(self.condition)
        return data


@dataclass
class Definition:
    sections: list[Section] = field(default_factory=list)

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def questions(self) -> Iterator[tuple[Section, Question]]:
        for section in self.sections:
            for question in section.questions:
                yield section, question

    def question(self, key: str) -> Question | None:
        return next((q for _s, q in self.questions() if q.key == key), None)

    def builtin(self, type_code: str) -> tuple[Section, Question] | None:
        return next(((s, q) for s, q in self.questions() if q.type == type_code), None)

    def as_json(self) -> dict[str, Any]:
        return {"sections": [s.as_json() for s in self.sections]}


def _text(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _condition(value: Any) -> dict[str, str] | None:
    if isinstance(value, dict) and isinstance(value.get("question"), str):
        return {"question": value["question"], "value": _text(value.get("value"))}
    return None


def _choice(data: dict[str, Any]) -> dict[str, str]:
    choice = {"value": _text(data.get("value")), "text": _text(data.get("text"))}
    if _text(data.get("text_cy")):
        choice["text_cy"] = data["text_cy"]
    return choice


def read_question(data: dict[str, Any]) -> Question:
    choices = [_choice(c) for c in data.get("choices") or [] if isinstance(c, dict)]
    return Question(
        key=_text(data.get("key")), type=_text(data.get("type"), "short_text"),
        label=_text(data.get("label")), hint=_text(data.get("hint")),
        required=bool(data.get("required", True)), condition=_condition(data.get("condition")),
        limit=_int(data.get("limit")), limit_unit=_text(data.get("limit_unit"), "characters"),
        low=_int(data.get("low")), high=_int(data.get("high")), choices=choices,
        at_least=_text(data.get("at_least")) or None,
        statements=[s for s in data.get("statements") or [] if isinstance(s, str)],
        end_label=_text(data.get("end_label")), end_hint=_text(data.get("end_hint")),
        error=_text(data.get("error")), label_cy=_text(data.get("label_cy")),
        hint_cy=_text(data.get("hint_cy")), error_cy=_text(data.get("error_cy")),
        end_label_cy=_text(data.get("end_label_cy")),
        end_hint_cy=_text(data.get("end_hint_cy")),
        statements_cy=[s if isinstance(s, str) else "" for s in
                       (data.get("statements_cy") or [])][:2])


def read(data: dict[str, Any] | None) -> Definition:
    """A definition from its JSON (a malformed part reads as empty: :func:`problems` says
    what is wrong with it)."""
    sections = []
    for raw in (data or {}).get("sections") or []:
        if not isinstance(raw, dict):
            continue
        questions = [read_question(q) for q in raw.get("questions") or []
                     if isinstance(q, dict) and q.get("type") in TYPES]
        sections.append(Section(key=_text(raw.get("key")), title=_text(raw.get("title")),
                                intro=_text(raw.get("intro")),
                                condition=_condition(raw.get("condition")),
                                questions=questions, title_cy=_text(raw.get("title_cy")),
                                intro_cy=_text(raw.get("intro_cy"))))
    return Definition(sections)


# --- words: the standard wording in the reader's language -----------------------------------


def welsh_reader() -> bool:
    """Whether the locale in force (the reader's) is Welsh. (``portal.bilingual`` says the
    same; this module is read by forms, which may not import what that module reads.)"""
    locale = get_locale() if has_app_context() else None
    return locale is not None and locale.language == "cy"


def words(text: str, welsh: str = "") -> str:
    """A label, hint or title in the reader's language, as plain text: for a Welsh reader the
    Welsh the grants team gave (``welsh``); else the message catalogue's (the standard forms'
    words are in it: ``portal/standard_forms.py`` marks them); else the words as written."""
    if welsh and welsh.strip() and welsh_reader():
        return welsh
    return _(text) if text else ""


def in_english(text: str, welsh: str = "") -> bool:
    """Whether :func:`words` shows a Welsh reader English: no Welsh given and none in the
    catalogue. (False for an English reader: a page in English needs no marking.)"""
    if not text.strip() or welsh.strip() or not welsh_reader():
        return False
    return _(text) == text


def marked(text: str, welsh: str = "", *, block: bool = False) -> Markup:
    """:func:`words`, escaped for a page, English shown to a Welsh reader in
    ``<span lang="en">`` (``<div>`` for ``block``), so a screen reader reads it as English
    (WCAG 2.2, 3.1.2 Language of Parts)."""
    shown = escape(words(text, welsh))
    if not in_english(text, welsh):
        return shown
    tag = "div" if block else "span"
    return Markup(f'<{tag} lang="en">{shown}</{tag}>')


def marked_message(message: str, question: Question) -> str:
    """An error ``message`` about ``question`` for a page: a Welsh reader's English in it
    (the question's own error message, or its label inside a sentence of the catalogue's)
    marked ``lang="en"``; else as it is (plain text, escaped where it is shown)."""
    if not message or not welsh_reader():
        return message
    if message == question.error and in_english(question.error, question.error_cy):
        return marked(question.error)
    label = question.label
    if in_english(label, question.label_cy) and label in message:
        return escape(message).replace(escape(label), marked(label), 1)
    return message


# --- what a definition must keep ------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Why a definition cannot work: the section and question it is about (keys; None for
    the form as a whole) and the designer's field to show it beside."""

    section: str | None
    question: str | None
    field: str
    message: str


def _order(definition: Definition) -> dict[str, int]:
    return {q.key: index for index, (_s, q) in enumerate(definition.questions())}


def _check_condition(condition: dict[str, str] | None, definition: Definition,
                     before: int, own_key: str | None) -> tuple[str, str] | None:
    """(field, message) when a condition cannot work: not on an earlier question that can
    have a value, or on a value it cannot have."""
    if not condition:
        return None
    subject = condition.get("question") or ""
    order = _order(definition)
    if subject == own_key:
        return "condition_question", _("A question cannot depend on its own answer")
    target = definition.question(subject)
    if target is None:
        return "condition_question", _("Select a question from the list")
    if order[subject] >= before:
        return "condition_question", _("The question it depends on must come before it")
    if not target.kind.condition_source:
        return "condition_question", _("Select a yes or no, choice or confirm question")
    if condition.get("value") not in {v for v, _t in target.choice_pairs()}:
        return "condition_value", _("Select one of the answers to “%(label)s”",
                                    label=target.words("label"))
    return None


def problems(definition: Definition, *, application: bool = True) -> list[Problem]:
    """Everything that keeps ``definition`` from working, beside the designer's fields: keys
    (unique, lower-case letters, digits and _), labels, choices, limits and ranges, conditions
    only on earlier questions, each built-in part at most once and, on an application form,
    every part the portal needs (issue 15, "Bad input"). An empty list: it works."""
    found: list[Problem] = []
    order = _order(definition)
    section_keys: set[str] = set()
    question_keys: set[str] = set()
    builtins: dict[str, str] = {}
    if application and not definition.sections:
        found.append(Problem(None, None, "sections", _("Add at least one section")))
    if len(definition.sections) > MOST_SECTIONS:
        found.append(Problem(None, None, "sections",
                             _("A form can have at most %(n)d sections", n=MOST_SECTIONS)))
    position = 0
    for section in definition.sections:
        def add(question: str | None, where: str, message: str,
                _section: str = section.key) -> None:
            found.append(Problem(_section, question, where, message))

        if section.key in ROUTE_WORDS:
            add(None, "key", _("“%(key)s” is kept for the portal’s own pages: choose another "
                               "key", key=section.key))
        elif not SECTION_KEY_PATTERN.match(section.key):
            add(None, "key", _("The section’s key must start with a lower-case letter and use "
                               "only lower-case letters, digits and _, at most 30"))
        elif section.key in section_keys:
            add(None, "key", _("Another section has the key “%(key)s”", key=section.key))
        section_keys.add(section.key)
        if not section.title.strip():
            add(None, "title", _("Enter the section’s title"))
        elif len(section.title) > LONGEST_TITLE:
            add(None, "title", _("Title must be %(n)d characters or fewer", n=LONGEST_TITLE))
        if len(section.title_cy) > LONGEST_TITLE:
            add(None, "title_cy", _("Title in Welsh must be %(n)d characters or fewer",
                                    n=LONGEST_TITLE))
        if len(section.intro) > LONGEST_HINT:
            add(None, "intro", _("Introduction must be %(n)d characters or fewer",
                                 n=LONGEST_HINT))
        if len(section.intro_cy) > LONGEST_HINT:
            add(None, "intro_cy", _("Introduction in Welsh must be %(n)d characters or fewer",
                                    n=LONGEST_HINT))
        first = position
        problem = _check_condition(section.condition, definition, first, None)
        if problem is not None:
            add(None, *problem)
        if len(section.questions) > MOST_QUESTIONS:
            add(None, "questions", _("A section can have at most %(n)d questions",
                                     n=MOST_QUESTIONS))
        parts_here: dict[str, str] = {}
        for question in section.questions:
            kind = question.kind
            key = question.key

            def say(where: str, message: str, _key: str = key) -> None:
                add(_key, where, message)

            if not KEY_PATTERN.match(key):
                say("key", _("The key must start with a lower-case letter and use only "
                             "lower-case letters, digits and _, at most 40"))
            elif key in question_keys:
                say("key", _("Another question has the key “%(key)s”", key=key))
            elif not kind.builtin and key in RESERVED_KEYS:
                say("key", _("“%(key)s” is kept for a built-in question: choose another key",
                             key=key))
            question_keys.add(key)
            if question.type == "file" and not application:
                say("type", _("A return cannot ask for a file here: returns have their own "
                              "evidence upload"))
            if kind.builtin:
                if key != question.type:
                    say("key", _("A built-in question keeps its key “%(key)s”",
                                 key=question.type))
                if question.type in builtins:
                    say("type", _("The form already has this built-in question"))
                builtins[question.type] = section.key
                if not application and kind.application_only:
                    say("type", _("A return’s built-in parts are already on its page"))
            for part in question.parts:
                if part in parts_here:
                    say("type", _("“%(one)s” and “%(other)s” cannot be in the same section",
                                  one=question.words("label") or question.type,
                                  other=parts_here[part]))
                parts_here[part] = question.words("label") or question.type
            if question.type == "guidance" and not (question.label.strip()
                                                   or question.hint.strip()):
                say("hint", _("Enter the guidance text"))
            elif not question.label.strip() and question.type not in ("declarations",
                                                                       "guidance"):
                say("label", _("Enter the question’s text"))
            elif len(question.label) > LONGEST_LABEL:
                say("label", _("Question must be %(n)d characters or fewer", n=LONGEST_LABEL))
            if len(question.error) > LONGEST_LABEL:
                say("error", _("Error message must be %(n)d characters or fewer",
                               n=LONGEST_LABEL))
            if len(question.hint) > LONGEST_HINT:
                say("hint", _("Hint must be %(n)d characters or fewer", n=LONGEST_HINT))
            for problem in _welsh_problems(question):
                say(*problem)
            if kind.limit and question.limit is not None:
                most = MOST_WORDS if question.limit_unit == "words" else MOST_CHARACTERS
                if question.limit_unit not in LIMIT_UNITS:
                    say("limit_unit", _("Select characters or words"))
                elif question.limit < 1:
                    say("limit", _("The limit must be 1 or more"))
                elif question.limit > most:
                    say("limit", _("The limit must be %(n)s or less", n=f"{most:,}"))
            if kind.range:
                ceiling = HIGHEST_MONEY if question.type == "money" else HIGHEST_NUMBER
                for name, value in (("low", question.low), ("high", question.high)):
                    if value is not None and value < 0:
                        say(name, _("The lowest and highest answers must be 0 or more"))
                    elif value is not None and value > ceiling:
                        say(name, _("The highest answer allowed is too large"))
                if question.low is not None and question.high is not None and \
                        question.high < question.low:
                    say("high", _("The highest answer must be the same as or more than the "
                                  "lowest"))
            if kind.choices:
                values = [c["value"] for c in question.choices]
                if not question.choices:
                    say("choices", _("Enter at least one choice"))
                elif len(question.choices) > MOST_CHOICES:
                    say("choices", _("A question can have at most %(n)d choices",
                                     n=MOST_CHOICES))
                elif any(not c["text"].strip() or not c["value"] for c in question.choices):
                    say("choices", _("Every choice needs its words"))
                elif len(set(values)) != len(values):
                    say("choices", _("Two choices are the same: each choice must differ"))
                elif any(len(c["text"]) > LONGEST_CHOICE for c in question.choices):
                    say("choices", _("Each choice must be %(n)d characters or fewer",
                                     n=LONGEST_CHOICE))
                welsh = [c.get("text_cy", "").strip().casefold() for c in question.choices
                         if c.get("text_cy", "").strip()]
                if len(set(welsh)) != len(welsh):
                    say("choices_cy", _("Two choices in Welsh are the same: each choice must "
                                        "differ"))
                elif any(len(c.get("text_cy", "")) > LONGEST_CHOICE for c in question.choices):
                    say("choices_cy", _("Each choice in Welsh must be %(n)d characters or "
                                        "fewer", n=LONGEST_CHOICE))
            if question.at_least:
                other = definition.question(question.at_least)
                if other is None or other.type != "whole_number" or \
                        order.get(question.at_least, position) >= position:
                    say("at_least", _("Select an earlier whole-number question"))
            if question.type == "declarations" and (
                    len(question.statements) != 2
                    or any(not s.strip() or len(s) > LONGEST_LABEL
                           for s in question.statements)):
                say("statements", _("Enter the two statements the applicant confirms"))
            if kind.builtin and question.condition:
                say("condition_question", _("A built-in question is always shown"))
            problem = _check_condition(question.condition, definition, position, key)
            if problem is not None:
                say(*problem)
            position += 1
        if section.condition and any(q.kind.builtin for q in section.questions):
            add(None, "condition_question",
                _("A section with a built-in question is always shown"))
    for section in definition.sections:
        if section.key in question_keys and section.question(section.key) is None:
            found.append(Problem(section.key, None, "key", _(
                "A question has the key “%(key)s”: a section and a question cannot share one",
                key=section.key)))
    if application:
        for code in BUILTIN_TYPES:
            if TYPES[code].needed and code not in builtins:
                found.append(Problem(None, None, "sections",
                                     _("The form needs its “%(name)s” question",
                                       name=TYPES[code].name)))
    return found


def _welsh_problems(question: Question) -> list[tuple[str, str]]:
    """(field, message) for each Welsh word of ``question`` longer than its English may be
    (``label_cy`` beside the designer's "Question in Welsh" box...)."""
    found = []
    for name, most, message in (
            ("label_cy", LONGEST_LABEL, _l("Question in Welsh must be %(n)d characters or "
                                           "fewer")),
            ("hint_cy", LONGEST_HINT, _l("Hint in Welsh must be %(n)d characters or fewer")),
            ("error_cy", LONGEST_LABEL, _l("Error message in Welsh must be %(n)d characters "
                                           "or fewer")),
            ("end_label_cy", LONGEST_LABEL, _l("Second date’s label in Welsh must be %(n)d "
                                               "characters or fewer")),
            ("end_hint_cy", LONGEST_HINT, _l("Second date’s hint in Welsh must be %(n)d "
                                             "characters or fewer"))):
        if len(getattr(question, name)) > most:
            found.append((name, str(message) % {"n": most}))
    for number, statement in enumerate(question.statements_cy[:2], start=1):
        if len(statement) > LONGEST_LABEL:
            found.append((f"statement_{number}_cy", _(
                "Statement in Welsh must be %(n)d characters or fewer", n=LONGEST_LABEL)))
    return found


def depends_on(definition: Definition, key: str) -> list[str]:
    """The keys (questions and sections) shown only by an answer to ``key``."""
    found = []
    for section in definition.sections:
        if section.condition and section.condition.get("question") == key:
            found.append(section.key)
        for question in section.questions:
            if question.condition and question.condition.get("question") == key or \
                    question.at_least == key:
                found.append(question.key)
    return found


# --- conditions -----------------------------------------------------------------------------


def meets(condition: dict[str, str] | None, answers: dict[str, Any]) -> bool:
    """Whether a condition holds for ``answers`` (every section's, by question key)."""
    if not condition:
        return True
    value = answers.get(condition.get("question") or "")
    wanted = condition.get("value")
    if isinstance(value, list):
        return wanted in value
    if isinstance(value, bool):
        return value == (wanted == "yes")
    return value == wanted


@dataclass(frozen=True)
class ConditionWords:
    """A condition in the reader's words: the question it reads and the answer it waits for
    (a confirm question's: that it is confirmed). ``label`` and ``value`` are plain text (an
    option of a select, an export); ``label_marked`` and ``value_marked`` the same for a page,
    English shown to a Welsh reader marked ``lang="en"`` (see :meth:`sentence`)."""

    label: str
    value: str
    confirm: bool
    label_marked: Markup = Markup("")
    value_marked: Markup = Markup("")

    def sentence(self, message: str, *, label: str = "label", value: str = "value") -> Markup:
        """``message``, a sentence of the catalogue already translated but not yet filled
        in (``_("Only if your answer to “%(label)s” is “%(value)s”.")``), escaped, with the
        marked label and value put in its ``%(label)s`` and ``%(value)s`` (or the names
        given): a Welsh sentence around an English label marks just the label ``lang="en"``
        (WCAG 2.2, 3.1.2). Never ``_(message, label=…)``, which would make it text again."""
        return escape(message) % {label: self.label_marked or escape(self.label),
                                  value: self.value_marked or escape(self.value)}


def condition_words(find: Definition | Section, condition: dict[str, str] | None
                    ) -> ConditionWords | None:
    """``condition`` in words, its question looked up in ``find`` (a definition, or the
    section holding both); None without a condition or when its question is not there. Each
    page words the sentence its own way (:meth:`ConditionWords.sentence` for a page)."""
    if not condition:
        return None
    source = find.question(condition.get("question") or "")
    if source is None:
        return None
    value = condition.get("value") or ""
    label = source.words("label")
    value_marked = dict(choices_marked(source)).get(value)
    return ConditionWords(
        label or source.key, dict(choices_of(source)).get(value, value),
        source.type == "confirm",
        label_marked=source.marked("label") if label else _as_typed(source.key),
        value_marked=escape(value_marked) if value_marked is not None else _as_typed(value))


def _as_typed(text: str) -> Markup:
    """A key or value as it is stored (not words of the catalogue's), escaped, marked
    ``lang="en"`` for a Welsh reader."""
    if text.strip() and welsh_reader():
        return Markup(f'<span lang="en">{escape(text)}</span>')
    return escape(text)


def merged(saved: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Every section's saved answers in one mapping (simple question keys are unique in a
    form, so conditions can read them)."""
    answers: dict[str, Any] = {}
    for section_answers in saved:
        answers.update(section_answers or {})
    return answers


def visible(definition: Definition, saved: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The answers that count (by name), from saved answers by section key: walking the form
    in order, a section or question counts only if its condition holds on what counted
    before it, so an answer in a hidden section, or to a hidden question, shows or requires
    nothing later (conditions read only earlier questions)."""
    counted: dict[str, Any] = {}
    for section in definition.sections:
        if not meets(section.condition, counted):
            continue
        answers = saved.get(section.key) or {}
        for question in section.questions:
            if meets(question.condition, counted):
                counted.update({part: answers[part] for part in question.parts
                                if part in answers})
    return counted


def shown_sections(definition: Definition, answers: dict[str, Any]) -> list[Section]:
    """The sections shown for ``answers``: a hidden section's questions are neither asked
    nor kept. A section with nothing to answer yet (the grants team is still adding its
    questions, or it holds guidance alone) is not a task."""
    return [s for s in definition.sections if meets(s.condition, answers)
            and any(q.kind.answers for q in s.questions)]


def shown_questions(section: Section, answers: dict[str, Any]) -> list[Question]:
    return [q for q in section.questions if meets(q.condition, answers)]


def kept(section: Section, answers: dict[str, Any], every: dict[str, Any]) -> dict[str, Any]:
    """A section's ``answers`` without those of hidden questions; conditions read ``every``
    (all sections' answers, this section's as given)."""
    everything = {**every, **answers}
    names = {part for q in shown_questions(section, everything) for part in q.parts}
    return {name: value for name, value in answers.items() if name in names}


# --- what an answer must keep ---------------------------------------------------------------


def word_count(text: str) -> int:
    return len(text.split())


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def answer_problem(question: Question, value: Any, *, completing: bool) -> str | None:
    """Why ``value`` (as saved: text, whole number, pence, ISO date, a choice's value, a list
    of them, True) cannot be ``question``'s answer, or None. Missing answers count only when
    ``completing`` a required question. Built-in questions are checked by their own forms and
    services; here only that a required one has its answer."""
    kind = question.kind
    label = question.words("label")
    if not kind.answers or kind.builtin:
        return None
    if _empty(value):
        own = question.words("error")
        if completing and question.required and own:
            return own
        if completing and question.required:
            if question.type in ("one_choice", "several_choices", "yes_no", "rag"):
                return _("Select an answer to “%(label)s”", label=label)
            if question.type == "confirm":
                return _("Confirm “%(label)s”", label=label)
            if question.type == "file":
                return _("Select a file for “%(label)s”", label=label)
            return _("Enter an answer to “%(label)s”", label=label)
        return None
    if question.type in ("short_text", "long_text", "email", "phone", "url"):
        if not isinstance(value, str):
            return _("Enter text for “%(label)s”", label=label)
        limit = question.text_limit() if kind.limit else 320
        if question.limit_unit == "words" and kind.limit:
            if len(value) > MOST_CHARACTERS:  # a limit in words caps the characters too
                return _("“%(label)s” must be %(n)s characters or fewer", label=label,
                         n=f"{MOST_CHARACTERS:,}")
            if word_count(value) > limit:
                return _("“%(label)s” must be %(n)s words or fewer", label=label,
                         n=f"{limit:,}")
        elif len(value) > limit:
            return _("“%(label)s” must be %(n)s characters or fewer", label=label,
                     n=f"{limit:,}")
        if question.type == "email" and not EMAIL.match(value):
            return _("Enter an email address in the correct format, like name@example.org")
        if question.type == "phone" and not PHONE.match(value):
            return _("Enter a phone number, like 01632 960 001 or +44 7700 900 982")
        if question.type == "url" and not URL.match(value):
            return _("Enter a web address starting with https:// or http://, like "
                     "https://example.org")
        return None
    if question.type in ("whole_number", "money"):
        if _int(value) is None:
            return _("Enter a whole number for “%(label)s”", label=label)
        # Worded as the number fields word them (forms/fields.py), so a page and the
        # server say the same: "Count must be 50 or fewer", "Amount must be £100.00 or more".
        shown = _shown_number(question)
        ceiling = HIGHEST_MONEY if question.type == "money" else HIGHEST_NUMBER
        low = max(question.low or 0, 0)
        high = min(question.high if question.high is not None else ceiling, ceiling)
        if value < low:
            return _("%(label)s must be %(low)s or more", label=label, low=shown(low))
        if value > high:
            if question.type == "money":
                return _("%(label)s must be %(high)s or less", label=label, high=shown(high))
            return _("%(label)s must be %(high)s or fewer", label=label, high=shown(high))
        return None
    if question.type == "date":
        try:
            date.fromisoformat(value)
        except (TypeError, ValueError):
            return _("Enter a real date for “%(label)s”", label=label)
        return None
    values = {v for v, _t in question.choice_pairs()}
    if question.type == "several_choices":
        if not isinstance(value, list) or any(v not in values for v in value):
            return _("Select the answers to “%(label)s” from the list", label=label)
        if len(set(value)) != len(value):
            return _("Select each answer to “%(label)s” once", label=label)
        return None
    if question.type == "confirm":
        return None if value is True else _("Confirm “%(label)s”", label=label)
    if question.type == "file":
        return None if _int(value) is not None else _("Select a file for “%(label)s”",
                                                       label=label)
    if value not in values:
        return _("Select an answer to “%(label)s” from the list", label=label)
    return None


def pounds(pence: int) -> str:
    """Pence as pounds, "£1,234.50" (the ``money`` filter's form; this module is read by
    forms, which may not reach the database that ``portal.formatting`` does)."""
    sign = "-" if pence < 0 else ""
    pence = abs(pence)
    return f"{sign}£{pence // 100:,}.{pence % 100:02d}"


def _shown_number(question: Question) -> Any:
    if question.type == "money":
        return pounds
    return lambda n: f"{n:,}"


def builtin_missing(question: Question, answers: dict[str, Any]) -> bool:
    """Whether a required built-in question lacks its answer in its section's ``answers``."""
    code = question.type
    if code in ("title", "summary"):
        return not str(answers.get(code) or "").strip()
    if code == "project_dates":
        return not answers.get("start_date") or not answers.get("end_date")
    if code == "issue_types":
        return not answers.get("issue_types")
    if code in ("budget", "outcomes"):
        return not answers.get("rows")
    if code == "declarations":
        return not (answers.get("accurate") is True and answers.get("authorised") is True
                    and str(answers.get("name") or "").strip()
                    and str(answers.get("role") or "").strip())
    return False


def section_problems(section: Section, answers: dict[str, Any], every: dict[str, Any], *,
                     completing: bool) -> dict[str, str]:
    """Each shown question's problem with its saved answer, by answer name: what keeps a
    section from being complete, checked from the definition alone."""
    everything = {**every, **answers}
    found: dict[str, str] = {}
    for question in shown_questions(section, everything):
        if question.kind.builtin:
            text = answers.get(question.type)
            if question.type in ("title", "summary") and isinstance(text, str):
                # A limit the grants team tightened since the answer was typed counts too.
                limit = LONGEST_TITLE if question.type == "title" else question.text_limit()
                over = word_count(text) > limit if question.type == "summary" and \
                    question.limit_unit == "words" else len(text) > limit
                if over:
                    unit = "words" if question.type == "summary" and \
                        question.limit_unit == "words" else "characters"
                    found[question.type] = _("“%(label)s” must be %(n)s words or fewer",
                                             label=question.words("label"), n=f"{limit:,}") \
                        if unit == "words" else _(
                            "“%(label)s” must be %(n)s characters or fewer",
                            label=question.words("label"), n=f"{limit:,}")
                    continue
            if completing and (question.required or question.kind.needed) and \
                    builtin_missing(question, answers):
                found[question.parts[0]] = question.words("error") or _(
                    "Answer “%(label)s”", label=question.words("label") or question.type)
            continue
        problem = answer_problem(question, answers.get(question.key), completing=completing)
        if problem is None and question.at_least and _int(answers.get(question.key)) is not \
                None and _int(everything.get(question.at_least)) is not None and \
                answers[question.key] < everything[question.at_least]:
            other = next((q for q in section.questions if q.key == question.at_least), None)
            problem = _("“%(label)s” must be the same as or more than “%(other)s”",
                        label=question.words("label"),
                        other=other.words("label") if other else question.at_least)
        if problem is not None:
            found[question.key] = problem
    return found


def unknown_names(section: Section, answers: dict[str, Any]) -> list[str]:
    """Names in ``answers`` that no question of the section has: refused, never kept."""
    names = {part for q in section.questions for part in q.parts}
    return sorted(name for name in answers if name not in names)


# --- moving answers to a new version --------------------------------------------------------


def carried(definition: Definition, saved: dict[str, dict[str, Any]]
            ) -> dict[str, dict[str, Any]]:
    """Saved answers (section key -> answers) moved into ``definition``: each answer goes to
    the section that now holds its question, answers to questions no longer asked are left
    behind (issue 15: drafts move to a new version with their answers kept where the question
    still exists)."""
    by_name: dict[str, Any] = {}
    for section_answers in saved.values():
        for name, value in (section_answers or {}).items():
            by_name.setdefault(name, value)
    # Built-in parts share names across sections ("rows"): take them from the section that
    # held the same built-in question before.
    moved: dict[str, dict[str, Any]] = {}
    for section in definition.sections:
        answers: dict[str, Any] = {}
        for question in section.questions:
            if question.kind.builtin:
                source = next((a for a in saved.values()
                               if _held(a, question)), None)
                if source is not None:
                    answers.update({p: source[p] for p in question.parts if p in source})
            elif question.kind.answers and question.key in by_name and \
                    fits(question, by_name[question.key]):
                answers[question.key] = by_name[question.key]
        if answers:
            moved[section.key] = answers
    return moved


def fits(question: Question, value: Any) -> bool:
    """Whether a saved answer can be an answer to ``question`` at all (its kind of value, a
    choice it still offers): a key given to a question of another type, or a choice taken
    away, leaves the old answer behind. An answer that merely breaks a tightened limit is
    kept, for its section to be finished again."""
    code = question.type
    if value is None:
        return True
    if code in ("short_text", "long_text", "email", "phone", "url"):
        return isinstance(value, str)
    if code in ("whole_number", "money", "file"):
        return _int(value) is not None
    if code == "date":
        try:
            date.fromisoformat(value)
        except (TypeError, ValueError):
            return False
        return True
    if code == "confirm":
        return isinstance(value, bool)
    offered = {v for v, _t in question.choice_pairs()}
    if code == "several_choices":
        return isinstance(value, list) and all(v in offered for v in value)
    return isinstance(value, str) and value in offered


def _held(answers: dict[str, Any] | None, question: Question) -> bool:
    """Whether a section's saved answers are those of the built-in ``question`` (the budget's
    rows have an item and a kind; the outcomes' a measure)."""
    if not answers:
        return False
    if question.type == "budget":
        return "match_funding_pence" in answers or any(
            isinstance(r, dict) and "item" in r for r in answers.get("rows") or [])
    if question.type == "outcomes":
        rows = answers.get("rows") or []
        return bool(rows) and all(isinstance(r, dict) and "measure" in r for r in rows)
    return any(part in answers for part in question.parts)


def choices_of(question: Question) -> list[tuple[str, str]]:
    """(value, words) in the reader's language, for a form's radios or checkboxes: a
    choice's Welsh where given, else the catalogue's, else its words as written."""
    if question.type in ("one_choice", "several_choices"):
        welsh = question.choice_welsh()
        return [(v, words(t, welsh.get(v, ""))) for v, t in question.choice_pairs()]
    return question.choice_pairs()


def choices_marked(question: Question) -> list[tuple[str, str]]:
    """:func:`choices_of` for a page: a choice's English shown to a Welsh reader marked
    ``lang="en"`` (a ``Markup``, which the radios and checkboxes show as it is)."""
    if question.type in ("one_choice", "several_choices"):
        welsh = question.choice_welsh()
        return [(v, marked(t, welsh.get(v, ""))) for v, t in question.choice_pairs()]
    return question.choice_pairs()

