"""Funds and rounds: which rounds are open, and their state."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Select, select

from portal.db import session, uk_today, utcnow
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


def open_to(round_: Round, organisation_type: str) -> bool:
    """Whether organisations of ``organisation_type`` (an ``OrganisationType`` value) may bid
    in the round, whatever its dates. A round of a fund of direct awards (``Fund.direct``) is
    a budget the grants manager makes awards from: it is open to no one's bids."""
    if round_.fund.direct:
        return False
    return organisation_type in (round_.eligible_organisation_types or [])


def financial_year_of(day: date) -> int:
    """The starting year of the financial year (1 April to 31 March) holding ``day``."""
    return day.year if day.month >= 4 else day.year - 1


def financial_year_dates(year: int) -> tuple[date, date]:
    """The first and last day of financial year ``year``: 2026 (2026/27) is 1 April 2026 to
    31 March 2027 (domain brief, "Financial year")."""
    return date(year, 4, 1), date(year + 1, 3, 31)


def all_rounds() -> Select:
    """Every round, newest first: for a paginated list."""
    return select(Round).order_by(Round.closes_at.desc(), Round.id)


def current_rounds(organisation_type: str | None = None, on: date | None = None,
                   limit: int | None = None) -> list[Round]:
    """The rounds of the financial year holding ``on`` (today in the UK) and of later years,
    newest first: a handful, however many years of rounds the portal holds. With
    ``organisation_type``, only the rounds open to that kind of organisation; with ``limit``,
    the newest ``limit`` of them."""
    year = financial_year_of(on or uk_today())
    rounds = list(session.scalars(all_rounds().where(Round.financial_year >= year).limit(limit)))
    if organisation_type is not None:
        rounds = [r for r in rounds if open_to(r, organisation_type)]
    return rounds
