"""Variations of an award: the partnership asks to move money between budget lines or to
extend the end date; a grants manager approves or declines (re-allocation needs the OPCC's
agreement: seed 000, "agreed by OPCC"). Approved moves revise the award's lines in place;
an extension moves the end date and the final return with it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.db import session, utcnow
from portal.formatting import long_date, money
from portal.models import (
    Award,
    AwardLine,
    AwardStatus,
    GrantReturn,
    ReturnKind,
    Role,
    User,
    Variation,
    VariationKind,
    VariationStatus,
)
from portal.services import DomainError, audit, policy
from portal.services.awards import OPEN_RETURN, add_months, lock_award
from portal.services.bids import MULTI_YEAR_YEARS
from portal.services.policy import Action
from portal.services.rounds import financial_year_dates
from portal.services.workflow import atomic, move, tell
from portal.workflows import VARIATION, Transition

# Asking for a change starts a variation (it is not a move from one state to another), but
# who is told is named the same way as for the workflow's transitions.
VARIATION_ASKED = Transition("ask", frozenset(), VariationStatus.REQUESTED.value,
                             frozenset({Role.OFFICER}), "variation.requested",
                             _l("Change asked for"), ("managers",))


def pending_variation(award: Award) -> Variation | None:
    """The award's change still waiting for a decision, if there is one (at most one)."""
    return session.scalar(select(Variation).where(Variation.award_id == award.id,
                                                  Variation.status == VariationStatus.REQUESTED)
                          .order_by(Variation.id).limit(1))


def latest_end_date(award: Award) -> date:
    """The latest end date an extension may ask for: ``MAX_EXTENSION_MONTHS`` (a setting,
    default 12) after the current end, and never beyond what the fund allows. Grant money
    is time-limited to the financial year, and carrying it over needs approval (domain
    brief, "Financial year"): a one-year fund's project may be carried over into the next
    financial year at most; a multi-year fund's stays within its three financial years
    (:func:`portal.services.bids.project_date_bounds`)."""
    months = int(current_app.config["MAX_EXTENSION_MONTHS"])
    year = award.round.financial_year
    years = MULTI_YEAR_YEARS if award.round.fund.allows_multi_year else 2
    fund_last = financial_year_dates(year + years - 1)[1]
    return min(add_months(award.end_date, months), fund_last)


def check_new_end_date(award: Award, new_end: date) -> None:
    """An extension's new end date: after the current end, by :func:`latest_end_date`.
    Raises DomainError beside ``new_end_date``."""
    if new_end <= award.end_date:
        raise DomainError(_("The new end date must be after %(date)s",
                            date=long_date(award.end_date)), field="new_end_date")
    latest = latest_end_date(award)
    if new_end > latest:
        raise DomainError(_("The new end date can be no later than %(date)s",
                            date=long_date(latest)), field="new_end_date")


@atomic
def request_variation(award: Award, kind: VariationKind, reason: str, actor: User, *,
                      moves: list[dict[str, Any]] | None = None,
                      new_end_date: date | None = None) -> Variation:
    """The partnership asks to move money between lines or to extend the end date; the
    grants managers are told. Raises DomainError beside the field it is about."""
    policy.require(actor, Action.ACT_FOR_PARTNERSHIP, award,
                   otherwise=_("Only the partnership's officers can ask to change this award."))
    # One change waits at a time: the award's row is held so that two asked for at the same
    # moment are checked one after the other, and the second finds the first.
    lock_award(award)
    if award.status != AwardStatus.ACTIVE:
        raise DomainError(_("Variations can only be asked for on an active award."))
    waiting = pending_variation(award)
    if waiting is not None:
        raise DomainError(_("You asked for a change on %(date)s and the OPCC has not decided it "
                            "yet. Ask for another change once it is decided.",
                            date=long_date(waiting.requested_at)), field="kind")
    if not reason.strip():
        raise DomainError(_("Enter the reason for the change"), field="reason")
    lines = {line.id: line for line in award.lines}
    if kind == VariationKind.REALLOCATION:
        if not moves:
            raise DomainError(_("Say how much to move and between which lines"), field="amount")
        for step in moves:
            source = lines.get(step["from"]) if isinstance(step.get("from"), int) else None
            if source is None:
                raise DomainError(_("Choose a line to move money from"), field="from_line")
            if step.get("to") is not None and step["to"] not in lines:
                raise DomainError(_("Choose a line to move money to"), field="to_line")
            if step.get("to") is None and not (step.get("new_item") or "").strip():
                raise DomainError(_("Choose a line to move money to, or name a new line"),
                                  field="to_line")
            if step.get("to") == step.get("from"):
                raise DomainError(_("Choose two different lines"), field="to_line")
            if int(step.get("amount", 0)) <= 0:
                raise DomainError(_("Enter an amount more than £0"), field="amount")
            if int(step["amount"]) > source.revised_pence:
                raise DomainError(_("“%(item)s” has only %(n)s to move", item=source.item,
                                    n=money(source.revised_pence)), field="amount")
    else:
        if new_end_date is None:
            raise DomainError(_("Enter the new end date"), field="new_end_date")
        check_new_end_date(award, new_end_date)
    variation = Variation(award_id=award.id, kind=kind, reason=reason.strip(),
                          moves=moves or [], new_end_date=new_end_date,
                          requested_by_id=actor.id, requested_at=utcnow())
    session.add(variation)
    session.flush()
    audit.record("variation.requested", "award", award.id, actor=actor,
                 after={"variation": variation.id, "kind": kind.value, "moves": moves or [],
                        "new_end_date": new_end_date.isoformat() if new_end_date else None})
    tell(VARIATION_ASKED, _l("Change asked for on %(reference)s", reference=award.bid.reference),
         "variation_requested", award=award, variation=variation, requested_by=actor)
    return variation


