"""Which version of which form a bid or a return is answered on (issue 15).

A round's application form is its latest *published* version; a round made before forms were
data, or by a test, gets version 1 (the standard form of its fund's kind, or a copy of its
fund's latest round's form) on first use. A version is marked ``in_use`` by the first bid (or
return) started on it, in the same guarded write that the designer's in-place change checks,
so a change and a first bid never cross: the change either lands before the bid starts, or
becomes a new version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError

from portal import questions, standard_forms
from portal.db import session, utcnow
from portal.models import Bid, FormKind, FormVersion, Fund, GrantReturn, Round
from portal.services.workflow import atomic


def _latest(round_id: int | None = None, fund_id: int | None = None, *,
            published: bool = True) -> FormVersion | None:
    statement = select(FormVersion)
    if round_id is not None:
        statement = statement.where(FormVersion.round_id == round_id)
    else:
        statement = statement.where(FormVersion.fund_id == fund_id)
    if published:
        statement = statement.where(FormVersion.published_at.is_not(None))
    return session.scalar(statement.order_by(FormVersion.number.desc()).limit(1))


def standard_definition(fund: Fund) -> dict[str, Any]:
    """The form a new round of ``fund`` starts with: a copy of its latest round's current
    form, else the standard one (seed funds' questions)."""
    previous = session.scalar(
        select(FormVersion).join(Round, Round.id == FormVersion.round_id)
        .where(Round.fund_id == fund.id, FormVersion.published_at.is_not(None))
        .order_by(Round.opens_at.desc(), FormVersion.number.desc()).limit(1))
    if previous is not None:
        return questions.read(previous.definition).as_json()
    return standard_forms.application(youth=fund.is_youth)


@atomic
def first_version(round_: Round, now: datetime | None = None) -> FormVersion:
    """The round's version 1, made now if it has none (two at once: one is kept)."""
    existing = _latest(round_.id, published=False)
    if existing is not None:
        return existing
    now = now or utcnow()
    version = FormVersion(kind=FormKind.APPLICATION, round_id=round_.id, number=1,
                          definition=standard_definition(round_.fund), revision=1,
                          in_use=False, published_at=now, created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(version)
            session.flush()
    except IntegrityError:  # made by another request a moment ago
        found = _latest(round_.id, published=False)
        assert found is not None
        return found
    return version


def current(round_: Round) -> FormVersion:
    """The version a bid started now is answered on: the round's latest published one."""
    return _latest(round_.id) or first_version(round_)


def latest(round_: Round) -> FormVersion | None:
    """The round's latest published version, if it has one (reads only)."""
    return _latest(round_.id)


def current_definition(round_: Round) -> questions.Definition:
    """The definition a bid started now would be answered on, read without writing (a page
    shown by GET never writes): the latest published version's, else the one version 1 would
    be made with."""
    version = _latest(round_.id)
    return questions.read(version.definition if version is not None
                          else standard_definition(round_.fund))


def use(version: FormVersion) -> None:
    """Mark ``version`` in use (a bid or return is being started on it) with a write that
    holds its row until the transaction ends: a designer's in-place change, which requires
    ``in_use`` false in its own UPDATE, waits and then finds it in use."""
    cast(CursorResult[Any], session.execute(
        update(FormVersion).where(FormVersion.id == version.id).values(in_use=True)
        .execution_options(synchronize_session=False)))
    version.in_use = True


def definition_of(bid: Bid) -> questions.Definition:
    """The definition ``bid`` is answered on (a bid from before its round had a form, or a
    direct award's: its round's current form, or the standard one)."""
    if bid.form_version is not None:
        return questions.read(bid.form_version.definition)
    version = _latest(bid.round_id)
    if version is not None:
        return questions.read(version.definition)
    return questions.read(standard_forms.application(youth=bid.round.fund.is_youth))


def return_form(fund: Fund) -> FormVersion | None:
    """The fund's current return form (None: its returns ask only their built-in parts)."""
    return _latest(fund_id=fund.id)


def return_definition(grant_return: GrantReturn) -> questions.Definition:
    """The definition a return is answered on: the version it was started on, else its
    fund's current return form, else none (no questions of the fund's own)."""
    version = grant_return.form_version_id and session.get(FormVersion,
                                                           grant_return.form_version_id)
    if not version:
        version = return_form(grant_return.award.round.fund)
    return questions.read(version.definition if version else {"sections": []})
