"""Evidence attachments: type checked from the content, stored outside static under
generated names, limits from configuration.

:func:`check_upload` is the one set of checks for every uploaded file (a bid's evidence here,
a return's in ``portal.services.return_evidence``): how many are attached already, empty,
too large (``MAX_UPLOAD_BYTES``), and a type we take whose name matches its content."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from portal.db import session, utcnow
from portal.models import Bid, BidStatus, EvidenceFile, User
from portal.services import DomainError, audit
from portal.services.workflow import atomic


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


def _looks_like_csv(content: bytes) -> bool:
    if b"\x00" in content:
        return False
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    try:
        rows = list(csv.reader(io.StringIO(text[:65536])))
    except csv.Error:
        return False
    return len(rows) > 0


def detect(name: str, content: bytes, field: str = "file") -> Kind:
    """The kind of file from its content; refuses (beside ``field``) types we do not take and
    disguised files."""
    extension = _extension(name)
    guess = filetype.guess(content)
    if guess is None:
        if extension == "csv" and _looks_like_csv(content):
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
    """A file that passed :func:`check_upload`: its cleaned name, kind and content."""

    name: str
    kind: Kind
    content: bytes

    def store(self) -> str:
        """Write the content under a new generated name in the store; that name."""
        stored = f"{secrets.token_hex(16)}.{self.kind.extensions[0]}"
        (storage_root() / stored).write_bytes(self.content)
        return stored


def check_upload(name: str, stream: BinaryIO, *, attached: int, most: int, too_many: str,
                 field: str) -> CheckedUpload:
    """Read and check one uploaded file, refusing beside ``field``: ``too_many`` when
    ``attached`` files already reach ``most``; then an empty file, one larger than
    ``MAX_UPLOAD_BYTES`` (reading no more than one byte past it), and one whose content is not
    a type we take or does not match its name. Stores nothing."""
    if attached >= most:
        raise DomainError(too_many, field=field)
    limit = max_upload_bytes()
    content = stream.read(limit + 1)
    if len(content) == 0:
        raise DomainError(_("The selected file is empty"), field=field)
    if len(content) > limit:
        raise DomainError(_("The selected file must be smaller than %(mb)d MB",
                            mb=limit // (1024 * 1024)), field=field)
    return CheckedUpload(_clean_name(name), detect(name, content, field), content)


def storage_root() -> Path:
    root = Path(current_app.config["UPLOAD_FOLDER"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def path_of(evidence: EvidenceFile) -> Path:
    return storage_root() / evidence.stored_name


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
    evidence = EvidenceFile(bid=bid, original_name=upload.name, stored_name=upload.store(),
                            content_type=upload.kind.content_type,
                            size_bytes=len(upload.content), description=description.strip(),
                            uploaded_by_id=actor.id, uploaded_at=utcnow())
    session.add(evidence)
    session.flush()
    audit.record("bid.evidence_added", "bid", bid.id, actor=actor,
                 after={"file": evidence.original_name, "size": len(upload.content)})
    return evidence


@atomic
def remove(bid: Bid, evidence_id: int, actor: User) -> None:
    """Remove a file from a draft bid. The bid is locked and read again first, as in ``add``:
    a removal racing the submission happens before it or finds the bid submitted."""
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
    path = storage_root() / evidence.stored_name
    path.unlink(missing_ok=True)
