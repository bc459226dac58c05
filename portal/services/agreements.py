"""Direct awards and action plans (issue 14, points 1 and 3).

A direct award is a grant the Commissioner makes without a competition: a partnership's
yearly allocation, a three-year agreement for a project officer. It is made from a budget: a
round of a fund with ``Fund.direct`` set, never open to bids (``rounds.open_to``). It is stored
as the records a competitive award has (a bid, awarded; its approved decision with what the
law asks to be published; the award made by ``awards.create_offer``, with its lines per year,
payment plan and return schedule), so that acceptance, payments, returns, checks, variations,
closure, the dashboards, exports, the public register and 360Giving treat it as any award.

A partnership's award may hold its action plan: numbered actions ("1.4") with a lead and a
target date, and each budget line says which actions it relates to (seed 001). Both
services check everything before they write, so a refusal (a ``DomainError`` beside its
field) leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from portal.db import session, uk_today, utcnow
from portal.formatting import long_date, money
from portal.models import (
    Award,
    AwardAction,
    AwardLine,
    AwardStatus,
    Bid,
    BidStatus,
    BudgetLine,
    CostKind,
    Decision,
    DecisionOutcome,
    Organisation,
    OrganisationType,
    PlanSection,
    ReturnAction,
    ReturnKind,
    Round,
    User,
    year_label,
)
from portal.services import DomainError, alignment, audit, awards, plans, policy, years
from portal.services.bids import _next_reference
from portal.services.policy import Action
from portal.services.rounds import financial_year_dates
from portal.services.workflow import Conflict, atomic, tell
from portal.workflows import BID

TITLE_LIMIT = 120  # Bid.title
ITEM_LIMIT = 200  # BudgetLine.item, AwardLine.item
TEXT_LIMIT = 5000  # purpose, conditions, reasons
ACTION_TITLE_LIMIT = 500  # AwardAction.title
LEAD_LIMIT = 200  # AwardAction.lead
MAX_LINES = 20
MAX_ACTIONS = 40
# An action's number: "1", "1.4" or "2.3.1" (ASCII digits, at most three parts).
# 1, 1.4 or 2.3.1: up to three parts, each a number without leading zeros ("01.1" would be a
# second action beside "1.1").
ACTION_NUMBER = re.compile(r"(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){0,2}", re.ASCII)


@dataclass(frozen=True)
class LineInput:
    """A budget line as typed: item, capital or revenue, pence per financial year and the
    numbers of the actions it relates to."""

    item: str
    kind: str
    years: dict[int, int]
    actions: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.years.values())


@dataclass(frozen=True)
class ActionInput:
    """An action of the plan as typed."""

    number: str
    title: str
    lead: str = ""
    target_date: date | None = None


# --- reading ---------------------------------------------------------------------------------


def direct_budgets() -> list[Round]:
    """The rounds of direct funds: the budgets direct awards are made from, newest first."""
    from portal.models import Fund

    return list(session.scalars(select(Round).join(Round.fund).where(Fund.direct.is_(True))
                                .order_by(Round.financial_year.desc(), Round.id)))


def direct_budget(round_id: int | None) -> Round | None:
    """The round with this id if it is a budget of a direct fund."""
    if round_id is None:
        return None
    round_ = session.get(Round, round_id)
    return round_ if round_ is not None and round_.fund.direct else None


def partnerships() -> list[Organisation]:
    """The partnerships a direct award may be made to: every CSP, by name."""
    return list(session.scalars(select(Organisation)
                                .where(Organisation.type == OrganisationType.CSP)
                                .order_by(Organisation.name)))


def award_by_token(token: str) -> Award | None:
    """The award a "make a direct award" form with this token made, if it did."""
    return session.scalar(select(Award).join(Bid, Bid.id == Award.bid_id)
                          .where(Bid.creation_token == token))


def award_by_id(award_id: int) -> Award | None:
    return session.get(Award, award_id)


# --- checks ----------------------------------------------------------------------------------


def _required(value: str, limit: int, field_name: str, missing: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError(missing, field=field_name)
    if len(text) > limit:
        raise DomainError(_("%(what)s must be %(limit)d characters or fewer", what=what,
                            limit=limit), field=field_name)
    return text


def _check_actions(actions: Sequence[ActionInput], prefix: str = "actions") -> list[ActionInput]:
    """The plan's actions tidied: numbers well formed and unique, titles given, within their
    lengths. Raises DomainError beside the row's field."""
    if len(actions) > MAX_ACTIONS:
        raise DomainError(_("An action plan can have at most %(n)d actions", n=MAX_ACTIONS),
                          field=f"{prefix}-0-number")
    seen: set[str] = set()
    tidy = []
    for index, action in enumerate(actions):
        number = (action.number or "").strip()
        where = f"{prefix}-{index}-"
        if not number:
            raise DomainError(_("Enter the action's number, for example 1.4"),
                              field=where + "number")
        if not ACTION_NUMBER.fullmatch(number):
            raise DomainError(_("An action's number must be numbers separated by full stops, "
                                "for example 1.4"), field=where + "number")
        if number in seen:
            raise DomainError(_("Action %(number)s is in the plan twice: give each action its "
                                "own number", number=number), field=where + "number")
        seen.add(number)
        title = _required(action.title, ACTION_TITLE_LIMIT, where + "title",
                          _("Enter the action"), _("Action"))
        lead = (action.lead or "").strip()
        if len(lead) > LEAD_LIMIT:
            raise DomainError(_("%(what)s must be %(limit)d characters or fewer", what=_("Lead"),
                                limit=LEAD_LIMIT), field=where + "lead")
        tidy.append(ActionInput(number, title, lead, action.target_date))
    return tidy


