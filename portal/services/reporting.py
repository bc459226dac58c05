"""Figures for the grants dashboards, and the rows behind the exports.

Every figure is computed by the database with GROUP BY over integer pence, so a dashboard
costs the same few queries whatever the number of bids, awards, payments and returns.
Figures follow the round: an award, its payments, its returns and its repayment count in
the financial year (and fund) of the round that made the award.

- committed: the round's committed total (approved awards, guarded against the budget);
  in a partnership's view, the sum of that partnership's awards.
- paid: payments recorded against the awards.
- spent: spend reported in returns that finance has APPROVED (as reported, line by line;
  submitted, queried and draft returns do not count).
- underspend returned: repayments of underspend recorded as received.
- returns due / overdue / queried: returns still awaited on accepted (active) awards, in
  the states the finance pages show (``awards.return_state``); overdue is the one rule,
  ``GrantReturn.is_overdue``, written in SQL here.

A bid with several issue types counts its award under each of them, so the issue-type
figures add up to more than the total.

A round over several financial years (issue 14: Putting Communities First ran 2022/23 to
2024/25) is in scope in each year it funds, with its whole figures; :func:`year_tables` splits
its pot by financial year (and does the same for a direct fund's budget, however many years it
has): budget and committed per year (``RoundYear``), paid per year (payments by the year
holding ``paid_on``) and spent per year (approved returns by the year their period ends in,
brought within the award's years: ``portal.services.years.return_year``).

Export rows are plain selects, streamed in batches (``yield_per``) so an export of any size
holds only one batch in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, Subquery, and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased

from portal import bilingual
from portal.db import session, uk_today
from portal.models import (
    AssessmentStatus,
    Assignment,
    Award,
    AwardLine,
    AwardStatus,
    Bid,
    BidStatus,
    Decision,
    Fund,
    GrantReturn,
    Organisation,
    OrganisationType,
    Payment,
    Repayment,
    ReturnLine,
    ReturnStatus,
    Round,
    RoundYear,
    User,
    year_label,
)
from portal.models.awards import AWAITED_RETURN
from portal.models.funds import years_label as round_years_label
from portal.services import years as money_years
from portal.services.rounds import financial_year_of

BATCH = 500  # rows fetched at a time by the exports
AWAITED = AWAITED_RETURN  # not yet sent (queried ones are counted apart)
EXPORTS = ("bids", "assessments", "awards", "payments", "returns")

# Any select: the helpers that narrow one give back the same type, columns and all.
_Select = TypeVar("_Select", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class Filters:
    """What a dashboard or export covers: one financial year (for an export, also every year:
    ``None``), perhaps one fund, and for a partnership's own view, its organisation."""

    year: int | None
    fund_id: int | None = None
    organisation_id: int | None = None


@dataclass(frozen=True)
class Row:
    """One line of figures, all money in pence."""

    key: str  # fund name, partnership name or issue type code
    detail: str = ""  # the round's name, for round rows
    # The Welsh of ``key`` and ``detail`` (fund, partnership and round names), maybe empty: a
    # page shows them to a Welsh reader (``bilingual.text(row, "key")``, issue 16).
    key_cy: str = ""
    detail_cy: str = ""
    # A round over several years: its years ("2022/23 to 2024/25"), unless its name says them.
    years: str = ""
    awards: int = 0
    committed_pence: int = 0
    paid_pence: int = 0
    spent_pence: int = 0
    returned_pence: int = 0
    budget_pence: int = 0
    returns_due: int = 0
    returns_overdue: int = 0
    returns_queried: int = 0

    @property
    def remaining_pence(self) -> int:
        return self.budget_pence - self.committed_pence


@dataclass(frozen=True)
class YearRow:
    """One financial year of a round's pot (or the total, ``year`` None), money in pence."""

    year: int | None
    budget_pence: int = 0
    committed_pence: int = 0
    paid_pence: int = 0
    spent_pence: int = 0

    @property
    def label(self) -> str:
        return year_label(self.year) if self.year is not None else ""

    @property
    def remaining_pence(self) -> int:
        return self.budget_pence - self.committed_pence


