"""Bids as the portal would have left them: the facts of each bid first (who, what, when,
which status), then its rows: sections, budget lines, outcome measures, questions,
assessments with scores, moderation, the decision and the audit trail.

Every status is reached the way the services reach it: a submitted bid has every section
completed and a reference; assessed bids have two assessors of their own area; decided
bids have a decision; the amounts copied onto the bid are the sums of its lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from benchmarks.seed.audit import AuditLog
from benchmarks.seed.people import Person, RoundPlan
from benchmarks.seed.rows import Seeding
from benchmarks.seed.text import (
    ACTIONS,
    BUDGET_ITEMS,
    HOW_MEASURED,
    ISSUES,
    MEASURES,
    PLACES,
    person,
)

SECTION_KEYS = ["about", "problem", "delivery", "outcomes", "budget", "youth", "declarations"]
ASSESSED = {"in_assessment", "more_information_requested", "awarded", "not_funded"}
DECIDED = {"awarded", "not_funded"}
RANKABLE = {"submitted", "in_assessment", "more_information_requested"}
DAY = timedelta(days=1)


@dataclass
class Assessment:
    id: int
    assessor: Person
    assigned_at: datetime
    conflict: str = "undeclared"
    status: str = "not_started"
    scores: list[tuple[int, int | None]] = field(default_factory=list)
    recommendation: str | None = None
    declared_at: datetime | None = None
    submitted_at: datetime | None = None
    points: int | None = None


@dataclass
class BidFacts:
    id: int
    plan: RoundPlan
    organisation_id: int
    officer: Person
    status: str
    created_at: datetime
    years: int = 1
    title: str = ""
    start: date | None = None
    end: date | None = None
    issues: list[str] = field(default_factory=list)
    # (position, item, kind, pence) and (id, measure, target, how measured)
    lines: list[tuple[int, str, str, int]] = field(default_factory=list)
    measures: list[tuple[int, str, int, str]] = field(default_factory=list)
    match: int = 0
    sections: list[tuple[str, str, int, datetime]] = field(default_factory=list)
    submitted_at: datetime | None = None
    reference: str | None = None
    assessments: list[Assessment] = field(default_factory=list)
    question_at: datetime | None = None
    withdrawn_at: datetime | None = None
    decided_at: datetime | None = None
    decision_id: int | None = None
    decision_reference: str | None = None
    awarded: int = 0
    quality: float = 2.5

    @property
    def asked(self) -> int:
        return sum(line[3] for line in self.lines)

    @property
    def updated_at(self) -> datetime:
        moments = [self.created_at, self.submitted_at, self.withdrawn_at, self.decided_at,
                   self.question_at, *(s[3] for s in self.sections),
                   *(a.assigned_at for a in self.assessments)]
        return max(m for m in moments if m is not None)


# --- facts ---------------------------------------------------------------------------------------


def _content(s: Seeding, facts: BidFacts, schedule_years: Callable[[BidFacts], int]) -> None:
    """What the officer wrote: title, dates, issues, budget lines, outcome measures."""
    rng, plan = s.rng, facts.plan
    facts.title = f"{rng.choice(ACTIONS)} in {rng.choice(PLACES)}"[:120]
    facts.start = date(plan.year, 4, 1) + timedelta(days=rng.randint(60, 190))
    facts.years = schedule_years(facts) if plan.fund.multi_year else 1
    if facts.years == 1 and rng.random() < 0.15:
        facts.end = date(plan.year + 1, rng.choice([1, 2]), 28)
    else:
        facts.end = date(plan.year + facts.years, 3, 31)
    facts.issues = sorted(set(rng.sample(ISSUES[:-1], rng.randint(1, 3))
                              + (["youth"] if plan.fund.youth else [])))
    count = rng.randint(1, 4)
    low, high = (8_000, 60_000) if plan.fund.cap is None else (500, plan.fund.cap // 100)
    pounds = rng.randint(max(low, count), high)
    cuts = sorted(rng.sample(range(1, pounds), count - 1)) if count > 1 else []
    shares = [b - a for a, b in zip([0, *cuts], [*cuts, pounds])]
    items = rng.sample(BUDGET_ITEMS, count)
    facts.lines = [(i, item, kind, share * 100)
                   for i, ((item, kind), share) in enumerate(zip(items, shares), start=1)]
    facts.match = 0 if rng.random() < 0.7 else rng.randint(100, 5_000) * 100
    facts.measures = [(s.rows.next_id("outcome_measures"), measure, rng.randint(10, 500),
                       rng.choice(HOW_MEASURED))
                      for measure in rng.sample(MEASURES, rng.randint(1, 3))]


def _window(s: Seeding, plan: RoundPlan, room: timedelta) -> tuple[datetime, datetime]:
    """When a bid of this round could have been started, leaving ``room`` for what follows."""
    last = plan.closes_at - 3 * DAY if not plan.current else s.now - room
    return plan.opens_at, max(plan.opens_at + DAY, last)


def _assess(s: Seeding, facts: BidFacts, start: datetime, finished: bool) -> None:
    """Two assessors of the bid's own area; submitted scores if ``finished``."""
    rng, plan = s.rng, facts.plan
    for assessor in rng.sample(plan.area.assessors, 2):
        item = Assessment(s.rows.next_id("assignments"), assessor,
                          s.between(start, start + 10 * DAY))
        roll = rng.random()
        if not finished and roll < 0.02:
            item.conflict, item.declared_at = "conflicted", s.between(item.assigned_at,
                                                                      item.assigned_at + 3 * DAY)
        elif finished or roll < 0.7:
            item.conflict = "none"
            item.declared_at = s.between(item.assigned_at, item.assigned_at + 3 * DAY)
            complete = finished or roll < 0.45
            item.status = "submitted" if complete else "draft"
            for criterion in plan.criteria:
                score = max(0, min(5, round(rng.gauss(facts.quality, 0.7))))
                item.scores.append((criterion.id,
                                    score if complete or rng.random() < 0.5 else None))
            item.points = sum(score * c.weight * 20 for (_cid, score), c
                              in zip(item.scores, plan.criteria) if score is not None)
            if complete:
                item.submitted_at = s.between(item.declared_at, item.declared_at + 14 * DAY)
                item.recommendation = ("do_not_fund" if facts.quality < 2.5 else
                                       rng.choice(["fund", "fund", "fund_with_conditions"]))
        facts.assessments.append(item)


