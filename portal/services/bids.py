"""Bids: the task list, saving sections, submission, withdrawal and requests for information.

Status changes go through ``_move`` and its (from, to) table only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, BinaryIO, cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from portal import questions
from portal.db import UK, session, uk_today, utcnow
from portal.formatting import money
from portal.models import (
    Bid,
    BidSection,
    BidStatus,
    BudgetLine,
    CostKind,
    InformationRequest,
    OutcomeMeasure,
    ReferenceCounter,
    Round,
    SectionStatus,
    User,
)
from portal.services import (
    DomainError,
    alignment,
    answer_changes,
    audit,
    evidence,
    form_versions,
)
from portal.services.rounds import RoundState, financial_year_dates, open_to, state_of
from portal.services.workflow import atomic, move, tell
from portal.services.years import as_json, by_year, year_label, years_between
from portal.workflows import BID

WITHDRAWABLE = {BidStatus(value) for value in BID.transitions["withdraw"].sources}


class SectionConflict(DomainError):
    """Someone saved the section since this copy was loaded."""

    def __init__(self, current: BidSection) -> None:
        super().__init__(_("Someone else saved this section while you were working on it."))
        self.current = current


def definition_of(bid: Bid) -> questions.Definition:
    """The form definition ``bid`` is answered on."""
    return form_versions.definition_of(bid)


def saved_answers(bid: Bid) -> dict[str, dict[str, Any]]:
    """Each saved section's answers, by section key."""
    return {section.key: dict(section.answers or {}) for section in bid.sections}


def _others(saved: dict[str, dict[str, Any]], key: str,
            definition: questions.Definition) -> dict[str, Any]:
    """Every other section's answers in one mapping: what conditions in ``key`` read."""
    return questions.visible(definition, {name: answers for name, answers in saved.items()
                                          if name != key})


def sections_for(subject: Bid | Round) -> list[questions.Section]:
    """The sections a bid shows: those of its definition whose condition its saved answers
    meet. Given a round: the sections of the form a bid started now is answered on, as
    shown before any answer."""
    if isinstance(subject, Round):
        return questions.shown_sections(form_versions.current_definition(subject), {})
    definition = definition_of(subject)
    every = questions.visible(definition, saved_answers(subject))
    return questions.shown_sections(definition, every)


def question_answered_by(bid: Bid, evidence_id: int) -> str | None:
    """The label of the file question ``evidence_id`` answers on ``bid``, if any."""
    definition = definition_of(bid)
    for key, answers in saved_answers(bid).items():
        section = definition.section(key)
        for question in section.questions if section is not None else []:
            if question.type == "file" and answers.get(question.key) == evidence_id:
                return question.words("label")
    return None


def visible_answers(bid: Bid) -> dict[str, Any]:
    """The bid's answers that count for its conditions (``questions.visible``)."""
    return questions.visible(definition_of(bid), saved_answers(bid))


def section_named(bid: Bid, key: str) -> questions.Section | None:
    """A section the bid shows, by its key (None: no such section, or hidden)."""
    return next((s for s in sections_for(bid) if s.key == key), None)


def section_statuses(bid: Bid) -> dict[str, SectionStatus]:
    """Each shown section's status: read alone, without the answers it holds."""
    saved = dict(session.execute(select(BidSection.key, BidSection.status)
                                 .where(BidSection.bid_id == bid.id)).all())
    return {s.key: saved.get(s.key, SectionStatus.NOT_STARTED) for s in sections_for(bid)}


def incomplete_sections(bid: Bid) -> list[questions.Section]:
    statuses = section_statuses(bid)
    return [s for s in sections_for(bid) if statuses[s.key] != SectionStatus.COMPLETED]


def section_title(section: questions.Section) -> str:
    """A section's title in the reader's language."""
    return section.words("title")


def status_label(status: BidStatus) -> str:
    return BID.label(status)


# --- reading ---------------------------------------------------------------------------------


def bid_for_organisation(bid_id: int, organisation_id: int) -> Bid | None:
    """A bid only if it belongs to the organisation: other CSPs' ids find nothing."""
    return session.scalar(select(Bid).where(Bid.id == bid_id,
                                            Bid.organisation_id == organisation_id))


# --- starting and saving ---------------------------------------------------------------------


