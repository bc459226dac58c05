"""Demo data: the Cambridgeshire and Peterborough OPCC, its six CSPs, three funds, its
Police and Crime Plans (``demo_plans``) and accounts for every role. Loaded only when asked
(``flask demo-data``); safe to run twice."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any, TypedDict

from sqlalchemy import select

from portal import demo_agreements, demo_plans
from portal.db import UK, session, utcnow
from portal.models import (
    Award,
    Criterion,
    Fund,
    Organisation,
    OrganisationType,
    PlanSection,
    Role,
    Round,
    User,
)
from portal.models.funds import PaymentRule, ReturnCadence
from portal.services import accounts, audit
from portal.services.rounds import financial_year_of

DEMO_PASSWORD = "grants-demo-password"
DOMAIN = "example.org"
# The demo's past grants were decided before the portal held their assessments: the
# decisions say so, as the portal asks of any decision made without them.
DEMO_OVERRIDE = "Decided at the panel meeting; the assessments were kept outside the portal."
OPCC_NAME = "Cambridgeshire and Peterborough OPCC"

CSPS = [
    # (name, host council, org identifier, short name for the officer's email)
    ("Cambridge City CSP", "Cambridge City Council", "GB-LAE-CAB", "cambridge"),
    ("East Cambridgeshire CSP", "East Cambridgeshire District Council", "GB-LAE-ECA", "eastcambs"),
    ("Safer Fenland Partnership", "Fenland District Council", "GB-LAE-FEN", "fenland"),
    ("Huntingdonshire CSP", "Huntingdonshire District Council", "GB-LAE-HUN", "hunts"),
    ("Safer Peterborough Partnership", "Peterborough City Council", "GB-LAE-PTE", "peterborough"),
    ("South Cambridgeshire CSP", "South Cambridgeshire District Council", "GB-LAE-SCA",
     "southcambs"),
]

# Each partnership's area by the ONS code of its district (E07, a non-metropolitan district)
# or unitary authority (E06: Peterborough): one partnership per district, so the 360Giving
# beneficiary location of its grants carries the code and its type (NMD, UA).
AREA_CODES = {
    "Cambridge City CSP": "E07000008",
    "East Cambridgeshire CSP": "E07000009",
    "Safer Fenland Partnership": "E07000010",
    "Huntingdonshire CSP": "E07000011",
    "Safer Peterborough Partnership": "E06000031",
    "South Cambridgeshire CSP": "E07000012",
}

STAFF: list[tuple[str, str, set[Role]]] = [
    ("assessor1", "Alex Assessor", {Role.ASSESSOR}),
    ("assessor2", "Sam Assessor", {Role.ASSESSOR}),
    ("manager", "Morgan Manager", {Role.MANAGER}),
    ("finance", "Frankie Finance", {Role.FINANCE}),
    ("admin", "Ari Administrator", {Role.ADMIN}),
]

# Accounts that prefer Welsh (issue 16): they see the service in Cymraeg from their first
# sign-in and get their emails in Welsh. (local part, name, partnership's short name or None
# for the OPCC, roles)
WELSH_ACCOUNTS: list[tuple[str, str, str | None, set[Role]]] = [
    ("swyddog.hunts", "Gwen Swyddog", "hunts", {Role.OFFICER}),
    ("rheolwr", "Rhys Rheolwr", None, {Role.MANAGER}),
]

# The Welsh of what the demo OPCC typed (issue 16): fund, round and criterion names and
# guidance, the partnerships' names, the terms of its offers. Keyed by the English.
WELSH = {
    "Safer Communities Fund": "Cronfa Cymunedau Mwy Diogel",
    "Youth Fund": "Cronfa Ieuenctid",
    "Putting Communities First fund": "Cronfa Rhoi Cymunedau’n Gyntaf",
    "Cambridge City CSP": "PDC Dinas Caergrawnt",
    "East Cambridgeshire CSP": "PDC Dwyrain Swydd Gaergrawnt",
    "Safer Fenland Partnership": "Partneriaeth Fenland Fwy Diogel",
    "Huntingdonshire CSP": "PDC Swydd Huntingdon",
    "Safer Peterborough Partnership": "Partneriaeth Peterborough Fwy Diogel",
    "South Cambridgeshire CSP": "PDC De Swydd Gaergrawnt",
    "Cambridgeshire and Peterborough OPCC": "SCHTh Swydd Gaergrawnt a Peterborough",
    "Evidence of need": "Tystiolaeth o angen",
    "What local data and community concern show the problem.":
        "Beth mae data lleol a phryder y gymuned yn ei ddangos am y broblem.",
    "A swift, visible response": "Ymateb cyflym a gweladwy",
    "How quickly residents will see a difference.":
        "Pa mor gyflym y bydd trigolion yn gweld gwahaniaeth.",
    "Outcomes and measures": "Canlyniadau a mesurau",
    "Clear targets and how they will be measured.":
        "Targedau clir a sut y cânt eu mesur.",
    "Value for money": "Gwerth am arian",
    "Costs that are realistic and proportionate.": "Costau sy’n realistig ac yn gymesur.",
    "Who the young people are and why this will help.":
        "Pwy yw’r bobl ifanc a pham y bydd hyn yn helpu.",
    "Young people's involvement": "Cyfranogiad pobl ifanc",
    "How young people shaped the project.": "Sut y bu i bobl ifanc lunio’r prosiect.",
    "Safeguarding": "Diogelu",
    "A named lead, a policy and DBS-checked staff.":
        "Arweinydd a enwir, polisi a staff sydd â gwiriad DBS.",
    "Fit with priority areas": "Cyd-fynd â’r ardaloedd blaenoriaeth",
    "Places assessed as emerging or preventing.":
        "Lleoedd a aseswyd yn rhai sy’n dod i’r amlwg neu’n ataliol.",
    "Evidence-based early intervention": "Ymyrraeth gynnar ar sail tystiolaeth",
    "What the evidence says works.": "Beth mae’r dystiolaeth yn ei ddweud sy’n gweithio.",
    "Outcomes and monitoring": "Canlyniadau a monitro",
    "Targets, measures and reporting.": "Targedau, mesurau ac adrodd.",
    "Partnership and sustainability": "Partneriaeth a chynaliadwyedd",
    "Who else is involved and what lasts.": "Pwy arall sy’n cymryd rhan a beth fydd yn para.",
}

TERMS = (
    "The grant must be spent on the approved budget lines within the financial year. Moving "
    "money between lines needs the OPCC's written agreement. Any overspend is met by the "
    "recipient. Underspend is returned to the OPCC and overpayments are recovered. Returns are "
    "due on the dates in this offer."
)
TERMS_CY = (
    "Rhaid gwario’r grant ar y llinellau cyllideb a gymeradwywyd o fewn y flwyddyn ariannol. "
    "Mae angen cytundeb ysgrifenedig y SCHTh i symud arian rhwng llinellau. Y derbynnydd sy’n "
    "talu am unrhyw orwariant. Caiff tanwariant ei ddychwelyd i’r SCHTh a chaiff gordaliadau eu "
    "hadennill. Mae’r ffurflenni monitro yn ddyledus ar y dyddiadau yn y cynnig hwn."
)
PURPOSES_CY = {
    "SCF": ("Ceisiadau hyd at £5,000 ar gyfer mentrau sy’n rhoi ymateb cyflym a gweladwy i "
            "broblemau lleol sy’n peri pryder: ymddygiad gwrthgymdeithasol, diogelwch ar y "
            "ffyrdd, dwyn beiciau a thipio anghyfreithlon."),
    "YF": ("Cronfa’r Comisiynydd ar gyfer mentrau ieuenctid sy’n cadw pobl ifanc rhag "
           "ymddygiad gwrthgymdeithasol ac sy’n rhoi lleoedd diogel iddynt gyfarfod. Mae angen "
           "trefniadau diogelu ar gyfer gwaith ieuenctid: arweinydd a enwir, polisi a staff sydd "
           "â gwiriad DBS."),
    "PCF": ("£190,000 dros dair blynedd (2022/23 i 2024/25 yn ei chytundeb cyntaf) sy’n agored "
            "i bob PDC ar gyfer prosiectau yn eu hardaloedd blaenoriaeth, gyda monitro ac "
            "adrodd."),
}
ROUND_GUIDANCE = ("Read the fund's purpose and the criteria below. Bids are scored by two OPCC "
                  "assessors and decided by the grants manager.")
ROUND_GUIDANCE_CY = ("Darllenwch bwrpas y gronfa a’r meini prawf isod. Caiff ceisiadau eu sgorio "
                     "gan ddau asesydd o’r SCHTh a’u penderfynu gan y rheolwr grantiau.")

# (title, guidance, weight in per cent)
CriterionSpec = tuple[str, str, int, list[str]]  # title, guidance, weight, sections
# (item, kind: "capital" or "revenue", amount in pence)
LineSpec = tuple[str, str, int]


class FundSpec(TypedDict):
    code: str
    name: str
    is_youth: bool
    allows_multi_year: bool
    payment_rule: PaymentRule
    purpose: str
    budget: int  # pence
    cap: int | None  # pence
    criteria: list[CriterionSpec]


FUNDS: list[FundSpec] = [
    {
        "code": "SCF", "name": "Safer Communities Fund", "is_youth": False,
        "allows_multi_year": False, "payment_rule": PaymentRule.ADVANCE,
        "purpose": ("Bids of up to £5,000 for initiatives that give a swift, visible response to "
                    "local issues of concern: anti-social behaviour, road safety, bike theft and "
                    "fly tipping."),
        "budget": 30_000_00, "cap": 5_000_00,
        "criteria": [
            ("Evidence of need", "What local data and community concern show the problem.", 30,
             ["problem"]),
            ("A swift, visible response", "How quickly residents will see a difference.", 25,
             ["about", "delivery"]),
            ("Outcomes and measures", "Clear targets and how they will be measured.", 25,
             ["outcomes"]),
            ("Value for money", "Costs that are realistic and proportionate.", 20, ["budget"]),
        ],
    },
    {
        "code": "YF", "name": "Youth Fund", "is_youth": True,
        "allows_multi_year": False, "payment_rule": PaymentRule.ADVANCE,
        "purpose": ("The Commissioner's fund for youth initiatives that divert young people from "
                    "anti-social behaviour and give them safe places to meet. Youth work needs "
                    "safeguarding arrangements: a named lead, a policy and DBS-checked staff."),
        "budget": 20_000_00, "cap": 5_000_00,
        "criteria": [
            ("Evidence of need", "Who the young people are and why this will help.", 25,
             ["problem"]),
            ("Young people's involvement", "How young people shaped the project.", 25,
             ["youth", "delivery"]),
            ("Safeguarding", "A named lead, a policy and DBS-checked staff.", 20, ["youth"]),
            ("Outcomes and measures", "Clear targets and how they will be measured.", 15,
             ["outcomes"]),
            ("Value for money", "Costs that are realistic and proportionate.", 15, ["budget"]),
        ],
    },
    {
        "code": "PCF", "name": "Putting Communities First fund", "is_youth": False,
        "allows_multi_year": True, "payment_rule": PaymentRule.ARREARS,
        "purpose": ("£190,000 over three years (2022/23 to 2024/25 in its first agreement) open to "
                    "all CSPs for projects in their priority areas, with monitoring and reporting."),
        "budget": 190_000_00, "cap": None,
        "criteria": [
            ("Fit with priority areas", "Places assessed as emerging or preventing.", 30,
             ["problem"]),
            ("Evidence-based early intervention", "What the evidence says works.", 25,
             ["problem", "delivery"]),
            ("Outcomes and monitoring", "Targets, measures and reporting.", 25, ["outcomes"]),
            ("Partnership and sustainability", "Who else is involved and what lasts.", 20,
             ["delivery"]),
        ],
    },
]


def _email(local: str) -> str:
    return f"{local}@{DOMAIN}"


def _organisation(name: str, type_: OrganisationType, host: str | None,
                  identifier: str | None) -> tuple[Organisation, bool]:
    area = AREA_CODES.get(name)
    existing = session.scalar(select(Organisation).where(Organisation.name == name))
    if existing is not None:
        if area and not existing.area_code:  # a database loaded before the codes were known
            existing.area_code = area
            session.flush()
            return existing, True
        return existing, False
    organisation = Organisation(name=name, name_cy=WELSH.get(name, ""), type=type_,
                                host_council=host, org_identifier=identifier, area_code=area)
    session.add(organisation)
    session.flush()
    return organisation, True


def _account(local: str) -> User:
    """A demo account, which :func:`load` has made before any bid is written."""
    user = accounts.get_user_by_email(_email(local))
    assert user is not None, f"the demo account {local} is made first"
    return user


def _user(local: str, name: str, organisation: Organisation, roles: set[Role],
          language: str = "en") -> bool:
    if accounts.get_user_by_email(_email(local)) is not None:
        return False
    user = accounts.create_user(name, _email(local), organisation, roles, actor=None,
                                password=DEMO_PASSWORD)
    user.language = language
    return True


def _current_round_dates(now: datetime) -> tuple[int, datetime, datetime]:
    # Open since 1 April (or since the demo awards' bids were sent, if earlier), closing in
    # 60 days: a round for the year it closes in (a round closes by the end of its financial
    # year, and may open up to a year before it starts).
    opens_year = financial_year_of(now.astimezone(UK).date())
    opens = min(datetime.combine(datetime(opens_year, 4, 1).date(), time(9, 0), tzinfo=UK),
                datetime.combine((now - _DEMO_OPENS_AGO).astimezone(UK).date(), time(9, 0),
                                 tzinfo=UK))
    closes_day = (now + timedelta(days=60)).astimezone(UK).date()
    year = financial_year_of(closes_day)
    closes = datetime.combine(closes_day, time(12, 0), tzinfo=UK)
    return year, opens.astimezone(UTC), closes.astimezone(UTC)


def _criteria(spec: FundSpec) -> list[Criterion]:
    """The fund's criteria for a new round of it, with their Welsh."""
    return [Criterion(position=i, title=title, guidance=guidance, weight=weight,
                      title_cy=WELSH.get(title, ""), guidance_cy=WELSH.get(guidance, ""),
                      sections=list(sections))
            for i, (title, guidance, weight, sections) in enumerate(spec["criteria"], start=1)]


