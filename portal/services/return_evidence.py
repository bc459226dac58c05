"""Evidence attached to a grant return: the same checks and storage as a bid's files
(``evidence.check_upload``), allowed only while the return can still be changed
(``awards.return_editable``); and the return's form saved with its file, all or nothing."""

from __future__ import annotations

from typing import Any, BinaryIO

from flask import current_app
from flask_babel import gettext as _

from portal.db import session, utcnow
from portal.models import GrantReturn, ReturnEvidence, User
from portal.services import audit, awards
from portal.services.evidence import check_upload, most_per_bid
from portal.services.workflow import atomic


def _most() -> int:
    return int(current_app.config.get("MAX_UPLOADS_PER_RETURN") or most_per_bid())


def stored_name(item: ReturnEvidence) -> str:
    """The name ``item``'s file is kept under in the store (``downloads.attachment``)."""
    return item.stored_name


@atomic
def add_return_evidence(grant_return: GrantReturn, name: str, stream: BinaryIO,
                        actor: User) -> ReturnEvidence:
    """Check and store one file for ``grant_return``; refuses once the return is in.

    A refusal about the file names the ``evidence`` field; one about the award or the
    return names none.

    The award and its returns are locked and read again first (``awards.lock_award``), as a
    save or a check does: two uploads at once count each other's files, and an upload racing
    the submission either lands before it or finds the return sent."""
    awards.lock_award(grant_return.award, with_returns=True)
    session.refresh(grant_return, ["evidence"])
    awards.require_return_editable(grant_return)
    most = _most()
    upload = check_upload(name, stream, attached=len(grant_return.evidence), most=most,
                          field="evidence",
                          too_many=_("A return can have up to %(n)d files.", n=most))
    item = ReturnEvidence(return_id=grant_return.id, original_name=upload.name,
                          stored_name=upload.store("evidence"),
                          content_type=upload.kind.content_type,
                          size_bytes=upload.size, uploaded_by_id=actor.id,
                          uploaded_at=utcnow())
    grant_return.evidence.append(item)
    session.flush()
    audit.record("return.evidence_added", "return", grant_return.id, actor=actor,
                 after={"file": item.original_name, "size": upload.size,
                        "award": grant_return.award_id})
    return item


@atomic
def save_return_with_file(grant_return: GrantReturn, upload: tuple[str, BinaryIO] | None,
                          spend: dict[int, int], outcomes: list[awards.OutcomeInput],
                          case_study: str, forecast_underspend: int, *, submit: bool,
                          actor: User, expected_version: int | None = None,
                          actions: list[awards.ActionInput] | None = None,
                          actions_seen: str | None = None,
                          answers: dict[str, Any] | None = None,
                          form_seen: str | None = None) -> None:
    """Attach the file (``(name, stream)``, if any) and save the return (see
    ``awards.save_return``, ``actions`` the action plan's RAG reports), all or nothing: a
    refusal keeps neither row nor stored file (this service's savepoint rolls back, and
    ``portal.storage`` deletes what was stored in it)."""
    if upload is not None:
        add_return_evidence(grant_return, upload[0], upload[1], actor)
    awards.save_return(grant_return, spend, outcomes, case_study, forecast_underspend,
                       submit=submit, actor=actor, expected_version=expected_version,
                       actions=actions, actions_seen=actions_seen, answers=answers,
                       form_seen=form_seen)
