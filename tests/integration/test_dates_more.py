"""Dates checked against what contains them, second round (a tester's attack on issue 13):

1. a return is sent (and approved by finance) only once its period has started, and its
   forecast underspend is no more than the award has left;
2. a round's financial year stays once bids were sent to it, it opens no later than the first
   bid sent, and its year is within reach of today's;
3. a bid's project has not ended when the bid is saved or sent;
5. the demo's awards were accepted long enough ago that their returns due soon and overdue
   follow the grace rule, and the award's history says the dates the pages show.

(Point 4, the answer-by date of a question, is in ``test_dates_questions.py``.) Every refusal
is shown beside its field and changes no table's row count.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from portal import demo
from portal.db import UK, session, uk_today, utcnow
from portal.formatting import long_date
from portal.models import (
    AuditEvent,
    Award,
    Bid,
    GrantReturn,
    Payment,
    ReturnKind,
    ReturnStatus,
    Round,
)
from portal.services import DomainError, accounts, bids
from portal.services.rounds import financial_year_of
from portal.services.setup import YEARS_AHEAD, YEARS_BACK
from tests import bidding
from tests.helpers import signed_in, table_row_counts, text_of
from tests.integration.test_dates_awards import AMOUNT, FINANCE, MANAGER, OFFICER, make_award

# --- 1. returns: not sent before their period, forecasts within what is left -----------------


def _future_award(app) -> tuple[int, date]:
    """An award accepted today for a project starting next financial year (1 May); returns
    its id and the project's start."""
    year = financial_year_of(uk_today()) + 1
    start = date(year, 5, 1)
    return make_award(app, start=start, end=date(year + 1, 3, 31), accepted_on=uk_today()), start


def _returns(app, award_id: int) -> list[tuple[int, ReturnKind, date]]:
    with app.app_context():
        return [(r.id, r.kind, r.period_start) for r in session.scalars(
            select(GrantReturn).where(GrantReturn.award_id == award_id)
            .order_by(GrantReturn.due_date))]


def _return_form(app, award_id: int, *, underspend: str = "0") -> dict:
    """The return form filled in completely, spending nothing yet."""
    with app.app_context():
        award = session.get(Award, award_id)
        data = {f"line-{line.id}": "0" for line in award.lines}
        for measure in award.bid.outcomes:
            data |= {f"achieved-{measure.id}": "0", f"rag-{measure.id}": "green",
                     f"narrative-{measure.id}": "Not started yet."}
    return data | {"case_study": "Not started yet.", "forecast_underspend": underspend}


def _url(award_id: int, return_id: int) -> str:
    return f"/awards/{award_id}/returns/{return_id}"


def test_a_return_is_not_sent_before_its_period_starts_and_the_page_says_from_when(app):
    award_id, start = _future_award(app)
    return_id, kind, period_start = _returns(app, award_id)[-1]  # the final return
    assert kind == ReturnKind.FINAL and period_start > uk_today()
    officer = signed_in(app, OFFICER)
    words = f"You can send this return from {long_date(period_start)}"
    page = officer.get(_url(award_id, return_id))
    assert words in text_of(page)
    assert 'name="submit"' not in page.get_data(as_text=True)  # only saving a draft offered
    before = table_row_counts(app)
    response = officer.submit(_url(award_id, return_id),
                              _return_form(app, award_id) | {"submit": "y"})
    assert response.status_code == 200
    assert 'href="#submit"' in response.get_data(as_text=True)
    assert words in text_of(response)
    assert table_row_counts(app) == before
    with app.app_context():
        assert session.get(GrantReturn, return_id).status == ReturnStatus.DUE
    # A draft is saved whenever the partnership likes.
    draft = officer.submit(_url(award_id, return_id),
                           _return_form(app, award_id) | {"save_draft": "y"})
    assert draft.status_code == 302
    with app.app_context():
        assert session.get(GrantReturn, return_id).status == ReturnStatus.DRAFT


