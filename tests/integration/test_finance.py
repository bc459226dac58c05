"""After the award: finance pays within the award, checks returns line by line, closes the
award with the underspend to repay and records its receipt; the grants manager decides
variations. Totals reconcile, worked out here independently of the services."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal.db import session, utcnow
from portal.models import (
    Award,
    AwardStatus,
    Fund,
    GrantReturn,
    Payment,
    Repayment,
    ReturnStatus,
    Role,
    Round,
    UserRole,
    Variation,
    VariationKind,
    VariationStatus,
)
from portal.services import DomainError, accounts, awards, bids, decisions, variations
from tests import bidding
from tests.helpers import signed_in, text_of

FINANCE = "finance@example.org"
MANAGER = "manager@example.org"
OFFICER = bidding.OFFICER
# (item, kind, pence): £4,000 in all, within the Safer Communities Fund's £5,000 limit.
LINES = [("Bike lights", "capital", 200000), ("Mechanic", "revenue", 150000),
         ("Spare parts", "revenue", 50000)]


# --- data, built through the services ----------------------------------------------------------


def make_award(app, *, code="SCF", lines=LINES, title="Bike repair and lights") -> int:
    """A bid for the whole financial year (so a periodic and a final return), approved by
    the manager and accepted by the partnership; returns the award's id."""
    with app.test_request_context():
        officer = accounts.get_user_by_email(OFFICER)
        manager = accounts.get_user_by_email(MANAGER)
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == code))
        year = round_.financial_year
        total = sum(pence for _item, _kind, pence in lines)
        bid = bids.start_bid(round_, officer, bids.new_creation_token())
        answers = bidding._answers(year, total)
        answers["about"].update(title=title, start_date=f"{year}-04-01",
                                end_date=f"{year + 1}-03-31")
        answers["budget"]["rows"] = [{"item": item, "kind": kind, "amount_pence": pence}
                                     for item, kind, pence in lines]
        for section in bids.sections_for(round_):
            bids.save_section(bid, section.key, answers[section.key], completed=True,
                              expected_version=None, actor=officer)
        bids.submit(bid, officer)
        decisions.approve(bid, total, purpose="Safer cycling", conditions="",
                          reasons="Fewer thefts and collisions", actor=manager,
                          override_reason="Decided before the portal held assessments (test)")
        award = session.scalar(select(Award).where(Award.bid_id == bid.id))
        awards.accept(award, officer.name, "Community safety officer", True, officer,
                      now=bidding.early_acceptance(round_))
        session.commit()
        return award.id


def pay(app, award_id, pence):
    with app.test_request_context():
        award = session.get(Award, award_id)
        awards.record_payment(award, pence, utcnow().date(), "BACS-1",
                              accounts.get_user_by_email(FINANCE))
        session.commit()


def test_a_payment_dated_today_on_a_uk_clock_is_not_in_the_future(app, monkeypatch):
    """00:30 on 15 June in London is still 14 June in UTC: the 15th is today, not tomorrow."""
    award_id = make_award(app)
    with app.app_context():  # a June after the offer was accepted
        year = session.get(Award, award_id).accepted_at.year
    just_after_uk_midnight = datetime(year, 6, 14, 23, 30, tzinfo=UTC)
    monkeypatch.setattr("portal.db.utcnow", lambda: just_after_uk_midnight)
    monkeypatch.setattr("portal.services.awards.utcnow", lambda: just_after_uk_midnight)
    with app.test_request_context():
        award = session.get(Award, award_id)
        awards.record_payment(award, 100000, date(year, 6, 15), "BACS-BST",
                              accounts.get_user_by_email(FINANCE))
        session.commit()
        assert [p.reference for p in award.payments] == ["BACS-BST"]
        with pytest.raises(DomainError, match="today or in the past"):
            awards.record_payment(award, 100000, date(year, 6, 16), "BACS-LATER",
                                  accounts.get_user_by_email(FINANCE))


def return_ids(app, award_id) -> list[int]:
    """The award's returns, periodic first, final last."""
    with app.app_context():
        return [r.id for r in session.get(Award, award_id).returns]


def file_return(app, return_id, spend, *, submit=True, case_study="Forty children now ride "
                "to school with lights.", underspend=0) -> int:
    """Spend per approved line (in the order of LINES), outcomes for every measure."""
    with app.test_request_context():
        grant_return = session.get(GrantReturn, return_id)
        award = grant_return.award
        outcomes = [awards.OutcomeInput(m.id, 250, "amber", "Most lights given out")
                    for m in award.bid.outcomes]
        awards.save_return(grant_return, {line.id: pence for line, pence in
                                          zip(award.lines, spend)},
                           outcomes, case_study, underspend, submit=submit,
                           actor=accounts.get_user_by_email(OFFICER))
        session.commit()
        return return_id


