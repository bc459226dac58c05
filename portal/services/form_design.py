"""Designing forms, as the grants manager (issue 15, point 3 and "Bad input"): a round's
application form and a fund's return form, section by section and question by question.

The form being designed is its owner's *latest* version. While no bid (or return) uses it
(``in_use`` false) it is changed in place, by one guarded write that also requires the
revision the designer's page was opened at; once one does, a change is made on a new version
(a draft, ``published_at`` None) that the grants manager publishes. Publishing moves every
draft bid of the round to it, each answer kept where its question still exists; submitted
bids keep the version they were submitted against.

Every change is checked with ``questions.problems`` on the whole new definition before
anything is written, and refused beside the designer's field the problem names; a refusal
changes nothing. Every change is audited on the round (or the fund).
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from portal import bilingual, questions
from portal.db import session, utcnow
from portal.formatting import date_time
from portal.models import (
    Bid,
    BidSection,
    BidStatus,
    FormKind,
    FormVersion,
    Fund,
    GrantReturn,
    ReturnStatus,
    Round,
    SectionStatus,
    User,
)
from portal.services import DomainError, audit, form_versions
from portal.services.rounds import RoundState, state_of
from portal.services.workflow import atomic

UP, DOWN = "up", "down"


class StaleForm(DomainError):
    """The form changed since the designer's page was opened: nothing was changed."""

    def __init__(self) -> None:
        super().__init__(_("Someone changed this form while you were editing it. Your change "
                           "has not been saved: look at the form as it is now and make it "
                           "again."))


# --- whose form ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    """A round (its application form) or a fund (its return form)."""

    round: Round | None = None
    fund: Fund | None = None

    @property
    def application(self) -> bool:
        return self.round is not None

    @property
    def kind(self) -> FormKind:
        return FormKind.APPLICATION if self.application else FormKind.RETURN

    @property
    def record_type(self) -> str:
        return "round" if self.application else "fund"

    @property
    def id(self) -> int:
        thing = self.round if self.round is not None else self.fund
        assert thing is not None
        return thing.id

    @property
    def name(self) -> str:
        """"Fund: round" (a return form: the fund), in the reader's language, as text."""
        if self.round is not None:
            return f"{bilingual.text(self.round.fund, 'name')}: " \
                   f"{bilingual.text(self.round, 'name')}"
        assert self.fund is not None
        return bilingual.text(self.fund, "name")

    @property
    def marked_name(self) -> Markup:
        """:attr:`name` for a page: English shown to a Welsh reader marked ``lang="en"``."""
        if self.round is not None:
            return bilingual.marked(self.round.fund, "name") + Markup(": ") + \
                bilingual.marked(self.round, "name")
        assert self.fund is not None
        return bilingual.marked(self.fund, "name")


def of_round(round_: Round) -> Owner:
    return Owner(round=round_)


def of_fund(fund: Fund) -> Owner:
    return Owner(fund=fund)


@dataclass(frozen=True)
class Expected:
    """The version and revision a designer's page was opened at (None: no version yet)."""

    version_id: int | None
    revision: int | None


# --- reading --------------------------------------------------------------------------------


def _versions(owner: Owner) -> Any:
    statement = select(FormVersion)
    if owner.round is not None:
        return statement.where(FormVersion.round_id == owner.id)
    return statement.where(FormVersion.fund_id == owner.id)


def _latest(owner: Owner, *, published: bool = False, fresh: bool = False
            ) -> FormVersion | None:
    statement = _versions(owner)
    if published:
        statement = statement.where(FormVersion.published_at.is_not(None))
    statement = statement.order_by(FormVersion.number.desc()).limit(1)
    if fresh:
        statement = statement.execution_options(populate_existing=True)
    return cast(FormVersion | None, session.scalar(statement))


