"""Variations of an award: the partnership asks to move money between budget lines, to
extend the end date, or to carry money of a line forward from one financial year to a later
one; a grants manager approves or declines (re-allocation needs the OPCC's agreement: seed
000, "agreed by OPCC"). Approved moves revise the award's lines in place (each line's years
with them); an extension moves the end date and the final return with it; a carry-forward
moves a line's money between years and the round's commitment with it (issue 14: money not
spent in a year is carried forward only by an approved variation, otherwise it is
underspend).
"""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.db import session, uk_today, utcnow
from portal.formatting import long_date, money
from portal.models import (
    Award,
    AwardLine,
    AwardStatus,
    GrantReturn,
    ReturnKind,
    ReturnStatus,
    Role,
    User,
    Variation,
    VariationKind,
    VariationStatus,
)
from portal.services import DomainError, audit, awards, policy, years
from portal.services.awards import OPEN_RETURN, SENT_RETURN, add_months, lock_award, spend_by_year
from portal.services.bids import MULTI_YEAR_YEARS
from portal.services.policy import Action
from portal.services.rounds import financial_year_dates, financial_year_of
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
    (:func:`portal.services.bids.project_date_bounds`); a round over several years (issue
    14) may be carried over into the year after its last, as a one-year round into the next."""
    months = int(current_app.config["MAX_EXTENSION_MONTHS"])
    round_ = award.round
    if (round_.years or 1) > 1:  # a round over several years: into the year after its last
        last_year = round_.last_financial_year + 1
    else:
        last_year = round_.financial_year + (
            MULTI_YEAR_YEARS - 1 if round_.fund.allows_multi_year else 1)
    fund_last = financial_year_dates(last_year)[1]
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
            if step.get("to") is None and _line_name(step.get("new_item") or "") in {
                    _line_name(line.item) for line in award.lines}:
                raise DomainError(_("The award already has a line called “%(item)s”: choose "
                                    "it, or give the new line another name",
                                    item=step["new_item"].strip()), field="new_item")
            if step.get("to") == step.get("from"):
                raise DomainError(_("Choose two different lines"), field="to_line")
            if int(step.get("amount", 0)) <= 0:
                raise DomainError(_("Enter an amount more than £0"), field="amount")
            movable = unspent_on_line(award, source)
            if int(step["amount"]) > movable:
                raise DomainError(_("“%(item)s” has only %(n)s to move: its allocation less "
                                    "the spend already reported", item=source.item,
                                    n=money(movable)), field="amount")
    elif kind == VariationKind.CARRY_FORWARD:
        if not moves:
            raise DomainError(_("Choose the line, the years and the amount to carry forward"),
                              field="carry_amount")
        check_carry_forward(award, moves)
    else:
        if new_end_date is None:
            raise DomainError(_("Enter the new end date"), field="new_end_date")
        check_new_end_date(award, new_end_date)
        if any(r.kind == ReturnKind.FINAL and r.status not in OPEN_RETURN
               for r in award.returns):
            raise DomainError(_("The final return has been sent to finance, so the end date "
                                "cannot move now."), field="new_end_date")
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
    if approve and award.status != AwardStatus.ACTIVE:
        # Closed (its underspend worked out) or not yet accepted: a change now would alter
        # what was settled (the attack on issue 14 approved one on a closed award).
        raise DomainError(_("This award is no longer active, so the change cannot be made: "
                            "decline it with a reason."), field="outcome")
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
    carrying = approve and variation.kind == VariationKind.CARRY_FORWARD
    if extending or carrying:  # its dates may move with the change: held too, before the
        # first write
        final = session.scalar(select(GrantReturn).where(GrantReturn.award_id == award.id,
                                                         GrantReturn.kind == ReturnKind.FINAL)
                               .with_for_update().execution_options(populate_existing=True))
    if extending and final is not None and final.status not in OPEN_RETURN:
        # The last return has been sent: the months added would go unreported and the award
        # could close before they are over (the attack on issue 14).
        raise DomainError(_("The final return has been sent to finance, so the end date cannot "
                            "move: decline this change, or ask finance to query the return "
                            "first."), field="outcome")
    reallocating = approve and variation.kind == VariationKind.REALLOCATION
    if reallocating:
        _check_moves(award, variation.moves)  # every move checked before any line changes
    if carrying:  # checked again against the award and the pot as they are now
        try:
            check_carry_forward(award, variation.moves, pot=True)
        except DomainError as refused:
            raise DomainError(refused.message, field="outcome") from None
    transition = move(VARIATION, "approve" if approve else "decline", variation, actor,
                      values={"decided_by_id": actor.id, "decided_at": utcnow(),
                              "decision_comment": comment},
                      record_id=award.id, after={"variation": variation.id, "comment": comment})
    if reallocating:
        _reallocate(award, variation.moves, actor)
    if carrying:
        _carry_forward(award, variation.moves, actor)
        if final is not None and final.status in OPEN_RETURN:
            _split_at_year_end(award, final)  # the award may have money in a new year now
    if new_end is not None:
        before_end = award.end_date
        award.end_date = new_end
        if final is not None and final.status in OPEN_RETURN:
            _extend_returns(award, final)
        session.flush()
        audit.record("award.extended", "award", award.id, actor=actor,
                     before={"end_date": before_end.isoformat()},
                     after={"end_date": award.end_date.isoformat()})
    subject = (_l("Change to %(reference)s approved", reference=award.bid.reference) if approve
               else _l("Change to %(reference)s declined", reference=award.bid.reference))
    tell(transition, subject, "variation_decided", organisation_id=award.organisation_id,
         award=award, variation=variation, approved=approve)


def _years_taken(line: AwardLine, amount: int, unspent: dict[int, int]) -> dict[int, int]:
    """Which financial years ``amount`` moved off ``line`` comes from: what the years have
    left unspent first, latest year first, then the rest of the years' amounts, latest
    first. A line without years gives it all from its one year (none: an empty dict)."""
    amounts = years.by_year(line.revised_years)
    if not amounts or sum(amounts.values()) != line.revised_pence:
        return {}
    taken: dict[int, int] = {}
    still = amount
    left = {year: min(max(0, unspent.get(year, 0)), pence) for year, pence in amounts.items()}
    for pool in (left, amounts):
        for year in sorted(amounts, reverse=True):
            share = min(still, pool[year] - (taken.get(year, 0) if pool is amounts else 0))
            if share > 0:
                taken[year] = taken.get(year, 0) + share
                still -= share
    return taken


def _shift_years(line: AwardLine, amounts: dict[int, int], sign: int) -> None:
    current = years.by_year(line.revised_years)
    for year, pence in amounts.items():
        current[year] = current.get(year, 0) + sign * pence
    line.revised_years = years.as_json(current)


def _line_name(item: str) -> str:
    """A line's name as compared with another's: look-alike forms (full-width letters,
    no-break spaces) folded to one (NFKC), case and surrounding spaces ignored."""
    return unicodedata.normalize("NFKC", item).strip().casefold()


def _extend_returns(award: Award, final: GrantReturn) -> None:
    """The returns after an extension to ``award.end_date``: the final return (still open)
    covers to the new end; but an award with money in several financial years never has a
    return across the end of a year (issue 14, as :func:`awards.return_schedule` makes them),
    so a final return that would now run into a later year becomes the periodic return to
    the end of its own year, and the returns for the rest follow the round's cadence, none
    due before ``RETURN_GRACE_DAYS`` from today. The final return's row is kept (with
    whatever the partnership has typed in it)."""
    final.period_end = award.end_date
    final.due_date = award.end_date + timedelta(weeks=award.round.fund.final_return_weeks)
    _split_at_year_end(award, final)


def _split_at_year_end(award: Award, final: GrantReturn) -> None:
    """If the award has money in several financial years and its open final return runs
    across the end of a year (after an extension, or a carry-forward into a new year), the
    final return becomes the periodic return to the end of its own year (its row, and what
    was typed in it, kept) and the rest follows the round's cadence, none due before
    ``RETURN_GRACE_DAYS`` from today."""
    weeks = award.round.fund.final_return_weeks
    year_end = financial_year_dates(financial_year_of(final.period_start))[1]
    session.flush()
    if len(years.award_years(award)) < 2 or award.end_date <= year_end:
        return
    not_before = awards.earliest_due(uk_today())
    final.kind = ReturnKind.PERIODIC
    final.period_end = year_end
    final.due_date = max(_month_end_after(year_end), not_before)
    # A page of it opened before now showed another period: a save from it is refused (the
    # return's version), what was typed in it is kept.
    final.version = final.version + 1
    session.flush()
    for kind, first, last, due in awards.return_schedule(
            year_end + timedelta(days=1), award.end_date, award.round.return_cadence, weeks,
            not_before):
        award.returns.append(GrantReturn(kind=kind, period_start=first, period_end=last,
                                         due_date=due, status=ReturnStatus.DUE))


def _month_end_after(day: date) -> date:
    """The last day of the month after ``day``'s: when a period ending on ``day`` is due."""
    following = awards.add_months(day.replace(day=1), 1)
    return awards.add_months(following, 1) - timedelta(days=1)


