"""Reads about the outbox (issue 17): the emails that have not reached the mail server, for
the administrators' page."""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from portal.models import EmailStatus, OutgoingEmail
from portal.pagination import Page, paginate


def undelivered(number: int) -> Page:
    """Page ``number`` of the emails not delivered: those still waiting that have failed at
    least once (the sender tries them again from ``next_attempt_at``) and those that failed
    for good, newest first. Rows: id, created_at, recipients, subject, status
    (``EmailStatus``), attempts, next_attempt_at, last_error. Two queries whatever their
    number (the page and the count)."""
    statement = (
        select(OutgoingEmail.id, OutgoingEmail.created_at, OutgoingEmail.recipients,
               OutgoingEmail.subject, OutgoingEmail.status, OutgoingEmail.attempts,
               OutgoingEmail.next_attempt_at, OutgoingEmail.last_error)
        .where(or_(OutgoingEmail.status == EmailStatus.FAILED,
                   and_(OutgoingEmail.status == EmailStatus.PENDING,
                        OutgoingEmail.attempts > 0)))
        .order_by(OutgoingEmail.created_at.desc(), OutgoingEmail.id.desc()))
    return paginate(statement, number, rows=True)