def approve_return(app, return_id):
    with app.test_request_context():
        awards.review_return(session.get(GrantReturn, return_id), True, "",
                             accounts.get_user_by_email(FINANCE))
        session.commit()


def line_ids(app, award_id) -> list[int]:
    with app.app_context():
        return [line.id for line in session.get(Award, award_id).lines]


def ask_to_move(app, award_id, source, target, pence) -> int:
    """A reallocation asked for by the partnership: ``pence`` from line ``source`` to
    ``target`` (indexes into LINES)."""
    ids = line_ids(app, award_id)
    with app.test_request_context():
        variation = variations.request_variation(
            session.get(Award, award_id), VariationKind.REALLOCATION, "Parts cost less",
            accounts.get_user_by_email(OFFICER),
            moves=[{"from": ids[source], "to": ids[target], "amount": pence}])
        session.commit()
        return variation.id


def decide(app, variation_id, approve=True, comment=""):
    with app.test_request_context():
        variations.decide_variation(session.get(Variation, variation_id), approve, comment,
                                accounts.get_user_by_email(MANAGER))
        session.commit()


def load(app, model, ident):
    with app.app_context():
        return session.get(model, ident)


def revised_of(app, award_id) -> list[int]:
    with app.app_context():
        return [line.revised_pence for line in session.get(Award, award_id).lines]


@pytest.fixture
def finance(app):
    return signed_in(app, FINANCE)


@pytest.fixture
def manager(app):
    return signed_in(app, MANAGER)


def row_cells(response, heading) -> list[str]:
    """The cells of the table row whose heading starts with ``heading``."""
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    for row in soup.find_all("tr"):
        header = row.find("th")
        if header is not None and header.get_text(" ", strip=True).startswith(heading):
            return [" ".join(cell.get_text(" ", strip=True).split())
                    for cell in row.find_all("td")]
    raise AssertionError(f"no row for {heading!r}")


def error_beside(response, field) -> str:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    message = soup.find(id=f"{field}-error")
    assert message is not None, f"no error beside {field}"
    return message.get_text(" ", strip=True)


def payment_form(award_id, amount="1000", reference="BACS-77", day=None):
    day = day or utcnow().date()
    return {"amount": amount, "paid_on": [str(day.day), str(day.month), str(day.year)],
            "reference": reference}


def post_payment(client, award_id, follow_redirects=False, **fields):
    return client.submit(f"/finance/awards/{award_id}/payments", payment_form(award_id, **fields),
                         form_url=f"/finance/awards/{award_id}",
                         follow_redirects=follow_redirects)


def payments_of(app, award_id) -> tuple[int, int]:
    """(paid to date on the award, sum of its payment rows)."""
    with app.app_context():
        award = session.get(Award, award_id)
        rows = session.scalar(select(func.coalesce(func.sum(Payment.amount_pence), 0))
                              .where(Payment.award_id == award_id))
        return award.paid_pence, int(rows)


# --- the finance home ------------------------------------------------------------------------


def test_finance_home_lists_submitted_returns_to_check_with_their_spend(app, finance):
    award_id = make_award(app)
    first, _final = return_ids(app, award_id)
    file_return(app, first, [100000, 50000, 20000])
    page = finance.get("/finance/")
    assert page.status_code == 200
    text = text_of(page)
    assert "Returns to check" in text and "South Cambridgeshire CSP" in text
    assert "£1,700.00" in text
    assert f'href="/finance/returns/{first}"' in page.get_data(as_text=True)


def test_finance_home_lists_returns_due_and_overdue_with_status_tags(app, finance):
    award_id = make_award(app)
    first, final = return_ids(app, award_id)
    with app.app_context():
        session.get(GrantReturn, first).due_date = utcnow().date() - timedelta(days=3)
        session.get(GrantReturn, final).due_date = utcnow().date() + timedelta(days=20)
        session.commit()
    page = finance.get("/finance/")
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    due_table = soup.find("caption", string=lambda s: s and "still awaited" in s).parent
    tags = [tag.get_text(strip=True) for tag in due_table.find_all(class_="govuk-tag")]
    assert tags == ["Overdue", "Due"]


