"""The export tables (bids, assessments, awards, payments, returns) as CSV and as one Excel
workbook: pure functions over rows (mappings keyed by column), which they read once, in order.

CSV: a header row of stable snake_case names (money in pounds, ``*_gbp``; dates ISO 8601;
times in UK time with their offset), yielded in chunks so a response can stream it.

Workbook: XlsxWriter in ``constant_memory`` mode, which writes each row out as soon as the
next begins, so memory stays flat whatever the number of rows. Money is a number of pounds
with a currency format; dates and times are Excel dates. Text is always written as text,
never as a formula. The workbook is for people: a column of codes (a status, a kind, the issue
types) gives each code in the reader's words, the words the pages use (a column's ``words``);
the CSV keeps the codes, for machines.
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import bilingual, questions, workflows
from portal.db import UK
from portal.formatting import pence_to_pounds
from portal.reference import ISSUE_TYPES, RECOMMENDATIONS

CHUNK = 16 * 1024  # characters of CSV gathered before a chunk is yielded
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Kind(enum.Enum):
    TEXT = "text"
    LIST = "list"  # a JSON list of codes, joined with "; "
    INTEGER = "integer"
    MONEY = "money"  # integer pence in the row; pounds in the file
    PERCENT = "percent"  # basis points in the row; a percentage in the file
    DATE = "date"
    DATETIME = "datetime"  # aware (UTC) in the row; UK time in the file


@dataclass(frozen=True)
class Column:
    key: str  # the row's key
    heading: Any  # the workbook's heading (lazily translated)
    kind: Kind = Kind.TEXT
    width: int = 16
    # A column of codes: a code's words (in the reader's language) for the workbook; the CSV
    # gives the code itself. A LIST column's codes are each given in words.
    words: Callable[[str], str] | None = None

    @property
    def csv_header(self) -> str:
        if self.kind is Kind.MONEY:
            return self.key.removesuffix("_pence") + "_gbp"
        if self.kind is Kind.PERCENT:
            return self.key.removesuffix("_basis_points") + "_percent"
        return self.key


@dataclass(frozen=True)
class Table:
    name: str  # as in the URL: bids.csv
    title: Any  # the sheet's name (lazily translated; at most 31 characters)
    columns: tuple[Column, ...]


def _c(key: str, heading: Any, kind: Kind = Kind.TEXT, width: int = 16,
       words: Callable[[str], str] | None = None) -> Column:
    return Column(key, heading, kind, width, words)


# --- codes in words (the workbook's) -----------------------------------------------------------
# The words the pages show: a workflow's state labels (the ``state_tag`` words), the reference
# choices. A code with no words (one that no longer exists) is given as it is.


def _states(workflow: workflows.Workflow) -> Callable[[str], str]:
    def words(code: str) -> str:
        return workflow.label(code) if code in workflow.states else code
    return words


def _choices(choices: Iterable[tuple[str, Any]]) -> Callable[[str], str]:
    known = dict(choices)

    def words(code: str) -> str:
        return str(known[code]) if code in known else code
    return words


# A return's state as ``portal.services.awards.return_state`` gives it, in the grants team's
# words (the finance pages' ``return_state_tag``): the return workflow's, and "Overdue".
_RETURN_STATES = {"due": "due", "received": "submitted", "queried": "queried",
                  "approved": "approved"}


def _return_state(code: str) -> str:
    if code == "overdue":
        return _("Overdue")
    status = _RETURN_STATES.get(code)
    return workflows.RETURN.label(status) if status is not None else code


# The words of a return's kind on the partnership's pages (``return_kind``).
_RETURN_KINDS = [("periodic", _l("Periodic return")), ("final", _l("Final return"))]


_PARTNERSHIP = _c("partnership", _l("Partnership"), width=30)
# Columns of names the OPCC gives in English and Welsh (issue 16): a row may carry the Welsh
# beside the English as ``<key>_cy``; the file gives the reader's language, as plain text.
_BILINGUAL = {"partnership", "round"}
_FUND = _c("fund", _l("Fund"), width=8)
_ROUND = _c("round", _l("Round"), width=16)

TABLES: dict[str, Table] = {table.name: table for table in (
    Table("bids", _l("Bids"), (
        _c("reference", _l("Reference")), _c("title", _l("Title"), width=40), _PARTNERSHIP,
        _FUND, _ROUND, _c("financial_year", _l("Financial year"), Kind.INTEGER, 10),
        _c("status", _l("Status"), words=_states(workflows.BID)),
        _c("issue_types", _l("Issue types"), Kind.LIST, 30, _choices(ISSUE_TYPES)),
        _c("amount_requested_pence", _l("Amount requested"), Kind.MONEY, 14),
        _c("match_funding_pence", _l("Match funding"), Kind.MONEY, 14),
        _c("start_date", _l("Start date"), Kind.DATE, 14),
        _c("end_date", _l("End date"), Kind.DATE, 14),
        _c("submitted_at", _l("Submitted"), Kind.DATETIME, 18))),
    Table("assessments", _l("Assessments"), (
        _c("bid_reference", _l("Bid reference")), _PARTNERSHIP, _FUND, _ROUND,
        _c("assessor", _l("Assessor"), width=24),
        _c("assigned_at", _l("Assigned"), Kind.DATETIME, 18),
        _c("conflict", _l("Conflict of interest"), words=_states(workflows.DECLARATION)),
        _c("status", _l("Status"), words=_states(workflows.ASSESSMENT)),
        _c("recommendation", _l("Recommendation"), width=20,
           words=_choices(RECOMMENDATIONS)),
        _c("score_basis_points", _l("Weighted score (%)"), Kind.PERCENT, 12),
        _c("submitted_at", _l("Submitted"), Kind.DATETIME, 18))),
    Table("awards", _l("Awards"), (
        _c("reference", _l("Reference")), _c("decision_reference", _l("Decision")),
        _c("title", _l("Title"), width=40), _PARTNERSHIP, _FUND, _ROUND,
        _c("financial_year", _l("Financial year"), Kind.INTEGER, 10),
        # The round's years as users write them: "2022/23 to 2024/25" (issue 14).
        _c("financial_years", _l("Financial years"), width=20),
        _c("status", _l("Status"), words=_states(workflows.AWARD)),
        _c("amount_pence", _l("Awarded"), Kind.MONEY, 14),
        _c("paid_pence", _l("Paid"), Kind.MONEY, 14),
        _c("spent_pence", _l("Spent (approved returns)"), Kind.MONEY, 14),
        _c("returned_pence", _l("Underspend returned"), Kind.MONEY, 14),
        _c("start_date", _l("Start date"), Kind.DATE, 14),
        _c("end_date", _l("End date"), Kind.DATE, 14),
        _c("offered_at", _l("Offered"), Kind.DATETIME, 18),
        _c("accepted_at", _l("Accepted"), Kind.DATETIME, 18),
        _c("closed_at", _l("Closed"), Kind.DATETIME, 18),
        _c("override_reason", _l("Decided before the required assessments because"),
           width=40))),
    Table("payments", _l("Payments"), (
        _c("award_reference", _l("Award reference")), _PARTNERSHIP, _FUND, _ROUND,
        _c("paid_on", _l("Paid on"), Kind.DATE, 14),
        _c("amount_pence", _l("Amount"), Kind.MONEY, 14),
        _c("payment_reference", _l("Payment reference"), width=20),
        _c("recorded_at", _l("Recorded"), Kind.DATETIME, 18))),
    Table("returns", _l("Returns"), (
        _c("award_reference", _l("Award reference")), _PARTNERSHIP, _FUND, _ROUND,
        _c("kind", _l("Kind"), width=16, words=_choices(_RETURN_KINDS)),
        _c("period_start", _l("Period start"), Kind.DATE, 14),
        _c("period_end", _l("Period end"), Kind.DATE, 14),
        _c("due_date", _l("Due"), Kind.DATE, 14),
        _c("status", _l("Status"), width=12, words=_states(workflows.RETURN)),
        _c("state", _l("State"), width=12, words=_return_state),
        _c("spend_pence", _l("Spend reported"), Kind.MONEY, 14),
        _c("forecast_underspend_pence", _l("Forecast underspend"), Kind.MONEY, 14),
        _c("submitted_at", _l("Submitted"), Kind.DATETIME, 18),
        _c("approved_at", _l("Approved"), Kind.DATETIME, 18))),
)}

#: A round's bids in rank order, as the grants manager downloads them (not a report export).
RANKING = Table("ranking", _l("Ranking"), (
    _c("rank", _l("Rank"), Kind.INTEGER, 6), _c("reference", _l("Reference")),
    _c("title", _l("Title"), width=40), _PARTNERSHIP,
    _c("score_basis_points", _l("Weighted score (%)"), Kind.PERCENT, 12),
    _c("moderated", _l("Moderated"), width=10),
    _c("assessments", _l("Assessments"), Kind.INTEGER, 10),
    _c("requested_pence", _l("Requested"), Kind.MONEY, 14),
    _c("cumulative_pence", _l("Cumulative"), Kind.MONEY, 14),
    _c("within_remaining_budget", _l("Within the remaining budget"), width=12),
    _c("assessments_needed_in", _l("Assessments needed are in"), width=12)))


# --- values ------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def _uk(value: datetime) -> datetime:
    return value.astimezone(UK)


def _percent(basis_points: int) -> Decimal:
    return (Decimal(basis_points) / 100).quantize(Decimal("0.01"))


def cell(row: Mapping[str, Any], column: Column) -> Any:
    """The value of ``column`` in ``row``: for a column of names (``_BILINGUAL``), the Welsh
    (``<key>_cy``) for a Welsh reader when the row has it, else the English."""
    value = row[column.key]
    if column.key in _BILINGUAL and isinstance(value, str):
        return bilingual.pick(value, row.get(f"{column.key}_cy"))
    return value


def csv_value(column: Column, value: Any) -> str:
    if value is None:
        return ""
    kind = column.kind
    if kind is Kind.MONEY:
        return str(pence_to_pounds(int(value)))
    if kind is Kind.PERCENT:
        return str(_percent(int(value)))
    if kind is Kind.DATE:
        return value.isoformat()
    if kind is Kind.DATETIME:
        return _uk(value).isoformat(timespec="seconds")
    if kind is Kind.INTEGER:
        return str(int(value))
    text = "; ".join(map(_text, value)) if kind is Kind.LIST else _text(value)
    return spreadsheet_text(text)


def spreadsheet_text(text: str) -> str:
    """``text`` as a spreadsheet will show it, never run it (OWASP's CSV injection).

    A cell whose first character, after any leading spaces (Unicode's, the no-break and
    ideographic ones included) and quotation marks, is = + - @ (or their full-width forms), a
    tab or a line break is a formula to Excel or LibreOffice (LibreOffice trims spaces on
    import when asked): it gets a leading apostrophe. Control characters other than tab and
    line breaks are dropped: no one types them and a terminal runs some (data loaded outside
    the forms can hold them). Every CSV the portal writes passes its text through this."""
    text = _CONTROL.sub("", text)
    lead = text.lstrip().lstrip("\"'“”‘’").lstrip()
    return "'" + text if lead.startswith(FORMULA_START) or text.startswith(("\t", "\r", "\n")) \
        else text


# --- CSV ---------------------------------------------------------------------------------------


def csv_chunks(table: Table, rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The CSV text of ``rows``: the header first (alone, so an empty selection still gives a
    valid file), then chunks of about ``CHUNK`` characters. In English whatever the reader's
    language (issue 16): a CSV is for programs, which join and compare files, so the same
    rows make the same file for every reader (codes, names, answers' words); the workbook is
    the one for people, in their language."""
    with force_locale("en_GB"):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([column.csv_header for column in table.columns])
        for row in rows:
            if buffer.tell() >= CHUNK:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
            writer.writerow([csv_value(column, row[column.key]) for column in table.columns])
        yield buffer.getvalue()


# --- workbook ----------------------------------------------------------------------------------


class _Formats:
    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.heading = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        self.money = workbook.add_format({"num_format": "£#,##0.00"})
        self.percent = workbook.add_format({"num_format": "0.00"})
        self.date = workbook.add_format({"num_format": "d mmmm yyyy"})
        self.datetime = workbook.add_format({"num_format": "d mmmm yyyy hh:mm"})


def _write_cell(sheet: Any, row: int, col: int, column: Column, value: Any,
                formats: _Formats) -> None:
    if value is None:
        return
    kind = column.kind
    if kind is Kind.MONEY:
        # A Decimal of pounds: XlsxWriter writes it digit for digit (no float arithmetic here).
        sheet.write_number(row, col, pence_to_pounds(int(value)), formats.money)
    elif kind is Kind.PERCENT:
        sheet.write_number(row, col, _percent(int(value)), formats.percent)
    elif kind is Kind.INTEGER:
        sheet.write_number(row, col, int(value))
    elif kind is Kind.DATE:
        sheet.write_datetime(row, col, value, formats.date)
    elif kind is Kind.DATETIME:
        sheet.write_datetime(row, col, _uk(value).replace(tzinfo=None), formats.datetime)
    elif kind is Kind.LIST:
        sheet.write_string(row, col, "; ".join(map(_text, value)))
    else:
        sheet.write_string(row, col, _text(value))


def in_words(column: Column, value: Any, said: dict[str, str] | None = None) -> Any:
    """``value`` as the workbook gives it: in a column of codes, each code in the reader's
    words (``column.words``); any other value as it is. ``said``: the words already looked up
    for this column, kept for a whole sheet (a translation lookup per cell would cost as much
    as the rest of the cell)."""
    words = column.words
    if words is None or value is None:
        return value
    known = {} if said is None else said

    def word(code: Any) -> str:
        key = _text(code)
        found = known.get(key)
        if found is None:
            found = known[key] = words(key)
        return found

    return [word(code) for code in value] if column.kind is Kind.LIST else word(value)


def _write_sheet(workbook: xlsxwriter.Workbook, table: Table,
                 rows: Iterable[Mapping[str, Any]], formats: _Formats) -> None:
    sheet = workbook.add_worksheet(str(table.title))
    last_col = len(table.columns) - 1
    for col, column in enumerate(table.columns):
        sheet.set_column(col, col, column.width)
        sheet.write_string(0, col, str(column.heading), formats.heading)
    sheet.freeze_panes(1, 0)
    last_row = 0
    said: list[dict[str, str]] = [{} for _column in table.columns]
    for number, row in enumerate(rows, start=1):
        for col, column in enumerate(table.columns):
            _write_cell(sheet, number, col, column,
                        in_words(column, cell(row, column), said[col]), formats)
        last_row = number
    sheet.autofilter(0, 0, last_row, last_col)


def write_workbook(target: str | IO[bytes],
                   sheets: Iterable[tuple[Table, Iterable[Mapping[str, Any]]]]) -> None:
    """One sheet per (table, rows), in order; each sheet's rows are read once, as written."""
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True,
                                            "strings_to_formulas": False,
                                            "strings_to_urls": False})
    formats = _Formats(workbook)
    for table, rows in sheets:
        _write_sheet(workbook, table, rows, formats)
    workbook.close()


