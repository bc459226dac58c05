"""Reads for histories: the names of the records a page's audit events point at by id (a
return, a budget line of an award, a scoring criterion, a change asked for), so the events
read in words (issue 13). One query per kind of record named, whatever the number of events."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from portal import bilingual
from portal.db import session
from portal.inputs import whole_number
from portal.models import AwardLine, Criterion, GrantReturn, Variation


@dataclass
class RecordNames:
    """What the records named by id are: ``returns`` id -> (kind, period start, period end);
    ``award_lines`` id -> item; ``criteria`` id -> title; ``variations`` id -> kind."""

    returns: dict[int, tuple[str, date, date]] = field(default_factory=dict)
    award_lines: dict[int, str] = field(default_factory=dict)
    criteria: dict[int, str] = field(default_factory=dict)
    variations: dict[int, str] = field(default_factory=dict)


def _id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return whole_number(value if isinstance(value, str) else None, digits=18)


def record_names(events: Iterable[Any]) -> RecordNames:
    """The names of every return, variation, award budget line and criterion that ``events``
    (audit events: ``record_type``, ``record_id``, ``before``, ``after``) name by id."""
    returns: set[int] = set()
    variations: set[int] = set()
    lines: set[int] = set()
    criteria: set[int] = set()
    for event in events:
        record = _id(event.record_id)
        if record is not None and event.record_type == "return":
            returns.add(record)
        if record is not None and event.record_type == "variation":
            variations.add(record)
        for details in (event.before or {}, event.after or {}):
            for step in details.get("moves") or []:
                if isinstance(step, dict):
                    lines |= {i for i in (_id(step.get("from")), _id(step.get("to")),
                                          _id(step.get("line")))  # a carry-forward's line
                              if i is not None}
            scores = details.get("scores")
            if isinstance(scores, dict):
                criteria |= {i for i in map(_id, scores) if i is not None}
    names = RecordNames()
    if returns:
        names.returns = {row.id: (row.kind.value, row.period_start, row.period_end)
                         for row in session.execute(
                             select(GrantReturn.id, GrantReturn.kind, GrantReturn.period_start,
                                    GrantReturn.period_end).where(GrantReturn.id.in_(returns)))}
    if variations:
        names.variations = {row.id: row.kind.value for row in session.execute(
            select(Variation.id, Variation.kind).where(Variation.id.in_(variations)))}
    if lines:
        names.award_lines = {row.id: row.item for row in session.execute(
            select(AwardLine.id, AwardLine.item).where(AwardLine.id.in_(lines)))}
    if criteria:
        names.criteria = {row.id: bilingual.pick(row.title, row.title_cy)
                          for row in session.execute(
                              select(Criterion.id, Criterion.title, Criterion.title_cy)
                              .where(Criterion.id.in_(criteria)))}
    return names
