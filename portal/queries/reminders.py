"""Reads about return reminders: those nobody could receive, for the grants team's page and
the reminders command's output."""

from __future__ import annotations

from sqlalchemy import Select, func, select

from portal.db import session
from portal.models import Award, AwardStatus, Bid, GrantReturn, Organisation
from portal.models.sending import ReminderHeld
from portal.pagination import Page, paginate
from portal.services.awards import OPEN_RETURN


def _held() -> Select:
    """Held reminders still worth sending (the return still awaited, the award active),
    oldest held first. Rows: held id, kind, reason, held_since, last_tried_at, return id,
    return kind, period_start, period_end, due_date, award id, bid id, bid reference,
    partnership name and its Welsh name (``partnership_cy``, maybe empty)."""
    return (
        select(ReminderHeld.id, ReminderHeld.kind, ReminderHeld.reason, ReminderHeld.held_since,
               ReminderHeld.last_tried_at, GrantReturn.id.label("return_id"),
               GrantReturn.kind.label("return_kind"), GrantReturn.period_start,
               GrantReturn.period_end, GrantReturn.due_date, Award.id.label("award_id"),
               Bid.id.label("bid_id"), Bid.reference, Organisation.name.label("partnership"),
               Organisation.name_cy.label("partnership_cy"))
        .join(GrantReturn, GrantReturn.id == ReminderHeld.return_id)
        .join(Award, Award.id == GrantReturn.award_id)
        .join(Bid, Bid.id == Award.bid_id)
        .join(Organisation, Organisation.id == Award.organisation_id)
        .where(GrantReturn.status.in_(OPEN_RETURN), Award.status == AwardStatus.ACTIVE)
        .order_by(ReminderHeld.held_since, ReminderHeld.id))


def held_page(number: int) -> Page:
    """Page ``number`` of the reminders nobody could receive (rows as ``_held`` says)."""
    count = (select(func.count()).select_from(ReminderHeld)
             .join(GrantReturn, GrantReturn.id == ReminderHeld.return_id)
             .join(Award, Award.id == GrantReturn.award_id)
             .where(GrantReturn.status.in_(OPEN_RETURN), Award.status == AwardStatus.ACTIVE))
    return paginate(_held(), number, rows=True, count=count)


def held() -> list:
    """Every reminder nobody could receive (rows as ``_held`` says)."""
    return list(session.execute(_held()))