def new_creation_token() -> str:
    return secrets.token_urlsafe(24)


@atomic
def start_bid(round_: Round, actor: User, token: str, now: datetime | None = None) -> Bid:
    """Start a draft; posting the same start form twice returns the same bid."""
    if not token or len(token) > 64:
        raise DomainError(_("The form you used has expired. Start the bid again."))
    existing = session.scalar(select(Bid).where(Bid.creation_token == token))
    if existing is not None:
        if existing.organisation_id != actor.organisation_id:
            raise DomainError(_("The form you used has expired. Start the bid again."))
        return existing
    if not open_to(round_, actor.organisation.type.value):
        raise DomainError(_("Your organisation cannot bid to this round."))
    if state_of(round_, now) != RoundState.OPEN:
        raise DomainError(_("This round is not open for bids."))
    version = form_versions.current(round_)
    form_versions.use(version)
    bid = Bid(round=round_, organisation_id=actor.organisation_id, created_by_id=actor.id,
              creation_token=token, status=BidStatus.DRAFT, issue_types=[],
              form_version_id=version.id)
    try:
        with session.begin_nested():  # added inside: a clash leaves nothing pending
            session.add(bid)
            session.flush()
    except IntegrityError:  # the same form, posted twice at the same moment
        return session.scalars(select(Bid).where(Bid.creation_token == token)).one()
    alignment.default_for_new_bid(bid)  # the fund's section of the plan, if it names one
    session.flush()
    audit.record("bid.created", "bid", bid.id, actor=actor,
                 after={"round": round_.name, "fund": round_.fund.name,
                        **({"plan_sections": alignment.codes(bid.plan_sections)}
                           if bid.plan_sections else {})})
    return bid


MULTI_YEAR_YEARS = 3  # a multi-year fund's projects run up to three financial years


def project_date_bounds(round_: Round) -> tuple[date, date]:
    """The first and last day a project bid to ``round_`` may run (inclusive).

    It starts no earlier than the round's financial year starts, nor than the round opens:
    the grant pays for work from that year, not before the fund was offered. It ends by the
    year's last day, as grant money is time-limited to the financial year unless the fund says
    otherwise (domain brief, "Financial year"); a fund that allows multi-year projects allows
    up to three financial years (the Putting Communities First fund ran 2022/23 to 2024/25:
    seed 000, "over the same three-year period")."""
    first, last = financial_year_dates(round_.financial_year)
    first = max(first, round_.opens_at.astimezone(UK).date())
    if (round_.years or 1) > 1:  # a round over several years: its years (issue 14)
        last = financial_year_dates(round_.last_financial_year)[1]
    elif round_.fund.allows_multi_year:
        last = financial_year_dates(round_.financial_year + MULTI_YEAR_YEARS - 1)[1]
    return first, last


def _check_end_not_past(end: date | None, today: date) -> None:
    """A project bid for must not have ended already: a grant pays for work to come, and a
    bid whose project ended before it was sent was submitted and awarded (issue 13). Raises
    DomainError beside ``end_date``."""
    if end is not None and end < today:
        raise DomainError(_("The end date must be today or in the future: the project cannot "
                            "have ended before the bid is sent"), field="end_date")


def _check_about(bid: Bid, answers: dict[str, Any], today: date) -> None:
    """The project's dates within :func:`project_date_bounds`, the end not before the start
    nor before ``today`` (a UK date). Raises DomainError beside the date."""
    start = date.fromisoformat(answers["start_date"]) if answers.get("start_date") else None
    end = date.fromisoformat(answers["end_date"]) if answers.get("end_date") else None
    first, last = project_date_bounds(bid.round)
    for value, field in ((start, "start_date"), (end, "end_date")):
        if value is not None and not first <= value <= last:
            raise DomainError(_("Dates must be between %(first)s and %(last)s",
                                first=_day(first), last=_day(last)), field=field)
    if start is not None and end is not None and end < start:
        raise DomainError(_("End date must be the same as or after the start date"),
                          field="end_date")
    _check_end_not_past(end, today)


def _day(value: date) -> str:
    from portal.formatting import long_date

    return long_date(value)