@dataclass(frozen=True)
class YearTable:
    """A round over several years, or a direct fund's budget: its figures per financial year
    and in total."""

    round_id: int
    fund: str
    name: str
    years_label: str  # "2022/23 to 2024/25"
    direct: bool
    rows: list[YearRow]
    fund_cy: str = ""  # the Welsh of the fund's and the round's names, maybe empty (issue 16)
    name_cy: str = ""

    @property
    def total(self) -> YearRow:
        return YearRow(None, **{name: sum(getattr(row, name) for row in self.rows)
                                for name in ("budget_pence", "committed_pence", "paid_pence",
                                             "spent_pence")})


@dataclass(frozen=True)
class Dashboard:
    filters: Filters
    rounds: list[Row]
    partnerships: list[Row]
    issue_types: list[Row]
    total: Row = field(default_factory=lambda: Row(key=""))
    years: list[YearTable] = field(default_factory=list)
    # The awards in scope added up by the section of the Police and Crime Plan each is listed
    # under (``Award.plan_section_id``; None: not aligned to a section), issue 18. Keyed by
    # the section's id; ``portal.services.plan_report.section_rows`` names and orders them.
    by_section: dict[int | None, Row] = field(default_factory=dict)


def current_year() -> int:
    return financial_year_of(uk_today())


def funds() -> list[Fund]:
    """Every fund, by its name in the reader's language (as the dashboards' choice shows it)."""
    return sorted(session.scalars(select(Fund).order_by(Fund.name)),
                  key=lambda fund: bilingual.text(fund, "name").casefold())


def years() -> list[int]:
    """Financial years that have rounds (each year of a round over several), newest first,
    always with the current one."""
    found = {first + offset
             for first, count in session.execute(
                 select(Round.financial_year, Round.years).distinct())
             for offset in range(max(int(count or 1), 1))}
    return sorted(found | {current_year()}, reverse=True)


# --- building blocks ---------------------------------------------------------------------------


def _pence(value: Any) -> int:
    # PostgreSQL's SUM of a BIGINT is NUMERIC (a Decimal here): whole pence, made int exactly.
    return int(value or 0)


def _where_round(statement: _Select, filters: Filters) -> _Select:
    """Rounds that fund the year asked for (a round over several years, in each of them)."""
    if filters.year is not None:
        statement = statement.where(Round.financial_year <= filters.year,
                                    Round.financial_year + Round.years > filters.year)
    if filters.fund_id is not None:
        statement = statement.where(Round.fund_id == filters.fund_id)
    return statement


def _in_scope(statement: _Select, filters: Filters) -> _Select:
    """``statement`` (over something with an ``award_id``) kept to the awards in scope."""
    statement = statement.join(Round, Round.id == Award.round_id)
    statement = _where_round(statement, filters)
    if filters.organisation_id is not None:
        statement = statement.where(Award.organisation_id == filters.organisation_id)
    return statement


def _spent(filters: Filters) -> Subquery:
    """Spend in approved returns, per award in scope (only those: summing every year's
    returns to keep one year's would cost more the more years the portal holds)."""
    return _in_scope(
        select(GrantReturn.award_id.label("award_id"),
               func.sum(ReturnLine.spend_pence).label("spent"))
        .join(ReturnLine, ReturnLine.return_id == GrantReturn.id)
        .join(Award, Award.id == GrantReturn.award_id)
        .where(GrantReturn.status == ReturnStatus.APPROVED), filters
    ).group_by(GrantReturn.award_id).subquery("spent")


def _returned(filters: Filters) -> Subquery:
    """Underspend repaid and received, per award in scope."""
    return _in_scope(
        select(Repayment.award_id.label("award_id"),
               func.sum(Repayment.amount_pence).label("returned"))
        .join(Award, Award.id == Repayment.award_id)
        .where(Repayment.received_on.is_not(None)), filters
    ).group_by(Repayment.award_id).subquery("returned")