@pytest.mark.parametrize("action", ["save_draft", "submit"])
def test_a_forecast_underspend_beyond_what_the_award_has_left_is_refused_beside_it(app, action):
    award_id, _start = _future_award(app)
    return_id = _returns(app, award_id)[0][0]
    officer = signed_in(app, OFFICER)
    before = table_row_counts(app)
    response = officer.submit(_url(award_id, return_id),  # the tester's £999,999 on £4,000
                              _return_form(app, award_id, underspend="999,999") | {action: "y"})
    assert response.status_code == 200
    assert 'href="#forecast_underspend"' in response.get_data(as_text=True)
    assert "Forecast underspend must be £4,000.00 or less" in text_of(response)
    assert table_row_counts(app) == before
    # All of it, with nothing spent, is what is left.
    allowed = officer.submit(_url(award_id, return_id),
                             _return_form(app, award_id, underspend="4,000") | {"save_draft": "y"})
    assert allowed.status_code == 302


def test_spend_reported_counts_against_what_is_left(app):
    award_id, _start = _future_award(app)
    return_id = _returns(app, award_id)[0][0]
    data = _return_form(app, award_id, underspend="3,000.01")
    first_line = next(name for name in data if name.startswith("line-"))
    data[first_line] = "1,000"  # £4,000 awarded, £1,000 spent: £3,000 left
    response = signed_in(app, OFFICER).submit(_url(award_id, return_id),
                                              data | {"save_draft": "y"})
    assert response.status_code == 200
    assert "Forecast underspend must be £3,000.00 or less" in text_of(response)


def test_finance_cannot_approve_a_return_before_its_period_starts(app):
    award_id, _start = _future_award(app)
    return_id, _kind, period_start = _returns(app, award_id)[-1]
    with app.app_context():  # sent before the rule existed
        session.execute(update(GrantReturn).where(GrantReturn.id == return_id)
                        .values(status=ReturnStatus.SUBMITTED, submitted_at=utcnow()))
        session.commit()
    finance = signed_in(app, FINANCE)
    before = table_row_counts(app)
    response = finance.submit(f"/finance/returns/{return_id}",
                              {"outcome": "approve", "comments": ""})
    assert response.status_code == 200
    assert 'href="#outcome"' in response.get_data(as_text=True)
    assert "it can be approved from then" in text_of(response)
    assert long_date(period_start) in text_of(response)
    assert table_row_counts(app) == before
    with app.app_context():
        award = session.get(Award, award_id)
        assert award.status.value == "active" and not award.repayments
    # Querying it (sending it back) is still possible.
    queried = finance.submit(f"/finance/returns/{return_id}",
                             {"outcome": "query", "comments": "Send this from the start."})
    assert queried.status_code == 302


# --- 2. rounds: the year stays once bids are sent; within reach of today ----------------------


def _round_form(round_: Round, **changes) -> dict:
    opens, closes = round_.opens_at.astimezone(UK), round_.closes_at.astimezone(UK)
    data = {
        "name": round_.name, "financial_year": str(round_.financial_year),
        "opens_on": [str(opens.day), str(opens.month), str(opens.year)],
        "opens_time": opens.strftime("%H:%M"),
        "closes_on": [str(closes.day), str(closes.month), str(closes.year)],
        "closes_time": closes.strftime("%H:%M"),
        "budget": f"{round_.budget_pence / 100:.2f}",
        "cap": f"{round_.cap_pence / 100:.2f}" if round_.cap_pence else "",
        "eligible_organisation_types": list(round_.eligible_organisation_types),
        "return_cadence": round_.return_cadence.value, "guidance": round_.guidance,
    }
    return data | changes


