"""Every workflow of the portal as data: its states (with the words and tag colour users see)
and its transitions (from, to, who may take them, the audit action and its words, who is told).

Services move state only through ``portal.services.workflow.move``, which reads these tables;
templates take labels and tags from them (``state_tag``); the audit trail names each
transition's action in its words. A test walks every transition of every workflow.

Audiences a transition tells (resolved by ``portal.services.workflow.tell``):
``partnership`` (the record's CSP officers), ``managers`` (grants managers), ``assessors``
(those assigned to the bid and not conflicted), ``assessor`` (the one assignment's assessor),
``finance`` (finance staff).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.models import (
    AssessmentStatus,
    Assignment,
    Award,
    AwardStatus,
    Bid,
    BidStatus,
    ConflictStatus,
    GrantReturn,
    Repayment,
    RepaymentStatus,
    ReturnStatus,
    Role,
    Variation,
    VariationStatus,
)

OFFICER, ASSESSOR, MANAGER, FINANCE = Role.OFFICER, Role.ASSESSOR, Role.MANAGER, Role.FINANCE


@dataclass(frozen=True)
class State:
    value: str
    label: Any  # lazy text users read
    tag: str  # GOV.UK tag modifier class


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    roles: frozenset[Role]
    action: str  # the audit action it records
    label: Any  # the audit action's words
    tell: tuple[str, ...] = ()
    system: bool = False  # may also happen with no one signed in (a command, a side effect)


@dataclass(frozen=True)
class Workflow:
    name: str
    noun: Any  # what the record is called in a refusal: "This bid …"
    model: type
    column: str
    record_type: str  # the audit record type
    states: dict[str, State]
    transitions: dict[str, Transition] = field(default_factory=dict)

    def state(self, value: str | enum.Enum) -> State:
        return self.states[value.value if isinstance(value, enum.Enum) else value]

    def label(self, value: str | enum.Enum) -> str:
        return str(self.state(value).label)


def _workflow(name: str, noun: Any, model: type, column: str, record_type: str,
              states: list[State], transitions: list[tuple[Any, ...]]) -> Workflow:
    made = {}
    for name_, sources, target, roles, action, label, *rest in transitions:
        tell = rest[0] if rest else ()
        system = rest[1] if len(rest) > 1 else False
        values = {getattr(s, "value", s) for s in sources}
        made[name_] = Transition(name_, frozenset(values), getattr(target, "value", target),
                                 frozenset(roles), action, label, tuple(tell), system)
    return Workflow(name, noun, model, column, record_type, {s.value: s for s in states}, made)


B = BidStatus
BID = _workflow("bid", _l("bid"), Bid, "status", "bid", [
    State(B.DRAFT, _l("Draft"), "govuk-tag--grey"),
    State(B.SUBMITTED, _l("Submitted"), "govuk-tag--blue"),
    State(B.MORE_INFORMATION_REQUESTED, _l("More information requested"), "govuk-tag--orange"),
    State(B.IN_ASSESSMENT, _l("In assessment"), "govuk-tag--purple"),
    State(B.AWARDED, _l("Awarded"), "govuk-tag--green"),
    State(B.NOT_FUNDED, _l("Not funded"), "govuk-tag--red"),
    State(B.WITHDRAWN, _l("Withdrawn"), "govuk-tag--grey"),
], [
    ("submit", {B.DRAFT}, B.SUBMITTED, {OFFICER}, "bid.submitted", _l("Bid submitted"),
     ("partnership",)),
    ("start_assessment", {B.SUBMITTED}, B.IN_ASSESSMENT, {MANAGER}, "bid.assessment_started",
     _l("Assessment started")),
    ("request_information", {B.SUBMITTED, B.IN_ASSESSMENT}, B.MORE_INFORMATION_REQUESTED,
     {MANAGER}, "bid.information_requested", _l("More information requested"),
     ("partnership",)),
    ("answer", {B.MORE_INFORMATION_REQUESTED}, B.SUBMITTED, {OFFICER}, "bid.question_answered",
     _l("Question answered"), ("managers", "assessors")),
    ("answer_in_assessment", {B.MORE_INFORMATION_REQUESTED}, B.IN_ASSESSMENT, {OFFICER},
     "bid.question_answered", _l("Question answered"), ("managers", "assessors")),
    ("withdraw", {B.SUBMITTED, B.IN_ASSESSMENT, B.MORE_INFORMATION_REQUESTED}, B.WITHDRAWN,
     {OFFICER}, "bid.withdrawn", _l("Bid withdrawn"), ("partnership", "managers", "assessors")),
    ("award", {B.SUBMITTED, B.IN_ASSESSMENT}, B.AWARDED, {MANAGER}, "decision.approved",
     _l("Bid approved"), ("partnership",)),
    ("decline", {B.SUBMITTED, B.IN_ASSESSMENT}, B.NOT_FUNDED, {MANAGER}, "decision.declined",
     _l("Bid declined"), ("partnership",)),
])

A = AssessmentStatus
ASSESSMENT = _workflow("assessment", _l("assessment"), Assignment, "status", "bid", [
    State(A.NOT_STARTED, _l("Not started"), "govuk-tag--grey"),
    State(A.DRAFT, _l("In progress"), "govuk-tag--light-blue"),
    State(A.SUBMITTED, _l("Submitted"), "govuk-tag--green"),
], [
    ("save_draft", {A.NOT_STARTED, A.DRAFT}, A.DRAFT, {ASSESSOR}, "assessment.draft_saved",
     _l("Assessment saved as a draft")),
    ("submit", {A.NOT_STARTED, A.DRAFT}, A.SUBMITTED, {ASSESSOR}, "assessment.submitted",
     _l("Assessment submitted"), ("managers",)),
    ("reopen", {A.SUBMITTED}, A.DRAFT, {ASSESSOR}, "assessment.reopened",
     _l("Assessment reopened"), ("managers",)),
])

C = ConflictStatus
DECLARATION = _workflow("declaration", _l("declaration"), Assignment, "conflict", "bid", [
    State(C.UNDECLARED, _l("Not declared"), "govuk-tag--grey"),
    State(C.NONE, _l("No conflict"), "govuk-tag--green"),
    State(C.CONFLICTED, _l("Conflict declared"), "govuk-tag--red"),
], [
    ("declare_none", {C.UNDECLARED}, C.NONE, {ASSESSOR}, "assessment.conflict_declared",
     _l("Conflict of interest declared")),
    ("declare_conflict", {C.UNDECLARED}, C.CONFLICTED, {ASSESSOR},
     "assessment.conflict_declared", _l("Conflict of interest declared"), ("managers",)),
])

W = AwardStatus
AWARD = _workflow("award", _l("award"), Award, "status", "award", [
    State(W.OFFERED, _l("Offer to accept"), "govuk-tag--orange"),
    State(W.ACTIVE, _l("Active"), "govuk-tag--green"),
    State(W.CLOSED, _l("Closed"), "govuk-tag--grey"),
], [
    ("accept", {W.OFFERED}, W.ACTIVE, {OFFICER}, "award.accepted", _l("Offer accepted"),
     ("partnership", "managers", "finance")),
    ("close", {W.ACTIVE}, W.CLOSED, {FINANCE}, "award.closed", _l("Award closed"),
     ("partnership",), True),
])

P = RepaymentStatus
REPAYMENT = _workflow("repayment", _l("repayment"), Repayment, "status", "award", [
    State(P.AWAITED, _l("Awaited"), "govuk-tag--orange"),
    State(P.RECEIVED, _l("Received"), "govuk-tag--green"),
], [
    ("receive", {P.AWAITED}, P.RECEIVED, {FINANCE}, "award.repayment_received",
     _l("Repayment received"), ("partnership",)),
])

R = ReturnStatus
RETURN = _workflow("return", _l("return"), GrantReturn, "status", "return", [
    State(R.DUE, _l("Due"), "govuk-tag--blue"),
    State(R.DRAFT, _l("Draft"), "govuk-tag--grey"),
    State(R.SUBMITTED, _l("To check"), "govuk-tag--purple"),
    State(R.QUERIED, _l("Queried"), "govuk-tag--orange"),
    State(R.APPROVED, _l("Approved"), "govuk-tag--green"),
], [
    ("save", {R.DUE, R.DRAFT}, R.DRAFT, {OFFICER}, "return.saved",
     _l("Return saved as a draft")),
    ("save_queried", {R.QUERIED}, R.QUERIED, {OFFICER}, "return.saved",
     _l("Return saved as a draft")),
    ("submit", {R.DUE, R.DRAFT, R.QUERIED}, R.SUBMITTED, {OFFICER}, "return.submitted",
     _l("Return submitted"), ("partnership", "finance")),
    ("approve", {R.SUBMITTED}, R.APPROVED, {FINANCE}, "return.approved",
     _l("Return approved"), ("partnership",)),
    ("query", {R.SUBMITTED}, R.QUERIED, {FINANCE}, "return.queried", _l("Return queried"),
     ("partnership",)),
])

V = VariationStatus
VARIATION = _workflow("variation", _l("variation"), Variation, "status", "award", [
    State(V.REQUESTED, _l("Waiting for a decision"), "govuk-tag--blue"),
    State(V.APPROVED, _l("Approved"), "govuk-tag--green"),
    State(V.DECLINED, _l("Declined"), "govuk-tag--red"),
], [
    ("approve", {V.REQUESTED}, V.APPROVED, {MANAGER}, "variation.approved",
     _l("Change approved"), ("partnership",)),
    ("decline", {V.REQUESTED}, V.DECLINED, {MANAGER}, "variation.declined",
     _l("Change declined"), ("partnership",)),
])

WORKFLOWS: dict[str, Workflow] = {w.name: w for w in (
    BID, ASSESSMENT, DECLARATION, AWARD, REPAYMENT, RETURN, VARIATION)}


def action_labels() -> dict[str, Any]:
    """Every transition's audit action and its words."""
    return {t.action: t.label for w in WORKFLOWS.values() for t in w.transitions.values()}


def state_tag(workflow: str, value: str | enum.Enum) -> Any:
    """A record's state as a GOV.UK tag, in the workflow's words and colour."""
    from portal.formatting import tag

    state = WORKFLOWS[workflow].state(value)
    return tag(str(state.label), state.tag)
