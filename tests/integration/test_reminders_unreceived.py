"""A reminder counts as sent only when someone can receive it (issue 13, point 10): a reminder
for a partnership with no active officer is not marked sent; it is listed for the grants team
(a page and the command's output) and goes out on a later run once someone can receive it.
Once its emails are in the outbox it is sent (issue 17): a mail server that is down delays
them, and the sender delivers them later, once. The count printed is the emails written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.db import session, utcnow
from portal.models import (
    Award,
    AwardStatus,
    EmailStatus,
    GrantReturn,
    OutgoingEmail,
    ReminderSent,
    Role,
    User,
)
from portal.models.sending import ReminderHeld
from portal.services import accounts, reminders, sending
from portal.services.awards import OPEN_RETURN
from tests.conftest import free_port, mail_server
from tests.helpers import signed_in, text_of

FENLAND = "officer.fenland@example.org"  # the demo's return due soon
CAMBRIDGE = "officer.cambridge@example.org"  # the demo's overdue return
MANAGER = "manager@example.org"


@pytest.fixture
def real_app(committed_app):
    """The demo data with its two active awards, in a database whose writes commit."""
    return committed_app("reminders_unreceived", awards=True)


@pytest.fixture
def smtp_for(real_app):
    with mail_server(real_app) as mailbox:
        yield mailbox


def run(app, today=None, days=14) -> int:
    with app.test_request_context():
        return reminders.send_reminders(today or utcnow().date(), days)


def command(app) -> str:
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    return result.output


def set_active(app, address: str, active: bool) -> None:
    with app.app_context():
        session.execute(update(User).where(User.email == address).values(active=active))
        session.commit()


def sent_rows(app) -> list[tuple[int, str]]:
    with app.app_context():
        return list(session.execute(select(ReminderSent.return_id, ReminderSent.kind)))


def held_rows(app) -> list[tuple[str, str]]:
    with app.app_context():
        return list(session.execute(select(ReminderHeld.kind, ReminderHeld.reason)))


def test_a_partnership_without_an_active_officer_gets_its_reminder_once_it_has_one(real_app,
                                                                                  smtp_for):
    set_active(real_app, FENLAND, False)
    output = command(real_app)
    assert "Sent 1 reminder email(s)." in output  # Cambridge's: the one email written
    assert len(smtp_for.messages) == 1 and smtp_for.to(CAMBRIDGE)
    assert "1 reminder(s) reached nobody" in output
    assert "Safer Fenland Partnership: due soon" in output and "no active officer" in output
    assert "http://portal.test/manage/reminders" in output
    assert len(sent_rows(real_app)) == 1  # Fenland's is not marked sent
    assert held_rows(real_app) == [("due_soon", "no_recipient")]

    assert "Sent 0 reminder email(s)." in command(real_app)  # still nobody: still held
    assert held_rows(real_app) == [("due_soon", "no_recipient")]

    set_active(real_app, FENLAND, True)
    output = command(real_app)
    assert "Sent 1 reminder email(s)." in output and "reached nobody" not in output
    [fenland] = smtp_for.to(FENLAND)
    assert fenland["Subject"].startswith("Return due soon")
    assert len(sent_rows(real_app)) == 2 and held_rows(real_app) == []
    assert "Sent 0 reminder email(s)." in command(real_app)  # and never again
    assert len(smtp_for.messages) == 2


def test_the_count_printed_is_the_emails_written(real_app, smtp_for):
    with real_app.test_request_context():
        fenland = accounts.get_user_by_email(FENLAND).organisation
        accounts.create_user("Second Officer", "second.fenland@example.org", fenland,
                             {Role.OFFICER}, actor=None)
        session.commit()
    output = command(real_app)
    assert "Sent 3 reminder email(s)." in output
    assert len(smtp_for.messages) == 3
    assert smtp_for.to("second.fenland@example.org") and smtp_for.to(FENLAND)


def test_reminders_the_mail_server_could_not_take_are_sent_by_the_sender_later(real_app,
                                                                              smtp_for):
    working_port = real_app.config["MAIL_PORT"]
    real_app.config["MAIL_PORT"] = free_port()  # nothing listens there
    output = command(real_app)
    assert "Sent 2 reminder email(s)." in output  # written to the outbox: the reminders are sent
    assert "2 email(s) could not be sent now" in output
    assert smtp_for.messages == [] and len(sent_rows(real_app)) == 2
    assert held_rows(real_app) == []  # nothing is held for the mail server
    with real_app.app_context():
        waiting = list(session.execute(
            select(OutgoingEmail.attempts, OutgoingEmail.last_error)
            .where(OutgoingEmail.status == EmailStatus.PENDING)))
    # The first was tried; the second was left untried once the server could not be reached.
    assert sorted(attempts for attempts, _error in waiting) == [0, 1]
    assert any("ConnectionRefusedError" in error for _attempts, error in waiting)
    assert run(real_app) == 0  # the reminders are not written again

    real_app.config["MAIL_PORT"] = working_port
    later = utcnow() + timedelta(minutes=2)  # past the first retry
    with real_app.app_context():
        assert sending.send_due(now=later) == sending.Outcome(sent=2)
        assert sending.send_due(now=later) == sending.Outcome()
    assert len(smtp_for.messages) == 2 and held_rows(real_app) == []


def test_a_held_reminder_no_longer_due_is_no_longer_listed(real_app, smtp_for):
    set_active(real_app, FENLAND, False)
    run(real_app)
    assert held_rows(real_app) == [("due_soon", "no_recipient")]
    with real_app.app_context():
        due = session.scalar(select(GrantReturn.due_date).join(ReminderHeld))
    # The day after it was due, the due-soon reminder is past: the overdue one is held instead.
    run(real_app, today=due + timedelta(days=1))
    assert held_rows(real_app) == [("overdue", "no_recipient")]


def test_the_grants_team_sees_them_from_the_managers_home(real_app, smtp_for):
    set_active(real_app, FENLAND, False)
    run(real_app)
    manager = signed_in(real_app, MANAGER)
    home = manager.get("/manage/")
    assert 'href="/manage/reminders"' in home.get_data(as_text=True)
    page = text_of(manager.get("/manage/reminders"))
    assert "Reminders nobody could receive" in page
    assert "Safer Fenland Partnership" in page and "No active officer" in page
    assert "Return due soon" in page
    set_active(real_app, FENLAND, True)
    run(real_app)
    assert "Every reminder due has reached someone" in text_of(manager.get("/manage/reminders"))


def test_only_the_grants_team_sees_the_page(real_app):
    assert signed_in(real_app, FENLAND).get("/manage/reminders").status_code == 403
    assert real_app.test_client().get("/manage/reminders").status_code == 302


def test_the_page_costs_the_same_for_one_held_reminder_or_many(app, count_queries):
    assert app.test_cli_runner().invoke(args=["demo-data"]).exit_code == 0  # the demo awards
    manager = signed_in(app, MANAGER)
    with app.app_context():
        returns = list(session.scalars(
            select(GrantReturn.id).join(Award).where(Award.status == AwardStatus.ACTIVE,
                                                     GrantReturn.status.in_(OPEN_RETURN))))
    assert len(returns) >= 2

    def hold(return_ids) -> int:
        with app.app_context():
            session.execute(ReminderHeld.__table__.delete())
            for return_id in return_ids:
                for kind in ("due_soon", "overdue"):
                    session.add(ReminderHeld(return_id=return_id, kind=kind,
                                             reason="no_recipient"))
            session.commit()
        with count_queries() as queries:
            assert manager.get("/manage/reminders").status_code == 200
        return len(queries)

    assert hold(returns[:1]) == hold(returns)
    with app.app_context():
        assert session.scalar(select(func.count()).select_from(ReminderHeld)) == 2 * len(returns)
