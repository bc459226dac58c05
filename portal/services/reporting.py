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
  the states the finance pages show (``awards.return_state``).

A bid with several issue types counts its award under each of them, so the issue-type
figures add up to more than the total.

Export rows are plain selects, streamed in batches (``yield_per``) so an export of any size
holds only one batch in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, literal, select, true
from sqlalchemy.orm import aliased

from portal.db import session, utcnow
from portal.models import (
    Assignment,
    Award,
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
    User,
)
from portal.services.rounds import financial_year_of

UK = ZoneInfo("Europe/London")
BATCH = 500  # rows fetched at a time by the exports
AWAITED = (ReturnStatus.DUE, ReturnStatus.DRAFT)  # not yet sent (queried ones are counted apart)
EXPORTS = ("bids", "assessments", "awards", "payments", "returns")


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
class Dashboard:
    filters: Filters
    rounds: list[Row]
    partnerships: list[Row]
    issue_types: list[Row]
    total: Row = field(default_factory=lambda: Row(key=""))


def today() -> date:
    return utcnow().astimezone(UK).date()


def current_year() -> int:
    return financial_year_of(today())


def funds() -> list[Fund]:
    return list(session.scalars(select(Fund).order_by(Fund.name)))


def years() -> list[int]:
    """Financial years that have rounds, newest first, always with the current one."""
    found = set(session.scalars(select(Round.financial_year).distinct()))
    return sorted(found | {current_year()}, reverse=True)


# --- building blocks ---------------------------------------------------------------------------


def _pence(value: Any) -> int:
    # PostgreSQL's SUM of a BIGINT is NUMERIC (a Decimal here): whole pence, made int exactly.
    return int(value or 0)


def _where_round(statement: Select, filters: Filters) -> Select:
    if filters.year is not None:
        statement = statement.where(Round.financial_year == filters.year)
    if filters.fund_id is not None:
        statement = statement.where(Round.fund_id == filters.fund_id)
    return statement


def _spent():  # type: ignore[no-untyped-def]
    """Spend in approved returns, per award."""
    return (select(GrantReturn.award_id.label("award_id"),
                   func.sum(ReturnLine.spend_pence).label("spent"))
            .join(ReturnLine, ReturnLine.return_id == GrantReturn.id)
            .where(GrantReturn.status == ReturnStatus.APPROVED)
            .group_by(GrantReturn.award_id).subquery("spent"))


def _returned():  # type: ignore[no-untyped-def]
    """Underspend repaid and received, per award."""
    return (select(Repayment.award_id.label("award_id"),
                   func.sum(Repayment.amount_pence).label("returned"))
            .where(Repayment.received_on.is_not(None))
            .group_by(Repayment.award_id).subquery("returned"))


def _award_figures(filters: Filters):  # type: ignore[no-untyped-def]
    """One row per award in scope: its amount, paid, approved spend and repayment received."""
    spent, returned = _spent(), _returned()
    statement = (select(Award.id.label("award_id"), Award.round_id.label("round_id"),
                        Award.organisation_id.label("organisation_id"),
                        Award.bid_id.label("bid_id"), Award.amount_pence.label("committed"),
                        Award.paid_pence.label("paid"),
                        func.coalesce(spent.c.spent, 0).label("spent"),
                        func.coalesce(returned.c.returned, 0).label("returned"))
                 .join(Round, Round.id == Award.round_id)
                 .outerjoin(spent, spent.c.award_id == Award.id)
                 .outerjoin(returned, returned.c.award_id == Award.id))
    statement = _where_round(statement, filters)
    if filters.organisation_id is not None:
        statement = statement.where(Award.organisation_id == filters.organisation_id)
    return statement.subquery("award_figures")


def _sums(figures) -> list:  # type: ignore[no-untyped-def]
    return [func.count(figures.c.award_id),
            func.coalesce(func.sum(figures.c.committed), 0),
            func.coalesce(func.sum(figures.c.paid), 0),
            func.coalesce(func.sum(figures.c.spent), 0),
            func.coalesce(func.sum(figures.c.returned), 0)]


def _figures(awards: Any, committed: Any, paid: Any, spent: Any, returned: Any) -> dict[str, int]:
    return {"awards": int(awards or 0), "committed_pence": _pence(committed),
            "paid_pence": _pence(paid), "spent_pence": _pence(spent),
            "returned_pence": _pence(returned)}


