"""Measurements made in-process with the Flask test client, apart from the load runs:

- SQL statements per request, counted with the app engine's ``before_cursor_execute`` event
  (as the tests' ``count_queries`` fixture does), with the time they took, so a slow page
  says whether the database or Python (templates, formatting) costs it;
- peak memory of a process streaming an export (``python -m benchmarks.measure memory``):
  its resident set before the request and at its highest while the response is consumed
  chunk by chunk (sampled from /proc; ``resource.getrusage``'s lifetime peak is kept too).

The portal package is used as it is, configured as the served one is; the test client
signs in through the sign-in form, CSRF token and all.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event

IGNORED = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")


def make_app(database_url: str, instance: Path) -> Flask:
    import os

    os.environ["PORTAL_INSTANCE_PATH"] = str(instance)
    from portal import create_app

    return create_app({
        "DATABASE_URL": database_url, "SECRET_KEY": "bench-secret-key",
        "AUDIT_KEY": "bench-audit-key",
        "MAIL_OUTBOX": str(instance / "outbox"), "UPLOAD_FOLDER": str(instance / "uploads"),
    })


def sign_in(client: FlaskClient, email: str | None, password: str) -> None:
    if email is None:
        return
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if token is None:
        raise SystemExit("the sign-in page has no CSRF token")
    response = client.post("/sign-in", data={"email": email, "password": password,
                                             "csrf_token": token.group(1)})
    if response.status_code != 302:
        raise SystemExit(f"in-process sign-in as {email} failed ({response.status_code})")


def _counted(statement: str) -> bool:
    return not statement.lstrip().upper().startswith(IGNORED)


@contextmanager
def statements(engine: Engine) -> Iterator[list[list[Any]]]:
    """Every SQL statement run in the block: [text, parameters, started, seconds]."""
    seen: list[list[Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if _counted(statement):
            seen.append([statement, parameters, time.perf_counter(), 0.0])

    def after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if _counted(statement) and seen:
            seen[-1][3] = time.perf_counter() - seen[-1][2]

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def query_profile(app: Flask, targets: list[dict], password: str,
                  repeats: int = 5) -> dict[str, dict]:
    """For each target: statements per request, in-process time and SQL time (medians), and
    the plan of its slowest statement."""
    from portal.db import get_db

    engine = get_db(app).engine
    clients: dict[str | None, Any] = {}
    found: dict[str, dict] = {}
    for target in targets:
        email = target.get("email")
        if email not in clients:
            clients[email] = app.test_client()
            sign_in(clients[email], email, password)
        client = clients[email]
        paths = target["paths"]
        runs = repeats
        if target.get("kind") == "export":
            runs = 1  # an export is long already, and its statements do not vary
        else:
            client.get(paths[0]).close()  # warm: templates compiled, connections open
        counts, totals, sql, slowest = [], [], [], (0.0, "", None)
        for number in range(runs):
            path = paths[number % len(paths)]
            with statements(engine) as seen:
                started = time.perf_counter()
                response = client.get(path)
                response.get_data()
                elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code} in-process")
            counts.append(len(seen))
            totals.append(elapsed)
            sql.append(sum(seconds for *_rest, seconds in seen))
            for text, parameters, _started, seconds in seen:
                if seconds > slowest[0]:
                    slowest = (seconds, text, parameters)
        found[target["key"]] = {
            "queries": statistics.median(counts), "queries_min": min(counts),
            "queries_max": max(counts), "in_process_ms": statistics.median(totals) * 1000,
            "sql_ms": statistics.median(sql) * 1000, "slowest_sql_ms": slowest[0] * 1000,
            "slowest_sql": " ".join(slowest[1].split())[:400],
            "slowest_plan": explain(engine, slowest[1], slowest[2])}
    return found


def explain(engine: Engine, statement: str, parameters: Any) -> list[str]:
    """The plan of a SELECT as the database ran it: EXPLAIN ANALYZE on PostgreSQL (the
    statement runs again, read-only), EXPLAIN QUERY PLAN on SQLite."""
    if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
        return []
    prefix = ("EXPLAIN (ANALYZE, BUFFERS) " if engine.dialect.name == "postgresql"
              else "EXPLAIN QUERY PLAN ")
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(prefix + statement, parameters or ()).all()
    except Exception as exc:  # noqa: BLE001 - a plan is a help, not a requirement
        return [f"(no plan: {exc.__class__.__name__})"]
    if engine.dialect.name == "postgresql":
        return [row[0] for row in rows]
    return [str(row[-1]) for row in rows]


# --- memory of a streamed export (run in a process of its own) -----------------------------------


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _rss_kib() -> int:
    """The resident set now (Linux); the peak so far where /proc is missing."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() // 1024
    except OSError:
        return _peak_kib()


def stream_export(database_url: str, instance: Path, path: str, email: str | None,
                  password: str) -> dict:
    app = make_app(database_url, instance)
    client = app.test_client()
    sign_in(client, email, password)
    client.get("/healthz").close()
    gc.collect()
    # Signing in hashes with Argon2 (64 MiB), so the lifetime peak says little: the resident
    # set is sampled while the export streams instead.
    baseline = peak = _rss_kib()
    started = time.perf_counter()
    response = client.get(path, buffered=False)
    size = lines = 0
    for number, chunk in enumerate(response.response):
        data = chunk.encode() if isinstance(chunk, str) else chunk
        size += len(data)
        lines += data.count(b"\n")
        if number % 20 == 0:
            peak = max(peak, _rss_kib())
    response.close()
    peak = max(peak, _rss_kib())
    return {"path": path, "status": response.status_code, "bytes": size, "lines": lines,
            "seconds": round(time.perf_counter() - started, 2), "baseline_kib": baseline,
            "peak_kib": peak, "lifetime_peak_kib": _peak_kib()}


def memory_of(database_url: str, instance: Path, path: str, email: str | None,
              password: str) -> dict:
    """Stream ``path`` in a fresh process; its peak RSS and the growth over its baseline."""
    command = [sys.executable, "-m", "benchmarks.measure", "memory", "--url", database_url,
               "--instance", str(instance), "--path", path, "--password", password]
    if email:
        command += ["--email", email]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False,
                            cwd=Path(__file__).resolve().parent.parent)
    if result.returncode != 0:
        raise SystemExit(f"measuring the memory of {path} failed:\n{result.stderr[-3000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["growth_kib"] = figures["peak_kib"] - figures["baseline_kib"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["memory"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--instance", required=True, type=Path)
    parser.add_argument("--path", required=True)
    parser.add_argument("--email")
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    print(json.dumps(stream_export(args.url, args.instance, args.path, args.email,
                                   args.password)))


if __name__ == "__main__":
    main()