def _reallocate(award: Award, moves: list[dict[str, Any]], actor: User) -> None:
    """Apply checked moves to the award's lines: revised amounts change in place, each line's
    years with them (the money stays in the years it was in: the round's commitment per year
    is unchanged), a new line goes after the last one."""
    lines = {line.id: line for line in award.lines}
    before = {line.item: line.revised_pence for line in award.lines}
    spent = spend_by_year(award, SENT_RETURN)
    for step in moves:
        source = lines[step["from"]]
        amount = int(step["amount"])
        unspent = {year: pence - spent.get(source.id, {}).get(year, 0)
                   for year, pence in years.by_year(source.revised_years).items()}
        taken = _years_taken(source, amount, unspent)
        source.revised_pence -= amount
        _shift_years(source, taken, -1)
        if step.get("to") is not None:
            target = lines[step["to"]]
            target.revised_pence += amount
            _shift_years(target, taken, 1)
        else:
            award.lines.append(AwardLine(position=max(lines_pos(award)) + 1,
                                         item=step["new_item"].strip(), kind=source.kind,
                                         original_pence=0, revised_pence=amount,
                                         original_years={},
                                         revised_years=years.as_json(taken),
                                         note=_("Added by variation")))
    session.flush()
    audit.record("award.lines_revised", "award", award.id, actor=actor, before=before,
                 after={line.item: line.revised_pence for line in award.lines})


