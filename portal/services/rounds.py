"""Funds and rounds: which rounds are open, and their state."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.db import session, utcnow
from portal.models import Round


class RoundState(enum.StrEnum):
    FUTURE = "future"
    OPEN = "open"
    CLOSED = "closed"


def state_of(round_: Round, now: datetime | None = None) -> RoundState:
    now = now or utcnow()
    if now < round_.opens_at:
        return RoundState.FUTURE
    if now >= round_.closes_at:
        return RoundState.CLOSED
    return RoundState.OPEN


def financial_year_of(day: date) -> int:
    """The starting year of the financial year (1 April to 31 March) holding ``day``."""
    return day.year if day.month >= 4 else day.year - 1


def rounds_for(organisation_type: str | None = None) -> list[Round]:
    """All rounds, newest first, with their fund and criteria loaded in two queries."""
    statement = (select(Round).options(selectinload(Round.criteria))
                 .order_by(Round.closes_at.desc(), Round.id))
    rounds = list(session.scalars(statement))
    if organisation_type is not None:
        rounds = [r for r in rounds if organisation_type in (r.eligible_organisation_types or [])]
    return rounds