def _award_figures(filters: Filters) -> Select[int, int, list[str], int | None, int, int,
                                                int | Decimal, int | Decimal]:
    """One row per award in scope: where it belongs (round, partnership, the issue types of
    its bid, the section of the Police and Crime Plan it is listed under) and its amount,
    paid, approved spend and repayment received."""
    spent, returned = _spent(filters), _returned(filters)
    return _in_scope(
        select(Award.round_id, Award.organisation_id, Bid.issue_types, Award.plan_section_id,
               Award.amount_pence,
               Award.paid_pence, func.coalesce(spent.c.spent, 0),
               func.coalesce(returned.c.returned, 0))
        .join(Bid, Bid.id == Award.bid_id)
        .outerjoin(spent, spent.c.award_id == Award.id)
        .outerjoin(returned, returned.c.award_id == Award.id), filters)


class _Sum:
    """Figures added up award by award."""

    def __init__(self) -> None:
        self.awards = self.committed = self.paid = self.spent = self.returned = 0

    def add(self, committed: int, paid: int, spent: int, returned: int) -> None:
        self.awards += 1
        self.committed += committed
        self.paid += paid
        self.spent += spent
        self.returned += returned

    def figures(self) -> dict[str, int]:
        return {"awards": self.awards, "committed_pence": self.committed,
                "paid_pence": self.paid, "spent_pence": self.spent,
                "returned_pence": self.returned}


def _return_counts(filters: Filters, on: date) -> Subquery:
    """Returns awaited on active awards, per round: due, overdue, queried."""
    awaited = GrantReturn.status.in_(AWAITED)
    overdue = GrantReturn.is_overdue(on)

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    statement = (select(Award.round_id.label("round_id"),
                        count(and_(awaited, ~overdue)).label("due"),
                        count(overdue).label("overdue"),
                        count(GrantReturn.status == ReturnStatus.QUERIED).label("queried"))
                 .join(Award, Award.id == GrantReturn.award_id)
                 .join(Round, Round.id == Award.round_id)
                 .where(Award.status == AwardStatus.ACTIVE)
                 .group_by(Award.round_id))
    statement = _where_round(statement, filters)
    if filters.organisation_id is not None:
        statement = statement.where(Award.organisation_id == filters.organisation_id)
    return statement.subquery("return_counts")


# --- the dashboard -----------------------------------------------------------------------------


@dataclass
class _Sums:
    by_round: dict[int, _Sum] = field(default_factory=dict)
    by_partnership: dict[int, _Sum] = field(default_factory=dict)
    by_issue: dict[str, _Sum] = field(default_factory=dict)
    by_section: dict[int | None, _Sum] = field(default_factory=dict)


def _sums_of(filters: Filters) -> _Sums:
    """The awards in scope, read once and added up by round, partnership, section of the
    Police and Crime Plan and issue type (an award counts under each issue type of its bid)."""
    sums = _Sums()
    for round_id, organisation_id, issue_types, section_id, *money in session.execute(
            _award_figures(filters)):
        committed, paid, spent, returned = (_pence(value) for value in money)
        targets = [sums.by_round.setdefault(round_id, _Sum()),
                   sums.by_partnership.setdefault(organisation_id, _Sum()),
                   sums.by_section.setdefault(section_id, _Sum())]
        targets += [sums.by_issue.setdefault(str(issue), _Sum())
                    for issue in dict.fromkeys(issue_types or [])]
        for target in targets:
            target.add(committed, paid, spent, returned)
    return sums


def _return_counts_by_round(filters: Filters, on: date) -> dict[int, tuple[int, int, int]]:
    counts = _return_counts(filters, on)
    # Typed without Any, so that the rows unpack typed (with Any they are plain objects).
    rows: Select[int, int | None, int | None, int | None] = select(counts)
    return {round_id: (int(due or 0), int(overdue or 0), int(queried or 0))
            for round_id, due, overdue, queried in session.execute(rows)}


