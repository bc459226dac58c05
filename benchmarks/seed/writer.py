"""Bulk writes: COPY on PostgreSQL (psycopg), executemany on SQLite, in one transaction.

A thread of its own writes one batch of rows while the next is generated (both databases
do their work outside the GIL, so generation and writing overlap on two cores). Values are
turned into what each database stores the way SQLAlchemy's types would: JSON as text, and
on SQLite dates as ISO text and UTC datetimes as naive ``YYYY-MM-DD HH:MM:SS.ffffff``.
"""

from __future__ import annotations

import json
import operator
import queue
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Date, Engine

from benchmarks.seed.rows import RawJSON, Rows
from portal.db import Base, UTCDateTime

# Parents before children, so every foreign key finds its row.
ORDER = [
    "organisations", "users", "user_roles", "funds", "rounds", "criteria", "bids",
    "bid_sections", "budget_lines", "outcome_measures", "information_requests", "assignments",
    "scores", "moderations", "moderated_scores", "decisions", "awards", "award_lines",
    "payments", "grant_returns", "return_lines", "return_outcomes", "return_reviews",
    "repayments", "audit_events", "reference_counters",
]


def _json(value: Any) -> str:
    return value if isinstance(value, RawJSON) else json.dumps(value)


def _sqlite_datetime(value: datetime) -> str:
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


class Writer:
    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect.name
        self.connection = engine.raw_connection()
        self.driver = self.connection.driver_connection
        self.queue: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="bench-writer", daemon=True)
        if self.dialect == "sqlite":
            cursor = self.driver.cursor()
            cursor.execute("PRAGMA synchronous=OFF")  # one transaction, redone if lost
            cursor.execute("BEGIN")
            cursor.close()
        else:
            self._skip_foreign_key_triggers()
            self.indexes = self._drop_indexes()
        self.thread.start()

    def _drop_indexes(self) -> list[str]:
        """Drop the plain (non-unique) indexes for the load and return how to make them
        again: building an index once over all the rows is cheaper than keeping it up to
        date row by row."""
        with self.driver.cursor() as cursor:
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "JOIN pg_class c ON c.relname = i.indexname "
                "JOIN pg_index x ON x.indexrelid = c.oid "
                "WHERE i.schemaname = current_schema() AND NOT x.indisunique "
                "AND i.tablename = ANY(%s)", (ORDER,))
            found = cursor.fetchall()
            for name, _definition in found:
                cursor.execute(f'DROP INDEX "{name}"')
        return [definition for _name, definition in found]

    def _skip_foreign_key_triggers(self) -> None:
        """On PostgreSQL, load without firing the foreign key triggers (a superuser may):
        a third of the server's work. The generator is the same on SQLite, where every
        foreign key is checked, so a broken reference still fails a run there."""
        with self.driver.cursor() as cursor:
            try:
                cursor.execute("SET session_replication_role = replica")
            except Exception:  # noqa: BLE001 - not a superuser: load with the checks
                self.driver.rollback()

    # --- the writing thread ------------------------------------------------------------------

    def _run(self) -> None:
        while (tables := self.queue.get()) is not None:
            if self.error is None:
                try:
                    for table in ORDER:
                        self._write(table, tables.pop(table, []))
                    assert not tables, f"tables not written: {sorted(tables)}"
                except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                    self.error = exc

    def _converter(self, table: str, column: str) -> Callable[[Any], Any] | None:
        kind = Base.metadata.tables[table].c[column].type
        if isinstance(kind, JSON):
            return _json
        if self.dialect != "sqlite":
            return None
        if isinstance(kind, UTCDateTime):
            return _sqlite_datetime
        if isinstance(kind, Date):
            return lambda value: value.isoformat()
        return None

    def _tuples(self, table: str, rows: list[dict[str, Any]],
                columns: list[str]) -> Iterator[Any]:
        pick = operator.itemgetter(*columns)
        special = [(i, conv) for i, column in enumerate(columns)
                   if (conv := self._converter(table, column)) is not None]
        for row in rows:
            values = pick(row)
            if special:
                values = list(values)
                for index, convert in special:
                    if values[index] is not None:
                        values[index] = convert(values[index])
            yield values

    def _write(self, table: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        names = ", ".join(f'"{c}"' for c in columns)
        if self.dialect == "postgresql":
            with self.driver.cursor() as cursor, \
                    cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for values in self._tuples(table, rows, columns):
                    copy.write_row(values)
        else:
            marks = ", ".join("?" for _ in columns)
            cursor = self.driver.cursor()
            cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
                               self._tuples(table, rows, columns))
            cursor.close()

    # --- the generating thread ---------------------------------------------------------------

    def flush(self, rows: Rows) -> None:
        """Hand the rows waiting to the writing thread (waits while it is still busy with
        the batch before last)."""
        if self.error is not None:
            raise self.error
        self.queue.put(rows.take_all())

    def finish(self) -> None:
        """Wait for the writes and commit; on PostgreSQL move every id sequence past the ids
        written, then VACUUM ANALYZE (what autovacuum would soon do after a load this size)."""
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
        if self.dialect == "postgresql":
            with self.driver.cursor() as cursor:
                for definition in self.indexes:
                    cursor.execute(definition)
                for table in ORDER:
                    columns = Base.metadata.tables[table].c
                    if "id" in columns and columns["id"].primary_key:
                        cursor.execute(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM \"{table}\"")
            self.driver.commit()
            self.driver.autocommit = True
            with self.driver.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            self.driver.autocommit = False
        else:
            cursor = self.driver.cursor()
            cursor.execute("COMMIT")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        self.connection.close()