def test_finance_home_lists_repayments_awaiting_receipt(app, finance):
    award_id = make_award(app)
    pay(app, award_id, 400000)
    first, final = return_ids(app, award_id)
    approve_return(app, file_return(app, first, [100000, 100000, 10000]))
    approve_return(app, file_return(app, final, [50000, 20000, 20000]))
    text = text_of(finance.get("/finance/"))
    assert "Repayments awaiting receipt" in text
    assert "£1,000.00" in text  # 4,000 paid - 3,000 spent


def test_the_finance_queue_costs_the_same_number_of_queries_for_2_and_20_returns(
        app, finance, count_queries):
    def queries_for_home() -> tuple[int, str]:
        with count_queries() as queries:
            page = finance.get("/finance/")
        assert page.status_code == 200
        return len(queries), text_of(page)

    small = [make_award(app, title=f"Project {n}", lines=[("Lights", "capital", 100000)])
             for n in range(2)]
    for award_id in small:
        file_return(app, return_ids(app, award_id)[0], [50000])
    few, text = queries_for_home()
    assert "of 2 returns" in text
    for n in range(2, 20):
        award_id = make_award(app, title=f"Project {n}", lines=[("Lights", "capital", 100000)])
        file_return(app, return_ids(app, award_id)[0], [50000])
    many, text = queries_for_home()
    assert "of 20 returns" in text
    assert many == few


def test_the_lists_of_returns_and_repayments_awaited_cost_the_same_queries_for_2_and_8(
        app, finance, count_queries):
    def queries_for(url: str) -> int:
        with count_queries() as queries:
            assert finance.get(url).status_code == 200
        return len(queries)

    counts = []
    for n in range(8):
        award_id = make_award(app, title=f"Project {n}", lines=[("Lights", "capital", 100000)])
        with app.app_context():
            session.add(Repayment(award_id=award_id, amount_pence=1000 + n))
            session.commit()
        if n in (1, 7):
            counts.append([queries_for("/finance/returns/due"),
                           queries_for("/finance/repayments")])
    assert "Showing 1 to 8 of 8 repayments" in text_of(finance.get("/finance/repayments"))
    assert counts[0] == counts[1]


def test_the_finance_queue_is_paginated(app, finance):
    for n in range(13):
        award_id = make_award(app, title=f"Project {n}", lines=[("Lights", "capital", 100000)])
        for return_id in return_ids(app, award_id):
            file_return(app, return_id, [10000])
    first = finance.get("/finance/")
    assert "Showing 1 to 25 of 26 returns" in text_of(first)
    second = finance.get("/finance/?page=2")
    assert "Showing 26 to 26 of 26 returns" in text_of(second)


def test_all_returns_due_are_a_click_away_when_there_are_more_than_the_home_shows(app, finance):
    for n in range(6):
        make_award(app, title=f"Project {n}", lines=[("Lights", "capital", 100000)])
    home = finance.get("/finance/")
    assert "See all returns due and overdue" in text_of(home)
    awaited = BeautifulSoup(home.get_data(as_text=True), "html.parser").find(
        "caption", string=lambda text: text and "soonest due first" in text).find_parent("table")
    assert len(awaited.select("tbody tr")) == 10
    listing = finance.get("/finance/returns/due")
    assert "Showing 1 to 12 of 12 returns" in text_of(listing)


def test_the_home_links_to_all_returns_due_only_when_it_cannot_show_them_all(app, finance):
    for n in range(5):
        make_award(app, title=f"Project {n}", lines=[("Lights", "capital", 100000)])
    assert "See all returns due" not in text_of(finance.get("/finance/"))


def test_all_repayments_awaited_are_a_click_away_when_there_are_more_than_the_home_shows(
        app, finance):
    award_ids = [make_award(app, title=f"Project {n}", lines=[("Lights", "capital", 100000)])
                 for n in range(11)]
    with app.app_context():  # underspend to repay on each (oldest request first)
        for n, award_id in enumerate(award_ids):
            session.add(Repayment(award_id=award_id, amount_pence=1000 + n,
                                  requested_at=utcnow() + timedelta(minutes=n)))
        session.commit()
    home = finance.get("/finance/")
    assert "See all repayments awaiting receipt" in text_of(home)
    assert "£10.10" not in text_of(home)  # the eleventh, on the full list only
    listing = finance.get("/finance/repayments")
    assert "Showing 1 to 11 of 11 repayments" in text_of(listing)
    assert "£10.10" in text_of(listing)


# --- the award page and payments -----------------------------------------------------------------