def _fund(spec: FundSpec, now: datetime) -> bool:
    fund = session.scalar(select(Fund).where(Fund.code == spec["code"]))
    created = False
    if fund is None:
        fund = Fund(code=spec["code"], name=spec["name"], purpose=spec["purpose"],
                    name_cy=WELSH.get(spec["name"], ""),
                    purpose_cy=PURPOSES_CY.get(spec["code"], ""),
                    is_youth=spec["is_youth"], allows_multi_year=spec["allows_multi_year"],
                    payment_rule=spec["payment_rule"], terms=TERMS, terms_cy=TERMS_CY)
        session.add(fund)
        session.flush()
        created = True
    year, opens, closes = _current_round_dates(now)
    name = f"{year}/{(year + 1) % 100:02d} round"
    if session.scalar(select(Round).where(Round.fund_id == fund.id, Round.name == name)):
        return created
    round_ = Round(fund=fund, name=name, name_cy=f"Cylch {year}/{(year + 1) % 100:02d}",
                   financial_year=year, opens_at=opens, closes_at=closes,
                   budget_pence=spec["budget"], cap_pence=spec["cap"], committed_pence=0,
                   eligible_organisation_types=[OrganisationType.CSP.value],
                   return_cadence=ReturnCadence.SIX_MONTHLY,
                   guidance=ROUND_GUIDANCE, guidance_cy=ROUND_GUIDANCE_CY)
    round_.criteria = _criteria(spec)
    session.add(round_)
    session.flush()
    return True


