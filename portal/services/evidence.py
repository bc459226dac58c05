"""Evidence attachments: type checked from the content, stored outside static under
generated names, limits from configuration."""

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


def detect(name: str, content: bytes) -> Kind:
    """The kind of file from its content; refuses types we do not take and disguised files."""
    extension = _extension(name)
    guess = filetype.guess(content)
    if guess is None:
        if extension == "csv" and _looks_like_csv(content):
            return KINDS["csv"]
        raise DomainError(_("The selected file must be a PDF, Word, Excel, CSV, PNG or JPEG"),
                          field="file")
    kind = KINDS.get(guess.extension)
    if kind is None:
        raise DomainError(_("The selected file must be a PDF, Word, Excel, CSV, PNG or JPEG"),
                          field="file")
    if extension not in kind.extensions:
        raise DomainError(_("The selected file’s name does not match what it contains: it is a "
                            "%(kind)s file", kind=guess.extension.upper()), field="file")
    return kind


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
    if bid.status != BidStatus.DRAFT:
        raise DomainError(_("This bid has been submitted and can no longer be changed."),
                          field="file")
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    most = current_app.config["MAX_UPLOADS_PER_BID"]
    if len(bid.evidence) >= most:
        raise DomainError(_("A bid can have up to %(n)d files. Remove one to add another.",
                            n=most), field="file")
    content = stream.read(limit + 1)
    if len(content) == 0:
        raise DomainError(_("The selected file is empty"), field="file")
    if len(content) > limit:
        raise DomainError(_("The selected file must be smaller than %(mb)d MB",
                            mb=limit // (1024 * 1024)), field="file")
    kind = detect(name, content)
    stored = f"{secrets.token_hex(16)}.{kind.extensions[0]}"
    path = storage_root() / stored
    path.write_bytes(content)
    evidence = EvidenceFile(bid=bid, original_name=_clean_name(name), stored_name=stored,
                            content_type=kind.content_type, size_bytes=len(content),
                            description=description.strip(), uploaded_by_id=actor.id,
                            uploaded_at=utcnow())
    session.add(evidence)
    session.flush()
    audit.record("bid.evidence_added", "bid", bid.id, actor=actor,
                 after={"file": evidence.original_name, "size": len(content)})
    return evidence


@atomic
def remove(bid: Bid, evidence_id: int, actor: User) -> None:
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
