from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, utcnow
from portal.db import enum_column as _enum

if TYPE_CHECKING:
    from portal.models.bids import Bid
    from portal.models.funds import Criterion
    from portal.models.users import User



class ConflictStatus(enum.StrEnum):
    UNDECLARED = "undeclared"
    NONE = "none"
    CONFLICTED = "conflicted"


class AssessmentStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    DRAFT = "draft"
    SUBMITTED = "submitted"


class Recommendation(enum.StrEnum):
    FUND = "fund"
    FUND_WITH_CONDITIONS = "fund_with_conditions"
    DO_NOT_FUND = "do_not_fund"


class DecisionOutcome(enum.StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"


class Assignment(Base):
    """An assessor asked to assess a bid: their conflict declaration and their assessment."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("bid_id", "assessor_id"),
        # An assessor's queue: by status, oldest assignment first.
        Index("ix_assignments_queue", "assessor_id", "status", "assigned_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id", ondelete="CASCADE"), index=True)
    assessor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    conflict: Mapped[ConflictStatus] = mapped_column(_enum(ConflictStatus, "conflict_status"),
                                                     default=ConflictStatus.UNDECLARED)
    conflict_reason: Mapped[str | None] = mapped_column(Text)
    declared_at: Mapped[datetime | None]
    status: Mapped[AssessmentStatus] = mapped_column(
        _enum(AssessmentStatus, "assessment_status"), default=AssessmentStatus.NOT_STARTED)
    recommendation: Mapped[Recommendation | None] = mapped_column(
        _enum(Recommendation, "recommendation"))
    comments: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    # Sum over criteria of score * weight / scale_max: a percentage times 100 (basis points).
    weighted_basis_points: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)

    bid: Mapped[Bid] = relationship()
    assessor: Mapped[User] = relationship(foreign_keys=[assessor_id], lazy="joined")
    assigned_by: Mapped[User] = relationship(foreign_keys=[assigned_by_id])
    scores: Mapped[list[Score]] = relationship(back_populates="assignment",
                                               cascade="all, delete-orphan")


class Score(Base):
    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("assignment_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"), index=True)
    score: Mapped[int | None] = mapped_column(Integer)
    justification: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    assignment: Mapped[Assignment] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()


class Moderation(Base):
    """The grants manager's moderated score of a bid, with the rationale."""

    __tablename__ = "moderations"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id", ondelete="CASCADE"), unique=True)
    moderated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    moderated_at: Mapped[datetime] = mapped_column(default=utcnow)
    rationale: Mapped[str] = mapped_column(Text)
    weighted_basis_points: Mapped[int] = mapped_column(Integer)

    bid: Mapped[Bid] = relationship()
    moderated_by: Mapped[User] = relationship()
    scores: Mapped[list[ModeratedScore]] = relationship(back_populates="moderation",
                                                        cascade="all, delete-orphan")


class ModeratedScore(Base):
    __tablename__ = "moderated_scores"
    __table_args__ = (UniqueConstraint("moderation_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    moderation_id: Mapped[int] = mapped_column(ForeignKey("moderations.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    score: Mapped[int] = mapped_column(Integer)

    moderation: Mapped[Moderation] = relationship(back_populates="scores")


class Decision(Base):
    """The decision on a bid, with what the law asks a Commissioner to publish."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint("amount_pence >= 0", name="amount_not_negative"),
        # The public register: approved decisions, newest first, and their count.
        Index("ix_decisions_published", "decision_date", "id",
              postgresql_where=text("outcome = 'approved'"),
              sqlite_where=text("outcome = 'approved'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), unique=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    outcome: Mapped[DecisionOutcome] = mapped_column(_enum(DecisionOutcome, "decision_outcome"))
    amount_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    purpose: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    crime_reduction_reasons: Mapped[str] = mapped_column(Text, default="")
    feedback: Mapped[str] = mapped_column(Text, default="")
    # Why the manager decided before the round's required assessments were in (empty when
    # they were): shown on the decision page, in the audit trail and in the exports.
    override_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    decision_date: Mapped[date] = mapped_column(Date)

    bid: Mapped[Bid] = relationship()
    decided_by: Mapped[User] = relationship()