def round_rows(filters: Filters, on: date | None = None,
               sums: _Sums | None = None) -> list[Row]:
    """Every round in scope (those with nothing awarded too), by fund and name in the
    reader's language."""
    sums = sums or _sums_of(filters)
    counts = _return_counts_by_round(filters, on or uk_today())
    scoped = filters.organisation_id is not None
    statement = _where_round(
        select(Round.id, Fund.name, Round.name, Round.budget_pence, Round.committed_pence,
               Round.financial_year, Round.years, Fund.name_cy, Round.name_cy)
        .join(Fund, Fund.id == Round.fund_id).order_by(Fund.name, Round.name), filters)
    rows = []
    for (round_id, fund, name, budget, round_committed, first, count, fund_cy,
         name_cy) in session.execute(statement):
        values = sums.by_round.get(round_id, _Sum()).figures()
        if not scoped:  # the round's own commitment, kept within its budget
            values["committed_pence"] = _pence(round_committed)
        due, overdue, queried = counts.get(round_id, (0, 0, 0))
        spanned = years_label(first, count)
        shown = bilingual.pick(name, name_cy)  # the name the reader sees may say its years
        rows.append(Row(key=fund, detail=name, key_cy=fund_cy or "", detail_cy=name_cy or "",
                        years="" if spanned in shown else spanned,
                        budget_pence=_pence(budget), returns_due=due,
                        returns_overdue=overdue, returns_queried=queried, **values))
    return sorted(rows, key=_shown_names)


def _shown_names(row: Row) -> tuple[str, str]:
    """A round row's fund and round names as the reader sees them, to sort by."""
    return (bilingual.text(row, "key").casefold(), bilingual.text(row, "detail").casefold())


def years_label(first: int, count: int | None) -> str:
    """A round's years for a round over several (``portal.models.funds.years_label``: "2022/23
    to 2024/25"); "" for a round of one year (its year is the page's)."""
    return "" if int(count or 1) <= 1 else round_years_label(first, count)


def partnership_rows(filters: Filters, sums: _Sums | None = None) -> list[Row]:
    """Every partnership (those with nothing awarded too), most committed first."""
    sums = sums or _sums_of(filters)
    statement = (select(Organisation.id, Organisation.name, Organisation.name_cy)
                 .where(Organisation.type == OrganisationType.CSP))
    if filters.organisation_id is not None:
        statement = statement.where(Organisation.id == filters.organisation_id)
    rows = [Row(key=name, key_cy=name_cy or "", detail="", detail_cy="", years="",
                **sums.by_partnership.get(organisation_id, _Sum()).figures())
            for organisation_id, name, name_cy in session.execute(statement)]
    return sorted(rows, key=lambda row: (-row.committed_pence,
                                         bilingual.text(row, "key").casefold(), row.key))


def issue_type_rows(filters: Filters, sums: _Sums | None = None) -> list[Row]:
    """Awards under each issue type of their bid: an award counts under each of its types."""
    sums = sums or _sums_of(filters)
    rows = [Row(key=issue, detail="", key_cy="", detail_cy="", years="", **total.figures())
            for issue, total in sums.by_issue.items()]
    return sorted(rows, key=lambda row: (-row.committed_pence, row.key))


def total(rows: list[Row]) -> Row:
    """The sum of ``rows``, figure by figure."""
    numbers = [f.name for f in fields(Row)
               if f.name not in {"key", "detail", "years", "key_cy", "detail_cy"}]
    return Row(key="", **{name: sum(getattr(row, name) for row in rows) for name in numbers})


def dashboard(filters: Filters, on: date | None = None) -> Dashboard:
    """Four queries, whatever the data size: the awards in scope (added up three ways), the
    returns awaited by round, the rounds and the partnerships; for the grants team, one more
    for the rounds over several years and direct funds' budgets and, if there are any, at
    most four for their figures by year (:func:`year_tables`)."""
    sums = _sums_of(filters)
    rounds = round_rows(filters, on, sums)
    tables = year_tables(filters) if filters.organisation_id is None else []
    return Dashboard(filters=filters, rounds=rounds,
                     partnerships=partnership_rows(filters, sums),
                     issue_types=issue_type_rows(filters, sums), total=total(rounds),
                     years=tables,
                     by_section={section_id: Row(key="", detail="", key_cy="", detail_cy="",
                                                 years="", **figures.figures())
                                 for section_id, figures in sums.by_section.items()})


# --- money by financial year (issue 14) ----------------------------------------------------------