def _check_line_actions(line_actions: Sequence[Sequence[str]], numbers: set[str],
                        prefix: str = "lines") -> list[list[str]]:
    """Each line's action numbers exist in the plan (and are well formed); duplicates on a
    line are kept once, in the order typed."""
    result = []
    for index, wanted in enumerate(line_actions):
        kept: list[str] = []
        for number in wanted:
            number = number.strip()
            if not number or number in kept:
                continue
            if not ACTION_NUMBER.fullmatch(number) or number not in numbers:
                raise DomainError(_("Line %(line)d relates to action %(number)s, which is not "
                                    "in the action plan", line=index + 1, number=number[:20]),
                                  field=f"{prefix}-{index}-actions")
            kept.append(number)
        result.append(kept)
    return result


@dataclass(frozen=True)
class Checked:
    """A direct award's input, checked: what :func:`create_direct_award` writes."""

    organisation: Organisation
    round: Round
    title: str
    purpose: str
    conditions: str
    reasons: str
    start: date
    end: date
    lines: list[LineInput]
    actions: list[ActionInput]
    total: int
    year_totals: dict[int, int]
    # The return schedule the offer will have were it accepted today, as
    # ``awards.return_schedule`` gives it: (kind, period start, period end, due date).
    returns: list[tuple[ReturnKind, date, date, date]]
    # The section of the Police and Crime Plan the grant is listed under (issue 18), if any.
    plan_section: PlanSection | None = None