def load(now: datetime | None = None, *, awards: bool = True) -> bool:
    """Create whatever of the demo data is missing; return whether anything was created.

    ``awards=False`` leaves out the demo bids and awards (the test suite starts from
    empty rounds)."""
    now = now or utcnow()
    created = False
    opcc, made = _organisation(OPCC_NAME, OrganisationType.OPCC, None, None)
    created |= made
    for name, host, identifier, short in CSPS:
        csp, made = _organisation(name, OrganisationType.CSP, host, identifier)
        created |= made
        created |= _user(f"officer.{short}", f"{short.title()} Officer", csp, {Role.OFFICER})
    for local, name, roles in STAFF:
        created |= _user(local, name, opcc, roles)
    partnerships = {short: name for name, _h, _i, short in CSPS}
    for local, name, home_short, roles in WELSH_ACCOUNTS:
        home = opcc if home_short is None else _organisation(
            partnerships[home_short], OrganisationType.CSP, None, None)[0]
        created |= _user(local, name, home, roles, language="cy")
    for spec in FUNDS:
        created |= _fund(spec, now)
    session.flush()
    created |= demo_plans.load_plans()
    created |= demo_plans.align_funds(now.astimezone(UK).date())
    if awards:
        created |= load_awards(now)
        created |= load_history(now)
        created |= load_pcf_history(now)
        created |= demo_agreements.load(_account(f"officer.{demo_agreements.SOUTH_CAMBS}"),
                                        _account("manager"), _account("finance"))
        created |= load_return_forms(now)
        created |= demo_plans.align_grants()  # a demo loaded before the plans existed
    return created