def line_field(round_: Round, index: int, year: int | None = None) -> str:
    """The form field of budget line ``index`` (from 0) that holds its amount for ``year``:
    ``rows-<i>-amount`` in a round of one year, ``rows-<i>-year_<n>`` (the round's n-th year,
    from 0; its first for a year the round does not fund) in a round over several."""
    if (round_.years or 1) == 1:
        return f"rows-{index}-amount"
    years = round_.financial_years
    return f"rows-{index}-year_{years.index(year) if year in years else 0}"


def _line_years(round_: Round, row: dict[str, Any]) -> dict[int, int]:
    """A saved budget line's amount per financial year: its ``year_amounts``, or all of its
    amount in the round's first year (a line saved without years)."""
    amounts = by_year(row.get("year_amounts")) if isinstance(row.get("year_amounts"),
                                                              dict) else {}
    if not amounts:
        return {round_.financial_year: int(row.get("amount_pence") or 0)}
    return amounts


def _check_budget(bid: Bid, answers: dict[str, Any]) -> dict[str, Any]:
    """The budget section's answers checked against the round (issue 14) and returned with
    each line's amounts per year (``year_amounts``) and its total (``amount_pence``, their
    sum). Refused beside the field: a line's year the round does not fund, or outside the
    project's dates (when given); a line adding up to £0; a year's total above that year's
    budget or cap; the bid's total above the round's cap or above its whole budget."""
    round_ = bid.round
    funded = set(round_.financial_years)
    start, end = bid.start_date, bid.end_date
    project = (set(years_between(start, end)) if start is not None and end is not None
               and start <= end else None)
    rows: list[dict[str, Any]] = []
    totals: dict[int, int] = {}
    first_field: dict[int, str] = {}
    for index, row in enumerate(answers.get("rows", [])):
        amounts = _line_years(round_, row)
        for year, pence in amounts.items():
            field = line_field(round_, index, year)
            if pence < 0:
                raise DomainError(_("Amounts must be £0 or more"), field=field)
            if year not in funded and pence:
                raise DomainError(_("This round does not fund %(year)s: it funds %(years)s",
                                    year=year_label(year),
                                    years=round_.financial_year_label), field=field)
            if project is not None and year not in project and pence:
                assert start is not None and end is not None  # project: both given
                raise DomainError(
                    _("The project runs from %(start)s to %(end)s, so it can have no money in "
                      "%(year)s: change this amount or the dates in “About the project”",
                      start=_day(start), end=_day(end),
                      year=year_label(year)), field=field)
            if pence:
                totals[year] = totals.get(year, 0) + pence
                first_field.setdefault(year, field)
        total = sum(amounts.values())
        if total <= 0:
            raise DomainError(_("The amounts of a budget line must add up to more than £0"),
                              field=line_field(round_, index, min(amounts)))
        rows.append({**row, "amount_pence": total,
                     "year_amounts": as_json({y: p for y, p in amounts.items() if p})})
    years = {year.financial_year: year for year in round_.year_budgets}
    if (round_.years or 1) > 1:
        for year, pence in sorted(totals.items()):
            budget = years.get(year)
            if budget is None:
                continue
            if pence > budget.budget_pence:
                raise DomainError(_("The budget lines for %(year)s add up to %(total)s: they "
                                    "must be %(budget)s or less, the round’s budget for that "
                                    "year", year=budget.label, total=money(pence),
                                    budget=money(budget.budget_pence)),
                                  field=first_field[year])
            if budget.cap_pence is not None and pence > budget.cap_pence:
                raise DomainError(_("The budget lines for %(year)s add up to %(total)s: they "
                                    "must be %(cap)s or less, the most this round allows a "
                                    "bid in that year", year=budget.label, total=money(pence),
                                    cap=money(budget.cap_pence)), field=first_field[year])
    total = sum(row["amount_pence"] for row in rows)
    cap = round_.cap_pence
    if cap is not None and total > cap:
        raise DomainError(_("The total of the budget lines (%(total)s) must be %(cap)s or less, "
                            "the most this round allows", total=money(total), cap=money(cap)),
                          field="rows")
    if total > round_.budget_pence:
        raise DomainError(_("The total of the budget lines (%(total)s) must be %(budget)s or "
                            "less, the whole budget of this round", total=money(total),
                            budget=money(round_.budget_pence)), field="rows")
    return {**answers, "rows": rows}