def _check_moves(award: Award, moves: list[dict[str, Any]]) -> None:
    """Refuse a reallocation that no longer fits the lines, before changing anything."""
    revised = {line.id: unspent_on_line(award, line) for line in award.lines}
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


def carry_forward_years(award: Award) -> list[int]:
    """The financial years money of the award may be in: its lines' years and the years its
    dates run over."""
    return sorted(set(years.award_years(award))
                  | set(years.years_between(award.start_date, award.end_date)))


def unspent_on_line(award: Award, line: AwardLine) -> int:
    """What ``line`` has left to move (pence): its revised allocation less the spend reported
    on it in sent (submitted or approved) returns, never below 0. Money already spent cannot
    be re-allocated (the attack on issue 14: a line's whole allocation moved away after
    £1,000 of it was approved as spent)."""
    spent = sum(spend_by_year(award, SENT_RETURN).get(line.id, {}).values())
    return max(0, line.revised_pence - spent)


def unspent_in_year(award: Award, line: AwardLine, year: int) -> int:
    """What ``line`` has left unspent in financial ``year``: its revised amount for the year
    less the spend reported for the year in sent (submitted or approved) returns."""
    revised = years.by_year(line.revised_years).get(year, 0)
    spent = spend_by_year(award, SENT_RETURN).get(line.id, {}).get(year, 0)
    return max(0, revised - spent)


