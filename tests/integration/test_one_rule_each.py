"""One place for each rule, and every user of it sees the same answer: whether a return may
still be changed (the return page, the save, the file upload), the checks on an uploaded file
(a bid's evidence and a return's), what "overdue" means (the Python rule, its SQL, the
dashboard, the export, the reminders and the award page), and how the applicant pages show a
service's refusal."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal import storage
from portal.db import session, uk_today, utcnow
from portal.models import (
    Award,
    AwardStatus,
    Bid,
    Fund,
    GrantReturn,
    ReturnCadence,
    ReturnStatus,
    Round,
)
from portal.services import DomainError, accounts, awards, bids, evidence, reminders, reporting
from portal.services import return_evidence as return_files
from tests import bidding
from tests.helpers import text_of
from tests.integration.test_awards_applicant import (
    EXE,
    OFFICER,
    PDF,
    award_url,
    awarded,
    complete_return,
    error_links,
    facts,
    return_url,
    table_rows,
)


@pytest.fixture
def officer(client):
    client.sign_in(OFFICER)
    return client


def refusal(action: Callable[[], object]) -> DomainError | None:
    """The DomainError ``action`` raised, or None if it went through."""
    try:
        action()
    except DomainError as refused:
        return refused
    return None


# --- whether a return may still be changed ----------------------------------------------------


def _set_states(app, award_id: int, return_id: int, award_status: AwardStatus,
                return_status: ReturnStatus) -> bool:
    """Put the award and return in these states; what ``awards.return_editable`` says."""
    with app.app_context():
        award = session.get(Award, award_id)
        grant_return = session.get(GrantReturn, return_id)
        award.status = award_status
        grant_return.status = return_status
        sent = return_status in {ReturnStatus.SUBMITTED, ReturnStatus.QUERIED,
                                 ReturnStatus.APPROVED}
        grant_return.submitted_at = utcnow() if sent else None
        grant_return.approved_at = utcnow() if return_status == ReturnStatus.APPROVED else None
        session.commit()
        return awards.return_editable(grant_return)


def _service_saves(app, return_id: int) -> bool:
    """Whether the service takes a draft save (undone straight after)."""
    with app.test_request_context():
        grant_return = session.get(GrantReturn, return_id)
        actor = accounts.get_user_by_email(OFFICER)
        try:
            refused = refusal(lambda: awards.save_return(grant_return, {}, [], "", 0,
                                                         submit=False, actor=actor))
        finally:
            session.rollback()
        return refused is None


def _service_takes_a_file(app, return_id: int) -> bool:
    """Whether the service attaches a good file (undone straight after)."""
    with app.test_request_context():
        grant_return = session.get(GrantReturn, return_id)
        actor = accounts.get_user_by_email(OFFICER)
        added = []
        refused = refusal(lambda: added.append(return_files.add_return_evidence(
            grant_return, "invoice.pdf", io.BytesIO(PDF), actor)))
        session.rollback()  # the stored file goes with its row (portal.storage)
        return refused is None


def test_the_return_page_the_save_and_the_upload_all_follow_return_editable(app, officer):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    seen = {}
    for award_status in AwardStatus:
        for return_status in ReturnStatus:
            editable = _set_states(app, award_id, return_id, award_status, return_status)
            page = officer.get(return_url(award_id, return_id))
            assert page.status_code == 200
            shows_form = 'name="save_draft"' in page.get_data(as_text=True)
            users = (shows_form, _service_saves(app, return_id),
                     _service_takes_a_file(app, return_id))
            assert users == (editable, editable, editable), (award_status, return_status)
            seen[award_status, return_status] = editable
    # The rule itself: only an active award's open returns (due, draft or queried).
    assert {key for key, editable in seen.items() if editable} == {
        (AwardStatus.ACTIVE, ReturnStatus.DUE), (AwardStatus.ACTIVE, ReturnStatus.DRAFT),
        (AwardStatus.ACTIVE, ReturnStatus.QUERIED)}


def test_a_return_that_cannot_be_changed_says_why_on_the_page_and_from_the_service(app,
                                                                                   officer):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    for award_status, return_status, reason in [
            (AwardStatus.CLOSED, ReturnStatus.DUE,
             "This award is closed: no more returns can be filed."),
            (AwardStatus.OFFERED, ReturnStatus.DUE, "Accept the offer before filing returns."),
            (AwardStatus.ACTIVE, ReturnStatus.SUBMITTED,
             "This return has been submitted and cannot be changed now.")]:
        _set_states(app, award_id, return_id, award_status, return_status)
        with app.app_context():
            refused = refusal(lambda: awards.require_return_editable(
                session.get(GrantReturn, return_id)))
            assert refused is not None and refused.message == reason and refused.field is None
        data = complete_return(app, award_id) | {"save_draft": "y"}
        response = officer.submit(return_url(award_id, return_id), data,
                                  form_url=award_url(award_id))
        assert response.status_code == 302
        assert reason in text_of(officer.get(response.headers["Location"]))


# --- the checks on an uploaded file -----------------------------------------------------------


UPLOADS = [
    ("empty.pdf", b""),
    ("big.pdf", PDF + b"%" * 2048),
    ("invoice.pdf", EXE),  # a program named as a PDF
    ("notes.txt", b"just some words"),
    ("photo.png", PDF),  # a PDF named as a picture
]


def _draft_bid_and_open_return(app) -> tuple[int, int]:
    award_id = awarded(app, accepted=True)
    with app.test_request_context():
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        bid = bids.start_bid(round_, accounts.get_user_by_email(OFFICER),
                             bids.new_creation_token())
        session.commit()
        bid_id = bid.id
    return bid_id, facts(app, award_id)["returns"][0]


@pytest.mark.parametrize("name, content", UPLOADS, ids=[name for name, _ in UPLOADS])
def test_a_bid_and_a_return_refuse_a_bad_file_with_the_one_check(app, monkeypatch, name,
                                                                  content):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 1024)
    bid_id, return_id = _draft_bid_and_open_return(app)
    with app.test_request_context():
        actor = accounts.get_user_by_email(OFFICER)
        expected = refusal(lambda: evidence.check_upload(
            name, io.BytesIO(content), attached=0, most=10, too_many="", field="here"))
        assert expected is not None and expected.field == "here"
        for_bid = refusal(lambda: evidence.add(session.get(Bid, bid_id), name,
                                               io.BytesIO(content), "", actor))
        for_return = refusal(lambda: return_files.add_return_evidence(
            session.get(GrantReturn, return_id), name, io.BytesIO(content), actor))
        assert for_bid is not None and for_return is not None
        assert (for_bid.message, for_bid.field) == (expected.message, "file")
        assert (for_return.message, for_return.field) == (expected.message, "evidence")
        assert session.get(Bid, bid_id).evidence == []
        assert session.get(GrantReturn, return_id).evidence == []


def test_the_pages_show_the_checks_refusal_beside_their_file_field(app, officer):
    bid_id, return_id = _draft_bid_and_open_return(app)
    with app.test_request_context():
        award_id = session.get(GrantReturn, return_id).award_id
        expected = refusal(lambda: evidence.check_upload(
            "invoice.pdf", io.BytesIO(EXE), attached=0, most=10, too_many="", field="file"))
    assert expected is not None
    bid_page = officer.submit(f"/bids/{bid_id}/evidence",
                              {"file": (io.BytesIO(EXE), "invoice.pdf"), "description": "Quote"},
                              content_type="multipart/form-data")
    assert error_links(bid_page) == {"file": expected.message}
    return_page = officer.submit(return_url(award_id, return_id),
                                 {"evidence": (io.BytesIO(EXE), "invoice.pdf"),
                                  "save_draft": "y"}, content_type="multipart/form-data")
    assert error_links(return_page) == {"evidence": expected.message}


def test_the_count_limit_is_the_checks_for_a_bid_and_for_a_return(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOADS_PER_BID", 1)
    monkeypatch.setitem(app.config, "MAX_UPLOADS_PER_RETURN", None)  # falls back to the bid's
    bid_id, return_id = _draft_bid_and_open_return(app)
    with app.test_request_context():
        actor = accounts.get_user_by_email(OFFICER)
        bid, grant_return = session.get(Bid, bid_id), session.get(GrantReturn, return_id)
        first_bid = evidence.add(bid, "a.pdf", io.BytesIO(PDF), "", actor)
        first_return = return_files.add_return_evidence(grant_return, "a.pdf",
                                                        io.BytesIO(PDF), actor)
        store = storage.current_store()
        assert b"".join(store.chunks(first_bid.stored_name)) == PDF
        assert b"".join(store.chunks(first_return.stored_name)) == PDF
        for_bid = refusal(lambda: evidence.add(bid, "b.pdf", io.BytesIO(PDF), "", actor))
        for_return = refusal(lambda: return_files.add_return_evidence(
            grant_return, "b.pdf", io.BytesIO(PDF), actor))
        assert for_bid is not None and for_return is not None
        assert (for_bid.message, for_bid.field) == (
            "A bid can have up to 1 files. Remove one to add another.", "file")
        assert (for_return.message, for_return.field) == (
            "A return can have up to 1 files.", "evidence")
        session.rollback()  # the stored files go with their rows (portal.storage)


# --- overdue ----------------------------------------------------------------------------------


STATES = [(status, days) for days in (-1, 0, 1) for status in ReturnStatus]  # due date - today


def _everyone_agrees_on_overdue(app, officer, award_ids: list[int]) -> int:
    """Compare every user of the overdue rule with the Python rule on the returns as they
    are; how many are overdue."""
    today = uk_today()
    with app.app_context():
        active = list(session.scalars(
            select(GrantReturn).join(Award).where(Award.status == AwardStatus.ACTIVE)))
        python = {r.id for r in active if r.is_overdue(today)}
        # The SQL form of the same rule.
        in_sql = set(session.scalars(
            select(GrantReturn.id).join(Award)
            .where(Award.status == AwardStatus.ACTIVE, GrantReturn.is_overdue(today))))
        assert in_sql == python
        # What the pages show: the state of each return.
        assert {r.id for r in active if awards.return_state(r, today) == "overdue"} == python
        # The dashboard: the returns overdue on active awards in each year.
        for year in {r.award.round.financial_year for r in active}:
            board = reporting.dashboard(reporting.Filters(year=year), on=today)
            in_year = [r for r in active if r.award.round.financial_year == year]
            assert board.total.returns_overdue == len(
                [r for r in in_year if r.is_overdue(today)])
            assert board.total.returns_due == len(
                [r for r in in_year if r.status in {ReturnStatus.DUE, ReturnStatus.DRAFT}
                 and not r.is_overdue(today)])
        # The export's state column.
        for row in reporting.export_rows("returns", reporting.Filters(year=None)):
            facts_of_row = SimpleNamespace(status=row["status"], due_date=row["due_date"])
            assert row["state"] == awards.return_state(facts_of_row, today)
        # The reminders: an overdue one exactly for the overdue returns.
        kinds = dict(reminders._candidates(today, 0))
        assert {i for i, kind in kinds.items() if kind == reminders.OVERDUE} == python
        assert {i for i, kind in kinds.items() if kind == reminders.DUE_SOON} == {
            r.id for r in active if r.due_date == today
            and r.status in {ReturnStatus.DUE, ReturnStatus.DRAFT, ReturnStatus.QUERIED}}
        per_award = {award_id: len([r for r in active if r.award_id == award_id
                                    and r.id in python]) for award_id in award_ids}
    # The award page's tags.
    for award_id, overdue in per_award.items():
        states = [row[3] for row in table_rows(officer.get(award_url(award_id)), "Returns")]
        assert states.count("Overdue") == overdue
    return len(python)


def test_overdue_is_one_rule_for_the_pages_the_dashboard_the_export_and_the_reminders(
        app, officer):
    award_ids = [awarded(app, accepted=True, cadence=ReturnCadence.QUARTERLY, title=title)
                 for title in ("First", "Second", "Third", "Fourth")]
    with app.app_context():
        returns = list(session.scalars(select(GrantReturn).where(
            GrantReturn.award_id.in_(award_ids)).order_by(GrantReturn.id)))
        assert len(returns) >= len(STATES)
        today = uk_today()
        for grant_return, (status, days) in zip(returns, STATES, strict=False):
            grant_return.status = status
            grant_return.due_date = today + timedelta(days=days)
            grant_return.submitted_at = None if status == ReturnStatus.DUE else utcnow()
        for spare in returns[len(STATES):]:  # out of the way: approved, due next year
            spare.status = ReturnStatus.APPROVED
            spare.due_date = today + timedelta(days=365)
        session.commit()
        expected = {r.id for r in returns if r.due_date == today - timedelta(days=1)
                    and r.status in {ReturnStatus.DUE, ReturnStatus.DRAFT}}
    assert len(expected) == 2  # due yesterday, not sent: overdue (due today is not)
    assert _everyone_agrees_on_overdue(app, officer, award_ids) >= len(expected)


def test_a_queried_return_past_its_date_is_queried_not_overdue(app, officer):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    with app.app_context():
        grant_return = session.get(GrantReturn, return_id)
        grant_return.status = ReturnStatus.QUERIED
        grant_return.submitted_at = utcnow()
        grant_return.due_date = uk_today() - timedelta(days=10)
        session.commit()
        assert not grant_return.is_overdue(uk_today())
        assert awards.return_state(grant_return) == "queried"
        assert return_id not in dict(reminders._candidates(uk_today(), 14))
    _everyone_agrees_on_overdue(app, officer, [award_id])


# --- the applicant pages show a refusal with the shared helper ---------------------------------


def test_a_budget_over_the_rounds_cap_is_shown_beside_the_first_amount(app, officer):
    bid_id = bidding.start(officer, app)
    with app.app_context():
        year = session.get(Bid, bid_id).round.financial_year
    over = dict(bidding.BUDGET, **{"rows-0-amount": "6,000"})
    response = bidding.save(officer, bid_id, "budget", over, year)
    assert response.status_code == 200
    errors = error_links(response)
    assert list(errors) == ["rows-0-amount"]
    assert errors["rows-0-amount"].startswith("The total of the budget lines (£8,500.00)")


def test_a_section_refusal_naming_no_field_is_shown_beside_completed(app, officer):
    bid_id = bidding.start(officer, app)
    with app.app_context():
        year = session.get(Bid, bid_id).round.financial_year
    response = bidding.save(officer, bid_id, "delivery", bidding.DELIVERY, year, version="7")
    assert response.status_code == 200
    assert list(error_links(response).values()) == [
        "The form you used has expired. Open the section again."]
    assert "completed" in next(iter(error_links(response)))


def test_spend_against_a_line_not_the_awards_is_shown_beside_the_first_line(app, officer):
    award_id = awarded(app, accepted=True)
    other_award = awarded(app, officer_email="officer.fenland@example.org")
    foreign_line = next(iter(facts(app, other_award)["lines"].values()))
    first_line = next(iter(facts(app, award_id)["lines"].values()))
    return_id = facts(app, award_id)["returns"][0]
    data = complete_return(app, award_id) | {f"line-{foreign_line}": "100", "save_draft": "y"}
    response = officer.submit(return_url(award_id, return_id), data)
    assert response.status_code == 200
    assert error_links(response) == {
        f"line-{first_line}": "Spend can only be reported against approved budget lines."}


def test_a_round_not_open_to_the_partnership_is_not_found_and_not_listed(app, officer):
    with app.app_context():
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        round_.eligible_organisation_types = ["opcc"]
        session.commit()
        round_id = round_.id
    assert officer.get(f"/rounds/{round_id}").status_code == 404
    assert f"/rounds/{round_id}" not in officer.get("/rounds/").get_data(as_text=True)