def accounts_list() -> list[tuple[str, str]]:
    rows = [(_email(f"officer.{short}"), f"CSP officer, {name}") for name, _h, _i, short in CSPS]
    labels = {Role.ASSESSOR: "Assessor", Role.MANAGER: "Grants manager",
              Role.FINANCE: "Finance officer", Role.ADMIN: "Administrator"}
    rows += [(_email(local), labels[next(iter(roles))]) for local, _n, roles in STAFF]
    partnerships = {short: name for name, _h, _i, short in CSPS}
    rows += [(_email(local), (f"CSP officer, {partnerships[short]}" if short
                              else labels[next(iter(roles))]) + ", prefers Welsh (Cymraeg)")
             for local, _n, short, roles in WELSH_ACCOUNTS]
    return rows


def accounts_table() -> str:
    width = max(len(address) for address, _ in accounts_list())
    lines = [f"Demo accounts (password for all: {DEMO_PASSWORD})"]
    lines += [f"  {address.ljust(width)}  {role}" for address, role in accounts_list()]
    return "\n".join(lines)


# --- demo awards (post-award) -----------------------------------------------------------------

# The demo awards were accepted this long ago: every return due in the demo falls due well
# after the grace period (RETURN_GRACE_DAYS, 30) that follows acceptance, as the schedule
# rule says. Their bids were sent a fortnight before, while the round was open (it opens
# _DEMO_OPENS_AGO before the demo is loaded at the latest), and paid a week after acceptance.
DEMO_ACCEPTED_AGO = timedelta(days=120)
_DEMO_SENT_BEFORE = timedelta(days=14)
_DEMO_OPENS_AGO = DEMO_ACCEPTED_AGO + _DEMO_SENT_BEFORE + timedelta(days=7)

