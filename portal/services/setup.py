"""Setting up funds, rounds and their assessment criteria (the grants manager).

Every check runs before anything changes, so a refusal leaves the records as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal import bilingual, questions
from portal.db import UK, session, uk_today
from portal.formatting import date_time, long_date, money
from portal.models import (
    Bid,
    BidStatus,
    Criterion,
    FormVersion,
    Fund,
    ModeratedScore,
    OrganisationType,
    PlanSection,
    Round,
    RoundYear,
    Score,
    User,
    year_label,
)
from portal.models.funds import DEFAULT_SCALE, PaymentRule, ReturnCadence
from portal.services import DomainError, audit, form_versions, plans
from portal.services.bids import MULTI_YEAR_YEARS
from portal.services.rounds import financial_year_dates, financial_year_of
from portal.services.workflow import atomic

MOST_ASSESSMENTS = 20  # the most assessments a round may require before a decision
OPENS_YEARS_BEFORE = 1  # a round opens at most a year before its financial year starts
# A round funds a financial year from YEARS_BACK before the current one (history being
# recorded: the demo's last year, a late grant put on the record) to YEARS_AHEAD after it
# (planning ahead); anything further is a typing slip (issue 13: a round for 2099/00).
YEARS_BACK = 5
YEARS_AHEAD = 2


@dataclass(frozen=True)
class FundDetails:
    code: str
    name: str
    purpose: str
    is_youth: bool
    allows_multi_year: bool
    payment_rule: PaymentRule
    terms: str
    # A fund of direct awards (issue 14): its rounds are budgets the grants manager makes
    # awards from, never open to bids.
    direct: bool = False
    # The Welsh of the name, purpose and terms (issue 16): empty shows the English.
    name_cy: str = ""
    purpose_cy: str = ""
    terms_cy: str = ""
    # The section of the Police and Crime Plan its grants support (issue 18): one of the
    # plan in force today's, or the fund's own; None for none.
    plan_section_id: int | None = None


@dataclass(frozen=True)
class RoundDetails:
    name: str
    financial_year: int
    opens_on: date
    opens_time: time
    closes_on: date
    closes_time: time
    budget_pence: int
    cap_pence: int | None
    eligible_organisation_types: list[str]
    return_cadence: ReturnCadence
    guidance: str
    # Submitted assessments a bid needs before a decision without an override reason:
    # None means every assessor assigned (and not conflicted); otherwise at least this many.
    required_assessments: int | None = None
    # Financial years the round funds (issue 14): 1, or up to ``MULTI_YEAR_YEARS`` in a fund
    # that allows multi-year projects. With more than one, ``year_budgets`` holds one
    # :class:`YearBudget` per year, first year first, and ``budget_pence`` is their sum.
    years: int = 1
    year_budgets: tuple[YearBudget, ...] = ()
    # The Welsh of the name and guidance (issue 16): empty shows the English.
    name_cy: str = ""
    guidance_cy: str = ""


@dataclass(frozen=True)
class YearBudget:
    """One financial year of a round over several: its budget and, if set, the most one bid
    may have in that year (pence)."""

    budget_pence: int
    cap_pence: int | None = None


@dataclass(frozen=True)
class CriterionDetails:
    title: str
    guidance: str
    weight: int
    # The keys of the application form's sections it scores (issue 15): the assessor sees
    # their answers beside the score.
    sections: tuple[str, ...] = ()
    # The Welsh of the title and guidance (issue 16): empty shows the English.
    title_cy: str = ""
    guidance_cy: str = ""


@dataclass(frozen=True)
class Scale:
    minimum: int
    maximum: int
    # One slot per descriptor box, lowest score first; slots past the top score stay blank.
    descriptors: list[str]


# --- time -------------------------------------------------------------------------------------


def uk_moment(day: date, clock: time) -> datetime:
    """A date and a time as read on a UK clock, as an aware UTC datetime."""
    return datetime.combine(day, clock, tzinfo=UK).astimezone(UTC)


def uk_date_and_time(moment: datetime) -> tuple[date, time]:
    local = moment.astimezone(UK)
    return local.date(), local.time().replace(second=0, microsecond=0)


# --- reading ----------------------------------------------------------------------------------


def funds_with_rounds() -> list[Fund]:
    """Every fund with its rounds (and their criteria) in three queries, whatever the count."""
    return list(session.scalars(
        select(Fund).options(selectinload(Fund.rounds).selectinload(Round.criteria))
        .order_by(Fund.name)))


def criteria_locked(round_: Round) -> bool:
    """Whether any bid has been scored against the round's criteria (so they must not move)."""
    ids = select(Criterion.id).where(Criterion.round_id == round_.id)
    scored = exists().where(Score.criterion_id.in_(ids), Score.score.is_not(None))
    moderated = exists().where(ModeratedScore.criterion_id.in_(ids))
    return bool(session.scalar(select(or_(scored, moderated))))


