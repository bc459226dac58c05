"""Shared fixtures: the app on each database, per-test rollback, a checking client,
a query counter, a real SMTP server on loopback.

Every test that uses ``app`` runs once on SQLite and once on PostgreSQL. PostgreSQL
comes from TEST_DATABASE_URL; without it those runs are skipped with a message,
except in CI (CI=true), where a missing database fails the run instead.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

_INSTANCE = tempfile.mkdtemp(prefix="portal-test-instance-")
os.environ["PORTAL_INSTANCE_PATH"] = _INSTANCE

from flask import Flask  # noqa: E402
from sqlalchemy import Engine, event, text  # noqa: E402

from portal import create_app, migrate  # noqa: E402
from portal.db import get_db, make_engine  # noqa: E402
from tests.helpers import CheckedClient, load_demo  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")


def normalise_pg(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI: in CI nothing may be skipped."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must run everything)", pytrace=False)
    pytest.skip(reason)


def reset_postgres(url: str) -> Engine:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    except Exception as exc:  # noqa: BLE001 - any failure means no usable server
        unavailable(f"PostgreSQL at TEST_DATABASE_URL is not reachable: {exc}")
    return engine


def backend_url(backend: str, directory: Path) -> str:
    """A fresh, migrated database for ``backend``; skips (or fails in CI) if absent."""
    if backend == "sqlite":
        return f"sqlite:///{directory / 'portal.db'}"
    if not PG_URL:
        unavailable("PostgreSQL tests skipped: set TEST_DATABASE_URL "
                    "(e.g. postgresql://postgres@127.0.0.1:5432/test)")
    url = normalise_pg(PG_URL)
    reset_postgres(url).dispose()
    return url


def make_test_app(url: str, directory: Path, **overrides: Any) -> Flask:
    config = {
        "TESTING": True,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret-key",
        "AUDIT_KEY": "test-audit-key",
        "MAIL_OUTBOX": str(directory / "outbox"),
        "UPLOAD_FOLDER": str(directory / "uploads"),
        "SERVER_NAME": "portal.test",
        "BASE_URL": "http://portal.test",
        "PASSWORD_HASH_CHEAP": True,
        # Tests stop and start mail servers between requests: each request tries its own
        # emails (tests/integration/test_outbox.py tests the pause itself).
        "MAIL_PAUSE_AFTER_UNREACHABLE_SECONDS": 0,
    }
    config.update(overrides)
    application = create_app(config)
    application.test_client_class = CheckedClient
    return application


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def app(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    directory = tmp_path_factory.mktemp(f"app-{backend}")
    url = backend_url(backend, directory)
    application = make_test_app(url, directory)
    migrate.upgrade(get_db(application).engine)
    load_demo(application)  # committed once; every test's changes are rolled back
    yield application
    get_db(application).engine.dispose()


@pytest.fixture(autouse=True)
def _rollback(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test runs inside a transaction that is rolled back at its end.

    Requests and setup code commit as usual; with the session joined to the
    outer transaction their commits only release savepoints.
    """
    if "app" not in request.fixturenames:
        yield
        return
    application: Flask = request.getfixturevalue("app")
    database = get_db(application)
    connection = database.engine.connect()
    transaction = connection.begin()
    database.sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        database.sessionmaker.configure(bind=database.engine,
                                        join_transaction_mode="conservative_savepoint")
        transaction.rollback()
        connection.close()


@pytest.fixture
def client(app: Flask) -> CheckedClient:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """``with count_queries() as queries: ...`` then ``len(queries)``: SQL statements run."""
    engine = get_db(app).engine
    ignored = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")

    @contextmanager
    def counter() -> Iterator[list[str]]:
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if not statement.lstrip().upper().startswith(ignored):
                statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counter


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        from email import message_from_bytes
        from email.policy import default

        message = message_from_bytes(envelope.content, policy=default)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages if address in m["To"]]


@contextmanager
def mail_server(*apps: Flask) -> Iterator[Mailbox]:
    """A real SMTP server on loopback that ``apps`` send through while it runs."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    saved = [{key: app.config.get(key) for key in ("MAIL_SERVER", "MAIL_PORT")}
             for app in apps]
    for app in apps:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        yield mailbox
    finally:
        for app, config in zip(apps, saved, strict=True):
            app.config.update(config)
        controller.stop()


@pytest.fixture
def smtp(app: Flask) -> Iterator[Mailbox]:
    """A real SMTP server on loopback; the app sends through it for this test."""
    with mail_server(app) as mailbox:
        yield mailbox


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say once, plainly, which parts of the suite did not run and why."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.section("parts of the suite that did not run")
        for reason, count in sorted(reasons.items()):
            terminalreporter.write_line(f"{count:5d} skipped: {reason}")


def isolated_database(backend: str, directory: Path, suffix: str) -> tuple[str, Callable[[], None]]:
    """A database of its own (for tests whose writes must really commit), and its remover.

    SQLite: a file in ``directory``. PostgreSQL: ``<TEST_DATABASE_URL's name>_<suffix>``,
    so the per-test-rollback database of the ``app`` fixture is never touched.
    """
    from sqlalchemy import create_engine, make_url

    if backend == "sqlite":
        return f"sqlite:///{directory / f'{suffix}.db'}", lambda: None
    if not PG_URL:
        unavailable("PostgreSQL tests skipped: set TEST_DATABASE_URL "
                    "(e.g. postgresql://postgres@127.0.0.1:5432/test)")
    server = make_url(normalise_pg(PG_URL))
    name = f"{server.database or 'postgres'}_{suffix}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    try:
        drop()
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means no usable server
        admin.dispose()
        unavailable(f"PostgreSQL at TEST_DATABASE_URL is not reachable: {exc}")

    def remove() -> None:
        try:
            drop()
        finally:
            admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), remove


@pytest.fixture
def committed_app(backend: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """``committed_app(name, awards=False)``: an app on a database of its own, migrated and
    loaded with the demo data, whose writes really commit (no per-test rollback)."""
    made: list[tuple[Flask, Callable[[], None]]] = []

    def make(name: str, *, awards: bool = False) -> Flask:
        url, remove = isolated_database(backend, tmp_path, name)
        application = make_test_app(url, tmp_path)
        migrate.upgrade(get_db(application).engine)
        load_demo(application, awards=awards)
        made.append((application, remove))
        return application

    yield make
    for application, remove in made:
        get_db(application).engine.dispose()
        remove()
