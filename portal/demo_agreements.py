"""Demo data, the seeds' agreements as they happened (issue 14, point 4).

- South Cambridgeshire's three-year agreement with the OPCC: £45,000 a year for a CSP Project
  Officer, 2022/23 to 2024/25, "with an associated monitoring and reporting requirement"
  (seed 000, paragraphs 13 to 15: the action plan oversees the new Project Officer).
- The South Cambridgeshire CDRP's allocation for 2016/17 (seed 001, the "Update on South
  Cambs CDRP Action Plan and Funding" of February 2017): its action plan (actions 1.1 to 3.5),
  its budget lines with original and revised allocations, the two re-allocations agreed by
  the OPCC, two six-monthly returns with each action's RAG status, and the hoarding training
  that cost £1,013.70 against its £1,000 line (the £13.70 met by the partnership).

Both are direct awards (``Fund.direct``): stored as the records
``portal.services.agreements.create_direct_award`` makes (a bid, awarded; its approved
decision; the offer made by ``awards.create_offer``; the action plan), written here with the
models because their dates lie years back. What follows the offer (acceptance, payments,
returns and their checks, variations, closing) goes through the services, with the dates
the seeds give put back on the rows afterwards (the audit trail keeps the day the demo was
loaded, the day the portal learnt of them). Safe to run twice: a budget or award already
present is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from portal import demo_plans
from portal.db import UK, session, uk_today
from portal.models import (
    Award,
    Bid,
    Fund,
    GrantReturn,
    OrganisationType,
    Rag,
    ReturnKind,
    ReturnStatus,
    Round,
    RoundYear,
    User,
    VariationKind,
    year_label,
)
from portal.models.funds import PaymentRule, ReturnCadence

SOUTH_CAMBS = "southcambs"


@dataclass(frozen=True)
class DirectFundSpec:
    code: str
    name: str
    purpose: str
    payment_rule: PaymentRule
    terms: str


# The Welsh of the direct funds' name, purpose and terms (issue 16), by code.
DIRECT_FUNDS_CY: dict[str, tuple[str, str, str]] = {
    "CSPA": (
        "Cytundebau partneriaethau diogelwch cymunedol",
        "Cytundebau y mae’r Comisiynydd yn eu gwneud â phartneriaeth heb gystadleuaeth, fel "
        "Swyddog Prosiect PDC a ariennir am dair blynedd, gyda monitro ac adrodd.",
        "Telir mewn ôl-daliadau ar bob ffurflen monitro chwe-misol a gymeradwyir (Ebrill i "
        "Fedi, i’w hadrodd erbyn 31 Hydref; Hydref i Fawrth, i’w hadrodd erbyn 30 Ebrill). "
        "Caiff y grant ei wario ar y llinellau cyllideb a gymeradwywyd; mae angen cytundeb "
        "ysgrifenedig y SCHTh i symud arian rhwng llinellau neu grantiau. Caiff tanwariant ei "
        "ddychwelyd i’r SCHTh a chaiff gordaliadau eu hadennill."),
    "CDRP": (
        "Dyraniadau partneriaethau",
        "Dyraniad blynyddol y Comisiynydd i bartneriaeth diogelwch cymunedol i gyflawni "
        "camau gweithredu ei chynllun gweithredu.",
        "Telir ymlaen llaw ar gyfer y flwyddyn ariannol. Adroddir ar y gwariant ar bob llinell "
        "gyllideb bob chwe mis, ynghyd â chynnydd pob cam gweithredu yn y cynllun gweithredu. "
        "Mae angen cytundeb y SCHTh i ailddyrannu rhwng llinellau; y bartneriaeth sy’n talu am "
        "orwariant ar linell. Caiff tanwariant ei ddychwelyd i’r SCHTh."),
}
DIRECT_ROUND_GUIDANCE_CY = ("Cyllideb ar gyfer dyfarniadau uniongyrchol: nid yw byth ar agor i "
                            "geisiadau.")

DIRECT_FUNDS = [
    # The published PCC grant agreement in the domain brief: six-monthly returns due 31
    # October and 30 April, payment in arrears, underspend returned.
    DirectFundSpec(
        "CSPA", "Community safety partnership agreements",
        "Agreements the Commissioner makes with a partnership without a competition, such as "
        "a CSP Project Officer funded for three years, with monitoring and reporting.",
        PaymentRule.ARREARS,
        "Paid in arrears on each approved six-monthly return (April to September, reported by "
        "31 October; October to March, reported by 30 April). The grant is spent on the "
        "approved budget lines; moving money between lines or grants needs the OPCC's written "
        "agreement. Underspend is returned to the OPCC and overpayments are recovered."),
    # Seed 001: "The CDRP received £15,277 of funding from the Police & Crime Commissioner",
    # paid at the start of the year and reported on six-monthly.
    DirectFundSpec(
        "CDRP", "Partnership allocations",
        "The Commissioner's yearly allocation to a community safety partnership to deliver "
        "the actions of its action plan.",
        PaymentRule.ADVANCE,
        "Paid in advance for the financial year. Spend on each budget line is reported "
        "six-monthly with the progress of each action of the action plan. Re-allocation "
        "between lines needs the OPCC's agreement; an overspend on a line is met by the "
        "partnership. Underspend is returned to the OPCC."),
]


@dataclass(frozen=True)
class LineSpec:
    item: str
    kind: str
    years: dict[int, int]  # pence by financial year
    actions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ActionSpec:
    number: str
    title: str
    lead: str
    target: date | None
    # RAG and narrative in the first and second returns
    reports: tuple[tuple[Rag, str], ...] = ()


def _moment(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UK).astimezone(UTC)


# --- the budgets -----------------------------------------------------------------------------


def _direct_fund(spec: DirectFundSpec) -> bool:
    """The fund, unless it is there already; whether it was made."""
    if session.scalar(select(Fund.id).where(Fund.code == spec.code)) is None:
        name_cy, purpose_cy, terms_cy = DIRECT_FUNDS_CY.get(spec.code, ("", "", ""))
        fund = Fund(code=spec.code, name=spec.name, purpose=spec.purpose, is_youth=False,
                    name_cy=name_cy, purpose_cy=purpose_cy, terms_cy=terms_cy,
                    allows_multi_year=True, direct=True, payment_rule=spec.payment_rule,
                    terms=spec.terms, final_return_weeks=4)  # the final return by 30 April
        session.add(fund)
        session.flush()
        return True
    return False


def _direct_round(fund: Fund, budgets: dict[int, int]) -> Round:
    """The fund's budget for the financial years ``budgets`` names (pence by year): a round
    never open to bids, its pot kept per year."""
    first, last = min(budgets), max(budgets)
    label = year_label(first) if first == last else f"{year_label(first)} to {year_label(last)}"
    label_cy = year_label(first) if first == last else f"{year_label(first)} i {year_label(last)}"
    existing = session.scalar(select(Round).where(Round.fund_id == fund.id, Round.name == label))
    if existing is not None:
        return existing
    round_ = Round(fund=fund, name=label, name_cy=label_cy, financial_year=first,
                   years=last - first + 1,
                   opens_at=_moment(date(first, 4, 1), 9),
                   closes_at=_moment(date(first + 1, 3, 31), 17),  # as setup allows
                   budget_pence=sum(budgets.values()), cap_pence=None, committed_pence=0,
                   eligible_organisation_types=[OrganisationType.CSP.value],
                   return_cadence=ReturnCadence.SIX_MONTHLY,
                   guidance="A budget for direct awards: never open to bids.",
                   guidance_cy=DIRECT_ROUND_GUIDANCE_CY)
    if last > first:  # one year's RoundYear is kept by the models' flush hook
        round_.year_budgets = [RoundYear(financial_year=year, budget_pence=pence,
                                         committed_pence=0)
                               for year, pence in sorted(budgets.items())]
    session.add(round_)
    session.flush()
    return round_


# --- a direct award --------------------------------------------------------------------------


@dataclass(frozen=True)
class AwardSpec:
    fund: str
    budgets: dict[int, int]
    title: str
    start: date
    end: date
    decided: date
    accepted: date
    purpose: str
    conditions: str
    reasons: str
    lines: list[LineSpec]
    actions: list[ActionSpec]


def _direct_award(spec: AwardSpec, officer: User, manager: User) -> Award | None:
    """The direct award of ``spec``, made by the service the grants manager's form uses
    (``agreements.create_direct_award``) as of ``spec.decided``, and accepted by the
    partnership on ``spec.accepted``; None if the award is there already."""
    from portal.services import agreements, awards

    fund = session.scalars(select(Fund).where(Fund.code == spec.fund)).one()
    round_ = _direct_round(fund, spec.budgets)
    token = f"demo-direct-{fund.code}-{SOUTH_CAMBS}-{round_.financial_year}"
    if session.scalar(select(Bid.id).where(Bid.creation_token == token)) is not None:
        return None
    award = agreements.create_direct_award(
        officer.organisation_id, round_.id, title=spec.title, purpose=spec.purpose,
        start_date=spec.start, end_date=spec.end,
        lines=[agreements.LineInput(line.item, line.kind, dict(line.years), list(line.actions))
               for line in spec.lines],
        conditions=spec.conditions, reasons=spec.reasons,
        actions=[agreements.ActionInput(action.number, action.title, action.lead,
                                        action.target) for action in spec.actions],
        token=token, actor=manager, now=_moment(spec.decided))
    # Listed under a section of the plan in force when it was decided, which the form (it
    # offers today's plan) would not: set on the rows, as the dates are.
    sections = demo_plans.grant_sections(spec.title, spec.decided)
    if sections:
        award.bid.plan_sections = sections
        award.plan_section = sections[0]
        session.flush()
    awards.accept(award, officer.name, "Community safety officer", True, officer,
                  now=_moment(spec.accepted))
    return award


def _file_return(award: Award, grant_return: GrantReturn, spend: dict[str, int],
                 reports: dict[str, tuple[Rag, str]], case_study: str, sent: date,
                 checked: date, officer: User, finance: User) -> None:
    """The partnership's return (spend by line item, each action's RAG and narrative), sent
    on ``sent`` and approved by finance on ``checked``."""
    from portal.services import awards

    lines = {line.item: line.id for line in award.lines}
    actions = {action.number: action.id for action in award.actions}
    outcomes = [awards.OutcomeInput(m.id, m.target // 2, "green", "On track")
                for m in award.bid.outcomes]
    awards.save_return(grant_return, {lines[item]: pence for item, pence in spend.items()},
                       outcomes, case_study, 0, submit=True, actor=officer,
                       actions=[awards.ActionInput(actions[number], rag.value, narrative)
                                for number, (rag, narrative) in reports.items()])
    awards.review_return(grant_return, True, "", finance)
    grant_return.submitted_at = _moment(sent)
    grant_return.approved_at = _moment(checked, 15)
    for review in grant_return.reviews:
        review.at = _moment(checked, 15)
    session.flush()


# --- South Cambridgeshire's Project Officer, 2022/23 to 2024/25 ------------------------------

PROJECT_OFFICER_YEAR = 45_000_00
PROJECT_OFFICER = AwardSpec(
    fund="CSPA", budgets={2022: PROJECT_OFFICER_YEAR, 2023: PROJECT_OFFICER_YEAR,
                          2024: PROJECT_OFFICER_YEAR},
    title="CSP Project Officer for South Cambridgeshire",
    start=date(2022, 4, 1), end=date(2025, 3, 31),
    decided=date(2022, 5, 3), accepted=date(2022, 5, 10),
    purpose=("A CSP Project Officer for the South Cambridgeshire Community Safety Partnership, "
             "£45,000 a year for three years (2022/23 to 2024/25)."),
    conditions=("Six-monthly returns on spend and on the action plan (the monitoring and "
                "reporting requirement of the agreement), undertaken by the partnership's "
                "Development Officer, who line manages the postholder. The resource is "
                "publicised to partners and to elected members."),
    reasons=("The postholder will listen to and work with the public to act on their concerns "
             "and support them to assist themselves, developing community resilience, and "
             "will support partners on the CSP to deal with the local issues of crime and "
             "disorder which matter most to people who live and work in the area."),
    lines=[LineSpec("CSP Project Officer", "revenue",
                    {2022: PROJECT_OFFICER_YEAR, 2023: PROJECT_OFFICER_YEAR,
                     2024: PROJECT_OFFICER_YEAR}, ["1"])],
    actions=[ActionSpec("1", "Oversee the work of the new Project Officer",
                        "CSP Development Officer", date(2025, 3, 31),
                        ((Rag.GREEN, "The Project Officer is in post and reports to each "
                          "meeting of the partnership."),))],
)


def _project_officer(officer: User, manager: User, finance: User) -> bool:
    """The agreement, its six-monthly returns approved and paid in arrears as each period's
    return falls due; the award closes once the last is paid."""
    from portal.services import awards

    award = _direct_award(PROJECT_OFFICER, officer, manager)
    if award is None:
        return False
    today = uk_today()
    line = award.lines[0]
    for number, grant_return in enumerate(sorted(award.returns, key=lambda r: r.due_date), 1):
        if grant_return.due_date > today:  # still to come when the demo is loaded
            break
        months = ((grant_return.period_end.year - grant_return.period_start.year) * 12
                  + grant_return.period_end.month - grant_return.period_start.month + 1)
        spend = PROJECT_OFFICER_YEAR * months // 12
        if grant_return.kind == ReturnKind.FINAL:  # what is left of the line
            spend = line.revised_pence - sum(rl.spend_pence for r in award.returns
                                             if r.status == ReturnStatus.APPROVED
                                             for rl in r.lines)
        sent = grant_return.due_date - timedelta(days=10)
        _file_return(award, grant_return, {line.item: spend},
                     {"1": (Rag.GREEN, "The Project Officer ran surgeries in the priority "
                            "parishes and supported partners at the problem-solving groups.")},
                     "Residents of Melbourn raised speeding and anti-social behaviour at a "
                     "surgery; the Project Officer brought the police and the parish council "
                     "together to act on it.", sent, grant_return.due_date, officer, finance)
        due = awards.payable_now(award)
        if due > 0:
            awards.record_payment(award, due, min(grant_return.due_date + timedelta(days=14),
                                                  today),
                                  f"CSPA-SCA-{number}", finance)
    return True


# --- South Cambridgeshire CDRP, 2016/17 ------------------------------------------------------

LEAD = "SCDC Community Safety Officer"
CDRP_YEAR = 2016
FIRST_RETURN_SENT, FIRST_RETURN_CHECKED = date(2016, 10, 21), date(2016, 11, 4)
SECOND_RETURN_SENT, SECOND_RETURN_CHECKED = date(2017, 3, 31), date(2017, 4, 13)


def _cdrp_line(item: str, pounds: int, actions: list[str]) -> LineSpec:
    return LineSpec(item, "revenue", {CDRP_YEAR: pounds * 100}, actions)


CDRP_LINES = [
    _cdrp_line("CCC/Research and Analyst", 4_000, ["3.1", "3.2", "3.3"]),
    _cdrp_line("Community & school presentations of Chelsea's Choice and Tough Love", 4_500,
               ["1.6"]),
    _cdrp_line("Domestic abuse conference", 1_000, ["1.4"]),
    _cdrp_line("Hoarding", 1_000, ["1.1", "1.5"]),
    _cdrp_line("Hate Crime", 500, ["1.8"]),
    _cdrp_line("Community Protection work by CCC", 2_000, ["1.9"]),
    # The seed's table allocates £2,000 here and adds up to £15,777, against the £15,277 the
    # same report says was received (and funds the conference from 2015/16 money): the demo
    # keeps the £15,277 and this line at £1,000 so that the lines add up to the award.
    _cdrp_line("Burglary Prevention", 1_000, ["2.2"]),
    _cdrp_line("Community Engagement", 1_277, ["3.1", "3.2", "3.3"]),
]
BOBBY, PACKS, PARISH_EVENT = ("Contribution to Bobby Scheme",
                              "Information packs for the Parish Training Event",
                              "Parish Training Event")
NEW_LINE_ACTIONS = {BOBBY: ["1.1", "2.2"], PACKS: ["1.1"], PARISH_EVENT: ["1.1"]}

G, A, C = Rag.GREEN, Rag.AMBER, Rag.CLOSED
CDRP_ACTIONS = [
    ActionSpec("1.1", "Localised information and training events on modern day slavery, "
               "human trafficking, cyber crime, hoarding, hate crime and Prevent",
               LEAD, date(2017, 3, 18),
               ((G, "“Good neighbours stop Rogue Traders” promoted at events and libraries. "
                 "Event for parish councils planned for March 2017."),
                (G, "Hoarder training delivered to 20 officers (SCDC and local registered "
                 "social landlords) on 2 February 2017. Event for parish councils held on "
                 "Saturday 18 March 2017."))),
    ActionSpec("1.2", "Contribute to the Serious Organised Crime Local Profile", LEAD, None,
               ((G, "On going: T&CG and locality groups respond to requests for information "
                 "sharing."),
                (G, "On going: T&CG and locality groups respond to requests for information "
                 "sharing and joint working."))),
    ActionSpec("1.3", "Input to scoping and planning of domestic abuse services", LEAD, None,
               ((G, "Contribution made to the 2016 Violence against Women and Girls Needs "
                 "Assessment."),
                (G, "Countywide co-ordinator met the T&CG in January to update on emerging "
                 "trends and priorities."))),
    ActionSpec("1.4", "Host a conference for frontline workers on all types of domestic "
               "abuse", LEAD, date(2016, 9, 27),
               ((C, "Agreed to not hold the conference due to low interest."),
                (C, "Agreed to not hold the conference due to low interest; the OPCC agreed "
                 "to re-allocate the £1,000. Action closed."))),
    ActionSpec("1.5", "Share information about hoarder cases and provide tailored solutions",
               LEAD, None,
               ((G, "Hoarder cases shared across the partnership; training being arranged."),
                (G, "Hoarder training delivered to 20 officers on 2 February 2017. A victim of "
                 "scams supported by partners: 7 bags of scam letters recorded."))),
    ActionSpec("1.6", "Raise awareness of CSE with Chelsea's Choice and Tough Love "
               "performances", LEAD, date(2017, 3, 31),
               ((G, "Performances booked for the village colleges."),
                (G, "“Tough Love” presented to South Cambs village colleges in March 2017; "
                 "evaluation to follow in 2017-18."))),
    ActionSpec("1.7", "Identify and collate CSE resources for different school years", LEAD,
               None,
               ((A, "Some resourcing issues, but the project lead is in contact with the T&CG "
                 "to keep the action on track."),
                (A, "A resource pack on healthy relationships, respect, e-safety, CSE and "
                 "Prevent is being researched and developed."))),
    ActionSpec("1.8", "Raise awareness of how to report hate crime", LEAD, None,
               ((A, "Provisional work with a local employer to include hate crime questions in "
                 "its staff survey."),
                (A, "A Facebook advert on how to report hate crime is planned for late March; "
                 "on-site sessions to be explored in 2017-18."))),
    ActionSpec("1.9", "Increase community resilience to scams and rogue traders", LEAD, None,
               ((G, "Training given to library staff; scams awareness at groups for older "
                 "residents and carers."),
                (G, "Post offices hand out scams awareness information to pension customers; "
                 "7 bin bags of scam mail removed from a victim's home."))),
    ActionSpec("2.1", "Share intelligence, data and information under existing agreements",
               LEAD, None,
               ((G, "On going through T&CG and locality group meetings."),
                (G, "On going; a decision is needed on ECINS, which partners are not "
                 "using."))),
    ActionSpec("2.2", "Promote crime prevention initiatives and advice", LEAD, None,
               ((G, "Crime prevention items bought for Operation Hunter and sold at cost "
                 "price to residents."),
                (G, "Items given free to burglary victims and vulnerable residents; events "
                 "held in Balsham, Gamlingay, Papworth Everard, Melbourn and Milton."))),
    ActionSpec("3.1", "Identify the datasets and information held by CDRP agencies", LEAD,
               None,
               ((G, "Street-level crime data being produced for the Strategic Assessment."),
                (G, "Micro-beat (street-level) crime data included in the Strategic "
                 "Assessment."))),
    ActionSpec("3.2", "Outreach to understand the needs of the District's diverse "
               "communities", LEAD, None,
               ((A, "Staff resource issues have delayed the outreach planned."),
                (A, "Contact information added to the Northstowe welcome pack; the community "
                 "engagement money re-allocated to lines 9 and 10."))),
    ActionSpec("3.3", "Assess the information from 3.1 and 3.2 to inform service planning",
               LEAD, None,
               ((G, "Waiting for the data from 3.1 and 3.2."),
                (G, "Street-level crime data used in the Strategic Assessment; data from 3.2 "
                 "expected from April."))),
    ActionSpec("3.4", "Contribute to the Prevent Strategy by monitoring monthly updates",
               LEAD, None,
               ((G, "Prevent update a standing agenda item of the monthly T&CG."),
                (G, "The Prevent e-learning module is mandatory for front line staff."))),
    ActionSpec("3.5", "Contribute to the Serious Organised Crime Local Profile", LEAD, None,
               ((G, "On going: T&CG and locality groups respond to requests."),
                (G, "On going: T&CG and locality groups respond to requests for information "
                 "sharing."))),
]

CDRP_ALLOCATION = AwardSpec(
    fund="CDRP", budgets={CDRP_YEAR: 15_277_00},  # the one allocation the seeds tell of
    title="South Cambridgeshire CDRP action plan 2016/17",
    start=date(2016, 4, 1), end=date(2017, 3, 31),
    decided=date(2016, 4, 8), accepted=date(2016, 4, 15),
    purpose=("The South Cambridgeshire CDRP's allocation for 2016/17 to deliver its action "
             "plan: protect the vulnerable, tackle dwelling burglary, and understand and build "
             "the resilience of its increasingly diverse communities."),
    conditions=("Activity and spend monitored monthly by the CDRP Tasking & Co-ordination "
                "Group; six-monthly financial returns to the Police & Crime Commissioner; "
                "re-allocation between lines only with the OPCC's agreement."),
    reasons=("The actions add value to the partners' core services where the District's "
             "data shows risk: domestic abuse, hoarding, child sexual exploitation, hate "
             "crime, scams and dwelling burglary."),
    lines=CDRP_LINES, actions=CDRP_ACTIONS,
)

FIRST_RETURN_SPEND = {"CCC/Research and Analyst": 4_000_00,
                      "Community Protection work by CCC": 2_000_00,
                      "Burglary Prevention": 1_000_00}
SECOND_RETURN_SPEND = {
    "Community & school presentations of Chelsea's Choice and Tough Love": 4_500_00,
    # Budget set £1,000, actual cost £1,013.70: the £13.70 is met from SCDC's Community
    # Safety budget (eligible spend is capped at the line).
    "Hoarding": 1_013_70,
    "Hate Crime": 500_00,
    BOBBY: 777_00,
    PACKS: 500_00,
    PARISH_EVENT: 1_000_00,
}
HOARDING_OVERSPEND = 13_70


def _reallocation(award: Award, moves: list[tuple[str, str, int]], reason: str, comment: str,
                  asked: date, agreed: date, officer: User, manager: User) -> None:
    """An approved re-allocation: each move (from line item, to a new line item, pence)."""
    from portal.services import variations

    lines = {line.item: line.id for line in award.lines}
    variation = variations.request_variation(
        award, VariationKind.REALLOCATION, reason, officer,
        moves=[{"from": lines[source], "to": None, "new_item": item, "amount": pence}
               for source, item, pence in moves])
    variations.decide_variation(variation, True, comment, manager)
    variation.requested_at, variation.decided_at = _moment(asked), _moment(agreed, 15)
    for line in award.lines:
        if line.item in NEW_LINE_ACTIONS:
            line.action_numbers = list(NEW_LINE_ACTIONS[line.item])
    session.flush()


def _cdrp(officer: User, manager: User, finance: User) -> bool:
    from portal.services import awards

    award = _direct_award(CDRP_ALLOCATION, officer, manager)
    if award is None:
        return False
    awards.record_payment(award, award.amount_pence, date(2016, 4, 29), "CDRP-SCA-2016",
                          finance)
    first, second = sorted(award.returns, key=lambda r: r.period_start)
    _file_return(award, first, FIRST_RETURN_SPEND,
                 {a.number: a.reports[0] for a in CDRP_ACTIONS},
                 "Crime prevention items for Operation Hunter sold at cost price to "
                 "residents, and given free to burglary victims.",
                 FIRST_RETURN_SENT, FIRST_RETURN_CHECKED, officer, finance)
    _reallocation(award, [("Community Engagement", BOBBY, 777_00),
                          ("Community Engagement", PACKS, 500_00)],
                  "Staff resource issues meant the community engagement outreach could not be "
                  "carried out as planned. Agreed at the January and February T&CG meetings "
                  "to re-allocate line 8 to the Bobby Scheme and to information packs for the "
                  "Parish Training Event.", "Agreed.", date(2017, 1, 20), date(2017, 2, 3),
                  officer, manager)
    _reallocation(award, [("Domestic abuse conference", PARISH_EVENT, 1_000_00)],
                  "Agreed to not hold the domestic abuse conference due to low interest "
                  "(action 1.4 closed).", "Agreed by OPCC to re-allocate the £1,000 funding.",
                  date(2017, 2, 6), date(2017, 2, 10), officer, manager)
    _file_return(award, second, SECOND_RETURN_SPEND,
                 {a.number: a.reports[1] for a in CDRP_ACTIONS},
                 "Hoarder training delivered to 20 officers from SCDC and registered social "
                 "landlords. Budget set was £1,000, actual cost was £1,013.70: the £13.70 is "
                 "funded from the SCDC Community Safety budget.",
                 SECOND_RETURN_SENT, SECOND_RETURN_CHECKED, officer, finance)
    return True


def load(officer: User, manager: User, finance: User) -> bool:
    """Create whatever of the seeds' agreements is missing (their dates are the seeds'),
    written as South Cambridgeshire's ``officer``, the grants ``manager`` and ``finance``;
    return whether anything was."""
    created = False
    for spec in DIRECT_FUNDS:
        created |= _direct_fund(spec)
    created |= demo_plans.align_funds(uk_today())
    created |= _project_officer(officer, manager, finance)
    created |= _cdrp(officer, manager, finance)
    return created
