"""Dates after the award are checked against the award (issue 13, points 4 and 11): no return
falls due before the offer is accepted plus the grace period (RETURN_GRACE_DAYS), the first
return covers from the start of the project, and payments and repayments are dated between
the acceptance of the offer and today."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from portal.db import UK, session
from portal.models import (
    Award,
    Fund,
    GrantReturn,
    OrganisationType,
    ReminderSent,
    Repayment,
    RepaymentStatus,
    ReturnKind,
    Round,
)
from portal.models.funds import ReturnCadence
from portal.services import DomainError, accounts, awards, bids, decisions, reminders
from tests import bidding
from tests.helpers import signed_in, table_row_counts, text_of

MANAGER = "manager@example.org"
FINANCE = "finance@example.org"
OFFICER = bidding.OFFICER
AMOUNT = 400000


def uk(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UK).astimezone(UTC)


def make_award(app, *, start: date, end: date, accepted_on: date | None,
               decided_on: date | None = None, code: str = "SCF",
               cadence: ReturnCadence = ReturnCadence.SIX_MONTHLY) -> int:
    """An award on a round of its own for the financial year holding ``start`` (2026/27 for
    1 May 2026), every step dated: the bid made while the round was open, decided on
    ``decided_on`` (default: the day before acceptance) and accepted on ``accepted_on`` (None:
    left as an offer). Returns the award's id."""
    year = start.year if start.month >= 4 else start.year - 1
    opens = date(year, 4, 1) - timedelta(days=60)
    with app.test_request_context():
        fund = session.scalars(select(Fund).where(Fund.code == code)).one()
        round_ = Round(fund=fund, name=f"Dated round {year} {start} {cadence}",
                       financial_year=year, opens_at=uk(opens, 9),
                       closes_at=uk(opens + timedelta(days=30), 17),
                       budget_pence=10_000_000, cap_pence=None, committed_pence=0,
                       eligible_organisation_types=[OrganisationType.CSP.value],
                       return_cadence=cadence, guidance="")
        session.add(round_)
        session.flush()
        officer = accounts.get_user_by_email(OFFICER)
        moment = uk(opens + timedelta(days=1))
        bid = bids.start_bid(round_, officer, bids.new_creation_token(), moment)
        for section in bids.sections_for(round_):
            answers = bidding._answers(year, AMOUNT)[section.key]
            if section.key == "about":
                answers.update(start_date=start.isoformat(), end_date=end.isoformat())
            bids.save_section(bid, section.key, answers, completed=True, expected_version=None,
                              actor=officer, now=moment)
        bids.submit(bid, officer, moment)
        decided = decided_on or (accepted_on - timedelta(days=1) if accepted_on else opens)
        decisions.approve(bid, AMOUNT, purpose="Lights", conditions="", reasons="Safer roads",
                          actor=accounts.get_user_by_email(MANAGER),
                          override_reason="Decided at the panel (test)", now=uk(decided, 10))
        award = session.scalars(select(Award).where(Award.bid_id == bid.id)).one()
        if accepted_on is not None:
            awards.accept(award, "Sam Officer", "Community safety officer", True, officer,
                          now=uk(accepted_on))
        session.commit()
        return award.id


def schedule_of(app, award_id: int) -> list[tuple[ReturnKind, date, date, date]]:
    with app.app_context():
        return [(r.kind, r.period_start, r.period_end, r.due_date) for r in session.scalars(
            select(GrantReturn).where(GrantReturn.award_id == award_id)
            .order_by(GrantReturn.due_date))]


# --- the schedule, by kind -------------------------------------------------------------------

STARTS = [date(2026, 4, 1), date(2026, 5, 1), date(2026, 9, 30), date(2027, 1, 15)]
LENGTHS = [0, 40, 200, 364, 700]
ACCEPTED = [None, date(2026, 3, 1), date(2026, 6, 20), date(2026, 11, 30), date(2027, 6, 1)]