def check_direct_award(organisation_id: int | None, round_id: int | None, *, title: str,
                       purpose: str, start_date: date | None, end_date: date | None,
                       lines: Sequence[LineInput], conditions: str, reasons: str,
                       actions: Sequence[ActionInput] = (), amount: int | None = None,
                       plan_section_id: int | None = None, actor: User) -> Checked:
    """Everything a direct award must meet, read only: raises DomainError beside the field
    it names (the form's own names: ``organisation``, ``budget``, ``lines-2-year_2023``,
    ``actions-0-number``, ``plan_section``…). ``plan_section_id``: the section of the Police
    and Crime Plan the grant is listed under, one of ``alignment.sections_for_direct_award``
    (None: none). The check page calls it before showing the answers."""
    policy.require(actor, Action.MANAGE_GRANTS,
                   otherwise=_("Only a grants manager can make a direct award."))
    organisation = session.get(Organisation, organisation_id) if organisation_id else None
    if organisation is None or organisation.type != OrganisationType.CSP:
        raise DomainError(_("Select the partnership the award is for"), field="organisation")
    round_ = direct_budget(round_id)
    if round_ is None:
        raise DomainError(_("Select a budget of a fund of direct awards"), field="budget")
    plans.hold_sections([plan_section_id])
    section = alignment.offered_section(plan_section_id,
                                        alignment.sections_for_direct_award(round_))
    title = _required(title, TITLE_LIMIT, "title", _("Enter a title for the award"),
                      _("Title"))
    purpose = _required(purpose, TEXT_LIMIT, "purpose", _("Enter the purpose of the grant"),
                        _("Purpose"))
    reasons = _required(reasons, TEXT_LIMIT, "reasons",
                        _("Enter why the grant will reduce crime and disorder"), _("Reasons"))
    conditions = (conditions or "").strip()
    if len(conditions) > TEXT_LIMIT:
        raise DomainError(_("%(what)s must be %(limit)d characters or fewer",
                            what=_("Conditions"), limit=TEXT_LIMIT), field="conditions")
    first = financial_year_dates(round_.financial_year)[0]
    last = financial_year_dates(round_.last_financial_year)[1]
    if start_date is None:
        raise DomainError(_("Enter the start date"), field="start_date")
    if end_date is None:
        raise DomainError(_("Enter the end date"), field="end_date")
    for value, name in ((start_date, "start_date"), (end_date, "end_date")):
        if not first <= value <= last:
            raise DomainError(_("Dates must be between %(first)s and %(last)s, the budget's "
                                "financial years", first=long_date(first), last=long_date(last)),
                              field=name)
    if end_date < start_date:
        raise DomainError(_("End date must be the same as or after the start date"),
                          field="end_date")
    if not lines:
        raise DomainError(_("Enter at least one budget line"), field="lines-0-item")
    if len(lines) > MAX_LINES:
        raise DomainError(_("An award can have at most %(n)d budget lines", n=MAX_LINES),
                          field="lines-0-item")
    allowed = set(years.years_between(start_date, end_date)) & set(round_.financial_years)
    tidy_lines = []
    for index, line in enumerate(lines):
        where = f"lines-{index}-"
        item = _required(line.item, ITEM_LIMIT, where + "item", _("Enter the item"),
                         _("Item"))
        if line.kind not in (CostKind.CAPITAL.value, CostKind.REVENUE.value):
            raise DomainError(_("Select capital or revenue"), field=where + "kind")
        amounts = {year: pence for year, pence in line.years.items() if pence}
        for year, pence in sorted(amounts.items()):
            if pence < 0:
                raise DomainError(_("Amounts must be £0 or more"), field=f"{where}year_{year}")
            if year not in allowed:
                raise DomainError(_("The award runs from %(start)s to %(end)s: it has no money "
                                    "in %(year)s", start=long_date(start_date),
                                    end=long_date(end_date), year=year_label(year)),
                                  field=f"{where}year_{year}")
        if sum(amounts.values()) <= 0:
            first_year = min(allowed) if allowed else round_.financial_year
            raise DomainError(_("Enter the line's amount for at least one year"),
                              field=f"{where}year_{first_year}")
        tidy_lines.append(LineInput(item, line.kind, amounts, list(line.actions)))
    tidy_actions = _check_actions(actions)
    numbers = {action.number for action in tidy_actions}
    line_numbers = _check_line_actions([line.actions for line in tidy_lines], numbers)
    tidy_lines = [LineInput(line.item, line.kind, line.years, kept)
                  for line, kept in zip(tidy_lines, line_numbers, strict=True)]
    totals: dict[int, int] = {}
    for line in tidy_lines:
        for year, pence in line.years.items():
            totals[year] = totals.get(year, 0) + pence
    total = sum(totals.values())
    if total <= 0:
        raise DomainError(_("Enter an amount more than £0"), field="amount")
    if amount is not None and amount != total:
        raise DomainError(_("The amount awarded (%(amount)s) must equal the total of the budget "
                            "lines (%(total)s)", amount=money(amount), total=money(total)),
                          field="amount")
    rows = {row.financial_year: row for row in round_.year_budgets}
    for year, pence in sorted(totals.items()):
        row = rows.get(year)
        line_index = next(i for i, line in enumerate(tidy_lines) if line.years.get(year))
        where = f"lines-{line_index}-year_{year}"
        if row is None:
            raise DomainError(_("The budget has no money for %(year)s", year=year_label(year)),
                              field=where)
        if row.cap_pence is not None and pence > row.cap_pence:
            raise DomainError(_("The award for %(year)s (%(amount)s) cannot be more than the "
                                "budget's limit of %(cap)s for that year", year=row.label,
                                amount=money(pence), cap=money(row.cap_pence)), field=where)
        if pence > row.remaining_pence:
            raise DomainError(_("The lines add up to %(amount)s for %(year)s, but only "
                                "%(remaining)s of the budget for that year remains",
                                amount=money(pence), year=row.label,
                                remaining=money(row.remaining_pence)), field=where)
    if total > round_.remaining_pence:
        raise DomainError(_("Only %(remaining)s of the budget remains.",
                            remaining=money(round_.remaining_pence)), field="amount")
    schedule = awards.return_schedule(start_date, end_date, round_.return_cadence,
                                      round_.fund.final_return_weeks,
                                      awards.earliest_due(uk_today()))
    return Checked(organisation, round_, title, purpose, conditions, reasons, start_date,
                   end_date, tidy_lines, tidy_actions, total, dict(sorted(totals.items())),
                   schedule, section)


