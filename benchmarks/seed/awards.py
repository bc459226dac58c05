"""Awards of the approved bids: lines that add up to the award, the return schedule the
portal makes (``awards.return_schedule``), returns filed and checked as time has passed,
payments under the fund's rule, closing with any underspend to repay."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from benchmarks.seed.bids import BidFacts
from benchmarks.seed.rows import Seeding, uk_moment
from portal.models.funds import ReturnCadence
from portal.services.awards import return_schedule

DAY = timedelta(days=1)
FILED = {"draft", "submitted", "queried", "approved"}


class ReturnPlanner:
    """Chooses how many years each multi-year project runs so that the returns come to
    ``ratio`` per award on average (40,000 returns for 15,000 awards)."""

    def __init__(self, s: Seeding, ratio: float) -> None:
        self.s = s
        self.ratio = ratio
        self.awards = 0
        self.returns = 0

    @staticmethod
    def count(start: date, end: date) -> int:
        return len(return_schedule(start, end, ReturnCadence.SIX_MONTHLY, 6))

    def years(self, facts: BidFacts) -> int:
        if facts.status != "awarded":
            return self.s.rng.choice([1, 1, 2, 3])
        wanted = self.ratio * (self.awards + 1) - self.returns
        counts = {years: self.count(facts.start, date(facts.plan.year + years, 3, 31))
                  for years in (1, 2, 3)}
        return min(counts, key=lambda years: (abs(counts[years] - wanted), years))

    def add(self, facts: BidFacts) -> None:
        self.awards += 1
        self.returns += self.count(facts.start, facts.end)


def _status(s: Seeding, due: date, period_end: date, accepted: bool) -> str:
    """How far a return has got, from how long ago it fell due."""
    if not accepted:
        return "due"
    age = (s.today - due).days
    roll = s.rng.random()
    if age > 45:
        table = [(0.96, "approved"), (0.975, "submitted"), (0.985, "queried"), (1, "due")]
    elif age >= 0:
        table = [(0.30, "approved"), (0.70, "submitted"), (0.77, "queried"), (0.85, "draft"),
                 (1, "due")]
    elif period_end < s.today:
        table = [(0.15, "submitted"), (0.40, "draft"), (1, "due")]
    else:
        return "due"
    return next(status for limit, status in table if roll < limit)


def _lines(s: Seeding, facts: BidFacts, award_id: int) -> list[tuple[int, int]]:
    """The bid's lines scaled to the award (the last takes the remainder): (id, pence)."""
    rows, asked = s.rows, facts.asked or 1
    made = []
    for position, item, kind, pence in facts.lines:
        made.append([rows.next_id("award_lines"), position, item, kind,
                     pence * facts.awarded // asked])
    made[-1][4] += facts.awarded - sum(line[4] for line in made)
    for line_id, position, item, kind, pence in made:
        rows.add("award_lines", id=line_id, award_id=award_id, position=position, item=item,
                 kind=kind, original_pence=pence, revised_pence=pence, note="")
    return [(line[0], line[4]) for line in made]


class _Award:
    """One award being built: its returns, then its payments and closing."""

    def __init__(self, s: Seeding, facts: BidFacts, award_id: int,
                 lines: list[tuple[int, int]], accepted_at: datetime | None) -> None:
        self.s, self.facts, self.id, self.lines = s, facts, award_id, lines
        self.accepted_at = accepted_at
        self.ratio = 1.0 if s.rng.random() < 0.6 else s.rng.uniform(0.8, 0.99)
        self.spent = {line_id: 0 for line_id, _pence in lines}  # in any filed return
        self.approved = {line_id: 0 for line_id, _pence in lines}
        self.approvals: list[datetime] = []  # when each approved return was approved
        self.eligible_after: list[int] = []
        self.paid = 0
        self.all_approved = True
        self.last_moment: datetime | None = None

    def returns(self) -> None:
        facts, s = self.facts, self.s
        total_days = (facts.end - facts.start).days + 1
        blocked = False
        for kind, first, last, due in return_schedule(facts.start, facts.end,
                                                      ReturnCadence.SIX_MONTHLY, 6):
            status = _status(s, due, last, self.accepted_at is not None)
            if blocked and status == "approved":
                status = "submitted"  # an earlier return is still open
            blocked = blocked or status != "approved"
            self.all_approved = self.all_approved and status == "approved"
            share = (last - first).days + 1
            spend = {}
            for line_id, pence in self.lines:
                target = int(pence * self.ratio)
                amount = (target * share // total_days if kind.value == "periodic"
                          else target - self.spent[line_id])
                spend[line_id] = max(0, amount // 2 if status == "draft" else amount)
            self._return(kind.value, first, last, due, status, spend)

    def _return(self, kind: str, first: date, last: date, due: date, status: str,
                spend: dict[int, int]) -> None:
        s, rows, finance = self.s, self.s.rows, self.facts.plan.area.finance
        return_id = rows.next_id("grant_returns")
        submitted_at = approved_at = None
        if status in {"submitted", "queried", "approved"}:
            submitted_at = s.between(uk_moment(last + DAY, 9), uk_moment(due + 10 * DAY, 17))
        if status == "approved":
            approved_at = s.between(submitted_at + 2 * DAY, submitted_at + 30 * DAY)
        rows.add("grant_returns", id=return_id, award_id=self.id, kind=kind, period_start=first,
                 period_end=last, due_date=due, status=status,
                 case_study=s.prose.paragraph(1, 3, 1000) if status in FILED else "",
                 forecast_underspend_pence=0, submitted_at=submitted_at,
                 approved_at=approved_at,
                 version={"due": 1, "draft": 2, "submitted": 3}.get(status, 4))
        if status not in FILED:
            return
        for line_id, pence in spend.items():
            rows.add("return_lines", id=rows.next_id("return_lines"), return_id=return_id,
                     award_line_id=line_id, spend_pence=pence)
            self.spent[line_id] += pence
        for measure_id, _measure, target, _how in self.facts.measures:
            rows.add("return_outcomes", id=rows.next_id("return_outcomes"),
                     return_id=return_id, outcome_measure_id=measure_id,
                     achieved=s.rng.randint(0, target + target // 5),
                     rag=s.rng.choice(["green", "green", "amber", "red"]),
                     narrative=s.prose.sentence())
        reviews = []
        if status == "queried" or (status == "approved" and s.rng.random() < 0.06):
            queried_at = s.between(submitted_at + DAY, submitted_at + 10 * DAY)
            reviews.append(("queried", "Please explain the spend on the first line.",
                            finance.id, queried_at))
            if status == "approved":
                reviews.append(("resubmitted", "", self.facts.officer.id,
                                s.between(queried_at, approved_at)))
        if status == "approved":
            reviews.append(("approved", "", finance.id, approved_at))
            for line_id, pence in spend.items():
                self.approved[line_id] += pence
            self.approvals.append(approved_at)
            self.eligible_after.append(self.eligible())
            self.last_moment = approved_at
        for outcome, comments, by, at in reviews:
            rows.add("return_reviews", id=rows.next_id("return_reviews"), return_id=return_id,
                     outcome=outcome, comments=comments, by_id=by, at=at)

    def eligible(self) -> int:
        return sum(min(self.approved[line_id], pence) for line_id, pence in self.lines)

    def pay(self, on: datetime, amount: int, number: int) -> None:
        s, finance = self.s, self.facts.plan.area.finance
        paid_on = min((on + s.rng.randint(1, 10) * DAY).date(), s.today - DAY)
        recorded_at = min(uk_moment(paid_on, 10) + timedelta(minutes=s.rng.randint(0, 420)),
                          s.now - timedelta(minutes=1))
        s.rows.add("payments", id=s.rows.next_id("payments"), award_id=self.id,
                   amount_pence=amount, paid_on=paid_on,
                   reference=f"PAY-{self.facts.reference}-{number}", recorded_by_id=finance.id,
                   recorded_at=recorded_at)
        self.paid += amount
        self.last_moment = max(self.last_moment or recorded_at, recorded_at)

    def payments(self) -> None:
        if self.accepted_at is None:
            return
        if self.facts.plan.fund.rule == "advance":
            self.pay(self.accepted_at, self.facts.awarded, 1)
            return
        for number, (approved_at, eligible) in enumerate(zip(self.approvals,
                                                             self.eligible_after), start=1):
            if eligible > self.paid:
                self.pay(approved_at, eligible - self.paid, number)


def award_rows(s: Seeding, facts: BidFacts) -> None:
    rng, rows, area = s.rng, s.rows, facts.plan.area
    award_id = rows.next_id("awards")
    recent = facts.plan.current and facts.decided_at > s.now - 21 * DAY
    accepted_at = None if recent and rng.random() < 0.5 else \
        s.between(facts.decided_at, facts.decided_at + 14 * DAY)
    accepter = rng.choice(area.officers[facts.organisation_id])
    award = _Award(s, facts, award_id, _lines(s, facts, award_id), accepted_at)
    award.returns()
    award.payments()
    status, closed_at = ("offered" if accepted_at is None else "active"), None
    if accepted_at is not None and award.all_approved and award.paid >= award.eligible():
        status, closed_at = "closed", award.last_moment
        underspend = award.paid - award.eligible()
        if underspend > 0:
            received = closed_at < s.now - 30 * DAY and rng.random() < 0.9
            rows.add("repayments", id=rows.next_id("repayments"), award_id=award_id,
                     amount_pence=underspend, requested_at=closed_at,
                     received_on=min((closed_at + rng.randint(10, 30) * DAY).date(),
                                     s.today - DAY) if received else None,
                     received_reference=f"REPAY-{facts.reference}" if received else None,
                     recorded_by_id=area.finance.id if received else None)
    rows.add("awards", id=award_id, bid_id=facts.id, decision_id=facts.decision_id,
             round_id=facts.plan.id, organisation_id=facts.organisation_id, status=status,
             amount_pence=facts.awarded, paid_pence=award.paid, start_date=facts.start,
             end_date=facts.end, offered_at=facts.decided_at, accepted_at=accepted_at,
             accepted_by_id=accepter.id if accepted_at else None,
             accepted_name=accepter.name if accepted_at else None,
             accepted_role="Community safety officer" if accepted_at else None,
             closed_at=closed_at)