def scale_of(round_: Round) -> Scale:
    """The round's scoring scale (every criterion shares it), or the default 0 to 5."""
    if round_.criteria:
        first = round_.criteria[0]
        low, high, words = first.scale_min, first.scale_max, first.descriptors
    else:
        low, high, words = 0, 5, DEFAULT_SCALE
    return Scale(low, high, [words.get(str(score), "") for score in range(low, high + 1)])


# --- funds ------------------------------------------------------------------------------------


def _fund_snapshot(fund: Fund) -> dict[str, Any]:
    return {"code": fund.code, "name": fund.name, "purpose": fund.purpose,
            "is_youth": fund.is_youth, "allows_multi_year": fund.allows_multi_year,
            "payment_rule": fund.payment_rule.value, "terms": fund.terms,
            "direct": fund.direct, **_welsh_snapshot(fund, "name", "purpose", "terms"),
            **_plan_section_snapshot(fund)}


def _plan_section_snapshot(fund: Fund) -> dict[str, Any]:
    """The fund's section of the plan, in words, when it has one (events from before issue
    18, and funds without one, read as they did)."""
    if fund.plan_section_id is None:
        return {}
    return {"plan_section": plans.section_words(session.get(PlanSection, fund.plan_section_id))}


def _welsh_snapshot(record: Any, *fields: str) -> dict[str, str]:
    """The Welsh of ``fields`` given (``name_cy``...), for an audit event: none when empty,
    so events from before issue 16 and records without Welsh read as they did."""
    return {f"{field}_cy": value for field in fields
            if (value := getattr(record, f"{field}_cy", "") or "")}


def _hold_funds() -> None:
    """Hold every fund's row until the change commits (funds are few): two managers saving
    names at once are taken one after the other, so the second's check sees the first's
    names in either language and in any case, which no unique index could compare (a
    breaker raced "Cronfa Ras" and "CRONFA RAS", and one fund's Welsh name against another's
    English). FOR NO KEY UPDATE: rounds may still be added under them meanwhile."""
    session.execute(select(Fund.id).with_for_update(key_share=True))


def _check_fund(details: FundDetails, fund: Fund | None) -> None:
    others = select(Fund.id).where(Fund.id != fund.id) if fund is not None else select(Fund.id)
    if session.scalar(others.where(func.upper(Fund.code) == details.code.upper())):
        raise DomainError(_("A fund with the code %(code)s already exists", code=details.code),
                          field="code")
    # A name in either language may not be another fund's in either (a reader of the other
    # language would see two funds called the same).
    if session.scalar(others.where(or_(func.lower(Fund.name) == details.name.lower(),
                                       func.lower(Fund.name_cy) == details.name.lower()))):
        raise DomainError(_("A fund called “%(name)s” already exists", name=details.name),
                          field="name")
    if details.name_cy and session.scalar(
            others.where(or_(func.lower(Fund.name_cy) == details.name_cy.lower(),
                             func.lower(Fund.name) == details.name_cy.lower()))):
        raise DomainError(_("A fund called “%(name)s” in Welsh already exists",
                            name=details.name_cy), field="name_cy")
    _check_plan_section(details, fund)
    if fund is None:
        return
    in_fund = select(Bid.id).join(Round).where(Round.fund_id == fund.id)
    if details.code != fund.code and session.scalar(in_fund.where(Bid.reference.is_not(None))):
        raise DomainError(_("The code cannot change: bids have references that start with "
                            "%(code)s", code=fund.code), field="code")
    if details.is_youth != fund.is_youth and session.scalar(in_fund):
        raise DomainError(_("Whether this is a youth fund cannot change once bids have been "
                            "started"), field="is_youth")
    if fund.allows_multi_year and not details.allows_multi_year and session.scalar(
            select(Round.id).where(Round.fund_id == fund.id, Round.years > 1).limit(1)):
        raise DomainError(_("Projects must be allowed to run over several years while a round "
                            "of the fund funds more than one"), field="allows_multi_year")
    if details.direct != fund.direct and session.scalar(
            select(Round.id).where(Round.fund_id == fund.id).limit(1)):
        raise DomainError(_("Whether the fund makes direct awards cannot change once it has "
                            "rounds or budgets"), field="direct")