def _return_counts(filters: Filters, on: date):  # type: ignore[no-untyped-def]
    """Returns awaited on active awards, per round: due, overdue, queried."""
    awaited = GrantReturn.status.in_(AWAITED)

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    statement = (select(Award.round_id.label("round_id"),
                        count(and_(awaited, GrantReturn.due_date >= on)).label("due"),
                        count(and_(awaited, GrantReturn.due_date < on)).label("overdue"),
                        count(GrantReturn.status == ReturnStatus.QUERIED).label("queried"))
                 .join(Award, Award.id == GrantReturn.award_id)
                 .join(Round, Round.id == Award.round_id)
                 .where(Award.status == AwardStatus.ACTIVE)
                 .group_by(Award.round_id))
    statement = _where_round(statement, filters)
    if filters.organisation_id is not None:
        statement = statement.where(Award.organisation_id == filters.organisation_id)
    return statement.subquery("return_counts")


def _issue_values():  # type: ignore[no-untyped-def]
    """The elements of ``bids.issue_types`` (a JSON list) as rows: one per issue type."""
    if session.get_bind().dialect.name == "postgresql":
        function = func.json_array_elements_text(Bid.issue_types)
    else:
        function = func.json_each(Bid.issue_types)
    return function.table_valued("value", name="issue")


# --- the dashboard -----------------------------------------------------------------------------


def round_rows(filters: Filters, on: date | None = None) -> list[Row]:
    figures = _award_figures(filters)
    counts = _return_counts(filters, on or today())
    scoped = filters.organisation_id is not None
    statement = (select(Fund.name, Round.name, Round.budget_pence, Round.committed_pence,
                        *_sums(figures), func.max(counts.c.due), func.max(counts.c.overdue),
                        func.max(counts.c.queried))
                 .join(Fund, Fund.id == Round.fund_id)
                 .outerjoin(figures, figures.c.round_id == Round.id)
                 .outerjoin(counts, counts.c.round_id == Round.id)
                 .group_by(Round.id, Fund.name, Round.name, Round.budget_pence,
                           Round.committed_pence)
                 .order_by(Fund.name, Round.name))
    rows = []
    for (fund, name, budget, round_committed, awards, committed, paid, spent, returned, due,
         overdue, queried) in session.execute(_where_round(statement, filters)):
        values = _figures(awards, committed, paid, spent, returned)
        if not scoped:
            values["committed_pence"] = _pence(round_committed)
        rows.append(Row(key=fund, detail=name, budget_pence=_pence(budget),
                        returns_due=int(due or 0), returns_overdue=int(overdue or 0),
                        returns_queried=int(queried or 0), **values))
    return rows


def partnership_rows(filters: Filters) -> list[Row]:
    """Every partnership (those with nothing awarded too), most committed first."""
    figures = _award_figures(filters)
    statement = (select(Organisation.name, *_sums(figures))
                 .outerjoin(figures, figures.c.organisation_id == Organisation.id)
                 .where(Organisation.type == OrganisationType.CSP)
                 .group_by(Organisation.id, Organisation.name))
    if filters.organisation_id is not None:
        statement = statement.where(Organisation.id == filters.organisation_id)
    rows = [Row(key=name, **_figures(*values)) for name, *values in session.execute(statement)]
    return sorted(rows, key=lambda row: (-row.committed_pence, row.key))


def issue_type_rows(filters: Filters) -> list[Row]:
    """Awards under each issue type of their bid: an award counts under each of its types."""
    figures = _award_figures(filters)
    issue = _issue_values()
    statement = (select(issue.c.value, *_sums(figures))
                 .select_from(figures)
                 .join(Bid, Bid.id == figures.c.bid_id)
                 .join(issue, true())
                 .group_by(issue.c.value))
    rows = [Row(key=str(value), **_figures(*values))
            for value, *values in session.execute(statement)]
    return sorted(rows, key=lambda row: (-row.committed_pence, row.key))


def total(rows: list[Row]) -> Row:
    """The sum of ``rows``, figure by figure."""
    numbers = [f.name for f in fields(Row) if f.name not in {"key", "detail"}]
    return Row(key="", **{name: sum(getattr(row, name) for row in rows) for name in numbers})


