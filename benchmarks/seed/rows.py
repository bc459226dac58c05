"""Rows waiting to be written, by table, and the shared state of a seeding run."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.seed.text import Prose

UK = ZoneInfo("Europe/London")
DOMAIN = "bench.example.org"
PASSWORD = "grants-demo-password"  # the demo's, so anyone can sign in as a seeded user
_MICROSECOND = timedelta(microseconds=1)


class RawJSON(str):
    """JSON already serialised: written as it is."""


class Rows:
    """Rows as dicts, kept per table in insertion order until flushed."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.ids: dict[str, itertools.count] = defaultdict(lambda: itertools.count(1))
        self.counts: dict[str, int] = defaultdict(int)

    def next_id(self, table: str) -> int:
        return next(self.ids[table])

    def add(self, table: str, **values: Any) -> dict[str, Any]:
        self.tables[table].append(values)
        self.counts[table] += 1
        return values

    def take_all(self) -> dict[str, list[dict[str, Any]]]:
        """The rows waiting, handed over (to the writer); the buffer starts again empty."""
        tables, self.tables = self.tables, defaultdict(list)
        return tables


@dataclass
class Seeding:
    """Everything a generator needs: the random generator, the clock, the rows."""

    rng: random.Random
    today: date
    password_hash: str
    rows: Rows = field(default_factory=Rows)
    prose: Prose = field(init=False)

    def __post_init__(self) -> None:
        self.prose = Prose(self.rng)
        # Every moment generated is before this one: the start of today, UTC.
        self.now = datetime.combine(self.today, time(0, 0), tzinfo=UTC)

    def between(self, start: datetime, end: datetime) -> datetime:
        """A moment in [start, end), never later than ``now`` (microseconds kept, as the
        services write them)."""
        end = min(end, self.now - timedelta(minutes=1))
        if end <= start:
            return start
        return start + timedelta(microseconds=int(self.rng.random() * (
            (end - start) // _MICROSECOND)))

    def hex(self, bits: int = 128) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"


def uk_moment(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UK).astimezone(UTC)


def financial_year_of(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1