def _dmy(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def _edit_round(app, field: str, **changes):
    with app.app_context():
        round_ = session.get(Round, bidding.round_of(app, "SCF").id)
        url, data = f"/manage/rounds/{round_.id}/edit", _round_form(round_, **changes)
    manager = signed_in(app, MANAGER)
    before = table_row_counts(app)
    response = manager.submit(url, data)
    assert response.status_code == 200, response.headers.get("Location")
    assert f'href="#{field}"' in response.get_data(as_text=True), text_of(response)[:1500]
    assert table_row_counts(app) == before
    return text_of(response)


def test_a_rounds_financial_year_cannot_change_once_a_bid_was_sent(app):
    bidding.submitted_bid(app)
    with app.app_context():
        year = bidding.round_of(app, "SCF").financial_year
        opens = date(year + 1, 4, 1)
    page = _edit_round(app, "financial_year", financial_year=str(year + 1),
                       opens_on=_dmy(opens), closes_on=_dmy(opens + timedelta(days=60)))
    assert "The financial year cannot change" in page


def test_a_rounds_financial_year_can_change_while_it_has_only_drafts(app):
    client = app.test_client()
    client.sign_in(OFFICER)
    bidding.start(client, app, "SCF")  # a draft only
    with app.app_context():
        round_ = session.get(Round, bidding.round_of(app, "SCF").id)
        url = f"/manage/rounds/{round_.id}/edit"
        closes = round_.closes_at.astimezone(UK).date()
        year = financial_year_of(closes) + 1  # still closing within the year
        data = _round_form(round_, financial_year=str(year))
    response = signed_in(app, MANAGER).submit(url, data)
    assert response.status_code == 302, text_of(response)[:1500]


def test_a_round_cannot_open_after_its_first_bid_was_sent(app):
    bid_id = bidding.submitted_bid(app)
    with app.app_context():
        sent = session.get(Bid, bid_id).submitted_at.astimezone(UK).date()
    page = _edit_round(app, "opens_on", opens_on=_dmy(sent + timedelta(days=1)))
    assert "when the first bid to it was submitted" in page


@pytest.mark.parametrize("offset", [-YEARS_BACK - 1, YEARS_AHEAD + 1, 2099 - 2026])
def test_a_round_for_a_financial_year_far_from_today_is_refused_beside_the_year(app, offset):
    year = financial_year_of(uk_today()) + offset
    with app.app_context():
        fund_id = bidding.round_of(app, "SCF").fund_id
    data = {"name": f"Far round {offset}", "financial_year": str(year),
            "opens_on": _dmy(date(year, 4, 1)), "opens_time": "9:00",
            "closes_on": _dmy(date(year, 6, 30)), "closes_time": "17:00", "budget": "30,000",
            "cap": "5,000", "eligible_organisation_types": ["csp"],
            "return_cadence": "six_monthly", "guidance": ""}
    manager = signed_in(app, MANAGER)
    before = table_row_counts(app)
    response = manager.submit(f"/manage/funds/{fund_id}/rounds/new", data)
    assert response.status_code == 200
    assert 'href="#financial_year"' in response.get_data(as_text=True)
    assert "The financial year must be from" in text_of(response)
    assert table_row_counts(app) == before


@pytest.mark.parametrize("offset", [-YEARS_BACK, YEARS_AHEAD])
def test_a_round_at_either_end_of_the_years_allowed_is_created(app, offset):
    year = financial_year_of(uk_today()) + offset
    with app.app_context():
        fund_id = bidding.round_of(app, "SCF").fund_id
    data = {"name": f"Edge round {offset}", "financial_year": str(year),
            "opens_on": _dmy(date(year, 4, 1)), "opens_time": "9:00",
            "closes_on": _dmy(date(year, 6, 30)), "closes_time": "17:00", "budget": "30,000",
            "cap": "5,000", "eligible_organisation_types": ["csp"],
            "return_cadence": "six_monthly", "guidance": ""}
    response = signed_in(app, MANAGER).submit(f"/manage/funds/{fund_id}/rounds/new", data)
    assert response.status_code == 302, text_of(response)[:1500]


# --- 3. a project that has already ended is not bid for ---------------------------------------


def test_an_end_date_before_today_is_refused_beside_it_when_saved(app):
    client = app.test_client()
    client.sign_in(OFFICER)
    bid_id = bidding.start(client, app, "SCF")
    with app.app_context():
        round_ = session.get(Round, bidding.round_of(app, "SCF").id)
        first, _last = bids.project_date_bounds(round_)
        year = round_.financial_year
    yesterday = uk_today() - timedelta(days=1)
    if yesterday < first:
        pytest.skip("the round's projects start today or later: no past day is within bounds")
    answers = dict(bidding.ABOUT, start_date=_dmy(first), end_date=_dmy(yesterday))
    before = table_row_counts(app)
    response = bidding.save(client, bid_id, "about", answers, year)
    assert response.status_code == 200
    assert 'href="#end_date"' in response.get_data(as_text=True)
    assert "The end date must be today or in the future" in text_of(response)
    assert table_row_counts(app) == before


def test_a_bid_whose_project_ended_since_it_was_saved_is_not_sent(app):
    with app.test_request_context():
        officer = accounts.get_user_by_email(OFFICER)
        round_ = session.get(Round, bidding.round_of(app, "SCF").id)
        year = round_.financial_year
        saved = utcnow()
        end = saved.astimezone(UK).date()
        bid = bids.start_bid(round_, officer, bids.new_creation_token(), saved)
        for section in bids.sections_for(round_):
            answers = bidding._answers(year, AMOUNT)[section.key]
            if section.key == "about":
                answers.update(start_date=bids.project_date_bounds(round_)[0].isoformat(),
                               end_date=end.isoformat())
            bids.save_section(bid, section.key, answers, completed=True,
                              expected_version=None, actor=officer, now=saved)
        session.commit()
        bid_id = bid.id
    before = table_row_counts(app)
    with app.test_request_context():
        bid = session.get(Bid, bid_id)
        later = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UK)
        with pytest.raises(DomainError) as refused:
            bids.submit(bid, accounts.get_user_by_email(OFFICER), later)
        session.rollback()
    assert refused.value.field == "end_date"
    assert "The end date must be today or in the future" in refused.value.message
    assert table_row_counts(app) == before


