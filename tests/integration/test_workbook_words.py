"""The workbook is a document for people (issue 16): every column of codes (a status, a kind,
a state, a recommendation, the issue types) gives each code in the reader's words, the words
the pages use, Welsh for a Welsh reader. The CSVs are for machines and keep the codes.

The columns of codes are found, not listed: a column of ``TABLES`` whose values in the rows
(made here through the services: bids, assessments, awards, payments, returns in every state)
are codes (an enum, or snake_case words) is one; each must have words, and each column with
words must be found holding codes (so the data here reaches every one of them).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask_babel import force_locale

from portal.db import session
from portal.exports import answers
from portal.exports.tables import TABLES, Column, Kind, csv_value, in_words
from portal.models import Bid
from portal.services import accounts, assessment, reporting
from tests import bidding
from tests.helpers import signed_in
from tests.integration.test_reports import build_scenario, cell_text, sheets_of
from tests.integration.test_welsh_content import MANAGER, WELSH_MANAGER
from tests.integration.test_welsh_names import assigned, csv_rows

CODE = re.compile(r"[a-z]+(?:_[a-z]+)*")
EVERY_YEAR = "?year=all"


def codes_in(column: Column, value: Any) -> list[str]:
    """The codes ``value`` holds, if it is a value of codes (else [])."""
    if value is None:
        return []
    items = value if column.kind is Kind.LIST and isinstance(value, list) else [value]
    found = [str(item.value) if isinstance(item, enum.Enum) else item for item in items]
    if all(isinstance(item, enum.Enum) or (isinstance(item, str) and CODE.fullmatch(item))
           for item in items):
        return found
    return []


def assessments_of_every_kind(app: Any) -> None:
    """A bid assessed and recommended by one assessor, the other declaring a conflict."""
    bid_id = bidding.submitted_bid(app, code="YF")
    assessed = assigned(app, bid_id, "assessor1@example.org")
    conflicted = assigned(app, bid_id, "assessor2@example.org")
    with app.test_request_context():
        first = accounts.get_user_by_email("assessor1@example.org")
        second = accounts.get_user_by_email("assessor2@example.org")
        assert first is not None and second is not None
        assignment = assessment.assignment_for(assessed, first)
        assert assignment is not None
        assessment.declare(assignment, False, "", first)
        criteria = session.get_one(Bid, bid_id).round.criteria
        assessment.save_assessment(
            assignment, [assessment.ScoreInput(c.id, 3, "Sound") for c in criteria],
            "fund_with_conditions", "Ask for a safeguarding plan", submit=True, actor=first)
        other = assessment.assignment_for(conflicted, second)
        assert other is not None
        assessment.declare(other, True, "I chair its board", second)
        session.commit()


@pytest.fixture
def grants(app: Any) -> None:
    build_scenario(app)
    assessments_of_every_kind(app)


def raw(app: Any) -> dict[str, list[dict[str, Any]]]:
    """Each export's rows as the services give them (codes), in the files' order."""
    with app.test_request_context():
        return {name: [dict(row) for row in answers.export(
            name, reporting.Filters(year=None))[1]] for name in reporting.EXPORTS}


def coded_columns(rows: dict[str, list[dict[str, Any]]]) -> Iterator[tuple[str, int, Column]]:
    """(table, position, column) of each column of ``TABLES`` holding codes in ``rows``."""
    for name, table_rows in rows.items():
        for position, column in enumerate(TABLES[name].columns):
            if any(codes_in(column, row[column.key]) for row in table_rows):
                yield name, position, column


def workbook(app: Any, email: str) -> dict[str, list[dict[str, Any]]]:
    response = signed_in(app, email).get(f"/reports/export/workbook.xlsx{EVERY_YEAR}")
    assert response.status_code == 200
    data = response.get_data()
    response.close()
    return dict(zip(reporting.EXPORTS, sheets_of(data).values(), strict=True))


def expected(app: Any, column: Column, value: Any, locale: str) -> str:
    """The cell's text in ``locale``: the code's words (a list's joined with "; ")."""
    with app.test_request_context(), force_locale(locale):
        words = in_words(column, value)
    return "; ".join(words) if isinstance(words, list) else words


def column_letters(position: int) -> str:
    """A column's letters by its position from 0: A, …, Z, AA, AB, …"""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def cells(sheet: list[dict[str, Any]], position: int) -> list[str | None]:
    """The column's cells below its heading (None: an empty cell)."""
    letters = column_letters(position)
    return [cell_text(row[letters]) if letters in row else None for row in sheet[1:]]


def test_every_column_of_codes_has_words_and_every_column_with_words_holds_codes(app, grants):
    found = {(name, column.key) for name, _position, column in coded_columns(raw(app))}
    worded = {(name, column.key) for name, table in TABLES.items()
              for column in table.columns if column.words is not None}
    assert found, "the rows hold no codes: the finder found nothing"
    assert found - worded == set(), "columns of codes with no words for the workbook"
    assert worded - found == set(), "columns with words that the rows here never reach"


@pytest.mark.parametrize("locale, email", [("cy", WELSH_MANAGER), ("en", MANAGER)])
def test_the_workbook_gives_every_code_in_the_readers_words(app, grants, locale, email):
    rows = raw(app)
    sheets = workbook(app, email)
    for name, position, column in coded_columns(rows):
        shown = cells(sheets[name], position)
        assert len(shown) == len(rows[name]), name
        for row, text in zip(rows[name], shown, strict=True):
            codes = codes_in(column, row[column.key])
            if not codes:
                assert text is None or not CODE.fullmatch(text), (name, column.key, text)
                continue
            assert text == expected(app, column, row[column.key], locale), (name, column.key)
            assert text is not None
            for word in text.split("; "):
                assert word not in codes and not CODE.fullmatch(word), (name, column.key, text)


def test_the_welsh_words_are_not_the_english(app, grants):
    rows = raw(app)
    welsh, english = workbook(app, WELSH_MANAGER), workbook(app, MANAGER)
    for name, position, column in coded_columns(rows):
        pairs = set(zip(cells(welsh[name], position), cells(english[name], position),
                        strict=True))
        assert any(cy != en for cy, en in pairs if cy), (name, column.key, pairs)


def test_the_english_words_are_the_pages_words(app, grants):
    sheets = workbook(app, MANAGER)
    headings = {name: {cell_text(c): letters for letters, c in sheet[0].items()}
                for name, sheet in sheets.items()}

    def column(name: str, heading: str) -> set[str]:
        letters = headings[name][heading]
        return {cell_text(row[letters]) for row in sheets[name][1:] if letters in row}

    assert {"Awarded", "In assessment"} <= column("bids", "Status")
    assert "Road safety; Bike theft" in column("bids", "Issue types")
    assert column("assessments", "Conflict of interest") == {"No conflict", "Conflict declared"}
    assert column("assessments", "Recommendation") == {"Fund with conditions"}
    assert {"Active", "Closed"} <= column("awards", "Status")
    assert column("returns", "Kind") == {"Periodic return", "Final return"}
    assert {"Approved", "Queried", "Overdue", "Due"} <= column("returns", "State")


@pytest.mark.parametrize("email", [WELSH_MANAGER, MANAGER])
def test_the_csvs_keep_the_codes_whatever_the_readers_language(app, grants, email):
    rows = raw(app)
    client = signed_in(app, email)
    for name, _position, column in coded_columns(rows):
        written = [r[column.csv_header] for r in
                   csv_rows(client, f"/reports/export/{name}.csv{EVERY_YEAR}")]
        assert written == [csv_value(column, row[column.key]) for row in rows[name]], name
        assert all(CODE.fullmatch(part) for text in written if text
                   for part in text.split("; ")), (name, column.key, written)


def test_a_code_with_no_words_is_given_as_it_is_and_each_is_looked_up_once(app):
    status = next(c for c in TABLES["bids"].columns if c.key == "status")
    issues = next(c for c in TABLES["bids"].columns if c.key == "issue_types")
    statuses: dict[str, str] = {}
    issue_words: dict[str, str] = {}
    with app.test_request_context(), force_locale("en"):
        assert in_words(status, "gone_away", statuses) == "gone_away"
        assert in_words(status, None, statuses) is None
        assert in_words(issues, ["youth", "gone_away"], issue_words) == ["Youth", "gone_away"]
        issue_words["youth"] = "Young people"  # a code's words are kept for the whole sheet
        assert in_words(issues, ["youth"], issue_words) == ["Young people"]