def _check_plan_section(details: FundDetails, fund: Fund | None) -> None:
    """The fund's section: one of the plan in force today's (UK date), or the one it has.
    The section's row is held (FOR SHARE) until the change commits, so a manager removing
    it at the same moment waits, then sees the fund using it."""
    chosen = details.plan_section_id
    if chosen is None or (fund is not None and chosen == fund.plan_section_id):
        return
    if session.scalar(select(PlanSection.id).where(PlanSection.id == chosen)
                      .with_for_update(read=True)) is None:
        raise DomainError(_("That section of the plan was removed a moment ago: select "
                            "another"), field="plan_section")
    if chosen not in {section.id for section in plans.sections_in_force(uk_today())}:
        raise DomainError(_("Select a section of the plan in force today"),
                          field="plan_section")


def _apply_fund(fund: Fund, details: FundDetails) -> None:
    fund.code = details.code
    fund.name = details.name
    fund.purpose = details.purpose
    fund.is_youth = details.is_youth
    fund.allows_multi_year = details.allows_multi_year
    fund.direct = details.direct
    fund.payment_rule = details.payment_rule
    fund.terms = details.terms
    fund.name_cy = details.name_cy
    fund.purpose_cy = details.purpose_cy
    fund.terms_cy = details.terms_cy
    fund.plan_section_id = details.plan_section_id


