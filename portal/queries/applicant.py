"""Reads for the partnership's pages: their bids, a round they may bid in."""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select

from portal.db import session
from portal.models import Bid, BidStatus, Fund, Round
from portal.pagination import Page, paginate
from portal.services import rounds


def round_open_to(round_id: int, organisation_type: str) -> Round | None:
    """The round with this id if organisations of ``organisation_type`` (an
    ``OrganisationType`` value) may bid in it, whatever its dates (the page says whether it is
    open); None if there is no such round or it is not for them."""
    round_ = session.get(Round, round_id)
    return round_ if round_ is not None and rounds.open_to(round_, organisation_type) else None


def bids_page(organisation_id: int, number: int, text: str = "", status: str = "") -> Page:
    """Page ``number`` of a partnership's bids as its dashboard lists them, most recently
    changed first: rows of id, title, reference, status, amount_requested_pence (pence),
    updated_at (UTC), fund (its name) and fund_cy (its Welsh name, maybe empty). ``text``
    matches the title or reference as typed (any case; ``%`` and ``_`` are plain characters);
    ``status`` is a ``BidStatus`` value or blank for all. Raises ``ValueError`` for a status
    that is not one."""
    statement = (select(Bid.id, Bid.title, Bid.reference, Bid.status, Bid.amount_requested_pence,
                        Bid.updated_at, Fund.name.label("fund"), Fund.name_cy.label("fund_cy"))
                 .join(Round, Round.id == Bid.round_id).join(Fund, Fund.id == Round.fund_id)
                 .order_by(Bid.updated_at.desc(), Bid.id.desc()))
    count = select(func.count()).select_from(Bid)
    return paginate(_bid_filters(statement, organisation_id, text, status), number, rows=True,
                    count=_bid_filters(count, organisation_id, text, status))


def _bid_filters(statement: Select, organisation_id: int, text: str, status: str) -> Select:
    statement = statement.where(Bid.organisation_id == organisation_id)
    if text:
        typed = text.lower()
        statement = statement.where(or_(func.lower(Bid.title).contains(typed, autoescape=True),
                                        func.lower(Bid.reference).contains(typed, autoescape=True)))
    if status:
        statement = statement.where(Bid.status == BidStatus(status))
    return statement
