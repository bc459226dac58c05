"""Plans of the Police and Crime Plan made for tests (issue 18): a plan with its sections,
in force from a given UK date, and a fund's default section."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.db import session
from portal.models import Fund, Plan, PlanSection

SECTIONS = (("PCF", "Putting Communities First"), ("VIC", "Supporting victims"),
            ("ROAD", "Safer roads"))


def make_plan(in_force_from: date, sections: tuple[tuple[str, str], ...] = SECTIONS, *,
              title: str = "") -> dict[str, int]:
    """A plan in force from ``in_force_from`` with ``sections`` (code, name), added in the
    current app context and flushed; the sections' ids by code."""
    year = in_force_from.year if in_force_from.month > 3 else in_force_from.year - 1
    plan = Plan(title=title or f"Police and Crime Plan from {in_force_from.isoformat()}",
                first_year=year, last_year=year + 3, in_force_from=in_force_from)
    plan.sections = [PlanSection(code=code, name=name, position=position)
                     for position, (code, name) in enumerate(sections, start=1)]
    session.add(plan)
    session.flush()
    return {section.code: section.id for section in plan.sections}


def set_default(fund_code: str, section_id: int | None) -> None:
    """The fund's default section of the plan (``Fund.plan_section_id``)."""
    fund = session.scalar(select(Fund).where(Fund.code == fund_code))
    fund.plan_section_id = section_id
    session.flush()