DEMO_AWARDS: list[tuple[str, str, str, list[LineSpec], int]] = [
    # (officer, title, issue, lines [(item, kind, pence)], days from today the first open
    #  return is due: within the reminder window, or overdue)
    ("fenland", "Fly-tipping deterrence in Wisbech", "fly_tipping",
     [("Signage", "capital", 120000), ("Cameras", "capital", 250000),
      ("Clearance days", "revenue", 50000)], 7),
    ("cambridge", "Cycle marking kits for students", "bike_theft",
     [("Cycle marking kits", "capital", 210000), ("Leaflets", "revenue", 40000),
      ("Marking events", "revenue", 100000)], -10),
]


def _demo_award(short: str, title: str, issue: str, lines: list[LineSpec],
                due_in_days: int, now: datetime) -> bool:
    from portal.models import Bid, Fund, ReturnStatus
    from portal.services import awards, bids, decisions

    if session.scalar(select(Bid).where(Bid.title == title)) is not None:
        return False
    officer = _account(f"officer.{short}")
    manager = _account("manager")
    finance = _account("finance")
    round_ = session.scalars(select(Round).join(Fund).where(Fund.code == "SCF")
                             .order_by(Round.closes_at.desc())).first()
    assert round_ is not None, "load() makes this year's round first"
    year = round_.financial_year
    accepted = now - DEMO_ACCEPTED_AGO
    sent = accepted - _DEMO_SENT_BEFORE
    bid = bids.start_bid(round_, officer, f"demo-{short}-{year}", sent)
    # The sections the officer chose, of the plan in force when the bid was sent.
    sections = demo_plans.grant_sections(title, sent.astimezone(UK).date())
    bid.plan_sections = sections
    total = sum(pence for _i, _k, pence in lines)
    answers: dict[str, dict[str, Any]] = {
        "about": {"title": title, "summary": f"{title}: a swift, visible response.",
                  "start_date": f"{year}-04-01", "end_date": f"{year + 1}-03-31"},
        "problem": {"issue_types": [issue], "other_issue": "", "district": officer.organisation
                    .host_council, "places": "Town centre", "priority_category": "emerging",
                    "evidence_sources": "Police and council data",
                    "evidence_shows": "Repeated incidents in the same places"},
        "delivery": {"activities": title, "delivered_by": "The council's community safety team",
                     "partners": "Police, parish councils"},
        "outcomes": {"rows": [{"measure": "Incidents reported", "target": 20,
                               "how_measured": "Police and council records"}]},
        "budget": {"rows": [{"item": i, "kind": k, "amount_pence": p} for i, k, p in lines],
                   "match_funding_pence": 0, "match_funding_sources": ""},
        "declarations": {"accurate": True, "authorised": True, "name": officer.name,
                         "role": "Community safety officer"},
    }
    for key, value in answers.items():
        bids.save_section(bid, key, value, completed=True, expected_version=None, actor=officer,
                          now=sent)
    bids.submit(bid, officer, sent)
    decisions.approve(bid, total, purpose=title, conditions="Publicise the OPCC's support.",
                      reasons="Visible action where residents report the problem most.",
                      override_reason=DEMO_OVERRIDE, plan_section_id=_first_id(sections),
                      actor=manager, now=accepted - timedelta(days=1))
    award = session.scalars(select(Award).where(Award.bid_id == bid.id)).one()
    awards.accept(award, officer.name, "Community safety officer", True, officer, now=accepted)
    awards.record_payment(award, total, (accepted + timedelta(days=7)).astimezone(UK).date(),
                          f"DEMO-{short.upper()}-1", finance)
    # The demo shows one return due soon and one overdue (the reminders need both) whatever
    # the day it is loaded: the first open return's due date is set to that, and the change
    # is on the award's history like any other. Either date is long after the grace period.
    first_open = min((r for r in award.returns if r.status == ReturnStatus.DUE),
                     key=lambda r: r.due_date)
    before = [r.due_date.isoformat() for r in sorted(award.returns, key=lambda r: r.due_date)]
    first_open.due_date = now.astimezone(UK).date() + timedelta(days=due_in_days)
    session.flush()
    audit.record("award.returns_rescheduled", "award", award.id, actor=None,
                 before={"returns": before},
                 after={"returns": [r.due_date.isoformat()
                                    for r in sorted(award.returns, key=lambda r: r.due_date)]})
    return True


def _first_id(sections: list[PlanSection]) -> int | None:
    """The section a demo grant's award is listed under: the first its bid supports."""
    return sections[0].id if sections else None


def load_awards(now: datetime) -> bool:
    created = False
    for short, title, issue, lines, due_in in DEMO_AWARDS:
        created |= _demo_award(short, title, issue, lines, due_in, now)
    return created


# --- demo history: last financial year's closed rounds ----------------------------------------

