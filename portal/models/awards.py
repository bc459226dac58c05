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
    and_,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from portal.db import Base, utcnow
from portal.db import enum_column as _enum
from portal.models.bids import CostKind

if TYPE_CHECKING:
    from portal.models.assessments import Decision
    from portal.models.bids import Bid, OutcomeMeasure
    from portal.models.funds import Round
    from portal.models.organisations import Organisation
    from portal.models.plans import PlanSection
    from portal.models.users import User



class AwardStatus(enum.StrEnum):
    OFFERED = "offered"
    ACTIVE = "active"
    CLOSED = "closed"


class ReturnKind(enum.StrEnum):
    PERIODIC = "periodic"
    FINAL = "final"


class ReturnStatus(enum.StrEnum):
    DUE = "due"
    DRAFT = "draft"
    SUBMITTED = "submitted"
    QUERIED = "queried"
    APPROVED = "approved"


# Returns the partnership has not sent yet. A queried return was sent and is waiting to be
# sent again: it is "queried" (counted apart on the dashboard), never "overdue".
AWAITED_RETURN = (ReturnStatus.DUE, ReturnStatus.DRAFT)


def return_overdue(status: ReturnStatus | str, due_date: date, on: date) -> bool:
    """The overdue rule, in Python: not sent yet (due or a draft) and due before ``on``. A
    return due on ``on`` itself is still due. :meth:`GrantReturn.is_overdue` is the same rule
    for a loaded return and, on the class, in SQL; this form serves rows of selected columns."""
    return status in AWAITED_RETURN and due_date < on


