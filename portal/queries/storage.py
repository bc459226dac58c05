"""Reads for ``flask store-orphans``: every row that names a stored file (a bid's evidence,
``evidence_files``; a return's, ``return_evidence``) and what it belongs to."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select

from portal.db import session
from portal.models import Bid, EvidenceFile, GrantReturn, ReturnEvidence


@dataclass(frozen=True)
class StoredFileRow:
    """One row naming a stored file: ``table`` and ``row_id`` the row, ``stored_name`` the
    object, ``original_name`` the name it was uploaded under, ``owner`` what it belongs to in
    words a person can look up ("bid 12 (SCF-2026-0003)", "return 7 of award 3")."""

    table: str
    row_id: int
    stored_name: str
    original_name: str
    owner: str


def stored_file_rows() -> Iterator[StoredFileRow]:
    """Every row of ``evidence_files`` and ``return_evidence``, bids' first, each by id; two
    queries, streamed."""
    bids = session.execute(
        select(EvidenceFile.id, EvidenceFile.stored_name, EvidenceFile.original_name, Bid.id,
               Bid.reference)
        .join(Bid, Bid.id == EvidenceFile.bid_id).order_by(EvidenceFile.id)
        .execution_options(yield_per=1000))
    for row_id, stored, original, bid_id, reference in bids:
        owner = f"bid {bid_id}" + (f" ({reference})" if reference else "")
        yield StoredFileRow("evidence_files", row_id, stored, original, owner)
    returns = session.execute(
        select(ReturnEvidence.id, ReturnEvidence.stored_name, ReturnEvidence.original_name,
               GrantReturn.id, GrantReturn.award_id)
        .join(GrantReturn, GrantReturn.id == ReturnEvidence.return_id)
        .order_by(ReturnEvidence.id).execution_options(yield_per=1000))
    for row_id, stored, original, return_id, award_id in returns:
        yield StoredFileRow("return_evidence", row_id, stored, original,
                            f"return {return_id} of award {award_id}")
