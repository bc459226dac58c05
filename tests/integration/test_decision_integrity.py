"""Assessment and decisions keep their integrity at real speed and with two people at once
(issue 11, cases 1, 2, 6 and 7): a refused decision leaves nothing behind, two managers
deciding one bid make one decision, a submitted assessment changes only by reopening it, and a
decision needs the round's required assessments or a reason the record keeps."""

from __future__ import annotations

import csv
import io
import threading
import zipfile

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal.db import session, write_intent
from portal.models import (
    AssessmentStatus,
    Assignment,
    AuditEvent,
    Bid,
    BidStatus,
    Decision,
    ReferenceCounter,
    Round,
)
from portal.services import DomainError, accounts, assessment, decisions
from tests import bidding
from tests.helpers import signed_in, table_row_counts, text_of

MANAGER = "manager@example.org"
A1, A2 = "assessor1@example.org", "assessor2@example.org"
REASON = "The panel met early; the chair agreed to decide before the assessments were in"


@pytest.fixture
def manager(app):
    return signed_in(app, MANAGER)


# --- records, made through the services --------------------------------------------------------


def user(email):
    return accounts.get_user_by_email(email)


def load(app, model, key):
    with app.app_context():
        return session.get(model, key)


def assigned(app, bid_id, *emails, declared=True) -> list[int]:
    """Assign each assessor (who then declares no conflict); the assignments' ids."""
    ids = []
    with app.test_request_context():
        bid = session.get(Bid, bid_id)
        for email in emails:
            assignment = assessment.assign(bid, user(email), user(MANAGER))
            if declared:
                assessment.declare(assignment, False, "", user(email))
            ids.append(assignment.id)
        session.commit()
    return ids


def assigned_ids(app, bid_id) -> list[int]:
    with app.app_context():
        return list(session.scalars(select(Assignment.id).where(Assignment.bid_id == bid_id)
                                    .order_by(Assignment.id)))


def scored(app, assignment_id, scores, *, submit=True) -> None:
    with app.test_request_context():
        assignment = session.get(Assignment, assignment_id)
        criteria = list(assignment.bid.round.criteria)
        inputs = [assessment.ScoreInput(c.id, score, f"Because {score}" if score is not None
                                        else "") for c, score in zip(criteria, scores)]
        assessment.save_assessment(assignment, inputs, "fund", "Sound", submit=submit,
                                   actor=assignment.assessor)
        session.commit()


def assessed_bid(app, code="SCF", amount_pence=475000) -> int:
    """A submitted bid that its one assessor has assessed: ready for a decision."""
    bid_id = bidding.submitted_bid(app, code=code, amount_pence=amount_pence)
    [number] = assigned(app, bid_id, A1)
    scored(app, number, [4, 4, 4, 4])
    return bid_id


def leave_in_round(app, bid_id, pence) -> None:
    with app.app_context():
        round_ = session.get(Round, session.get(Bid, bid_id).round_id)
        round_.committed_pence = round_.budget_pence - pence
        session.commit()


def decide(client, bid_id, **data):
    form = {"outcome": "approve", "amount": "4,750", "purpose": "Bike lights and repairs",
            "conditions": "Publicise the OPCC's support",
            "reasons": "Fewer bike thefts and safer cycling after dark"}
    form.update(data)
    return client.submit(f"/manage/bids/{bid_id}/decide", form)


def error_beside(response, field) -> str:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    message = soup.find(id=f"{field}-error")
    return message.get_text(" ", strip=True) if message else ""


def decisions_of(app, bid_id) -> list[Decision]:
    with app.app_context():
        return list(session.scalars(select(Decision).where(Decision.bid_id == bid_id)))


def events(app, action, bid_id) -> list[AuditEvent]:
    with app.app_context():
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == action, AuditEvent.record_id == str(bid_id))
            .order_by(AuditEvent.id)))


# --- case 1: a refused approval leaves nothing behind -----------------------------------------