def year_tables(filters: Filters) -> list[YearTable]:
    """Each round in scope over several years, and each direct fund's round (its budget), by
    fund and name, with budget, committed, paid and spent per financial year and in total.

    One query for the rounds; if there are any, four more at most: their budgets per year,
    payments by round and day, approved spend by award and period end, and the lines' years
    of the awards with approved spend. Rows are added up here by financial year (``financial_year_of``, the one
    rule), so the cost in queries does not grow with the number of awards."""
    statement = _where_round(
        select(Round.id, Fund.name, Round.name, Round.financial_year, Round.years,
               Fund.direct, Fund.name_cy, Round.name_cy)
        .join(Fund, Fund.id == Round.fund_id)
        .where(or_(Round.years > 1, Fund.direct.is_(True)))
        .order_by(Fund.name, Round.name), filters)
    found = list(session.execute(statement))
    if not found:
        return []
    ids = [row[0] for row in found]
    budgets: dict[int, dict[int, tuple[int, int]]] = {round_id: {} for round_id in ids}
    for round_id, year, budget, committed in session.execute(
            select(RoundYear.round_id, RoundYear.financial_year, RoundYear.budget_pence,
                   RoundYear.committed_pence).where(RoundYear.round_id.in_(ids))):
        budgets[round_id][year] = (_pence(budget), _pence(committed))
    paid = _paid_by_year(ids, filters)
    spent = _spent_by_year(ids, filters)
    tables = []
    for round_id, fund, name, first, count, direct, fund_cy, name_cy in found:
        shown = sorted(set(budgets[round_id]) | set(paid.get(round_id, {}))
                       | set(spent.get(round_id, {}))
                       | set(range(first, first + max(int(count or 1), 1))))
        rows = [YearRow(year, *budgets[round_id].get(year, (0, 0)),
                        paid_pence=paid.get(round_id, {}).get(year, 0),
                        spent_pence=spent.get(round_id, {}).get(year, 0))
                for year in shown]
        label = years_label(first, count) or year_label(first)
        tables.append(YearTable(round_id, fund, name, label, bool(direct), rows,
                                fund_cy=fund_cy or "", name_cy=name_cy or ""))
    return sorted(tables, key=lambda table: (bilingual.text(table, "fund").casefold(),
                                             bilingual.text(table, "name").casefold()))


def _scoped_awards(statement: _Select, ids: list[int], filters: Filters) -> _Select:
    statement = statement.where(Award.round_id.in_(ids))
    if filters.organisation_id is not None:
        statement = statement.where(Award.organisation_id == filters.organisation_id)
    return statement


def _paid_by_year(ids: list[int], filters: Filters) -> dict[int, dict[int, int]]:
    """Payments on the rounds' awards by round and the financial year holding ``paid_on``."""
    result: dict[int, dict[int, int]] = {}
    statement = _scoped_awards(
        select(Award.round_id, Payment.paid_on, func.sum(Payment.amount_pence))
        .join(Award, Award.id == Payment.award_id), ids, filters
    ).group_by(Award.round_id, Payment.paid_on)
    for round_id, paid_on, pence in session.execute(statement):
        year = financial_year_of(paid_on)
        by_year = result.setdefault(round_id, {})
        by_year[year] = by_year.get(year, 0) + _pence(pence)
    return result


def _spent_by_year(ids: list[int], filters: Filters) -> dict[int, dict[int, int]]:
    """Spend in approved returns on the rounds' awards by round and financial year: the
    year each return's period ends in, within the award's years (:func:`spend_year`)."""
    statement = _scoped_awards(
        select(Award.id, Award.round_id, Award.start_date, Award.end_date,
               GrantReturn.period_end, func.sum(ReturnLine.spend_pence))
        .join(Award, Award.id == GrantReturn.award_id)
        .join(ReturnLine, ReturnLine.return_id == GrantReturn.id)
        .where(GrantReturn.status == ReturnStatus.APPROVED), ids, filters
    ).group_by(Award.id, Award.round_id, Award.start_date, Award.end_date,
               GrantReturn.period_end)
    spend = list(session.execute(statement))
    if not spend:
        return {}
    with_spend = {row[0] for row in spend}
    lines: dict[int, list[tuple[Any, Any]]] = {award_id: [] for award_id in with_spend}
    for award_id, original, revised in session.execute(
            select(AwardLine.award_id, AwardLine.original_years, AwardLine.revised_years)
            .where(AwardLine.award_id.in_(
                _scoped_awards(select(Award.id).join(GrantReturn, GrantReturn.award_id == Award.id)
                               .where(GrantReturn.status == ReturnStatus.APPROVED),
                               ids, filters)))):
        if award_id in lines:
            lines[award_id].append((original, revised))
    result: dict[int, dict[int, int]] = {}
    years_of: dict[int, list[int]] = {}
    for award_id, round_id, start, end, period_end, pence in spend:
        if award_id not in years_of:
            years_of[award_id] = money_years.lines_years(lines[award_id], start, end)
        year = money_years.period_year(period_end, years_of[award_id])
        by_year = result.setdefault(round_id, {})
        by_year[year] = by_year.get(year, 0) + _pence(pence)
    return result