# --- a form's answers (issue 15) ---------------------------------------------------------------
# The bids export has one column per question of the forms its bids were answered on, named
# ``answer:<key>`` by the question's stable key (a key is lower case letters, digits and "_",
# so the colon never meets a fixed column's name), in form order: the union of the versions'
# keys, a key new in a later version placed after the question it follows there. Questions
# whose answers already have their own columns (the title, the project's dates, the issue
# types) and guidance text (no answer) have none. Values are in words: a choice's words, Yes
# or No, money in pounds and dates in ISO 8601 as in the other columns; the budget's lines,
# the outcomes and the declarations are each summarised in one text column. Every value is
# text, through ``csv_value``'s formula guard.

ANSWER_PREFIX = "answer:"
#: Built-in questions whose answers the bids table exports in its own columns.
OWN_COLUMNS = frozenset({"title", "project_dates", "issue_types"})


def answer_columns(definitions: Iterable[questions.Definition]) -> list[questions.Question]:
    """The questions that get a column, one per key, in form order across ``definitions``
    (the first definition that has a key gives its question: its label heads the column)."""
    order: list[str] = []
    first: dict[str, questions.Question] = {}
    for definition in definitions:
        previous: str | None = None
        for _section, question in definition.questions():
            if not question.kind.answers or question.type in OWN_COLUMNS:
                continue
            if question.key not in first:
                first[question.key] = question
                # After the question it follows in this version (first: at the start).
                order.insert(order.index(previous) + 1 if previous is not None else 0,
                             question.key)
            previous = question.key
    return [first[key] for key in order]