def test_approving_more_than_the_round_has_left_changes_nothing_and_the_bid_can_be_declined(
        app, manager, smtp):
    bid_id = assessed_bid(app, code="PCF", amount_pence=900000)
    leave_in_round(app, bid_id, 100000)
    before = table_row_counts(app)
    with app.app_context():
        counters = dict(session.execute(select(ReferenceCounter.prefix,
                                               ReferenceCounter.last)).all())
    response = decide(manager, bid_id, amount="9,000")
    assert response.status_code == 200
    assert "Only £1,000.00 of the round's budget remains" in error_beside(response, "amount")
    assert table_row_counts(app) == before
    with app.app_context():
        assert dict(session.execute(select(ReferenceCounter.prefix,
                                           ReferenceCounter.last)).all()) == counters
    assert decisions_of(app, bid_id) == []
    bid = load(app, Bid, bid_id)
    assert bid.status == BidStatus.IN_ASSESSMENT
    assert load(app, Round, bid.round_id).remaining_pence == 100000
    assert "Record a decision" in text_of(manager.get(f"/manage/bids/{bid_id}"))

    declined = decide(manager, bid_id, outcome="decline", feedback="The budget is spent")
    assert declined.status_code == 302
    assert load(app, Bid, bid_id).status == BidStatus.NOT_FUNDED
    [decision] = decisions_of(app, bid_id)
    assert decision.reference.startswith("DEC-") and decision.amount_pence == 0
    assert any("not funded" in m["Subject"] for m in smtp.to(bidding.OFFICER))


# --- case 2: two managers, one bid ---------------------------------------------------------------


def test_a_manager_deciding_a_bid_just_decided_by_another_is_told_so(app, manager):
    bid_id = assessed_bid(app)
    other = signed_in(app, MANAGER)
    tokens = other.form_tokens(f"/manage/bids/{bid_id}/decide")  # both pages are open
    assert decide(manager, bid_id).status_code == 302
    late = other.post(f"/manage/bids/{bid_id}/decide",
                      data={**tokens, "outcome": "decline", "feedback": "Too late"})
    assert late.status_code == 302
    assert "already been decided" in text_of(other.get(late.headers["Location"]))
    [decision] = decisions_of(app, bid_id)
    assert decision.outcome.value == "approved"


def test_the_same_decision_posted_twice_has_one_effect_and_shows_the_result(app, manager,
                                                                            smtp):
    bid_id = assessed_bid(app)
    url = f"/manage/bids/{bid_id}/decide"
    data = {**manager.form_tokens(url), "outcome": "approve", "amount": "4,750",
            "purpose": "Lights", "conditions": "", "reasons": "Safer roads"}
    first = manager.post(url, data=data)
    again = manager.post(url, data=data)  # a double click, a refreshed POST
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert "That was already done" in text_of(manager.get(again.headers["Location"]))
    assert len(decisions_of(app, bid_id)) == 1
    assert len(events(app, "decision.approved", bid_id)) == 1
    assert len([m for m in smtp.to(bidding.OFFICER) if "approved" in m["Subject"]]) == 1