def _base_definition(owner: Owner) -> dict[str, Any]:
    """What a form with no version yet holds: a round's fund's standard form; nothing for a
    return form (its built-in parts are on the return's page)."""
    if owner.round is not None:
        return form_versions.standard_definition(owner.round.fund)
    return {"sections": []}


@dataclass
class Design:
    """The form as the designer sees it: the version changes go to, its definition, and the
    version bids now start on."""

    owner: Owner
    version: FormVersion | None
    definition: questions.Definition
    live: FormVersion | None
    expected: Expected = field(default_factory=lambda: Expected(None, None))

    @property
    def draft(self) -> bool:
        """Whether it is an unpublished draft of a next version."""
        return self.version is not None and self.version.published_at is None

    @property
    def in_use(self) -> bool:
        return self.live is not None and self.live.in_use

    @property
    def number(self) -> int:
        return self.version.number if self.version is not None else 1


def design(owner: Owner) -> Design:
    """The form being designed (read only: a round without a version yet shows the form its
    first bid will get)."""
    # Read fresh: a change made a moment ago in this transaction (a guarded UPDATE) is seen,
    # so one change after another in one unit of work starts from the right revision.
    version = _latest(owner, fresh=True)
    live = version if version is None or version.published_at is not None else \
        _latest(owner, published=True, fresh=True)
    definition = questions.read(version.definition if version is not None
                                else _base_definition(owner))
    expected = Expected(version.id, version.revision) if version is not None else \
        Expected(None, None)
    return Design(owner, version, definition, live, expected)


def refusal(owner: Owner) -> str | None:
    """Why the owner's form cannot be changed or published now, or None."""
    if owner.round is not None:
        if owner.round.fund.direct:
            return _("Rounds of a fund of direct awards have no application form: no one "
                     "bids to them.")
        if state_of(owner.round) == RoundState.CLOSED:
            return _("This round closed on %(when)s, so its form can no longer change. To ask "
                     "different questions, design the form of a new round (you can copy this "
                     "one).", when=date_time(owner.round.closes_at))
    return None


@dataclass(frozen=True)
class Source:
    """A form the designer may copy: a round's application form or a fund's return form."""

    id: int
    name: str


def copy_sources(owner: Owner) -> list[Source]:
    """Every other form of the owner's kind that has a published version: rounds of funds
    that take bids (newest first), or funds with a return form; by fund, their names in the
    reader's language (issue 16)."""
    if owner.round is not None:
        rows = session.execute(
            select(Round.id, Round.name, Round.name_cy, Fund.name, Fund.name_cy)
            .join(Fund, Fund.id == Round.fund_id)
            .where(Round.id != owner.id, Fund.direct.is_(False))
            .order_by(Fund.name, Round.opens_at.desc())).all()
        named = [(round_id, bilingual.pick(fund_name, fund_cy),
                  bilingual.pick(round_name, round_cy))
                 for round_id, round_name, round_cy, fund_name, fund_cy in rows]
        # Stable: within a fund, newest first as the query put them.
        named.sort(key=lambda row: row[1].casefold())
        return [Source(round_id, f"{fund}: {name}") for round_id, fund, name in named]
    funds = session.execute(
        select(Fund.id, Fund.name, Fund.name_cy).where(Fund.id != owner.id, Fund.id.in_(
            select(FormVersion.fund_id).where(FormVersion.published_at.is_not(None))))
        .order_by(Fund.name)).all()
    return sorted((Source(fund_id, bilingual.pick(name, name_cy))
                   for fund_id, name, name_cy in funds),
                  key=lambda source: source.name.casefold())


# --- keys -----------------------------------------------------------------------------------


