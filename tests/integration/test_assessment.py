"""Assessors score bids fairly; the grants manager moderates, ranks and decides within budget."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from portal.db import session
from portal.models import (
    AssessmentStatus,
    Assignment,
    AuditEvent,
    Bid,
    BidStatus,
    Decision,
    Round,
)
from portal.services import accounts, assessment
from tests import bidding
from tests.helpers import signed_in, table_row_counts, text_of

MANAGER = "manager@example.org"
A1, A2 = "assessor1@example.org", "assessor2@example.org"


def user_id(app, email):
    with app.app_context():
        return accounts.get_user_by_email(email).id


def assign(client, bid_id, email, app):
    return client.submit(f"/manage/bids/{bid_id}", {"assessor": str(user_id(app, email))})


@pytest.mark.parametrize("chosen", ["²", "99999999999", "0", "abc", ""])
def test_an_assessor_id_that_is_no_id_is_refused_beside_the_list(app, client, chosen):
    bid_id = bidding.submitted_bid(app)
    client.sign_in(MANAGER)
    counts = table_row_counts(app)
    response = client.submit(f"/manage/bids/{bid_id}", {"assessor": chosen})
    assert response.status_code == 200
    assert "Choose an assessor" in text_of(response)
    assert table_row_counts(app) == counts


def assignment_id(app, bid_id, email):
    with app.app_context():
        return session.scalar(select(Assignment.id).where(
            Assignment.bid_id == bid_id, Assignment.assessor_id == user_id(app, email)))


def criteria_of(app, bid_id):
    with app.app_context():
        return [(c.id, c.weight) for c in session.get(Bid, bid_id).round.criteria]


def scores_form(app, bid_id, scores, *, recommendation="fund", submit=True):
    data = {}
    for (criterion_id, _weight), score in zip(criteria_of(app, bid_id), scores):
        data[f"score-{criterion_id}"] = "" if score is None else str(score)
        data[f"justification-{criterion_id}"] = f"Because {score}"
    data["recommendation"] = recommendation
    data["comments"] = "Sound bid"
    data["submit" if submit else "save_draft"] = "x"
    return data


@pytest.fixture
def manager(app):
    client = app.test_client()
    client.sign_in(MANAGER)
    return client


def ready_assessor(app, manager, bid_id, email):
    """Assign, sign in and declare no conflict; returns (client, assignment id)."""
    assign(manager, bid_id, email, app)
    client = signed_in(app, email)
    number = assignment_id(app, bid_id, email)
    client.submit(f"/assess/{number}/declaration", {"conflict": "no"})
    return client, number


def load(app, bid_id):
    with app.app_context():
        return session.get(Bid, bid_id)


# --- assignment -------------------------------------------------------------------------------


def test_assigning_an_assessor_emails_them_and_moves_the_bid_into_assessment(app, manager, smtp):
    bid_id = bidding.submitted_bid(app)
    response = assign(manager, bid_id, A1, app)
    assert response.status_code == 302
    assert load(app, bid_id).status == BidStatus.IN_ASSESSMENT
    [message] = smtp.to(A1)
    assert "to assess" in message["Subject"]


def test_bulk_assignment_assigns_every_selected_bid(app, manager, smtp):
    ids = [bidding.submitted_bid(app, title=f"Bid {i}") for i in range(3)]
    round_id = load(app, ids[0]).round_id
    response = manager.submit(f"/manage/rounds/{round_id}",
                              {"bids": [str(i) for i in ids[:2]], "assessor": str(user_id(app, A2))})
    assert response.status_code == 302
    assert [assignment_id(app, i, A2) is not None for i in ids] == [True, True, False]
    assert len(smtp.to(A2)) == 2
    page = text_of(manager.get(f"/manage/rounds/{round_id}"))
    assert "0 of 1 submitted" in page


def test_assigning_the_same_assessor_twice_is_refused(app, manager):
    bid_id = bidding.submitted_bid(app)
    assign(manager, bid_id, A1, app)
    response = assign(manager, bid_id, A1, app)
    assert "is already assigned" in text_of(response)


def test_users_of_the_applicant_partnership_can_never_assess_its_bids(app):
    bid_id = bidding.submitted_bid(app)
    with app.test_request_context():
        bid = session.get(Bid, bid_id)
        officer = accounts.get_user_by_email(bidding.OFFICER)
        # Even given the assessor role by a mistake elsewhere, the rule holds.
        from portal.models import Role, UserRole

        officer.role_rows.append(UserRole(role=Role.ASSESSOR))
        with pytest.raises(assessment.DomainError, match="works for the partnership"):
            assessment.assign(bid, officer, accounts.get_user_by_email(MANAGER))


def test_an_assessor_cannot_open_a_bid_not_assigned_to_them(app, manager):
    bid_id = bidding.submitted_bid(app)
    assign(manager, bid_id, A1, app)
    other = signed_in(app, A2)
    number = assignment_id(app, bid_id, A1)
    assert other.get(f"/assess/{number}").status_code == 404
    assert other.get(f"/assess/{number}/declaration").status_code == 404


# --- conflicts of interest --------------------------------------------------------------------


def test_an_assessor_declares_conflicts_before_seeing_the_bid(app, manager):
    bid_id = bidding.submitted_bid(app)
    assign(manager, bid_id, A1, app)
    client = signed_in(app, A1)
    number = assignment_id(app, bid_id, A1)
    first = client.get(f"/assess/{number}")
    assert first.headers["Location"] == f"/assess/{number}/declaration"
    declaration = text_of(client.get(f"/assess/{number}/declaration"))
    assert "Declare any conflict of interest" in declaration
    assert bidding.ABOUT["summary"] not in declaration  # no content before the declaration


def test_a_declared_conflict_recuses_the_assessor_and_tells_the_manager(app, manager, smtp):
    bid_id = bidding.submitted_bid(app)
    assign(manager, bid_id, A1, app)
    client = signed_in(app, A1)
    number = assignment_id(app, bid_id, A1)
    missing = client.submit(f"/assess/{number}/declaration", {"conflict": "yes", "reason": ""})
    assert "Describe the conflict of interest" in text_of(missing)
    client.submit(f"/assess/{number}/declaration",
                  {"conflict": "yes", "reason": "My partner chairs the partnership"})
    assert client.get(f"/assess/{number}").status_code == 404
    assert any("conflict of interest" in m["Subject"] for m in smtp.to(MANAGER))
    assert "Conflict: reassign" in text_of(manager.get(f"/manage/bids/{bid_id}"))


# --- scoring ----------------------------------------------------------------------------------


def test_scores_save_as_a_draft_then_submit_with_the_weighted_percentage(app, manager):
    bid_id = bidding.submitted_bid(app)
    client, number = ready_assessor(app, manager, bid_id, A1)
    draft = client.submit(f"/assess/{number}", scores_form(app, bid_id, [4, None, None, None],
                                                            submit=False))
    assert draft.status_code == 302
    done = client.submit(f"/assess/{number}", scores_form(app, bid_id, [4, 3, 5, 2]))
    assert done.status_code == 302
    with app.app_context():
        saved = session.get(Assignment, number)
        # SCF weights 30, 25, 25, 20 on a 0-5 scale: (4*30 + 3*25 + 5*25 + 2*20) / 5 = 72%.
        assert saved.weighted_basis_points == 7200
        assert saved.status.value == "submitted"
    assert "72.0%" in text_of(client.get(f"/assess/{number}"))


@pytest.mark.parametrize("score", ["6", "-1", "three"])
def test_scores_outside_the_scale_are_refused(app, manager, score):
    bid_id = bidding.submitted_bid(app)
    client, number = ready_assessor(app, manager, bid_id, A1)
    data = scores_form(app, bid_id, [4, 3, 5, 2])
    first = criteria_of(app, bid_id)[0][0]
    data[f"score-{first}"] = score
    response = client.submit(f"/assess/{number}", data)
    assert "Score must be between 0 and 5" in text_of(response)
    with app.app_context():
        assert session.get(Assignment, number).scores == []


def test_every_score_needs_a_justification(app, manager):
    bid_id = bidding.submitted_bid(app)
    client, number = ready_assessor(app, manager, bid_id, A1)
    data = scores_form(app, bid_id, [4, 3, 5, 2])
    first = criteria_of(app, bid_id)[0][0]
    data[f"justification-{first}"] = " "
    response = client.submit(f"/assess/{number}", data)
    assert "Give a justification for the score" in text_of(response)


def test_submitting_needs_every_score_and_a_recommendation(app, manager):
    bid_id = bidding.submitted_bid(app)
    client, number = ready_assessor(app, manager, bid_id, A1)
    response = client.submit(f"/assess/{number}", scores_form(app, bid_id, [4, None, 5, 2],
                                                               recommendation=""))
    page = text_of(response)
    assert "Select a recommendation" in page and "Score “A swift, visible response”" in page


def test_an_assessor_sees_others_scores_only_after_submitting_their_own(app, manager):
    bid_id = bidding.submitted_bid(app)
    first, one = ready_assessor(app, manager, bid_id, A1)
    second, two = ready_assessor(app, manager, bid_id, A2)
    first.submit(f"/assess/{one}", scores_form(app, bid_id, [5, 5, 5, 5]))
    before = text_of(second.get(f"/assess/{two}"))
    assert "Alex Assessor" not in before and "Other assessors' scores" not in before
    second.submit(f"/assess/{two}", scores_form(app, bid_id, [1, 2, 3, 4]))
    after = text_of(second.get(f"/assess/{two}"))
    assert "Other assessors' scores" in after and "Alex Assessor" in after


def test_a_submitted_assessment_is_refused_a_new_save_until_it_is_reopened(app, manager):
    bid_id = bidding.submitted_bid(app)
    client, number = ready_assessor(app, manager, bid_id, A1)
    old_tab = client.form_tokens(f"/assess/{number}")  # opened before the submission
    client.submit(f"/assess/{number}", scores_form(app, bid_id, [2, 2, 2, 2]))
    page = text_of(client.get(f"/assess/{number}"))
    assert "Reopen assessment" in page and "Save as draft" not in page
    before = table_row_counts(app)
    refused = client.post(f"/assess/{number}", data={
        **scores_form(app, bid_id, [4, 4, 4, 4]), **old_tab})
    assert "To change it, reopen it first" in text_of(refused)
    assert table_row_counts(app) == before
    with app.app_context():
        assert session.get(Assignment, number).weighted_basis_points == 4000


def test_a_reopened_assessment_keeps_its_earlier_scores_in_the_history(app, manager):
    bid_id = bidding.submitted_bid(app)
    client, number = ready_assessor(app, manager, bid_id, A1)
    client.submit(f"/assess/{number}", scores_form(app, bid_id, [2, 2, 2, 2]))
    assert client.submit(f"/assess/{number}/reopen", {}, form_url=f"/assess/{number}"
                         ).status_code == 302
    client.submit(f"/assess/{number}", scores_form(app, bid_id, [4, 4, 4, 4]))
    with app.app_context():
        reopened = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "assessment.reopened")).one()
        assert {v["score"] for v in reopened.before["scores"].values()} == {2}
        submitted = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "assessment.submitted").order_by(AuditEvent.id)).all()
        assert [{v["score"] for v in e.after["scores"].values()} for e in submitted] == [
            {2}, {4}]
        assert session.get(Assignment, number).weighted_basis_points == 8000


# --- moderation, questions, ranking -----------------------------------------------------------


def test_moderation_flags_criteria_where_assessors_differ_by_two_or_more(app, manager):
    bid_id = bidding.submitted_bid(app)
    first, one = ready_assessor(app, manager, bid_id, A1)
    second, two = ready_assessor(app, manager, bid_id, A2)
    first.submit(f"/assess/{one}", scores_form(app, bid_id, [5, 3, 4, 2]))
    second.submit(f"/assess/{two}", scores_form(app, bid_id, [2, 3, 3, 4]))
    page = text_of(manager.get(f"/manage/bids/{bid_id}/moderate"))
    assert page.count("Differ by 2 or more") == 2  # criteria 1 (5 v 2) and 4 (2 v 4)
    criteria = criteria_of(app, bid_id)
    missing = manager.submit(f"/manage/bids/{bid_id}/moderate",
                             {f"score-{c}": "3" for c, _ in criteria} | {"rationale": ""})
    assert "Explain the moderated scores" in text_of(missing)
    saved = manager.submit(f"/manage/bids/{bid_id}/moderate",
                           {f"score-{c}": "4" for c, _ in criteria} | {"rationale": "Agreed"})
    assert saved.status_code == 302
    assert "80.0%" in text_of(manager.get(f"/manage/bids/{bid_id}"))


def test_the_manager_can_ask_a_question_and_the_status_shows_it(app, manager, smtp):
    bid_id = bidding.submitted_bid(app)
    response = manager.submit(f"/manage/bids/{bid_id}/ask",
                              {"question": "Which schools take part?",
                               "respond_by": ["14", "1", "2027"]})
    assert response.status_code == 302
    assert load(app, bid_id).status == BidStatus.MORE_INFORMATION_REQUESTED
    page = text_of(manager.get(f"/manage/bids/{bid_id}"))
    assert "More information requested" in page and "Answer by 14 January 2027" in page
    assert any("Which schools" in m.get_content() for m in smtp.to(bidding.OFFICER))


def test_ranking_orders_by_moderated_score_with_a_running_total_and_exports_csv(app, manager):
    low = bidding.submitted_bid(app, title="Low", amount_pence=400000)
    high = bidding.submitted_bid(app, title="High", amount_pence=300000)
    with app.test_request_context():
        actor = accounts.get_user_by_email(MANAGER)
        for bid_id, points in ((low, 1), (high, 5)):
            bid = session.get(Bid, bid_id)
            assessment.moderate(bid, {c.id: points for c in bid.round.criteria}, "ok", actor)
        session.commit()
    round_id = load(app, low).round_id
    page = text_of(manager.get(f"/manage/rounds/{round_id}/ranking"))
    assert page.index("High") < page.index("Low")
    assert "£7,000.00" in page  # running total after both
    export = manager.get(f"/manage/rounds/{round_id}/ranking.csv")
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [r["title"] for r in rows] == ["High", "Low"]
    assert [r["cumulative_gbp"] for r in rows] == ["3000.00", "7000.00"]
    assert export.headers["Content-Disposition"].startswith("attachment")
    assert export.headers["Cache-Control"] == "no-store"  # private: no shared cache keeps it


def test_a_title_that_is_a_formula_stays_text_in_the_ranking_csv(app, manager):
    """A spreadsheet runs a cell starting with = + - @ as a formula; the export keeps it text
    as the other exports do (issue 13, point 6)."""
    bid_id = bidding.submitted_bid(app, title='=HYPERLINK("http://x.example","click")')
    export = manager.get(f"/manage/rounds/{load(app, bid_id).round_id}/ranking.csv")
    [row] = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert row["title"] == '\'=HYPERLINK("http://x.example","click")'


def test_the_ranking_costs_a_bounded_number_of_queries(app, manager, count_queries):
    round_id = load(app, bidding.submitted_bid(app)).round_id
    counts = []
    for extra in (0, 12):
        for i in range(extra):
            bidding.submitted_bid(app, title=f"Extra {i}", amount_pence=1000)
        with count_queries() as queries:
            assert manager.get(f"/manage/rounds/{round_id}/ranking").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_assessor_queue_costs_a_bounded_number_of_queries(app, manager, count_queries):
    client = signed_in(app, A1)
    counts = []
    for extra in (1, 12):
        for i in range(extra):
            bid_id = bidding.submitted_bid(app, title=f"Queue {i}", amount_pence=1000)
            with app.test_request_context():
                assessment.assign(session.get(Bid, bid_id), accounts.get_user_by_email(A1),
                                  accounts.get_user_by_email(MANAGER))
                session.commit()
        with count_queries() as queries:
            assert client.get("/assess/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_assessor_queue_shows_work_in_progress_then_the_longest_waiting_first(app):
    assigned = []
    for title in ("First in", "Second in", "Third in"):
        bid_id = bidding.submitted_bid(app, title=title, amount_pence=1000)
        with app.test_request_context():
            assignment = assessment.assign(session.get(Bid, bid_id),
                                           accounts.get_user_by_email(A1),
                                           accounts.get_user_by_email(MANAGER))
            session.flush()
            assigned.append(assignment.id)
            session.commit()
    with app.test_request_context():  # the assessor starts on the third: it comes first
        third, assessor = session.get(Assignment, assigned[2]), accounts.get_user_by_email(A1)
        assessment.declare(third, False, "", assessor)
        criterion = third.bid.round.criteria[0]
        assessment.save_assessment(third, [assessment.ScoreInput(criterion.id, 3, "Fair")],
                                   None, "", submit=False, actor=assessor)
        session.commit()
        assert third.status == AssessmentStatus.DRAFT
    page = signed_in(app, A1).get("/assess/").get_data(as_text=True)
    positions = [page.index(title) for title in ("Third in", "First in", "Second in")]
    assert positions == sorted(positions)


# --- decisions --------------------------------------------------------------------------------


OVERRIDE = "The panel met before the assessors could; the chair agreed to decide now"


def decide(client, bid_id, form_url=None, **data):
    """Post the decision form; nobody has assessed these bids, so it gives an override
    reason (the policy itself is tested in test_decision_integrity.py)."""
    form = {"outcome": "approve", "amount": "4,750", "purpose": "Bike lights and repairs",
            "conditions": "Publicise the OPCC's support",
            "reasons": "Fewer bike thefts and safer cycling after dark",
            "override_reason": OVERRIDE}
    form.update(data)
    return client.submit(f"/manage/bids/{bid_id}/decide", form, form_url=form_url)


def test_approving_records_what_the_law_asks_and_tells_the_partnership(app, manager, smtp):
    bid_id = bidding.submitted_bid(app)
    response = decide(manager, bid_id)
    assert response.status_code == 302
    with app.app_context():
        decision = session.scalars(select(Decision).where(Decision.bid_id == bid_id)).one()
        assert decision.amount_pence == 475000
        assert decision.purpose and decision.crime_reduction_reasons and decision.conditions
        assert re.fullmatch(r"DEC-\d{4}-\d{4}", decision.reference)
        assert decision.decided_by.email == MANAGER
        round_ = session.get(Round, load(app, bid_id).round_id)
        assert round_.committed_pence == 475000
    assert load(app, bid_id).status == BidStatus.AWARDED
    assert any("approved" in m["Subject"] for m in smtp.to(bidding.OFFICER))
    officer = signed_in(app, bidding.OFFICER)
    assert "Approved: £4,750.00" in text_of(officer.get(f"/bids/{bid_id}"))


def test_a_part_award_is_allowed_but_never_more_than_requested(app, manager):
    bid_id = bidding.submitted_bid(app)
    too_much = decide(manager, bid_id, amount="4,750.01")
    assert "cannot be more than the £4,750.00 asked for" in text_of(too_much)
    assert decide(manager, bid_id, amount="3,000").status_code == 302
    with app.app_context():
        assert session.scalars(select(Decision)).one().amount_pence == 300000


def test_approving_more_than_remains_is_refused_and_changes_nothing(app, manager):
    bid_id = bidding.submitted_bid(app)
    with app.app_context():
        round_ = session.get(Round, load(app, bid_id).round_id)
        round_.committed_pence = round_.budget_pence - 100000
        session.commit()
    response = decide(manager, bid_id)
    assert "Only £1,000.00 of the round's budget remains" in text_of(response)
    assert load(app, bid_id).status == BidStatus.SUBMITTED


def test_declining_needs_feedback_which_the_partnership_sees(app, manager, smtp):
    bid_id = bidding.submitted_bid(app)
    empty = decide(manager, bid_id, outcome="decline", feedback="")
    assert "Enter feedback for the partnership" in text_of(empty)
    decide(manager, bid_id, outcome="decline", feedback="Outcomes were not measurable")
    assert load(app, bid_id).status == BidStatus.NOT_FUNDED
    officer = signed_in(app, bidding.OFFICER)
    page = text_of(officer.get(f"/bids/{bid_id}"))
    assert "Not funded" in page and "Outcomes were not measurable" in page
    assert any("not funded" in m["Subject"] for m in smtp.to(bidding.OFFICER))


def test_a_bid_cannot_be_decided_twice(app, manager):
    bid_id = bidding.submitted_bid(app)
    decide(manager, bid_id)
    again = manager.get(f"/manage/bids/{bid_id}/decide")
    assert again.status_code == 302
    second = decide(manager, bid_id, form_url=f"/manage/bids/{bid_id}", amount="100")
    assert second.status_code == 302
    with app.app_context():
        assert len(session.scalars(select(Decision)).all()) == 1
        assert session.get(Round, load(app, bid_id).round_id).committed_pence == 475000


def test_whoever_assessed_a_bid_cannot_decide_it(app, manager):
    bid_id = bidding.submitted_bid(app)
    with app.app_context():
        from portal.models import Role, UserRole

        user = accounts.get_user_by_email(MANAGER)
        user.role_rows.append(UserRole(role=Role.ASSESSOR))
        session.commit()
    assign(manager, bid_id, MANAGER, app)
    response = decide(manager, bid_id)
    assert "another manager must decide it" in text_of(manager.get(response.headers["Location"]))
    assert load(app, bid_id).status == BidStatus.IN_ASSESSMENT


def test_a_withdrawn_bid_cannot_be_decided(app, manager):
    bid_id = bidding.submitted_bid(app)
    with app.test_request_context():
        from portal.services import bids

        bids.withdraw(session.get(Bid, bid_id), "No longer needed",
                      accounts.get_user_by_email(bidding.OFFICER))
        session.commit()
    decide(manager, bid_id)
    assert load(app, bid_id).status == BidStatus.WITHDRAWN


def test_a_forged_decision_form_is_refused(app, manager):
    bid_id = bidding.submitted_bid(app)
    response = manager.post(f"/manage/bids/{bid_id}/decide", data={"outcome": "approve",
                                                                   "amount": "100"})
    assert response.status_code == 400
    assert load(app, bid_id).status == BidStatus.SUBMITTED


def test_the_round_page_shows_budget_committed_and_remaining(app, manager):
    bid_id = bidding.submitted_bid(app)
    decide(manager, bid_id, amount="1,000")
    round_id = load(app, bid_id).round_id
    page = text_of(manager.get(f"/manage/rounds/{round_id}"))
    assert "Budget £30,000.00" in page and "Committed £1,000.00" in page
    assert "Remaining £29,000.00" in page


def test_managers_do_not_see_drafts(app, manager):
    bid_id = bidding.start(signed_in(app, bidding.OFFICER), app)
    assert manager.get(f"/manage/bids/{bid_id}").status_code == 404


def test_managers_search_the_audit_trail_by_user_record_and_date(app, manager):
    bid_id = bidding.submitted_bid(app)
    decide(manager, bid_id)
    by_record = text_of(manager.get(f"/manage/audit?record_type=bid&record_id={bid_id}"))
    assert "Bid approved" in by_record and "Bid started" in by_record
    by_user = text_of(manager.get("/manage/audit?user=morgan"))
    assert "Bid approved" in by_user and "Bid started" not in by_user
    assert "No events match your search" in text_of(manager.get("/manage/audit?user=%25"))
    from portal.db import utcnow

    today = utcnow().date()
    dated = manager.get(f"/manage/audit?date_from-day={today.day}&date_from={today.day}"
                        f"&date_from={today.month}&date_from={today.year}")
    assert dated.status_code == 200
    future = text_of(manager.get(f"/manage/audit?date_from=1&date_from=1&date_from="
                                 f"{today.year + 1}"))
    assert "No events match your search" in future
    assert manager.get("/manage/audit?record_type=nonsense").status_code == 400
    assert signed_in(app, A1).get("/manage/audit").status_code == 403


def test_record_pages_show_their_history_to_managers_finance_and_administrators(app, manager):
    bid_id = bidding.submitted_bid(app)
    decide(manager, bid_id)
    round_id = load(app, bid_id).round_id
    assert "History of this round" in text_of(manager.get(f"/manage/rounds/{round_id}"))
    with app.app_context():
        from portal.models import Award

        award_id = session.scalar(select(Award.id).where(Award.bid_id == bid_id))
    finance = signed_in(app, "finance@example.org")
    page = text_of(finance.get(f"/finance/awards/{award_id}"))
    assert "History of this award" in page and "Grant offered" in page
    assert "award.offered" not in page  # people read names, not the trail's codes
    admin = signed_in(app, "admin@example.org")
    user_page = text_of(admin.get(f"/admin/users/{user_id(app, MANAGER)}"))
    assert "History of this account" in user_page and "Signed in" in user_page
