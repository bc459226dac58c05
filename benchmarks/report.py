"""The report: results/<timestamp>.json (everything measured) and .md (the tables)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

GOAL_RATIO = 0.5  # at least half the reference's throughput
GOAL_P95_MS = 100.0  # p95 latency at the page concurrency


def machine() -> dict:
    def read(path: str) -> str:
        try:
            return Path(path).read_text()
        except OSError:
            return ""

    cpu = next((line.split(":", 1)[1].strip() for line in read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    memory = next((int(line.split()[1]) for line in read("/proc/meminfo").splitlines()
                   if line.startswith("MemTotal:")), 0)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": os.cpu_count(), "cores_usable": usable,
            "memory_gib": round(memory / 1024 / 1024, 1), "python": sys.version.split()[0],
            "platform": platform.platform(), "load_average": list(os.getloadavg())}


def versions(wrk: str) -> dict:
    def out(command: list[str]) -> str:
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=10,
                                    check=False)
            return (result.stdout or result.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "unknown"

    from importlib.metadata import version

    commit = out(["git", "-C", str(Path(__file__).resolve().parent.parent), "describe",
                  "--always", "--dirty"])
    wrk_version = out([wrk, "--version"]).split(" [")[0].removeprefix("wrk ")
    return {"wrk": wrk_version, "gunicorn": version("gunicorn"),
            "flask": version("flask"), "sqlalchemy": version("sqlalchemy"),
            "boto3": version("boto3"), "moto": version("moto"), "commit": commit}


def _ms(microseconds: float) -> str:
    return f"{microseconds / 1000:.1f}"


def _mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


def _loads(values: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


def verdicts(results: dict) -> None:
    """Mark each page as meeting the goal or not, and say why not."""
    for target in results["targets"]:
        load = target["load"]
        reference = load.get("reference_rps") or results["reference"]["rps"]
        target["ratio"] = load["rps"] / reference if reference else 0.0
        errors = sum(load["errors"].values())
        misses = []
        if target["kind"] == "page":
            if target["ratio"] < GOAL_RATIO:
                misses.append(f"throughput {target['ratio']:.2f} × reference (goal ≥ "
                              f"{GOAL_RATIO})")
            if load["latency_us"]["p95"] / 1000 >= GOAL_P95_MS:
                misses.append(f"p95 {_ms(load['latency_us']['p95'])} ms (goal < "
                              f"{GOAL_P95_MS:.0f} ms)")
        if errors:
            misses.append(f"{errors} requests failed or timed out (" + ", ".join(
                f"{kind} {n}" for kind, n in load["errors"].items() if n) + ")")
        target["misses"] = misses
    for item in results["memory"]:
        small, full = item["small"]["growth_kib"], item["full"]["growth_kib"]
        # Flat: the full data set (about 20 times the rows) costs no more than twice the
        # small one's growth, or 16 MiB more, whichever is larger.
        item["flat"] = full <= max(2 * small, small + 16 * 1024)


def streaming_lines(found: dict) -> list[str]:
    """The section on stored files (``benchmarks.streaming``): memory of a put and of a read
    through S3 (moto) and ``file:``, each object size in processes of its own."""
    from benchmarks.streaming import summary

    lines = ["", "## Stored files through S3", "",
             ("Memory of a fresh process putting a file of random bytes into the store "
              "(`Store.put`, reading it from disk) and of another reading it back "
              "(`Store.chunks`, 256 KiB pieces; SHA-256 compared with the file's): moto's S3 "
              f"server on loopback (bucket `{found['bucket']}`), and the `file:` backend for "
              "comparison. Baseline: the child's resident set after its imports, with the "
              "store open and checked; growth: its peak (VmHWM) during the phase over that. "
              "boto3 puts a file up to the store's multipart threshold in one request streamed "
              "from the file, a larger one in parts, a few held in memory at once: flat means "
              "the largest object's growth exceeds the next largest's by at most a quarter of "
              "the difference in their sizes (or 4 MiB)."), "",
             *(f"- {line}" for line in summary(found)), "",
             ("| Backend | Object MiB | Put: baseline MiB | Put: growth MiB | Put: seconds | "
              "Read: baseline MiB | Read: growth MiB | Read: seconds | SHA-256 | Flat |"),
             "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for item in found["backends"]:
        for run in item["runs"]:
            put, read = run["put"], run["read"]
            lines.append(
                f"| {item['backend']} | {run['size_mib']} | {_mib(put['baseline_kib'])} | "
                f"{_mib(put['growth_kib'])} | {put['seconds']} | {_mib(read['baseline_kib'])} | "
                f"{_mib(read['growth_kib'])} | {read['seconds']} | "
                f"{'matches' if run['matches'] else '**differs**'} | "
                f"{'yes' if item['flat'] else '**no**'} |")
    return lines


def markdown(results: dict) -> str:
    settings, db, mach = results["settings"], results["database"], results["machine"]
    ref = results["reference"]
    lines = [
        f"# Portal benchmark, {results['started_at']}",
        "",
        f"{db['label']} ({db['version']}); data set at scale {settings['scale']}: "
        + ", ".join(f"{results['dataset'].get(t, 0):,} {t.replace('_', ' ')}"
                    for t in ("organisations", "users", "rounds", "bids", "assignments",
                              "awards", "payments", "grant_returns", "return_lines",
                              "audit_events"))
        + f" (seeded in {results['seed_seconds']} s).",
        "",
        f"Each page: gunicorn, 2 sync workers, on loopback; wrk, {settings['connections']} "
        f"connections, {settings['seconds']:g} s after a {settings['warmup']:g} s warm-up, "
        f"between two {settings['reference_seconds']:g} s runs of the reference page, whose "
        "mean is the page's \"ref req/s\" (the machine is shared: each page is compared with "
        "the reference measured around it). Reference runs, in order: "
        + ", ".join(f"{run['rps']:.0f}" for run in ref["runs"]) + " req/s. Exports: "
        f"{settings['export_connections']} connections, for at least "
        f"{settings['export_seconds']:g} s and three times an in-process download.",
        "",
        "Goal for every page: throughput at least half the reference's, p95 under 100 ms.",
        "",
        ("| Page | Path | Req/s | Ref req/s | × ref | p50 ms | p95 ms | p99 ms | Timeouts | "
         "KiB | SQL/req | SQL ms | In-process ms | Goal |"),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for target in results["targets"]:
        load, queries = target["load"], target.get("queries", {})
        goal = ("—" if target["kind"] != "page" else "met" if not target["misses"]
                else "**missed**")
        sql = (f"{queries['queries']:g}" if queries else "1")
        local = load.get("reference_rps")
        local_text = f"{local:.0f}" if local else "—"
        ratio = f"{target['ratio']:.2f}" if target["kind"] == "page" else "—"
        # wrk counts the bytes of downloads cut off at the end too: exports' sizes are below.
        size = (f"{load['bytes'] / max(1, load['requests']) / 1024:.0f}"
                if target["kind"] == "page" else "—")
        lines.append(
            f"| {target['name']} | `{target['url']}` | {load['rps']:.1f} | {local_text} | "
            f"{ratio} | "
            f"{_ms(load['latency_us']['p50'])} | {_ms(load['latency_us']['p95'])} | "
            f"{_ms(load['latency_us']['p99'])} | {load['errors']['timeout']} | "
            f"{size} | {sql} | "
            f"{queries.get('sql_ms', 0):.1f} | {queries.get('in_process_ms', 0):.1f} | {goal} |")
    lines += ["", ("SQL/req: statements per request (in-process with the test client, counted "
                   "with the engine's `before_cursor_execute`; median of 5 requests, one for "
                   "exports); SQL ms: the time those statements took; in-process ms: the whole "
                   "request without HTTP or queueing; KiB: the size of a response. The "
                   "exports' goal is flat memory (below), not the page goal."), ""]
    floor = {t["key"]: t for t in results["targets"] if t["key"] in {"empty", "empty_signed_in"}}
    if len(floor) == 2:
        empty, signed = floor["empty"], floor["empty_signed_in"]
        lines += [
            (f"The floor: the privacy notice, which reads nothing from the database, runs at "
             f"{empty['ratio']:.2f} × the reference for anyone ("
             f"{empty['queries'].get('in_process_ms', 0):.1f} ms in-process) and at "
             f"{signed['ratio']:.2f} × signed in ({signed['queries'].get('in_process_ms', 0):.1f}"
             " ms: the session cookie, the user with their roles, the CSRF token of the sign-out "
             "form and the page frame). No signed-in page can do better than that; the "
             "reference signs nobody in and draws no page frame."), ""]
    lines += ["## Export memory", "",
              ("Growth of the resident set of a process streaming the export through the "
               "test client: sampled from /proc while the response is consumed chunk by "
               "chunk, over the process's resident set just before the request. Small data "
               "set against full."), "",
              ("| Export | Small: lines | Small: MB | Small: growth MiB | Full: lines | "
               "Full: MB | Full: growth MiB | Full: seconds | Flat |"),
              "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for item in results["memory"]:
        small, full = item["small"], item["full"]
        lines.append(f"| {item['name']} | {small['lines']:,} | {small['bytes'] / 1e6:.2f} | "
                     f"{_mib(small['growth_kib'])} | {full['lines']:,} | "
                     f"{full['bytes'] / 1e6:.2f} | {_mib(full['growth_kib'])} | "
                     f"{full['seconds']} | {'yes' if item['flat'] else '**no**'} |")
    if results.get("streaming"):
        lines += streaming_lines(results["streaming"])
    missed = [t for t in results["targets"] if t["misses"]]
    lines += ["", "## Pages missing the goal", ""]
    if not missed:
        lines.append("None.")
    for target in missed:
        queries = target.get("queries", {})
        lines.append(f"- **{target['name']}** (`{target['url']}`): " + "; ".join(target["misses"])
                     + (f". In-process {queries['in_process_ms']:.0f} ms of which SQL "
                        f"{queries['sql_ms']:.0f} ms in {queries['queries']:g} statements; "
                        f"slowest ({queries['slowest_sql_ms']:.1f} ms): "
                        f"`{queries['slowest_sql'][:160]}…`" if queries else "."))
    # Plans only where the database takes a real share of the time.
    plans = [t for t in missed if t.get("queries", {}).get("slowest_plan")
             and t["queries"]["sql_ms"] >= 10]
    if plans:
        lines += ["", "### Plans of the slowest statements", ""]
    for target in plans:
        queries = target["queries"]
        plan = queries["slowest_plan"]
        lines += [f"{target['name']}, slowest statement ({queries['slowest_sql_ms']:.1f} ms "
                  "in-process; the full plan is in the JSON):", "",
                  "```", *plan[:30], *(["…"] if len(plan) > 30 else []), "```", ""]
    lines += ["", "## Machine", "",
              f"- CPU: {mach['cpu']}, {mach['cores']} cores ({mach['cores_usable']} usable)",
              f"- Memory: {mach['memory_gib']} GiB",
              (f"- Load average at start: {_loads(mach['load_average'])}; at end: "
               f"{_loads(results['load_average_end'])} (a shared machine: compare ratios, "
               "not absolutes)"),
              f"- Python {mach['python']} on {mach['platform']}",
              f"- Database: {db['version']}",
              "- " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()),
              f"- Total run time: {results['total_seconds']:.0f} s", ""]
    return "\n".join(lines)


def write(results: dict, directory: Path, stamp: str) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    data, text = directory / f"{stamp}.json", directory / f"{stamp}.md"
    data.write_text(json.dumps(results, indent=1, default=str) + "\n")
    text.write_text(markdown(results))
    return data, text
