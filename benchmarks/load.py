"""Load runs: gunicorn (2 sync workers, as ``make run`` serves) on loopback, signed-in
sessions, and wrk driving each page for a bounded time."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
USER_AGENT = "portal-bench"  # sessions are bound to it (Flask-Login "strong" protection)
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_wrk() -> str:
    """wrk's path, installing Debian's package when missing and we may (root)."""
    found = shutil.which("wrk")
    if found:
        return found
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: installing Debian's package (apt-get install wrk)")
        quiet = {"stdout": subprocess.DEVNULL, "env": {**os.environ,
                                                      "DEBIAN_FRONTEND": "noninteractive"}}
        if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False,
                          **quiet).returncode:
            subprocess.run(["apt-get", "update", "-q"], check=True, **quiet)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, **quiet)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed for the load runs: install it (Debian: apt-get install "
                         "wrk) and run make bench again")
    return found


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def server_environment(database_url: str, instance: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"FLASK_DEBUG", "SERVER_NAME", "TRUSTED_PROXIES"}}
    env.update(DATABASE_URL=database_url, SECRET_KEY="bench-secret-key",
               AUDIT_KEY="bench-audit-key", PORTAL_INSTANCE_PATH=str(instance),
               MAIL_OUTBOX=str(instance / "outbox"), UPLOAD_FOLDER=str(instance / "uploads"),
               PYTHONPATH=str(ROOT))
    return env


@contextmanager
def gunicorn(name: str, app: str, env: dict[str, str], probe: str,
             log: Path) -> Iterator[Server]:
    """``gunicorn --workers 2`` serving ``app`` on a free loopback port until the block ends."""
    port = free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
             "--timeout", "120", "--log-level", "warning", app],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    server = Server(name, port, process)
    try:
        _wait_until_up(server, probe, log)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(server: Server, probe: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} did not start:\n{log.read_text()[-3000:]}")
        try:
            status, _headers, _body = get(server.port, probe)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{server.name} did not answer {probe} within 60 s:\n"
                     f"{log.read_text()[-3000:]}")


def _children_cpu(pid: int) -> int:
    """CPU ticks used so far by the children (the workers) of process ``pid``."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total


def wait_idle(server: Server, probe: str, limit: float = 180) -> None:
    """Wait until the workers have finished what wrk left queued.

    wrk stops at its deadline, but requests already sent are still in the workers' queue
    and would be served (using the CPU) during the next run. A probe answered means the
    queue ahead of it has been taken; then wait until the workers stop using CPU."""
    get(server.port, probe)
    deadline = time.monotonic() + limit
    before, quiet = _children_cpu(server.process.pid), 0
    while time.monotonic() < deadline and quiet < 2:  # two quiet spells in a row
        time.sleep(0.3)
        now = _children_cpu(server.process.pid)
        quiet = quiet + 1 if now - before <= 1 else 0
        before = now


def get(port: int, path: str, cookie: str | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"User-Agent": USER_AGENT}
    if cookie:
        headers["Cookie"] = cookie
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def _session_cookie(headers: dict[str, str]) -> str | None:
    match = re.search(r"(?:^|[,\s])session=([^;]*)", headers.get("set-cookie", ""))
    return f"session={match.group(1)}" if match else None


def sign_in(port: int, email: str, password: str) -> str:
    """Sign in through the sign-in form; return the session cookie ("session=...")."""
    status, headers, body = get(port, "/sign-in")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)
    cookie = _session_cookie(headers)
    if status != 200 or token is None or cookie is None:
        raise SystemExit(f"the sign-in page did not give a form and a session (status {status})")
    connection = HTTPConnection("127.0.0.1", port, timeout=120)
    form = urlencode({"email": email, "password": password,
                      "csrf_token": token.group(1).decode()})
    connection.request("POST", "/sign-in", body=form, headers={
        "User-Agent": USER_AGENT, "Cookie": cookie,
        "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    signed_in = _session_cookie({k.lower(): v for k, v in response.getheaders()})
    connection.close()
    if response.status != 302 or signed_in is None:
        raise SystemExit(f"signing in as {email} failed (status {response.status})")
    return signed_in


def check_page(port: int, path: str, cookie: str | None) -> int:
    """The status of one request, to refuse loading a page that does not work."""
    status, _headers, _body = get(port, path, cookie)
    return status


def wrk(executable: str, server: Server, paths: list[str], cookie: str | None, *,
        seconds: float, connections: int, threads: int, timeout: int = 10) -> dict:
    """Run wrk and return what load.lua's done() reported."""
    command = [executable, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               f"--timeout={timeout}s", "-s", str(HERE / "load.lua"), server.base, "--",
               cookie or "-", *paths]
    result = subprocess.run(command, capture_output=True, text=True, check=False,
                            timeout=seconds + timeout + 60)
    line = next((line for line in result.stdout.splitlines() if line.startswith("BENCH_JSON ")),
                None)
    if result.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    figures = json.loads(line.removeprefix("BENCH_JSON "))
    duration = figures["duration_us"] / 1_000_000
    figures["rps"] = figures["requests"] / duration if duration else 0.0
    figures["connections"] = connections
    figures["seconds"] = round(duration, 2)
    return figures