def test_the_award_page_shows_the_amount_paid_payable_now_and_the_payment_rule(app, finance):
    award_id = make_award(app)
    pay(app, award_id, 150000)
    page = finance.get(f"/finance/awards/{award_id}")
    assert page.status_code == 200
    text = text_of(page)
    assert "Award £4,000.00" in text
    assert "Paid to date £1,500.00" in text
    assert "Payable now £2,500.00" in text
    assert "In advance" in text
    assert "BACS-1" in text
    assert "Final return" in text  # the returns with their state
    assert row_cells(page, "Mechanic") == ["£1,500.00", "£1,500.00"]


def test_the_awards_list_links_to_each_award(app, finance):
    award_id = make_award(app)
    page = finance.get("/finance/awards/")
    assert f'href="/finance/awards/{award_id}"' in page.get_data(as_text=True)


def test_finance_records_a_payment_within_the_award(app, finance):
    award_id = make_award(app)
    response = post_payment(finance, award_id, amount="£2,500.00", reference="BACS-2500")
    assert response.status_code == 302
    page = finance.get(response.headers["Location"])
    assert "Payment of £2,500.00 recorded." in text_of(page)
    assert "BACS-2500" in text_of(page)
    assert payments_of(app, award_id) == (250000, 250000)


def test_a_payment_beyond_the_award_is_refused_and_nothing_is_paid(app, finance):
    award_id = make_award(app)
    pay(app, award_id, 300000)
    response = post_payment(finance, award_id, amount="1000.01")
    assert response.status_code == 200
    assert "Payments cannot exceed the award: £1,000.00 remains to be paid." in \
        error_beside(response, "amount")
    assert 'value="1000.01"' in response.get_data(as_text=True)  # the input is kept
    assert payments_of(app, award_id) == (300000, 300000)


@pytest.mark.parametrize("amount, message", [
    ("-50", "Amount must be £0 or more"),
    ("fifty", "Enter an amount in pounds"),
    ("12.345", "more than 2 decimal places"),
    ("0", "Enter an amount more than £0"),
    ("", "Enter the amount paid"),
])
def test_negative_or_malformed_payment_amounts_are_refused(app, finance, amount, message):
    award_id = make_award(app)
    response = post_payment(finance, award_id, amount=amount)
    assert response.status_code == 200
    assert message in error_beside(response, "amount")
    assert "There is a problem" in text_of(response)
    assert payments_of(app, award_id) == (0, 0)


def test_a_payment_needs_a_real_past_date_and_a_reference(app, finance):
    award_id = make_award(app)
    tomorrow = utcnow().date() + timedelta(days=1)
    future = post_payment(finance, award_id, day=tomorrow)
    assert "must be today or in the past" in error_beside(future, "paid_on")
    blank = post_payment(finance, award_id, reference="  ")
    assert "Enter the payment reference" in error_beside(blank, "reference")
    assert payments_of(app, award_id) == (0, 0)


def test_whoever_approved_the_award_cannot_record_its_payments(app):
    award_id = make_award(app)
    with app.app_context():
        user = accounts.get_user_by_email(MANAGER)
        user.role_rows.append(UserRole(role=Role.FINANCE))
        session.commit()
    both = signed_in(app, MANAGER)
    page = both.get(f"/finance/awards/{award_id}")
    assert "someone else must record its payments" in text_of(page)
    assert f'action="/finance/awards/{award_id}/payments"' not in page.get_data(as_text=True)
    response = post_payment(both, award_id, follow_redirects=True)
    assert "You approved this award, so someone else must record its payments." in \
        text_of(response)
    assert payments_of(app, award_id) == (0, 0)


def test_under_the_arrears_rule_only_approved_spend_can_be_paid(app, finance):
    award_id = make_award(app, code="PCF", lines=[("Youth workers", "revenue", 1000000)])
    text = text_of(finance.get(f"/finance/awards/{award_id}"))
    assert "In arrears" in text and "Payable now £0.00" in text
    refused = post_payment(finance, award_id, amount="1")
    assert "payments follow approved returns: £0.00 can be paid now" in \
        error_beside(refused, "amount")
    approve_return(app, file_return(app, return_ids(app, award_id)[0], [300000]))
    assert post_payment(finance, award_id, amount="3000").status_code == 302
    again = post_payment(finance, award_id, amount="0.01", reference="BACS-78")
    assert "£0.00 can be paid now" in error_beside(again, "amount")
    assert payments_of(app, award_id) == (300000, 300000)


