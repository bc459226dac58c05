"""The benchmark's own databases: PostgreSQL when TEST_DATABASE_URL is set (a database
``<its name or 'portal'>_bench`` beside it, created and dropped as the tests' isolated
databases are), SQLite in benchmarks/results otherwise. Migrated with the portal's own
migrations, so the schema is exactly production's."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url, text

from portal import migrate
from portal.db import make_engine

RESULTS = Path(__file__).resolve().parent / "results"


def normalise_pg(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@dataclass
class BenchDatabase:
    backend: str  # postgresql | sqlite
    url: str
    label: str  # what the report calls it

    def engine(self) -> Engine:
        return make_engine(self.url)


def backend() -> str:
    """``postgresql`` when TEST_DATABASE_URL points at a reachable server (or BENCH_BACKEND
    says so), ``sqlite`` otherwise."""
    chosen = os.environ.get("BENCH_BACKEND", "").strip().lower()
    if chosen in {"sqlite", "postgresql"}:
        return chosen
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        return "sqlite"
    try:
        engine = create_engine(normalise_pg(url))
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means no usable server
        print(f"PostgreSQL at TEST_DATABASE_URL is not reachable ({exc}); using SQLite.")
        return "sqlite"
    return "postgresql"


def database(kind: str, suffix: str) -> BenchDatabase:
    """Where the ``suffix`` database lives (not created yet)."""
    if kind == "sqlite":
        path = RESULTS / f"{suffix}.db"
        return BenchDatabase("sqlite", f"sqlite:///{path}", f"SQLite file {path.name}")
    server = make_url(normalise_pg(os.environ["TEST_DATABASE_URL"]))
    name = f"{server.database or 'portal'}_{suffix}"
    url = server.set(database=name).render_as_string(hide_password=False)
    return BenchDatabase("postgresql", url, f"PostgreSQL database {name}")


def _admin(db: BenchDatabase) -> Engine:
    server = make_url(db.url)
    return create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")


def drop(db: BenchDatabase) -> None:
    if db.backend == "sqlite":
        path = Path(make_url(db.url).database or "")
        for leftover in (path, path.with_name(path.name + "-wal"),
                         path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
        return
    admin = _admin(db)
    name = make_url(db.url).database
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def create(db: BenchDatabase) -> Engine:
    """A new, empty, migrated database (any earlier one of the same name is dropped)."""
    drop(db)
    if db.backend == "postgresql":
        admin = _admin(db)
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{make_url(db.url).database}"'))
        admin.dispose()
    else:
        RESULTS.mkdir(parents=True, exist_ok=True)
    engine = db.engine()
    migrate.upgrade(engine)
    return engine