HISTORY: dict[str, list[tuple[str, str, str, list[LineSpec], int]]] = {
    # fund code: [(officer, title, issue, lines, spend ratio in per cent of each line)]
    "SCF": [
        ("peterborough", "Taxi marshals in the night-time economy", "vawg",
         [("Marshal shifts", "revenue", 400000), ("Hi-vis and radios", "capital", 60000)], 100),
        ("southcambs", "Bike repair sessions and lights for families", "road_safety",
         [("Bike lights", "capital", 225000), ("Mechanic", "revenue", 180000),
          ("Spare parts", "revenue", 70000)], 80),
        ("cambridge", "CCTV at cycle theft hot spots", "bike_theft",
         [("Cameras", "capital", 350000), ("Installation", "revenue", 90000)], 100),
    ],
    "YF": [
        ("cambridge", "Portable lights for winter youth sessions", "youth",
         [("Portable lights", "capital", 180000), ("Youth workers", "revenue", 220000)], 100),
    ],
}

# Putting Communities First: £190,000 over the three years 2022/23 to 2024/25, open to all
# six partnerships for projects in their priority areas (seed 000, paragraph 14). Its pot is
# kept per year (the odd pound in the first), and its awards run across the years.
PCF_FIRST_YEAR = 2022
PCF_YEAR_BUDGETS = {2022: 63_334_00, 2023: 63_333_00, 2024: 63_333_00}
# (item, kind, pence by financial year)
YearLineSpec = tuple[str, str, dict[int, int]]
PCF_HISTORY: list[tuple[str, str, str, list[YearLineSpec], str, str]] = [
    # (officer, title, issue, lines, start, end)
    ("hunts", "Early intervention in emerging priority wards", "anti_social_behaviour",
     [("Project worker", "revenue", {2022: 15_000_00, 2023: 15_000_00, 2024: 15_000_00}),
      ("Community events", "revenue", {2022: 2_000_00, 2023: 2_000_00, 2024: 1_000_00})],
     "2022-07-01", "2025-03-31"),
    ("southcambs", "Orchard Park and Melbourn: acting on residents' concerns",
     "anti_social_behaviour",
     [("Community engagement sessions", "revenue", {2023: 8_000_00, 2024: 8_000_00}),
      ("Target hardening for repeat victims", "capital", {2023: 6_000_00, 2024: 4_000_00})],
     "2023-04-01", "2025-03-31"),
    ("peterborough", "Street-based youth outreach in the city centre", "youth",
     [("Detached youth workers", "revenue", {2022: 18_000_00}),
      ("Outreach materials", "revenue", {2022: 2_000_00})],
     "2022-07-01", "2023-03-31"),
]


def _history_round(fund: Fund, year: int) -> Round:
    name = f"{year}/{(year + 1) % 100:02d} round"
    existing = session.scalar(select(Round).where(Round.fund_id == fund.id, Round.name == name))
    if existing is not None:
        return existing
    spec = next(f for f in FUNDS if f["code"] == fund.code)
    opens = datetime(year, 4, 1, 9, 0, tzinfo=UK).astimezone(UTC)
    closes = datetime(year, 6, 30, 12, 0, tzinfo=UK).astimezone(UTC)
    round_ = Round(fund=fund, name=name, name_cy=f"Cylch {year}/{(year + 1) % 100:02d}",
                   financial_year=year, opens_at=opens, closes_at=closes,
                   budget_pence=spec["budget"], cap_pence=spec["cap"], committed_pence=0,
                   eligible_organisation_types=[OrganisationType.CSP.value],
                   return_cadence=ReturnCadence.SIX_MONTHLY, guidance="")
    round_.criteria = _criteria(spec)
    session.add(round_)
    session.flush()
    return round_