def test_paid_never_exceeds_what_was_awarded(app, finance):
    award_id = make_award(app)
    for number, amount in enumerate(("1500", "2000", "600", "500", "0.01")):
        post_payment(finance, award_id, amount=amount, reference=f"BACS-{number}")
    paid, rows = payments_of(app, award_id)
    with app.app_context():
        awarded = session.get(Award, award_id).amount_pence
    assert paid == rows == 150000 + 200000 + 50000 == awarded  # the 600 and 0.01 refused


# --- the check of a return -----------------------------------------------------------------------


@pytest.fixture
def varied_award(app):
    """£20 of parts moved to the mechanic (approved); the periodic return approved; the
    final return submitted with the parts line overspent. Returns (award, final return)."""
    award_id = make_award(app)
    pay(app, award_id, 400000)
    decide(app, ask_to_move(app, award_id, 2, 1, 20000))
    first, final = return_ids(app, award_id)
    approve_return(app, file_return(app, first, [100000, 80000, 10000]))
    file_return(app, final, [90000, 60000, 35000], underspend=25000,
                case_study="A parent told us her son now cycles to school.")
    return award_id, final


def test_the_check_shows_each_line_against_its_allocation_with_overspends_flagged(
        app, finance, varied_award):
    award_id, final = varied_award
    page = finance.get(f"/finance/returns/{final}")
    assert page.status_code == 200
    # allocation (revised, original beside), previously approved, this return, to date, variance
    assert row_cells(page, "Bike lights") == ["£2,000.00", "£1,000.00", "£900.00", "£1,900.00",
                                              "£100.00"]
    assert row_cells(page, "Mechanic") == ["£1,700.00 originally £1,500.00", "£800.00",
                                           "£600.00", "£1,400.00", "£300.00"]
    assert row_cells(page, "Spare parts") == ["£300.00 originally £500.00", "£100.00",
                                              "£350.00", "£450.00",
                                              "-£150.00 Overspend met by the recipient"]
    assert text_of(page).count("Overspend met by the recipient") == 1
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    captions = [c.get_text(strip=True) for c in soup.find_all("caption")]
    assert "Capital" in captions and "Revenue" in captions  # kept apart
    assert row_cells(page, "Total capital")[2] == "£900.00"
    assert row_cells(page, "Total revenue")[2] == "£950.00"


def test_the_return_total_equals_the_sum_of_its_lines(app, finance, varied_award):
    _award_id, final = varied_award
    spend = [90000, 60000, 35000]
    with app.app_context():
        grant_return = session.get(GrantReturn, final)
        assert grant_return.spend_pence == sum(line.spend_pence for line in grant_return.lines)
        assert sorted(line.spend_pence for line in grant_return.lines) == sorted(spend)
    page = finance.get(f"/finance/returns/{final}")
    assert "Total in this return: £1,850.00" in text_of(page)
    assert sum(spend) == 185000


def test_the_check_shows_outcomes_case_study_forecast_underspend_and_history(
        app, finance, varied_award):
    _award_id, final = varied_award
    with app.test_request_context():
        awards.review_return(session.get(GrantReturn, final), False, "Receipts for the parts?",
                             accounts.get_user_by_email(FINANCE))
        session.commit()
    file_return(app, final, [90000, 60000, 35000],
                case_study="A parent told us her son now cycles to school.", underspend=25000)
    page = finance.get(f"/finance/returns/{final}")
    text = text_of(page)
    assert row_cells(page, "Lights given out") == ["300", "250", "Amber", "Most lights given out"]
    assert "A parent told us her son now cycles to school." in text
    assert "Forecast underspend: £250.00" in text
    assert "Queried Frankie Finance Receipts for the parts?" in text
    assert "Resubmitted by the partnership" in text


def test_a_queried_return_resubmitted_comes_back_to_the_queue_with_its_new_figures(
        app, finance):
    award_id = make_award(app)
    first, _final = return_ids(app, award_id)
    file_return(app, first, [100000, 50000, 0])
    finance.submit(f"/finance/returns/{first}", {"outcome": "query", "comments": "Receipts?"})
    assert "There are no returns waiting to be checked." in text_of(finance.get("/finance/"))
    file_return(app, first, [100000, 40000, 0])
    assert "£1,400.00" in text_of(finance.get("/finance/"))
    assert load(app, GrantReturn, first).status == ReturnStatus.SUBMITTED


def test_finance_approves_a_submitted_return(app, finance):
    award_id = make_award(app)
    first, _final = return_ids(app, award_id)
    file_return(app, first, [100000, 50000, 0])
    response = finance.submit(f"/finance/returns/{first}", {"outcome": "approve", "comments": ""})
    assert response.status_code == 302
    assert "Return approved" in text_of(finance.get(response.headers["Location"]))
    assert load(app, GrantReturn, first).status == ReturnStatus.APPROVED
    assert load(app, Award, award_id).status == AwardStatus.ACTIVE  # not the final one


