"""Evidence attachments: type checked from the content, kept in the file store
(``portal.storage``, never under static) under generated names, limits from configuration.

:func:`check_upload` is the one set of checks for every uploaded file (a bid's evidence here,
a return's in ``portal.services.return_evidence``): how many are attached already, empty,
too large (``MAX_UPLOAD_BYTES``), and a type we take whose name matches its content."""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import secrets
import tempfile
from dataclasses import dataclass
from typing import BinaryIO, cast

import filetype
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from portal import storage
from portal.db import session, utcnow
from portal.models import Bid, BidStatus, EvidenceFile, ReturnEvidence, User
from portal.services import DomainError, audit
from portal.services.workflow import atomic
from portal.storage import StoreError


@dataclass(frozen=True)
class Kind:
    content_type: str
    extensions: tuple[str, ...]


# What filetype reports from the content -> what we accept and the names it may carry.
KINDS = {
    "pdf": Kind("application/pdf", ("pdf",)),
    "png": Kind("image/png", ("png",)),
    "jpg": Kind("image/jpeg", ("jpg", "jpeg")),
    "docx": Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 ("docx",)),
    "doc": Kind("application/msword", ("doc",)),
    "xlsx": Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",)),
    "xls": Kind("application/vnd.ms-excel", ("xls",)),
    "csv": Kind("text/csv", ("csv",)),
}


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


class _CsvCheck:
    """The CSV test, fed the file a chunk at a time: no NUL anywhere, UTF-8 (a BOM allowed)
    throughout, and the first 64 KiB of text read as CSV rows (at least one, no error)."""

    HEAD_CHARACTERS = 65536

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
        self._text: list[str] = []
        self._characters = 0
        self.possible = True

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        if not self.possible:
            return
        if b"\x00" in chunk:
            self.possible = False
            return
        try:
            text = self._decoder.decode(chunk, final=final)
        except UnicodeDecodeError:
            self.possible = False
            return
        if self._characters < self.HEAD_CHARACTERS:
            self._text.append(text)
            self._characters += len(text)

    def looks_like_csv(self) -> bool:
        """Whether everything fed (the last with ``final=True``) passed."""
        if not self.possible:
            return False
        try:
            rows = list(csv.reader(io.StringIO("".join(self._text)[:self.HEAD_CHARACTERS])))
        except csv.Error:
            return False
        return len(rows) > 0


def _looks_like_csv(content: bytes) -> bool:
    check = _CsvCheck()
    check.feed(content, final=True)
    return check.looks_like_csv()


def detect(name: str, content: bytes, field: str = "file", *,
           csv_check: _CsvCheck | None = None) -> Kind:
    """The kind of file from its content (``content``: the whole file, or at least its first
    8 KiB, all that filetype reads, with ``csv_check`` fed the whole file); refuses (beside
    ``field``) types we do not take and disguised files."""
    extension = _extension(name)
    guess = filetype.guess(content)
    if guess is None:
        looks_like_csv = (csv_check.looks_like_csv() if csv_check is not None
                          else _looks_like_csv(content))
        if extension == "csv" and looks_like_csv:
            return KINDS["csv"]
        raise DomainError(_("The selected file must be a PDF, Word, Excel, CSV, PNG or JPEG"),
                          field=field)
    kind = KINDS.get(guess.extension)
    if kind is None:
        raise DomainError(_("The selected file must be a PDF, Word, Excel, CSV, PNG or JPEG"),
                          field=field)
    if extension not in kind.extensions:
        raise DomainError(_("The selected file’s name does not match what it contains: it is a "
                            "%(kind)s file", kind=guess.extension.upper()), field=field)
    return kind


def max_upload_bytes() -> int:
    """The largest file taken, in bytes (``MAX_UPLOAD_BYTES``)."""
    return int(current_app.config["MAX_UPLOAD_BYTES"])