def slug(text: str, taken: set[str] | frozenset[str], *, most: int = 30,
         otherwise: str = "item") -> str:
    """A key made from words: lower-case ASCII letters, digits and _, starting with a letter,
    at most ``most`` long, not in ``taken`` (a number added when it is)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")
    base = re.sub(r"^[^a-z]+", "", base)[:most].rstrip("_") or otherwise
    key, number = base, 1
    while key in taken:
        number += 1
        suffix = f"_{number}"
        key = base[:most - len(suffix)].rstrip("_") + suffix
    return key


def choices_from(lines: list[str], existing: list[dict[str, str]],
                 welsh: list[str] | None = None) -> list[dict[str, str]]:
    """Choices from their words, one per line: a choice whose words are unchanged keeps its
    value (saved answers and conditions refer to it); a new one gets a value made from its
    words. ``welsh``: their Welsh, line for line (none: no Welsh)."""
    kept = {c["text"]: c["value"] for c in existing}
    chosen: list[dict[str, str]] = []
    taken: set[str] = set()
    made: dict[str, str] = {}
    welsh = welsh or []
    for index, text in enumerate(lines):
        if text in made:  # the same words twice: the same value, which the rules refuse
            value = made[text]
        else:
            value = kept.get(text) or ""
            if not value or value in taken:
                value = slug(text, taken | set(kept.values()), most=40, otherwise="choice")
            taken.add(value)
            made[text] = value
        choice = {"value": value, "text": text}
        if index < len(welsh) and welsh[index]:
            choice["text_cy"] = welsh[index]
        chosen.append(choice)
    return chosen


def _all_keys(definition: questions.Definition) -> set[str]:
    return {q.key for _s, q in definition.questions()} | set(questions.RESERVED_KEYS)


# --- the details a designer gives ----------------------------------------------------------


@dataclass(frozen=True)
class SectionDetails:
    key: str  # blank: made from the title (used only when adding)
    title: str
    intro: str = ""
    condition: dict[str, str] | None = None
    title_cy: str = ""  # the Welsh, where given (issue 16)
    intro_cy: str = ""


@dataclass(frozen=True)
class QuestionDetails:
    """What the designer's question page sends; only the options of its type are used."""

    label: str
    hint: str = ""
    required: bool = True
    error: str = ""
    key: str = ""  # blank: made from the label (used only when adding)
    condition: dict[str, str] | None = None
    limit: int | None = None
    limit_unit: str = "characters"
    low: int | None = None
    high: int | None = None
    choices: list[str] = field(default_factory=list)  # their words, one each
    at_least: str | None = None
    statements: list[str] = field(default_factory=list)
    end_label: str = ""
    end_hint: str = ""
    # The Welsh of the words above, where given (issue 16); choices': one per line.
    label_cy: str = ""
    hint_cy: str = ""
    error_cy: str = ""
    choices_cy: list[str] = field(default_factory=list)
    statements_cy: list[str] = field(default_factory=list)
    end_label_cy: str = ""
    end_hint_cy: str = ""


def _fill(question: questions.Question, details: QuestionDetails) -> None:
    kind = question.kind
    if kind.choices and details.choices_cy and len(details.choices_cy) != len(details.choices):
        raise DomainError(_("Give one line in Welsh for each choice, in the same order: "
                            "%(choices)d choices and %(lines)d lines in Welsh",
                            choices=len(details.choices), lines=len(details.choices_cy)),
                          field="choices_cy")
    question.label, question.hint = details.label, details.hint
    question.label_cy, question.hint_cy = details.label_cy, details.hint_cy
    question.error = details.error if kind.answers else ""
    question.error_cy = details.error_cy if kind.answers else ""
    if kind.answers and not kind.needed:
        question.required = details.required
    elif not kind.answers:
        question.required = False
    if not kind.builtin:
        question.condition = dict(details.condition) if details.condition else None
    if kind.limit:
        question.limit, question.limit_unit = details.limit, details.limit_unit
    if kind.range:
        question.low, question.high = details.low, details.high
    if kind.choices:
        question.choices = choices_from(details.choices, question.choices,
                                        details.choices_cy)
    if question.type == "whole_number":
        question.at_least = details.at_least or None
    if question.type == "declarations":
        question.statements = list(details.statements)
        question.statements_cy = list(details.statements_cy) \
            if any(details.statements_cy) else []
    if question.type == "project_dates":
        question.end_label, question.end_hint = details.end_label, details.end_hint
        question.end_label_cy, question.end_hint_cy = details.end_label_cy, \
            details.end_hint_cy


