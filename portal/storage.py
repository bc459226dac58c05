"""Where uploaded files live (issue 17): one interface over a folder or an S3-compatible bucket.

``STORAGE_URL`` names the store: ``file:`` (the folder ``UPLOAD_FOLDER``), ``file:/srv/evidence``
(that folder), or ``s3://bucket/prefix`` (AWS S3, MinIO, Ceph… through boto3, which reads the
standard ``AWS_*`` settings, ``AWS_ENDPOINT_URL`` included). Every store reads and writes in
chunks, so memory stays flat whatever the size of the file.

A file belongs to a database row, so it is kept only if that row is: :func:`put_for_row` notes
the object in the session's unit of work and deletes it again if the transaction (or the
savepoint of the service that stored it) rolls back; :func:`delete_after_commit` deletes an
object only once the removal of its row has committed, and forgets the removal on rollback.
What a failed delete leaves behind is logged, and ``flask store-orphans`` finds it.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import urlsplit

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from portal.db import session

log = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024
# boto3's managed transfer: a file up to the threshold is one PutObject streamed from the file;
# a larger one goes in parts of this size (S3's least but for the last), at most this many in
# memory at once, so memory is bounded by their product whatever the file's size.
S3_MULTIPART_THRESHOLD = 16 * 1024 * 1024
S3_PART_BYTES = 5 * 1024 * 1024
S3_CONCURRENCY = 2


class StoreError(Exception):
    """The store could not do what was asked. ``message`` is a sentence a user may read: it
    names no bucket, key, endpoint or credential (the log has the cause)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MissingFile(StoreError):
    """The object asked for is not in the store."""


def _unreachable() -> StoreError:
    return StoreError(_("The file store is not answering, so files cannot be saved or "
                        "downloaded now. Try again later."))


def _not_set_up() -> StoreError:
    return StoreError(_("The file store is not set up correctly, so files cannot be saved or "
                        "downloaded now. Contact the grants team."))


def _not_writable() -> StoreError:
    return StoreError(_("The file store would not keep the file, so nothing was saved. "
                        "Contact the grants team."))


def _missing() -> MissingFile:
    return MissingFile(_("The file is missing from the file store."))


