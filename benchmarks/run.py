"""``make bench``: seed, measure, load, report.

1. Seed a national-scale data set (and a small one, for the export memory comparison) into
   databases of their own: PostgreSQL when TEST_DATABASE_URL is set, SQLite otherwise.
2. Count the SQL statements of each page in-process (the Flask test client).
3. Serve the portal and the reference page with gunicorn (2 workers) on loopback and drive
   each page with wrk, the reference before and after each page; then each export.
4. Measure the peak memory of a process streaming each export, small and full data set;
   then of processes putting a 5, a 50 and a 100 MiB file into S3 (moto's server on
   loopback) and reading it back, and the same on disk (``benchmarks.streaming``).
5. Write benchmarks/results/<timestamp>.md and .json, and print the report.

Settings (environment; see benchmarks/README.md): BENCH_SCALE (1.0), BENCH_SMALL_SCALE
(BENCH_SCALE / 20), BENCH_SECONDS (10), BENCH_WARMUP (2), BENCH_CONNECTIONS (16),
BENCH_REFERENCE_SECONDS (5), BENCH_EXPORT_SECONDS (10), BENCH_EXPORT_CONNECTIONS (2),
BENCH_BACKEND (sqlite|postgresql, to choose), BENCH_REUSE=1 (keep databases seeded by an
earlier run at the same scale), BENCH_KEEP=1 (do not drop the databases at the end).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select, text

from benchmarks import database, load, measure, report, streaming, targets
from benchmarks.seed import seed
from benchmarks.seed.rows import PASSWORD
from portal.db import Base

RESULTS = Path(__file__).resolve().parent / "results"


def setting(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def counts(engine: Engine) -> dict:
    tables = ("organisations", "users", "funds", "rounds", "bids", "bid_sections",
              "assignments", "scores", "decisions", "awards", "award_lines", "payments",
              "grant_returns", "return_lines", "audit_events")
    with engine.connect() as connection:
        return {name: connection.scalar(select(func.count()).select_from(
            Base.metadata.tables[name])) for name in tables}


def marker(db: database.BenchDatabase) -> Path:
    return RESULTS / f".{db.backend}-{Path(db.url).name.split('/')[-1]}.seeded.json"


def prepared(db: database.BenchDatabase, scale: float, today: date) -> tuple[dict, float]:
    """The database seeded at ``scale`` (reused when BENCH_REUSE=1 and an earlier run made it
    at the same scale today); its row counts and seeding time."""
    stamp = {"scale": scale, "today": today.isoformat(), "url": db.url}
    if os.environ.get("BENCH_REUSE") == "1" and marker(db).exists():
        saved = json.loads(marker(db).read_text())
        if saved.get("stamp") == stamp:
            print(f"Reusing {db.label} (scale {scale})")
            return saved["counts"], saved["seconds"]
    print(f"Seeding {db.label} at scale {scale}")
    engine = database.create(db)
    made = seed(engine, scale, today)
    seconds = made.pop("seconds")
    engine.dispose()
    marker(db).write_text(json.dumps({"stamp": stamp, "counts": made, "seconds": seconds}))
    return made, seconds


def version_of(db: database.BenchDatabase) -> str:
    if db.backend == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    engine = db.engine()
    with engine.connect() as connection:
        found = connection.scalar(text("SHOW server_version"))
    engine.dispose()
    return f"PostgreSQL {found}"


def load_runs(chosen: list[targets.Target], db: database.BenchDatabase, instance: Path,
              wrk: str, expected: dict[str, float]) -> dict:
    """Every page under load, each between two runs of the reference (on a shared machine
    the speed drifts: each page is compared with the reference measured around it); then
    the exports, each long enough for a few downloads to finish."""
    seconds, warmup = setting("BENCH_SECONDS", 10), setting("BENCH_WARMUP", 2)
    reference_seconds = setting("BENCH_REFERENCE_SECONDS", 5)
    connections = int(setting("BENCH_CONNECTIONS", 16))
    export_seconds = setting("BENCH_EXPORT_SECONDS", 10)
    export_connections = int(setting("BENCH_EXPORT_CONNECTIONS", 2))
    env = load.server_environment(db.url, instance)
    logs = instance / "logs"
    reference = next(t for t in chosen if t.kind == "reference")
    runs: list[dict] = []
    with load.gunicorn("portal", "wsgi:app", env, "/healthz", logs / "portal.log") as portal, \
            load.gunicorn("reference", "benchmarks.reference_app:app", env, reference.paths[0],
                          logs / "reference.log") as ref:

        def drive(target: targets.Target, server: load.Server, duration: float,
                  warm: bool = True) -> dict:
            cookie = load.sign_in(server.port, target.email, PASSWORD) if target.email else None
            for path in target.paths[:3]:
                status = load.check_page(server.port, path, cookie)
                if status != 200:
                    raise SystemExit(f"{path} answered {status}: not loading a broken page")
            export = target.kind == "export"
            options = {"connections": export_connections if export else connections,
                       "threads": 1 if export else 2, "timeout": 120 if export else 30}
            idle = "/healthz" if server is portal else reference.paths[0]
            load.wait_idle(server, idle)
            if warm and not export:
                load.wrk(wrk, server, target.paths, cookie, seconds=warmup, **options)
                load.wait_idle(server, idle)
            figures = load.wrk(wrk, server, target.paths, cookie, seconds=duration, **options)
            load.wait_idle(server, idle)
            print(f"  {target.name:40} {figures['rps']:8.1f} req/s  "
                  f"p95 {figures['latency_us']['p95'] / 1000:8.1f} ms")
            return figures

        runs.append(drive(reference, ref, reference_seconds))
        for target in chosen:
            if target.kind == "page":
                target.figures = drive(target, portal, seconds)
                runs.append(drive(reference, ref, reference_seconds, warm=False))
                target.figures["reference_rps"] = (runs[-2]["rps"] + runs[-1]["rps"]) / 2
        for target in chosen:
            if target.kind == "export":
                duration = min(60.0, max(export_seconds, 3 * expected.get(target.key, 0)))
                target.figures = drive(target, portal, duration)
    return {"runs": runs, "rps": statistics.mean(run["rps"] for run in runs),
            "settings": {"seconds": seconds, "warmup": warmup, "connections": connections,
                         "reference_seconds": reference_seconds,
                         "export_seconds": export_seconds,
                         "export_connections": export_connections}}


def memory_runs(full: list[targets.Target], small: list[targets.Target],
                dbs: tuple[database.BenchDatabase, database.BenchDatabase],
                instance: Path) -> list[dict]:
    found = []
    small_by_key = {t.key: t for t in small}
    for target in full:
        if target.kind != "export":
            continue
        other = small_by_key[target.key]
        item = {"key": target.key, "name": target.name,
                "small": measure.memory_of(dbs[1].url, instance, other.paths[0], other.email,
                                           PASSWORD),
                "full": measure.memory_of(dbs[0].url, instance, target.paths[0], target.email,
                                          PASSWORD)}
        print(f"  {target.name:40} growth {item['small']['growth_kib'] / 1024:6.1f} MiB small,"
              f" {item['full']['growth_kib'] / 1024:6.1f} MiB full")
        found.append(item)
    return found


def main() -> None:
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    today = date.today()
    results: dict = {"started_at": started_at.strftime("%Y-%m-%d %H:%M UTC"),
                     "machine": report.machine()}
    wrk = load.ensure_wrk()
    kind = database.backend()
    scale = setting("BENCH_SCALE", 1.0)
    small_scale = setting("BENCH_SMALL_SCALE", scale / 20)  # a twentieth of the rows
    full_db, small_db = database.database(kind, "bench"), database.database(kind, "bench_small")
    dataset, seed_seconds = prepared(full_db, scale, today)
    small_dataset, _seconds = prepared(small_db, small_scale, today)
    instance = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    try:
        engines = [full_db.engine(), small_db.engine()]
        chosen, chosen_small = (targets.choose(engine, today) for engine in engines)
        dataset = counts(engines[0]) | dataset
        for engine in engines:
            engine.dispose()

        print("Counting SQL statements per request (in-process)")
        app = measure.make_app(full_db.url, instance)
        profile = measure.query_profile(
            app, [{"key": t.key, "paths": t.paths, "email": t.email, "kind": t.kind}
                  for t in chosen if t.kind != "reference"], PASSWORD)
        from portal.db import get_db

        get_db(app).engine.dispose()

        print(f"Load runs against {full_db.label}")
        loads = load_runs(chosen, full_db, instance, wrk,
                          {key: found["in_process_ms"] / 1000 for key, found in profile.items()})
        print("Export memory, small and full data set")
        memory = memory_runs(chosen, chosen_small, (full_db, small_db), instance)
        print("Stored files through S3 (moto) and on disk, 5, 50 and 100 MiB")
        (instance / "streaming").mkdir()
        stored = streaming.streaming_runs(instance / "streaming")
        for line in streaming.summary(stored):
            print(f"  {line}")
    finally:
        shutil.rmtree(instance, ignore_errors=True)

    results.update(
        settings={"scale": scale, "small_scale": small_scale, **loads["settings"]},
        database={"backend": full_db.backend, "label": full_db.label,
                  "version": version_of(full_db)},
        dataset=dataset, small_dataset=small_dataset, seed_seconds=seed_seconds,
        reference={"runs": loads["runs"], "rps": loads["rps"]},
        targets=[{"key": t.key, "name": t.name, "kind": t.kind, "url": t.url, "paths": t.paths,
                  "as": t.email or "anyone", "note": t.note, "load": t.figures,
                  "queries": profile.get(t.key, {})}
                 for t in chosen if t.kind != "reference"],
        memory=memory, streaming=stored, versions=report.versions(wrk),
        load_average_end=list(os.getloadavg()))
    if os.environ.get("BENCH_KEEP") != "1":
        for db in (full_db, small_db):
            database.drop(db)
            marker(db).unlink(missing_ok=True)
    results["total_seconds"] = time.perf_counter() - started
    report.verdicts(results)
    stamp = started_at.strftime("%Y%m%d-%H%M%S") + f"-{full_db.backend}"
    data, text_file = report.write(results, RESULTS, stamp)
    print()
    print(text_file.read_text())
    print(f"Written {text_file.relative_to(RESULTS.parent.parent)} and "
          f"{data.relative_to(RESULTS.parent.parent)}")


if __name__ == "__main__":
    main()
