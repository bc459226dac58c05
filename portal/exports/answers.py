"""The exports with the answers of the forms (issue 15): the bids table gains a column per
question of the form versions its bids were answered on (``tables.answer_columns``).

Its cost stays flat: one query for the definitions of the versions in use, the bids' rows
streamed as before (``yield_per``), and for each batch of them one query for their sections'
answers (and one for the names of the files answered, if any): never a query per bid.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any

from sqlalchemy import Select, select

from portal import questions, standard_forms
from portal.db import session
from portal.exports import return_answers
from portal.exports.tables import (
    TABLES,
    ChoiceWords,
    Table,
    answer_columns,
    answer_values,
    with_answers,
)
from portal.models import Bid, BidSection, EvidenceFile, FormVersion, Organisation
from portal.services import reporting


def _bids_statement(filters: reporting.Filters) -> Select[Any]:
    """The bids export's select (the same rows, scope and order as ``reporting``'s), with
    each bid's id and form version."""
    statement = reporting._where_round(reporting._bids(filters), filters)  # noqa: SLF001
    if filters.organisation_id is not None:
        statement = statement.where(Organisation.id == filters.organisation_id)
    return statement.add_columns(Bid.id.label("bid_id"),
                                 Bid.form_version_id.label("form_version_id"))


def export(name: str, filters: reporting.Filters) -> tuple[Table, Iterable[Mapping[str, Any]]]:
    """One export table (its columns) and its rows: the bids with their answers, any other
    table as ``reporting`` gives it (the returns with their answers, ``return_answers``)."""
    if name == "returns":
        return return_answers.export(filters)
    if name != "bids":
        return TABLES[name], reporting.export_rows(name, filters)
    statement = _bids_statement(filters)
    used = select(statement.order_by(None).subquery().c.form_version_id)
    definitions = {version.id: questions.read(version.definition) for version in
                   session.execute(select(FormVersion.id, FormVersion.definition)
                                   .where(FormVersion.id.in_(used))
                                   .order_by(FormVersion.round_id, FormVersion.number))}
    columns = answer_columns(definitions.values())
    table = with_answers(TABLES["bids"], columns)
    return table, _rows(statement, definitions, columns)


def _rows(statement: Select[Any], definitions: dict[int, questions.Definition],
          columns: list[questions.Question]) -> Iterator[Mapping[str, Any]]:
    # A bid answered before forms were data (a direct award's): the standard form reads it.
    fallback = questions.read(standard_forms.application(youth=True))
    files_asked = any(c.type == "file" for c in columns)
    choice_words = ChoiceWords()
    result = iter(session.execute(statement.execution_options(yield_per=reporting.BATCH)))
    while batch := [row._mapping for row in islice(result, reporting.BATCH)]:
        ids = [row["bid_id"] for row in batch]
        saved: dict[int, dict[str, dict[str, Any]]] = {}
        for section in session.execute(
                select(BidSection.bid_id, BidSection.key, BidSection.answers)
                .where(BidSection.bid_id.in_(ids))):
            saved.setdefault(section.bid_id, {})[section.key] = section.answers or {}
        files: dict[int, dict[int, str]] = {}  # a bid's own files only
        if files_asked:
            for bid_id, file_id, name in session.execute(
                    select(EvidenceFile.bid_id, EvidenceFile.id, EvidenceFile.original_name)
                    .where(EvidenceFile.bid_id.in_(ids))):
                files.setdefault(bid_id, {})[file_id] = name
        for row in batch:
            definition = definitions.get(row["form_version_id"], fallback)
            yield {**row, **answer_values(definition, saved.get(row["bid_id"], {}), columns,
                                          files.get(row["bid_id"]), choice_words)}