# --- 5. the demo's awards follow the grace rule, and their histories say so -------------------


def test_the_demo_awards_were_accepted_long_before_their_returns_fall_due(app):
    with app.test_request_context():
        if not session.scalar(select(Award.id).join(Bid).where(
                Bid.title == demo.DEMO_AWARDS[0][1])):
            demo.load_awards(utcnow())
            session.commit()
        today = uk_today()
        grace = timedelta(days=app.config["RETURN_GRACE_DAYS"])
        states = []
        for _short, title, *_rest in demo.DEMO_AWARDS:
            award = session.scalars(select(Award).join(Bid).where(Bid.title == title)).one()
            accepted = award.accepted_at.astimezone(UK).date()
            assert accepted <= today - grace, title  # not "today"
            payments = session.scalars(select(Payment).where(Payment.award_id == award.id))
            assert all(accepted <= p.paid_on <= today for p in payments), title
            dues = sorted(r.due_date for r in award.returns)
            assert all(due >= accepted + grace for due in dues), title
            assert all(r.period_end < r.due_date for r in award.returns), title
            first = min(r.due_date for r in award.returns if r.status == ReturnStatus.DUE)
            states.append("overdue" if first < today else
                          "due soon" if first <= today + timedelta(days=14) else "later")
            # The award's history ends with the dates its pages show.
            said = [event.after["returns"] for event in session.scalars(
                select(AuditEvent).where(AuditEvent.record_type == "award",
                                         AuditEvent.record_id == str(award.id))
                .order_by(AuditEvent.id)) if "returns" in (event.after or {})]
            assert said and said[-1] == [due.isoformat() for due in dues], title
        assert states == ["due soon", "overdue"]