def most_per_bid() -> int:
    """How many files a bid may have (``MAX_UPLOADS_PER_BID``)."""
    return int(current_app.config["MAX_UPLOADS_PER_BID"])


@dataclass(frozen=True)
class CheckedUpload:
    """A file that passed :func:`check_upload`: its cleaned name, kind and size in bytes, and
    its content in a spooled temporary file (in memory up to ``SPOOL_BYTES``, then on disk)."""

    name: str
    kind: Kind
    size: int
    spool: BinaryIO = dataclasses.field(repr=False, compare=False)

    def store(self, field: str) -> str:
        """Put the content under a new generated name in the app's store, kept only if this
        unit of work commits (``storage.put_for_row``); that name. Closes the spool. A store
        that cannot take it is refused beside ``field`` (``DomainError``)."""
        stored = f"{secrets.token_hex(16)}.{self.kind.extensions[0]}"
        try:
            self.spool.seek(0)
            storage.put_for_row(stored, self.spool)
        except StoreError as exc:
            raise DomainError(exc.message, field=field) from exc
        finally:
            self.spool.close()
        return stored


SPOOL_BYTES = 1024 * 1024  # held in memory before the spool moves to a temporary file
SIGNATURE_BYTES = 8192  # all filetype reads of a file (filetype.utils._NUM_SIGNATURE_BYTES)


def _spooled(stream: BinaryIO, limit: int, csv_check: _CsvCheck) -> tuple[BinaryIO, int, bytes]:
    """Copy at most ``limit + 1`` bytes of ``stream`` into a spooled file, in chunks, feeding
    ``csv_check`` as they pass: the spool (at its start), the size read and the first
    ``SIGNATURE_BYTES``."""
    # Returned open (the caller closes it); typeshed's SpooledTemporaryFile is no BinaryIO.
    spool = cast(BinaryIO, tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES))  # noqa: SIM115
    size, head = 0, b""
    try:
        while size <= limit:
            chunk = stream.read(min(storage.CHUNK_BYTES, limit + 1 - size))
            if not chunk:
                break
            size += len(chunk)
            if len(head) < SIGNATURE_BYTES:
                head += chunk[:SIGNATURE_BYTES - len(head)]
            csv_check.feed(chunk)
            spool.write(chunk)
        csv_check.feed(b"", final=True)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool, size, head