def _flush_unique(message: str, field: str) -> None:
    """Flush; a unique clash with a change made a moment ago elsewhere becomes a refusal."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as clash:
        if "name_cy" in str(clash.orig):  # the Welsh name, given a moment ago elsewhere
            raise DomainError(_("Another manager gave this Welsh name a moment ago: choose "
                                "another"), field="name_cy") from None
        if "committed_within_budget" in str(clash.orig):  # an award made a moment ago
            raise DomainError(_("The budget cannot be less than what awards have committed: "
                                "another manager made an award from it a moment ago. Check "
                                "the round and save again."), field="budget") from None
        raise DomainError(message, field=field) from None


@atomic
def create_fund(details: FundDetails, actor: User) -> Fund:
    _hold_funds()
    _check_fund(details, None)
    fund = Fund()
    _apply_fund(fund, details)
    session.add(fund)
    _flush_unique(_("A fund with this code or name already exists"), "code")
    audit.record("fund.created", "fund", fund.id, actor=actor, after=_fund_snapshot(fund))
    return fund


@atomic
def update_fund(fund: Fund, details: FundDetails, actor: User) -> None:
    _hold_funds()
    session.refresh(fund)  # as it is now, a change made a moment ago included
    _check_fund(details, fund)
    before = _fund_snapshot(fund)
    _apply_fund(fund, details)
    _flush_unique(_("A fund with this code or name already exists"), "code")
    after = _fund_snapshot(fund)
    if after != before:
        audit.record("fund.updated", "fund", fund.id, actor=actor, before=before, after=after)


# --- rounds -----------------------------------------------------------------------------------


def _round_snapshot(round_: Round) -> dict[str, Any]:
    return {"fund": round_.fund.code if round_.fund else None, "name": round_.name,
            "financial_year": round_.financial_year,
            "opens_at": round_.opens_at.isoformat(), "closes_at": round_.closes_at.isoformat(),
            "budget_pence": round_.budget_pence, "cap_pence": round_.cap_pence,
            "eligible_organisation_types": list(round_.eligible_organisation_types or []),
            "return_cadence": round_.return_cadence.value, "guidance": round_.guidance,
            "required_assessments": round_.required_assessments, **_years_snapshot(round_),
            **_welsh_snapshot(round_, "name", "guidance")}


def _years_snapshot(round_: Round) -> dict[str, Any]:
    """A round over several years: how many and each year's budget and cap, keyed by the
    year as users write it (2026/27). Nothing for a round of one year (its one year is the
    round's own budget and cap)."""
    if (round_.years or 1) == 1:
        return {}
    return {"years": round_.years,
            "year_budgets": {row.label: {"budget_pence": row.budget_pence,
                                         "cap_pence": row.cap_pence}
                             for row in round_.year_budgets}}


def _check_money(details: RoundDetails, round_: Round | None) -> None:
    committed = round_.committed_pence if round_ is not None else 0
    if details.budget_pence < 0:
        raise DomainError(_("The budget must be £0 or more"), field="budget")
    if details.budget_pence < committed:
        raise DomainError(_("The budget cannot be less than %(committed)s, the amount already "
                            "committed to approved awards", committed=money(committed)),
                          field="budget")
    cap = details.cap_pence
    if cap is not None and details.budget_pence == 0:
        raise DomainError(_("The budget must be more than £0"), field="budget")
    if cap is not None and cap <= 0:
        raise DomainError(_("The most a bid can ask for must be more than £0"), field="cap")
    if cap is not None and cap > details.budget_pence:
        raise DomainError(_("The most a bid can ask for (%(cap)s) cannot be more than the budget "
                            "(%(budget)s)", cap=money(cap), budget=money(details.budget_pence)),
                          field="cap")


def _check_years(fund: Fund, details: RoundDetails, round_: Round | None) -> None:
    """A round over several years (issue 14): only in a fund that allows multi-year projects,
    from 1 to ``MULTI_YEAR_YEARS`` years, one budget per year adding up to the round's, each
    year's cap within its budget; on a round with awards, never fewer years than the last
    with money committed and no year's budget below what is committed in it (beside that
    year's field, ``year_budgets-<n>-budget``)."""
    count = details.years
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= (
            MULTI_YEAR_YEARS if fund.allows_multi_year else 1):
        if not fund.allows_multi_year:
            raise DomainError(_("A round of this fund funds one financial year: the fund does "
                                "not allow projects over several years"), field="years")
        raise DomainError(_("The number of financial years must be from 1 to %(most)d",
                            most=MULTI_YEAR_YEARS), field="years")
    committed = {row.financial_year: row.committed_pence
                 for row in (round_.year_budgets if round_ is not None else [])}
    moved = round_ is not None and details.financial_year != round_.financial_year
    several = count > 1 or (round_ is not None and (round_.years or 1) > 1)
    if moved and several and any(committed.values()):
        # (A round of one year moving to another year takes its one year's commitments
        # with it: the flush hook keeps that year in step with the round.)
        raise DomainError(_("The financial year cannot change: awards have been made from "
                            "this round’s budget for %(years)s",
                            years=round_.financial_year_label if round_ else ""),
                          field="financial_year")
    last_committed = max((year for year, pence in committed.items() if pence), default=None)
    if not moved and last_committed is not None and \
            last_committed > details.financial_year + count - 1:
        raise DomainError(_("The round must fund at least %(count)d years: awards have been "
                            "made from its budget for %(year)s",
                            count=last_committed - details.financial_year + 1,
                            year=year_label(last_committed)), field="years")
    if count == 1:
        return
    if len(details.year_budgets) != count:
        raise DomainError(_("Enter a budget for each of the %(count)d years", count=count),
                          field="year_budgets-0-budget")
    for index, year in enumerate(details.year_budgets):
        when = year_label(details.financial_year + index)
        field = f"year_budgets-{index}-budget"
        if year.budget_pence < 0:
            raise DomainError(_("The budget for %(year)s must be £0 or more", year=when),
                              field=field)
        spent = committed.get(details.financial_year + index, 0)
        if year.budget_pence < spent:
            raise DomainError(_("The budget for %(year)s cannot be less than %(committed)s, "
                                "the amount already committed to approved awards in that "
                                "year", year=when, committed=money(spent)), field=field)
        cap = year.cap_pence
        if cap is not None and cap <= 0:
            raise DomainError(_("The most a bid can have in %(year)s must be more than £0",
                                year=when), field=f"year_budgets-{index}-cap")
        if cap is not None and cap > year.budget_pence:
            raise DomainError(_("The most a bid can have in %(year)s (%(cap)s) cannot be more "
                                "than that year’s budget (%(budget)s)", year=when,
                                cap=money(cap), budget=money(year.budget_pence)),
                              field=f"year_budgets-{index}-cap")
    total = sum(year.budget_pence for year in details.year_budgets)
    if total != details.budget_pence:
        raise DomainError(_("The round’s budget must be the sum of its years’ budgets"),
                          field="year_budgets-0-budget")


def round_date_bounds(year: int) -> dict[str, tuple[date, date]]:
    """For each date of a round funding financial year ``year``, the first and last day it
    may fall on (inclusive), by the round form's field name.

    A round may open before its year starts, so bids are decided and offers accepted by the
    time the money is there, but no earlier than ``OPENS_YEARS_BEFORE`` year before that, and
    it must open before the year ends. It closes no later than the year's last day: grant
    money is time-limited to the financial year (domain brief, "Financial year"), so bids for
    it cannot still be coming in afterwards. Closing after opening is checked on the moment.
    """
    first, last = financial_year_dates(year)
    earliest = first.replace(year=first.year - OPENS_YEARS_BEFORE)
    return {"opens_on": (earliest, last), "closes_on": (earliest, last)}


def _check_round_dates(details: RoundDetails) -> None:
    """Each date of the round within its financial year's bounds (:func:`round_date_bounds`)
    and the closing moment after the opening one. Raises DomainError beside the date."""
    label = f"{details.financial_year}/{(details.financial_year + 1) % 100:02d}"
    bounds = round_date_bounds(details.financial_year)
    earliest, latest = bounds["opens_on"]
    if details.opens_on < earliest:
        raise DomainError(_("A %(year)s round can open no earlier than %(first)s, a year "
                            "before its financial year starts", year=label,
                            first=long_date(earliest)), field="opens_on")
    if details.opens_on > latest:
        raise DomainError(_("A %(year)s round must open by %(last)s, the end of its financial "
                            "year", year=label, last=long_date(latest)), field="opens_on")
    if details.closes_on > bounds["closes_on"][1]:
        raise DomainError(_("A %(year)s round must close by %(last)s, the end of its "
                            "financial year", year=label, last=long_date(bounds["closes_on"][1])),
                          field="closes_on")
    # A closing date before the earliest opening date is before the opening too.
    if uk_moment(details.closes_on, details.closes_time) <= uk_moment(details.opens_on,
                                                                     details.opens_time):
        raise DomainError(_("The round must close after it opens"), field="closes_on")


def financial_year_bounds(today: date | None = None) -> tuple[int, int]:
    """The first and last financial year (its starting year) a round may fund on ``today``
    (default: the UK's today): ``YEARS_BACK`` before the current one to ``YEARS_AHEAD``
    after it."""
    current = financial_year_of(today or uk_today())
    return current - YEARS_BACK, current + YEARS_AHEAD


def _year_label(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def _check_financial_year(details: RoundDetails, round_: Round | None) -> None:
    """The year within :func:`financial_year_bounds`; on a round that has bids other than
    drafts (sent, decided or awarded), the year as it was: their references, project dates
    and awards belong to that year. Raises DomainError beside ``financial_year``."""
    year = details.financial_year
    if round_ is not None and year != round_.financial_year and session.scalar(
            select(Bid.id).where(Bid.round_id == round_.id, Bid.status != BidStatus.DRAFT)
            .limit(1)):
        raise DomainError(_("The financial year cannot change: bids to this round have been "
                            "submitted for %(year)s", year=_year_label(round_.financial_year)),
                          field="financial_year")
    first, last = financial_year_bounds()
    if not first <= year <= last:
        raise DomainError(_("The financial year must be from %(first)s to %(last)s",
                            first=_year_label(first), last=_year_label(last)),
                          field="financial_year")


def _check_opening_against_bids(details: RoundDetails, round_: Round | None) -> None:
    """A round cannot open after a bid to it was submitted: the bid would have come in
    before the round existed. Raises DomainError beside ``opens_on``."""
    if round_ is None:
        return
    first_sent = session.scalar(select(func.min(Bid.submitted_at))
                                .where(Bid.round_id == round_.id))
    if first_sent is not None and uk_moment(details.opens_on, details.opens_time) > first_sent:
        raise DomainError(_("The round must open by %(when)s, when the first bid to it was "
                            "submitted", when=date_time(first_sent)),
                          field="opens_on")


def _check_round(fund: Fund, details: RoundDetails, round_: Round | None) -> None:
    _check_financial_year(details, round_)
    _check_round_dates(details)
    _check_opening_against_bids(details, round_)
    _check_money(details, round_)
    _check_years(fund, details, round_)
    known = {kind.value for kind in OrganisationType}
    if not details.eligible_organisation_types or not set(
            details.eligible_organisation_types) <= known:
        raise DomainError(_("Select who can bid"), field="eligible_organisation_types")
    # A round's name in either language may not be another round's in either: a reader of
    # the other language would see two rounds called the same.
    others = select(Round.id).where(Round.fund_id == fund.id)
    if round_ is not None:
        others = others.where(Round.id != round_.id)
    if session.scalar(others.where(or_(func.lower(Round.name) == details.name.lower(),
                                       func.lower(Round.name_cy) == details.name.lower()))):
        raise DomainError(_("%(fund)s already has a round called “%(name)s”",
                            fund=bilingual.text(fund, "name"), name=details.name),
                          field="name")
    if details.name_cy:
        welsh = details.name_cy.lower()
        if session.scalar(others.where(or_(func.lower(Round.name_cy) == welsh,
                                           func.lower(Round.name) == welsh))):
            raise DomainError(_("%(fund)s already has a round called “%(name)s” in Welsh",
                                fund=bilingual.text(fund, "name"), name=details.name_cy),
                              field="name_cy")
    needed = details.required_assessments
    if needed is not None and (isinstance(needed, bool) or not isinstance(needed, int)
                               or not 1 <= needed <= MOST_ASSESSMENTS):
        raise DomainError(_("Assessments needed must be a whole number from 1 to %(most)d, or "
                            "blank for every assigned assessor", most=MOST_ASSESSMENTS),
                          field="required_assessments")


def _apply_round(round_: Round, details: RoundDetails) -> None:
    round_.name = details.name
    round_.financial_year = details.financial_year
    round_.opens_at = uk_moment(details.opens_on, details.opens_time)
    round_.closes_at = uk_moment(details.closes_on, details.closes_time)
    round_.budget_pence = details.budget_pence
    round_.cap_pence = details.cap_pence
    round_.eligible_organisation_types = sorted(set(details.eligible_organisation_types))
    round_.return_cadence = details.return_cadence
    round_.guidance = details.guidance
    round_.name_cy = details.name_cy
    round_.guidance_cy = details.guidance_cy
    round_.required_assessments = details.required_assessments
    _apply_years(round_, details)


def _apply_years(round_: Round, details: RoundDetails) -> None:
    """The round's ``RoundYear`` rows, updated in place by year: a year kept keeps its
    committed total, years added start with nothing committed, years dropped go (checked
    first to have nothing committed). A round of one year is left to the flush hook
    (``portal.models.funds.keep_single_year``), which gives it its one year."""
    round_.years = details.years
    wanted = ({details.financial_year + index: year
               for index, year in enumerate(details.year_budgets)} if details.years > 1
              else {details.financial_year: None})
    for row in list(round_.year_budgets):
        if row.financial_year not in wanted:
            round_.year_budgets.remove(row)
    if details.years == 1:
        return
    session.flush()  # rows dropped go before any year is added under the same key
    rows = {row.financial_year: row for row in round_.year_budgets}
    for year, budget in wanted.items():
        assert budget is not None
        row = rows.get(year) or RoundYear(financial_year=year, committed_pence=0)
        if row not in round_.year_budgets:
            round_.year_budgets.append(row)
        row.budget_pence = budget.budget_pence
        row.cap_pence = budget.cap_pence


def _hold_rounds_of(fund: Fund) -> None:
    """Hold the fund's row until the change commits, so two managers naming its rounds at once
    are taken one after the other and the second's check sees the first's names (in either
    language, in any case)."""
    session.execute(select(Fund.id).where(Fund.id == fund.id).with_for_update(key_share=True))


@atomic
def create_round(fund: Fund, details: RoundDetails, actor: User) -> Round:
    _hold_rounds_of(fund)
    _check_round(fund, details, None)
    round_ = Round(fund=fund, committed_pence=0)
    _apply_round(round_, details)
    session.add(round_)
    _flush_unique(_("This fund already has a round with that name"), "name")
    if not fund.direct:  # its application form: a copy of the fund's last round's, or the standard
        form_versions.first_version(round_)
    audit.record("round.created", "round", round_.id, actor=actor, after=_round_snapshot(round_))
    return round_


@atomic
def update_round(round_: Round, details: RoundDetails, actor: User) -> None:
    """Change a round's details (:class:`RoundDetails`), checked against what it has committed
    as it is now: the round's row is held first (awards commit through it,
    ``portal.services.years.commit``), so an award made a moment ago is seen. Raises
    DomainError beside the field."""
    _hold_rounds_of(round_.fund)
    session.execute(select(Round.id).where(Round.id == round_.id).with_for_update())
    session.refresh(round_)
    for row in round_.year_budgets:
        session.refresh(row)
    _check_round(round_.fund, details, round_)
    before = _round_snapshot(round_)
    _apply_round(round_, details)
    _flush_unique(_("This fund already has a round with that name"), "name")
    after = _round_snapshot(round_)
    if after != before:
        audit.record("round.updated", "round", round_.id, actor=actor, before=before,
                     after=after)


# --- criteria ---------------------------------------------------------------------------------


def locked_message() -> str:
    return _("The criteria cannot change: bids have already been scored against them.")


def criteria_sections(round_: Round) -> list[tuple[str, str]]:
    """(key, title) of the sections a criterion may name: the round's current application
    form's, in its order, then any that only its earlier published versions have (bids
    answered on them still hold those answers), newest first, their titles saying so."""
    current = form_versions.latest(round_)
    offered = [(s.key, s.words("title") or s.key)
               for s in form_versions.current_definition(round_).sections]
    known = {key for key, _title in offered}
    earlier: list[dict[str, Any]] = list(session.scalars(
        select(FormVersion.definition)
        .where(FormVersion.round_id == round_.id,
               FormVersion.id != (current.id if current is not None else 0),
               FormVersion.published_at.is_not(None))
        .order_by(FormVersion.number.desc())))
    for definition in earlier:
        for section in questions.read(definition).sections:
            if section.key not in known:
                known.add(section.key)
                offered.append((section.key, _("%(title)s (earlier versions of the form)",
                                               title=section.words("title")
                                               or section.key)))
    return offered


def _criteria_snapshot(round_: Round) -> dict[str, Any]:
    scale = scale_of(round_)
    return {"criteria": [{"title": c.title, "guidance": c.guidance, "weight": c.weight,
                          **({"sections": list(c.sections)} if c.sections else {}),
                          **_welsh_snapshot(c, "title", "guidance")}
                         for c in round_.criteria],
            "scale": {"min": scale.minimum, "max": scale.maximum,
                      "descriptors": scale.descriptors}}


def _check_criteria(criteria: list[CriterionDetails], sections: list[str]) -> None:
    """Refuses what cannot be scored: no criterion, weights not adding up to 100, a section
    ``sections`` (the keys the round's forms have) does not hold, beside the criterion's
    sections (``sections-N``, N counting the criteria given, from 0)."""
    if not criteria:
        raise DomainError(_("Enter at least one criterion"), field="rows")
    for index, criterion in enumerate(criteria):
        if any(key not in sections for key in criterion.sections):
            raise DomainError(_("Select the sections from the list: the form has no such "
                                "section"), field=f"sections-{index}")
    if any(not 1 <= c.weight <= 100 for c in criteria):
        raise DomainError(_("Each weight must be a whole number from 1 to 100"), field="weights")
    total = sum(c.weight for c in criteria)
    if total != 100:
        raise DomainError(_("Weights must add up to 100. They add up to %(total)d.",
                            total=total), field="weights")


def _check_scale(scale: Scale) -> dict[str, str]:
    """The descriptors keyed by score, once every score has exactly one."""
    if scale.minimum < 0:
        raise DomainError(_("The lowest score must be 0 or more"), field="scale_min")
    if scale.maximum <= scale.minimum:
        raise DomainError(_("The highest score must be more than the lowest"), field="scale_max")
    count = scale.maximum - scale.minimum + 1
    if count > len(scale.descriptors):
        raise DomainError(_("A scale can have at most %(n)d scores", n=len(scale.descriptors)),
                          field="scale_max")
    for slot, text in enumerate(scale.descriptors):
        if slot < count and not text.strip():
            raise DomainError(_("Enter a descriptor for a score of %(score)d",
                                score=scale.minimum + slot), field=f"descriptors-{slot}")
        if slot >= count and text.strip():
            raise DomainError(_("Leave this blank: a scale from %(low)d to %(high)d has %(n)d "
                                "scores", low=scale.minimum, high=scale.maximum, n=count),
                              field=f"descriptors-{slot}")
    return {str(scale.minimum + slot): scale.descriptors[slot].strip() for slot in range(count)}


@atomic
def replace_criteria(round_: Round, criteria: list[CriterionDetails], scale: Scale,
                     actor: User) -> None:
    """Make the round's criteria exactly ``criteria``, all scored on ``scale``.

    Rows are updated in place by position so their ids (and any blank score rows an
    assessor has opened against them) survive; criteria left over are removed.
    """
    if criteria_locked(round_):
        raise DomainError(locked_message())
    offered = [key for key, _title in criteria_sections(round_)]
    _check_criteria(criteria, offered)
    descriptors = _check_scale(scale)
    before = _criteria_snapshot(round_)
    existing = list(round_.criteria)
    for gone in existing[len(criteria):]:
        # Not locked, so any score rows against it are blank: they go with the criterion.
        session.execute(delete(Score).where(Score.criterion_id == gone.id))
        round_.criteria.remove(gone)
    # Rows left over are deleted before any row moves or is added, so the unique
    # (round, position) key never sees two rows at one position.
    session.flush()
    kept = existing[:len(criteria)]
    if any(row.position != position for position, row in enumerate(kept, start=1)):
        for row in kept:  # out of the way first: positions past any in use
            row.position = -row.id
        session.flush()
    for position, details in enumerate(criteria, start=1):
        if position <= len(kept):
            row = kept[position - 1]
        else:
            row = Criterion(position=position)
            round_.criteria.append(row)
        row.position = position
        row.title = details.title
        row.guidance = details.guidance
        row.title_cy = details.title_cy
        row.guidance_cy = details.guidance_cy
        row.weight = details.weight
        # Each section once, in the form's order.
        row.sections = [key for key in offered if key in details.sections]
        row.scale_min = scale.minimum
        row.scale_max = scale.maximum
        row.descriptors = dict(descriptors)
    session.flush()
    after = _criteria_snapshot(round_)
    if after != before:
        audit.record("round.criteria_changed", "round", round_.id, actor=actor, before=before,
                     after=after)