# --- the change: check, then one guarded write ---------------------------------------------


def _check(before: questions.Definition, after: questions.Definition, owner: Owner, *,
           section: str | None = None, question: str | None = None) -> None:
    """Refuse ``after`` if it has a problem ``before`` did not: beside the designer's field
    when it is about the section or question being changed, else named in the message."""
    old = set(questions.problems(before, application=owner.application))
    new = [p for p in questions.problems(after, application=owner.application) if p not in old]
    if not new:
        return
    for problem in new:
        if question is not None and problem.question == question or \
                question is None and section is not None and problem.section == section \
                and problem.question is None:
            raise DomainError(problem.message, field=problem.field)
    problem = new[0]
    if problem.question is not None:
        other = after.question(problem.question)
        name = other.words("label") if other is not None and other.label else \
            problem.question
        raise DomainError(_("“%(name)s”: %(problem)s", name=name, problem=problem.message),
                          field="sections" if problem.field == "sections" else None)
    if problem.section is not None and problem.section != section:
        other_section = after.section(problem.section)
        name = other_section.words("title") if other_section else problem.section
        raise DomainError(_("“%(name)s”: %(problem)s", name=name, problem=problem.message))
    raise DomainError(problem.message, field=problem.field)


def _editable(owner: Owner, expected: Expected) -> FormVersion:
    """The version a change goes to, as the page expected it; else StaleForm."""
    why = refusal(owner)
    if why is not None:
        raise DomainError(why)
    version = _latest(owner, fresh=True)
    if version is None:
        if expected.version_id is not None:
            raise StaleForm()
        version = _first_version(owner)
        return version
    if version.id != expected.version_id or version.revision != expected.revision:
        raise StaleForm()
    return version