# --- export rows -------------------------------------------------------------------------------


def _bids(filters: Filters) -> Select:
    return (select(Bid.reference.label("reference"), Bid.title.label("title"),
                   Organisation.name.label("partnership"), Fund.code.label("fund"),
                   Round.name.label("round"),
                   # The Welsh names (maybe empty): the files give the reader's (issue 16).
                   Organisation.name_cy.label("partnership_cy"),
                   Round.name_cy.label("round_cy"), Round.financial_year.label("financial_year"),
                   Bid.status.label("status"), Bid.issue_types.label("issue_types"),
                   Bid.amount_requested_pence.label("amount_requested_pence"),
                   Bid.match_funding_pence.label("match_funding_pence"),
                   Bid.start_date.label("start_date"), Bid.end_date.label("end_date"),
                   Bid.submitted_at.label("submitted_at"))
            .join(Round, Round.id == Bid.round_id).join(Fund, Fund.id == Round.fund_id)
            .join(Organisation, Organisation.id == Bid.organisation_id)
            # Drafts belong to the partnership until submitted: the OPCC never sees them.
            .where(Bid.status != BidStatus.DRAFT)
            .order_by(Bid.reference))


def _assessments(filters: Filters) -> Select:
    assessor = aliased(User)
    return (select(Bid.reference.label("bid_reference"),
                   Organisation.name.label("partnership"), Fund.code.label("fund"),
                   Round.name.label("round"),
                   # The Welsh names (maybe empty): the files give the reader's (issue 16).
                   Organisation.name_cy.label("partnership_cy"),
                   Round.name_cy.label("round_cy"), assessor.name.label("assessor"),
                   Assignment.assigned_at.label("assigned_at"),
                   Assignment.conflict.label("conflict"), Assignment.status.label("status"),
                   Assignment.recommendation.label("recommendation"),
                   # Only a submitted assessment's score counts: a draft or a reopened
                   # assessment shows none until it is submitted (again).
                   case((Assignment.status == AssessmentStatus.SUBMITTED,
                         Assignment.weighted_basis_points)).label("score_basis_points"),
                   Assignment.submitted_at.label("submitted_at"))
            .join(Bid, Bid.id == Assignment.bid_id)
            .join(Round, Round.id == Bid.round_id).join(Fund, Fund.id == Round.fund_id)
            .join(Organisation, Organisation.id == Bid.organisation_id)
            .join(assessor, assessor.id == Assignment.assessor_id)
            .order_by(Bid.reference, assessor.name, Assignment.id))


def _awards(filters: Filters) -> Select:
    spent, returned = _spent(filters), _returned(filters)
    return (select(Bid.reference.label("reference"),
                   Decision.reference.label("decision_reference"), Bid.title.label("title"),
                   Organisation.name.label("partnership"), Fund.code.label("fund"),
                   Round.name.label("round"),
                   # The Welsh names (maybe empty): the files give the reader's (issue 16).
                   Organisation.name_cy.label("partnership_cy"),
                   Round.name_cy.label("round_cy"), Round.financial_year.label("financial_year"),
                   Round.years.label("years"),
                   Award.status.label("status"), Award.amount_pence.label("amount_pence"),
                   Award.paid_pence.label("paid_pence"),
                   func.coalesce(spent.c.spent, 0).label("spent_pence"),
                   func.coalesce(returned.c.returned, 0).label("returned_pence"),
                   Award.start_date.label("start_date"), Award.end_date.label("end_date"),
                   Award.offered_at.label("offered_at"), Award.accepted_at.label("accepted_at"),
                   Award.closed_at.label("closed_at"),
                   Decision.override_reason.label("override_reason"))
            .join(Bid, Bid.id == Award.bid_id).join(Decision, Decision.id == Award.decision_id)
            .join(Round, Round.id == Award.round_id).join(Fund, Fund.id == Round.fund_id)
            .join(Organisation, Organisation.id == Award.organisation_id)
            .outerjoin(spent, spent.c.award_id == Award.id)
            .outerjoin(returned, returned.c.award_id == Award.id)
            .order_by(Bid.reference))