def test_a_query_needs_comments_and_sends_the_return_back(app, finance):
    award_id = make_award(app)
    first, _final = return_ids(app, award_id)
    file_return(app, first, [100000, 50000, 0])
    url = f"/finance/returns/{first}"
    bare = finance.submit(url, {"outcome": "query", "comments": " "})
    assert "Say what needs to change" in error_beside(bare, "comments")
    assert load(app, GrantReturn, first).status == ReturnStatus.SUBMITTED
    queried = finance.submit(url, {"outcome": "query", "comments": "Attach the invoices"})
    assert queried.status_code == 302
    assert load(app, GrantReturn, first).status == ReturnStatus.QUERIED
    assert "Attach the invoices" in text_of(finance.get(url))


def test_a_check_without_a_choice_is_refused(app, finance):
    award_id = make_award(app)
    first, _final = return_ids(app, award_id)
    file_return(app, first, [100000, 50000, 0])
    response = finance.submit(f"/finance/returns/{first}", {"comments": "ok"})
    assert "Select approve or query" in error_beside(response, "outcome")
    assert load(app, GrantReturn, first).status == ReturnStatus.SUBMITTED


def test_approving_a_return_still_in_draft_is_refused(app, finance):
    award_id = make_award(app)
    first, _final = return_ids(app, award_id)
    file_return(app, first, [100000, 0, 0], submit=False)
    page = finance.get(f"/finance/returns/{first}")
    assert "has not submitted this return yet" in text_of(page)
    assert "£1,000.00" not in text_of(page)  # a draft's figures stay with the partnership
    response = finance.submit(f"/finance/returns/{first}", {"outcome": "approve"},
                              follow_redirects=True)
    assert "Only a submitted return can be checked: this one is draft." in text_of(response)
    assert load(app, GrantReturn, first).status == ReturnStatus.DRAFT


def test_approving_the_final_return_closes_the_award_and_asks_for_the_underspend(
        app, finance, varied_award):
    award_id, final = varied_award
    response = finance.submit(f"/finance/returns/{final}", {"outcome": "approve"})
    assert response.status_code == 302
    assert "£400.00 of underspend is to be repaid" in text_of(
        finance.get(response.headers["Location"]))
    # Worked out independently: spend to date per line, capped at its revised allocation.
    revised = {"Bike lights": 200000, "Mechanic": 150000 + 20000, "Spare parts": 50000 - 20000}
    spent = {"Bike lights": 100000 + 90000, "Mechanic": 80000 + 60000,
             "Spare parts": 10000 + 35000}
    eligible = sum(min(spent[item], revised[item]) for item in revised)
    assert eligible == 190000 + 140000 + 30000  # the parts overspend is the recipient's
    with app.app_context():
        award = session.get(Award, award_id)
        [repayment] = award.repayments
        assert award.status == AwardStatus.CLOSED
        assert award.paid_pence <= award.amount_pence
        assert repayment.amount_pence == award.paid_pence - eligible == 40000
    page = text_of(finance.get(f"/finance/awards/{award_id}"))
    assert "Amount to repay £400.00" in page and "Not yet received" in page


# --- repayments ----------------------------------------------------------------------------------


@pytest.fixture
def repayment(app, varied_award):
    award_id, final = varied_award
    approve_return(app, final)
    with app.app_context():
        return award_id, session.scalar(select(Repayment.id).where(Repayment.award_id == award_id))


def repayment_form(reference="REMIT-9", day=None):
    day = day or utcnow().date()
    return {"received_on": [str(day.day), str(day.month), str(day.year)],
            "received_reference": reference}


def post_repayment(client, award_id, repayment_id, **fields):
    return client.submit(f"/finance/awards/{award_id}/repayments/{repayment_id}",
                         repayment_form(**fields), form_url=f"/finance/awards/{award_id}")


def test_finance_records_a_repayment_as_received(app, finance, repayment):
    award_id, repayment_id = repayment
    response = post_repayment(finance, award_id, repayment_id)
    assert response.status_code == 302
    page = text_of(finance.get(f"/finance/awards/{award_id}"))
    assert "Repayment of £400.00 recorded as received." in page
    assert "REMIT-9" in page
    assert load(app, Repayment, repayment_id).received_reference == "REMIT-9"
    assert "No repayments are awaited." in text_of(finance.get("/finance/"))


