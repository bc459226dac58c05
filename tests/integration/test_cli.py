"""Commands: demo data (idempotent, never unless asked) and create-user."""

from __future__ import annotations

from sqlalchemy import func, select

from portal import demo
from portal.db import session
from portal.models import Award, Bid, Criterion, Fund, Organisation, Round, User
from portal.services import accounts


def counts(app):
    with app.app_context():
        return {model.__name__: session.scalar(select(func.count()).select_from(model))
                for model in (Organisation, User, Fund, Round, Criterion, Bid, Award)}


def test_demo_data_is_safe_to_run_twice(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo-data"])  # adds the demo awards to the test's data
    assert first.exit_code == 0, first.output
    before = counts(app)
    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0, second.output
    assert "already present" in second.output
    assert counts(app) == before


def test_demo_awards_have_a_return_due_soon_and_one_overdue(app):
    from datetime import timedelta

    from portal.db import utcnow
    from portal.models import Award, AwardStatus, GrantReturn

    assert app.test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    with app.app_context():
        today = utcnow().date()
        active = session.scalars(select(Award).where(Award.status == AwardStatus.ACTIVE)).all()
        assert len(active) == 2 and all(a.paid_pence == a.amount_pence for a in active)
        due = session.scalars(select(GrantReturn.due_date)).all()
        window = app.config["REMINDER_DAYS_BEFORE"]
        assert any(today <= d <= today + timedelta(days=window) for d in due)
        assert any(d < today for d in due)


def test_demo_data_carries_the_partnerships_funds_and_accounts(app):
    with app.app_context():
        csps = {o.name: o.org_identifier for o in session.scalars(
            select(Organisation).where(Organisation.type == "csp"))}
        assert csps["Safer Fenland Partnership"] == "GB-LAE-FEN"
        assert len(csps) == 6
        funds = {f.code: f for f in session.scalars(select(Fund))}
        assert set(funds) == {"SCF", "YF", "PCF"}
        rounds = {r.fund.code: r for r in session.scalars(select(Round))}
        assert rounds["SCF"].cap_pence == 5_000_00
        assert rounds["YF"].cap_pence == 5_000_00
        assert rounds["PCF"].cap_pence is None and rounds["PCF"].budget_pence == 190_000_00
        for round_ in rounds.values():
            assert sum(c.weight for c in round_.criteria) == 100
        for address, _role in demo.accounts_list():
            assert accounts.get_user_by_email(address) is not None


def test_demo_rounds_are_open_now_and_in_the_current_financial_year(app):
    from portal.db import utcnow
    from portal.services.rounds import RoundState, financial_year_of, state_of

    with app.app_context():
        for round_ in session.scalars(select(Round)):
            assert state_of(round_) == RoundState.OPEN
            assert round_.financial_year == financial_year_of(utcnow().date())


def test_create_user_bootstraps_an_administrator(app):
    result = app.test_cli_runner().invoke(args=[
        "create-user", "--name", "First Admin", "--email", "first@example.org",
        "--organisation", "Cambridgeshire and Peterborough OPCC", "--role", "admin",
        "--password", "quartz-bramble-lantern-nine"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = accounts.get_user_by_email("first@example.org")
        assert user is not None and {r.value for r in user.roles} == {"admin"}


def test_create_user_refuses_a_weak_password(app):
    result = app.test_cli_runner().invoke(args=[
        "create-user", "--name", "Weak", "--email", "weak@example.org",
        "--organisation", "Cambridgeshire and Peterborough OPCC", "--password", "password"])
    assert result.exit_code != 0
    assert "12 characters" in result.output
    with app.app_context():
        assert accounts.get_user_by_email("weak@example.org") is None
