"""The audit trail: one call records who did what to which record, from what to what.

Events are append-only (database triggers refuse UPDATE and DELETE) and chained: each
carries an HMAC-SHA256, keyed with AUDIT_KEY (kept outside the database), over its own
content and the previous event's hash. ``verify`` recomputes the chain and names the
first event that does not match. Appends take a lock first so concurrent writers chain
in order: PostgreSQL an advisory transaction lock, SQLite its write lock (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date
from typing import TYPE_CHECKING, Any

from flask import current_app, g
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select, text

from portal import workflows
from portal.db import session, utcnow
from portal.models import AuditEvent

if TYPE_CHECKING:
    from portal.models import User

# What each recorded action is called on the history of a record and in the trail.
ACTION_LABELS: dict[str, Any] = {
    "assessment.assigned": _l("Assessor assigned"),
    "assessment.conflict_declared": _l("Conflict of interest declared"),
    "assessment.draft_saved": _l("Assessment saved as a draft"),
    "assessment.moderated": _l("Scores moderated"),
    "assessment.rescored": _l("Assessment scored again"),
    "assessment.submitted": _l("Assessment submitted"),
    "award.accepted": _l("Offer accepted"),
    "award.closed": _l("Award closed"),
    "award.action_plan_saved": _l("Action plan saved"),
    "award.carried_forward": _l("Money carried forward"),
    "award.extended": _l("End date extended"),
    "award.payment_plan_revised": _l("Payment plan revised"),
    "award.plan_section_changed": _l("Section of the Police and Crime Plan changed"),
    "award.lines_revised": _l("Budget lines revised"),
    "award.offered": _l("Grant offered"),
    "award.payment_recorded": _l("Payment recorded"),
    "award.repayment_received": _l("Repayment received"),
    "award.returns_rescheduled": _l("Return dates changed"),
    "bid.created": _l("Bid started"),
    "bid.evidence_added": _l("File attached"),
    "bid.evidence_removed": _l("File removed"),
    "bid.evidence_lost": _l("Missing file removed"),
    "bid.section_saved": _l("Section saved"),
    "bid.plan_sections_chosen": _l("Sections of the Police and Crime Plan chosen"),
    "bid.form_version_changed": _l("Moved to the new version of the form"),
    "return.form_version_changed": _l("Moved to the new version of the return form"),
    "form.section_added": _l("Form section added"),
    "form.section_changed": _l("Form section changed"),
    "form.section_moved": _l("Form section moved"),
    "form.section_removed": _l("Form section removed"),
    "form.question_added": _l("Form question added"),
    "form.question_changed": _l("Form question changed"),
    "form.question_moved": _l("Form question moved"),
    "form.question_removed": _l("Form question removed"),
    "form.copied": _l("Form copied from another"),
    "form.published": _l("Form version published"),
    "bid.status_changed": _l("Status changed"),
    "decision.approved": _l("Bid approved"),
    "decision.declined": _l("Bid declined"),
    "fund.created": _l("Fund created"),
    "fund.updated": _l("Fund changed"),
    "plan.created": _l("Police and Crime Plan created"),
    "plan.changed": _l("Police and Crime Plan changed"),
    "plan.section_added": _l("Plan section added"),
    "plan.section_changed": _l("Plan section changed"),
    "plan.section_moved": _l("Plan section moved"),
    "plan.section_removed": _l("Plan section removed"),
    "return.approved": _l("Return approved"),
    "return.evidence_added": _l("Evidence added to a return"),
    "return.evidence_lost": _l("Missing file removed from a return"),
    "return.queried": _l("Return queried"),
    "return.saved": _l("Return saved as a draft"),
    "return.submitted": _l("Return submitted"),
    "round.created": _l("Round created"),
    "round.criteria_changed": _l("Criteria changed"),
    "round.updated": _l("Round changed"),
    "organisation.changed": _l("Organisation changed"),
    "user.created": _l("Account created"),
    "user.invitation_accepted": _l("Invitation accepted"),
    "user.invited": _l("Invited"),
    "user.language_changed": _l("Language changed"),
    "user.password_reset": _l("Password reset"),
    "user.password_reset_requested": _l("Password reset asked for"),
    "user.password_reset_limited": _l("Password reset emails limited"),
    "user.roles_changed": _l("Roles changed"),
    "user.sign_in_failed": _l("Sign-in failed"),
    "user.signed_in": _l("Signed in"),
    "user.signed_out": _l("Signed out"),
    "user.updated": _l("Account changed"),
    "variation.approved": _l("Change approved"),
    "variation.declined": _l("Change declined"),
    "variation.requested": _l("Change asked for"),
}


def action_label(action: str) -> str:
    """What ``action`` is called in the service (the raw name for one without a label):
    a workflow transition's words, or those of another recorded action."""
    label = _TRANSITION_LABELS.get(action) or ACTION_LABELS.get(action)
    return str(label) if label is not None else action