def test_recording_a_repayment_twice_is_refused(app, finance, repayment):
    award_id, repayment_id = repayment
    token = finance.csrf_token(f"/finance/awards/{award_id}")
    post_repayment(finance, award_id, repayment_id)
    again = finance.post(f"/finance/awards/{award_id}/repayments/{repayment_id}",
                         data={**repayment_form(reference="REMIT-10"), "csrf_token": token},
                         follow_redirects=True)
    assert "already been recorded as received" in text_of(again)
    assert load(app, Repayment, repayment_id).received_reference == "REMIT-9"


def test_a_repayment_needs_a_date_and_a_reference(app, finance, repayment):
    award_id, repayment_id = repayment
    response = finance.submit(f"/finance/awards/{award_id}/repayments/{repayment_id}",
                              {"received_on": ["", "", ""], "received_reference": ""},
                              form_url=f"/finance/awards/{award_id}")
    assert response.status_code == 200
    assert "Enter the date received" in error_beside(response, "received_on")
    assert "Enter the receipt reference" in error_beside(response, "received_reference")
    assert load(app, Repayment, repayment_id).received_on is None


# --- variations (the grants manager) -------------------------------------------------------------


def test_the_grants_manager_sees_the_variations_waiting(app, manager):
    award_id = make_award(app)
    variation_id = ask_to_move(app, award_id, 2, 1, 20000)
    page = manager.get("/manage/variations")
    assert page.status_code == 200
    assert "Move money between budget lines" in text_of(page)
    assert f'href="/manage/variations/{variation_id}"' in page.get_data(as_text=True)


def test_approving_a_reallocation_shows_original_and_revised_allocations_side_by_side(
        app, manager, finance):
    award_id = make_award(app)
    variation_id = ask_to_move(app, award_id, 2, 1, 20000)
    url = f"/manage/variations/{variation_id}"
    page = manager.get(url)
    assert row_cells(page, "Spare parts") == ["Revenue", "£500.00", "£500.00"]
    response = manager.submit(url, {"outcome": "approve", "comment": "Agreed"})
    assert response.status_code == 302
    after = manager.get(url)
    assert "Variation approved and the award updated." in text_of(after)
    assert row_cells(after, "Spare parts") == ["Revenue", "£500.00", "£300.00"]
    assert row_cells(after, "Mechanic") == ["Revenue", "£1,500.00", "£1,700.00"]
    award_page = finance.get(f"/finance/awards/{award_id}")
    assert row_cells(award_page, "Mechanic") == ["£1,500.00", "£1,700.00"]
    with app.app_context():
        award = session.get(Award, award_id)
        assert sum(line.revised_pence for line in award.lines) == award.amount_pence
    assert "There are no variations waiting" in text_of(manager.get("/manage/variations"))


def test_approving_an_extension_moves_the_end_date(app, manager):
    award_id = make_award(app)
    with app.test_request_context():
        award = session.get(Award, award_id)
        new_end = award.end_date + timedelta(days=60)
        variation = variations.request_variation(award, VariationKind.EXTENSION, "Late delivery",
                                             accounts.get_user_by_email(OFFICER),
                                             new_end_date=new_end)
        session.commit()
        variation_id = variation.id
    manager.submit(f"/manage/variations/{variation_id}", {"outcome": "approve"})
    assert load(app, Award, award_id).end_date == new_end


def test_declining_a_variation_needs_a_comment(app, manager):
    award_id = make_award(app)
    variation_id = ask_to_move(app, award_id, 2, 1, 20000)
    url = f"/manage/variations/{variation_id}"
    bare = manager.submit(url, {"outcome": "decline", "comment": ""})
    assert "Give the reason for declining" in error_beside(bare, "comment")
    assert load(app, Variation, variation_id).status == VariationStatus.REQUESTED
    declined = manager.submit(url, {"outcome": "decline", "comment": "Not value for money"})
    assert declined.status_code == 302
    assert load(app, Variation, variation_id).status == VariationStatus.DECLINED
    assert revised_of(app, award_id) == \
        [200000, 150000, 50000]


def test_a_variation_cannot_be_decided_twice(app, manager):
    award_id = make_award(app)
    variation_id = ask_to_move(app, award_id, 2, 1, 20000)
    url = f"/manage/variations/{variation_id}"
    token = manager.csrf_token(url)
    manager.submit(url, {"outcome": "approve"})
    again = manager.post(url, data={"outcome": "approve", "csrf_token": token},
                         follow_redirects=True)
    assert "This variation has already been decided." in text_of(again)
    assert revised_of(app, award_id) == \
        [200000, 170000, 30000]  # moved once, not twice


