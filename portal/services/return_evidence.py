"""Evidence attached to a grant return: the same type checks and storage as a bid's files
(portal.services.evidence), allowed only while the return can still be changed; and the
return's form saved with its file, all or nothing."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _

from portal.db import session, utcnow
from portal.models import AwardStatus, GrantReturn, ReturnEvidence, User
from portal.services import DomainError, audit, awards
from portal.services.awards import OPEN_RETURN
from portal.services.evidence import _clean_name, detect, storage_root
from portal.services.workflow import atomic


def _most() -> int:
    return int(current_app.config.get("MAX_UPLOADS_PER_RETURN")
               or current_app.config["MAX_UPLOADS_PER_BID"])


def path_of(item: ReturnEvidence) -> Path:
    return storage_root() / item.stored_name


@atomic
def add_return_evidence(grant_return: GrantReturn, name: str, stream: BinaryIO,
                        actor: User) -> ReturnEvidence:
    """Check and store one file for ``grant_return``; refuses once the return is in.

    A refusal about the file names the ``evidence`` field; one about the award or the
    return names none."""
    award = grant_return.award
    if award.status == AwardStatus.CLOSED:
        raise DomainError(_("This award is closed: no more returns can be filed."))
    if award.status != AwardStatus.ACTIVE:
        raise DomainError(_("Accept the offer before filing returns."))
    if grant_return.status not in OPEN_RETURN:
        raise DomainError(_("This return has been submitted and cannot be changed now."))
    most = _most()
    if len(grant_return.evidence) >= most:
        raise DomainError(_("A return can have up to %(n)d files.", n=most), field="evidence")
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    content = stream.read(limit + 1)
    if len(content) == 0:
        raise DomainError(_("The selected file is empty"), field="evidence")
    if len(content) > limit:
        raise DomainError(_("The selected file must be smaller than %(mb)d MB",
                            mb=limit // (1024 * 1024)), field="evidence")
    try:
        kind = detect(name, content)
    except DomainError as refused:
        raise DomainError(refused.message, field="evidence") from None
    stored = f"{secrets.token_hex(16)}.{kind.extensions[0]}"
    (storage_root() / stored).write_bytes(content)
    item = ReturnEvidence(return_id=grant_return.id, original_name=_clean_name(name),
                          stored_name=stored, content_type=kind.content_type,
                          size_bytes=len(content), uploaded_by_id=actor.id, uploaded_at=utcnow())
    grant_return.evidence.append(item)
    session.flush()
    audit.record("return.evidence_added", "return", grant_return.id, actor=actor,
                 after={"file": item.original_name, "size": len(content),
                        "award": grant_return.award_id})
    return item


def forget_stored(item: ReturnEvidence) -> None:
    """Delete a stored file whose row was rolled back (the rest of the save was refused)."""
    path_of(item).unlink(missing_ok=True)


@atomic
def save_return_with_file(grant_return: GrantReturn, upload: tuple[str, BinaryIO] | None,
                          spend: dict[int, int], outcomes: list[awards.OutcomeInput],
                          case_study: str, forecast_underspend: int, *, submit: bool,
                          actor: User, expected_version: int | None = None) -> None:
    """Attach the file (``(name, stream)``, if any) and save the return (see
    ``awards.save_return``), all or nothing: a refusal keeps neither row nor stored file."""
    added = None
    try:
        if upload is not None:
            added = add_return_evidence(grant_return, upload[0], upload[1], actor)
        awards.save_return(grant_return, spend, outcomes, case_study, forecast_underspend,
                           submit=submit, actor=actor, expected_version=expected_version)
    except BaseException:
        if added is not None:
            forget_stored(added)
        raise