def _payments(filters: Filters) -> Select:
    return (select(Bid.reference.label("award_reference"),
                   Organisation.name.label("partnership"), Fund.code.label("fund"),
                   Round.name.label("round"),
                   # The Welsh names (maybe empty): the files give the reader's (issue 16).
                   Organisation.name_cy.label("partnership_cy"),
                   Round.name_cy.label("round_cy"), Payment.paid_on.label("paid_on"),
                   Payment.amount_pence.label("amount_pence"),
                   Payment.reference.label("payment_reference"),
                   Payment.recorded_at.label("recorded_at"))
            .join(Award, Award.id == Payment.award_id).join(Bid, Bid.id == Award.bid_id)
            .join(Round, Round.id == Award.round_id).join(Fund, Fund.id == Round.fund_id)
            .join(Organisation, Organisation.id == Award.organisation_id)
            .order_by(Payment.paid_on, Payment.id))


def _returns(filters: Filters) -> Select:
    on = uk_today()
    spend = (select(ReturnLine.return_id.label("return_id"),
                    func.sum(ReturnLine.spend_pence).label("spend"))
             .group_by(ReturnLine.return_id).subquery("spend"))
    state = case((GrantReturn.status == ReturnStatus.APPROVED, literal("approved")),
                 (GrantReturn.status == ReturnStatus.SUBMITTED, literal("received")),
                 (GrantReturn.status == ReturnStatus.QUERIED, literal("queried")),
                 (GrantReturn.is_overdue(on), literal("overdue")), else_=literal("due"))
    return (select(Bid.reference.label("award_reference"),
                   Organisation.name.label("partnership"), Fund.code.label("fund"),
                   Round.name.label("round"),
                   # The Welsh names (maybe empty): the files give the reader's (issue 16).
                   Organisation.name_cy.label("partnership_cy"),
                   Round.name_cy.label("round_cy"), GrantReturn.kind.label("kind"),
                   GrantReturn.period_start.label("period_start"),
                   GrantReturn.period_end.label("period_end"),
                   GrantReturn.due_date.label("due_date"), GrantReturn.status.label("status"),
                   state.label("state"), func.coalesce(spend.c.spend, 0).label("spend_pence"),
                   GrantReturn.forecast_underspend_pence.label("forecast_underspend_pence"),
                   GrantReturn.submitted_at.label("submitted_at"),
                   GrantReturn.approved_at.label("approved_at"))
            .join(Award, Award.id == GrantReturn.award_id).join(Bid, Bid.id == Award.bid_id)
            .join(Round, Round.id == Award.round_id).join(Fund, Fund.id == Round.fund_id)
            .join(Organisation, Organisation.id == Award.organisation_id)
            .outerjoin(spend, spend.c.return_id == GrantReturn.id)
            .order_by(GrantReturn.due_date, Bid.reference, GrantReturn.id))


_STATEMENTS = {"bids": _bids, "assessments": _assessments, "awards": _awards,
               "payments": _payments, "returns": _returns}


def export_rows(table: str, filters: Filters) -> Iterator[Any]:
    """The rows of one export table, as mappings keyed by column label, fetched ``BATCH`` at
    a time (a server-side cursor on PostgreSQL) so memory stays flat."""
    statement = _where_round(_STATEMENTS[table](filters), filters)
    if filters.organisation_id is not None:
        statement = statement.where(Organisation.id == filters.organisation_id)
    result = session.execute(statement.execution_options(yield_per=BATCH))
    if table == "awards":  # the round's years as users write them (issue 14)
        for row in result:
            values = row._mapping
            yield {**values, "financial_years": years_label(
                values["financial_year"], values["years"]) or year_label(
                values["financial_year"])}
        return
    for row in result:
        yield row._mapping
