"""The audit trail: one call records who did what to which record, from what to what."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import has_request_context, request

from portal.db import session, utcnow
from portal.models import AuditEvent

if TYPE_CHECKING:
    from portal.models import User


def _label(actor: User | None) -> str:
    if actor is None:
        return "system"
    return f"{actor.name} <{actor.email}>"


def record(
    action: str,
    record_type: str,
    record_id: object | None,
    *,
    actor: User | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_label=_label(actor),
        action=action,
        record_type=record_type,
        record_id=None if record_id is None else str(record_id),
        before=before,
        after=after,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    session.add(event)
    session.flush()
    return event


def history(record_type: str, record_id: object) -> list[AuditEvent]:
    """A record's events, oldest first."""
    from sqlalchemy import select

    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.record_type == record_type,
                                 AuditEvent.record_id == str(record_id))
        .order_by(AuditEvent.id)))