class Rag(enum.StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    CLOSED = "closed"


class VariationKind(enum.StrEnum):
    REALLOCATION = "reallocation"
    EXTENSION = "extension"
    # Money of one financial year moved to a later one of the award (issue 14): without an
    # approved carry-forward, what a year leaves unspent is underspend.
    CARRY_FORWARD = "carry_forward"


class VariationStatus(enum.StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DECLINED = "declined"


class RepaymentStatus(enum.StrEnum):
    AWAITED = "awaited"
    RECEIVED = "received"


class Award(Base):
    """An approved bid: first an offer, then (accepted) an active grant, finally closed."""

    __tablename__ = "awards"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint("paid_pence >= 0 AND paid_pence <= amount_pence", name="paid_within_award"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), unique=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), unique=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[AwardStatus] = mapped_column(_enum(AwardStatus, "award_status"),
                                                default=AwardStatus.OFFERED, index=True)
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    # Payments recorded so far; the database refuses any total above the award.
    paid_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The language of the offer letter ("en" or "cy"): the partnership's when the offer was
    # made, kept so the letter offered and accepted stays the one it was (issue 16). None
    # for offers made before: their letter follows the partnership's language.
    letter_language: Mapped[str | None] = mapped_column(String(10))
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accepted_name: Mapped[str | None] = mapped_column(String(200))
    accepted_role: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[datetime | None]
    # Payments planned per financial year, pence by starting year as text ({"2022": 4500000});
    # a payment is never recorded ahead of the years planned so far (issue 14).
    payment_plan: Mapped[dict[str, int]] = mapped_column(JSON, default=dict,
                                                          server_default="{}")
    # The section of the Police and Crime Plan the grant is listed under for the board
    # (issue 18): chosen at the decision (or the direct award), kept when a new plan starts.
    plan_section_id: Mapped[int | None] = mapped_column(ForeignKey("plan_sections.id"),
                                                        index=True)

    bid: Mapped[Bid] = relationship(lazy="joined")
    decision: Mapped[Decision] = relationship()
    round: Mapped[Round] = relationship()
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    accepted_by: Mapped[User | None] = relationship()
    plan_section: Mapped[PlanSection | None] = relationship()
    lines: Mapped[list[AwardLine]] = relationship(back_populates="award",
                                                  cascade="all, delete-orphan",
                                                  order_by="AwardLine.position")
    payments: Mapped[list[Payment]] = relationship(back_populates="award",
                                                   cascade="all, delete-orphan",
                                                   order_by="Payment.paid_on")
    returns: Mapped[list[GrantReturn]] = relationship(back_populates="award",
                                                      cascade="all, delete-orphan",
                                                      order_by="GrantReturn.due_date")
    variations: Mapped[list[Variation]] = relationship(back_populates="award",
                                                       cascade="all, delete-orphan",
                                                       order_by="Variation.id")
    repayments: Mapped[list[Repayment]] = relationship(back_populates="award",
                                                       cascade="all, delete-orphan")
    actions: Mapped[list[AwardAction]] = relationship(back_populates="award",
                                                      cascade="all, delete-orphan",
                                                      order_by="AwardAction.position")


class AwardLine(Base):
    """An approved budget line: the original allocation and the revised one after variations."""

    __tablename__ = "award_lines"
    __table_args__ = (
        CheckConstraint("original_pence >= 0", name="original_not_negative"),
        CheckConstraint("revised_pence >= 0", name="revised_not_negative"),
        UniqueConstraint("award_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CostKind] = mapped_column(_enum(CostKind, "award_line_kind"))
    original_pence: Mapped[int] = mapped_column(BigInteger)
    revised_pence: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    # Per financial year, pence by starting year as text; each adds up to its total above.
    original_years: Mapped[dict[str, int]] = mapped_column(JSON, default=dict,
                                                            server_default="{}")
    revised_years: Mapped[dict[str, int]] = mapped_column(JSON, default=dict,
                                                           server_default="{}")
    # The action plan's actions the line relates to, by number ("1.1", "1.5"): seed 001,
    # the budget table's "Relates to Actions".
    action_numbers: Mapped[list[str]] = mapped_column(JSON, default=list,
                                                        server_default="[]")

    award: Mapped[Award] = relationship(back_populates="lines")


class AwardAction(Base):
    """An action of a partnership's action plan held by its award (seed 001: numbered actions
    with a lead and a target date, reported GREEN, AMBER, RED or CLOSED in each return)."""

    __tablename__ = "award_actions"
    __table_args__ = (
        UniqueConstraint("award_id", "number"),
        UniqueConstraint("award_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"),
                                          index=True)
    position: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(500))
    lead: Mapped[str] = mapped_column(String(200), default="")
    target_date: Mapped[date | None] = mapped_column(Date)

    award: Mapped[Award] = relationship(back_populates="actions")


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        # The same payment posted twice (a double click, two finance officers at once) is
        # refused by the database, whatever the code before it missed.
        UniqueConstraint("award_id", "reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"),
                                          index=True)
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    award: Mapped[Award] = relationship(back_populates="payments")
    recorded_by: Mapped[User] = relationship()


class GrantReturn(Base):
    """A spend and outcome return for one period of an award (or the final one)."""

    __tablename__ = "grant_returns"
    __table_args__ = (
        CheckConstraint("forecast_underspend_pence >= 0", name="underspend_not_negative"),
        UniqueConstraint("award_id", "period_start", "kind"),
        # Finance's queue: submitted returns, oldest first.
        Index("ix_grant_returns_status_submitted", "status", "submitted_at", "id"),
        # Returns still awaited, soonest due first.
        Index("ix_grant_returns_awaited", "due_date", "id",
              postgresql_where=text("status IN ('due', 'draft', 'queried')"),
              sqlite_where=text("status IN ('due', 'draft', 'queried')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"),
                                          index=True)
    kind: Mapped[ReturnKind] = mapped_column(_enum(ReturnKind, "return_kind"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[ReturnStatus] = mapped_column(_enum(ReturnStatus, "return_status"),
                                                 default=ReturnStatus.DUE)
    case_study: Mapped[str] = mapped_column(Text, default="")
    forecast_underspend_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The fund's return form it is answered on, and the answers to its questions by key
    # (issue 15); the spend per line and the outcomes stay in their own tables.
    form_version_id: Mapped[int | None] = mapped_column(ForeignKey("form_versions.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")

    award: Mapped[Award] = relationship(back_populates="returns")
    lines: Mapped[list[ReturnLine]] = relationship(back_populates="grant_return",
                                                   cascade="all, delete-orphan")
    outcomes: Mapped[list[ReturnOutcome]] = relationship(back_populates="grant_return",
                                                         cascade="all, delete-orphan")
    reviews: Mapped[list[ReturnReview]] = relationship(back_populates="grant_return",
                                                       cascade="all, delete-orphan",
                                                       order_by="ReturnReview.id")
    evidence: Mapped[list[ReturnEvidence]] = relationship(back_populates="grant_return",
                                                          cascade="all, delete-orphan")
    actions: Mapped[list[ReturnAction]] = relationship(back_populates="grant_return",
                                                       cascade="all, delete-orphan")

    @property
    def spend_pence(self) -> int:
        return sum(line.spend_pence for line in self.lines)

    @hybrid_method
    def is_overdue(self, on: date) -> bool:
        """Overdue on the day ``on`` (see :func:`return_overdue`). On the class it is the same
        rule as a SQL condition: ``select(...).where(GrantReturn.is_overdue(on))``."""
        return return_overdue(self.status, self.due_date, on)

    @is_overdue.expression
    @classmethod
    def _is_overdue_expression(cls, on: date) -> ColumnElement[bool]:
        # Keep in step with return_overdue (a test compares the two on every status and on
        # due dates either side of ``on``).
        return and_(cls.status.in_(AWAITED_RETURN), cls.due_date < on)


class ReturnLine(Base):
    __tablename__ = "return_lines"
    __table_args__ = (
        CheckConstraint("spend_pence >= 0", name="spend_not_negative"),
        UniqueConstraint("return_id", "award_line_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("grant_returns.id", ondelete="CASCADE"))
    award_line_id: Mapped[int] = mapped_column(ForeignKey("award_lines.id"))
    spend_pence: Mapped[int] = mapped_column(BigInteger)

    grant_return: Mapped[GrantReturn] = relationship(back_populates="lines")
    award_line: Mapped[AwardLine] = relationship()


class ReturnOutcome(Base):
    __tablename__ = "return_outcomes"
    __table_args__ = (UniqueConstraint("return_id", "outcome_measure_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("grant_returns.id", ondelete="CASCADE"))
    outcome_measure_id: Mapped[int] = mapped_column(ForeignKey("outcome_measures.id"))
    achieved: Mapped[int | None] = mapped_column(Integer)
    rag: Mapped[Rag | None] = mapped_column(_enum(Rag, "rag"))
    narrative: Mapped[str] = mapped_column(Text, default="")

    grant_return: Mapped[GrantReturn] = relationship(back_populates="outcomes")
    measure: Mapped[OutcomeMeasure] = relationship()


class ReturnAction(Base):
    """A return's report on one action of the award's action plan: its RAG status and
    narrative (seed 001)."""

    __tablename__ = "return_actions"
    __table_args__ = (UniqueConstraint("return_id", "action_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("grant_returns.id", ondelete="CASCADE"))
    action_id: Mapped[int] = mapped_column(ForeignKey("award_actions.id", ondelete="CASCADE"),
                                           index=True)
    rag: Mapped[Rag | None] = mapped_column(_enum(Rag, "return_action_rag"))
    narrative: Mapped[str] = mapped_column(Text, default="")

    grant_return: Mapped[GrantReturn] = relationship(back_populates="actions")
    action: Mapped[AwardAction] = relationship()


class ReturnEvidence(Base):
    __tablename__ = "return_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("grant_returns.id", ondelete="CASCADE"),
                                           index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    grant_return: Mapped[GrantReturn] = relationship(back_populates="evidence")


class ReturnReview(Base):
    """Finance's check of a return: approved, or queried with comments (kept as history)."""

    __tablename__ = "return_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("grant_returns.id", ondelete="CASCADE"),
                                           index=True)
    outcome: Mapped[str] = mapped_column(String(20))  # approved | queried | resubmitted
    comments: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    grant_return: Mapped[GrantReturn] = relationship(back_populates="reviews")
    by: Mapped[User] = relationship()


class Variation(Base):
    """A request to move money between budget lines or to extend the end date."""

    __tablename__ = "variations"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"),
                                          index=True)
    kind: Mapped[VariationKind] = mapped_column(_enum(VariationKind, "variation_kind"))
    status: Mapped[VariationStatus] = mapped_column(_enum(VariationStatus, "variation_status"),
                                                    default=VariationStatus.REQUESTED)
    reason: Mapped[str] = mapped_column(Text)
    # Reallocation: [{"from": line id, "to": line id or null, "new_item": str, "amount": pence}]
    moves: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    new_end_date: Mapped[date | None] = mapped_column(Date)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str] = mapped_column(Text, default="")

    award: Mapped[Award] = relationship(back_populates="variations")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class Repayment(Base):
    """Underspend (paid minus eligible spend) to be returned, tracked until received."""

    __tablename__ = "repayments"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        # Repayments still awaited, oldest request first.
        Index("ix_repayments_awaited", "requested_at", "id",
              postgresql_where=text("received_on IS NULL"),
              sqlite_where=text("received_on IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"),
                                          unique=True)
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[RepaymentStatus] = mapped_column(
        _enum(RepaymentStatus, "repayment_status", 20), default=RepaymentStatus.AWAITED,
        server_default=RepaymentStatus.AWAITED.value)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_on: Mapped[date | None] = mapped_column(Date)
    received_reference: Mapped[str | None] = mapped_column(String(100))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    award: Mapped[Award] = relationship(back_populates="repayments")


class ReminderSent(Base):
    """One row per reminder sent: the unique key makes a second send impossible."""

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("return_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("grant_returns.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # due_soon | overdue
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
