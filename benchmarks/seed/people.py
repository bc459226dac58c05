"""Organisations, users, funds, rounds and criteria: 41 police areas, each with its OPCC,
its Community Safety Partnerships, its staff and its three funds, one round a year."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from benchmarks.seed.rows import DOMAIN, Seeding, uk_moment
from benchmarks.seed.text import AREAS, person, place_names

CSPS_PER_AREA = (4, 10)  # about 290 partnerships in all, as in England and Wales
OFFICERS_PER_CSP = 2
ASSESSORS_PER_AREA = 4
YEARS = 6  # the current financial year and the five before it

TERMS = ("The grant must be spent on the approved budget lines within the financial year. "
         "Moving money between lines needs the OPCC's written agreement. Underspend is "
         "returned to the OPCC.")

FUNDS = [
    # code, name, youth, multi-year, payment rule, cap (pence), criteria (title, weight)
    ("SCF", "Safer Communities Fund", False, False, "advance", 5_000_00,
     [("Evidence of need", 30), ("A swift, visible response", 25),
      ("Outcomes and measures", 25), ("Value for money", 20)]),
    ("YF", "Youth Fund", True, False, "advance", 5_000_00,
     [("Evidence of need", 25), ("Young people's involvement", 25), ("Safeguarding", 20),
      ("Outcomes and measures", 15), ("Value for money", 15)]),
    ("PCF", "Putting Communities First fund", False, True, "arrears", None,
     [("Fit with priority areas", 30), ("Evidence-based early intervention", 25),
      ("Outcomes and monitoring", 25), ("Partnership and sustainability", 20)]),
]


@dataclass
class Person:
    id: int
    name: str
    email: str
    organisation_id: int

    @property
    def label(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass
class Area:
    number: int
    name: str
    opcc_id: int
    csps: list[int] = field(default_factory=list)
    csp_names: dict[int, str] = field(default_factory=dict)
    officers: dict[int, list[Person]] = field(default_factory=dict)
    assessors: list[Person] = field(default_factory=list)
    manager: Person | None = None
    finance: Person | None = None


@dataclass
class Criterion:
    id: int
    weight: int


@dataclass
class FundPlan:
    id: int
    code: str
    name: str
    youth: bool
    multi_year: bool
    rule: str
    cap: int | None
    area: Area
    criteria: list[tuple[str, int]]


@dataclass
class RoundPlan:
    id: int
    fund: FundPlan
    year: int
    name: str
    opens_at: datetime
    closes_at: datetime
    criteria: list[Criterion]
    current: bool
    committed: int = 0
    rankable_asked: int = 0
    references: int = 0

    @property
    def area(self) -> Area:
        return self.fund.area


def _user(s: Seeding, local: str, organisation_id: int, role: str) -> Person:
    rows = s.rows
    user = Person(rows.next_id("users"), person(s.rng), f"{local}@{DOMAIN}",
                  organisation_id)
    rows.add("users", id=user.id, name=user.name, email=user.email,
             password_hash=s.password_hash, organisation_id=organisation_id, language="en",
             active=True, security_stamp=s.hex(), invited_at=None,
             created_at=s.between(s.now - timedelta(days=2400), s.now - timedelta(days=2000)),
             last_sign_in_at=None)
    rows.add("user_roles", user_id=user.id, role=role)
    return user


def _slug(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def areas(s: Seeding) -> list[Area]:
    """The OPCCs, their partnerships and every user."""
    rows, rng = s.rows, s.rng
    counts = [rng.randint(*CSPS_PER_AREA) for _ in AREAS]
    places = iter(place_names(rng, sum(counts)))
    result = []
    created = s.now - timedelta(days=2500)
    for number, (name, count) in enumerate(zip(AREAS, counts), start=1):
        opcc = rows.next_id("organisations")
        rows.add("organisations", id=opcc, name=f"{name} OPCC", type="opcc", host_council=None,
                 org_identifier=None, area_code=f"E23{number:06d}", created_at=created)
        area = Area(number, name, opcc)
        slug = _slug(name)
        for _ in range(count):
            place = next(places)
            csp = rows.next_id("organisations")
            rows.add("organisations", id=csp, name=f"{place} Community Safety Partnership",
                     type="csp", host_council=f"{place} District Council",
                     org_identifier=f"GB-LAE-B{csp:04d}", area_code=f"E22{csp:06d}",
                     created_at=created)
            area.csps.append(csp)
            area.csp_names[csp] = place
            area.officers[csp] = [_user(s, f"officer{j}.{_slug(place)}", csp, "officer")
                                  for j in range(1, OFFICERS_PER_CSP + 1)]
        area.assessors = [_user(s, f"assessor{j}.{slug}", opcc, "assessor")
                          for j in range(1, ASSESSORS_PER_AREA + 1)]
        area.manager = _user(s, f"manager.{slug}", opcc, "manager")
        area.finance = _user(s, f"finance.{slug}", opcc, "finance")
        _user(s, f"admin.{slug}", opcc, "admin")
        result.append(area)
    return result


def funds_and_rounds(s: Seeding, all_areas: list[Area], current_year: int) -> list[RoundPlan]:
    """Three funds per area, each with a round in each of the last ``YEARS`` years; the
    current year's rounds are open now (as the demo's are)."""
    rows = s.rows
    plans: list[RoundPlan] = []
    for area in all_areas:
        for code, name, youth, multi, rule, cap, criteria in FUNDS:
            fund = FundPlan(rows.next_id("funds"), f"{code}{area.number:02d}",
                            f"{area.name} {name}", youth, multi, rule, cap, area, criteria)
            rows.add("funds", id=fund.id, code=fund.code, name=fund.name,
                     purpose=f"{name}: projects that make {area.name} safer.", is_youth=youth,
                     allows_multi_year=multi, payment_rule=rule, terms=TERMS,
                     final_return_weeks=6, created_at=s.now - timedelta(days=2300))
            for year in range(current_year - YEARS + 1, current_year + 1):
                current = year == current_year
                closes_day = s.today + timedelta(days=60) if current else date(year, 6, 30)
                plan = RoundPlan(rows.next_id("rounds"), fund, year,
                                 f"{year}/{(year + 1) % 100:02d} round",
                                 uk_moment(date(year, 4, 1), 9), uk_moment(closes_day, 12),
                                 [Criterion(rows.next_id("criteria"), weight)
                                  for _title, weight in criteria], current)
                plans.append(plan)
    return plans


def round_rows(s: Seeding, plans: list[RoundPlan]) -> None:
    """The rounds and their criteria, once their bids say what was committed."""
    rows, rng = s.rows, s.rng
    for plan in plans:
        # Budget: what was committed and some left over; an open round keeps room for about
        # a third of what is waiting for a decision, so the ranking has a budget line to cross.
        spare = plan.rankable_asked // 3 if plan.current else plan.committed // rng.randint(6, 12)
        budget = max(plan.committed + spare, 10_000_00)
        rows.add("rounds", id=plan.id, fund_id=plan.fund.id, name=plan.name,
                 financial_year=plan.year, opens_at=plan.opens_at, closes_at=plan.closes_at,
                 budget_pence=budget, cap_pence=plan.fund.cap, committed_pence=plan.committed,
                 eligible_organisation_types=["csp"], return_cadence="six_monthly",
                 guidance="Read the fund's purpose and the criteria below.",
                 created_at=plan.opens_at - timedelta(days=30))
        for position, (criterion, (title, _weight)) in enumerate(
                zip(plan.criteria, plan.fund.criteria), start=1):
            rows.add("criteria", id=criterion.id, round_id=plan.id, position=position,
                     title=title, guidance="How the bid shows this.", weight=criterion.weight,
                     scale_min=0, scale_max=5,
                     descriptors={"0": "No evidence", "1": "Poor", "2": "Partial",
                                  "3": "Satisfactory", "4": "Good", "5": "Strong"})