def with_answers(table: Table, columns: Iterable[questions.Question]) -> Table:
    """``table`` with a text column per question (heading: its label, else its key)."""
    return Table(table.name, table.title, table.columns + tuple(
        Column(ANSWER_PREFIX + question.key, question.words("label") or question.key,
               Kind.TEXT, 30 if question.type in ("long_text", "summary", "budget",
                                                  "outcomes") else 16)
        for question in columns))


class ChoiceWords:
    """The words of each question's choices, looked up once per export (the same questions
    answer every row: a translation lookup per choice per row was half an export's time)."""

    def __init__(self) -> None:
        self._found: dict[int, dict[str, str]] = {}
        self.kinds = {"capital": _("Capital"), "revenue": _("Revenue")}

    def of(self, question: questions.Question) -> dict[str, str]:
        found = self._found.get(id(question))
        if found is None:
            found = self._found[id(question)] = dict(questions.choices_of(question))
        return found


def answer_values(definition: questions.Definition, saved: Mapping[str, Mapping[str, Any]],
                  columns: Iterable[questions.Question],
                  files: Mapping[int, str] | None = None,
                  choice_words: ChoiceWords | None = None) -> dict[str, str | None]:
    """One bid's answer columns: its saved answers (section key -> answers) read through the
    definition it was answered on, hidden sections and questions left out (conditions), in
    words. A column whose question that definition does not ask is empty. ``files``: the
    names of the files a file question's answers point to, by id. ``choice_words``: one
    for every row of an export, whose definitions outlive it."""
    choice_words = choice_words or ChoiceWords()
    every = questions.visible(definition, {key: dict(answers) for key, answers in saved.items()})
    values: dict[str, Any] = {}
    for section in questions.shown_sections(definition, every):
        answers = dict(saved.get(section.key) or {})
        shown = questions.kept(section, answers, every)
        for question in section.questions:
            if question.kind.answers and any(part in shown for part in question.parts):
                values[question.key] = (question, shown)
    row: dict[str, str | None] = {}
    for column in columns:
        found = values.get(column.key)
        row[ANSWER_PREFIX + column.key] = (
            answer_text(found[0], found[1], files or {}, choice_words) if found else None)
    return row


