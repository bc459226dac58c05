"""Return reminders, for cron: a set number of days before a return is due, and once it is
overdue (``GrantReturn.is_overdue``, the rule the dashboard counts: not sent and due before
today). Each (return, kind) is sent at most once, even when two runs overlap: the
reminder's row is inserted with a unique key before its email is queued, and the email
leaves only if that insert commits. Each officer reads it in their own language."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.db import session, utcnow
from portal.models import Award, AwardStatus, GrantReturn, ReminderSent
from portal.services import email
from portal.services.awards import OPEN_RETURN
from portal.services.workflow import atomic, audience

DUE_SOON = "due_soon"
OVERDUE = "overdue"


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


@atomic
def send_reminder(return_id: int, kind: str) -> bool:
    """Claim the (return, kind) reminder and queue its email to the partnership; False if
    it was sent before (by an earlier run, or one running now)."""
    try:
        with session.begin_nested():
            session.add(ReminderSent(return_id=return_id, kind=kind, sent_at=utcnow()))
            session.flush()
    except IntegrityError:
        return False
    grant_return = session.execute(
        select(GrantReturn).where(GrantReturn.id == return_id)
        .options(joinedload(GrantReturn.award).joinedload(Award.bid))).scalar_one()
    award = grant_return.award
    reference = award.bid.reference
    subject = (_l("Return overdue: %(reference)s", reference=reference) if kind == OVERDUE
               else _l("Return due soon: %(reference)s", reference=reference))
    for officer in audience("partnership", organisation_id=award.organisation_id):
        email.send(officer.email, subject, "return_reminder",
                   locale="cy" if officer.language == "cy" else "en_GB", user=officer,
                   grant_return=grant_return, award=award, overdue=kind == OVERDUE)
    return True


def send_reminders(today: date, days_before: int) -> int:
    """Send the reminders due today; returns how many this run sent. Commits per reminder."""
    candidates = _candidates(today, days_before)
    session.commit()
    sent = 0
    for return_id, kind in candidates:
        if not send_reminder(return_id, kind):
            session.rollback()
            continue
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # another run committed the same reminder first
            continue
        sent += 1
    return sent