class Store(Protocol):
    """A place to keep files by name. Names are the generated ones of ``stored_name``."""

    url: str

    def put(self, name: str, source: BinaryIO) -> None:
        """Store what ``source`` holds from its position on as ``name``, replacing any object
        of that name, read in chunks. Raises ``StoreError``."""

    def chunks(self, name: str, size: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The object's bytes in chunks of at most ``size``. Raises ``MissingFile`` (no such
        object) or ``StoreError`` when called, before any chunk."""

    def delete(self, name: str) -> None:
        """Delete the object; one already missing is fine. Raises ``StoreError``."""

    def names(self) -> Iterator[tuple[str, datetime]]:
        """Every stored name and when it was last modified (aware, UTC). Raises
        ``StoreError``."""

    def check(self) -> None:
        """Raise ``StoreError`` unless the store answers and can be written to."""


def _safe_name(name: str) -> str:
    """A name is one path segment: never a folder, never a way out of the store."""
    if (not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name):
        raise ValueError(f"not a stored file's name: {name!r}")
    return name


class FileStore:
    """Files in a folder. A put writes to a temporary name in the folder and renames it over
    the final one (``os.replace``), so a reader never sees half a file."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.url = f"file:{self.folder}"

    def _path(self, name: str) -> Path:
        return self.folder / _safe_name(name)

    def put(self, name: str, source: BinaryIO) -> None:
        path = self._path(name)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".part-", dir=self.folder)
        except OSError as exc:
            log.error("File store %s cannot be written: %s", self.folder, exc)
            raise _not_writable() from exc
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := source.read(CHUNK_BYTES):
                    out.write(chunk)
            os.replace(temporary, path)
        except BaseException as exc:
            Path(temporary).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                log.error("File store %s: could not write %s: %s", self.folder, name, exc)
                raise _not_writable() from exc
            raise

    def chunks(self, name: str, size: int = CHUNK_BYTES) -> Iterator[bytes]:
        try:
            handle = self._path(name).open("rb")
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise _missing() from exc
        except OSError as exc:
            log.error("File store %s: could not read %s: %s", self.folder, name, exc)
            raise _unreachable() from exc
        return _read_in_chunks(handle, size)

    def delete(self, name: str) -> None:
        try:
            self._path(name).unlink(missing_ok=True)
        except OSError as exc:
            log.error("File store %s: could not delete %s: %s", self.folder, name, exc)
            raise _not_writable() from exc

    def names(self) -> Iterator[tuple[str, datetime]]:
        try:
            entries = list(os.scandir(self.folder))
        except FileNotFoundError:
            return
        except OSError as exc:
            log.error("File store %s cannot be listed: %s", self.folder, exc)
            raise _unreachable() from exc
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                yield entry.name, datetime.fromtimestamp(entry.stat().st_mtime, UTC)

    def check(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, probe = tempfile.mkstemp(prefix=".check-", dir=self.folder)
            os.close(handle)
            os.unlink(probe)
        except OSError as exc:
            log.error("File store %s cannot be written: %s", self.folder, exc)
            raise _not_writable() from exc


def _read_in_chunks(handle: BinaryIO, size: int) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(size):
            yield chunk


# What boto3 raises for a store that refuses or does not answer (timeouts, refused
# connections and missing credentials are all BotoCoreError).
_BOTO_ERRORS = (BotoCoreError, ClientError, S3UploadFailedError)


class S3Store:
    """Objects under ``prefix`` in an S3 bucket (or MinIO, Ceph…: ``AWS_ENDPOINT_URL``)."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}"
        self.client = client if client is not None else _s3_client()
        self._check_client = (client if client is not None
                              else _s3_client(read_seconds=CHECK_SECONDS, attempts=1))
        # Until when this process treats the store as not answering (monotonic seconds): a
        # frozen store held each download ~16 s, and whoever queued behind them waited too
        # (a breaker's finding); after a call times out, the next ones fail at once for
        # PAUSE_SECONDS, and a health check that gets an answer ends the pause.
        self._down_until = 0.0

    def _answering(self) -> None:
        if time.monotonic() < self._down_until:
            raise _unreachable()

    def _timed_out(self, exc: Exception) -> None:
        if isinstance(exc, ConnectTimeoutError | ReadTimeoutError | EndpointConnectionError):
            self._down_until = time.monotonic() + PAUSE_SECONDS

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{_safe_name(name)}" if self.prefix else _safe_name(name)

    def put(self, name: str, source: BinaryIO) -> None:
        self._answering()
        key = self._key(name)
        config = TransferConfig(multipart_threshold=S3_MULTIPART_THRESHOLD,
                                multipart_chunksize=S3_PART_BYTES,
                                max_concurrency=S3_CONCURRENCY)
        # Parts read ahead of their upload (s3transfer's own setting, 10 by default, which
        # boto3's constructor does not take): memory is bounded by these parts.
        config.max_in_memory_upload_chunks = S3_CONCURRENCY
        try:
            self.client.upload_fileobj(source, self.bucket, key, Config=config)
        except _BOTO_ERRORS as exc:
            raise self._error(exc, "put", name) from exc

    def chunks(self, name: str, size: int = CHUNK_BYTES) -> Iterator[bytes]:
        self._answering()
        key = self._key(name)
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except _BOTO_ERRORS as exc:
            raise self._error(exc, "get", name) from exc
        return self._stream(body, size, name)

    def _stream(self, body: Any, size: int, name: str) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(size)
        except _BOTO_ERRORS as exc:
            raise self._error(exc, "read", name) from exc
        finally:
            body.close()

    def delete(self, name: str) -> None:
        self._answering()
        key = self._key(name)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except _BOTO_ERRORS as exc:
            error = self._error(exc, "delete", name)
            if not isinstance(error, MissingFile):
                raise error from exc

    def names(self) -> Iterator[tuple[str, datetime]]:
        start = f"{self.prefix}/" if self.prefix else ""
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=start):
                for item in page.get("Contents", []):
                    name = item["Key"][len(start):]
                    if name and "/" not in name:
                        yield name, item["LastModified"].astimezone(UTC)
        except _BOTO_ERRORS as exc:
            raise self._error(exc, "list", "") from exc

    def check(self) -> None:
        try:
            self._check_client.head_bucket(Bucket=self.bucket)
            self._down_until = 0.0  # it answers again
        except _BOTO_ERRORS as exc:
            error = self._error(exc, "check", "")
            if isinstance(error, MissingFile):  # head_bucket's 404: the bucket is not there
                log.error("S3 store s3://%s/%s: no such bucket", self.bucket, self.prefix)
                error = _not_set_up()
            raise error from exc

    def _error(self, exc: Exception, action: str, name: str) -> StoreError:
        """``exc`` from boto3 as a ``StoreError`` a user may read; the cause is logged. A
        timeout or a connection that failed starts the pause (``_timed_out``)."""
        self._timed_out(exc)
        code = ""
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
        elif isinstance(exc, S3UploadFailedError):  # a ClientError, flattened into its text
            code = next((c for c in ("NoSuchBucket", "AccessDenied") if c in str(exc)), "")
        if code in ("NoSuchKey", "404", "NotFound") and action != "put":
            return _missing()
        log.error("S3 store s3://%s/%s: %s %s failed: %s", self.bucket, self.prefix, action,
                  name, exc)
        if code == "NoSuchBucket":
            return _not_set_up()
        if isinstance(exc, NoCredentialsError | PartialCredentialsError) or code in (
                "AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return _not_set_up()
        if isinstance(exc, BotoCoreError) or action != "put":
            return _unreachable()
        return _not_writable()  # the store answered, and refused the file


# A store that stops answering must fail a request well inside gunicorn's worker timeout
# (30 s by default), or the worker is killed mid-request: a 500, and the user's typing lost
# (a breaker stopped the store's process). Each call: 3 s to connect, READ_SECONDS for each
# read, two attempts in all (a stopped store fails a call in about 16 s). The health check's own client tries
# once, briefly: a proxy asks it often and must hear "unreachable", not wait.
CONNECT_SECONDS = 3
READ_SECONDS = 8
ATTEMPTS = 2
CHECK_SECONDS = 2
PAUSE_SECONDS = 30  # after a call timed out, this process's next calls fail at once


def _s3_client(*, read_seconds: int = READ_SECONDS, attempts: int = ATTEMPTS) -> Any:
    """A client configured as boto3 configures itself (``AWS_*`` settings, the shared files);
    the region defaults to us-east-1 when none is set (S3-compatible stores ignore it), and
    timeouts are short so a store that does not answer fails a request, not hangs it."""
    aws = boto3.session.Session()
    return aws.client("s3", region_name=aws.region_name or "us-east-1",
                      config=Config(connect_timeout=min(CONNECT_SECONDS, read_seconds),
                                    read_timeout=read_seconds,
                                    retries={"total_max_attempts": attempts,
                                             "mode": "standard"}))


def parse_url(url: str) -> tuple[str, str, str]:
    """``STORAGE_URL`` as ("file", folder or "", "") or ("s3", bucket, prefix). Raises
    ``ValueError`` naming STORAGE_URL for anything else (the URL itself is not repeated: it
    might carry a secret)."""
    parts = urlsplit(url.strip())
    if parts.query or parts.fragment:
        raise ValueError("STORAGE_URL must not have a query or fragment")
    if parts.scheme == "file":
        if parts.netloc:
            raise ValueError("STORAGE_URL: a file store is 'file:' or 'file:/absolute/folder'")
        if parts.path and not parts.path.startswith("/"):
            raise ValueError("STORAGE_URL: a file store's folder must be an absolute path "
                             "('file:/srv/evidence')")
        return "file", parts.path, ""
    if parts.scheme == "s3":
        if not parts.netloc or "@" in parts.netloc or ":" in parts.netloc:
            raise ValueError("STORAGE_URL: an S3 store is 's3://bucket/prefix' (a bucket name, "
                             "no credentials: those come from the AWS_* settings)")
        return "s3", parts.netloc, parts.path.strip("/")
    raise ValueError("STORAGE_URL must be 'file:', 'file:/absolute/folder' or "
                     f"'s3://bucket/prefix', not a {parts.scheme or 'schemeless'} URL")


def open_store(url: str, *, folder: str) -> Store:
    """The store ``url`` names (see :func:`parse_url`); ``folder`` is the folder of a bare
    ``file:``. Raises ``ValueError`` for an invalid URL."""
    kind, where, prefix = parse_url(url)
    if kind == "file":
        return FileStore(where or folder)
    return S3Store(where, prefix)


def init_app(app: Any) -> None:
    """Refuse to start with an invalid ``STORAGE_URL`` (``ValueError``), before any request."""
    parse_url(app.config["STORAGE_URL"])


def current_store() -> Store:
    """The app's store (``STORAGE_URL``, ``UPLOAD_FOLDER``), opened once and kept in
    ``current_app.extensions`` (opened again if the settings change, as tests change them)."""
    settings = (current_app.config["STORAGE_URL"], current_app.config["UPLOAD_FOLDER"])
    cached = current_app.extensions.get("store")
    if cached is None or cached[0] != settings:
        cached = (settings, open_store(settings[0], folder=settings[1]))
        current_app.extensions["store"] = cached
    store: Store = cached[1]
    return store


def answers() -> bool:
    """Whether the app's store answers and can be written to (a failure is logged)."""
    try:
        current_store().check()
    except StoreError:
        return False
    return True


# --- files kept only with their rows ---------------------------------------------------------

_LEDGER = "stored_objects"


@dataclass
class _Frame:
    """What one transaction (or savepoint) stored and removed, until it ends."""

    puts: list[tuple[Store, str]] = field(default_factory=list)
    removals: list[tuple[Store, str]] = field(default_factory=list)
    committed: bool = False


def _frame(db_session: Session) -> _Frame:
    transaction = db_session.get_nested_transaction() or db_session.get_transaction()
    if transaction is None:
        transaction = db_session.begin()
    frames: dict[SessionTransaction, _Frame] = db_session.info.setdefault(_LEDGER, {})
    return frames.setdefault(transaction, _Frame())


def put_for_row(name: str, source: BinaryIO, store: Store | None = None) -> None:
    """Put ``source`` as ``name`` (in the app's store unless ``store`` is given) for a row this
    unit of work is writing: if its transaction, or the savepoint it was stored in, rolls
    back, the object is deleted again. Raises ``StoreError``."""
    store = store or current_store()
    store.put(name, source)
    _frame(session).puts.append((store, name))


def delete_after_commit(name: str, store: Store | None = None) -> None:
    """Delete ``name`` once this unit of work commits (its row's removal with it); forgotten
    if it rolls back. A delete that fails then is logged (``flask store-orphans`` finds it)."""
    _frame(session).removals.append((store or current_store(), name))


def _boundary(transaction: SessionTransaction | None) -> SessionTransaction | None:
    """The nearest enclosing savepoint or root (a flush's subtransaction is neither)."""
    while transaction is not None and not (transaction.nested or transaction.parent is None):
        transaction = transaction.parent
    return transaction


def _delete_quietly(objects: list[tuple[Store, str]], why: str) -> None:
    for store, name in objects:
        try:
            store.delete(name)
        except StoreError:
            log.exception("Could not delete %s from %s (%s): `flask store-orphans` lists it",
                          name, store.url, why)


@event.listens_for(Session, "after_commit")
def _note_commit(db_session: Session) -> None:
    frames = db_session.info.get(_LEDGER)
    if not frames:
        return
    # A released savepoint is reported as a commit too (its own frame); the root's commit is
    # the one that decides, in _settle below.
    transaction = (db_session.get_nested_transaction() if db_session.in_nested_transaction()
                   else db_session.get_transaction())
    if transaction in frames:
        frames[transaction].committed = True


@event.listens_for(Session, "after_transaction_end")
def _settle(db_session: Session, transaction: SessionTransaction) -> None:
    frames = db_session.info.get(_LEDGER)
    if not frames or transaction not in frames:
        return
    frame = frames.pop(transaction)
    if not frame.committed:  # rolled back, or closed without a commit
        _delete_quietly(frame.puts, "its row was rolled back")
        return
    outer = _boundary(transaction.parent)
    if outer is not None:  # a savepoint released: the enclosing transaction decides
        kept = frames.setdefault(outer, _Frame())
        kept.puts.extend(frame.puts)
        kept.removals.extend(frame.removals)
        return
    _delete_quietly(frame.removals, "its row's removal committed")