def dashboard(filters: Filters, on: date | None = None) -> Dashboard:
    """Three aggregate queries, whatever the data size."""
    rounds = round_rows(filters, on)
    partnerships = partnership_rows(filters)
    return Dashboard(filters=filters, rounds=rounds, partnerships=partnerships,
                     issue_types=issue_type_rows(filters), total=total(rounds))


# --- export rows -------------------------------------------------------------------------------


def _bids(filters: Filters) -> Select:
    return (select(Bid.reference.label("reference"), Bid.title.label("title"),
                   Organisation.name.label("partnership"), Fund.code.label("fund"),
                   Round.name.label("round"), Round.financial_year.label("financial_year"),
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
                   Round.name.label("round"), assessor.name.label("assessor"),
                   Assignment.assigned_at.label("assigned_at"),
                   Assignment.conflict.label("conflict"), Assignment.status.label("status"),
                   Assignment.recommendation.label("recommendation"),
                   Assignment.weighted_basis_points.label("score_basis_points"),
                   Assignment.submitted_at.label("submitted_at"))
            .join(Bid, Bid.id == Assignment.bid_id)
            .join(Round, Round.id == Bid.round_id).join(Fund, Fund.id == Round.fund_id)
            .join(Organisation, Organisation.id == Bid.organisation_id)
            .join(assessor, assessor.id == Assignment.assessor_id)
            .order_by(Bid.reference, assessor.name, Assignment.id))


def _awards(filters: Filters) -> Select:
    spent, returned = _spent(), _returned()
    return (select(Bid.reference.label("reference"),
                   Decision.reference.label("decision_reference"), Bid.title.label("title"),
                   Organisation.name.label("partnership"), Fund.code.label("fund"),
                   Round.name.label("round"), Round.financial_year.label("financial_year"),
                   Award.status.label("status"), Award.amount_pence.label("amount_pence"),
                   Award.paid_pence.label("paid_pence"),
                   func.coalesce(spent.c.spent, 0).label("spent_pence"),
                   func.coalesce(returned.c.returned, 0).label("returned_pence"),
                   Award.start_date.label("start_date"), Award.end_date.label("end_date"),
                   Award.offered_at.label("offered_at"), Award.accepted_at.label("accepted_at"),
                   Award.closed_at.label("closed_at"))
            .join(Bid, Bid.id == Award.bid_id).join(Decision, Decision.id == Award.decision_id)
            .join(Round, Round.id == Award.round_id).join(Fund, Fund.id == Round.fund_id)
            .join(Organisation, Organisation.id == Award.organisation_id)
            .outerjoin(spent, spent.c.award_id == Award.id)
            .outerjoin(returned, returned.c.award_id == Award.id)
            .order_by(Bid.reference))


def _payments(filters: Filters) -> Select:
    return (select(Bid.reference.label("award_reference"),
                   Organisation.name.label("partnership"), Fund.code.label("fund"),
                   Round.name.label("round"), Payment.paid_on.label("paid_on"),
                   Payment.amount_pence.label("amount_pence"),
                   Payment.reference.label("payment_reference"),
                   Payment.recorded_at.label("recorded_at"))
            .join(Award, Award.id == Payment.award_id).join(Bid, Bid.id == Award.bid_id)
            .join(Round, Round.id == Award.round_id).join(Fund, Fund.id == Round.fund_id)
            .join(Organisation, Organisation.id == Award.organisation_id)
            .order_by(Payment.paid_on, Payment.id))


def _returns(filters: Filters) -> Select:
    on = today()
    spend = (select(ReturnLine.return_id.label("return_id"),
                    func.sum(ReturnLine.spend_pence).label("spend"))
             .group_by(ReturnLine.return_id).subquery("spend"))
    state = case((GrantReturn.status == ReturnStatus.APPROVED, literal("approved")),
                 (GrantReturn.status == ReturnStatus.SUBMITTED, literal("received")),
                 (GrantReturn.status == ReturnStatus.QUERIED, literal("queried")),
                 (GrantReturn.due_date < on, literal("overdue")), else_=literal("due"))
    return (select(Bid.reference.label("award_reference"),
                   Organisation.name.label("partnership"), Fund.code.label("fund"),
                   Round.name.label("round"), GrantReturn.kind.label("kind"),
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
    for row in result:
        yield row._mapping
