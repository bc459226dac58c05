"""Demo data: the Police and Crime Plans the demo's grants answer to (issue 18, point 5).

The demo holds three of the Commissioner's plans, each in force from the day its
Commissioner took office (the seventh day after the election) until the next one's:

- "Police and Crime Plan 2012–2016", from 22 November 2012 (the first Commissioner): the
  South Cambridgeshire CDRP's 2016/17 allocation, decided in April 2016, answers to it;
- "Police and Crime Plan 2021–2024", from 13 May 2021: Putting Communities First's
  three-year round and the Project Officer agreement, both decided in 2022, answer to it;
- "Police and Crime Plan 2024–2028", from 9 May 2024, in force today: the current rounds,
  last year's and every fund's default section are its own, so applicants see its sections.

A grant is aligned to the plan in force when its bid was sent (a direct award: when it was
decided), and keeps that section after a later plan starts, as the portal keeps it. Which
sections each demo grant supports is :data:`GRANT_SECTIONS` (the first is the one its award
is listed under for the board). Safe to run twice: a plan, section or alignment already
there is left as it is, and a database loaded before plans existed gets what it lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date

from sqlalchemy import select

from portal.db import UK, session
from portal.models import Award, Bid, Fund, Plan, PlanSection
from portal.services import plans

# (code, name, Welsh name)
SectionSpec = tuple[str, str, str]


@dataclass(frozen=True)
class PlanSpec:
    title: str
    title_cy: str
    first_year: int  # the financial years covered, each by its starting year
    last_year: int
    in_force_from: date
    sections: list[SectionSpec]


# The current plan's five sections; the 2021 plan had the same, the 2024 plan kept them.
SECTIONS_2021: list[SectionSpec] = [
    ("PCF", "Putting Communities First", "Rhoi Cymunedau’n Gyntaf"),
    ("VIC", "Supporting victims", "Cefnogi dioddefwyr"),
    ("KPS", "Keeping people safe", "Cadw pobl yn ddiogel"),
    ("ETH", "Ethical policing", "Plismona moesegol"),
    ("CJS", "A robust criminal justice system", "System cyfiawnder troseddol gadarn"),
]

PLANS: list[PlanSpec] = [
    PlanSpec("Police and Crime Plan 2012–2016", "Cynllun Heddlu a Throseddu 2012–2016",
             2012, 2016, date(2012, 11, 22), [
                 ("VIC", "Supporting victims and witnesses", "Cefnogi dioddefwyr a thystion"),
                 ("PRE", "Preventing crime and anti-social behaviour",
                  "Atal troseddu ac ymddygiad gwrthgymdeithasol"),
                 ("COM", "Safer communities", "Cymunedau mwy diogel"),
                 ("POL", "Effective policing", "Plismona effeithiol"),
             ]),
    PlanSpec("Police and Crime Plan 2021–2024", "Cynllun Heddlu a Throseddu 2021–2024",
             2021, 2024, date(2021, 5, 13), SECTIONS_2021),
    PlanSpec("Police and Crime Plan 2024–2028", "Cynllun Heddlu a Throseddu 2024–2028",
             2024, 2027, date(2024, 5, 9), SECTIONS_2021),
]

# Each demo fund's default section (a section of the plan in force today), by fund code.
FUND_SECTIONS = {"SCF": "KPS", "YF": "KPS", "PCF": "PCF", "CSPA": "PCF", "CDRP": "KPS"}

# The sections each demo grant (by its title) supports, codes of the plan in force when its
# bid was sent; the first is the section its award is listed under.
GRANT_SECTIONS: dict[str, list[str]] = {
    # this year's awards
    "Fly-tipping deterrence in Wisbech": ["PCF", "KPS"],
    "Cycle marking kits for students": ["KPS"],
    # last year's
    "Taxi marshals in the night-time economy": ["KPS", "VIC"],
    "Bike repair sessions and lights for families": ["KPS"],
    "CCTV at cycle theft hot spots": ["KPS", "CJS"],
    "Portable lights for winter youth sessions": ["PCF"],
    # Putting Communities First, 2022/23 to 2024/25 (the 2021 plan)
    "Early intervention in emerging priority wards": ["PCF"],
    "Orchard Park and Melbourn: acting on residents' concerns": ["PCF", "VIC"],
    "Street-based youth outreach in the city centre": ["KPS", "PCF"],
    # the direct awards
    "CSP Project Officer for South Cambridgeshire": ["PCF"],
    "South Cambridgeshire CDRP action plan 2016/17": ["PRE", "VIC"],  # the 2012 plan
}


def load_plans() -> bool:
    """Whatever of :data:`PLANS` and their sections is missing (a plan is known by the date
    it is in force from, a section by its code); whether anything was made."""
    created = False
    for spec in PLANS:
        plan = session.scalar(select(Plan).where(Plan.in_force_from == spec.in_force_from))
        if plan is None:
            plan = Plan(title=spec.title, title_cy=spec.title_cy, first_year=spec.first_year,
                        last_year=spec.last_year, in_force_from=spec.in_force_from)
            session.add(plan)
            created = True
        have = {section.code for section in plan.sections}
        for position, (code, name, name_cy) in enumerate(spec.sections, start=1):
            if code not in have:
                plan.sections.append(PlanSection(code=code, name=name, name_cy=name_cy,
                                                 position=position))
                created = True
        session.flush()
    return created


def sections_on(on: date, codes: list[str]) -> list[PlanSection]:
    """The sections ``codes`` (in that order) of the plan in force on the UK date ``on``;
    [] if no plan was, or it has none of them."""
    by_code = {section.code: section for section in plans.sections_in_force(on)}
    return [by_code[code] for code in codes if code in by_code]


def align_funds(on: date) -> bool:
    """Give each demo fund without a default section its :data:`FUND_SECTIONS` one, of the
    plan in force on ``on`` (today); whether any was given."""
    created = False
    for fund in session.scalars(select(Fund).where(Fund.code.in_(FUND_SECTIONS),
                                                   Fund.plan_section_id.is_(None))):
        found = sections_on(on, [FUND_SECTIONS[fund.code]])
        if found:
            fund.plan_section = found[0]
            created = True
    session.flush()
    return created


def grant_sections(title: str, on: date) -> list[PlanSection]:
    """The sections the demo grant ``title`` supports, of the plan in force on ``on`` (the
    day its bid was sent); the first is its award's."""
    return sections_on(on, GRANT_SECTIONS.get(title, []))


def align_grants() -> bool:
    """Give each demo grant what it lacks of its alignment (a database loaded before issue
    18): its bid the sections it supports, its award the section it is listed under, of the
    plan in force when the bid was sent. Grants made by this loading are aligned as they
    are made; nothing already aligned is changed. Whether anything was."""
    created = False
    rows = session.execute(select(Bid, Award).join(Award, Award.bid_id == Bid.id)
                           .where(Bid.title.in_(GRANT_SECTIONS))).all()
    for bid, award in rows:
        if bid.plan_sections and award.plan_section_id is not None:
            continue
        sent = bid.submitted_at or bid.created_at
        if sent.tzinfo is None:  # stored as UTC; a naive value has lost only its label
            sent = sent.replace(tzinfo=UTC)
        sections = grant_sections(bid.title or "", sent.astimezone(UK).date())
        if not sections:
            continue
        if not bid.plan_sections:
            bid.plan_sections = sections
            created = True
        if award.plan_section_id is None:
            award.plan_section = sections[0]
            created = True
    session.flush()
    return created
