"""The Police and Crime Plan (issue 18): which plan is in force, and its sections.

Reads here are what every other part uses (bids, decisions, direct awards, reports, open
data); the grants manager's changes to plans and sections are added below them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.db import session
from portal.models import Plan, PlanSection


def plan_in_force(on: date) -> Plan | None:
    """The plan in force on the UK date ``on``: the one with the latest ``in_force_from`` on
    or before it; None before the first plan."""
    return session.scalar(select(Plan).where(Plan.in_force_from <= on)
                          .order_by(Plan.in_force_from.desc()).limit(1))


def sections_in_force(on: date) -> list[PlanSection]:
    """The sections of the plan in force on ``on``, in the plan's order; [] if none."""
    plan = plan_in_force(on)
    if plan is None:
        return []
    return list(session.scalars(select(PlanSection).where(PlanSection.plan_id == plan.id)
                                .order_by(PlanSection.position, PlanSection.id)))
