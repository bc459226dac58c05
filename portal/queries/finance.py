"""Reads for finance's pages: the returns queue, returns and repayments awaited, the awards,
a return to check and what is still owed on an award. Money is integer pence throughout.

The lists select only the columns they show: loading whole awards would drag in their bids,
rounds and funds, long texts and all.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Row, Select, cast, func, select
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from portal import db
from portal.db import session
from portal.models import (
    Award,
    AwardStatus,
    Bid,
    GrantReturn,
    Organisation,
    Repayment,
    RepaymentStatus,
    ReturnLine,
    ReturnOutcome,
    ReturnReview,
    ReturnStatus,
)
from portal.pagination import Page, paginate
from portal.services.awards import OPEN_RETURN  # the returns a partnership still owes

# ``partnership_cy``: its Welsh name (maybe empty), for a Welsh reader (issue 16).
_AWARD_COLUMNS = (Award.id.label("award_id"), Bid.reference.label("reference"),
                  Organisation.name.label("partnership"),
                  Organisation.name_cy.label("partnership_cy"))


def _with_award(statement: Select,
                award_id: InstrumentedAttribute[int] = GrantReturn.award_id) -> Select:
    """``statement`` joined to the award (by ``award_id``), its bid and its partnership."""
    return (statement.join(Award, Award.id == award_id)
            .join(Bid, Bid.id == Award.bid_id)
            .join(Organisation, Organisation.id == Award.organisation_id))


def _return_columns() -> tuple[Any, ...]:
    return (GrantReturn.id, GrantReturn.kind, GrantReturn.period_start, GrantReturn.period_end,
            GrantReturn.due_date, GrantReturn.status, GrantReturn.submitted_at, *_AWARD_COLUMNS)


def _queue() -> Select:
    spend = (select(cast(func.coalesce(func.sum(ReturnLine.spend_pence), 0), BigInteger))
             .where(ReturnLine.return_id == GrantReturn.id).scalar_subquery())
    return (_with_award(select(*_return_columns(), spend.label("spend_pence")))
            .where(GrantReturn.status == ReturnStatus.SUBMITTED)
            .order_by(GrantReturn.submitted_at, GrantReturn.id))


def _open_returns() -> Select:
    return (_with_award(select(*_return_columns()))
            .where(Award.status == AwardStatus.ACTIVE, GrantReturn.status.in_(OPEN_RETURN))
            .order_by(GrantReturn.due_date, GrantReturn.id))


def _repayments_awaited() -> Select:
    return (_with_award(select(Repayment.id, Repayment.amount_pence, Repayment.requested_at,
                               *_AWARD_COLUMNS), Repayment.award_id)
            .where(Repayment.received_on.is_(None))
            .order_by(Repayment.requested_at, Repayment.id))


def _first(statement: Select, limit: int) -> tuple[list[Row], bool]:
    rows = list(session.execute(statement.limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def returns_queue(number: int) -> Page:
    """Page ``number`` of the submitted returns waiting to be checked, oldest first: rows of
    id, kind, period_start, period_end, due_date, status, submitted_at, award_id, reference
    (the bid's), partnership (its name) and spend_pence (the total the return reports)."""
    submitted = (select(func.count()).select_from(GrantReturn)
                 .where(GrantReturn.status == ReturnStatus.SUBMITTED))
    return paginate(_queue(), number, rows=True, count=submitted)


def returns_awaited(number: int) -> Page:
    """Page ``number`` of the returns still awaited from partnerships on active awards
    (due, draft or queried), soonest due first: rows of id, kind, period_start, period_end,
    due_date, status, submitted_at, award_id, reference and partnership."""
    return paginate(_open_returns(), number, rows=True)


def first_returns_awaited(limit: int) -> tuple[list[Row], bool]:
    """The first ``limit`` rows of :func:`returns_awaited`, and whether there are more."""
    return _first(_open_returns(), limit)


def repayments_awaited(number: int) -> Page:
    """Page ``number`` of the repayments of underspend not yet received, oldest request
    first: rows of id, amount_pence, requested_at, award_id, reference and partnership."""
    return paginate(_repayments_awaited(), number, rows=True)


def first_repayments_awaited(limit: int) -> tuple[list[Row], bool]:
    """The first ``limit`` rows of :func:`repayments_awaited`, and whether there are more."""
    return _first(_repayments_awaited(), limit)


def awards(number: int) -> Page:
    """Page ``number`` of every award (``Award`` objects), newest offer first."""
    return paginate(select(Award).order_by(Award.offered_at.desc(), Award.id.desc()), number)


def return_to_check(return_id: int) -> GrantReturn | None:
    """The return with its outcomes (and their measures) and reviews (and who made them)
    loaded, or None if there is none. Its award is loaded on first use; the check page loads
    it with everything (``awards.award_with_everything``)."""
    return session.scalar(
        select(GrantReturn).where(GrantReturn.id == return_id)
        .options(selectinload(GrantReturn.outcomes).joinedload(ReturnOutcome.measure),
                 selectinload(GrantReturn.reviews).joinedload(ReturnReview.by)))


def owed_pence(award_id: int) -> int:
    """The underspend still to be repaid on the award, in pence: the repayments awaited.
    Each was set when the award closed, as paid minus eligible spend
    (``portal.services.awards.close``); 0 when nothing is owed."""
    owed = session.scalar(
        select(func.coalesce(func.sum(Repayment.amount_pence), 0))
        .where(Repayment.award_id == award_id, Repayment.status == RepaymentStatus.AWAITED))
    return int(owed or 0)


def uk_today() -> date:
    """Today on a UK clock: the day returns fall due and payments are dated against."""
    return db.uk_today()
