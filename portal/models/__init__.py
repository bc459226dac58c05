"""Typed models only: no rules here (those live in portal.services)."""

from portal.db import Base
from portal.models.assessments import (
    AssessmentStatus,
    Assignment,
    ConflictStatus,
    Decision,
    DecisionOutcome,
    ModeratedScore,
    Moderation,
    Recommendation,
    Score,
)
from portal.models.audit import AuditEvent
from portal.models.bids import (
    Bid,
    BidSection,
    BidStatus,
    BudgetLine,
    CostKind,
    EvidenceFile,
    InformationRequest,
    OutcomeMeasure,
    ReferenceCounter,
    SectionStatus,
)
from portal.models.funds import Criterion, Fund, ReturnCadence, Round
from portal.models.organisations import Organisation, OrganisationType
from portal.models.users import Role, SignInThrottle, User, UserRole

__all__ = [
    "AssessmentStatus",
    "Assignment",
    "ConflictStatus",
    "Decision",
    "DecisionOutcome",
    "ModeratedScore",
    "Moderation",
    "Recommendation",
    "Score",
    "AuditEvent",
    "Bid",
    "BidSection",
    "BidStatus",
    "BudgetLine",
    "CostKind",
    "EvidenceFile",
    "InformationRequest",
    "OutcomeMeasure",
    "ReferenceCounter",
    "SectionStatus",
    "Base",
    "Criterion",
    "Fund",
    "Organisation",
    "OrganisationType",
    "ReturnCadence",
    "Role",
    "Round",
    "SignInThrottle",
    "User",
    "UserRole",
]
