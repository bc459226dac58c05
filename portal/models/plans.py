"""The Police and Crime Plan and its sections (issue 18): what every grant must answer to.

A Commissioner's Police and Crime Plan (Police Reform and Social Responsibility Act 2011,
s.5) sets the objectives a crime and disorder reduction grant (s.9) serves; the OPCC reports
its grants to the board "aligned to the section of the Police and Crime Plan they support"
(seed 002, paragraph 5.1). A plan has a title and the financial years it covers, and is in
force from a date until the next plan's date; its sections have a short code and a name.
A new plan never changes an old one: grants keep the section they were given."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, utcnow


class Plan(Base):
    """One Police and Crime Plan: ``title`` (and its Welsh), the financial years it covers
    (``first_year``/``last_year``, each the year a financial year starts: 2021 is 2021/22),
    and ``in_force_from``, the UK date from which it replaces the plan before it."""

    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint("last_year >= first_year", name="years_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    title_cy: Mapped[str] = mapped_column(String(200), default="", server_default="")
    first_year: Mapped[int] = mapped_column(Integer)
    last_year: Mapped[int] = mapped_column(Integer)
    in_force_from: Mapped[date] = mapped_column(Date, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sections: Mapped[list[PlanSection]] = relationship(
        back_populates="plan", order_by="PlanSection.position, PlanSection.id")


class PlanSection(Base):
    """A section of a plan (e.g. code "PCF", "Putting Communities First"): what a fund, a
    bid and an award are aligned to. ``position`` orders the sections as the plan does."""

    __tablename__ = "plan_sections"
    __table_args__ = (
        UniqueConstraint("plan_id", "code"),
        UniqueConstraint("plan_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    name_cy: Mapped[str] = mapped_column(String(200), default="", server_default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    plan: Mapped[Plan] = relationship(back_populates="sections")


# The sections a bid says it supports (the applicant chooses one or more; issue 18).
bid_plan_sections = Table(
    "bid_plan_sections", Base.metadata,
    Column("bid_id", ForeignKey("bids.id", ondelete="CASCADE"), primary_key=True),
    Column("plan_section_id", ForeignKey("plan_sections.id"), primary_key=True, index=True),
)
