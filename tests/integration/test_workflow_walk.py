"""A walk of every transition of every workflow in ``portal.workflows``.

Each transition is taken from each of its from-states by a person holding each of its roles
(and then it has happened: the target state and the audit action), and tried from every
other state and by a person of every other role (and then it is refused with a domain
error, and no table's row count nor the audit chain has changed). New workflows and
transitions are walked without anyone adding them here.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from portal.db import session, utcnow
from portal.models import (
    Assignment,
    AuditEvent,
    Award,
    Bid,
    Decision,
    DecisionOutcome,
    GrantReturn,
    Organisation,
    Repayment,
    ReturnKind,
    Role,
    User,
    UserRole,
    Variation,
    VariationKind,
)
from portal.services import DomainError, workflow
from portal.workflows import WORKFLOWS, Workflow
from tests import bidding
from tests.helpers import table_row_counts

CASES = [(w.name, t.name) for w in WORKFLOWS.values() for t in w.transitions.values()]


def _person(role: Role, organisation_id: int, index: int) -> User:
    user = User(name=f"Walker {role.value}", email=f"walker.{role.value}.{index}@example.org",
                organisation_id=organisation_id, security_stamp="walk", active=True)
    user.role_rows = [UserRole(role=role)]
    session.add(user)
    return user


def _records(bid_id: int) -> dict[type, object]:
    """One record of each workflow's model, all about one bid of the demo partnership."""
    bid = session.get(Bid, bid_id)
    manager = session.scalar(select(User).join(UserRole).where(UserRole.role == Role.MANAGER))
    assessor = session.scalar(select(User).join(UserRole).where(UserRole.role == Role.ASSESSOR))
    assignment = Assignment(bid_id=bid.id, assessor_id=assessor.id, assigned_by_id=manager.id)
    decision = Decision(bid_id=bid.id, reference="DEC-WALK-1", outcome=DecisionOutcome.APPROVED,
                        amount_pence=100000, decided_by_id=manager.id,
                        decision_date=date.today())
    session.add_all([assignment, decision])
    session.flush()
    award = Award(bid_id=bid.id, decision_id=decision.id, round_id=bid.round_id,
                  organisation_id=bid.organisation_id, amount_pence=100000, paid_pence=0,
                  start_date=date.today(), end_date=date.today() + timedelta(days=90))
    session.add(award)
    session.flush()
    records = {
        Bid: bid,
        Assignment: assignment,
        Award: award,
        GrantReturn: GrantReturn(award_id=award.id, kind=ReturnKind.FINAL,
                                 period_start=award.start_date, period_end=award.end_date,
                                 due_date=award.end_date + timedelta(weeks=6)),
        Variation: Variation(award_id=award.id, kind=VariationKind.EXTENSION, reason="Walk",
                             new_end_date=award.end_date + timedelta(days=30),
                             requested_by_id=manager.id, requested_at=utcnow()),
        Repayment: Repayment(award_id=award.id, amount_pence=500, requested_at=utcnow()),
    }
    session.add_all(records.values())
    session.flush()
    return records


def _set_state(flow: Workflow, record: object, value: str) -> None:
    model = flow.model
    column = getattr(model, flow.column)
    enum_class = column.type.enum_class
    session.execute(update(model).where(model.id == record.id)
                    .values({flow.column: enum_class(value)})
                    .execution_options(synchronize_session=False))
    session.refresh(record)


def _attempt(flow: Workflow, name: str, record: object, actor: User | None):
    """Take the transition in a savepoint that is always rolled back: (state after, actions
    recorded, the refusal or None)."""
    savepoint = session.begin_nested()
    last = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    refusal = None
    try:
        workflow.move(flow, name, record, actor)
    except DomainError as refused:
        refusal = refused
    state = getattr(record, flow.column).value
    actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.id > last)))
    savepoint.rollback()
    session.refresh(record)
    return state, actions, refusal


@pytest.mark.parametrize(("workflow_name", "transition_name"), CASES,
                         ids=[f"{w}-{t}" for w, t in CASES])
def test_every_transition_happens_only_from_its_states_and_for_its_roles(
        app, workflow_name, transition_name):
    flow = WORKFLOWS[workflow_name]
    transition = flow.transitions[transition_name]
    bid_id = bidding.submitted_bid(app)
    with app.test_request_context():
        organisation_id = session.scalar(select(Organisation.id).limit(1))
        people = {role: _person(role, organisation_id, i) for i, role in enumerate(Role)}
        session.flush()
        record = _records(bid_id)[flow.model]
        allowed_role = next(iter(transition.roles))
        for value in flow.states:
            _set_state(flow, record, value)
            session.commit()
            counts = table_row_counts(app)
            state, actions, refusal = _attempt(flow, transition_name, record,
                                               people[allowed_role])
            if value in transition.sources:
                assert refusal is None, (value, refusal and refusal.message)
                assert state == transition.target
                assert actions == [transition.action]
            else:
                assert isinstance(refusal, DomainError), value
                assert state == value and actions == []
                assert table_row_counts(app) == counts
        source = next(iter(transition.sources))
        _set_state(flow, record, source)
        session.commit()
        counts = table_row_counts(app)
        for role in Role:
            state, actions, refusal = _attempt(flow, transition_name, record, people[role])
            if role in transition.roles:
                assert refusal is None and state == transition.target
            else:
                assert isinstance(refusal, DomainError), role
                assert state == source and actions == []
                assert table_row_counts(app) == counts
        state, actions, refusal = _attempt(flow, transition_name, record, None)
        assert (refusal is None) == transition.system
        session.rollback()


def test_a_transition_that_lost_the_race_is_refused_and_records_nothing(app):
    """The guarded write: the record moved on after it was read (someone else's request)."""
    bid_id = bidding.submitted_bid(app)
    with app.test_request_context():
        manager = session.scalar(select(User).join(UserRole).where(UserRole.role == Role.MANAGER))
        bid = session.get(Bid, bid_id)
        session.execute(update(Bid).where(Bid.id == bid_id).values(status="withdrawn")
                        .execution_options(synchronize_session=False))
        assert bid.status.value == "submitted"  # the stale copy this request read
        last = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
        with pytest.raises(workflow.Conflict) as refused:
            workflow.move(WORKFLOWS["bid"], "decline", bid, manager)
        assert "withdrawn" in refused.value.message
        assert bid.status.value == "withdrawn"
        assert session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc())
                              .limit(1)) == last


def test_every_state_has_words_and_a_tag_and_every_transition_names_real_states():
    for flow in WORKFLOWS.values():
        enum_class = getattr(flow.model, flow.column).type.enum_class
        assert set(flow.states) == {member.value for member in enum_class}, flow.name
        for state in flow.states.values():
            assert str(state.label) and state.tag.startswith("govuk-tag--")
        for transition in flow.transitions.values():
            assert transition.sources <= set(flow.states) and transition.target in flow.states
            assert transition.roles and str(transition.label)