def bid_facts(s: Seeding, plan: RoundPlan, status: str,
              schedule_years: Callable[[BidFacts], int]) -> BidFacts:
    rng = s.rng
    csp = rng.choice(plan.area.csps)
    room = {"draft": 2 * DAY, "submitted": 5 * DAY}.get(status, 70 * DAY)
    first, last = _window(s, plan, room)
    facts = BidFacts(s.rows.next_id("bids"), plan, csp, rng.choice(plan.area.officers[csp]),
                     status, s.between(first, last))
    facts.quality = rng.uniform(2.6, 4.8) if status == "awarded" else rng.uniform(0.5, 3.6)
    _content(s, facts, schedule_years)
    keys = [k for k in SECTION_KEYS if k != "youth" or plan.fund.youth]
    submitted = status != "draft"
    saved = keys if submitted else keys[:rng.randint(0, len(keys))]
    end_of_writing = facts.created_at + rng.randint(1, 25) * DAY
    if not plan.current:
        end_of_writing = min(end_of_writing, plan.closes_at - DAY)
    moment = facts.created_at
    for key in saved:
        moment = s.between(moment, end_of_writing)
        done = submitted or rng.random() < 0.7
        facts.sections.append((key, "completed" if done else "in_progress",
                               rng.randint(1, 3), moment))
    if not submitted:
        return facts
    facts.submitted_at = s.between(moment, end_of_writing + DAY)
    after_close = max(facts.submitted_at, plan.closes_at) if not plan.current \
        else facts.submitted_at
    if status in ASSESSED or (status == "withdrawn" and rng.random() < 0.6):
        _assess(s, facts, after_close + DAY, finished=status in DECIDED)
    busy = max([facts.submitted_at, *(a.submitted_at or a.assigned_at
                                      for a in facts.assessments)])
    if status == "more_information_requested":
        facts.question_at = s.between(busy, busy + 10 * DAY)
    elif status == "withdrawn":
        facts.withdrawn_at = s.between(busy, busy + 20 * DAY)
    elif status in DECIDED:
        facts.decided_at = s.between(busy + DAY, busy + 30 * DAY)
        facts.decision_id = s.rows.next_id("decisions")
        if status == "awarded":
            asked = facts.asked
            # Three in four get what they asked for; the rest a part, in whole £10s.
            facts.awarded = asked if rng.random() < 0.75 else \
                max(1000, int(asked * rng.uniform(0.7, 0.95)) // 1000 * 1000)
    return facts


def number_references(plan: RoundPlan, bids: list[BidFacts]) -> None:
    """References in order of submission, as the counter gives them."""
    submitted = sorted((b for b in bids if b.submitted_at), key=lambda b: (b.submitted_at, b.id))
    for number, facts in enumerate(submitted, start=1):
        facts.reference = f"{plan.fund.code}-{plan.year}-{number:04d}"
    plan.references = len(submitted)


def number_decisions(year: int, bids: list[BidFacts]) -> int:
    decided = sorted((b for b in bids if b.decided_at), key=lambda b: (b.decided_at, b.id))
    for number, facts in enumerate(decided, start=1):
        facts.decision_reference = f"DEC-{year}-{number:04d}"
    return len(decided)


# --- rows ----------------------------------------------------------------------------------------


def _answers(s: Seeding, facts: BidFacts, key: str) -> dict:
    prose, rng = s.prose, s.rng
    if key == "about":
        return {"title": facts.title, "summary": prose.paragraph(2, 5, 1000),
                "start_date": facts.start.isoformat(), "end_date": facts.end.isoformat()}
    if key == "problem":
        place = facts.plan.area.csp_names[facts.organisation_id]
        return {"issue_types": facts.issues, "other_issue": "", "district": place,
                "places": prose.paragraph(1, 2, 500),
                "priority_category": rng.choice(["emerging", "preventing", "sustaining"]),
                "evidence_sources": prose.paragraph(1, 3, 1000),
                "evidence_shows": prose.paragraph(2, 6, 2000)}
    if key == "delivery":
        return {"activities": prose.paragraph(2, 6, 2000),
                "delivered_by": prose.paragraph(1, 2, 1000),
                "partners": prose.paragraph(1, 2, 1000)}
    if key == "outcomes":
        return {"rows": [{"measure": m, "target": t, "how_measured": h}
                         for _id, m, t, h in facts.measures]}
    if key == "budget":
        return {"rows": [{"item": item, "kind": kind, "amount_pence": pence}
                         for _p, item, kind, pence in facts.lines],
                "match_funding_pence": facts.match,
                "match_funding_sources": "The district council" if facts.match else ""}
    if key == "youth":
        return {"age_from": rng.randint(10, 14), "age_to": rng.randint(15, 19),
                "young_people": rng.randint(10, 200), "safeguarding_lead": person(rng),
                "safeguarding_policy": True, "dbs_checked": True}
    return {"accurate": True, "authorised": True, "name": facts.officer.name,
            "role": "Community safety officer"}


def _bid_row(s: Seeding, facts: BidFacts) -> None:
    saved = {key for key, *_rest in facts.sections}
    before = None
    if facts.status == "more_information_requested":
        before = "in_assessment" if facts.assessments else "submitted"
    s.rows.add(
        "bids", id=facts.id, round_id=facts.plan.id, organisation_id=facts.organisation_id,
        status=facts.status, reference=facts.reference,
        creation_token=f"bench-{facts.id}-{s.hex(64)}",
        title=facts.title if "about" in saved else None,
        start_date=facts.start if "about" in saved else None,
        end_date=facts.end if "about" in saved else None,
        issue_types=facts.issues if "problem" in saved else [],
        amount_requested_pence=facts.asked if "budget" in saved else 0,
        match_funding_pence=facts.match if "budget" in saved else 0,
        created_by_id=facts.officer.id, created_at=facts.created_at,
        updated_at=facts.updated_at, submitted_at=facts.submitted_at,
        withdrawn_at=facts.withdrawn_at,
        withdrawal_reason="The project is no longer needed." if facts.withdrawn_at else None,
        status_before_request=before)
    for key, status, version, at in facts.sections:
        s.rows.add("bid_sections", bid_id=facts.id, key=key, status=status, version=version,
                   answers=_answers(s, facts, key), updated_at=at, updated_by_id=facts.officer.id)
    if "budget" in saved:
        for position, item, kind, pence in facts.lines:
            s.rows.add("budget_lines", id=s.rows.next_id("budget_lines"), bid_id=facts.id,
                       position=position, item=item, kind=kind, amount_pence=pence)
    if "outcomes" in saved:
        for position, (measure_id, measure, target, how) in enumerate(facts.measures, start=1):
            s.rows.add("outcome_measures", id=measure_id, bid_id=facts.id, position=position,
                       measure=measure, target=target, how_measured=how)


def _assessment_rows(s: Seeding, facts: BidFacts, audit: AuditLog) -> None:
    rows, manager = s.rows, facts.plan.area.manager
    for number, item in enumerate(facts.assessments):
        rows.add("assignments", id=item.id, bid_id=facts.id, assessor_id=item.assessor.id,
                 assigned_by_id=manager.id, assigned_at=item.assigned_at,
                 conflict=item.conflict,
                 conflict_reason="I live next to the project site."
                 if item.conflict == "conflicted" else None,
                 declared_at=item.declared_at, status=item.status,
                 recommendation=item.recommendation,
                 comments=s.prose.sentence() if item.recommendation else None,
                 submitted_at=item.submitted_at, weighted_basis_points=item.points,
                 version=1 + (item.status != "not_started") + (item.status == "submitted"))
        for criterion_id, score in item.scores:
            rows.add("scores", id=rows.next_id("scores"), assignment_id=item.id,
                     criterion_id=criterion_id, score=score,
                     justification=s.prose.sentence() if score is not None else "",
                     updated_at=item.submitted_at or item.declared_at)
        audit.record(item.assigned_at, manager, "assessment.assigned", "bid", facts.id,
                     after={"assessor": item.assessor.name, "assignment": item.id})
        if number == 0:
            audit.record(item.assigned_at, manager, "bid.status_changed", "bid", facts.id,
                         before={"status": "submitted"}, after={"status": "in_assessment"})
        if item.submitted_at:
            audit.record(item.submitted_at, item.assessor, "assessment.submitted", "bid",
                         facts.id, after={"assessor": item.assessor.name, "status": "submitted",
                                          "recommendation": item.recommendation,
                                          "weighted": item.points})
    _moderation(s, facts, audit)


def _moderation(s: Seeding, facts: BidFacts, audit: AuditLog) -> None:
    """The manager moderates some of the bids whose assessors differ by 2 or more."""
    done = [a for a in facts.assessments if a.status == "submitted"]
    if len(done) < 2 or s.rng.random() < 0.6:
        return
    first, second = (dict(a.scores) for a in done[:2])
    if max(abs(first[c] - second[c]) for c in first) < 2:
        return
    rows, manager, criteria = s.rows, facts.plan.area.manager, facts.plan.criteria
    scores = {c.id: (first[c.id] + second[c.id] + 1) // 2 for c in criteria}
    points = sum(scores[c.id] * c.weight * 20 for c in criteria)
    latest = max(a.submitted_at for a in done)
    at = s.between(latest, facts.decided_at or latest + 5 * DAY)
    moderation = rows.next_id("moderations")
    rows.add("moderations", id=moderation, bid_id=facts.id, moderated_by_id=manager.id,
             moderated_at=at, rationale="Moderated where the assessors disagreed.",
             weighted_basis_points=points)
    for criterion_id, score in scores.items():
        rows.add("moderated_scores", id=rows.next_id("moderated_scores"),
                 moderation_id=moderation, criterion_id=criterion_id, score=score)
    audit.record(at, manager, "assessment.moderated", "bid", facts.id,
                 after={"scores": {str(k): v for k, v in scores.items()},
                        "rationale": "Moderated where the assessors disagreed.",
                        "weighted": points})


def _outcome_rows(s: Seeding, facts: BidFacts, audit: AuditLog) -> None:
    """Questions, withdrawal and the decision, each with its audit events."""
    rows, manager, officer = s.rows, facts.plan.area.manager, facts.officer
    if facts.question_at:
        question = "Please send the quotes behind the budget."
        rows.add("information_requests", id=rows.next_id("information_requests"),
                 bid_id=facts.id, question=question, asked_by_id=manager.id,
                 asked_at=facts.question_at, respond_by=(facts.question_at + 14 * DAY).date(),
                 answer=None, answered_by_id=None, answered_at=None)
        audit.record(facts.question_at, manager, "bid.status_changed", "bid", facts.id,
                     before={"status": "in_assessment" if facts.assessments else "submitted"},
                     after={"status": "more_information_requested", "question": question})
    if facts.withdrawn_at:
        audit.record(facts.withdrawn_at, officer, "bid.status_changed", "bid", facts.id,
                     before={"status": "in_assessment" if facts.assessments else "submitted"},
                     after={"status": "withdrawn", "reason": "The project is no longer needed."})
    if not facts.decided_at:
        return
    approved = facts.status == "awarded"
    rows.add("decisions", id=facts.decision_id, bid_id=facts.id,
             reference=facts.decision_reference,
             outcome="approved" if approved else "declined", amount_pence=facts.awarded,
             purpose=facts.title if approved else "",
             conditions="Publicise the OPCC's support." if approved else "",
             crime_reduction_reasons=s.prose.sentence() if approved else "",
             feedback="" if approved else s.prose.paragraph(1, 3, 1000),
             decided_by_id=manager.id, decided_at=facts.decided_at,
             decision_date=facts.decided_at.date())
    audit.record(facts.decided_at, manager, "decision.approved" if approved
                 else "decision.declined", "bid", facts.id,
                 after={"reference": facts.decision_reference, "amount": facts.awarded})
    audit.record(facts.decided_at, manager, "bid.status_changed", "bid", facts.id,
                 before={"status": "in_assessment"},
                 after={"status": facts.status, "decision": facts.decision_reference})


def bid_rows(s: Seeding, facts: BidFacts, audit: AuditLog) -> None:
    _bid_row(s, facts)
    plan, officer = facts.plan, facts.officer
    audit.record(facts.created_at, officer, "bid.created", "bid", facts.id,
                 after={"round": plan.name, "fund": plan.fund.name})
    for key, status, version, at in facts.sections:
        audit.record(at, officer, "bid.section_saved", "bid", facts.id,
                     after={"section": key, "status": status, "version": version})
    if facts.submitted_at:
        audit.record(facts.submitted_at, officer, "bid.status_changed", "bid", facts.id,
                     before={"status": "draft"},
                     after={"status": "submitted", "reference": facts.reference})
    _assessment_rows(s, facts, audit)
    _outcome_rows(s, facts, audit)
    if facts.status in RANKABLE:
        plan.rankable_asked += facts.asked
    plan.committed += facts.awarded
