"""A national-scale data set, made quickly and reproducibly from a fixed random seed.

At scale 1: 41 police areas (each an OPCC with 4 to 10 Community Safety Partnerships, two
officers per partnership, four assessors, a grants manager, finance and an administrator),
three funds per area with a round in each of six financial years, 50,000 bids, two
assessments per assessed bid, 15,000 awards with payments and about 40,000 returns with
their lines, and the bids' audit trail. ``scale`` multiplies the bids, awards and returns;
organisations, users, funds and rounds stay the same.

Rows are generated a financial year at a time and written in bulk (COPY on PostgreSQL,
executemany on SQLite), never through the ORM or the services; the one password hash is
computed once and shared by every user.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import date

from flask import Flask
from sqlalchemy import Engine

from benchmarks.seed import awards, bids, people
from benchmarks.seed.audit import AuditLog
from benchmarks.seed.rows import PASSWORD, Seeding, financial_year_of
from benchmarks.seed.writer import Writer

SEED = 2026
BIDS, AWARDS, RETURNS = 50_000, 15_000, 40_000


def password_hash() -> str:
    """The portal's own (strong) hash of the shared password, computed once."""
    from portal.services import accounts

    app = Flask(__name__)
    with app.app_context():
        return accounts.hash_password(PASSWORD)


def _statuses(rng: random.Random, past: int, current: int, awarded: int) -> tuple[list, list]:
    """Exactly ``awarded`` awards: a tenth in the open rounds, the rest in past years."""
    awarded_now = round(awarded * 0.1)
    now = ["awarded"] * awarded_now
    for status, share in (("draft", 0.15), ("submitted", 0.08),
                          ("more_information_requested", 0.05), ("withdrawn", 0.03),
                          ("not_funded", 0.13)):
        now += [status] * round(current * share)
    now += ["in_assessment"] * max(0, current - len(now))
    before = ["awarded"] * (awarded - awarded_now)
    before += ["draft"] * round(past * 0.04) + ["withdrawn"] * round(past * 0.05)
    before += ["not_funded"] * max(0, past - len(before))
    rng.shuffle(now)
    rng.shuffle(before)
    return before, now


def seed(engine: Engine, scale: float = 1.0, today: date | None = None, seed: int = SEED,
         log: Callable[[str], object] = print) -> dict:
    """Fill the (migrated, empty) database behind ``engine``; return the row counts."""
    started = time.perf_counter()
    rng = random.Random(seed)
    s = Seeding(rng, today or date.today(), password_hash())
    current_year = financial_year_of(s.today)
    writer = Writer(engine)
    all_areas = people.areas(s)
    plans = people.funds_and_rounds(s, all_areas, current_year)
    writer.flush(s.rows)

    per_round = Counter(rng.randrange(len(plans)) for _ in range(round(BIDS * scale)))
    current = sum(n for i, n in per_round.items() if plans[i].current)
    total = sum(per_round.values())
    past_statuses, current_statuses = _statuses(rng, total - current, current,
                                                round(AWARDS * scale))
    planner = awards.ReturnPlanner(s, RETURNS / AWARDS)
    audit = AuditLog()
    decisions = Counter()
    for year in sorted({plan.year for plan in plans}):
        year_bids: list[bids.BidFacts] = []
        year_plans = [(i, plan) for i, plan in enumerate(plans) if plan.year == year]
        for index, plan in year_plans:
            statuses = current_statuses if plan.current else past_statuses
            made = []
            for _ in range(per_round[index]):
                facts = bids.bid_facts(s, plan, statuses.pop(), planner.years)
                if facts.status == "awarded":
                    planner.add(facts)
                made.append(facts)
            bids.number_references(plan, made)
            year_bids += made
        decisions[year] = bids.number_decisions(year, year_bids)
        for facts in year_bids:
            bids.bid_rows(s, facts, audit)
            if facts.status == "awarded":
                awards.award_rows(s, facts)
        people.round_rows(s, [plan for _i, plan in year_plans])
        audit.flush(s.rows)
        writer.flush(s.rows)
        log(f"  generated {year}/{(year + 1) % 100:02d}: {len(year_bids)} bids "
            f"({time.perf_counter() - started:.0f}s)")
    for plan in plans:
        if plan.references:
            s.rows.add("reference_counters", prefix=f"{plan.fund.code}-{plan.year}",
                       last=plan.references)
    for year, count in decisions.items():
        if count:
            s.rows.add("reference_counters", prefix=f"DEC-{year}", last=count)
    writer.flush(s.rows)
    writer.finish()
    log(f"  written and analysed ({time.perf_counter() - started:.0f}s)")
    counts = dict(sorted(s.rows.counts.items()))
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts
