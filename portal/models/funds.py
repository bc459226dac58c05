from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, enum_column, utcnow


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

    id: Mapped[int] = mapped_column(primary_key=True)
    # Short code used in bid references, e.g. SCF-2026-0007.
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    purpose: Mapped[str] = mapped_column(Text)
    is_youth: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whether projects may run beyond the round's financial year.
    allows_multi_year: Mapped[bool] = mapped_column(Boolean, default=False)
    payment_rule: Mapped[PaymentRule] = mapped_column(enum_column(PaymentRule, "payment_rule", 20),
                                                      default=PaymentRule.ADVANCE)
    terms: Mapped[str] = mapped_column(Text, default="")
    # The final return is due this many weeks after the project ends.
    final_return_weeks: Mapped[int] = mapped_column(Integer, default=6, server_default="6")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rounds: Mapped[list[Round]] = relationship(back_populates="fund", order_by="Round.opens_at")


class Round(Base):
    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint("budget_pence >= 0", name="budget_not_negative"),
        CheckConstraint("cap_pence IS NULL OR cap_pence > 0", name="cap_positive"),
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        CheckConstraint("committed_pence >= 0 AND committed_pence <= budget_pence",
                        name="committed_within_budget"),
        UniqueConstraint("fund_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The financial year the round funds, by its starting year: 2026 means 2026/27.
    financial_year: Mapped[int] = mapped_column(Integer)
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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    fund: Mapped[Fund] = relationship(back_populates="rounds", lazy="joined")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="round", order_by="Criterion.position", cascade="all, delete-orphan"
    )

    @property
    def financial_year_label(self) -> str:
        return f"{self.financial_year}/{(self.financial_year + 1) % 100:02d}"

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
    weight: Mapped[int] = mapped_column(Integer)  # per cent; a round's weights sum to 100
    scale_min: Mapped[int] = mapped_column(Integer, default=0)
    scale_max: Mapped[int] = mapped_column(Integer, default=5)
    # Descriptor per score, keyed by the score as text: {"0": "No evidence", ...}.
    descriptors: Mapped[dict[str, str]] = mapped_column(JSON, default=lambda: dict(DEFAULT_SCALE))

    round: Mapped[Round] = relationship(back_populates="criteria")