def _apply(bid: Bid, section: questions.Section, answers: dict[str, Any]) -> None:
    """Copy what lists, ranking and open data need out of the answers of the built-in
    questions ``section`` holds, wherever the grants team placed them."""
    if section.has("title"):
        bid.title = (answers.get("title") or "").strip() or None
    if section.has("project_dates"):
        bid.start_date = date.fromisoformat(answers["start_date"]) if answers.get(
            "start_date") else None
        bid.end_date = date.fromisoformat(answers["end_date"]) if answers.get("end_date") else None
    if section.has("issue_types"):
        bid.issue_types = list(answers.get("issue_types") or [])
    if section.has("budget"):
        rows = [{"item": row["item"], "kind": CostKind(row["kind"]),
                 "amount_pence": int(row["amount_pence"]),
                 "year_amounts": dict(row.get("year_amounts") or {})}
                for row in answers.get("rows", [])]
        _replace_by_position(bid.budget_lines, rows, BudgetLine)
        bid.amount_requested_pence = sum(row["amount_pence"] for row in rows)
        bid.match_funding_pence = int(answers.get("match_funding_pence") or 0)
    if section.has("outcomes"):
        rows = [{"measure": row["measure"], "target": row["target"],
                 "how_measured": row["how_measured"]} for row in answers.get("rows", [])]
        _replace_by_position(bid.outcomes, rows, OutcomeMeasure)


