"""Reads for the grants manager's pages: funds, rounds and their bids, a bid by id, assessors,
variations and the audit trail. Each record read by id is None when there is none (the view
answers 404)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.db import session
from portal.models import Award, Bid, BidStatus, Fund, Round, User, Variation
from portal.pagination import Page, paginate
from portal.services import audit, rounds

AUDIT_PER_PAGE = 50


def rounds_page(number: int) -> Page:
    """Page ``number`` of every round (``Round`` objects), newest first."""
    return paginate(rounds.all_rounds(), number)


def fund(fund_id: int) -> Fund | None:
    """The fund, or None."""
    return session.get(Fund, fund_id)


def round_by_id(round_id: int) -> Round | None:
    """The round, or None."""
    return session.get(Round, round_id)


def submitted_bid(bid_id: int) -> Bid | None:
    """The bid, or None if there is none or it is still a draft: drafts belong to the
    partnership until submitted."""
    bid = session.get(Bid, bid_id)
    if bid is None or bid.status == BidStatus.DRAFT:
        return None
    return bid


def round_bids(round_id: int) -> list[Bid]:
    """The round's bids that are no longer drafts, by reference, their organisations loaded
    (one query)."""
    return list(session.scalars(
        select(Bid).where(Bid.round_id == round_id, Bid.status != BidStatus.DRAFT)
        .options(joinedload(Bid.organisation)).order_by(Bid.reference)))


def user(user_id: int) -> User | None:
    """The user with this id (e.g. the assessor chosen in a form), or None."""
    return session.get(User, user_id)


def variation(variation_id: int) -> Variation | None:
    """The variation with its award's budget lines and who asked and decided, or None."""
    return session.scalar(
        select(Variation).where(Variation.id == variation_id)
        .options(joinedload(Variation.award).selectinload(Award.lines),
                 joinedload(Variation.requested_by), joinedload(Variation.decided_by)))


def audit_page(number: int, *, user: str = "", record_type: str = "", record_id: str = "",
               start: date | None = None, end: date | None = None) -> Page:
    """Page ``number`` of the audit trail (``AuditEvent`` objects, newest first, 50 a page),
    filtered by who (``user``), which record and when (UK days, both inclusive)."""
    return paginate(audit.search_query(user=user, record_type=record_type, record_id=record_id,
                                       start=start, end=end),
                    number, per_page=AUDIT_PER_PAGE)