def test_a_reallocation_refused_part_way_leaves_every_line_as_it_was(app, manager):
    award_id = make_award(app)
    ids = line_ids(app, award_id)
    with app.test_request_context():
        # Two moves out of the parts line that together need more than it holds.
        variation = variations.request_variation(
            session.get(Award, award_id), VariationKind.REALLOCATION, "Reshuffle",
            accounts.get_user_by_email(OFFICER),
            moves=[{"from": ids[2], "to": ids[1], "amount": 30000},
                   {"from": ids[2], "to": ids[0], "amount": 30000}])
        session.commit()
        variation_id = variation.id
    response = manager.submit(f"/manage/variations/{variation_id}", {"outcome": "approve"},
                              follow_redirects=True)
    assert "no longer has" in text_of(response)
    assert revised_of(app, award_id) == \
        [200000, 150000, 50000]
    assert load(app, Variation, variation_id).status == VariationStatus.REQUESTED


# --- bad requests: forged forms, unknown ids, other roles ---------------------------------------


def test_forged_finance_and_variation_forms_are_refused_and_change_nothing(app, finance,
                                                                           manager):
    award_id = make_award(app)
    first, _final = return_ids(app, award_id)
    file_return(app, first, [100000, 0, 0])
    variation_id = ask_to_move(app, award_id, 2, 1, 20000)
    forged = [
        (finance, f"/finance/awards/{award_id}/payments", payment_form(award_id)),
        (finance, f"/finance/returns/{first}", {"outcome": "approve"}),
        (manager, f"/manage/variations/{variation_id}", {"outcome": "approve"}),
    ]
    for client, url, data in forged:
        response = client.post(url, data=data)
        assert response.status_code == 400, url
    assert payments_of(app, award_id) == (0, 0)
    assert load(app, GrantReturn, first).status == ReturnStatus.SUBMITTED
    assert load(app, Variation, variation_id).status == VariationStatus.REQUESTED


def test_unknown_ids_are_404(app, finance, manager):
    award_id = make_award(app)
    for url in ("/finance/awards/999999", "/finance/returns/999999"):
        assert finance.get(url).status_code == 404, url
    token = finance.csrf_token("/finance/")
    for url in ("/finance/awards/999999/payments",
                f"/finance/awards/{award_id}/repayments/999999"):
        assert finance.post(url, data={"csrf_token": token}).status_code == 404, url
    assert manager.get("/manage/variations/999999").status_code == 404


@pytest.mark.parametrize("email", ["officer.southcambs@example.org", "assessor1@example.org",
                                   "manager@example.org", "admin@example.org"])
def test_only_finance_may_use_the_finance_pages(app, email):
    award_id = make_award(app)
    first, _final = return_ids(app, award_id)
    client = signed_in(app, email)
    for url in ("/finance/", f"/finance/awards/{award_id}", f"/finance/returns/{first}",
                "/finance/awards/", "/finance/returns/due"):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("email", ["officer.southcambs@example.org", "assessor1@example.org",
                                   "finance@example.org", "admin@example.org"])
def test_only_the_grants_manager_may_decide_variations(app, email):
    award_id = make_award(app)
    variation_id = ask_to_move(app, award_id, 2, 1, 20000)
    client = signed_in(app, email)
    assert client.get("/manage/variations").status_code == 403
    assert client.get(f"/manage/variations/{variation_id}").status_code == 403


def test_once_the_final_return_is_approved_only_the_eligible_spend_can_be_paid(app, finance):
    """Paid in advance, nothing paid yet, the final return approved at £3,000 of a £4,750
    award: £3,000 is payable, not £4,750 (which would only be asked back as underspend)."""
    award_id = make_award(app)
    first, final = return_ids(app, award_id)
    approve_return(app, file_return(app, first, [100000, 50000, 0]))
    approve_return(app, file_return(app, final, [100000, 50000, 0]))  # £3,000 eligible
    with app.app_context():
        award = session.get(Award, award_id)
        assert awards.eligible_spend(award) == 300000
        assert awards.payable_now(award) == 300000
    page = text_of(finance.get(f"/finance/awards/{award_id}"))
    assert "Payable now £3,000.00" in page and "the eligible spend is £3,000.00" in page
    assert "Underspend is worked out when the final return is approved" not in page
    refused = post_payment(finance, award_id, amount="3,000.01")
    assert "can be paid now" in error_beside(refused, "amount")
    assert payments_of(app, award_id) == (0, 0)