def check_carry_forward(award: Award, moves: list[dict[str, Any]], *,
                        pot: bool = False, today: Any = None) -> None:
    """A carry-forward (``[{"line", "from_year", "to_year", "amount"}]``), refused beside the
    field it is about before anything is written: both years the award's, the later one after
    the first, not closed (``years.year_is_over`` on the UK's today) and not after the
    agreement's end; an amount more than £0 and within what the line has left unspent in the
    year it leaves. With ``pot``, the round must have room in the year it goes to."""
    today = today or uk_today()
    lines = {line.id: line for line in award.lines}
    award_years = carry_forward_years(award)
    last = financial_year_of(award.end_date)
    wanted: dict[tuple[int, int], int] = {}
    for step in moves:
        line_id = step.get("line")
        line = lines.get(line_id) if isinstance(line_id, int) else None
        if line is None:
            raise DomainError(_("Choose a budget line of this award"), field="carry_line")
        first, then = step.get("from_year"), step.get("to_year")
        if not isinstance(first, int) or first not in award_years:
            raise DomainError(_("Choose a financial year of this award to carry money from"),
                              field="from_year")
        if not isinstance(then, int):
            raise DomainError(_("Choose a financial year of this award to carry money to"),
                              field="to_year")
        if then <= first:
            raise DomainError(_("Choose a year after %(year)s to carry money to",
                                year=years.year_label(first)), field="to_year")
        if then > last:
            raise DomainError(_("%(year)s is beyond the agreement's end (%(end)s, in "
                                "%(last)s): money cannot be carried forward into it",
                                year=years.year_label(then), end=long_date(award.end_date),
                                last=years.year_label(last)), field="to_year")
        if years.year_is_over(then, today):
            raise DomainError(_("%(year)s is over: money cannot be carried forward into a "
                                "closed year", year=years.year_label(then)), field="to_year")
        if then not in award_years or then not in award.round.financial_years:
            raise DomainError(_("%(year)s is not a year of this award",
                                year=years.year_label(then)), field="to_year")
        amount = step.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise DomainError(_("Enter an amount more than £0"), field="carry_amount")
        key = (line.id, first)
        wanted[key] = wanted.get(key, 0) + amount
        left = unspent_in_year(award, line, first)
        if wanted[key] > left:
            raise DomainError(_("“%(item)s” has only %(n)s left unspent in %(year)s",
                                item=line.item, n=money(left), year=years.year_label(first)),
                              field="carry_amount")
    caps = {row.financial_year: row for row in award.round.year_budgets
            if row.cap_pence is not None}
    if caps:  # the round's limit per bid in a year holds for the years money goes into
        totals = awards.year_totals(award.lines, revised=True)
        for step in moves:
            totals[step["from_year"]] = totals.get(step["from_year"], 0) - int(step["amount"])
            totals[step["to_year"]] = totals.get(step["to_year"], 0) + int(step["amount"])
        receiving = {step["to_year"] for step in moves}
        for year, capped in caps.items():
            if year not in receiving:
                continue
            if totals.get(year, 0) > (capped.cap_pence or 0):
                raise DomainError(_("The award would have %(amount)s in %(year)s, more than the "
                                    "round's limit of %(cap)s for a year", amount=money(
                                        totals[year]), year=capped.label,
                                    cap=money(capped.cap_pence or 0)),
                                  field="outcome" if pot else "carry_amount")
    if pot:
        rows = {row.financial_year: row for row in award.round.year_budgets}
        into: dict[int, int] = {}
        for step in moves:
            into[step["to_year"]] = into.get(step["to_year"], 0) + int(step["amount"])
        for year, pence in into.items():
            row = rows.get(year)
            if row is not None:
                session.refresh(row)
            if row is None or row.remaining_pence < pence:
                raise DomainError(_("Only %(remaining)s of the round's budget for %(year)s "
                                    "remains: the money cannot be carried into it",
                                    remaining=money(row.remaining_pence if row else 0),
                                    year=years.year_label(year)), field="to_year")


def _carry_forward(award: Award, moves: list[dict[str, Any]], actor: User) -> None:
    """Apply checked carry-forwards: each line's revised years change in place (its total
    does not), and the round's commitment moves from one year to the other (released, then
    committed: refused beside the decision if the later year's pot has no room)."""
    lines = {line.id: line for line in award.lines}
    before = {line.item: years.by_year(line.revised_years) for line in award.lines}
    plan_before = years.as_json(years.by_year(award.payment_plan))
    for step in moves:
        line, amount = lines[step["line"]], int(step["amount"])
        _shift_years(line, {step["from_year"]: amount}, -1)
        _shift_years(line, {step["to_year"]: amount}, 1)
        years.release(award.round, {step["from_year"]: amount})
        years.commit(award.round, {step["to_year"]: amount}, field="outcome")
        # The payments planned follow the money (as much of it as the year had planned).
        plan = years.by_year(award.payment_plan)
        moved = min(amount, plan.get(step["from_year"], 0))
        plan[step["from_year"]] = plan.get(step["from_year"], 0) - moved
        plan[step["to_year"]] = plan.get(step["to_year"], 0) + moved
        award.payment_plan = years.as_json(plan)
    session.flush()
    audit.record("award.carried_forward", "award", award.id, actor=actor,
                 before={item: years.as_json(amounts) for item, amounts in before.items()},
                 after={line.item: years.as_json(years.by_year(line.revised_years))
                        for line in award.lines})
    if award.payment_plan != plan_before:
        audit.record("award.payment_plan_revised", "award", award.id, actor=actor,
                     before={"plan": plan_before}, after={"plan": award.payment_plan})


def lines_pos(award: Award) -> list[int]:
    return [line.position for line in award.lines] or [0]


def variations_waiting() -> list[Variation]:
    return list(session.scalars(
        select(Variation).where(Variation.status == VariationStatus.REQUESTED)
        .options(joinedload(Variation.award).joinedload(Award.organisation))
        .order_by(Variation.requested_at)))


