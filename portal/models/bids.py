from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, utcnow
from portal.db import enum_column as _enum

if TYPE_CHECKING:
    from portal.models.forms import FormVersion
    from portal.models.funds import Round
    from portal.models.organisations import Organisation
    from portal.models.plans import PlanSection
    from portal.models.users import User


class BidStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    MORE_INFORMATION_REQUESTED = "more_information_requested"
    IN_ASSESSMENT = "in_assessment"
    AWARDED = "awarded"
    NOT_FUNDED = "not_funded"
    WITHDRAWN = "withdrawn"


class SectionStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class CostKind(enum.StrEnum):
    CAPITAL = "capital"
    REVENUE = "revenue"



class Bid(Base):
    """A CSP's bid to a round. Its answers live in sections; a few are copied here
    (title, dates, issue types, amount) for lists, ranking and open data."""

    __tablename__ = "bids"
    __table_args__ = (
        CheckConstraint("amount_requested_pence >= 0", name="amount_not_negative"),
        CheckConstraint("match_funding_pence >= 0", name="match_not_negative"),
        # A partnership's dashboard: its bids, most recently changed first.
        Index("ix_bids_organisation_updated", "organisation_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    # The version of its round's form it is answered on (issue 15); None for a direct award's
    # bid, which has no form.
    form_version_id: Mapped[int | None] = mapped_column(ForeignKey("form_versions.id"),
                                                        index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[BidStatus] = mapped_column(_enum(BidStatus, "bid_status"),
                                              default=BidStatus.DRAFT, index=True)
    # Given on submission, e.g. SCF-2026-0007.
    reference: Mapped[str | None] = mapped_column(String(30), unique=True)
    # A one-time token from the "start a bid" form: a form posted twice makes one bid.
    creation_token: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str | None] = mapped_column(String(120))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    issue_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    amount_requested_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    match_funding_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    # Where an answered request for more information returns the bid to.
    status_before_request: Mapped[BidStatus | None] = mapped_column(
        _enum(BidStatus, "bid_status_before_request"))

    round: Mapped[Round] = relationship(lazy="joined")
    form_version: Mapped[FormVersion | None] = relationship()
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    created_by: Mapped[User] = relationship()
    sections: Mapped[list[BidSection]] = relationship(
        back_populates="bid", cascade="all, delete-orphan", order_by="BidSection.key")
    budget_lines: Mapped[list[BudgetLine]] = relationship(
        back_populates="bid", cascade="all, delete-orphan", order_by="BudgetLine.position")
    outcomes: Mapped[list[OutcomeMeasure]] = relationship(
        back_populates="bid", cascade="all, delete-orphan", order_by="OutcomeMeasure.position")
    evidence: Mapped[list[EvidenceFile]] = relationship(
        back_populates="bid", cascade="all, delete-orphan", order_by="EvidenceFile.id")
    # The sections of the Police and Crime Plan the bid says it supports (issue 18).
    plan_sections: Mapped[list[PlanSection]] = relationship(
        secondary="bid_plan_sections", order_by="PlanSection.position, PlanSection.id")
    information_requests: Mapped[list[InformationRequest]] = relationship(
        back_populates="bid", cascade="all, delete-orphan", order_by="InformationRequest.id")

    def section(self, key: str) -> BidSection | None:
        return next((s for s in self.sections if s.key == key), None)


class BidSection(Base):
    """One task-list section's answers, saved on its own, with a version that detects
    a save made from a stale copy."""

    __tablename__ = "bid_sections"

    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id", ondelete="CASCADE"),
                                        primary_key=True)
    key: Mapped[str] = mapped_column(String(30), primary_key=True)
    status: Mapped[SectionStatus] = mapped_column(_enum(SectionStatus, "section_status"),
                                                  default=SectionStatus.IN_PROGRESS)
    version: Mapped[int] = mapped_column(Integer, default=1)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    bid: Mapped[Bid] = relationship(back_populates="sections")
    updated_by: Mapped[User | None] = relationship()


class BudgetLine(Base):
    __tablename__ = "budget_lines"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        UniqueConstraint("bid_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CostKind] = mapped_column(_enum(CostKind, "cost_kind"))
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    # The amount for each financial year, pence by starting year as text ({"2022": 4500000,
    # ...}); they add up to ``amount_pence``. A line of a one-year round has its one year.
    year_amounts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict,
                                                          server_default="{}")

    bid: Mapped[Bid] = relationship(back_populates="budget_lines")


class OutcomeMeasure(Base):
    __tablename__ = "outcome_measures"
    __table_args__ = (
        CheckConstraint("target >= 0", name="target_not_negative"),
        UniqueConstraint("bid_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    measure: Mapped[str] = mapped_column(String(200))
    target: Mapped[int] = mapped_column(Integer)
    how_measured: Mapped[str] = mapped_column(String(500))

    bid: Mapped[Bid] = relationship(back_populates="outcomes")


class EvidenceFile(Base):
    """An attachment, stored outside the static folder under a generated name."""

    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id", ondelete="CASCADE"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(200), default="")
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    bid: Mapped[Bid] = relationship(back_populates="evidence")
    uploaded_by: Mapped[User] = relationship()


class InformationRequest(Base):
    """A question from the OPCC about a bid, and the CSP's answer."""

    __tablename__ = "information_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(Text)
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    respond_by: Mapped[date | None] = mapped_column(Date)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None]

    bid: Mapped[Bid] = relationship(back_populates="information_requests")
    asked_by: Mapped[User] = relationship(foreign_keys=[asked_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])


class ReferenceCounter(Base):
    """The last number given per reference prefix (e.g. SCF-2026): references never repeat."""

    __tablename__ = "reference_counters"

    prefix: Mapped[str] = mapped_column(String(30), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
