"""Every action the portal records has a name people can read in histories and the trail."""

from __future__ import annotations

import re
from pathlib import Path

from portal.services.audit import ACTION_LABELS, action_label
from portal.workflows import action_labels

PORTAL = Path(__file__).resolve().parents[2] / "portal"
ACTION = re.compile(r'"((?:assessment|award|bid|decision|fund|return|round|user|variation)'
                    r'\.[a-z_]+)"')


def test_every_recorded_action_has_a_label():
    recorded = {name for path in PORTAL.rglob("*.py") if path.name != "audit.py"
                for name in ACTION.findall(path.read_text())}
    assert len(recorded) > 30  # the scan finds the actions
    named = set(ACTION_LABELS) | set(action_labels())
    assert recorded <= named, sorted(recorded - named)


def test_an_action_without_a_label_shows_its_raw_name():
    assert action_label("something.new") == "something.new"