def _replace_by_position(current: list[Any], rows: list[dict[str, Any]], model: type) -> None:
    """Make a list of rows keyed (parent, position) equal ``rows``, in place: row n updates
    the row at position n, extra rows are added, missing ones deleted (and flushed before any
    insert, so the unique key never sees two rows at one position). Longer, shorter or
    reordered, a list saves any number of times; rows kept keep their ids (returns and
    awards refer to outcome measures by id)."""
    by_position = {row.position: row for row in current}
    for position in sorted(by_position):
        if position > len(rows):
            current.remove(by_position.pop(position))
    session.flush()
    for position, values in enumerate(rows, start=1):
        row = by_position.get(position)
        if row is None:
            current.append(model(position=position, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)


class UnknownAnswers(DomainError):
    """Answers posted under names the section has no question for: a forged form."""


@dataclass(frozen=True)
class Upload:
    """A file posted for a file question: its name as sent and its content."""

    name: str
    stream: BinaryIO


def _first_problem(problems: dict[str, str]) -> DomainError | None:
    for name, message in problems.items():
        return DomainError(message, field=name)
    return None


@atomic
def save_section(bid: Bid, key: str, answers: dict[str, Any], *, completed: bool,
                 expected_version: int | None, actor: User,
                 now: datetime | None = None,
                 uploads: dict[str, Upload] | None = None) -> BidSection:
    """Save one section from a copy at ``expected_version`` (None: the section is new), at
    ``now`` (default: this moment; the project's end date is checked against its UK day).

    The answers are checked from the bid's definition alone: a name no question of the
    section has is refused (UnknownAnswers), a hidden question's answer is dropped, and
    each shown question's rules (``questions.section_problems``; required ones only when
    ``completed``) are kept, refused beside the field. The project's dates and the budget
    are checked against the round wherever the section holds them. ``uploads``: files for
    file questions (by question key), added to the bid's evidence with the question's label
    as description; the answer keeps the file's id.

    A save from a stale copy raises SectionConflict and changes nothing.
    """
    if bid.status != BidStatus.DRAFT:
        raise DomainError(_("This bid has been submitted and can no longer be changed."))
    saved = saved_answers(bid)
    version_seen = bid.form_version_id
    definition = definition_of(bid)
    others = _others(saved, key, definition)
    spec = definition.section(key)
    if spec is None or spec.key not in {s.key for s in questions.shown_sections(definition,
                                                                               others)}:
        raise DomainError(_("This bid has no such section."))
    uploads = dict(uploads or {})
    unknown = questions.unknown_names(spec, answers) + sorted(
        name for name in uploads if (q := spec.question(name)) is None or q.type != "file")
    if unknown:
        raise UnknownAnswers(_("The form was changed: reload the page and try again"))
    answers = questions.kept(spec, answers, others)
    uploads = {name: upload for name, upload in uploads.items()
               if name in {q.key for q in questions.shown_questions(
                   spec, {**others, **answers})}}
    problems = questions.section_problems(
        spec, {**answers, **dict.fromkeys(uploads, 0)}, others, completing=completed)
    refused = _first_problem(problems)
    if refused is not None:
        raise refused
    now = now or utcnow()
    if spec.has("project_dates"):
        _check_about(bid, answers, now.astimezone(UK).date())
    if spec.has("budget"):
        answers = _check_budget(bid, answers)
    status = SectionStatus.COMPLETED if completed else SectionStatus.IN_PROGRESS
    # The bid is held as a draft for this save: a submission at the same moment either waits
    # for it (and then checks what it saved) or has won, and this save is refused.
    held = cast(CursorResult[Any], session.execute(
        update(Bid).where(Bid.id == bid.id, Bid.status == BidStatus.DRAFT)
        .values(updated_at=now).execution_options(synchronize_session=False)))
    if held.rowcount != 1:
        raise DomainError(_("This bid has been submitted and can no longer be changed."))
    # Held now: a new version published while this was checked (it moves the bid in a write
    # this one waited for) means the answers were checked against questions no longer asked.
    if session.scalar(select(Bid.form_version_id).where(Bid.id == bid.id)) != version_seen:
        raise DomainError(_("The OPCC changed this form while you were working on it. Nothing "
                            "was saved: open the section again."))
    for name, upload in uploads.items():
        question = spec.question(name)
        assert question is not None  # checked above
        try:
            added = evidence.add(bid, upload.name, upload.stream,
                                 question.words("label")[:200], actor)
        except DomainError as refused_file:
            raise DomainError(refused_file.message, field=name) from None
        answers = {**answers, name: added.id}
    current = session.get(BidSection, (bid.id, key), populate_existing=True)
    if current is None:
        if expected_version not in (None, 0):
            raise DomainError(_("The form you used has expired. Open the section again."))
        section = BidSection(bid_id=bid.id, key=key, status=status, version=1, answers=answers,
                             updated_at=now, updated_by_id=actor.id)
        try:
            with session.begin_nested():
                session.add(section)
                session.flush()
        except IntegrityError:  # another officer created it a moment ago
            session.expire_all()
            raise SectionConflict(session.get_one(BidSection, (bid.id, key))) from None
    else:
        # The version check is in the UPDATE itself, so two saves cannot both pass it.
        result = cast(CursorResult[Any], session.execute(
            update(BidSection)
            .where(BidSection.bid_id == bid.id, BidSection.key == key,
                   BidSection.version == expected_version)
            .values(version=BidSection.version + 1, answers=answers, status=status,
                    updated_at=now, updated_by_id=actor.id)
            .execution_options(synchronize_session=False)))
        if result.rowcount != 1:
            raise SectionConflict(current)
        session.refresh(current)
        section = current
    _apply(bid, spec, answers)
    bid.updated_at = now
    session.flush()
    audit.record("bid.section_saved", "bid", bid.id, actor=actor,
                 after={"section": key, "status": status.value, "version": section.version,
                        "changed": answer_changes.questions_changed(
                            spec, saved.get(key) or {}, answers)})
    return section


# --- submission ------------------------------------------------------------------------------


def _next_reference(prefix: str) -> str:
    """Atomically take the next number for the prefix (e.g. SCF-2026 -> SCF-2026-0007)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ReferenceCounter).values(prefix=prefix, last=1)
    statement = statement.on_conflict_do_update(index_elements=[ReferenceCounter.prefix],
                                                set_={"last": ReferenceCounter.last + 1})
    number = session.execute(statement.returning(ReferenceCounter.last)).scalar_one()
    return f"{prefix}-{number:04d}"


@atomic
def submit(bid: Bid, actor: User, now: datetime | None = None) -> str:
    """Submit a complete draft before the round closes: one guarded write from draft, then
    the reference (e.g. SCF-2026-0007) and the partnership's email. Returns the reference.

    Raises DomainError (incomplete, closed, over the cap, not a draft, a project that has
    ended: beside ``end_date``) or ``Conflict`` when
    the same bid was submitted a moment earlier (a double click): nothing is changed then.
    """
    # Lock the bid, then read it again: a section saved a moment ago is checked, and a save
    # arriving now waits and then finds the bid submitted. The time is read after the wait, so
    # a file attached while this waited is never later than the submission.
    session.execute(select(Bid.id).where(Bid.id == bid.id).with_for_update())
    session.refresh(bid)
    now = now or utcnow()
    if bid.status != BidStatus.DRAFT:
        raise DomainError(_("This bid has already been submitted."))
    missing = incomplete_sections(bid)
    if missing:
        raise DomainError(_("Complete every section before you submit. Still to do: %(list)s.",
                            list=", ".join(section_title(s) for s in missing)))
    definition = definition_of(bid)
    saved = saved_answers(bid)
    shown = questions.shown_sections(definition, questions.visible(definition, saved))
    for section in shown:
        # Checked again from the definition alone: a required question a later answer made
        # visible, or one whose section was completed before it was asked.
        others = _others(saved, section.key, definition)
        answers = questions.kept(section, saved.get(section.key, {}), others)
        problems = questions.section_problems(section, answers, others, completing=True)
        if problems:
            raise DomainError(_("%(section)s: %(problem)s", section=section_title(section),
                                problem=next(iter(problems.values()))))
        attached = {item.id for item in bid.evidence}
        for question in questions.shown_questions(section, {**others, **answers}):
            # A file question's answer is a file still attached: one removed from the
            # evidence page leaves the question unanswered.
            if question.type == "file" and answers.get(question.key) is not None and \
                    answers.get(question.key) not in attached and question.required:
                raise DomainError(_("%(section)s: %(problem)s", section=section_title(section),
                                    problem=_("Select a file for “%(label)s”",
                                              label=question.words("label"))))
    if now >= bid.round.closes_at:
        raise DomainError(_("This round closed on %(when)s. Your bid has been kept as a draft.",
                            when=_when(bid.round.closes_at)))
    if now < bid.round.opens_at:
        raise DomainError(_("This round is not open for bids yet."))
    _check_end_not_past(bid.end_date, now.astimezone(UK).date())
    cap = bid.round.cap_pence
    if cap is not None and bid.amount_requested_pence > cap:
        raise DomainError(_("The total asked for must be %(cap)s or less.", cap=money(cap)))
    placed = definition.builtin("budget")
    budget = bid.section(placed[0].key) if placed is not None else None
    if budget is not None:
        # Checked again as sent: the round's budgets or the project's dates may have changed
        # since the budget was saved. Shown on the check-answers page, naming the section.
        try:
            _check_budget(bid, budget.answers)
        except DomainError as refused:
            raise DomainError(_("Budget: %(problem)s", problem=refused.message)) from None
    # The status is won first; the reference is taken only by the write that won.
    transition = move(BID, "submit", bid, actor, values={"submitted_at": now, "updated_at": now},
                      audit_event=False)
    reference = _next_reference(f"{bid.round.fund.code}-{bid.round.financial_year}")
    session.execute(update(Bid).where(Bid.id == bid.id).values(reference=reference)
                    .execution_options(synchronize_session=False))
    bid.reference = reference
    _strip_hidden(bid, definition, saved, shown)
    audit.record(transition.action, "bid", bid.id, actor=actor,
                 before={"status": BidStatus.DRAFT.value},
                 after={"status": BidStatus.SUBMITTED.value, "reference": reference})
    tell(transition, _l("Bid %(reference)s submitted", reference=reference), "bid_submitted",
         organisation_id=bid.organisation_id, bid=bid, submitted_by=actor)
    return reference


def _strip_hidden(bid: Bid, definition: questions.Definition,
                  saved: dict[str, dict[str, Any]], shown: list[questions.Section]) -> None:
    """Keep in what is submitted only the answers of the questions shown: a hidden
    question's answer, and every answer of a hidden section, go."""
    shown_keys = {s.key for s in shown}
    for key, answers in saved.items():
        section = definition.section(key)
        if section is not None and key in shown_keys:
            kept = questions.kept(section, answers, _others(saved, key, definition))
        else:
            kept = {}
        if kept != answers:
            session.execute(update(BidSection)
                            .where(BidSection.bid_id == bid.id, BidSection.key == key)
                            .values(answers=kept)
                            .execution_options(synchronize_session=False))
    session.expire(bid, ["sections"])


def _when(moment: datetime) -> str:
    from portal.formatting import date_time

    return date_time(moment)


@atomic
def withdraw(bid: Bid, reason: str, actor: User) -> None:
    """Withdraw a sent bid before its decision; the partnership, the managers and its
    assessors are told. Raises DomainError (no reason, already decided) or ``Conflict``."""
    if bid.status not in WITHDRAWABLE:
        raise DomainError(_("This bid can no longer be withdrawn."))
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Enter why you are withdrawing the bid"), field="reason")
    now = utcnow()
    transition = move(BID, "withdraw", bid, actor,
                      values={"withdrawal_reason": reason, "withdrawn_at": now,
                              "updated_at": now}, after={"reason": reason})
    tell(transition, _l("Bid %(reference)s withdrawn", reference=bid.reference),
         "bid_withdrawn", organisation_id=bid.organisation_id, bid_id=bid.id, bid=bid,
         reason=reason, withdrawn_by=actor)


# --- requests for more information -----------------------------------------------------------

# The longest a partnership may be given to answer a question (days after it is asked): the
# bid waits for the answer, so its decision waits too; a round is decided within months, and
# a date years away is a typing slip (issue 13: 31/12/9999 was accepted).
MOST_DAYS_TO_ANSWER = 90


@atomic
def request_more_information(bid: Bid, question: str, actor: User,
                             respond_by: date | None = None) -> InformationRequest:
    """The OPCC asks the applicant a question, to answer by ``respond_by`` (a UK date after
    today and at most ``MOST_DAYS_TO_ANSWER`` days ahead; None: no date); the bid waits for
    the answer. Raises DomainError (no question, an answer-by date out of that range, a bid
    not being assessed) or ``Conflict``."""
    if not question.strip():
        raise DomainError(_("Enter the question"), field="question")
    today = uk_today()
    if respond_by is not None and not today < respond_by <= today + timedelta(
            days=MOST_DAYS_TO_ANSWER):
        raise DomainError(_("The answer-by date must be after today and no later than "
                            "%(last)s, %(days)d days from today",
                            last=_day(today + timedelta(days=MOST_DAYS_TO_ANSWER)),
                            days=MOST_DAYS_TO_ANSWER), field="respond_by")
    previous = bid.status
    transition = move(BID, "request_information", bid, actor,
                      values={"status_before_request": previous, "updated_at": utcnow()},
                      after={"question": question.strip()})
    request = InformationRequest(bid_id=bid.id, question=question.strip(), asked_by_id=actor.id,
                                 asked_at=utcnow(), respond_by=respond_by)
    session.add(request)
    session.flush()
    tell(transition, _l("Question about bid %(reference)s", reference=bid.reference),
         "information_requested", organisation_id=bid.organisation_id, bid=bid,
         question=request)
    return request


def open_request(bid: Bid) -> InformationRequest | None:
    return next((r for r in bid.information_requests if r.answer is None), None)


@atomic
def answer_request(bid: Bid, request_id: int, answer: str, actor: User) -> None:
    """The partnership answers the open question; the bid goes back to where it was, and the
    managers and the bid's assessors are told. Raises DomainError or ``Conflict``."""
    request = next((r for r in bid.information_requests if r.id == request_id), None)
    if request is None or bid.status != BidStatus.MORE_INFORMATION_REQUESTED:
        raise DomainError(_("There is no open question on this bid."))
    if request.answer is not None:
        raise DomainError(_("This question has already been answered."))
    if not answer.strip():
        raise DomainError(_("Enter your answer"), field="answer")
    back_to = bid.status_before_request or BidStatus.SUBMITTED
    name = "answer_in_assessment" if back_to == BidStatus.IN_ASSESSMENT else "answer"
    transition = move(BID, name, bid, actor,
                      values={"status_before_request": None, "updated_at": utcnow()},
                      after={"answered_request": request.id})
    request.answer = answer.strip()
    request.answered_by_id = actor.id
    request.answered_at = utcnow()
    session.flush()
    tell(transition, _l("Bid %(reference)s: question answered", reference=bid.reference),
         "question_answered", organisation_id=bid.organisation_id, bid_id=bid.id, bid=bid,
         question=request)
