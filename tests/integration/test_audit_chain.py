"""The tamper-evident audit trail: a keyed hash chain that verify-audit checks."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text

from portal.db import get_db, session
from portal.models import AuditEvent
from portal.services import audit


@pytest.fixture
def real_app(committed_app):
    return committed_app("audit")


def verify(app):
    return app.test_cli_runner().invoke(args=["verify-audit"])


def tamper(app, statement: str, **params) -> None:
    """Change the trail behind the portal's back, with the append-only triggers disabled."""
    engine = get_db(app).engine
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            connection.execute(text(statement), params)
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
            connection.execute(text(statement), params)


def test_an_untouched_trail_verifies(real_app):
    result = verify(real_app)
    assert result.exit_code == 0, result.output
    assert "Audit trail intact" in result.output


def test_an_edited_event_is_named(real_app):
    with real_app.app_context():
        target = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id).offset(3).limit(1))
    tamper(real_app, "UPDATE audit_events SET actor_label = 'someone else' WHERE id = :id",
           id=target)
    result = verify(real_app)
    assert result.exit_code != 0
    assert f"broken at event {target}" in result.output
    assert "content does not match" in result.output


def test_a_deleted_event_breaks_the_link_of_the_next(real_app):
    with real_app.app_context():
        ids = list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id).limit(6)))
    tamper(real_app, "DELETE FROM audit_events WHERE id = :id", id=ids[2])
    result = verify(real_app)
    assert f"broken at event {ids[3]}" in result.output
    assert "link to the previous event" in result.output


def test_a_rehashed_forgery_fails_without_the_key(real_app):
    """Recomputing a plain hash is not enough: the chain is keyed outside the database."""
    import hashlib

    with real_app.app_context():
        target = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id).limit(1))
    forged = hashlib.sha256(b"forged").hexdigest()
    tamper(real_app, "UPDATE audit_events SET hash = :h WHERE id = :id", h=forged, id=target)
    assert f"broken at event {target}" in verify(real_app).output


def test_concurrent_appends_keep_the_chain_intact(real_app):
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            with real_app.test_request_context():
                barrier.wait(timeout=30)
                for i in range(5):
                    audit.record("test.concurrent", "thing", f"{n}-{i}", actor=None)
                    session.commit()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with real_app.app_context():
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "test.concurrent")) == 40
    result = verify(real_app)
    assert result.exit_code == 0, result.output


def test_an_event_records_the_address_the_request_came_from_and_a_command_none(app, client):
    """Services never read the request: the web layer puts the client's address in ``g``."""
    from tests import bidding

    client.sign_in("officer.fenland@example.org")
    bidding.start(client, app)
    with app.app_context():
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "bid.created")
                                .order_by(AuditEvent.id.desc())).first()
        assert event is not None and event.ip_address == "127.0.0.1"
    with app.app_context():
        audit.record("test.command", "bid", 1, actor=None)
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event.action == "test.command" and event.ip_address is None
        session.rollback()