# --- making a direct award -------------------------------------------------------------------


@atomic
def create_direct_award(organisation_id: int | None, round_id: int | None, *, title: str,
                        purpose: str, start_date: date | None, end_date: date | None,
                        lines: Sequence[LineInput], conditions: str, reasons: str,
                        actions: Sequence[ActionInput] = (), amount: int | None = None,
                        plan_section_id: int | None = None, token: str, actor: User,
                        now: datetime | None = None) -> Award:
    """Make a direct award from a budget of a direct fund: the bid (awarded), its decision
    (DEC-<year>-<n>), the money committed against the budget per year, the offer (lines per
    year, payment plan, return schedule), the action plan; the partnership is told as on an
    approval. The form's ``token`` makes one award however often it is posted: a second post
    returns the first one's award. Raises DomainError (nothing written)."""
    if not token or len(token) > 64:
        raise DomainError(_("The form you used has expired. Start the award again."))
    existing = award_by_token(token)
    if existing is not None:
        if existing.bid.created_by_id != actor.id:
            raise DomainError(_("The form you used has expired. Start the award again."))
        return existing
    checked = check_direct_award(organisation_id, round_id, title=title, purpose=purpose,
                                 start_date=start_date, end_date=end_date, lines=lines,
                                 conditions=conditions, reasons=reasons, actions=actions,
                                 amount=amount, plan_section_id=plan_section_id, actor=actor)
    now = now or utcnow()
    round_ = checked.round
    bid = Bid(round_id=round_.id, organisation_id=checked.organisation.id,
              status=BidStatus.AWARDED, creation_token=token, title=checked.title,
              start_date=checked.start, end_date=checked.end, issue_types=[],
              amount_requested_pence=checked.total, match_funding_pence=0,
              created_by_id=actor.id, created_at=now, updated_at=now, submitted_at=now)
    bid.budget_lines = [BudgetLine(position=position, item=line.item, kind=CostKind(line.kind),
                                   amount_pence=line.total,
                                   year_amounts=years.as_json(line.years))
                        for position, line in enumerate(checked.lines, start=1)]
    bid.plan_sections = [checked.plan_section] if checked.plan_section is not None else []
    try:
        with session.begin_nested():  # the token claimed first: a second post stops here
            session.add(bid)
            session.flush()
    except IntegrityError:  # the same form, posted twice at the same moment
        session.expire_all()
        made = award_by_token(token)
        if made is None:
            raise Conflict(_("The form was sent twice at once. Open the awards list to see "
                             "whether the award was made.")) from None
        return made
    bid.reference = _next_reference(f"{round_.fund.code}-{round_.financial_year}")
    years.commit(round_, checked.year_totals)
    decision = Decision(bid_id=bid.id, outcome=DecisionOutcome.APPROVED,
                        amount_pence=checked.total, purpose=checked.purpose,
                        conditions=checked.conditions, crime_reduction_reasons=checked.reasons,
                        decided_by_id=actor.id, decided_at=now, decision_date=now.date(),
                        override_reason="",
                        reference=_next_reference(f"DEC-{round_.financial_year}"))
    session.add(decision)
    session.flush()
    transition = BID.transitions["award"]
    audit.record(transition.action, "bid", bid.id, actor=actor, before={"status": None},
                 after={"status": BidStatus.AWARDED.value, "reference": decision.reference,
                        "direct": True, "amount": checked.total,
                        "years": years.as_json(checked.year_totals),
                        "partnership": checked.organisation.name,
                        "conditions": decision.conditions,
                        "plan_section": (checked.plan_section.code
                                         if checked.plan_section is not None else None)})
    award = awards.create_offer(bid, decision, actor)
    award.plan_section = checked.plan_section
    award.actions = [AwardAction(position=position, number=action.number, title=action.title,
                                 lead=action.lead, target_date=action.target_date)
                     for position, action in enumerate(checked.actions, start=1)]
    for approved, line in zip(award.lines, checked.lines, strict=True):
        approved.action_numbers = list(line.actions)
    session.flush()
    if checked.actions:
        audit.record("award.action_plan_saved", "award", award.id, actor=actor,
                     after=_plan_record(award))
    tell(transition, _l("Bid %(reference)s approved", reference=bid.reference),
         "decision_made", organisation_id=bid.organisation_id, bid=bid, decision=decision)
    return award


