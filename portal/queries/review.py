"""Reads for the assessor's pages: their queue of assignments."""

from __future__ import annotations

from portal.models import User
from portal.pagination import Page, paginate
from portal.services import assessment


def queue_page(assessor: User, number: int) -> Page:
    """Page ``number`` of the assessor's own assignments, as rows of what the queue shows (id,
    conflict, status, reference, title, partnership, fund): work in progress first, then not
    started, then submitted; within each, the longest waiting first."""
    return paginate(assessment.queue_query(assessor), number, rows=True,
                    count=assessment.queue_count(assessor))
