"""Reads for histories: the names of the records a page's audit events point at by id (a
return, a budget line of an award, a scoring criterion, a change asked for), so the events
read in words (issue 13), and what a Welsh reader needs to read them in Welsh (issue 16): the
form each bid is answered on (its questions' and sections' Welsh), its round's and fund's
Welsh names, and the Welsh names of the organisations the events name. One query per kind of
record named, whatever the number of events."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from portal import questions, standard_forms
from portal.db import session
from portal.inputs import whole_number
from portal.models import (
    AwardLine,
    Bid,
    Criterion,
    FormVersion,
    Fund,
    GrantReturn,
    Organisation,
    Round,
    Variation,
)

# Bid events whose details a Welsh reader reads through the bid's form, round and fund.
_BID_ACTIONS = frozenset({"bid.created", "bid.section_saved", "bid.form_version_changed"})
# Details that name an organisation by its (English) name.
ORGANISATION_KEYS = ("organisation", "partnership")


@dataclass
class BidNames:
    """What a bid's events name: its form, and its round's and fund's names in English and
    Welsh ("" where none is given)."""

    definition: questions.Definition
    round_name: str = ""
    round_name_cy: str = ""
    fund_name: str = ""
    fund_name_cy: str = ""


@dataclass
class RecordNames:
    """What the records named by id are: ``returns`` id -> (kind, period start, period end);
    ``award_lines`` id -> item; ``criteria`` id -> title (English); ``variations`` id -> kind."""

    returns: dict[int, tuple[str, date, date]] = field(default_factory=dict)
    award_lines: dict[int, str] = field(default_factory=dict)
    criteria: dict[int, str] = field(default_factory=dict)
    #: criterion id -> its Welsh title, where given.
    criteria_cy: dict[int, str] = field(default_factory=dict)
    variations: dict[int, str] = field(default_factory=dict)
    #: bid id -> its form and names (the bids whose events read through them).
    bids: dict[int, BidNames] = field(default_factory=dict)
    #: an organisation's English name -> its Welsh name ("" when it has none).
    organisations: dict[str, str] = field(default_factory=dict)


def _id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return whole_number(value if isinstance(value, str) else None, digits=18)


def record_names(events: Iterable[Any]) -> RecordNames:
    """The names of every return, variation, award budget line and criterion that ``events``
    (audit events: ``action``, ``record_type``, ``record_id``, ``before``, ``after``) name by
    id; the forms and names of the bids whose events read through them; the Welsh names of
    the organisations named."""
    returns: set[int] = set()
    variations: set[int] = set()
    lines: set[int] = set()
    criteria: set[int] = set()
    bids: set[int] = set()
    organisations: set[str] = set()
    for event in events:
        record = _id(event.record_id)
        if (record is not None and event.record_type == "bid"
                and getattr(event, "action", "") in _BID_ACTIONS):
            bids.add(record)
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
            organisations |= {name for key in ORGANISATION_KEYS
                              if isinstance(name := details.get(key), str) and name}
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
        for row in session.execute(select(Criterion.id, Criterion.title, Criterion.title_cy)
                                   .where(Criterion.id.in_(criteria))):
            names.criteria[row.id] = row.title
            if row.title_cy:
                names.criteria_cy[row.id] = row.title_cy
    if bids:
        names.bids = _bid_names(bids)
    if organisations:
        names.organisations = {row.name: row.name_cy or "" for row in session.execute(
            select(Organisation.name, Organisation.name_cy)
            .where(Organisation.name.in_(organisations)))}
    return names


def _bid_names(ids: set[int]) -> dict[int, BidNames]:
    """Each bid's form (the version it is answered on; a bid from before its round had a
    form: the round's latest published one, else the standard form, as
    ``form_versions.definition_of`` reads it) and its round's and fund's names. Three queries
    at most: the bids, the versions they name, the latest versions of the rounds of the rest."""
    rows = list(session.execute(
        select(Bid.id, Bid.form_version_id, Bid.round_id, Round.name, Round.name_cy,
               Fund.name.label("fund_name"), Fund.name_cy.label("fund_name_cy"),
               Fund.is_youth)
        .join(Round, Round.id == Bid.round_id).join(Fund, Fund.id == Round.fund_id)
        .where(Bid.id.in_(ids))))
    versions = {row.form_version_id for row in rows if row.form_version_id is not None}
    read: dict[int, questions.Definition] = {}
    if versions:
        read = {row.id: questions.read(row.definition) for row in session.execute(
            select(FormVersion.id, FormVersion.definition)
            .where(FormVersion.id.in_(versions)))}
    rounds = {row.round_id for row in rows if row.form_version_id is None}
    latest: dict[int, questions.Definition] = {}
    if rounds:
        for row in session.execute(
                select(FormVersion.round_id, FormVersion.definition)
                .where(FormVersion.round_id.in_(rounds), FormVersion.published_at.is_not(None))
                .order_by(FormVersion.round_id, FormVersion.number.desc())):
            if row.round_id not in latest:
                latest[row.round_id] = questions.read(row.definition)
    found = {}
    for row in rows:
        definition = (read.get(row.form_version_id) if row.form_version_id is not None
                      else latest.get(row.round_id))
        if definition is None:
            definition = questions.read(standard_forms.application(youth=row.is_youth))
        found[row.id] = BidNames(definition, row.name or "", row.name_cy or "",
                                 row.fund_name or "", row.fund_name_cy or "")
    return found