def _history_grant(round_: Round, short: str, title: str, issue: str,
                   lines: list[LineSpec], spend_percent: int, *,
                   line_years: list[dict[int, int]] | None = None,
                   dates: tuple[str, str] | None = None) -> None:
    """A past grant of ``round_``, bid, decided, accepted, reported and paid through the
    services. ``line_years``: each line's pence per financial year (a round over several
    years); by default each line is all in the round's year. ``dates``: the project's start
    and end (ISO), by default July to March of the round's year."""
    from portal.models import ReturnStatus
    from portal.services import awards, bids, decisions, years

    officer = _account(f"officer.{short}")
    manager = _account("manager")
    finance = _account("finance")
    year = round_.financial_year
    moment = round_.opens_at + timedelta(days=10)
    bid = bids.start_bid(round_, officer, f"demo-history-{round_.fund.code}-{short}-{year}",
                         moment)
    sections = demo_plans.grant_sections(title, moment.astimezone(UK).date())
    bid.plan_sections = sections
    total = sum(p for _i, _k, p in lines)
    start, end = dates or (f"{year}-07-01", f"{year + 1}-03-31")
    answers: dict[str, dict[str, Any]] = {
        "about": {"title": title, "summary": title, "start_date": start,
                  "end_date": end},
        "problem": {"issue_types": [issue], "other_issue": "",
                    "district": officer.organisation.host_council, "places": "Town centre",
                    "priority_category": "preventing", "evidence_sources": "Police data",
                    "evidence_shows": "Incidents clustered in a few places"},
        "delivery": {"activities": title, "delivered_by": "The partnership",
                     "partners": "Police"},
        "outcomes": {"rows": [{"measure": "People reached", "target": 200,
                               "how_measured": "Attendance records"}]},
        "budget": {"rows": [{"item": i, "kind": k, "amount_pence": p} for i, k, p in lines],
                   "match_funding_pence": 0, "match_funding_sources": ""},
        "youth": {"age_from": 11, "age_to": 18, "young_people": 60,
                  "safeguarding_lead": "Youth service manager", "safeguarding_policy": True,
                  "dbs_checked": True},
        "declarations": {"accurate": True, "authorised": True, "name": officer.name,
                         "role": "Community safety officer"},
    }
    for row, amounts in zip(answers["budget"]["rows"], line_years or [], strict=False):
        row["year_amounts"] = years.as_json(amounts)
    for section in bids.sections_for(bid):
        bids.save_section(bid, section.key, answers[section.key], completed=True,
                          expected_version=None, actor=officer, now=moment)
    bids.submit(bid, officer, moment)
    decisions.approve(bid, total, purpose=title, conditions="Publicise the OPCC's support.",
                      reasons="Prevention where the Strategic Assessment shows most harm.",
                      override_reason=DEMO_OVERRIDE, plan_section_id=_first_id(sections),
                      actor=manager, now=moment + timedelta(days=30))
    award = session.scalars(select(Award).where(Award.bid_id == bid.id)).one()
    awards.accept(award, officer.name, "Community safety officer", True, officer,
                  now=moment + timedelta(days=31))
    in_advance = round_.fund.payment_rule == PaymentRule.ADVANCE
    if in_advance:
        awards.record_payment(award, total, min(award.start_date, utcnow().date()),
                              f"HIST-{bid.reference}", finance)
    # Each return reports its share of the lines' money for the financial year it falls in.
    held = years.award_years(award)
    in_year: dict[int, int] = {}
    for grant_return in award.returns:
        returned = years.return_year(grant_return, held)
        in_year[returned] = in_year.get(returned, 0) + 1
    for number, grant_return in enumerate(sorted(award.returns, key=lambda r: r.due_date), 1):
        returned = years.return_year(grant_return, held)
        spend = {line.id: years.by_year(line.revised_years).get(returned, 0) * spend_percent
                 // 100 // in_year[returned] for line in award.lines}
        if grant_return.kind.value == "final":
            already = {line.id: sum(rl.spend_pence for r in award.returns
                                    if r.status == ReturnStatus.APPROVED
                                    for rl in r.lines if rl.award_line_id == line.id)
                       for line in award.lines}
            spend = {line.id: line.revised_pence * spend_percent // 100 - already[line.id]
                     for line in award.lines}
        outcomes = [awards.OutcomeInput(m.id, 180, "green", "Delivered as planned")
                    for m in award.bid.outcomes]
        awards.save_return(grant_return, spend, outcomes, "A family told us the lights made "
                           "the school run safer.", 0, submit=True, actor=officer)
        awards.review_return(grant_return, True, "", finance)
        if not in_advance:  # paid in arrears, on each approved return
            due = awards.payable_now(award)
            if due > 0:
                awards.record_payment(award, due, min(grant_return.due_date, utcnow().date()),
                                      f"HIST-{bid.reference}-{number}", finance)
    for repayment in award.repayments:
        awards.record_repayment(repayment, utcnow().date(), f"REPAY-{bid.reference}", finance)


def _pcf_round(fund: Fund) -> Round:
    """Putting Communities First's three-year round, 2022/23 to 2024/25, its budget per year."""
    from portal.models import RoundYear, year_label

    first, count = PCF_FIRST_YEAR, len(PCF_YEAR_BUDGETS)
    name = f"{year_label(first)} to {year_label(first + count - 1)} round"
    name_cy = f"Cylch {year_label(first)} i {year_label(first + count - 1)}"
    existing = session.scalar(select(Round).where(Round.fund_id == fund.id, Round.name == name))
    if existing is not None:
        return existing
    spec = next(f for f in FUNDS if f["code"] == fund.code)
    round_ = Round(fund=fund, name=name, name_cy=name_cy, financial_year=first, years=count,
                   opens_at=datetime(first, 4, 1, 9, 0, tzinfo=UK).astimezone(UTC),
                   closes_at=datetime(first, 6, 30, 12, 0, tzinfo=UK).astimezone(UTC),
                   budget_pence=sum(PCF_YEAR_BUDGETS.values()), cap_pence=None,
                   committed_pence=0, eligible_organisation_types=[OrganisationType.CSP.value],
                   return_cadence=ReturnCadence.SIX_MONTHLY, guidance="")
    round_.year_budgets = [RoundYear(financial_year=year, budget_pence=pence, committed_pence=0)
                           for year, pence in sorted(PCF_YEAR_BUDGETS.items())]
    round_.criteria = _criteria(spec)
    session.add(round_)
    session.flush()
    return round_


def load_pcf_history(now: datetime) -> bool:
    """Putting Communities First as it ran: one round over three years, awards across them."""
    from portal.models import Bid

    fund = session.scalars(select(Fund).where(Fund.code == "PCF")).one()
    round_ = _pcf_round(fund)
    created = False
    for short, title, issue, lines, start, end in PCF_HISTORY:
        if session.scalar(select(Bid).where(Bid.title == title)) is None:
            _history_grant(round_, short, title, issue,
                           [(item, kind, sum(amounts.values())) for item, kind, amounts in lines],
                           100, line_years=[amounts for _i, _k, amounts in lines],
                           dates=(start, end))
            created = True
    return created


def load_history(now: datetime) -> bool:
    from portal.models import Bid

    year = financial_year_of(now.astimezone(UK).date()) - 1
    created = False
    for code, grants in HISTORY.items():
        fund = session.scalars(select(Fund).where(Fund.code == code)).one()
        round_ = _history_round(fund, year)
        for short, title, issue, lines, spend in grants:
            if session.scalar(select(Bid).where(Bid.title == title)) is None:
                _history_grant(round_, short, title, issue, lines, spend)
                created = True
    return created


# --- a fund's own return questions (issue 15) -------------------------------------------------

# The Safer Communities Fund's return asks, after the spend and the outcomes every return
# reports, a few questions of the fund's own, designed with the builder's types: the project's
# overall RAG status with a narrative, and whether residents have seen a difference.
RETURN_FORM_FUND = "SCF"
RETURN_FORM: dict[str, Any] = {"sections": [{
    "key": "progress", "title": "Progress in the period",
    "intro": "The fund asks every project for these, beside its spend and outcomes.",
    "questions": [
        {"key": "overall_progress", "type": "rag", "label": "Overall progress",
         "hint": "Green: on track. Amber: at some risk. Red: off track.", "required": True},
        {"key": "progress_narrative", "type": "long_text",
         "label": "Tell us how the project is going",
         "hint": "What went well, what did not, and what you will do about it.",
         "required": True, "limit": 2000, "limit_unit": "characters"},
        {"key": "visible_difference", "type": "yes_no",
         "label": "Have residents seen a visible difference?", "hint": "",
         "required": True},
        {"key": "difference_seen", "type": "long_text", "label": "What have residents noticed?",
         "hint": "For example, fewer reports, or comments at a community meeting.",
         "required": False, "limit": 1000, "limit_unit": "characters",
         "condition": {"question": "visible_difference", "value": "yes"}},
        {"key": "people_reached", "type": "whole_number",
         "label": "People reached in the period", "hint": "", "required": False,
         "low": 0, "high": 100000},
    ]}]}
RETURN_ANSWERS: dict[str, Any] = {
    "overall_progress": "green",
    "progress_narrative": "Delivered as planned: every activity ran in the period.",
    "visible_difference": "yes",
    "difference_seen": "Residents at the community meeting said the area feels safer.",
    "people_reached": 180,
}


def load_return_forms(now: datetime) -> bool:
    """The Safer Communities Fund's return form (version 1, published), and its sent demo
    returns answered on it (so the version is in use). Safe to run twice."""
    from portal.models import FormKind, FormVersion, GrantReturn, ReturnStatus
    from portal.services import form_versions

    fund = session.scalars(select(Fund).where(Fund.code == RETURN_FORM_FUND)).one()
    version = session.scalar(select(FormVersion).where(FormVersion.fund_id == fund.id,
                                                       FormVersion.number == 1))
    created = False
    if version is None:
        version = FormVersion(kind=FormKind.RETURN, fund_id=fund.id, number=1,
                              definition=RETURN_FORM, revision=1, in_use=False,
                              published_at=now, created_at=now, updated_at=now)
        session.add(version)
        session.flush()
        created = True
    sent = session.scalars(
        select(GrantReturn).join(Award).join(Round, Round.id == Award.round_id)
        .where(Round.fund_id == fund.id, GrantReturn.form_version_id.is_(None),
               GrantReturn.status.in_([ReturnStatus.SUBMITTED, ReturnStatus.APPROVED]))
        .order_by(GrantReturn.id)).all()
    for grant_return in sent:
        grant_return.form_version_id = version.id
        grant_return.answers = dict(RETURN_ANSWERS)
        created = True
    if sent:
        form_versions.use(version)
    session.flush()
    return created