@pytest.mark.parametrize("cadence", list(ReturnCadence))
def test_every_schedule_runs_from_the_start_to_the_end_with_nothing_due_in_the_grace_period(
        cadence):
    for start, length, accepted in itertools.product(STARTS, LENGTHS, ACCEPTED):
        end = start + timedelta(days=length)
        not_before = accepted + timedelta(days=30) if accepted else None
        schedule = awards.return_schedule(start, end, cadence, 6, not_before)
        case = (start, end, accepted, schedule)
        assert schedule[0][1] == start, case  # the first return covers from the start
        assert schedule[-1][0] == ReturnKind.FINAL and schedule[-1][2] == end, case
        for (_k, _f, last, due), (_k2, first, _l, due2) in zip(schedule, schedule[1:]):
            assert first == last + timedelta(days=1), case  # one after another, no gap
            assert due <= due2, case
        for kind, first, last, due in schedule:
            assert start <= first <= last <= end, case  # within the project's dates
            assert kind == ReturnKind.FINAL or last < end, case
            assert not_before is None or due >= not_before, case
            assert due > last, case  # a period is reported after it ends


def test_without_an_acceptance_date_the_schedule_is_the_funds_calendar():
    schedule = awards.return_schedule(date(2026, 5, 1), date(2027, 3, 31),
                                      ReturnCadence.SIX_MONTHLY, 6)
    assert [(k.value, f, last, d) for k, f, last, d in schedule] == [
        ("periodic", date(2026, 5, 1), date(2026, 9, 30), date(2026, 10, 31)),
        ("final", date(2026, 10, 1), date(2027, 3, 31), date(2027, 5, 12))]


# --- the tester's case: a bid starting 1 May 2026, accepted 30 November 2026 -----------------


def test_an_offer_accepted_in_november_has_no_return_already_due_or_overdue(app):
    award_id = make_award(app, start=date(2026, 5, 1), end=date(2027, 3, 31),
                          accepted_on=date(2026, 11, 30))
    schedule = schedule_of(app, award_id)
    assert date(2026, 10, 31) not in [due for *_x, due in schedule]
    assert schedule == [(ReturnKind.FINAL, date(2026, 5, 1), date(2027, 3, 31),
                         date(2027, 5, 12))]
    page = text_of(signed_in(app, OFFICER).get(f"/awards/{award_id}"))
    assert "31 October 2026" not in page and "12 May 2027" in page


def test_on_the_day_of_acceptance_nothing_is_overdue_and_no_reminder_goes(app):
    accepted = date(2026, 11, 30)
    award_id = make_award(app, start=date(2026, 5, 1), end=date(2027, 3, 31),
                          accepted_on=accepted, cadence=ReturnCadence.QUARTERLY)
    schedule = schedule_of(app, award_id)
    # Quarterly: the quarters to 30 June and 30 September (due 31 July, 31 October) are
    # reported with the one to 31 December, the first due after the grace period.
    assert schedule[0] == (ReturnKind.PERIODIC, date(2026, 5, 1), date(2026, 12, 31),
                           date(2027, 1, 31))
    assert min(due for *_x, due in schedule) >= accepted + timedelta(days=30)
    with app.test_request_context():
        returns = session.scalars(select(GrantReturn).where(GrantReturn.award_id == award_id))
        assert not any(r.is_overdue(accepted) for r in returns)  # the rule in Python
        overdue_in_sql = session.scalar(select(func.count()).select_from(GrantReturn).where(
            GrantReturn.award_id == award_id, GrantReturn.is_overdue(accepted)))
        assert overdue_in_sql == 0  # and in SQL
        assert awards.return_state(session.scalars(select(GrantReturn).where(
            GrantReturn.award_id == award_id)).first(), accepted) == "due"
        reminders.send_reminders(accepted, 14)
        sent = session.scalar(select(func.count()).select_from(ReminderSent).join(
            GrantReturn).where(GrantReturn.award_id == award_id))
    assert sent == 0


def test_the_grace_period_is_a_setting(app):
    app.config["RETURN_GRACE_DAYS"] = 0
    try:
        award_id = make_award(app, start=date(2026, 5, 1), end=date(2027, 3, 31),
                              accepted_on=date(2026, 10, 30))
    finally:
        app.config["RETURN_GRACE_DAYS"] = 30
    assert schedule_of(app, award_id)[0][3] == date(2026, 10, 31)


