"""The returns export with the answers to the funds' own questions (issue 15): the returns
table gains a column per question of the return forms its returns were answered on, named
``answer:<key>`` by the question's stable key, in words (``tables.answer_columns`` and
``tables.answer_values``, as the bids export).

Its cost stays flat: one query for the definitions of the versions in use, and the returns'
rows streamed as before (``yield_per``), each with its answers (a column of its own row):
never a query per return.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import Select, select

from portal import questions
from portal.db import session
from portal.exports.tables import (
    TABLES,
    ChoiceWords,
    Table,
    answer_columns,
    answer_values,
    with_answers,
)
from portal.models import FormVersion, GrantReturn, Organisation
from portal.services import reporting


def _statement(filters: reporting.Filters) -> Select[Any]:
    """The returns export's select (the same rows, scope and order as ``reporting``'s), with
    each return's form version and answers."""
    statement = reporting._where_round(reporting._returns(filters), filters)  # noqa: SLF001
    if filters.organisation_id is not None:
        statement = statement.where(Organisation.id == filters.organisation_id)
    return statement.add_columns(GrantReturn.form_version_id.label("form_version_id"),
                                 GrantReturn.answers.label("answers"))


def export(filters: reporting.Filters) -> tuple[Table, Iterable[Mapping[str, Any]]]:
    """The returns table with a column per question of the return forms answered, and its
    rows."""
    statement = _statement(filters)
    used = select(statement.order_by(None).subquery().c.form_version_id)
    definitions = {version.id: questions.read(version.definition) for version in
                   session.execute(select(FormVersion.id, FormVersion.definition)
                                   .where(FormVersion.id.in_(used))
                                   .order_by(FormVersion.fund_id, FormVersion.number))}
    columns = answer_columns(definitions.values())
    return with_answers(TABLES["returns"], columns), _rows(statement, definitions, columns)


def _rows(statement: Select[Any], definitions: dict[int, questions.Definition],
          columns: list[questions.Question]) -> Iterator[Mapping[str, Any]]:
    empty = questions.Definition()
    choice_words = ChoiceWords()
    result = session.execute(statement.execution_options(yield_per=reporting.BATCH))
    for row in result:
        values = row._mapping
        definition = definitions.get(values["form_version_id"], empty)
        answers = dict(values["answers"] or {})
        # A return's answers are kept by question key; the columns read them per section.
        saved = {section.key: answers for section in definition.sections}
        yield {**values, **answer_values(definition, saved, columns, None, choice_words)}
