from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import has_app_context
from flask_babel import gettext
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.db import Base, enum_column, utcnow

if TYPE_CHECKING:
    from portal.models.plans import PlanSection

# Where a Welsh name is given: the Welsh names must differ only there (an empty one, the
# English shown instead, may be shared).
WELSH_GIVEN = "name_cy <> ''"


class ReturnCadence(enum.StrEnum):
    SIX_MONTHLY = "six_monthly"  # April-September and October-March
    QUARTERLY = "quarterly"
    ANNUAL = "annual"
    FINAL_ONLY = "final_only"


class PaymentRule(enum.StrEnum):
    ADVANCE = "advance"  # paid in full on acceptance
    ARREARS = "arrears"  # paid on an accepted return
    INSTALMENTS = "instalments"



class Fund(Base):
    __tablename__ = "funds"
    __table_args__ = (
        # Two funds may not share a Welsh name (the English one has its unique constraint):
        # checked by the service, and here for two managers saving at once.
        Index("uq_funds_name_cy", "name_cy", unique=True, postgresql_where=text(WELSH_GIVEN),
              sqlite_where=text(WELSH_GIVEN)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Short code used in bid references, e.g. SCF-2026-0007.
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    purpose: Mapped[str] = mapped_column(Text)
    # Welsh of what the OPCC types for applicants and the public (issue 16; the Welsh Language
    # Standards): empty when not given, and a Welsh reader then sees the English, marked
    # lang="en" (``portal.bilingual``).
    name_cy: Mapped[str] = mapped_column(String(200), default="", server_default="")
    purpose_cy: Mapped[str] = mapped_column(Text, default="", server_default="")
    is_youth: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whether projects may run beyond the round's financial year.
    allows_multi_year: Mapped[bool] = mapped_column(Boolean, default=False)
    # A fund of direct awards (issue 14): the Commissioner decides without a competition (a
    # partnership's yearly allocation, a three-year agreement). Its rounds are budgets that are
    # never open to bids; the grants manager makes each award from one of them.
    direct: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    payment_rule: Mapped[PaymentRule] = mapped_column(enum_column(PaymentRule, "payment_rule", 20),
                                                      default=PaymentRule.ADVANCE)
    terms: Mapped[str] = mapped_column(Text, default="")
    terms_cy: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The final return is due this many weeks after the project ends.
    final_return_weeks: Mapped[int] = mapped_column(Integer, default=6, server_default="6")
    # The section of the Police and Crime Plan its grants support unless a bid says
    # otherwise (issue 18).
    plan_section_id: Mapped[int | None] = mapped_column(ForeignKey("plan_sections.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rounds: Mapped[list[Round]] = relationship(back_populates="fund", order_by="Round.opens_at")
    plan_section: Mapped[PlanSection | None] = relationship()


class Round(Base):
    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint("budget_pence >= 0", name="budget_not_negative"),
        CheckConstraint("cap_pence IS NULL OR cap_pence > 0", name="cap_positive"),
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        CheckConstraint("committed_pence >= 0 AND committed_pence <= budget_pence",
                        name="committed_within_budget"),
        UniqueConstraint("fund_id", "name"),
        Index("uq_rounds_fund_id_name_cy", "fund_id", "name_cy", unique=True,
              postgresql_where=text(WELSH_GIVEN), sqlite_where=text(WELSH_GIVEN)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The financial year the round funds, by its starting year: 2026 means 2026/27; a round
    # over several years (issue 14: Putting Communities First ran 2022/23 to 2024/25) funds
    # ``years`` financial years from it, each with its own budget (``year_budgets``).
    financial_year: Mapped[int] = mapped_column(Integer)
    years: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    budget_pence: Mapped[int] = mapped_column(BigInteger)
    cap_pence: Mapped[int | None] = mapped_column(BigInteger)
    # Sum of approved awards; the database refuses any total above the budget.
    committed_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    # Submitted assessments a bid needs before it is decided: None means every assessor
    # assigned (and not conflicted); otherwise at least this many.
    required_assessments: Mapped[int | None] = mapped_column(Integer)
    eligible_organisation_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    return_cadence: Mapped[ReturnCadence] = mapped_column(
        enum_column(ReturnCadence, "return_cadence", 20), default=ReturnCadence.SIX_MONTHLY
    )
    guidance: Mapped[str] = mapped_column(Text, default="")
    # Welsh of the name and guidance (issue 16): empty when not given.
    name_cy: Mapped[str] = mapped_column(String(200), default="", server_default="")
    guidance_cy: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    fund: Mapped[Fund] = relationship(back_populates="rounds", lazy="joined")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="round", order_by="Criterion.position", cascade="all, delete-orphan"
    )
    year_budgets: Mapped[list[RoundYear]] = relationship(
        back_populates="round", order_by="RoundYear.financial_year",
        cascade="all, delete-orphan")

    @property
    def financial_year_label(self) -> str:
        """``2022/23``, or ``2022/23 to 2024/25`` for a round over several years."""
        return years_label(self.financial_year, self.years)

    @property
    def last_financial_year(self) -> int:
        return self.financial_year + (self.years or 1) - 1

    @property
    def financial_years(self) -> list[int]:
        """The financial years the round funds, by starting year: [2022, 2023, 2024]."""
        return list(range(self.financial_year, self.last_financial_year + 1))

    @property
    def remaining_pence(self) -> int:
        return self.budget_pence - self.committed_pence


def year_label(year: int) -> str:
    """A financial year by its starting year, as users write it: 2022 -> ``2022/23``."""
    return f"{year}/{(year + 1) % 100:02d}"


def years_label(first: int, count: int | None) -> str:
    """``count`` financial years from ``first`` as users write them: ``2022/23`` for one,
    ``2022/23 to 2024/25`` for three."""
    count = int(count or 1)
    if count <= 1:
        return year_label(first)
    start, end = year_label(first), year_label(first + count - 1)
    if has_app_context():  # in the reader's language ("2022/23 i 2024/25"; issue 16)
        return gettext("%(start)s to %(end)s", start=start, end=end)
    return f"{start} to {end}"


class RoundYear(Base):
    """One financial year of a round: its budget (pence), the awards committed against it and,
    if set, the most one bid may have in that year. A round's ``budget_pence`` and
    ``committed_pence`` are the sums of its years (issue 14: "its pot is committed and
    reported per financial year and in total"); the database refuses a year committed beyond
    its budget, as it does the round."""

    __tablename__ = "round_years"
    __table_args__ = (
        CheckConstraint("budget_pence >= 0", name="budget_not_negative"),
        CheckConstraint("cap_pence IS NULL OR cap_pence > 0", name="cap_positive"),
        CheckConstraint("committed_pence >= 0 AND committed_pence <= budget_pence",
                        name="committed_within_budget"),
    )

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"),
                                          primary_key=True)
    financial_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    budget_pence: Mapped[int] = mapped_column(BigInteger)
    committed_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    cap_pence: Mapped[int | None] = mapped_column(BigInteger)

    round: Mapped[Round] = relationship(back_populates="year_budgets")

    @property
    def label(self) -> str:
        return year_label(self.financial_year)

    @property
    def remaining_pence(self) -> int:
        return self.budget_pence - self.committed_pence


DEFAULT_SCALE = {
    "0": "No evidence",
    "1": "Poor",
    "2": "Partial",
    "3": "Satisfactory",
    "4": "Good",
    "5": "Strong",
}


class Criterion(Base):
    __tablename__ = "criteria"
    __table_args__ = (
        CheckConstraint("weight > 0 AND weight <= 100", name="weight_range"),
        CheckConstraint("scale_max > scale_min", name="scale_order"),
        UniqueConstraint("round_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    guidance: Mapped[str] = mapped_column(Text, default="")
    # Welsh of the title and guidance applicants read (issue 16): empty when not given.
    title_cy: Mapped[str] = mapped_column(String(200), default="", server_default="")
    guidance_cy: Mapped[str] = mapped_column(Text, default="", server_default="")
    weight: Mapped[int] = mapped_column(Integer)  # per cent; a round's weights sum to 100
    scale_min: Mapped[int] = mapped_column(Integer, default=0)
    scale_max: Mapped[int] = mapped_column(Integer, default=5)
    # Descriptor per score, keyed by the score as text: {"0": "No evidence", ...}.
    descriptors: Mapped[dict[str, str]] = mapped_column(JSON, default=lambda: dict(DEFAULT_SCALE))
    # The keys of the application form's sections it scores (issue 15): the assessor sees
    # their answers beside the score.
    sections: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")

    round: Mapped[Round] = relationship(back_populates="criteria")


@event.listens_for(Session, "before_flush")
def keep_single_year(flushing: Session, _context: Any, _instances: Any) -> None:
    """Before a flush: every round of one year has exactly one ``RoundYear``, its own year
    with its budget, cap and committed total (what the guarded UPDATEs of :func:`commit` keep
    in step afterwards). A round over several years keeps the years its setup gave it."""
    for record in list(flushing.new) + list(flushing.dirty):
        if not isinstance(record, Round) or (record.years or 1) != 1:
            continue
        if record.financial_year is None or record.budget_pence is None:
            continue
        rows = list(record.year_budgets)
        if len(rows) == 1 and rows[0].financial_year == record.financial_year:
            row = rows[0]
        else:
            for extra in rows:
                record.year_budgets.remove(extra)
            row = RoundYear(financial_year=record.financial_year)
            record.year_budgets.append(row)
        row.budget_pence = record.budget_pence
        row.cap_pence = record.cap_pence
        row.committed_pence = record.committed_pence or 0