def race(app, count, act):
    """Run ``act(number)`` in ``count`` threads released together; their outcomes."""
    barrier = threading.Barrier(count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(number: int) -> None:
        try:
            result = act(number, barrier)
        except Exception as exc:  # noqa: BLE001 - reported, and the test fails on it
            result = f"error: {type(exc).__name__}: {exc}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_simultaneous_approvals_of_one_bid_make_one_decision(committed_app):
    app = committed_app("one_bid")
    bid_id = assessed_bid(app)

    def approve(number, barrier):
        with app.test_request_context():
            token = write_intent.set(False)  # read before the race, holding no lock
            manager = user(MANAGER)
            bid = session.get(Bid, bid_id)
            _ = bid.round.criteria, bid.organisation, manager.roles
            session.commit()
            write_intent.reset(token)
            barrier.wait(timeout=60)
            try:
                decisions.approve(bid, 10000 * (number + 1), purpose="Lights", conditions="",
                                  reasons="Safer roads", actor=manager)
                session.commit()
                return "approved"
            except DomainError as refused:
                session.rollback()
                return f"refused: {refused.message}"

    outcomes = race(app, 6, approve)
    assert len(outcomes) == 6
    assert outcomes.count("approved") == 1, outcomes
    assert all(o == "approved" or o.startswith("refused: ") for o in outcomes), outcomes
    assert all("already been decided" in o for o in outcomes if o != "approved"), outcomes
    [decision] = decisions_of(app, bid_id)
    assert len(events(app, "decision.approved", bid_id)) == 1
    with app.app_context():
        bid = session.get(Bid, bid_id)
        assert bid.status == BidStatus.AWARDED
        assert session.get(Round, bid.round_id).committed_pence == decision.amount_pence


def test_two_managers_pressing_approve_at_once_get_one_decision_and_two_pages(committed_app):
    app = committed_app("two_managers")
    bid_id = assessed_bid(app)
    url = f"/manage/bids/{bid_id}/decide"
    clients = [signed_in(app, MANAGER) for _ in range(2)]
    forms = [{**client.form_tokens(url), "outcome": "approve", "amount": "4,750",
              "purpose": "Lights", "conditions": "", "reasons": "Safer roads"}
             for client in clients]
    responses = {}

    def press(number, barrier):
        barrier.wait(timeout=60)
        responses[number] = clients[number].post(url, data=forms[number])
        return str(responses[number].status_code)

    outcomes = race(app, 2, press)
    assert outcomes == ["302", "302"], outcomes  # pages, never a 500
    told = [text_of(clients[n].get(responses[n].headers["Location"])) for n in range(2)]
    assert sum("Decision recorded" in page for page in told) == 1, told
    assert sum("already been decided" in page for page in told) == 1, told
    assert len(decisions_of(app, bid_id)) == 1
    assert len(events(app, "decision.approved", bid_id)) == 1


# --- case 6: a submitted assessment changes only by reopening it --------------------------------


def ranking_row(manager, round_id, reference) -> dict[str, str]:
    export = manager.get(f"/manage/rounds/{round_id}/ranking.csv").get_data(as_text=True)
    return next(r for r in csv.DictReader(io.StringIO(export)) if r["reference"] == reference)


def assessments_export(manager, reference) -> list[dict[str, str]]:
    export = manager.get("/reports/export/assessments.csv?year=all").get_data(as_text=True)
    return [r for r in csv.DictReader(io.StringIO(export)) if r["bid_reference"] == reference]


def assessment_form(app, bid_id, scores, button):
    with app.app_context():
        criteria = list(session.get(Bid, bid_id).round.criteria)
    data = {"recommendation": "fund", "comments": "Sound", button: "x"}
    for criterion, score in zip(criteria, scores):
        data[f"score-{criterion.id}"] = "" if score is None else str(score)
        data[f"justification-{criterion.id}"] = "" if score is None else f"Because {score}"
    return data


def test_a_blank_saved_as_draft_on_a_submitted_assessment_is_refused_and_changes_nothing(
        app, manager):
    bid_id = bidding.submitted_bid(app)
    [number] = assigned(app, bid_id, A1)
    client = signed_in(app, A1)
    url = f"/assess/{number}"
    old_tab = client.form_tokens(url)  # a second tab, opened before the submission
    assert client.submit(url, assessment_form(app, bid_id, [5, 5, 5, 5], "submit")
                         ).status_code == 302
    before = table_row_counts(app)
    # The old tab still shows the form: one criterion blanked, "Save as draft" pressed.
    for button in ("save_draft", "submit"):
        refused = client.post(url, data={**assessment_form(app, bid_id, [5, 5, 5, None],
                                                           button), **old_tab})
        assert refused.status_code == 200
        assert "You have already submitted this assessment. To change it, reopen it first." \
            in text_of(refused)
        assert table_row_counts(app) == before
    saved = load(app, Assignment, number)
    assert saved.status == AssessmentStatus.SUBMITTED and saved.weighted_basis_points == 10000
    with app.app_context():
        assert None not in {s.score for s in session.get(Assignment, number).scores}
    round_id, reference = load(app, Bid, bid_id).round_id, load(app, Bid, bid_id).reference
    assert ranking_row(manager, round_id, reference)["score_percent"] == "100.00"


def test_a_reopened_assessment_stops_counting_until_it_is_submitted_again(app, manager, smtp):
    bid_id = bidding.submitted_bid(app)
    [number] = assigned(app, bid_id, A1)
    client = signed_in(app, A1)
    url = f"/assess/{number}"
    client.submit(url, assessment_form(app, bid_id, [5, 5, 5, 5], "submit"))
    assert any("assessment submitted" in m["Subject"] for m in smtp.to(MANAGER))
    bid = load(app, Bid, bid_id)
    assert ranking_row(manager, bid.round_id, bid.reference)["score_percent"] == "100.00"
    assert [r["score_percent"] for r in assessments_export(manager, bid.reference)] == ["100.00"]
    with app.test_request_context():
        assert decisions.readiness(session.get(Bid, bid_id)).met

    reopened = client.submit(f"{url}/reopen", {}, form_url=url)
    assert reopened.status_code == 302
    assert "It does not count until you submit it again" in text_of(client.get(url))
    assert load(app, Assignment, number).status == AssessmentStatus.DRAFT
    assert any("assessment reopened" in m["Subject"] for m in smtp.to(MANAGER))
    row = ranking_row(manager, bid.round_id, bid.reference)
    assert (row["score_percent"], row["assessments"], row["assessments_needed_in"]) == (
        "", "0", "no")
    assert [r["score_percent"] for r in assessments_export(manager, bid.reference)] == [""]
    with app.test_request_context():
        assert not decisions.readiness(session.get(Bid, bid_id)).met
    assert "0 of the 1 assigned assessors" in text_of(manager.get(f"/manage/bids/{bid_id}"))

    # Now the blank is a draft's: it never counts, and cannot be submitted.
    draft = client.submit(url, assessment_form(app, bid_id, [5, 5, 5, None], "save_draft"))
    assert draft.status_code == 302
    assert ranking_row(manager, bid.round_id, bid.reference)["score_percent"] == ""
    blank = client.submit(url, assessment_form(app, bid_id, [5, 5, 5, None], "submit"))
    assert blank.status_code == 200 and "Score “" in text_of(blank)
    assert load(app, Assignment, number).status == AssessmentStatus.DRAFT
    again = client.submit(url, assessment_form(app, bid_id, [5, 5, 5, 4], "submit"))
    assert again.status_code == 302
    assert ranking_row(manager, bid.round_id, bid.reference)["score_percent"] == "96.00"
    actions = [e.action for e in events(app, "assessment.reopened", bid_id)]
    assert actions == ["assessment.reopened"]


def test_reopening_is_refused_once_the_bid_is_decided(app, manager):
    bid_id = assessed_bid(app)
    [number] = assigned_ids(app, bid_id)
    client = signed_in(app, A1)
    old_tab = client.form_tokens(f"/assess/{number}", action=f"/assess/{number}/reopen")
    assert decide(manager, bid_id).status_code == 302
    page = text_of(client.get(f"/assess/{number}"))
    assert "Reopen assessment" not in page and "no longer being assessed" in page
    before = table_row_counts(app)
    refused = client.post(f"/assess/{number}/reopen", data=old_tab)
    assert refused.status_code == 302
    assert "no longer being assessed" in text_of(client.get(refused.headers["Location"]))
    assert table_row_counts(app) == before
    assert load(app, Assignment, number).status == AssessmentStatus.SUBMITTED


def test_the_reopen_button_acts_once_however_often_it_is_pressed(app, smtp):
    bid_id = assessed_bid(app)
    [number] = assigned_ids(app, bid_id)
    client = signed_in(app, A1)
    url = f"/assess/{number}"
    tokens = client.form_tokens(url, action=f"{url}/reopen")
    first = client.post(f"{url}/reopen", data=tokens)
    again = client.post(f"{url}/reopen", data=tokens)
    assert first.status_code == again.status_code == 302
    assert len(events(app, "assessment.reopened", bid_id)) == 1
    assert len([m for m in smtp.to(MANAGER) if "reopened" in m["Subject"]]) == 1


# --- case 7: the round's required assessments, or an override reason -----------------------------


def test_a_bid_nobody_has_assessed_is_decided_only_with_a_reason_the_record_keeps(app, manager):
    bid_id = bidding.submitted_bid(app)
    page = text_of(manager.get(f"/manage/bids/{bid_id}/decide"))
    assert "No assessor has been assigned to this bid" in page
    assert "Why decide before the required assessments are in" in page
    before = table_row_counts(app)
    for outcome in ("approve", "decline"):
        refused = decide(manager, bid_id, outcome=outcome, feedback="Not this time")
        assert refused.status_code == 200
        assert "Give a reason for deciding before the required assessments are in" in \
            error_beside(refused, "override_reason")
        assert table_row_counts(app) == before
    assert decide(manager, bid_id, override_reason=REASON).status_code == 302
    [decision] = decisions_of(app, bid_id)
    assert decision.override_reason == REASON
    [event] = events(app, "decision.approved", bid_id)
    assert event.after["override_reason"] == REASON
    assert (event.after["assessments_submitted"], event.after["assessments_assigned"]) == (0, 0)
    bid_page = text_of(manager.get(f"/manage/bids/{bid_id}"))
    assert f"Decided before the required assessments because {REASON}" in bid_page
    reference = load(app, Bid, bid_id).reference
    export = manager.get("/reports/export/awards.csv?year=all").get_data(as_text=True)
    [row] = [r for r in csv.DictReader(io.StringIO(export)) if r["reference"] == reference]
    assert row["override_reason"] == REASON
    workbook = manager.get("/reports/export/workbook.xlsx?year=all").get_data()
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        text = "".join(archive.read(name).decode() for name in archive.namelist()
                       if name.startswith("xl/"))
    assert REASON in text


def test_by_default_every_assigned_assessor_who_is_not_conflicted_must_submit(app, manager):
    bid_id = bidding.submitted_bid(app)
    [first] = assigned(app, bid_id, A1)
    [second] = assigned(app, bid_id, A2, declared=False)  # counts until a conflict is declared
    scored(app, first, [3, 3, 3, 3])
    refused = decide(manager, bid_id, outcome="decline", feedback="Not this time")
    assert "1 of the 2 assigned assessors have submitted an assessment" in \
        error_beside(refused, "override_reason")
    assert decisions_of(app, bid_id) == []
    with app.test_request_context():  # the second declares a conflict: not needed now
        assessment.declare(session.get(Assignment, second), True,
                           "My sister chairs the partnership", user(A2))
        session.commit()
    with app.test_request_context():
        ready = decisions.readiness(session.get(Bid, bid_id))
        assert (ready.submitted, ready.assigned, ready.required, ready.met) == (1, 1, None, True)
    assert decide(manager, bid_id, outcome="decline", feedback="Not this time"
                  ).status_code == 302
    [decision] = decisions_of(app, bid_id)
    assert decision.override_reason == ""
    [event] = events(app, "decision.declined", bid_id)
    assert event.after["override_reason"] == ""


def test_a_round_needing_one_assessment_is_ready_after_the_first(app, manager):
    bid_id = bidding.submitted_bid(app)
    with app.app_context():
        session.get(Round, session.get(Bid, bid_id).round_id).required_assessments = 1
        session.commit()
    first, _second = assigned(app, bid_id, A1, A2)
    page = text_of(manager.get(f"/manage/bids/{bid_id}/decide"))
    assert "0 assessments have been submitted. This round needs at least 1" in page
    scored(app, first, [4, 4, 4, 4])
    page = text_of(manager.get(f"/manage/bids/{bid_id}/decide"))
    assert "The assessments this round requires are in: 1 submitted." in page
    assert "Why decide before" not in page
    ranking = text_of(manager.get(f"/manage/rounds/{load(app, Bid, bid_id).round_id}/ranking"))
    assert "1 of 1 Ready to decide" in ranking
    assert decide(manager, bid_id).status_code == 302
    assert decisions_of(app, bid_id)[0].override_reason == ""


def test_the_policy_is_stated_once():
    assert decisions.readiness_of(0, 0, None).met is False  # nobody assigned
    assert decisions.readiness_of(1, 2, None).met is False
    assert decisions.readiness_of(2, 2, None).met is True
    assert decisions.readiness_of(1, 3, 1).met is True
    assert decisions.readiness_of(1, 1, 2).met is False
    assert decisions.readiness_of(1, 1, 2).needed == 2
    assert decisions.readiness_of(0, 0, None).needed == 1


# --- everyone concerned is told; every action once --------------------------------------------


def test_managers_are_told_of_a_conflict_and_the_assessor_of_the_assignment(app, manager,
                                                                           smtp):
    bid_id = bidding.submitted_bid(app)
    with app.app_context():
        a1 = user(A1).id
    url = f"/manage/bids/{bid_id}"
    tokens = manager.form_tokens(url)
    first = manager.post(url, data={**tokens, "assessor": str(a1)})
    again = manager.post(url, data={**tokens, "assessor": str(a1)})
    assert first.status_code == again.status_code == 302
    assert len(assigned_ids(app, bid_id)) == 1
    assert len(smtp.to(A1)) == 1
    [number] = assigned_ids(app, bid_id)
    client = signed_in(app, A1)
    declaration = f"/assess/{number}/declaration"
    tokens = client.form_tokens(declaration)
    data = {**tokens, "conflict": "yes", "reason": "I wrote part of this bid"}
    assert client.post(declaration, data=data).status_code == 302
    assert client.post(declaration, data=data).status_code == 302
    assert len(events(app, "assessment.conflict_declared", bid_id)) == 1
    told = [m for m in smtp.to(MANAGER) if "conflict of interest" in m["Subject"]]
    assert len(told) == 1 and "I wrote part of this bid" in told[0].get_content()


def test_a_question_posted_twice_is_asked_once(app, manager, smtp):
    bid_id = bidding.submitted_bid(app)
    url = f"/manage/bids/{bid_id}/ask"
    data = {**manager.form_tokens(url), "question": "Which schools take part?"}
    assert manager.post(url, data=data).status_code == 302
    assert manager.post(url, data=data).status_code == 302
    assert len(events(app, "bid.information_requested", bid_id)) == 1
    assert len([m for m in smtp.to(bidding.OFFICER) if "Question" in m["Subject"]]) == 1


def test_an_assessment_submitted_twice_at_once_is_submitted_once(app, smtp):
    bid_id = bidding.submitted_bid(app)
    [number] = assigned(app, bid_id, A1)
    client = signed_in(app, A1)
    url = f"/assess/{number}"
    data = {**client.form_tokens(url), **assessment_form(app, bid_id, [3, 3, 3, 3], "submit")}
    assert client.post(url, data=data).status_code == 302
    assert client.post(url, data=data).status_code == 302
    assert len(events(app, "assessment.submitted", bid_id)) == 1
    assert len([m for m in smtp.to(MANAGER) if "assessment submitted" in m["Subject"]]) == 1


def test_bulk_assignment_posted_twice_assigns_once_and_refusals_are_shown(app, manager, smtp):
    ids = [bidding.submitted_bid(app, title=f"Bulk {i}") for i in range(2)]
    round_id = load(app, Bid, ids[0]).round_id
    url = f"/manage/rounds/{round_id}"
    with app.app_context():
        a2 = user(A2).id
    data = {**manager.form_tokens(url), "bids": [str(i) for i in ids], "assessor": str(a2)}
    assert manager.post(url, data=data).status_code == 302
    assert manager.post(url, data=data).status_code == 302
    assert len(smtp.to(A2)) == 2
    again = manager.submit(url, {"bids": [str(ids[0])], "assessor": str(a2)})
    assert again.status_code == 200 and "is already assigned" in text_of(again)


def test_moderated_scores_save_again_with_other_values(app, manager):
    bid_id = assessed_bid(app)
    with app.app_context():
        criteria = [c.id for c in session.get(Bid, bid_id).round.criteria]
    url = f"/manage/bids/{bid_id}/moderate"
    for points, expected in ((4, 8000), (2, 4000), (5, 10000)):
        saved = manager.submit(url, {f"score-{c}": str(points) for c in criteria}
                               | {"rationale": f"Agreed at {points}"})
        assert saved.status_code == 302
        with app.app_context():
            from portal.models import ModeratedScore, Moderation

            moderation = session.scalar(select(Moderation).where(Moderation.bid_id == bid_id))
            assert moderation.weighted_basis_points == expected
            assert session.scalar(select(func.count()).select_from(ModeratedScore).where(
                ModeratedScore.moderation_id == moderation.id)) == len(criteria)
    assert len(events(app, "assessment.moderated", bid_id)) == 3
