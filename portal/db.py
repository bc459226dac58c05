"""Engine and session per app context; commit once per request, only on success.

Services change state through ``session`` and flush; nothing below the request
(or a CLI command) commits. The request commits in ``after_request`` when the
response is a success or a redirect, and rolls back otherwise.

SQLite is set up for a multi-process server: foreign keys on, WAL, a busy
timeout, and transactions of requests that may write (anything but GET, HEAD and
OPTIONS) start with ``BEGIN IMMEDIATE`` so concurrent writers queue for the
write lock instead of failing half way through.
"""

from __future__ import annotations

import contextvars
import enum
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response, current_app, g, has_app_context, request
from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator
from werkzeug.local import LocalProxy

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Whether the current unit of work may write. Read-only requests take no lock.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


def enum_column(cls: type[enum.Enum], name: str, length: int = 40) -> Enum:
    """A Python enum stored as its values in a VARCHAR with a named CHECK constraint (the same
    on SQLite and PostgreSQL; adding a value needs no ALTER TYPE)."""
    return Enum(cls, native_enum=False, length=length, name=name, create_constraint=True,
                values_callable=lambda e: [m.value for m in e])


UK = ZoneInfo("Europe/London")  # the clock users read dates and times on


def utcnow() -> datetime:
    return datetime.now(UTC)


def uk_today() -> date:
    """Today on a UK clock: the day a user means by "today" (in summer the UTC date is still
    yesterday's for the first hour of the UK day)."""
    return utcnow().astimezone(UK).date()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN; pysqlite's own is unreliable.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _may_write() else "BEGIN")


def _may_write() -> bool:
    """A GET (or HEAD, OPTIONS) request never writes: marked in ``g`` when it begins, which
    also holds while a streamed body is sent. Anything else (other requests, commands, a
    test request context used to build URLs) may write, unless ``write_intent`` says not."""
    if has_app_context() and g.get("read_only_request"):
        return False
    return write_intent.get()


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)


def get_db(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["db"]


def get_session() -> Session:
    if "db_session" not in g:
        g.db_session = get_db().sessionmaker()
    return g.db_session


# A proxy that stands for the context's Session: typed as one so callers are checked
# against Session's methods (LocalProxy is not a Session subclass, hence the ignore).
session: Session = LocalProxy(get_session)  # type: ignore[assignment]


def init_app(app: Flask) -> None:
    app.extensions["db"] = Database(make_engine(app.config["DATABASE_URL"]))

    @app.before_request
    def _mark_read_only() -> None:
        g.read_only_request = request.method in SAFE_METHODS

    @app.after_request
    def _commit_on_success(response: Response) -> Response:
        db_session = g.get("db_session")
        if db_session is not None:
            if response.status_code < 400:
                db_session.commit()
            else:
                db_session.rollback()
        return response

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        db_session = g.pop("db_session", None)
        if db_session is not None:
            db_session.close()
