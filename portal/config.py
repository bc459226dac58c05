"""Settings from environment variables, with safe defaults.

With nothing set the portal runs on SQLite in the instance folder, debug off,
with a secret generated once and kept in the instance folder, and writes email
to the instance folder's outbox.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _instance_secret(instance_path: Path, filename: str) -> str:
    """Return a secret kept in the instance folder, creating it on first use."""
    path = instance_path / filename
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def from_environment(instance_path: str) -> dict:
    instance = Path(instance_path)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'portal.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://"):]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    return {
        "DEBUG": _bool("FLASK_DEBUG", False),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _instance_secret(instance, "secret_key"),
        # Keys the audit trail's hash chain; kept outside the database.
        "AUDIT_KEY": os.environ.get("AUDIT_KEY") or _instance_secret(instance, "audit_key"),
        "DATABASE_URL": database_url,
        "SERVICE_NAME": os.environ.get("SERVICE_NAME", "Community safety grants"),
        # The Welsh of the service's and the organisation's names (issue 16): empty when not
        # given, and Welsh readers see the English, marked lang="en".
        "SERVICE_NAME_CY": os.environ.get("SERVICE_NAME_CY", "Grantiau diogelwch cymunedol"),
        "ORGANISATION_SHORT_NAME": os.environ.get("ORGANISATION_SHORT_NAME",
                                                  "Cambridgeshire and Peterborough OPCC"),
        "ORGANISATION_NAME": os.environ.get(
            "ORGANISATION_NAME",
            "Office of the Police and Crime Commissioner for Cambridgeshire and Peterborough",
        ),
        "ORGANISATION_NAME_CY": os.environ.get(
            "ORGANISATION_NAME_CY",
            "Swyddfa Comisiynydd Heddlu a Throseddu Swydd Gaergrawnt a Peterborough",
        ),
        "ORGANISATION_SHORT_NAME_CY": os.environ.get("ORGANISATION_SHORT_NAME_CY",
                                                     "SCHTh Swydd Gaergrawnt a Peterborough"),
        "SUPPORT_EMAIL": os.environ.get("SUPPORT_EMAIL", "grants@opcc.example.org"),
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000"),
        # Mail: with no MAIL_SERVER, messages go to the instance outbox.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "grants@opcc.example.org"),
        "MAIL_OUTBOX": os.environ.get("MAIL_OUTBOX", str(instance / "outbox")),
        # Email leaves through the outbox table (issue 17): the request that caused it tries
        # once after its commit (MAIL_SEND_AFTER_REQUEST), and `flask send-email` delivers the
        # rest, trying again after 1, 2, 4 … minutes (at most MAIL_RETRY_MAX_MINUTES apart)
        # until MAIL_GIVE_UP_HOURS after the email was written.
        "MAIL_SEND_AFTER_REQUEST": _bool("MAIL_SEND_AFTER_REQUEST", True),
        "MAIL_TIMEOUT_SECONDS": _int("MAIL_TIMEOUT_SECONDS", 10),
        # All a request may spend sending its own emails after it commits (the rest wait for
        # the sender): a slow mail server must not hold a web worker.
        "MAIL_REQUEST_SECONDS": _int("MAIL_REQUEST_SECONDS", 5),
        # A worker whose mail server was out of reach, refused or slow leaves its requests'
        # emails to the sender for this long, rather than make each request wait in turn.
        "MAIL_PAUSE_AFTER_UNREACHABLE_SECONDS": _int("MAIL_PAUSE_AFTER_UNREACHABLE_SECONDS", 60),
        "MAIL_RETRY_MAX_MINUTES": _int("MAIL_RETRY_MAX_MINUTES", 60),
        "MAIL_GIVE_UP_HOURS": _int("MAIL_GIVE_UP_HOURS", 72),
        # Where evidence files are kept (issue 17): "file:" (UPLOAD_FOLDER, by default the
        # instance folder's uploads), "file:/srv/evidence", or an S3-compatible store,
        # "s3://bucket/prefix", reached with the standard AWS_* settings (AWS_ENDPOINT_URL
        # for MinIO, Ceph and the like).
        "STORAGE_URL": os.environ.get("STORAGE_URL", "file:"),
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", str(instance / "uploads")),
        "MAX_UPLOAD_BYTES": _int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
        "MAX_UPLOADS_PER_BID": _int("MAX_UPLOADS_PER_BID", 10),
        # Flask refuses bodies above this with 413: room for one file and the form.
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024) + 512 * 1024,
        # Sessions: idle sessions expire; cookies HttpOnly, SameSite, Secure over HTTPS.
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=_int("SESSION_IDLE_MINUTES", 30)),
        "SESSION_REFRESH_EACH_REQUEST": True,
        # A sign-in ends this long after it began however busy (NIST SP 800-63B, 4.2.3),
        # and the idle warning shows this many seconds before an idle session ends.
        "SESSION_ABSOLUTE_HOURS": _int("SESSION_ABSOLUTE_HOURS", 12),
        "SESSION_WARNING_SECONDS": _int("SESSION_WARNING_SECONDS", 120),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
        "PREFERRED_URL_SCHEME": os.environ.get("PREFERRED_URL_SCHEME", "http"),
        "WTF_CSRF_TIME_LIMIT": _int("CSRF_TIME_LIMIT_SECONDS", 3600),
        "PASSWORD_RESET_MAX_AGE": _int("PASSWORD_RESET_MAX_AGE", 3600),
        "INVITATION_MAX_AGE": _int("INVITATION_MAX_AGE", 7 * 24 * 3600),
        # Failed sign-ins: after this many in a row the account is locked for a while.
        "SIGN_IN_MAX_FAILURES": _int("SIGN_IN_MAX_FAILURES", 5),
        "SIGN_IN_LOCK_MINUTES": _int("SIGN_IN_LOCK_MINUTES", 15),
        # Forms that send email (password reset, invitation), each counted on its own in the
        # database: at most this many emails to one address, and posts from one client
        # address, in a window of this many minutes.
        "EMAIL_LIMIT_PER_ADDRESS": _int("EMAIL_LIMIT_PER_ADDRESS", 3),
        "EMAIL_LIMIT_PER_CLIENT": _int("EMAIL_LIMIT_PER_CLIENT", 20),
        "EMAIL_LIMIT_WINDOW_MINUTES": _int("EMAIL_LIMIT_WINDOW_MINUTES", 60),
        "BABEL_DEFAULT_LOCALE": "en_GB",
        "BABEL_DEFAULT_TIMEZONE": "Europe/London",
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        "REMINDER_DAYS_BEFORE": _int("REMINDER_DAYS_BEFORE", 14),
        # No return falls due sooner than this many days after the offer is accepted: periods
        # that would are reported in the first return due after it (issue 13).
        "RETURN_GRACE_DAYS": _int("RETURN_GRACE_DAYS", 30),
        # An extension moves an award's end date by at most this many months at a time
        # (and never beyond what the fund allows: portal.services.variations).
        "MAX_EXTENSION_MONTHS": _int("MAX_EXTENSION_MONTHS", 12),
        "OPEN_DATA_PREFIX": os.environ.get("OPEN_DATA_PREFIX", "360G-opcc-cambs"),
    }