def check_upload(name: str, stream: BinaryIO, *, attached: int, most: int, too_many: str,
                 field: str) -> CheckedUpload:
    """Read and check one uploaded file, refusing beside ``field``: ``too_many`` when
    ``attached`` files already reach ``most``; then an empty file, one larger than
    ``MAX_UPLOAD_BYTES`` (reading no more than one byte past it), and one whose content is not
    a type we take or does not match its name. Stores nothing; reads in chunks into a spooled
    file (at most ``SPOOL_BYTES`` in memory), which the returned upload holds."""
    if attached >= most:
        raise DomainError(too_many, field=field)
    limit = max_upload_bytes()
    csv_check = _CsvCheck()
    spool, size, head = _spooled(stream, limit, csv_check)
    try:
        if size == 0:
            raise DomainError(_("The selected file is empty"), field=field)
        if size > limit:
            raise DomainError(_("The selected file must be smaller than %(mb)d MB",
                                mb=limit // (1024 * 1024)), field=field)
        kind = detect(name, head, field, csv_check=csv_check)
    except BaseException:
        spool.close()
        raise
    return CheckedUpload(_clean_name(name), kind, size, spool)


def stored_name(item: EvidenceFile) -> str:
    """The name ``item``'s file is kept under in the store (``downloads.attachment``)."""
    return item.stored_name


def _clean_name(name: str) -> str:
    keep = "".join(c for c in name if c.isprintable() and c not in '/\\:*?"<>|')
    return keep.strip()[-200:] or "file"


@atomic
def add(bid: Bid, name: str, stream: BinaryIO, description: str, actor: User) -> EvidenceFile:
    """Check and store one file for a draft bid. Raises DomainError beside ``file``.

    The bid's row is locked and read again first, as ``bids.submit`` does: two uploads at once
    count each other's files (the limit holds), and an upload racing the submission either
    lands before it or finds the bid submitted."""
    session.execute(select(Bid.id).where(Bid.id == bid.id).with_for_update())
    session.refresh(bid, ["status", "evidence"])
    if bid.status != BidStatus.DRAFT:
        raise DomainError(_("This bid has been submitted and can no longer be changed."),
                          field="file")
    most = most_per_bid()
    upload = check_upload(name, stream, attached=len(bid.evidence), most=most, field="file",
                          too_many=_("A bid can have up to %(n)d files. Remove one to add "
                                     "another.", n=most))
    evidence = EvidenceFile(bid=bid, original_name=upload.name,
                            stored_name=upload.store("file"),
                            content_type=upload.kind.content_type,
                            size_bytes=upload.size, description=description.strip(),
                            uploaded_by_id=actor.id, uploaded_at=utcnow())
    session.add(evidence)
    session.flush()
    audit.record("bid.evidence_added", "bid", bid.id, actor=actor,
                 after={"file": evidence.original_name, "size": upload.size})
    return evidence


@atomic
def remove(bid: Bid, evidence_id: int, actor: User) -> None:
    """Remove a file from a draft bid. The bid is locked and read again first, as in ``add``:
    a removal racing the submission happens before it or finds the bid submitted. The stored
    file is deleted only once the removal commits (``storage.delete_after_commit``)."""
    session.execute(select(Bid.id).where(Bid.id == bid.id).with_for_update())
    session.refresh(bid, ["status", "evidence"])
    if bid.status != BidStatus.DRAFT:
        raise DomainError(_("This bid has been submitted and can no longer be changed."))
    evidence = next((e for e in bid.evidence if e.id == evidence_id), None)
    if evidence is None:
        raise DomainError(_("That file is not attached to this bid."))
    bid.evidence.remove(evidence)
    session.flush()
    audit.record("bid.evidence_removed", "bid", bid.id, actor=actor,
                 before={"file": evidence.original_name})
    storage.delete_after_commit(evidence.stored_name)


def _still_stored(name: str) -> bool:
    """Whether the store has ``name`` (its first byte can be read). Raises ``StoreError``
    when the store does not answer."""
    chunks = None
    try:
        chunks = storage.current_store().chunks(name, size=1)
        next(iter(chunks), None)
    except storage.MissingFile:
        return False
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return True


@atomic
def forget_missing(table: str, row_id: int) -> bool:
    """Remove the row (``table`` "evidence_files" or "return_evidence", ``row_id``) of a file
    that is missing from the store (``flask store-orphans --remove-rows``; issue 17), audited by
    the system as ``bid.evidence_lost`` or ``return.evidence_lost`` with the file's name.
    The store is asked again first: False (and nothing changed) if the row has gone meanwhile
    or its file is there after all. Raises ``storage.StoreError`` when the store does not
    answer (nothing changed)."""
    row: EvidenceFile | ReturnEvidence | None
    if table == "evidence_files":
        row = session.get(EvidenceFile, row_id, with_for_update=True)
    else:
        row = session.get(ReturnEvidence, row_id, with_for_update=True)
    if row is None or _still_stored(row.stored_name):
        return False
    extra: dict[str, object] = {}
    if isinstance(row, EvidenceFile):
        action, record, record_id = "bid.evidence_lost", "bid", row.bid_id
    else:
        action, record, record_id = "return.evidence_lost", "return", row.return_id
        extra = {"award": row.grant_return.award_id}
    before = {"file": row.original_name, "stored_as": row.stored_name, **extra}
    session.delete(row)
    session.flush()
    audit.record(action, record, record_id, actor=None, before=before)
    return True