def answer_text(question: questions.Question, answers: Mapping[str, Any],
                files: Mapping[int, str], choice_words: ChoiceWords | None = None
                ) -> str | None:
    """``question``'s answer, from its section's ``answers``, in words (None: no answer)."""
    choice_words = choice_words or ChoiceWords()
    def pounds(value: Any) -> str:
        return str(pence_to_pounds(int(value))) if _whole(value) else ""

    code = question.type
    if code == "budget":
        kinds = choice_words.kinds
        lines = [f"{row.get('item', '')} ({kinds.get(str(row.get('kind')), '')}): "
                 f"{pounds(row.get('amount_pence'))}"
                 for row in answers.get("rows") or [] if isinstance(row, dict)]
        return "; ".join(lines) or None
    if code == "outcomes":
        lines = [f"{row.get('measure', '')}: {row.get('target', '')}"
                 + (f" ({row['how_measured']})" if row.get("how_measured") else "")
                 for row in answers.get("rows") or [] if isinstance(row, dict)]
        return "; ".join(lines) or None
    if code == "declarations":
        if not any(part in answers for part in question.parts):
            return None
        if answers.get("accurate") is True and answers.get("authorised") is True:
            return _("Confirmed by %(name)s, %(role)s", name=answers.get("name") or "",
                     role=answers.get("role") or "")
        return _("Not confirmed")
    value = answers.get(question.parts[0] if question.parts else question.key)
    if value is None or value == "" or value == []:
        return None
    if code == "money":
        return pounds(value)
    if code == "whole_number":
        return str(value) if _whole(value) else None
    if code == "file":
        return files.get(value, "") if _whole(value) else None
    if code in ("yes_no", "one_choice", "several_choices", "rag", "confirm"):
        offered = choice_words.of(question)
        chosen = value if isinstance(value, list) else [value]
        if code == "confirm":
            return _("Confirmed") if value is True else None
        if code == "yes_no" and isinstance(value, bool):
            chosen = ["yes" if value else "no"]
        return "; ".join(str(offered.get(str(v), v)) for v in chosen)
    return str(value)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
