"""Return reminders, for cron: a set number of days before a return is due, and once it is
overdue (``GrantReturn.is_overdue``, the rule the dashboard counts: not sent and due before
today). Each officer reads it in their own language.

A reminder counts as sent once its emails, one to each active officer of the partnership,
are in the outbox (``outgoing_emails``, committed with the reminder's claim): the sender
(``portal.services.sending``) delivers them, and tries again while the mail server is down,
so a reminder is never lost to a failed delivery. Each (return, kind) is sent at most once,
even when two runs overlap: the reminder's row in ``reminders_sent`` is inserted with a
unique key before its emails are written, and both commit or neither. A reminder nobody can
receive (the partnership has no active officer) is held instead (``reminders_held``): listed
for the grants team and tried again on every later run while it is still due, until someone
can receive it."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.db import session, utcnow
from portal.models import Award, AwardStatus, GrantReturn, ReminderSent
from portal.models.sending import ReminderHeld
from portal.services import email
from portal.services.awards import OPEN_RETURN
from portal.services.workflow import atomic, audience

DUE_SOON = "due_soon"
OVERDUE = "overdue"
NO_RECIPIENT = "no_recipient"  # the partnership has no active officer
# Rows held before issue 17 may say "not_delivered" (the mail server took none of the
# emails): now the sender tries such emails again instead, and nothing new is held for it.


def _candidates(today: date, days_before: int) -> list[tuple[int, str]]:
    """(return id, kind) for the open returns on active awards due by ``days_before`` days
    from ``today``: overdue ones, and those due from today on (due soon). A queried return
    past its date is neither: it was received, and the partnership was told what to change
    when finance queried it."""
    returns = session.scalars(
        select(GrantReturn).join(Award)
        .where(Award.status == AwardStatus.ACTIVE, GrantReturn.status.in_(OPEN_RETURN),
               GrantReturn.due_date <= today + timedelta(days=days_before)))
    found = []
    for grant_return in returns:
        if grant_return.is_overdue(today):
            found.append((grant_return.id, OVERDUE))
        elif grant_return.due_date >= today:
            found.append((grant_return.id, DUE_SOON))
    return found


def _hold(return_id: int, kind: str, reason: str) -> None:
    """Note (or note again) that the (return, kind) reminder reached nobody, and why."""
    now = utcnow()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert
    session.execute(
        insert(ReminderHeld).values(return_id=return_id, kind=kind, reason=reason,
                                    held_since=now, last_tried_at=now)
        .on_conflict_do_update(index_elements=[ReminderHeld.return_id, ReminderHeld.kind],
                               set_={"reason": reason, "last_tried_at": now}))


@atomic
def send_reminder(return_id: int, kind: str) -> int | None:
    """Claim the (return, kind) reminder and write its email to each active officer of the
    partnership to the outbox: the number of emails written (they leave once this commits).
    None if it was sent
    before (by an earlier run, or one running now); 0 if nobody can receive it: it is then
    held (``reminders_held``), not claimed, so a later run tries again."""
    sent_before = select(ReminderSent.id).where(ReminderSent.return_id == return_id,
                                                ReminderSent.kind == kind)
    if session.scalar(sent_before) is not None:
        return None
    grant_return = session.execute(
        select(GrantReturn).where(GrantReturn.id == return_id)
        .options(joinedload(GrantReturn.award).joinedload(Award.bid))).scalar_one()
    award = grant_return.award
    officers = audience("partnership", organisation_id=award.organisation_id)
    if not officers:
        _hold(return_id, kind, NO_RECIPIENT)
        return 0
    try:
        with session.begin_nested():
            session.add(ReminderSent(return_id=return_id, kind=kind, sent_at=utcnow()))
            session.flush()
    except IntegrityError:
        return None
    session.execute(delete(ReminderHeld).where(ReminderHeld.return_id == return_id,
                                               ReminderHeld.kind == kind))
    reference = award.bid.reference
    subject = (_l("Return overdue: %(reference)s", reference=reference) if kind == OVERDUE
               else _l("Return due soon: %(reference)s", reference=reference))
    for officer in officers:
        email.send_to(officer, subject, "return_reminder", grant_return=grant_return,
                      award=award, overdue=kind == OVERDUE)
    return len(officers)


@atomic
def _forget_held_except(due: set[tuple[int, str]]) -> None:
    """Held reminders no longer due (the return came in, the award closed, a due-soon one
    became overdue) are no longer listed."""
    for held in list(session.scalars(select(ReminderHeld))):
        if (held.return_id, held.kind) not in due:
            session.delete(held)


def send_reminders(today: date, days_before: int) -> int:
    """Send the reminders due today. Returns how many emails this run wrote to the outbox
    (the number the command prints; the sender delivers them, the command at once after).
    Commits per reminder; what nobody could receive is held
    (``portal.queries.reminders.held``)."""
    candidates = _candidates(today, days_before)
    session.commit()
    emails = 0
    for return_id, kind in candidates:
        try:
            written = send_reminder(return_id, kind)
            session.commit()
        except IntegrityError:
            session.rollback()  # another run committed the same reminder first
            continue
        emails += written or 0
    _forget_held_except(set(candidates))
    session.commit()
    return emails