def _first_version(owner: Owner) -> FormVersion:
    if owner.round is not None:
        return form_versions.first_version(owner.round)
    now = utcnow()
    version = FormVersion(kind=FormKind.RETURN, fund_id=owner.id, number=1,
                          definition=_base_definition(owner), revision=1, in_use=False,
                          published_at=now, created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(version)
            session.flush()
    except IntegrityError:  # made by another request a moment ago
        raise StaleForm() from None
    return version


def _write(version: FormVersion, revision: int, definition: dict[str, Any],
           actor: User) -> FormVersion:
    """Save ``definition``: in place while the version is not in use (one guarded UPDATE,
    on the revision the page was opened at and on ``in_use`` false), else as a new draft
    version. Returns the version written."""
    now = utcnow()
    if not version.in_use:
        result = cast(CursorResult[Any], session.execute(
            update(FormVersion)
            .where(FormVersion.id == version.id, FormVersion.revision == revision,
                   FormVersion.in_use.is_(False))
            .values(definition=definition, revision=FormVersion.revision + 1,
                    updated_at=now, updated_by_id=actor.id)
            .execution_options(synchronize_session=False)))
        session.refresh(version)
        if result.rowcount == 1:
            return version
        if version.revision != revision:
            raise StaleForm()
        # A bid started on it a moment ago: the change becomes a new version.
    if version.published_at is None:  # a draft is never in use: someone else moved it on
        raise StaleForm()
    draft = FormVersion(kind=version.kind, round_id=version.round_id, fund_id=version.fund_id,
                        number=version.number + 1, definition=definition, revision=1,
                        in_use=False, published_at=None, created_at=now, updated_at=now,
                        updated_by_id=actor.id)
    try:
        with session.begin_nested():
            session.add(draft)
            session.flush()
    except IntegrityError:  # another change made the next version a moment ago
        raise StaleForm() from None
    return draft


def _change(owner: Owner, expected: Expected, actor: User, action: str,
            change: Callable[[questions.Definition], dict[str, Any]]) -> FormVersion:
    """Apply ``change`` to a copy of the form's definition (it returns what the audit says:
    the ``question`` or ``section`` it is about), check the result, write it."""
    version = _editable(owner, expected)
    before = questions.read(version.definition)
    after = questions.read(copy.deepcopy(version.definition))
    details = change(after)
    _check(before, after, owner, section=details.get("section"),
           question=details.get("question"))
    written = _write(version, version.revision, after.as_json(), actor)
    audit.record(action, owner.record_type, owner.id, actor=actor,
                 before={"version": version.number},
                 after={"version": written.number, **details})
    return written


def _section(definition: questions.Definition, key: str) -> questions.Section:
    found = definition.section(key)
    if found is None:
        raise StaleForm()
    return found


def _question(definition: questions.Definition, key: str
              ) -> tuple[questions.Section, questions.Question]:
    found = next(((s, q) for s, q in definition.questions() if q.key == key), None)
    if found is None:
        raise StaleForm()
    return found


# --- sections -------------------------------------------------------------------------------


@atomic
def add_section(owner: Owner, expected: Expected, details: SectionDetails,
                actor: User) -> str:
    """Add a section at the end of the form; returns its key."""
    made: dict[str, str] = {}

    def change(definition: questions.Definition) -> dict[str, Any]:
        taken = {s.key for s in definition.sections}
        key = details.key or slug(details.title, taken, most=30, otherwise="section")
        made["key"] = key
        definition.sections.append(questions.Section(
            key=key, title=details.title, intro=details.intro,
            condition=dict(details.condition) if details.condition else None,
            title_cy=details.title_cy, intro_cy=details.intro_cy))
        return {"section": key, "title": details.title}

    _change(owner, expected, actor, "form.section_added", change)
    return made["key"]


@atomic
def edit_section(owner: Owner, expected: Expected, key: str, details: SectionDetails,
                 actor: User) -> None:
    """Change a section's title, introduction and condition (its key stays: saved answers
    and criteria refer to it)."""

    def change(definition: questions.Definition) -> dict[str, Any]:
        section = _section(definition, key)
        section.title, section.intro = details.title, details.intro
        section.title_cy, section.intro_cy = details.title_cy, details.intro_cy
        section.condition = dict(details.condition) if details.condition else None
        return {"section": key, "title": details.title}

    _change(owner, expected, actor, "form.section_changed", change)


@atomic
def move_section(owner: Owner, expected: Expected, key: str, direction: str,
                 actor: User) -> None:
    def change(definition: questions.Definition) -> dict[str, Any]:
        section = _section(definition, key)
        index = definition.sections.index(section)
        other = index - 1 if direction == UP else index + 1
        if direction not in (UP, DOWN) or not 0 <= other < len(definition.sections):
            raise DomainError(_("“%(title)s” cannot move further that way",
                                title=section.words("title")))
        sections = definition.sections
        sections[index], sections[other] = sections[other], sections[index]
        return {"section": key, "moved": direction}

    _change(owner, expected, actor, "form.section_moved", change)


@atomic
def remove_section(owner: Owner, expected: Expected, key: str, actor: User) -> None:
    """Remove a section and its questions, unless a question elsewhere depends on one of
    them or the form needs a built-in question it holds."""

    def change(definition: questions.Definition) -> dict[str, Any]:
        section = _section(definition, key)
        inside = {q.key for q in section.questions}
        for question in section.questions:
            outside = [k for k in questions.depends_on(definition, question.key)
                       if k not in inside and k != key]
            if outside:
                raise DomainError(_dependants_message(definition, outside), field="confirm")
        definition.sections.remove(section)
        return {"section": key, "title": section.title}

    _change(owner, expected, actor, "form.section_removed", change)


def _dependants_message(definition: questions.Definition, keys: list[str]) -> str:
    names = []
    for key in keys:
        question = definition.question(key)
        section = definition.section(key)
        if question is not None:
            names.append(f"“{question.words('label') or key}”")
        elif section is not None:
            names.append(f"“{section.words('title') or key}”")
    return _("%(names)s depend on an answer here: change or remove them first",
             names=", ".join(names)) if len(names) > 1 else _(
        "%(name)s depends on an answer here: change or remove it first", name=names[0])


# --- questions ------------------------------------------------------------------------------


def addable_types(owner: Owner, definition: questions.Definition) -> list[str]:
    """The types the designer may add: every simple type, and on an application form each
    built-in type the form lacks."""
    types = [code for code in questions.SIMPLE_TYPES
             if owner.application or code != "file"]  # a return has its evidence upload
    if owner.application:
        types += [code for code in questions.BUILTIN_TYPES
                  if definition.builtin(code) is None]
    return types


@atomic
def add_question(owner: Owner, expected: Expected, section_key: str, type_code: str,
                 details: QuestionDetails, actor: User) -> str:
    """Add a question at the end of a section; returns its key."""
    kind = questions.TYPES.get(type_code)
    if kind is None:
        raise DomainError(_("Select the type of question"), field="type")
    made: dict[str, str] = {}

    def change(definition: questions.Definition) -> dict[str, Any]:
        section = _section(definition, section_key)
        if kind.builtin:
            key = type_code
        else:
            key = details.key or slug(details.label or details.hint, _all_keys(definition),
                                      most=40, otherwise=type_code)
        made["key"] = key
        question = questions.Question(key=key, type=type_code)
        _fill(question, details)
        section.questions.append(question)
        return {"section": section_key, "question": key, "type": type_code,
                "label": details.label}

    _change(owner, expected, actor, "form.question_added", change)
    return made["key"]


@atomic
def edit_question(owner: Owner, expected: Expected, key: str, details: QuestionDetails,
                  actor: User) -> None:
    """Change a question's words, whether it is required, its condition and the options of
    its type (its key and type stay: answers, exports and conditions refer to them)."""

    def change(definition: questions.Definition) -> dict[str, Any]:
        _s, question = _question(definition, key)
        before = question.as_json()
        _fill(question, details)
        changed = sorted(name for name, value in question.as_json().items()
                         if before.get(name) != value)
        return {"question": key, "label": details.label, "what_changed": changed}

    _change(owner, expected, actor, "form.question_changed", change)


@atomic
def move_question(owner: Owner, expected: Expected, key: str, direction: str,
                  actor: User) -> None:
    """Move a question up or down one place; from the top of a section up to the end of the
    one before, from the bottom down to the start of the next."""

    def change(definition: questions.Definition) -> dict[str, Any]:
        section, question = _question(definition, key)
        sections = definition.sections
        where = sections.index(section)
        index = section.questions.index(question)
        if direction == UP and index > 0:
            section.questions.insert(index - 1, section.questions.pop(index))
        elif direction == DOWN and index < len(section.questions) - 1:
            section.questions.insert(index + 1, section.questions.pop(index))
        elif direction == UP and where > 0:
            sections[where - 1].questions.append(section.questions.pop(index))
        elif direction == DOWN and where < len(sections) - 1:
            sections[where + 1].questions.insert(0, section.questions.pop(index))
        else:
            raise DomainError(_("“%(label)s” cannot move further that way",
                                label=question.words("label") or key))
        return {"question": key, "moved": direction}

    _change(owner, expected, actor, "form.question_moved", change)


@atomic
def remove_question(owner: Owner, expected: Expected, key: str, actor: User) -> None:
    """Remove a question, unless another depends on its answer or the form needs it (a
    built-in part the round's records are made from)."""

    def change(definition: questions.Definition) -> dict[str, Any]:
        section, question = _question(definition, key)
        dependants = questions.depends_on(definition, key)
        if dependants:
            raise DomainError(_dependants_message(definition, dependants), field="confirm")
        if question.kind.needed and owner.application:
            raise DomainError(_("The form needs its “%(name)s” question: it cannot be "
                                "removed, but you can move it or change its words",
                                name=question.kind.name), field="confirm")
        section.questions.remove(question)
        return {"section": section.key, "question": key, "label": question.label}

    _change(owner, expected, actor, "form.question_removed", change)


# --- copying --------------------------------------------------------------------------------


@atomic
def copy_form(owner: Owner, expected: Expected, source_id: int, actor: User) -> None:
    """Replace the form with a copy of another round's current application form (or another
    fund's return form)."""
    version: FormVersion | None
    if owner.round is not None:
        source_round = session.get(Round, source_id)
        if source_round is None or source_round.id == owner.id or source_round.fund.direct:
            raise DomainError(_("Select a round to copy from"), field="source")
        version = form_versions.current(source_round)
        name = f"{source_round.fund.name}: {source_round.name}"
    else:
        fund = session.get(Fund, source_id)
        version = form_versions.return_form(fund) if fund is not None else None
        if fund is None or fund.id == owner.id or version is None:
            raise DomainError(_("Select a fund to copy from"), field="source")
        name = fund.name
    copied, number = questions.read(version.definition).as_json(), version.number

    def change(definition: questions.Definition) -> dict[str, Any]:
        definition.sections = questions.read(copied).sections
        return {"copied_from": name, "copied_version": number}

    _change(owner, expected, actor, "form.copied", change)


# --- publishing -----------------------------------------------------------------------------


@atomic
def publish(owner: Owner, expected: Expected, actor: User,
            now: datetime | None = None) -> FormVersion:
    """Publish the draft version: bids started from now on are answered on it, and every
    draft bid of the round moves to it (answers kept where their question still exists;
    a section completed before stays completed only if its answers still complete it).
    Submitted bids keep their version. Posted twice: published once."""
    why = refusal(owner)
    if why is not None:
        raise DomainError(why)
    version = _latest(owner, fresh=True)
    if version is None or version.id != expected.version_id or \
            version.revision != expected.revision:
        raise StaleForm()
    if version.published_at is not None:
        raise DomainError(_("This version is already published: there is no draft to "
                            "publish."))
    definition = questions.read(version.definition)
    found = questions.problems(definition, application=owner.application)
    if found:
        raise DomainError(found[0].message)
    now = now or utcnow()
    result = cast(CursorResult[Any], session.execute(
        update(FormVersion)
        .where(FormVersion.id == version.id, FormVersion.published_at.is_(None),
               FormVersion.revision == expected.revision)
        .values(published_at=now, revision=FormVersion.revision + 1, updated_at=now,
                updated_by_id=actor.id)
        .execution_options(synchronize_session=False)))
    if result.rowcount != 1:  # published (or changed) by another request a moment ago
        session.refresh(version)
        if version.published_at is not None:
            raise DomainError(_("This version has just been published."))
        raise StaleForm()
    session.refresh(version)
    if owner.round is not None:
        moved = _move_drafts(owner, version, definition, actor, now)
        audit.record("form.published", owner.record_type, owner.id, actor=actor,
                     after={"version": version.number, "draft_bids_moved": len(moved)})
    else:
        moved = _move_draft_returns(owner, version, definition, actor)
        audit.record("form.published", owner.record_type, owner.id, actor=actor,
                     after={"version": version.number, "draft_returns_moved": len(moved)})
    return version


def _move_draft_returns(owner: Owner, version: FormVersion, definition: questions.Definition,
                        actor: User) -> list[int]:
    """Move the fund's returns not yet sent (due or draft) to ``version``: each answer whose
    question is still asked, with a value of its kind, is kept. A sent return (submitted,
    queried, approved) keeps the version it was sent on. A return page opened before this
    saves nothing (its stamp names the old version) and shows what was typed."""
    older = select(FormVersion.id).where(FormVersion.fund_id == owner.id,
                                         FormVersion.id != version.id)
    moved = session.execute(
        update(GrantReturn)
        .where(GrantReturn.form_version_id.in_(older),
               GrantReturn.status.in_((ReturnStatus.DUE, ReturnStatus.DRAFT)))
        .values(form_version_id=version.id)
        .returning(GrantReturn.id, GrantReturn.answers)
        .execution_options(synchronize_session=False)).all()
    if moved:
        form_versions.use(version)
    for return_id, saved in sorted(moved):
        answers: dict[str, Any] = dict(cast(dict[str, Any], saved) or {})
        kept = {}
        for key, value in answers.items():
            question = definition.question(key)
            if question is not None and question.kind.answers and questions.fits(question,
                                                                                 value):
                kept[key] = value
        if kept != answers:
            session.execute(update(GrantReturn).where(GrantReturn.id == return_id)
                            .values(answers=kept)
                            .execution_options(synchronize_session=False))
        audit.record("return.form_version_changed", "return", return_id, actor=actor,
                     after={"version": version.number,
                            "answers_left_behind": sorted(set(answers) - set(kept))})
    session.expire_all()
    return [int(cast(int, return_id)) for return_id, _saved in moved]


def _move_drafts(owner: Owner, version: FormVersion, definition: questions.Definition,
                 actor: User, now: datetime) -> list[int]:
    """Move the round's draft bids to ``version``, their answers carried."""
    moved = list(session.scalars(
        update(Bid)
        .where(Bid.round_id == owner.id, Bid.status == BidStatus.DRAFT,
               or_(Bid.form_version_id != version.id, Bid.form_version_id.is_(None)))
        .values(form_version_id=version.id)
        .returning(Bid.id)
        .execution_options(synchronize_session=False)))
    if not moved:
        return []
    form_versions.use(version)
    rows: dict[int, dict[str, BidSection]] = {}
    for saved_row in session.scalars(select(BidSection).where(BidSection.bid_id.in_(moved))
                                     .execution_options(populate_existing=True)):
        rows.setdefault(saved_row.bid_id, {})[saved_row.key] = saved_row
    keys = {s.key for s in definition.sections}
    for bid_id in sorted(moved):
        saved = rows.get(bid_id, {})
        carried = questions.carried(definition, {k: r.answers or {} for k, r in saved.items()})
        every = questions.visible(definition, carried)
        dropped = sorted({name for r in saved.values() for name in (r.answers or {})}
                         - {name for a in carried.values() for name in a})
        gone = sorted(k for k in saved if k not in keys)
        if gone:
            session.execute(delete(BidSection).where(BidSection.bid_id == bid_id,
                                                     BidSection.key.in_(gone))
                            .execution_options(synchronize_session=False))
        for section in definition.sections:
            answers = carried.get(section.key, {})
            row: BidSection | None = saved.get(section.key)
            if row is None and not answers:
                continue
            complete = row is not None and row.status == SectionStatus.COMPLETED and not \
                questions.section_problems(section, answers, every, completing=True)
            status = SectionStatus.COMPLETED if complete else SectionStatus.IN_PROGRESS
            if row is None:
                session.add(BidSection(bid_id=bid_id, key=section.key, status=status,
                                       version=1, answers=answers, updated_at=now,
                                       updated_by_id=actor.id))
            else:
                session.execute(
                    update(BidSection)
                    .where(BidSection.bid_id == bid_id, BidSection.key == section.key)
                    .values(answers=answers, status=status, version=BidSection.version + 1,
                            updated_at=now, updated_by_id=actor.id)
                    .execution_options(synchronize_session=False))
        session.flush()
        audit.record("bid.form_version_changed", "bid", bid_id, actor=actor,
                     after={"version": version.number, "answers_left_behind": dropped,
                            "sections_removed": gone})
    session.expire_all()
    return moved
