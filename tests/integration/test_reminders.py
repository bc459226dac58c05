"""Return reminders: sent a set number of days before the due date and when overdue,
over real SMTP, never twice, even when two runs overlap."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.db import session, utcnow
from portal.models import GrantReturn, ReminderSent
from portal.services import reminders
from tests.conftest import mail_server


@pytest.fixture
def real_app(committed_app):
    """The demo data with its two active awards, in a database whose writes commit."""
    return committed_app("reminders", awards=True)


@pytest.fixture
def smtp_for(real_app):
    with mail_server(real_app) as mailbox:
        yield mailbox


def run(app, today=None, days=14):
    with app.test_request_context():
        return reminders.send_reminders(today or utcnow().date(), days)


def test_reminders_go_for_the_return_due_soon_and_the_overdue_one(real_app, smtp_for):
    assert run(real_app) == 2
    subjects = sorted(m["Subject"] for m in smtp_for.messages)
    assert len(subjects) == 2
    assert subjects[0].startswith("Return due soon") and subjects[1].startswith("Return overdue")
    fenland = smtp_for.to("officer.fenland@example.org")[0]
    assert "/awards/" in fenland.get_content() and "is due on" in fenland.get_content()


def test_running_again_sends_nothing_more(real_app, smtp_for):
    run(real_app)
    assert run(real_app) == 0
    assert len(smtp_for.messages) == 2


def test_a_due_soon_reminder_is_followed_by_an_overdue_one_later(real_app, smtp_for):
    run(real_app)
    with real_app.app_context():
        soon = session.scalar(select(GrantReturn).join(ReminderSent).where(
            ReminderSent.kind == "due_soon"))
        later = soon.due_date + timedelta(days=1)
    assert run(real_app, today=later) >= 1
    assert any(m["Subject"].startswith("Return overdue") and
               "officer.fenland" in m["To"] for m in smtp_for.messages)


def test_returns_outside_the_window_get_no_reminder(real_app, smtp_for):
    assert run(real_app, days=3) == 1  # only the overdue one
    assert smtp_for.messages[0]["Subject"].startswith("Return overdue")


def test_two_runs_at_once_send_each_reminder_once(real_app, smtp_for):
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def one_run() -> None:
        try:
            barrier.wait(timeout=30)
            counts.append(run(real_app))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(counts) == 2
    assert len(smtp_for.messages) == 2
    with real_app.app_context():
        assert session.scalar(select(func.count()).select_from(ReminderSent)) == 2


def test_the_command_reports_what_it_sent(real_app, smtp_for):
    result = real_app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "Sent 2 reminder email(s)." in result.output