@atomic
def decide_variation(variation: Variation, approve: bool, comment: str, actor: User) -> None:
    """The grants manager approves (the award's lines or end date change with it) or
    declines a variation: one guarded write from requested; the partnership is told.
    Every move is checked against the lines as they are now (the award's row is held, so two
    variations of one award are decided one after the other) before anything changes."""
    policy.require(actor, Action.MANAGE_GRANTS,
                   otherwise=_("Only a grants manager can decide variations."))
    if variation.status != VariationStatus.REQUESTED:
        raise DomainError(_("This variation has already been decided."))
    comment = comment.strip()
    if not approve and not comment:
        raise DomainError(_("Give the reason for declining"), field="comment")
    award = variation.award
    lock_award(award)
    session.refresh(variation, ["status"])
    if variation.status != VariationStatus.REQUESTED:
        raise DomainError(_("This variation has already been decided."))
    new_end = (variation.new_end_date
               if approve and variation.kind == VariationKind.EXTENSION else None)
    extending = new_end is not None
    if new_end is not None and new_end <= award.end_date:
        raise DomainError(_("The award already ends on %(date)s, no earlier than the date "
                            "asked for.", date=long_date(award.end_date)))
    if new_end is not None and new_end > latest_end_date(award):
        raise DomainError(_("The date asked for is after %(date)s, the latest this award can "
                            "be extended to: decline it, and the partnership can ask again.",
                            date=long_date(latest_end_date(award))), field="outcome")
    final = None
    if extending:  # its dates move with the end date: held too, before the first write
        final = session.scalar(select(GrantReturn).where(GrantReturn.award_id == award.id,
                                                         GrantReturn.kind == ReturnKind.FINAL)
                               .with_for_update().execution_options(populate_existing=True))
    reallocating = approve and variation.kind == VariationKind.REALLOCATION
    if reallocating:
        _check_moves(award, variation.moves)  # every move checked before any line changes
    transition = move(VARIATION, "approve" if approve else "decline", variation, actor,
                      values={"decided_by_id": actor.id, "decided_at": utcnow(),
                              "decision_comment": comment},
                      record_id=award.id, after={"variation": variation.id, "comment": comment})
    if reallocating:
        _reallocate(award, variation.moves, actor)
    if new_end is not None:
        before_end = award.end_date
        award.end_date = new_end
        if final is not None and final.status in OPEN_RETURN:
            final.period_end = award.end_date
            final.due_date = award.end_date + timedelta(weeks=award.round.fund.final_return_weeks)
        session.flush()
        audit.record("award.extended", "award", award.id, actor=actor,
                     before={"end_date": before_end.isoformat()},
                     after={"end_date": award.end_date.isoformat()})
    subject = (_l("Change to %(reference)s approved", reference=award.bid.reference) if approve
               else _l("Change to %(reference)s declined", reference=award.bid.reference))
    tell(transition, subject, "variation_decided", organisation_id=award.organisation_id,
         award=award, variation=variation, approved=approve)


def _reallocate(award: Award, moves: list[dict[str, Any]], actor: User) -> None:
    """Apply checked moves to the award's lines: revised amounts change in place, a new
    line goes after the last one."""
    lines = {line.id: line for line in award.lines}
    before = {line.item: line.revised_pence for line in award.lines}
    for step in moves:
        source = lines[step["from"]]
        amount = int(step["amount"])
        source.revised_pence -= amount
        if step.get("to") is not None:
            lines[step["to"]].revised_pence += amount
        else:
            award.lines.append(AwardLine(position=max(lines_pos(award)) + 1,
                                         item=step["new_item"].strip(), kind=source.kind,
                                         original_pence=0, revised_pence=amount,
                                         note=_("Added by variation")))
    session.flush()
    audit.record("award.lines_revised", "award", award.id, actor=actor, before=before,
                 after={line.item: line.revised_pence for line in award.lines})


def _check_moves(award: Award, moves: list[dict[str, Any]]) -> None:
    """Refuse a reallocation that no longer fits the lines, before changing anything."""
    revised = {line.id: line.revised_pence for line in award.lines}
    items = {line.id: line.item for line in award.lines}
    for step in moves:
        amount = int(step["amount"])
        source = step["from"]
        if source not in revised or amount > revised[source]:
            raise DomainError(_("“%(item)s” no longer has %(n)s to move",
                                item=items.get(source, "?"), n=money(amount)))
        revised[source] -= amount
        if step.get("to") is not None:
            if step["to"] not in revised:
                raise DomainError(_("A line in this variation no longer exists."))
            revised[step["to"]] += amount


def lines_pos(award: Award) -> list[int]:
    return [line.position for line in award.lines] or [0]


def variations_waiting() -> list[Variation]:
    return list(session.scalars(
        select(Variation).where(Variation.status == VariationStatus.REQUESTED)
        .options(joinedload(Variation.award).joinedload(Award.organisation))
        .order_by(Variation.requested_at)))


