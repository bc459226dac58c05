"""The access policy: ``can`` (fast, asked on every page) always agrees with ``reason`` (the
words), for every action, role, partnership and record."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from flask import Flask
from flask_babel import Babel

from portal.models import Role
from portal.services.policy import RULES, Action, NotAllowed, can, reason, require
from portal.workflows import WORKFLOWS


@dataclass
class Person:
    id: int
    roles: set[Role] = field(default_factory=set)
    organisation_id: int | None = None
    active: bool = True
    is_authenticated: bool = True
    name: str = "Sam"

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


@pytest.fixture(autouse=True)
def context():
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        yield


PEOPLE = [Person(1, {role}, organisation_id=10 if role == Role.OFFICER else 1) for role in Role]
PEOPLE += [Person(7, {Role.MANAGER, Role.FINANCE}, organisation_id=1),
           Person(8, {Role.OFFICER}, organisation_id=10, active=False),
           Person(9, set(), is_authenticated=False)]
THINGS = [None,
          SimpleNamespace(organisation_id=10, decision=SimpleNamespace(decided_by_id=7)),
          SimpleNamespace(organisation_id=11, decision=SimpleNamespace(decided_by_id=2))]
TRANSITIONS = [t for w in WORKFLOWS.values() for t in w.transitions.values()]


@pytest.mark.parametrize("action", list(Action) + TRANSITIONS,
                         ids=lambda a: a.value if isinstance(a, Action) else f"transition-{a.name}")
def test_can_agrees_with_reason_for_everyone_and_everything(action):
    for person in PEOPLE:
        for thing in THINGS:
            assert can(person, action, thing) == (reason(person, action, thing) is None), \
                (person, action, thing)


def test_every_action_has_a_rule():
    assert set(RULES) == set(Action)


def test_the_records_own_rules():
    officer = PEOPLE[0]
    ours, theirs = THINGS[1], THINGS[2]
    assert can(officer, Action.ACT_FOR_PARTNERSHIP, ours)
    assert not can(officer, Action.ACT_FOR_PARTNERSHIP, theirs)
    approver = Person(7, {Role.FINANCE}, organisation_id=1)
    assert not can(approver, Action.RECORD_PAYMENT, ours)
    assert can(approver, Action.RECORD_PAYMENT, theirs)
    with pytest.raises(NotAllowed, match="someone else must record"):
        require(approver, Action.RECORD_PAYMENT, ours, otherwise="Only finance")
    with pytest.raises(NotAllowed, match="Only finance"):
        require(officer, Action.RECORD_PAYMENT, ours, otherwise="Only finance")
    assessor = Person(3, {Role.ASSESSOR}, organisation_id=10)
    assert not can(assessor, Action.ASSESS_BID, ours) and can(assessor, Action.ASSESS_BID, theirs)