_TRANSITION_LABELS = workflows.action_labels()

_LOCK_KEY = 725_104_333  # any constant: the advisory lock that orders audit appends


def _label(actor: User | None) -> str:
    if actor is None:
        return "system"
    return f"{actor.name} <{actor.email}>"


def _canonical(event: AuditEvent) -> bytes:
    """The event's content as hashed: everything but its own id and hash."""
    payload = {
        "occurred_at": event.occurred_at.astimezone(UTC).replace(tzinfo=None)
        .isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "record_type": event.record_type,
        "record_id": event.record_id,
        "before": event.before,
        "after": event.after,
        "ip_address": event.ip_address,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def _digest(event: AuditEvent, key: str) -> str:
    return hmac.new(key.encode(), _canonical(event), hashlib.sha256).hexdigest()


def _lock() -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def record(
    action: str,
    record_type: str,
    record_id: object | None,
    *,
    actor: User | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    _lock()
    previous = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_label=_label(actor),
        action=action,
        record_type=record_type,
        record_id=None if record_id is None else str(record_id),
        before=_jsonable(before),
        after=_jsonable(after),
        ip_address=g.get("client_address"),  # set for each request by portal.security
        prev_hash=previous,
    )
    # Hashed before the insert: the table refuses updates, so the row is written once.
    event.hash = _digest(event, current_app.config["AUDIT_KEY"])
    session.add(event)
    session.flush()
    return event


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str))


@dataclass
class Break:
    event_id: int
    reason: str


def verify(key: str, batch: int = 1000) -> tuple[int, Break | None]:
    """Check the whole chain; return how many events were checked and the first break."""
    checked = 0
    previous: str | None = None
    for event in _all_events(batch):
        if event.prev_hash != previous:
            return checked, Break(event.id, "its link to the previous event does not match "
                                            "(an event before it was removed or changed)")
        if not hmac.compare_digest(event.hash or "", _digest(event, key)):
            return checked, Break(event.id, "its content does not match its hash "
                                            "(it was changed after it was written)")
        previous = event.hash
        checked += 1
    return checked, None


def _all_events(batch: int) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.id > last)
                                    .order_by(AuditEvent.id).limit(batch)))
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        session.expunge_all()


def history(record_type: str, record_id: object,
            related: tuple[str, list[object]] | None = None) -> list[AuditEvent]:
    """A record's events, oldest first, with those of related records (e.g. an award's
    returns) when given as (record type, ids)."""
    from sqlalchemy import and_, or_

    condition = and_(AuditEvent.record_type == record_type,
                     AuditEvent.record_id == str(record_id))
    if related is not None and related[1]:
        condition = or_(condition, and_(AuditEvent.record_type == related[0],
                                        AuditEvent.record_id.in_([str(i) for i in related[1]])))
    return list(session.scalars(select(AuditEvent).where(condition).order_by(AuditEvent.id)))


def search_query(*, user: str = "", record_type: str = "", record_id: str = "",
                 start: date | None = None, end: date | None = None) -> Select[AuditEvent]:
    """The trail, newest first, filtered by who (part of the name, any case), which record and
    when (``start`` and ``end`` inclusive, UK days)."""
    from datetime import datetime, time, timedelta

    from sqlalchemy import func

    from portal.db import UK as uk
    statement = select(AuditEvent).order_by(AuditEvent.id.desc())
    if user.strip():
        statement = statement.where(func.lower(AuditEvent.actor_label)  # % and _ as typed
                                    .contains(user.strip().lower(), autoescape=True))
    if record_type:
        statement = statement.where(AuditEvent.record_type == record_type)
    if record_id.strip():
        statement = statement.where(AuditEvent.record_id == record_id.strip())
    if start is not None:
        statement = statement.where(
            AuditEvent.occurred_at >= datetime.combine(start, time(0), tzinfo=uk))
    if end is not None:
        statement = statement.where(
            AuditEvent.occurred_at < datetime.combine(end + timedelta(days=1), time(0), tzinfo=uk))
    return statement