def test_acceptance_makes_the_schedule_again_from_its_own_day(app):
    """The offer's schedule counts from the day it was made; one accepted months later has
    its early returns merged into the first one due after the grace period."""
    award_id = make_award(app, start=date(2026, 5, 1), end=date(2027, 3, 31),
                          accepted_on=None, decided_on=date(2026, 4, 20))
    offered = schedule_of(app, award_id)
    assert [due for *_x, due in offered] == [date(2026, 10, 31), date(2027, 5, 12)]
    with app.test_request_context():
        award = session.get(Award, award_id)
        awards.accept(award, "Sam", "Officer", True, accounts.get_user_by_email(OFFICER),
                      now=uk(date(2026, 11, 30)))
        session.commit()
    assert schedule_of(app, award_id) == [(ReturnKind.FINAL, date(2026, 5, 1),
                                           date(2027, 3, 31), date(2027, 5, 12))]


def test_an_offer_accepted_after_the_project_ended_has_its_one_return_due_after_the_grace(app):
    award_id = make_award(app, start=date(2026, 5, 1), end=date(2026, 8, 31),
                          accepted_on=date(2026, 11, 30))
    assert schedule_of(app, award_id) == [(ReturnKind.FINAL, date(2026, 5, 1),
                                           date(2026, 8, 31), date(2026, 12, 30))]


# --- payments and repayments against the award -----------------------------------------------


def _payment(day: date) -> dict:
    return {"amount": "100", "paid_on": [str(day.day), str(day.month), str(day.year)],
            "reference": f"BACS-{day.isoformat()}"}


@pytest.mark.parametrize("day, words", [
    (date(1999, 1, 1), "when the offer was accepted"),  # the testers' dates
    (date(1900, 1, 1), "when the offer was accepted"),
    (date(2026, 6, 30), "when the offer was accepted"),  # the day before acceptance
    (date(2999, 1, 1), "today or in the past"),
])
def test_a_payment_dated_before_the_acceptance_or_after_today_is_refused_beside_the_date(
        app, day, words):
    award_id = make_award(app, start=date(2026, 5, 1), end=date(2027, 3, 31),
                          accepted_on=date(2026, 7, 1))
    finance = signed_in(app, FINANCE)
    before = table_row_counts(app)
    response = finance.submit(f"/finance/awards/{award_id}/payments", _payment(day),
                              form_url=f"/finance/awards/{award_id}")
    assert response.status_code == 200
    assert 'href="#paid_on' in response.get_data(as_text=True)
    assert words in text_of(response)
    assert table_row_counts(app) == before


def test_a_payment_on_the_day_of_acceptance_is_recorded(app):
    award_id = make_award(app, start=date(2026, 5, 1), end=date(2027, 3, 31),
                          accepted_on=date(2026, 7, 1))
    finance = signed_in(app, FINANCE)
    response = finance.submit(f"/finance/awards/{award_id}/payments",
                              _payment(date(2026, 7, 1)), form_url=f"/finance/awards/{award_id}")
    assert response.status_code == 302


@pytest.mark.parametrize("day, words", [
    (date(1900, 1, 1), "when the offer was accepted"),
    (date(2999, 1, 1), "today or in the past"),
])
def test_a_repayment_dated_before_the_acceptance_or_after_today_is_refused(app, day, words):
    award_id = make_award(app, start=date(2026, 5, 1), end=date(2027, 3, 31),
                          accepted_on=date(2026, 7, 1))
    with app.app_context():
        award = session.get(Award, award_id)
        repayment = Repayment(amount_pence=10000, requested_at=uk(date(2027, 6, 1)),
                              status=RepaymentStatus.AWAITED)
        award.repayments.append(repayment)
        session.commit()
        repayment_id = repayment.id
    before = table_row_counts(app)
    with app.test_request_context():
        with pytest.raises(DomainError) as refused:
            awards.record_repayment(session.get(Repayment, repayment_id), day, "REPAY-1",
                                    accounts.get_user_by_email(FINANCE))
    assert refused.value.field == "received_on" and words in refused.value.message
    assert table_row_counts(app) == before
