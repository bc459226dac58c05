"""`make run` serves where it is told (issue 13, point 15): PORT and HOST, default
127.0.0.1:5000, and the address it prints is the one it serves."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def dry_run(*arguments: str) -> str:
    """The commands ``make run`` would run (``make -n``: nothing is run)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    environment = {key: value for key, value in os.environ.items()
                   if key not in {"HOST", "PORT", "BASE_URL", "MAKEFLAGS", "MFLAGS"}}
    result = subprocess.run(["make", "-n", "run", *arguments], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=60, check=True)
    return result.stdout


def test_port_is_honoured_and_printed():
    commands = dry_run("PORT=8123")
    assert "--bind 127.0.0.1:8123" in commands
    assert "http://127.0.0.1:8123" in commands
    assert ":5000" not in commands


def test_host_and_port_are_honoured_together():
    commands = dry_run("PORT=8080", "HOST=192.0.2.10")
    assert "--bind 192.0.2.10:8080" in commands
    assert "http://192.0.2.10:8080" in commands


@pytest.mark.parametrize(("host", "bind", "visit"), [
    ("0.0.0.0", "0.0.0.0:8080", "http://127.0.0.1:8080"),
    ("::", "[::]:8080", "http://[::1]:8080"),
    ("2001:db8::5", "[2001:db8::5]:8080", "http://[2001:db8::5]:8080"),
])
def test_a_wildcard_or_ipv6_host_listens_there_and_links_to_an_address_one_can_visit(
        host, bind, visit):
    commands = dry_run("PORT=8080", f"HOST={host}")
    assert f"--bind {bind}" in commands
    assert visit in commands and "http://0.0.0.0" not in commands


def test_a_port_that_is_not_a_number_is_refused_before_anything_runs():
    commands = dry_run("PORT=abc")
    assert "PORT must be a port number" in commands


def test_the_default_is_loopback_port_5000():
    commands = dry_run()
    assert "--bind 127.0.0.1:5000" in commands
    assert "http://127.0.0.1:5000" in commands


def test_the_readme_says_how():
    readme = (ROOT / "README.md").read_text()
    assert "make run PORT=8080" in readme and "HOST=0.0.0.0" in readme
