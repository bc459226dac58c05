"""The schema: migrations equal the models; the audit trail is append-only; SQLite set-up."""

from __future__ import annotations

import threading
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from portal.db import make_engine, session
from portal.models import AuditEvent, Base
from portal.services import audit


def test_migrations_from_empty_produce_exactly_the_models_schema(app):
    with app.app_context():
        context = MigrationContext.configure(session.connection(), opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_the_comparison_notices_a_difference(app):
    """The test above would fail if a model gained a column the migrations lack."""
    from sqlalchemy import Column, Integer, MetaData, Table

    extra = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(extra)
    Table("not_migrated", extra, Column("id", Integer, primary_key=True))
    with app.app_context():
        context = MigrationContext.configure(session.connection())
        assert compare_metadata(context, extra) != []


def test_constraint_names_follow_the_naming_convention():
    rounds = Base.metadata.tables["rounds"]
    names = {c.name for c in rounds.constraints}
    assert {"pk_rounds", "fk_rounds_fund_id_funds", "ck_rounds_committed_within_budget"} <= names


def _one_event(app) -> int:
    with app.app_context():
        event = audit.record("test.happened", "thing", 1, actor=None, after={"x": 1})
        session.commit()
        return event.id


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET action = 'forged' WHERE id = :id",
    "DELETE FROM audit_events WHERE id = :id",
])
def test_the_audit_trail_refuses_updates_and_deletes(app, statement):
    event_id = _one_event(app)
    with app.app_context():
        with pytest.raises(DBAPIError, match="append-only"):
            with session.begin_nested():
                session.execute(text(statement), {"id": event_id})
        assert session.scalar(select(AuditEvent.action).where(AuditEvent.id == event_id)) == \
            "test.happened"


def test_an_audit_event_records_who_what_when_and_from_what_to_what(app):
    from portal.services import accounts

    with app.app_context():
        actor = accounts.get_user_by_email("admin@example.org")
        event = audit.record("thing.changed", "thing", 7, actor=actor, before={"a": 1},
                             after={"a": 2})
        session.commit()
        stored = session.get(AuditEvent, event.id)
        assert stored.actor_id == actor.id and "admin@example.org" in stored.actor_label
        assert stored.record_type == "thing" and stored.record_id == "7"
        assert stored.before == {"a": 1} and stored.after == {"a": 2}
        assert stored.occurred_at.tzinfo is not None


def test_sqlite_is_set_up_for_a_multi_process_server(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_sqlite_writers_wait_for_each_other_instead_of_failing(tmp_path):
    """Write transactions take the lock at BEGIN, so a second writer queues."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    first, second = make_engine(url), make_engine(url)
    with first.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    errors: list[BaseException] = []

    def increment(engine, pause):
        try:
            with engine.begin() as connection:
                n = connection.exec_driver_sql("SELECT n FROM counter").scalar()
                time.sleep(pause)  # hold the write lock a while
                connection.exec_driver_sql("UPDATE counter SET n = ?", (n + 1,))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=increment, args=(first, 0.3)),
               threading.Thread(target=increment, args=(second, 0))]
    threads[0].start()
    time.sleep(0.05)
    threads[1].start()
    for thread in threads:
        thread.join()
    assert errors == []
    with first.connect() as connection:
        # Both increments survive: the reader of the second saw the first's write.
        assert connection.exec_driver_sql("SELECT n FROM counter").scalar() == 2


def test_on_sqlite_only_requests_that_may_write_take_the_write_lock(tmp_path):
    """GET pages read in a plain transaction (readers never queue behind writers); a POST
    takes the write lock when it begins, so concurrent writers wait instead of failing."""
    from sqlalchemy import event

    from portal import migrate
    from portal.db import get_db
    from tests.conftest import make_test_app
    from tests.helpers import load_demo

    app = make_test_app(f"sqlite:///{tmp_path / 'locks.db'}", tmp_path)  # SQLite's lock only
    migrate.upgrade(get_db(app).engine)
    load_demo(app)
    begins: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if statement.startswith("BEGIN"):
            begins.append(statement)

    event.listen(get_db(app).engine, "before_cursor_execute", record)
    client = app.test_client()
    assert client.get("/sign-in").status_code == 200
    client.get("/healthz")
    assert begins and set(begins) == {"BEGIN"}
    begins.clear()
    client.sign_in("manager@example.org")
    assert "BEGIN IMMEDIATE" in begins
