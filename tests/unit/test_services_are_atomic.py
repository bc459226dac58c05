"""Every service that changes state runs in its own savepoint (``@atomic``): a refusal
leaves no row behind, whatever the view does next. The test finds the services itself."""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "portal" / "services"
# Calls that show a function changes state: every state change is audited or moved.
WRITES = ("audit.record", "move", "session.add", "session.delete")
ENGINE = {"audit.py", "workflow.py", "email.py", "once.py"}  # the machinery itself
# Services whose refusal is itself a change to keep.
KEEPS_ITS_REFUSAL = {
    "accounts.authenticate": "a failed sign-in is counted (throttle) and audited",
}


def _calls(function: ast.FunctionDef) -> set[str]:
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            names.add(ast.unparse(node.func))
    return names


def _decorators(function: ast.FunctionDef) -> set[str]:
    return {ast.unparse(d) for d in function.decorator_list}


def writing_services() -> dict[str, bool]:
    """Public functions of the service modules that write: name -> whether @atomic."""
    found = {}
    for path in sorted(SERVICES.glob("*.py")):
        if path.name in ENGINE:
            continue
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                name = f"{path.stem}.{node.name}"
                if _calls(node) & set(WRITES) and name not in KEEPS_ITS_REFUSAL:
                    found[name] = "atomic" in _decorators(node)
    return found


def test_the_scan_finds_the_services_that_write():
    found = writing_services()
    assert {"bids.submit", "decisions.approve", "awards.record_payment"} <= set(found)


def test_every_service_that_writes_runs_in_its_own_savepoint():
    missing = sorted(name for name, atomic in writing_services().items() if not atomic)
    assert not missing, f"not @atomic: {missing}"
