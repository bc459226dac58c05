"""Reads for the pages anyone may see: the health check and the public register of awarded
grants. What counts as published is decided in :mod:`portal.exports.giving360`."""

from __future__ import annotations

import logging

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from portal import bilingual
from portal.db import session
from portal.exports import giving360
from portal.models import Fund, Organisation, Round
from portal.pagination import Page, paginate

log = logging.getLogger(__name__)


def database_answers() -> bool:
    """Whether the database answers a ``SELECT 1`` (a failure is logged with its cause)."""
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.exception("Health check: database unreachable")
        return False
    return True


def register_choices() -> tuple[list[int], list[tuple[str, str]]]:
    """The register's filters: every financial year some round funds (by the year it starts,
    e.g. 2026 for 2026/27; each year of a round over several; newest first) and the funds as
    (code, name), the name in the reader's language (issue 16), by that name."""
    years = sorted({first + offset
                    for first, count in session.execute(
                        select(Round.financial_year, Round.years).distinct())
                    for offset in range(max(int(count or 1), 1))}, reverse=True)
    funds = sorted(((code, bilingual.pick(name, name_cy)) for code, name, name_cy in
                    session.execute(select(Fund.code, Fund.name, Fund.name_cy))),
                   key=lambda choice: (choice[1].casefold(), choice[0]))
    return years, funds


def register(year: int | None, fund_code: str | None, number: int, per_page: int) -> Page:
    """Page ``number`` of the published grants, newest decision first, of one financial year
    (a round over several years is in each of them) and one fund when given: rows of the
    published fields only (title, bid_reference, partnership, host_council, amount_pence,
    fund, financial_year and years of its round, purpose, conditions,
    crime_reduction_reasons, reference, decision_date, and the award's project dates
    start_date and end_date, ``None`` if it has none); see ``giving360.register_query``.
    Rows also have the Welsh names of the partnership and the fund (``partnership_cy``,
    ``fund_cy``, maybe empty) for a Welsh reader (issue 16); the open data keeps the
    English."""
    statement = giving360.register_query(year, fund_code).add_columns(
        Organisation.name_cy.label("partnership_cy"), Fund.name_cy.label("fund_cy"))
    return paginate(statement, number, per_page, rows=True,
                    count=giving360.register_count(year, fund_code))
