"""After the award at real speed (issue 11): the same payment posted twice is one payment;
every one-shot form posted twice acts once and shows the first result; every refusal leaves
every table as it was; returns and award lines are saved again and again; everyone
concerned is told; and actions taken at the same moment by several people have one effect,
the others being refused with a message, never an error."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from portal.db import session, uk_today, write_intent
from portal.models import (
    AuditEvent,
    Award,
    AwardLine,
    AwardStatus,
    GrantReturn,
    Payment,
    Repayment,
    RepaymentStatus,
    ReturnReview,
    ReturnStatus,
    Variation,
    VariationKind,
)
from portal.services import DomainError, accounts, awards, variations
from tests.helpers import signed_in, table_row_counts, text_of
from tests.integration.test_awards_applicant import awarded, complete_return, facts
from tests.integration.test_finance import (
    FINANCE,
    MANAGER,
    OFFICER,
    approve_return,
    ask_to_move,
    error_beside,
    file_return,
    line_ids,
    make_award,
    pay,
    payment_form,
    payments_of,
    repayment_form,
    return_ids,
    revised_of,
)

BACS = "BACS-0001"


# --- helpers -------------------------------------------------------------------------------------


def audited(app, action: str, record_id: int) -> int:
    """How many audit events of ``action`` name the record."""
    with app.app_context():
        return session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == action, AuditEvent.record_id == str(record_id)))


def count(app, model, *where) -> int:
    with app.app_context():
        return session.scalar(select(func.count()).select_from(model).where(*where))


def post_twice(client, url: str, data: dict[str, Any], form_url: str | None = None):
    """The same form (one page's tokens) posted twice, as a double click or a refreshed POST
    sends it."""
    tokens = client.form_tokens(form_url or url, action=url)
    assert "once" in tokens, f"the form posting to {url} is not one-shot"
    first = client.post(url, data={**data, **tokens})
    second = client.post(url, data={**data, **tokens})
    return first, second


def assert_second_shows_the_first_result(client, first, second) -> None:
    assert first.status_code == 302, first.get_data(as_text=True)[:2000]
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert "That was already done" in text_of(client.get(second.headers["Location"]))


def closed_with_underspend(app) -> tuple[int, int]:
    """An award paid £4,000 whose final return is approved with £1,000 unspent: closed, with
    a repayment awaited. Returns (award id, repayment id)."""
    award_id = make_award(app)
    pay(app, award_id, 400000)
    first, final = return_ids(app, award_id)
    approve_return(app, file_return(app, first, [100000, 100000, 10000]))
    approve_return(app, file_return(app, final, [50000, 20000, 20000]))
    with app.app_context():
        return award_id, session.scalar(select(Repayment.id).where(
            Repayment.award_id == award_id))


@pytest.fixture
def finance(app):
    return signed_in(app, FINANCE)


@pytest.fixture
def manager(app):
    return signed_in(app, MANAGER)


@pytest.fixture
def officer(app):
    return signed_in(app, OFFICER)


# --- case 4: the same payment twice --------------------------------------------------------------


def test_the_same_payment_form_posted_twice_records_one_payment_and_shows_it(app, finance):
    award_id = make_award(app)
    url = f"/finance/awards/{award_id}/payments"
    first, second = post_twice(finance, url, payment_form(award_id, "2,000", BACS),
                               form_url=f"/finance/awards/{award_id}")
    assert_second_shows_the_first_result(finance, first, second)
    assert payments_of(app, award_id) == (200000, 200000)
    assert count(app, Payment, Payment.award_id == award_id) == 1
    assert audited(app, "award.payment_recorded", award_id) == 1


def test_a_second_payment_with_the_same_reference_is_refused_beside_the_reference(
        app, finance):
    award_id = make_award(app)
    url = f"/finance/awards/{award_id}/payments"
    form_url = f"/finance/awards/{award_id}"
    assert finance.submit(url, payment_form(award_id, "2,000", BACS),
                          form_url=form_url).status_code == 302
    before = table_row_counts(app)
    again = finance.submit(url, payment_form(award_id, "2,000", BACS), form_url=form_url)
    assert again.status_code == 200
    assert error_beside(again, "reference") == \
        "Error: A payment with reference BACS-0001 is already recorded for this award"
    assert f'value="{BACS}"' in again.get_data(as_text=True)  # what was typed is kept
    assert table_row_counts(app) == before
    assert payments_of(app, award_id) == (200000, 200000)
    in_lower_case = finance.submit(url, payment_form(award_id, "500", BACS.lower()),
                                   form_url=form_url)
    assert in_lower_case.status_code == 200 and "is already recorded" in text_of(in_lower_case)
    assert table_row_counts(app) == before


def test_the_unique_key_refuses_a_duplicate_reference_that_passed_the_check(app, monkeypatch):
    """Two posts at the same moment both pass the check before the write: the unique key
    refuses the second with the same message beside the reference, and nothing it did
    remains (not the payment, not the money, not an audit event)."""
    award_id = make_award(app)
    pay_once = make_payment(app, award_id)
    pay_once()
    before = table_row_counts(app)
    monkeypatch.setattr(awards, "payment_with_reference", lambda award, reference: None)
    with pytest.raises(DomainError) as refused:
        pay_once()
    assert refused.value.field == "reference"
    assert refused.value.message == \
        "A payment with reference BACS-0001 is already recorded for this award"
    assert table_row_counts(app) == before
    assert payments_of(app, award_id) == (200000, 200000)


def make_payment(app, award_id: int) -> Callable[[], None]:
    def pay_now() -> None:
        with app.test_request_context():
            try:
                awards.record_payment(session.get(Award, award_id), 200000, uk_today(), BACS,
                                      accounts.get_user_by_email(FINANCE))
                session.commit()
            except BaseException:
                session.rollback()
                raise

    return pay_now


def test_the_same_reference_may_be_used_on_another_award(app, finance):
    first, second = make_award(app, title="First"), make_award(app, title="Second")
    for award_id in (first, second):
        response = finance.submit(f"/finance/awards/{award_id}/payments",
                                  payment_form(award_id, "2,000", BACS),
                                  form_url=f"/finance/awards/{award_id}")
        assert response.status_code == 302
        assert payments_of(app, award_id) == (200000, 200000)


# --- one-shot forms posted twice: one effect, the first result shown ---------------------------


def test_accepting_posted_twice_accepts_once(app, officer, smtp):
    award_id = awarded(app)
    url = f"/awards/{award_id}/accept"
    first, second = post_twice(officer, url, {"name": "Sam Officer", "role": "CSP manager",
                                              "confirm": "y"})
    assert_second_shows_the_first_result(officer, first, second)
    assert facts(app, award_id)["status"] == AwardStatus.ACTIVE
    assert audited(app, "award.accepted", award_id) == 1
    accepted = [m for m in smtp.messages if "accepted" in m["Subject"]]
    assert len(accepted) == len({m["To"] for m in accepted})  # nobody told twice


def test_a_repayment_posted_twice_is_recorded_once(app, finance):
    award_id, repayment_id = closed_with_underspend(app)
    url = f"/finance/awards/{award_id}/repayments/{repayment_id}"
    first, second = post_twice(finance, url, repayment_form(), f"/finance/awards/{award_id}")
    assert_second_shows_the_first_result(finance, first, second)
    with app.app_context():
        repayment = session.get(Repayment, repayment_id)
        assert (repayment.status, repayment.received_reference) == (RepaymentStatus.RECEIVED,
                                                                    "REMIT-9")
    assert audited(app, "award.repayment_received", award_id) == 1


def test_a_return_check_posted_twice_is_recorded_once(app, finance):
    award_id = make_award(app)
    first_return, _final = return_ids(app, award_id)
    file_return(app, first_return, [100000, 50000, 0])
    url = f"/finance/returns/{first_return}"
    first, second = post_twice(finance, url, {"outcome": "query", "comments": "Receipts?"})
    assert_second_shows_the_first_result(finance, first, second)
    assert count(app, ReturnReview, ReturnReview.return_id == first_return) == 1
    assert audited(app, "return.queried", first_return) == 1


def test_a_variation_decision_posted_twice_moves_the_money_once(app, manager):
    award_id = make_award(app)
    variation_id = ask_to_move(app, award_id, 2, 1, 20000)
    url = f"/manage/variations/{variation_id}"
    first, second = post_twice(manager, url, {"outcome": "approve", "comment": "Agreed"})
    assert_second_shows_the_first_result(manager, first, second)
    assert revised_of(app, award_id) == [200000, 170000, 30000]
    assert audited(app, "variation.approved", award_id) == 1
    assert audited(app, "award.lines_revised", award_id) == 1


def test_a_return_submitted_twice_is_submitted_once(app, officer):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    url = f"/awards/{award_id}/returns/{return_id}"
    first, second = post_twice(officer, url, complete_return(app, award_id) | {"submit": "y"})
    assert_second_shows_the_first_result(officer, first, second)
    assert first.headers["Location"] == f"/awards/{award_id}"
    assert audited(app, "return.submitted", return_id) == 1
    with app.app_context():
        assert session.get(GrantReturn, return_id).status == ReturnStatus.SUBMITTED


def test_a_draft_posted_twice_is_saved_once_and_saves_again_from_a_new_page(app, officer):
    award_id = awarded(app, accepted=True)
    known = facts(app, award_id)
    return_id = known["returns"][0]
    lights = known["lines"]["Bike lights"]
    url = f"/awards/{award_id}/returns/{return_id}"
    first, second = post_twice(officer, url, {f"line-{lights}": "100", "save_draft": "y"})
    assert_second_shows_the_first_result(officer, first, second)
    assert audited(app, "return.saved", return_id) == 1
    again = officer.submit(url, {f"line-{lights}": "150", "save_draft": "y"})
    assert again.status_code == 302
    assert audited(app, "return.saved", return_id) == 2
    with app.app_context():
        grant_return = session.get(GrantReturn, return_id)
        assert [(line.award_line_id, line.spend_pence) for line in grant_return.lines] == \
            [(lights, 15000)]


def test_a_variation_request_posted_twice_asks_once(app, officer):
    award_id = awarded(app, accepted=True)
    lines = facts(app, award_id)["lines"]
    first, second = post_twice(officer, f"/awards/{award_id}/variations/new", {
        "kind": "reallocation", "from_line": str(lines["Bike lights"]),
        "to_line": str(lines["Spare parts"]), "amount": "200", "reason": "Cheaper lights"})
    assert_second_shows_the_first_result(officer, first, second)
    assert len(facts(app, award_id)["variations"]) == 1
    assert audited(app, "variation.requested", award_id) == 1


# --- a refusal changes nothing ---------------------------------------------------------------


def _accept_unconfirmed(app):
    award_id = awarded(app)
    return signed_in(app, OFFICER), f"/awards/{award_id}/accept", \
        {"name": "Sam", "role": "Officer"}, None


def _accept_again(app):
    award_id = awarded(app, accepted=True)
    return signed_in(app, OFFICER), f"/awards/{award_id}/accept", \
        {"name": "Sam", "role": "Officer", "confirm": "y"}, f"/awards/{award_id}"


def _payment_beyond_the_award(app):
    award_id = make_award(app)
    return signed_in(app, FINANCE), f"/finance/awards/{award_id}/payments", \
        payment_form(award_id, "4,000.01", "BACS-9"), f"/finance/awards/{award_id}"


def _payment_on_a_closed_award(app):
    award_id, _repayment = closed_with_underspend(app)
    return signed_in(app, FINANCE), f"/finance/awards/{award_id}/payments", \
        payment_form(award_id, "1", "BACS-9"), f"/finance/awards/{award_id}"


def _repayment_in_the_future(app):
    award_id, repayment_id = closed_with_underspend(app)
    tomorrow = uk_today() + timedelta(days=1)
    return signed_in(app, FINANCE), \
        f"/finance/awards/{award_id}/repayments/{repayment_id}", \
        repayment_form(day=tomorrow), f"/finance/awards/{award_id}"


def _repayment_already_received(app):
    award_id, repayment_id = closed_with_underspend(app)
    with app.test_request_context():
        awards.record_repayment(session.get(Repayment, repayment_id), uk_today(), "REMIT-1",
                                accounts.get_user_by_email(FINANCE))
        session.commit()
    return signed_in(app, FINANCE), \
        f"/finance/awards/{award_id}/repayments/{repayment_id}", \
        repayment_form(reference="REMIT-2"), "/finance/"


def _query_without_comments(app):
    award_id = make_award(app)
    first, _final = return_ids(app, award_id)
    file_return(app, first, [100000, 0, 0])
    return signed_in(app, FINANCE), f"/finance/returns/{first}", \
        {"outcome": "query", "comments": " "}, None


def _check_of_a_checked_return(app):
    award_id = make_award(app)
    first, _final = return_ids(app, award_id)
    approve_return(app, file_return(app, first, [100000, 0, 0]))
    return signed_in(app, FINANCE), f"/finance/returns/{first}", \
        {"outcome": "query", "comments": "Too late"}, "/finance/"


def _decline_without_a_comment(app):
    variation_id = ask_to_move(app, make_award(app), 2, 1, 20000)
    return signed_in(app, MANAGER), f"/manage/variations/{variation_id}", \
        {"outcome": "decline", "comment": ""}, None


def _reallocation_that_no_longer_fits(app):
    award_id = make_award(app)
    ids = line_ids(app, award_id)
    with app.test_request_context():
        variation = variations.request_variation(
            session.get(Award, award_id), VariationKind.REALLOCATION, "Reshuffle",
            accounts.get_user_by_email(OFFICER),
            moves=[{"from": ids[2], "to": ids[1], "amount": 30000},
                   {"from": ids[2], "to": ids[0], "amount": 30000}])
        session.commit()
    return signed_in(app, MANAGER), f"/manage/variations/{variation.id}", \
        {"outcome": "approve"}, None


def _incomplete_return(app):
    award_id = awarded(app, accepted=True)
    known = facts(app, award_id)
    data = complete_return(app, award_id) | {"submit": "y"}
    data[f"narrative-{known['measures'][0]}"] = ""
    return signed_in(app, OFFICER), f"/awards/{award_id}/returns/{known['returns'][0]}", \
        data, None


def _variation_without_a_reason(app):
    award_id = awarded(app, accepted=True)
    return signed_in(app, OFFICER), f"/awards/{award_id}/variations/new", \
        {"kind": "extension", "new_end_date": ["1", "1", "2040"], "reason": ""}, None


REFUSALS = {
    "accepting without confirming the terms": _accept_unconfirmed,
    "accepting an offer already accepted": _accept_again,
    "a payment beyond the award": _payment_beyond_the_award,
    "a payment on a closed award": _payment_on_a_closed_award,
    "a repayment dated tomorrow": _repayment_in_the_future,
    "a repayment already received": _repayment_already_received,
    "a query without comments": _query_without_comments,
    "a check of a return already checked": _check_of_a_checked_return,
    "declining a variation without a reason": _decline_without_a_comment,
    "a reallocation that no longer fits the lines": _reallocation_that_no_longer_fits,
    "submitting an incomplete return": _incomplete_return,
    "asking for a change without a reason": _variation_without_a_reason,
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refused_action_after_the_award_leaves_every_table_as_it_was(app, case):
    client, url, data, form_url = REFUSALS[case](app)
    tokens = client.form_tokens(form_url or url, action=url)
    before = table_row_counts(app)
    response = client.post(url, data={**data, **tokens})
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 302:  # refused as a whole: said at the top of the page
        page = client.get(response.headers["Location"])
        assert page.status_code == 200 and "govuk-notification-banner" in page.get_data(
            as_text=True)
    else:  # refused beside a field
        assert "There is a problem" in text_of(response)
    assert table_row_counts(app) == before


# --- saved again and again: return lines and outcomes, award lines ------------------------------


def test_a_return_saved_again_and_again_keeps_exactly_the_lines_and_outcomes_of_the_last_save(
        app):
    award_id = awarded(app, accepted=True)
    known = facts(app, award_id)
    return_id = known["returns"][0]
    lights, mechanic, parts = known["lines"].values()
    first, second = known["measures"]

    def save(spend: dict[int, int], outcomes: list[tuple[int, int]]) -> None:
        with app.test_request_context():
            awards.save_return(session.get(GrantReturn, return_id), spend,
                               [awards.OutcomeInput(m, achieved, "green", f"{achieved} done")
                                for m, achieved in outcomes], "Case", 0, submit=False,
                               actor=accounts.get_user_by_email(OFFICER))
            session.commit()

    def saved() -> tuple[dict[int, int], dict[int, int]]:
        with app.app_context():
            grant_return = session.get(GrantReturn, return_id)
            return ({line.award_line_id: line.spend_pence for line in grant_return.lines},
                    {o.outcome_measure_id: o.achieved for o in grant_return.outcomes})

    save({lights: 10000, mechanic: 5000}, [(first, 10)])
    assert saved() == ({lights: 10000, mechanic: 5000}, {first: 10})
    save({mechanic: 7000, parts: 2000}, [(second, 20)])  # changed values, another set
    assert saved() == ({mechanic: 7000, parts: 2000}, {second: 20})
    save({lights: 1, mechanic: 2, parts: 3}, [(first, 1), (second, 2)])  # more rows
    assert saved() == ({lights: 1, mechanic: 2, parts: 3}, {first: 1, second: 2})
    save({}, [])  # none at all
    assert saved() == ({}, {})
    assert audited(app, "return.saved", return_id) == 4
    with app.app_context():
        assert session.get(GrantReturn, return_id).status == ReturnStatus.DRAFT


def test_a_return_form_saved_twice_with_changed_values_shows_the_second(app, officer):
    award_id = awarded(app, accepted=True)
    known = facts(app, award_id)
    return_id = known["returns"][0]
    url = f"/awards/{award_id}/returns/{return_id}"
    data = complete_return(app, award_id) | {"save_draft": "y"}
    assert officer.submit(url, data).status_code == 302
    lights = known["lines"]["Bike lights"]
    changed = data | {f"line-{lights}": "", "case_study": "Changed",
                      f"achieved-{known['measures'][0]}": "175"}
    assert officer.submit(url, changed).status_code == 302
    with app.app_context():
        grant_return = session.get(GrantReturn, return_id)
        assert lights not in {line.award_line_id for line in grant_return.lines}
        assert len(grant_return.lines) == 2 and grant_return.case_study == "Changed"
        achieved = {o.outcome_measure_id: o.achieved for o in grant_return.outcomes}
    assert achieved == {known["measures"][0]: 175, known["measures"][1]: 150}
    assert 'value="175"' in officer.get(url).get_data(as_text=True)


def test_award_lines_change_with_variation_after_variation_longer_and_back(app):
    award_id = make_award(app)
    lights, mechanic, parts = line_ids(app, award_id)

    def vary(moves: list[dict[str, Any]]) -> None:
        with app.test_request_context():
            variation = variations.request_variation(
                session.get(Award, award_id), VariationKind.REALLOCATION, "Change",
                accounts.get_user_by_email(OFFICER), moves=moves)
            variations.decide_variation(variation, True, "", accounts.get_user_by_email(MANAGER))
            session.commit()

    def lines() -> list[tuple[int, str, int]]:
        with app.app_context():
            return [(line.position, line.item, line.revised_pence) for line in session.scalars(
                select(AwardLine).where(AwardLine.award_id == award_id)
                .order_by(AwardLine.position))]

    vary([{"from": parts, "to": None, "new_item": "Helmets", "amount": 10000}])
    vary([{"from": lights, "to": None, "new_item": "Locks", "amount": 5000},
          {"from": mechanic, "to": None, "new_item": "Bells", "amount": 1000}])
    vary([{"from": lights, "to": parts, "amount": 5000}])
    assert lines() == [(1, "Bike lights", 190000), (2, "Mechanic", 149000),
                       (3, "Spare parts", 45000), (4, "Helmets", 10000), (5, "Locks", 5000),
                       (6, "Bells", 1000)]
    with app.app_context():
        assert sum(revised for _p, _i, revised in lines()) == \
            session.get(Award, award_id).amount_pence


# --- everyone concerned is told ----------------------------------------------------------------


def _told(smtp, words: str) -> set[str]:
    return {m["To"] for m in smtp.messages if words in m["Subject"]}


def test_accepting_the_offer_tells_the_partnership_the_managers_and_finance(app, officer, smtp):
    award_id = awarded(app)
    smtp.messages.clear()
    response = officer.submit(f"/awards/{award_id}/accept",
                              {"name": "Sam Officer", "role": "CSP manager", "confirm": "y"})
    assert response.status_code == 302
    told = _told(smtp, "accepted")
    assert {OFFICER, MANAGER, FINANCE} <= told
    [to_finance] = [m for m in smtp.messages if m["To"] == FINANCE]
    body = to_finance.get_content()
    assert "Sam Officer, CSP manager" in body and f"/finance/awards/{award_id}" in body


def test_a_submitted_return_reaches_finance_and_the_partnership(app, officer, smtp):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    smtp.messages.clear()  # the bid's, the decision's and the acceptance's
    officer.submit(f"/awards/{award_id}/returns/{return_id}",
                   complete_return(app, award_id) | {"submit": "y"})
    assert {OFFICER, FINANCE} <= _told(smtp, "submitted")
    [to_finance] = [m for m in smtp.messages if m["To"] == FINANCE]
    assert f"/finance/returns/{return_id}" in to_finance.get_content()


def test_a_draft_saved_tells_nobody(app, officer, smtp):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    smtp.messages.clear()
    response = officer.submit(f"/awards/{award_id}/returns/{return_id}",
                              complete_return(app, award_id) | {"save_draft": "y"})
    assert response.status_code == 302
    assert smtp.messages == []


def test_a_checked_return_is_told_to_the_partnership_with_the_comments(app, finance, smtp):
    award_id = make_award(app)
    first, _final = return_ids(app, award_id)
    file_return(app, first, [100000, 0, 0])
    finance.submit(f"/finance/returns/{first}",
                   {"outcome": "query", "comments": "Attach the invoices & receipts"})
    queried = [m for m in smtp.messages if "queried" in m["Subject"]]
    assert OFFICER in {m["To"] for m in queried} and FINANCE not in {m["To"] for m in queried}
    assert "Attach the invoices & receipts" in queried[0].get_content()


def test_a_variation_request_reaches_the_managers_and_its_decision_the_partnership(
        app, officer, manager, smtp):
    award_id = awarded(app, accepted=True)
    lines = facts(app, award_id)["lines"]
    officer.submit(f"/awards/{award_id}/variations/new", {
        "kind": "reallocation", "from_line": str(lines["Bike lights"]),
        "to_line": str(lines["Spare parts"]), "amount": "200", "reason": "Lights & locks"})
    [asked] = [m for m in smtp.messages
               if "Change asked for" in m["Subject"] and m["To"] == MANAGER]
    assert OFFICER not in _told(smtp, "Change asked for")
    with app.app_context():
        variation_id = session.scalar(select(Variation.id).where(Variation.award_id == award_id))
    assert f"/manage/variations/{variation_id}" in asked.get_content()
    assert "Lights & locks" in asked.get_content()
    manager.submit(f"/manage/variations/{variation_id}",
                   {"outcome": "decline", "comment": "Not value for money"})
    [decided] = [m for m in smtp.messages if "declined" in m["Subject"] and m["To"] == OFFICER]
    assert MANAGER not in _told(smtp, "declined")
    assert "Not value for money" in decided.get_content()


def test_closing_the_award_and_receiving_the_repayment_are_told_to_the_partnership(
        app, finance, smtp):
    award_id, repayment_id = closed_with_underspend(app)
    assert OFFICER in _told(smtp, "Underspend to repay: £1,000.00")
    finance.submit(f"/finance/awards/{award_id}/repayments/{repayment_id}", repayment_form(),
                   form_url=f"/finance/awards/{award_id}")
    [received] = [m for m in smtp.messages if "received" in m["Subject"] and m["To"] == OFFICER]
    assert "REMIT-9" in received.get_content()


def test_an_award_closed_with_nothing_to_repay_says_so(app, smtp):
    award_id = make_award(app)
    pay(app, award_id, 400000)
    first, final = return_ids(app, award_id)
    approve_return(app, file_return(app, first, [100000, 100000, 30000]))
    approve_return(app, file_return(app, final, [100000, 50000, 20000]))
    with app.app_context():
        assert session.get(Award, award_id).status == AwardStatus.CLOSED
    [closed] = [m for m in smtp.messages if "closed" in m["Subject"] and m["To"] == OFFICER]
    assert "no underspend to repay" in closed.get_content()


# --- tags from the workflow --------------------------------------------------------------------


def test_award_variation_and_repayment_tags_are_the_workflows_words(app, finance, officer):
    award_id, _repayment = closed_with_underspend(app)
    variation = awarded(app, accepted=True, title="Varied")
    lines = facts(app, variation)["lines"]
    officer.submit(f"/awards/{variation}/variations/new", {
        "kind": "reallocation", "from_line": str(lines["Bike lights"]),
        "to_line": str(lines["Spare parts"]), "amount": "200", "reason": "Cheaper"})
    finance_page = text_of(finance.get(f"/finance/awards/{award_id}"))
    assert "Closed" in finance_page and "Awaited" in finance_page
    assert "Waiting for a decision" in text_of(finance.get(f"/finance/awards/{variation}"))
    offer = awarded(app, title="Offered")
    assert "Offer to accept" in text_of(finance.get(f"/finance/awards/{offer}"))
    assert "Offer to accept" in text_of(finance.get("/finance/awards/"))
    applicant_page = text_of(officer.get(f"/awards/{award_id}"))
    assert "Closed" in applicant_page and "Awaited" in applicant_page


# --- ids in URLs -------------------------------------------------------------------------------


HUGE = 10**20


def test_missing_zero_and_huge_ids_after_the_award_are_not_found(app, finance, manager,
                                                                 officer):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    for ident in (0, 2**31, 2**63, HUGE):
        for client, url in ((finance, f"/finance/awards/{ident}"),
                            (finance, f"/finance/returns/{ident}"),
                            (manager, f"/manage/variations/{ident}"),
                            (officer, f"/awards/{ident}"),
                            (officer, f"/awards/{ident}/accept"),
                            (officer, f"/awards/{ident}/offer-letter"),
                            (officer, f"/awards/{ident}/variations/new"),
                            (officer, f"/awards/{award_id}/returns/{ident}"),
                            (officer, f"/awards/{award_id}/returns/{return_id}/evidence/{ident}")):
            assert client.get(url).status_code == 404, url
        token = finance.csrf_token("/finance/")
        for url in (f"/finance/awards/{ident}/payments",
                    f"/finance/awards/{award_id}/repayments/{ident}",
                    f"/finance/awards/{ident}/repayments/1"):
            assert finance.post(url, data={"csrf_token": token}).status_code == 404, url


def test_a_repayment_is_only_found_under_its_own_award(app, finance):
    award_id, repayment_id = closed_with_underspend(app)
    other = make_award(app, title="Other")
    response = finance.submit(f"/finance/awards/{other}/repayments/{repayment_id}",
                              repayment_form(), form_url=f"/finance/awards/{award_id}")
    assert response.status_code == 404
    with app.app_context():
        assert session.get(Repayment, repayment_id).status == RepaymentStatus.AWAITED


# --- at the same moment: one effect, the others refused with a message ------------------------


def race(app, n: int, prepare: Callable[[int], tuple], act: Callable[..., Any]) -> list[str]:
    """``n`` threads: each reads what its page would have shown (``prepare``, in a read-only
    transaction that ends before the race), then all ``act`` at once. Returns each one's
    outcome: "done", "refused" (a DomainError) or the error it met."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        with app.test_request_context():
            token = write_intent.set(False)
            args = prepare(i)
            session.commit()
            write_intent.reset(token)
            barrier.wait(timeout=60)
            try:
                act(*args)
                session.commit()
                result = "done"
            except DomainError:
                session.rollback()
                result = "refused"
            except Exception as exc:  # noqa: BLE001 - any other error is the bug looked for
                session.rollback()
                result = f"error: {type(exc).__name__}: {exc}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == n, outcomes
    return sorted(outcomes)


@pytest.fixture
def real_app(committed_app):
    return committed_app("award_race")


def _user(email: str):  # type: ignore[no-untyped-def]
    user = accounts.get_user_by_email(email)
    _ = user.roles, user.organisation
    return user


def test_identical_payments_posted_at_once_make_one_payment_paid_once_and_one_audit_event(
        real_app):
    app = real_app
    award_id = make_award(app)

    def prepare(_i: int) -> tuple:
        award = session.get(Award, award_id)
        _ = award.decision, award.round.fund, award.returns, award.lines
        return award, _user(FINANCE)

    def act(award, finance) -> None:
        awards.record_payment(award, 200000, uk_today(), BACS, finance)

    assert race(app, 6, prepare, act) == ["done"] + ["refused"] * 5
    assert payments_of(app, award_id) == (200000, 200000)
    assert count(app, Payment, Payment.award_id == award_id) == 1
    assert audited(app, "award.payment_recorded", award_id) == 1


def test_every_action_after_the_award_taken_at_once_has_one_effect(real_app):
    app = real_app
    n = 5
    # Accepting the offer.
    offered = awarded(app)
    assert race(app, n, lambda _i: (session.get(Award, offered), _user(OFFICER)),
                lambda award, officer: awards.accept(award, "Sam", "Officer", True, officer)
                ) == ["done"] + ["refused"] * (n - 1)
    assert audited(app, "award.accepted", offered) == 1

    # Deciding a variation: the money moves once.
    award_id = make_award(app)
    variation_id = ask_to_move(app, award_id, 2, 1, 20000)

    def variation(_i: int) -> tuple:
        found = session.get(Variation, variation_id)
        _ = found.award.lines, found.award.returns
        return found, _user(MANAGER)

    assert race(app, n, variation,
                lambda found, manager: variations.decide_variation(found, True, "", manager)
                ) == ["done"] + ["refused"] * (n - 1)
    assert revised_of(app, award_id) == [200000, 170000, 30000]
    assert audited(app, "variation.approved", award_id) == 1

    # Saving the same draft at once: every save lands, one after the other, no error.
    first, final = return_ids(app, award_id)
    file_return(app, final, [1, 1, 1], submit=False)

    def draft(i: int) -> tuple:
        grant_return = session.get(GrantReturn, final)
        _ = grant_return.lines, grant_return.outcomes, grant_return.award.lines
        _ = grant_return.award.bid.outcomes
        spend = {line.id: 100 * (i + 1) for line in grant_return.award.lines[: 1 + i % 3]}
        return grant_return, spend, _user(OFFICER)

    assert race(app, n, draft, lambda grant_return, spend, officer: awards.save_return(
        grant_return, spend, [], "", 0, submit=False, actor=officer)) == ["done"] * n
    with app.app_context():
        saved = session.get(GrantReturn, final)
        assert saved.status == ReturnStatus.DRAFT
        assert len({line.award_line_id for line in saved.lines}) == len(saved.lines) >= 1

    # Submitting the same return at once.
    def submission(_i: int) -> tuple:
        grant_return = session.get(GrantReturn, first)
        award = grant_return.award
        _ = grant_return.lines, grant_return.outcomes, grant_return.reviews, award.lines
        outcomes = [awards.OutcomeInput(m.id, 5, "green", "Done") for m in award.bid.outcomes]
        return grant_return, {award.lines[0].id: 100000}, outcomes, _user(OFFICER)

    assert race(app, n, submission, lambda grant_return, spend, outcomes, officer:
                awards.save_return(grant_return, spend, outcomes, "Case", 0, submit=True,
                                   actor=officer)) == ["done"] + ["refused"] * (n - 1)
    assert audited(app, "return.submitted", first) == 1

    # Checking it at once.
    def check(_i: int) -> tuple:
        grant_return = session.get(GrantReturn, first)
        _ = grant_return.reviews, grant_return.award.returns
        return grant_return, _user(FINANCE)

    assert race(app, n, check, lambda grant_return, finance: awards.review_return(
        grant_return, True, "", finance)) == ["done"] + ["refused"] * (n - 1)
    assert count(app, ReturnReview, ReturnReview.return_id == first) == 1

    # Recording the repayment of underspend at once.
    closed, repayment_id = closed_with_underspend(app)

    def repayment(_i: int) -> tuple:
        found = session.get(Repayment, repayment_id)
        _ = found.award.bid
        return found, _user(FINANCE)

    assert race(app, n, repayment, lambda found, finance: awards.record_repayment(
        found, uk_today(), "REMIT-RACE", finance)) == ["done"] + ["refused"] * (n - 1)
    assert audited(app, "award.repayment_received", closed) == 1


def test_the_last_payment_and_the_final_check_at_once_close_the_award_once(real_app):
    """The award closes when the final return is approved and the balance is paid: whichever
    of the two comes second closes it, even when they arrive together (each reads what the
    other committed before deciding)."""
    app = real_app
    award_id = make_award(app)
    first, final = return_ids(app, award_id)
    approve_return(app, file_return(app, first, [100000, 50000, 0]))
    pay(app, award_id, 300000)
    file_return(app, final, [100000, 100000, 50000])  # eligible spend: the whole £4,000

    def prepare(i: int) -> tuple:
        award = session.get(Award, award_id)
        _ = award.decision, award.round.fund, award.lines, award.repayments
        for grant_return in award.returns:
            _ = grant_return.lines, grant_return.reviews
        return i, award, session.get(GrantReturn, final), _user(FINANCE)

    def act(i, award, grant_return, finance) -> None:
        if i == 0:
            awards.review_return(grant_return, True, "", finance)
        else:
            awards.record_payment(award, 100000, uk_today(), "BACS-BALANCE", finance)

    assert race(app, 2, prepare, act) == ["done", "done"]
    with app.app_context():
        award = session.get(Award, award_id)
        assert (award.paid_pence, award.status) == (400000, AwardStatus.CLOSED)
        assert award.repayments == []
    assert audited(app, "award.closed", award_id) == 1


def test_a_draft_saved_from_an_older_page_is_refused_and_keeps_what_was_typed(app, officer):
    """Two officers open the same return; the second to save sees the first's save and
    keeps their own figures on the page instead of writing over it."""
    award_id = awarded(app, accepted=True)
    known = facts(app, award_id)
    return_id = known["returns"][0]
    lights = known["lines"]["Bike lights"]
    url = f"/awards/{award_id}/returns/{return_id}"
    data = complete_return(app, award_id) | {"save_draft": "y"}
    older = officer.form_tokens(url)
    newer = officer.form_tokens(url)
    assert officer.post(url, data={**data, **newer, f"line-{lights}": "150"}).status_code == 302
    before = table_row_counts(app)
    stale = officer.post(url, data={**data, **older, f"line-{lights}": "260"})
    assert stale.status_code == 200
    assert "Someone else saved this return" in text_of(stale)
    assert 'value="260' in stale.get_data(as_text=True)
    assert table_row_counts(app) == before
    with app.app_context():
        saved = session.get(GrantReturn, return_id)
        assert {line.award_line_id: line.spend_pence for line in saved.lines}[lights] == 15000