# --- the action plan -------------------------------------------------------------------------


EDITABLE = {AwardStatus.OFFERED, AwardStatus.ACTIVE}


def _plan_record(award: Award) -> dict[str, object]:
    return {"actions": [{"number": a.number, "title": a.title, "lead": a.lead,
                         "target_date": a.target_date.isoformat() if a.target_date else None}
                        for a in award.actions],
            # By the line's item (the history shows it so); a number before it only when two
            # lines share an item.
            "lines": {_line_key(line, award.lines): list(line.action_numbers or [])
                      for line in award.lines}}


def _line_key(line: AwardLine, lines: list[AwardLine]) -> str:
    if sum(1 for other in lines if other.item == line.item) > 1:
        return f"{line.position}. {line.item}"
    return line.item


def plan_stamp(award: Award) -> str:
    """What identifies the action plan a page showed: a digest of its actions and of each
    line's actions. A save from a page showing another plan is refused (:func:`save_action_plan`)."""
    text = json.dumps(_plan_record(award), sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _check_reported(award: Award, actions: Sequence[ActionInput]) -> None:
    """What a return has reported on stays as it was reported: an action with a RAG status or
    a narrative in any return (a draft included: nothing typed is lost) cannot be removed,
    renumbered or reworded; its lead and target date may change. Raises DomainError beside
    the row (breaker of issue 14: a title changed under a submitted return's report)."""
    ids = [action.id for action in award.actions]
    if not ids:
        return
    reported = set(session.scalars(
        select(ReturnAction.action_id).where(
            ReturnAction.action_id.in_(ids),
            or_(ReturnAction.rag.is_not(None), ReturnAction.narrative != ""))))
    if not reported:
        return
    wanted = {action.number: (index, action) for index, action in enumerate(actions)}
    for row in award.actions:
        if row.id not in reported:
            continue
        found = wanted.get(row.number)
        if found is None:
            raise DomainError(_("Action %(number)s has been reported on in a return: it cannot "
                                "be removed or renumbered", number=row.number),
                              field=f"actions-{min(row.position, len(actions) or 1) - 1}-number")
        index, action = found
        if action.title != row.title:
            raise DomainError(_("Action %(number)s has been reported on in a return: its "
                                "wording cannot change. Add a new action instead",
                                number=row.number), field=f"actions-{index}-title")


@atomic
def save_action_plan(award: Award, actions: Sequence[ActionInput],
                     line_actions: Sequence[Sequence[str]], actor: User, *,
                     seen: str | None = None) -> Award:
    """Make the award's action plan ``actions`` (in order) and line n's actions
    ``line_actions[n]``, in place (an action kept by its number keeps its row). Refused beside
    the field: an award that is closed, a malformed or repeated number, a line relating to an
    action not in the plan ("Line 3 relates to action 1.4: take it off the line first" when
    the action is being removed), an action reported on in a return removed, renumbered or
    reworded (:func:`_check_reported`). ``seen`` is the :func:`plan_stamp` the page showed: if the plan has
    changed since (another manager saved) and this save would change it again, ``Conflict``
    is raised instead of writing over theirs. Saving what is already saved changes nothing."""
    policy.require(actor, Action.MANAGE_GRANTS,
                   otherwise=_("Only a grants manager can change an action plan."))
    awards.lock_award(award)
    session.refresh(award, ["actions"])
    if award.status not in EDITABLE:
        raise DomainError(_("This award is closed: its action plan can no longer be changed."))
    if len(line_actions) != len(award.lines):
        raise DomainError(_("The award's budget lines have changed since the page was opened. "
                            "Open the action plan again."))
    tidy = _check_actions(actions)
    numbers = {action.number for action in tidy}
    current = {action.number for action in award.actions}
    for index, wanted in enumerate(line_actions):
        for number in wanted:
            number = number.strip()
            if number and number in current and number not in numbers:
                raise DomainError(_("Line %(line)d relates to action %(number)s: take it off "
                                    "the line first", line=index + 1, number=number),
                                  field=f"lines-{index}-actions")
    kept = _check_line_actions(line_actions, numbers)
    before = _plan_record(award)
    wanted_record = {"actions": [{"number": a.number, "title": a.title, "lead": a.lead,
                                  "target_date": a.target_date.isoformat()
                                  if a.target_date else None} for a in tidy],
                     "lines": {_line_key(line, award.lines): numbers_
                               for line, numbers_ in zip(award.lines, kept, strict=True)}}
    if wanted_record == before:
        return award  # saved already: the same result, nothing written
    if seen is not None and seen != plan_stamp(award):
        raise Conflict(_("Another manager changed this action plan a moment ago. Nothing was "
                         "changed by this request: open the action plan again to see it as it "
                         "is now, and make your changes again."))
    _check_reported(award, tidy)
    # An action is known by its number: a kept number keeps its row (and the returns' reports
    # on it); a number gone is deleted, a new one added. Positions are moved out of the way
    # first, so that the unique (award, position) key never sees two rows at one place.
    existing = {action.number: action for action in award.actions}
    for number, row in existing.items():
        if number not in numbers:
            award.actions.remove(row)
    session.flush()
    wanted_at = {action.number: position for position, action in enumerate(tidy, start=1)}
    moving = [row for row in award.actions if row.position != wanted_at[row.number]]
    for row in moving:  # only rows that move: the others are not written at all
        row.position = -row.id
    if moving:
        session.flush()
    for position, action in enumerate(tidy, start=1):
        kept_row = existing.get(action.number)
        if kept_row is None:
            award.actions.append(AwardAction(position=position, number=action.number,
                                             title=action.title, lead=action.lead,
                                             target_date=action.target_date))
        else:
            kept_row.position, kept_row.title = position, action.title
            kept_row.lead, kept_row.target_date = action.lead, action.target_date
    for line, numbers_ in zip(award.lines, kept, strict=True):
        line.action_numbers = list(numbers_)
    session.flush()
    session.refresh(award, ["actions"])
    audit.record("award.action_plan_saved", "award", award.id, actor=actor, before=before,
                 after=_plan_record(award))
    return award
