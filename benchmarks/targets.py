"""What the load runs request, and as whom: chosen from the seeded data, heaviest first
(the partnership with the most bids, the assessor with the most assignments, the open
round with the most bids waiting for a decision)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, Engine, func, select

from portal.models import Assignment, Bid, BidStatus, Round, User, UserRole

RANKABLE = [BidStatus.SUBMITTED, BidStatus.IN_ASSESSMENT, BidStatus.MORE_INFORMATION_REQUESTED]


@dataclass
class Target:
    key: str
    name: str
    paths: list[str]
    email: str | None  # None: not signed in
    kind: str = "page"  # page | export | reference
    note: str = ""
    figures: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        more = len(self.paths) - 1
        return self.paths[0] if not more else f"{self.paths[0]} (+{more} more)"


def financial_year(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def _email(connection: Connection, role: str, organisation_id: int | None = None) -> str:
    statement = (select(User.email).join(UserRole, UserRole.user_id == User.id)
                 .where(UserRole.role == role).order_by(User.id).limit(1))
    if organisation_id is not None:
        statement = statement.where(User.organisation_id == organisation_id)
    return connection.scalar(statement)


def choose(engine: Engine, today: date) -> list[Target]:
    year = financial_year(today)
    with engine.connect() as connection:
        organisation_id, bid_count = connection.execute(
            select(Bid.organisation_id, func.count()).group_by(Bid.organisation_id)
            .order_by(func.count().desc(), Bid.organisation_id).limit(1)).one()
        officer = _email(connection, "officer", organisation_id)
        # The bids the officer sees first on the dashboard: the 20 changed most recently.
        bid_ids = list(connection.scalars(
            select(Bid.id).where(Bid.organisation_id == organisation_id)
            .order_by(Bid.updated_at.desc(), Bid.id.desc()).limit(20)))
        assessor_id, assigned = connection.execute(
            select(Assignment.assessor_id, func.count()).group_by(Assignment.assessor_id)
            .order_by(func.count().desc(), Assignment.assessor_id).limit(1)).one()
        assessor = connection.scalar(select(User.email).where(User.id == assessor_id))
        round_id, waiting = connection.execute(
            select(Bid.round_id, func.count()).join(Round, Round.id == Bid.round_id)
            .where(Round.financial_year == year, Bid.status.in_(RANKABLE))
            .group_by(Bid.round_id).order_by(func.count().desc(), Bid.round_id).limit(1)).one()
        manager = _email(connection, "manager")
        finance = _email(connection, "finance")
    return [
        # The floor: a page that shows nothing from the database, as anyone and signed in
        # (the signed-in user, their roles, the session and the page frame cost this much).
        Target("empty", "Empty page (privacy notice)", ["/privacy"], None,
               note="no sign-in: the page frame alone"),
        Target("empty_signed_in", "Empty page, signed in", ["/privacy"], officer,
               note="signed in: the user and roles, session cookie, CSRF token, page frame"),
        Target("dashboard", "CSP dashboard", ["/bids/"], officer,
               note=f"officer of the partnership with the most bids ({bid_count})"),
        Target("bid", "Bid page", [f"/bids/{i}" for i in bid_ids], officer,
               note=f"its officer; the {len(bid_ids)} bids changed most recently, in turn"),
        Target("assess", "Assessor queue", ["/assess/"], assessor,
               note=f"the assessor with the most assignments ({assigned})"),
        Target("ranking", "Ranking", [f"/manage/rounds/{round_id}/ranking"], manager,
               note=f"the open round with the most bids awaiting a decision ({waiting})"),
        Target("finance", "Finance returns queue", ["/finance/"], finance),
        Target("reports", "Round dashboard", ["/reports/"], manager,
               note=f"financial year {year}/{(year + 1) % 100:02d}, every fund"),
        Target("transparency", "Public register", ["/transparency"], None),
        Target("giving360", "360Giving JSON export", ["/transparency/360giving.json"], None,
               kind="export", note="every published grant"),
        Target("bids_csv", "Bids CSV export", [f"/reports/export/bids.csv?year={year}"],
               manager, kind="export", note="the whole financial year, every fund"),
        Target("returns_csv", "Returns CSV export, every year",
               ["/reports/export/returns.csv?year=all"], finance, kind="export",
               note="every return of every year (40,000 at full scale)"),
        Target("ranking_csv", "Ranking CSV export", [f"/manage/rounds/{round_id}/ranking.csv"],
               manager, kind="export"),
        Target("reference", "Reference (25 rows, SQLAlchemy + Jinja)",
               [f"/reference?organisation={organisation_id}"], None, kind="reference"),
    ]
