"""One effect per intent, through the real server (issue 11): on PostgreSQL, gunicorn with
several worker processes, every one-shot action posted many times at once acts once.

The one-shot endpoints are found, not listed: every view ``is_one_shot`` says is one must have
a scenario in ``SCENARIOS`` (keyed by endpoint), so a form made one-shot tomorrow cannot be
forgotten. Scenarios are written for every one-shot action the issue names; those whose view
is not one-shot yet are not run.

For each scenario, the record is built in the right state through the portal's services
(committed), the sessions are signed in and the form pages read beforehand, then the posts
are released together:

- a double click: the same form (the same one-time token, the same session) posted 8 times;
- for decisions, acceptances, payments and the like, rivals: 5 different sessions of two
  people entitled to act (two managers, two finance officers, two officers of the
  partnership), each with its own form, posted at once.

Either way: exactly one effect, one audit event of the action (and no action recorded
twice), one email for each person the workflow says to tell (and nobody told twice), every
response below 500 and, once its redirect is followed, a page (200) that shows the result
or says clearly why nothing more was done.
"""

from __future__ import annotations

import io
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import create_app, migrate
from portal.db import get_db, session, uk_today
from portal.models import (
    AssessmentStatus,
    Assignment,
    AuditEvent,
    Award,
    AwardStatus,
    Bid,
    BidStatus,
    ConflictStatus,
    Decision,
    DecisionOutcome,
    EvidenceFile,
    Fund,
    GrantReturn,
    InformationRequest,
    Moderation,
    Payment,
    ReferenceCounter,
    Repayment,
    ReturnKind,
    ReturnReview,
    ReturnStatus,
    Role,
    Round,
    User,
    UserRole,
    Variation,
    VariationKind,
    VariationStatus,
)
from portal.oneshot import is_one_shot
from portal.workflows import WORKFLOWS
from tests import bidding
from tests.conftest import isolated_database, make_test_app
from tests.helpers import DEMO_PASSWORD, load_demo
from tests.server import Browser, MailServer, Page, PortalServer, release_together

DOUBLE_CLICKS = 8  # posts of the same form at once
RIVALS = 5  # different sessions posting their own forms at once
AMOUNT = 100_000  # £1,000 asked for and awarded: the round's £30,000 covers every scenario
ALREADY = "That was already done"  # what a repeated post of a one-shot form is told

MANAGER, MANAGER_2 = "manager@example.org", "manager2@example.org"
FINANCE, FINANCE_2 = "finance@example.org", "finance2@example.org"
ASSESSOR_1, ASSESSOR_2 = "assessor1@example.org", "assessor2@example.org"
OFFICER = "officer.southcambs@example.org"
OFFICER_HUNTS, OFFICER_HUNTS_2 = "officer.hunts@example.org", "officer2.hunts@example.org"


# --- building records through the services -----------------------------------------------------


def _user(email: str) -> User:
    from portal.services import accounts

    user = accounts.get_user_by_email(email)
    assert user is not None, email
    return user


def _step(app: Flask, work: Callable[[], Any]) -> Any:
    """Run ``work`` as one unit of work of the portal (a request context) and commit it."""
    with app.test_request_context():
        result = work()
        session.commit()
        return result


def add_second_staff(app: Flask) -> None:
    """A second manager, a second finance officer and a second officer of one partnership:
    rivals entitled to take the same action."""
    from portal.services import accounts

    def work() -> None:
        opcc = _user(MANAGER).organisation
        hunts = _user(OFFICER_HUNTS).organisation
        for name, email, organisation, role in (
                ("Max Manager", MANAGER_2, opcc, Role.MANAGER),
                ("Fran Finance", FINANCE_2, opcc, Role.FINANCE),
                ("Hunts Officer Two", OFFICER_HUNTS_2, hunts, Role.OFFICER)):
            accounts.create_user(name, email, organisation, {role}, actor=None,
                                 password=DEMO_PASSWORD)

    _step(app, work)


def draft_bid(app: Flask, officer: str = OFFICER) -> dict[str, Any]:
    """A complete draft, not yet submitted."""
    from portal.services import bids

    def work() -> dict[str, Any]:
        author = _user(officer)
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        bid = bids.start_bid(round_, author, bids.new_creation_token())
        for section in bids.sections_for(round_):
            answers = bidding._answers(round_.financial_year, AMOUNT)[section.key]
            bids.save_section(bid, section.key, answers, completed=True, expected_version=None,
                              actor=author)
        return {"bid": bid.id, "org": author.organisation_id, "round": round_.id,
                "prefix": f"{round_.fund.code}-{round_.financial_year}"}

    return _step(app, work)


def submitted_bid(app: Flask, officer: str = OFFICER) -> dict[str, Any]:
    bid_id = bidding.submitted_bid(app, officer, amount_pence=AMOUNT,
                                   title=f"Lights for safer lanes ({officer.split('@')[0]})")

    def work() -> dict[str, Any]:
        bid = session.get(Bid, bid_id)
        return {"bid": bid.id, "org": bid.organisation_id, "round": bid.round_id}

    return _step(app, work)


def assign(app: Flask, r: dict[str, Any], assessor: str) -> dict[str, Any]:
    from portal.services import assessment

    def work() -> dict[str, Any]:
        chosen = _user(assessor)
        assignment = assessment.assign(session.get(Bid, r["bid"]), chosen, _user(MANAGER))
        return {**r, "assignment": assignment.id, "assessor": chosen.id}

    return _step(app, work)


def declare_none(app: Flask, r: dict[str, Any]) -> dict[str, Any]:
    from portal.services import assessment

    def work() -> None:
        assignment = session.get(Assignment, r["assignment"])
        assessment.declare(assignment, False, "", assignment.assessor)

    _step(app, work)
    return r


def with_criteria(app: Flask, r: dict[str, Any]) -> dict[str, Any]:
    def work() -> list[int]:
        return [c.id for c in session.get(Bid, r["bid"]).round.criteria]

    return {**r, "criteria": _step(app, work)}


def submit_assessment(app: Flask, r: dict[str, Any]) -> dict[str, Any]:
    from portal.services import assessment

    def work() -> None:
        assignment = session.get(Assignment, r["assignment"])
        inputs = [assessment.ScoreInput(criterion.id, 4, "Good evidence of need")
                  for criterion in assignment.bid.round.criteria]
        assessment.save_assessment(assignment, inputs, "fund", "", submit=True,
                                   actor=assignment.assessor)

    _step(app, work)
    return r


def assessed_bid(app: Flask, officer: str = OFFICER) -> dict[str, Any]:
    """Submitted, with its assessor's assessment in: ready for a decision."""
    r = assign(app, submitted_bid(app, officer), ASSESSOR_1)
    return submit_assessment(app, declare_none(app, r))


def ask(app: Flask, r: dict[str, Any]) -> dict[str, Any]:
    from portal.services import bids

    _step(app, lambda: bids.request_more_information(
        session.get(Bid, r["bid"]), "How many schools will take part?", _user(MANAGER)))
    return r


def approved(app: Flask, officer: str = OFFICER) -> dict[str, Any]:
    """An assessed bid approved for its full amount: the award is offered."""
    from portal.services import decisions

    r = assessed_bid(app, officer)

    def work() -> int:
        bid = session.get(Bid, r["bid"])
        decisions.approve(bid, AMOUNT, purpose="Bike lights", conditions="",
                          reasons="Safer roads for children", actor=_user(MANAGER))
        return session.scalar(select(Award.id).where(Award.bid_id == bid.id))

    return {**r, "award": _step(app, work)}


def accepted(app: Flask, officer: str = OFFICER) -> dict[str, Any]:
    from portal.services import awards

    r = approved(app, officer)

    def work() -> dict[str, Any]:
        award = session.get(Award, r["award"])
        awards.accept(award, "Sam Officer", "Community safety officer", True, _user(officer))
        final = next(ret for ret in award.returns if ret.kind == ReturnKind.FINAL)
        # A return is sent once its period has started (issue 13); the test's project may
        # start after today, so its final period starts today here, as if that time had come.
        final.period_start = min(final.period_start, uk_today())
        return {**r, "return": final.id, "lines": [line.id for line in award.lines],
                "measures": [m.id for m in award.bid.outcomes],
                "end_date": award.end_date}

    return _step(app, work)


def paid(app: Flask, r: dict[str, Any], amount: int) -> dict[str, Any]:
    from portal.services import awards

    _step(app, lambda: awards.record_payment(session.get(Award, r["award"]), amount, uk_today(),
                                             "BACS-SETUP", _user(FINANCE)))
    return r


def return_submitted(app: Flask, r: dict[str, Any], officer: str = OFFICER) -> dict[str, Any]:
    """The final return submitted, reporting 60% of each line spent."""
    from portal.services import awards

    def work() -> None:
        grant_return = session.get(GrantReturn, r["return"])
        spend = {line.id: line.revised_pence * 6 // 10 for line in grant_return.award.lines}
        outcomes = [awards.OutcomeInput(m, 250, "green", "Lights given out at six sessions")
                    for m in r["measures"]]
        awards.save_return(grant_return, spend, outcomes, "A family cycles to school", 0,
                           submit=True, actor=_user(officer))

    _step(app, work)
    return r


def return_approved(app: Flask, r: dict[str, Any]) -> dict[str, Any]:
    from portal.services import awards

    _step(app, lambda: awards.review_return(session.get(GrantReturn, r["return"]), True, "",
                                            _user(FINANCE)))
    return r


def repayment_awaited(app: Flask) -> dict[str, Any]:
    """Paid in full, the final return approved at 60%: the award closes and asks for the
    underspend back."""
    r = return_approved(app, return_submitted(app, paid(app, accepted(app), AMOUNT)))

    def work() -> int:
        repayment = session.scalar(select(Repayment).where(Repayment.award_id == r["award"]))
        assert repayment is not None, "closing the award asked for no repayment"
        return repayment.id

    return {**r, "repayment": _step(app, work)}


def variation_requested(app: Flask) -> dict[str, Any]:
    from portal.services import variations

    r = accepted(app)

    def work() -> int:
        award = session.get(Award, r["award"])
        variation = variations.request_variation(
            award, VariationKind.EXTENSION, "The schools asked for sessions in spring",
            _user(OFFICER), new_end_date=award.end_date + timedelta(days=30))
        return variation.id

    return {**r, "variation": _step(app, work)}


def carry_forward_requested(app: Flask) -> dict[str, Any]:
    """An accepted award made an award of two financial years (this one and the next) on a
    round of those years with room in both, and a carry-forward of 1.00 of its first line
    from this year to the next asked for (issue 14)."""
    from portal.models import Round, RoundYear
    from portal.services import variations, years
    from portal.services.awards import year_totals
    from portal.services.rounds import financial_year_of

    r = accepted(app)

    def work() -> dict[str, Any]:
        award = session.get(Award, r["award"])
        year = financial_year_of(uk_today())
        for line in award.lines:
            split = years.as_json(years.split_evenly(line.revised_pence, [year, year + 1]))
            line.original_years, line.revised_years = split, dict(split)
        totals = year_totals(award.lines, revised=True)
        old = award.round
        round_ = Round(fund_id=old.fund_id, name=f"Two years for award {award.id}",
                       financial_year=year, years=2, opens_at=old.opens_at,
                       closes_at=old.closes_at, budget_pence=sum(totals.values()) + 2_000_00,
                       cap_pence=None, committed_pence=sum(totals.values()),
                       eligible_organisation_types=old.eligible_organisation_types,
                       return_cadence=old.return_cadence)
        round_.year_budgets = [RoundYear(financial_year=y, budget_pence=totals[y] + 1_000_00,
                                         committed_pence=totals[y]) for y in (year, year + 1)]
        session.add(round_)
        session.flush()
        award.round = round_
        award.end_date = date(year + 2, 3, 31)
        award.payment_plan = years.as_json(totals)
        session.flush()
        variation = variations.request_variation(
            award, VariationKind.CARRY_FORWARD, "Recruitment slipped into next year",
            _user(OFFICER), moves=[{"line": award.lines[0].id, "from_year": year,
                                    "to_year": year + 1, "amount": 100}])
        return {"variation": variation.id, "round": round_.id, "year": year,
                "line": award.lines[0].id, "next_year": totals[year + 1]}

    return {**r, **_step(app, work)}


def carried_forward(r: dict[str, Any], _before: Any) -> dict[str, int]:
    """The carry-forward's one effect: approved, the line's next year up by 1.00 once, and
    the round's next year committed up by 1.00 once."""
    from portal.models import AwardLine, RoundYear

    variation = session.get(Variation, r["variation"], populate_existing=True)
    line = session.get(AwardLine, r["line"], populate_existing=True)
    row = session.get(RoundYear, (r["round"], r["year"] + 1), populate_existing=True)
    moved_on_line = line.revised_years.get(str(r["year"] + 1), 0) - (
        line.original_years.get(str(r["year"] + 1), 0))
    return {"variations approved": int(variation.status == VariationStatus.APPROVED),
            "1.00 moved on the line": moved_on_line // 100,
            "1.00 committed in the next year": (row.committed_pence - r["next_year"]) // 100}


def submitted_assessment(app: Flask) -> dict[str, Any]:
    return with_criteria(app, assessed_bid(app))


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"  # the smallest file the portal takes


def bid_with_files(app: Flask) -> dict[str, Any]:
    """A complete draft with two evidence files (committed, each stored): the race removes
    the first; the second must stay."""
    from portal.services import evidence

    r = draft_bid(app)

    def work() -> dict[str, Any]:
        bid, officer = session.get(Bid, r["bid"]), _user(OFFICER)
        first = evidence.add(bid, "first.pdf", io.BytesIO(PDF), "", officer)
        evidence.add(bid, "second.pdf", io.BytesIO(PDF), "", officer)
        return {"evidence": first.id, "stored": first.stored_name}

    return {**r, **_step(app, work)}


# --- what a scenario counts ----------------------------------------------------------------------


def _count(statement: Any) -> int:
    return int(session.scalar(statement) or 0)


def _bid(r: dict[str, Any]) -> Bid:
    return session.get(Bid, r["bid"], populate_existing=True)


def bid_in(status: BidStatus) -> Callable[[dict[str, Any], Any], dict[str, int]]:
    def effect(r: dict[str, Any], _before: Any) -> dict[str, int]:
        return {f"bid {status.value}": int(_bid(r).status == status)}

    return effect


def references_taken(r: dict[str, Any], before: Any) -> dict[str, int]:
    last = _count(select(ReferenceCounter.last).where(ReferenceCounter.prefix == r["prefix"]))
    bid = _bid(r)
    return {"references taken": last - before,
            "bid submitted": int(bid.status == BidStatus.SUBMITTED and bool(bid.reference))}


def reference_counter(r: dict[str, Any]) -> int:
    return _count(select(ReferenceCounter.last).where(ReferenceCounter.prefix == r["prefix"]))


def questions_asked(r: dict[str, Any], _before: Any) -> dict[str, int]:
    return {"questions": _count(select(func.count()).select_from(InformationRequest)
                                .where(InformationRequest.bid_id == r["bid"]))}


def questions_answered(r: dict[str, Any], _before: Any) -> dict[str, int]:
    answered = _count(select(func.count()).select_from(InformationRequest)
                      .where(InformationRequest.bid_id == r["bid"],
                             InformationRequest.answer.is_not(None)))
    return {"answers": answered,
            "bid back in assessment": int(_bid(r).status == BidStatus.IN_ASSESSMENT)}


def round_committed(r: dict[str, Any]) -> int:
    return _count(select(Round.committed_pence).where(Round.id == r["round"]))


def decided(outcome: DecisionOutcome) -> Callable[[dict[str, Any], Any], dict[str, int]]:
    def effect(r: dict[str, Any], before: Any) -> dict[str, int]:
        decisions = _count(select(func.count()).select_from(Decision)
                           .where(Decision.bid_id == r["bid"], Decision.outcome == outcome))
        counts = {f"{outcome.value} decisions": decisions,
                  "bid decided": int(_bid(r).status in {BidStatus.AWARDED, BidStatus.NOT_FUNDED})}
        if outcome == DecisionOutcome.APPROVED:
            counts["awards offered"] = _count(select(func.count()).select_from(Award)
                                              .where(Award.bid_id == r["bid"]))
            counts["amounts committed"] = (round_committed(r) - before) // AMOUNT
        return counts

    return effect


def assignments(r: dict[str, Any], _before: Any) -> dict[str, int]:
    return {"assignments": _count(select(func.count()).select_from(Assignment)
                                  .where(Assignment.bid_id == r["bid"]))}


def _assignment(r: dict[str, Any]) -> Assignment:
    return session.get(Assignment, r["assignment"], populate_existing=True)


def declared(status: ConflictStatus) -> Callable[[dict[str, Any], Any], dict[str, int]]:
    def effect(r: dict[str, Any], _before: Any) -> dict[str, int]:
        return {f"declared {status.value}": int(_assignment(r).conflict == status)}

    return effect


def assessment_in(status: AssessmentStatus) -> Callable[[dict[str, Any], Any], dict[str, int]]:
    def effect(r: dict[str, Any], _before: Any) -> dict[str, int]:
        return {f"assessment {status.value}": int(_assignment(r).status == status)}

    return effect


def moderations(r: dict[str, Any], _before: Any) -> dict[str, int]:
    return {"moderations": _count(select(func.count()).select_from(Moderation)
                                  .where(Moderation.bid_id == r["bid"]))}


def _award(r: dict[str, Any]) -> Award:
    return session.get(Award, r["award"], populate_existing=True)


def offer_accepted(r: dict[str, Any], _before: Any) -> dict[str, int]:
    award = _award(r)
    return {"acceptances": int(award.status == AwardStatus.ACTIVE
                               and award.accepted_at is not None)}


PAYMENT = 50_000  # £500 of the £1,000


def payments(r: dict[str, Any], _before: Any) -> dict[str, int]:
    return {"payments": _count(select(func.count()).select_from(Payment)
                               .where(Payment.award_id == r["award"])),
            "£500s paid": _award(r).paid_pence // PAYMENT}


def repayment_received(r: dict[str, Any], _before: Any) -> dict[str, int]:
    repayment = session.get(Repayment, r["repayment"], populate_existing=True)
    return {"repayments received": int(repayment.received_on is not None)}


def reviewed(outcome: str) -> Callable[[dict[str, Any], Any], dict[str, int]]:
    def effect(r: dict[str, Any], _before: Any) -> dict[str, int]:
        return {f"reviews {outcome}": _count(
            select(func.count()).select_from(ReturnReview)
            .where(ReturnReview.return_id == r["return"], ReturnReview.outcome == outcome))}

    return effect


def return_submitted_effect(r: dict[str, Any], _before: Any) -> dict[str, int]:
    grant_return = session.get(GrantReturn, r["return"], populate_existing=True)
    return {"returns submitted": int(grant_return.status == ReturnStatus.SUBMITTED)}


def variations_requested(r: dict[str, Any], _before: Any) -> dict[str, int]:
    return {"variations": _count(select(func.count()).select_from(Variation)
                                 .where(Variation.award_id == r["award"]))}


def variation_decided(status: VariationStatus) -> Callable[[dict[str, Any], Any], dict[str, int]]:
    def effect(r: dict[str, Any], _before: Any) -> dict[str, int]:
        variation = session.get(Variation, r["variation"], populate_existing=True)
        counts = {f"variations {status.value}": int(variation.status == status)}
        if status == VariationStatus.APPROVED:
            counts["end dates moved by 30 days"] = (
                (_award(r).end_date - r["end_date"]).days // 30)
        return counts

    return effect


# --- forms as data (issue 15) -------------------------------------------------------------------


def _form_owner(r: dict[str, Any]) -> Any:
    from portal.services import form_design

    if "fund" in r:
        return form_design.of_fund(session.get(Fund, r["fund"]))
    return form_design.of_round(session.get(Round, r["round"]))


_FORM_ROUNDS = iter(("SCF", "YF", "PCF"))  # each publish scenario its own round's form
_RETURN_FUNDS = iter(("YF", "SCF"))  # and its own fund's return form


def form_with_draft(app: Flask) -> dict[str, Any]:
    """A draft bid on a round (its form in use) and a question added to the form since: a
    draft version waiting to be published. Each call takes the next round: the scenarios
    are all built before the races."""
    from portal.services import bids, form_design

    code = next(_FORM_ROUNDS)

    def work() -> dict[str, Any]:
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == code))
        bid = bids.start_bid(round_, _user(OFFICER), bids.new_creation_token())
        owner = form_design.of_round(round_)
        form_design.add_question(owner, form_design.design(owner).expected, "delivery",
                                 "yes_no", form_design.QuestionDetails(
                                     label="Will young people take part?",
                                     key=f"young_{bid.id}"), _user(MANAGER))
        return {"round": round_.id, "bid": bid.id,
                "version": form_design.design(owner).number}

    return _step(app, work)


def return_form_with_draft(app: Flask) -> dict[str, Any]:
    """The Youth Fund's return form, in use by a return, with a question added since: a
    draft version waiting to be published."""
    from portal.models import FormVersion
    from portal.services import form_design

    code = next(_RETURN_FUNDS)

    def work() -> dict[str, Any]:
        fund = session.scalar(select(Fund).where(Fund.code == code))
        owner = form_design.of_fund(fund)
        manager = _user(MANAGER)
        if form_design.design(owner).definition.section("progress") is None:
            form_design.add_section(owner, form_design.design(owner).expected,
                                    form_design.SectionDetails("progress", "Progress"), manager)
        live = session.scalar(select(FormVersion).where(FormVersion.fund_id == fund.id,
                                                        FormVersion.published_at.is_not(None))
                              .order_by(FormVersion.number.desc()).limit(1))
        live.in_use = True  # as a return started on it would make it
        session.flush()
        form_design.add_question(owner, form_design.design(owner).expected, "progress", "rag",
                                 form_design.QuestionDetails(label="Overall progress"), manager)
        return {"fund": fund.id, "version": form_design.design(owner).number}

    return _step(app, work)


def form_round(code: str) -> Callable[[Flask], dict[str, Any]]:
    def build(app: Flask) -> dict[str, Any]:
        return _step(app, lambda: {"round": session.scalar(
            select(Round.id).join(Fund).where(Fund.code == code))})

    return build


def version_published(r: dict[str, Any], _before: Any) -> dict[str, int]:
    from portal.models import FormVersion

    owner = (FormVersion.fund_id == r["fund"]) if "fund" in r else \
        (FormVersion.round_id == r["round"])
    counts = {"version published": _count(
        select(func.count()).select_from(FormVersion)
        .where(owner, FormVersion.number == r["version"], FormVersion.published_at.is_not(None))),
        "no later version": int(_count(select(func.max(FormVersion.number)).where(owner))
                                == r["version"])}
    if "bid" in r:
        counts["draft bid moved"] = int(_bid(r).form_version.number == r["version"])
    return counts


def _evidence_rows(r: dict[str, Any]) -> int:
    return _count(select(func.count()).select_from(EvidenceFile)
                  .where(EvidenceFile.bid_id == r["bid"]))


def _stored_names() -> set[str]:
    from portal import storage

    return {name for name, _when in storage.current_store().names()}


def _evidence_before(r: dict[str, Any]) -> tuple[int, set[str]]:
    return _evidence_rows(r), _stored_names()


def file_uploaded(r: dict[str, Any], before: tuple[int, set[str]]) -> dict[str, int]:
    """The upload's one effect: one row more, and one object more in the store (none
    left behind by a post that did not act)."""
    rows, names = before
    return {"files attached": _evidence_rows(r) - rows,
            "objects stored": len(_stored_names() - names)}


def file_removed(r: dict[str, Any], before: tuple[int, set[str]]) -> dict[str, int]:
    """The removal's one effect: one row fewer (the other file kept), its object gone."""
    rows, _names = before
    return {"files removed": rows - _evidence_rows(r),
            "object deleted from the store": int(r["stored"] not in _stored_names())}


def _section_place(r: dict[str, Any]) -> int:
    from portal.services import form_design

    definition = form_design.design(_form_owner(r)).definition
    return [s.key for s in definition.sections].index(r.get("section", "outcomes"))


def return_form_of_two_sections(app: Flask) -> dict[str, Any]:
    """The Putting Communities First fund's return form with three sections of its own."""
    from portal.services import form_design

    def work() -> dict[str, Any]:
        fund = session.scalar(select(Fund).where(Fund.code == "PCF"))
        owner = form_design.of_fund(fund)
        for key in ("first_extra", "second_extra", "third_extra"):
            if form_design.design(owner).definition.section(key) is not None:
                continue  # made for the other variant (every scenario is built first)
            form_design.add_section(owner, form_design.design(owner).expected,
                                    form_design.SectionDetails(key, key.replace("_", " ")),
                                    _user(MANAGER))
        # Its last section moves up once in each race: third to second, then to first.
        return {"fund": fund.id, "section": "third_extra"}

    return _step(app, work)


def moved_up_once(r: dict[str, Any], before: int) -> dict[str, int]:
    return {"moved up one place": int(_section_place(r) == before - 1)}


# --- the scenarios -------------------------------------------------------------------------------


def _day_month_year(day: date) -> list[str]:
    """A date as typed in the three boxes of a GOV.UK date input (posted under one name)."""
    return [str(day.day), str(day.month), str(day.year)]


def _today() -> list[str]:
    return _day_month_year(uk_today())


@dataclass(frozen=True)
class Scenario:
    """One one-shot action, posted by ``actor``: where its form is, what is posted, and what
    its one effect is."""

    endpoint: str
    variant: str
    build: Callable[[Flask], dict[str, Any]]
    actor: str
    form_page: Callable[[dict[str, Any]], str]
    data: Callable[[dict[str, Any]], dict[str, Any]]
    action: str  # the audit action of its one effect
    effect: Callable[[dict[str, Any], Any], dict[str, int]]  # every count must be 1
    done: str  # a pattern the page shows the one post that acted
    post_to: Callable[[dict[str, Any]], str] | None = None  # the form's action, if not the page
    transition: tuple[str, str] | None = None  # (workflow, transition): whom it tells
    tells: tuple[str, ...] = ()  # audiences told besides (actions outside the workflows)
    before: Callable[[dict[str, Any]], Any] = lambda r: None  # read just before the race
    rivals: tuple[str, ...] = ()  # people who may also take it: the race of different forms
    done_anywhere: bool = False  # ``done`` may be in the page itself, not only in a notice
    # Files posted with the form (field name -> file name, content, content type).
    files: Callable[[dict[str, Any]], dict[str, tuple[str, bytes, str]]] | None = None

    @property
    def name(self) -> str:
        return f"{self.endpoint}[{self.variant}]"

    def audiences(self) -> tuple[str, ...]:
        told = ()
        if self.transition is not None:
            workflow, name = self.transition
            told = WORKFLOWS[workflow].transitions[name].tell
        return tuple(dict.fromkeys((*told, *self.tells)))


def _assessment_data(r: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"recommendation": "fund", "comments": "A clear, costed plan",
                            "submit": "Submit assessment"}
    for criterion in r["criteria"]:
        data[f"score-{criterion}"] = "4"
        data[f"justification-{criterion}"] = "Good evidence of need"
    return data


def _return_data(r: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {f"line-{line}": "400" for line in r["lines"]}
    for measure in r["measures"]:
        data.update({f"achieved-{measure}": "250", f"rag-{measure}": "green",
                     f"narrative-{measure}": "Lights given out at six sessions"})
    data.update({"case_study": "A family now cycles to school in winter",
                 "forecast_underspend": "", "submit": "Submit return"})
    return data


def _approve_data(_r: dict[str, Any]) -> dict[str, Any]:
    return {"outcome": "approve", "amount": "1,000", "purpose": "Bike lights",
            "conditions": "", "reasons": "Safer roads for children", "feedback": ""}


SCENARIO_LIST: list[Scenario] = [
    Scenario("applicant.submit", "submit a bid", draft_bid, OFFICER,
             form_page=lambda r: f"/bids/{r['bid']}/check-answers",
             post_to=lambda r: f"/bids/{r['bid']}/submit",
             data=lambda r: {"submit": "Submit bid"},
             action="bid.submitted", effect=references_taken, before=reference_counter,
             transition=("bid", "submit"), done=r"Bid submitted"),
    Scenario("applicant.withdraw", "withdraw a bid",
             lambda app: assign(app, submitted_bid(app), ASSESSOR_2), OFFICER,
             form_page=lambda r: f"/bids/{r['bid']}/withdraw",
             data=lambda r: {"reason": "The schools pulled out"},
             action="bid.withdrawn", effect=bid_in(BidStatus.WITHDRAWN),
             transition=("bid", "withdraw"), done=r"Bid \S+ withdrawn\."),
    # A double click on Upload, or on one file's Remove (each file has its own form).
    Scenario("applicant.evidence_files", "upload evidence", draft_bid, OFFICER,
             form_page=lambda r: f"/bids/{r['bid']}/evidence",
             data=lambda r: {"description": "Leaflet for the schools"},
             files=lambda r: {"file": ("leaflet.pdf", PDF, "application/pdf")},
             action="bid.evidence_added", effect=file_uploaded, before=_evidence_before,
             done=r"“leaflet\.pdf” uploaded"),
    Scenario("applicant.remove_evidence", "remove evidence", bid_with_files, OFFICER,
             form_page=lambda r: f"/bids/{r['bid']}/evidence",
             post_to=lambda r: f"/bids/{r['bid']}/evidence/{r['evidence']}/remove",
             data=lambda r: {}, action="bid.evidence_removed", effect=file_removed,
             before=_evidence_before, done=r"File removed"),
    Scenario("applicant.answer", "answer a question",
             lambda app: ask(app, assign(app, submitted_bid(app), ASSESSOR_1)), OFFICER,
             form_page=lambda r: f"/bids/{r['bid']}/answer",
             data=lambda r: {"answer": "Four primary schools"},
             action="bid.question_answered", effect=questions_answered,
             transition=("bid", "answer_in_assessment"), done=r"Your answer has been sent"),
    Scenario("decisions.ask", "request more information", submitted_bid, MANAGER,
             form_page=lambda r: f"/manage/bids/{r['bid']}/ask",
             data=lambda r: {"question": "Which schools?", "respond_by": ["", "", ""]},
             action="bid.information_requested", effect=questions_asked,
             transition=("bid", "request_information"), done=r"Your question has been sent"),
    Scenario("decisions.decide", "approve", assessed_bid, MANAGER,
             form_page=lambda r: f"/manage/bids/{r['bid']}/decide", data=_approve_data,
             action="decision.approved", effect=decided(DecisionOutcome.APPROVED),
             before=round_committed, transition=("bid", "award"),
             done=r"Decision recorded", rivals=(MANAGER, MANAGER_2)),
    Scenario("decisions.decide", "decline", assessed_bid, MANAGER,
             form_page=lambda r: f"/manage/bids/{r['bid']}/decide",
             data=lambda r: {"outcome": "decline", "amount": "", "purpose": "",
                             "conditions": "", "reasons": "",
                             "feedback": "Another scheme already covers these lanes"},
             action="decision.declined", effect=decided(DecisionOutcome.DECLINED),
             transition=("bid", "decline"), done=r"Decision recorded",
             rivals=(MANAGER, MANAGER_2)),
    Scenario("decisions.bid", "assign an assessor",
             lambda app: {**submitted_bid(app), "assessor_email": ASSESSOR_1}, MANAGER,
             form_page=lambda r: f"/manage/bids/{r['bid']}",
             data=lambda r: {"assessor": str(r["assessor"]), "submit": "Assign"},
             action="assessment.assigned", effect=assignments, tells=("assessor",),
             done=r"\bassigned\.(\s|$)", rivals=(MANAGER, MANAGER_2)),
    Scenario("decisions.round_page", "assign an assessor to chosen bids",
             lambda app: {**submitted_bid(app), "assessor_email": ASSESSOR_2}, MANAGER,
             form_page=lambda r: f"/manage/rounds/{r['round']}",
             data=lambda r: {"bids": [str(r["bid"])], "assessor": str(r["assessor"]),
                             "submit": "Assign selected bids"},
             action="assessment.assigned", effect=assignments, tells=("assessor",),
             done=r"assigned to \d+ bids?\b"),
    Scenario("review.declare", "declare a conflict",
             lambda app: assign(app, submitted_bid(app), ASSESSOR_2), ASSESSOR_2,
             form_page=lambda r: f"/assess/{r['assignment']}/declaration",
             data=lambda r: {"conflict": "yes", "reason": "My sister chairs the partnership"},
             action="assessment.conflict_declared", effect=declared(ConflictStatus.CONFLICTED),
             transition=("declaration", "declare_conflict"),
             done=r"You have declared a conflict of interest"),
    Scenario("review.declare", "declare no conflict",
             lambda app: with_criteria(app, assign(app, submitted_bid(app), ASSESSOR_2)),
             ASSESSOR_2,
             form_page=lambda r: f"/assess/{r['assignment']}/declaration",
             data=lambda r: {"conflict": "no", "reason": ""},
             action="assessment.conflict_declared", effect=declared(ConflictStatus.NONE),
             transition=("declaration", "declare_none"),
             done=r"Submit assessment", done_anywhere=True),
    Scenario("review.assess", "submit an assessment",
             lambda app: with_criteria(app, declare_none(app, assign(app, submitted_bid(app),
                                                                      ASSESSOR_1))),
             ASSESSOR_1,
             form_page=lambda r: f"/assess/{r['assignment']}", data=_assessment_data,
             action="assessment.submitted", effect=assessment_in(AssessmentStatus.SUBMITTED),
             transition=("assessment", "submit"), done=r"Assessment submitted"),
    Scenario("review.reopen", "reopen an assessment", submitted_assessment, ASSESSOR_1,
             form_page=lambda r: f"/assess/{r['assignment']}",
             post_to=lambda r: f"/assess/{r['assignment']}/reopen", data=lambda r: {},
             action="assessment.reopened", effect=assessment_in(AssessmentStatus.DRAFT),
             transition=("assessment", "reopen"), done=r"[Rr]eopened"),
    Scenario("decisions.moderate", "moderate the scores", submitted_assessment, MANAGER,
             form_page=lambda r: f"/manage/bids/{r['bid']}/moderate",
             data=lambda r: {**{f"score-{c}": "3" for c in r["criteria"]},
                             "rationale": "The assessor was generous on value for money"},
             action="assessment.moderated", effect=moderations,
             done=r"Moderated scores saved", rivals=(MANAGER, MANAGER_2)),
    Scenario("applicant.accept_offer", "accept the offer",
             lambda app: approved(app, OFFICER_HUNTS), OFFICER_HUNTS,
             form_page=lambda r: f"/awards/{r['award']}/accept",
             data=lambda r: {"name": "Hana Officer", "role": "CSP manager", "confirm": "y"},
             action="award.accepted", effect=offer_accepted, transition=("award", "accept"),
             done=r"You have accepted the offer", rivals=(OFFICER_HUNTS, OFFICER_HUNTS_2)),
    Scenario("finance.record_payment", "record a payment", accepted, FINANCE,
             form_page=lambda r: f"/finance/awards/{r['award']}",
             post_to=lambda r: f"/finance/awards/{r['award']}/payments",
             data=lambda r: {"amount": "500", "paid_on": _today(), "reference": "BACS-0001",
                             "record_payment": "Record payment"},
             action="award.payment_recorded", effect=payments,
             done=r"Payment of .* recorded", rivals=(FINANCE, FINANCE_2)),
    Scenario("finance.record_repayment", "record a repayment", repayment_awaited, FINANCE,
             form_page=lambda r: f"/finance/awards/{r['award']}",
             post_to=lambda r: f"/finance/awards/{r['award']}/repayments/{r['repayment']}",
             data=lambda r: {"received_on": _today(), "received_reference": "REPAY-0001",
                             "record_repayment": "Record as received"},
             action="award.repayment_received", effect=repayment_received,
             transition=("repayment", "receive"), done=r"Repayment of .* recorded as received",
             rivals=(FINANCE, FINANCE_2)),
    Scenario("finance.check_return", "approve a return",
             lambda app: return_submitted(app, accepted(app)), FINANCE,
             form_page=lambda r: f"/finance/returns/{r['return']}",
             data=lambda r: {"outcome": "approve", "comments": ""},
             action="return.approved", effect=reviewed("approved"),
             transition=("return", "approve"), done=r"[Rr]eturn approved",
             rivals=(FINANCE, FINANCE_2)),
    Scenario("finance.check_return", "query a return",
             lambda app: return_submitted(app, accepted(app)), FINANCE,
             form_page=lambda r: f"/finance/returns/{r['return']}",
             data=lambda r: {"outcome": "query", "comments": "Please attach the invoices"},
             action="return.queried", effect=reviewed("queried"),
             transition=("return", "query"), done=r"Return queried"),
    Scenario("applicant.award_return", "submit a return", accepted, OFFICER,
             form_page=lambda r: f"/awards/{r['award']}/returns/{r['return']}",
             data=_return_data, action="return.submitted", effect=return_submitted_effect,
             transition=("return", "submit"), done=r"Return submitted"),
    # The issue: "a variation request reaches the manager".
    Scenario("applicant.new_variation", "request a variation", accepted, OFFICER,
             form_page=lambda r: f"/awards/{r['award']}/variations/new",
             data=lambda r: {"kind": "extension", "reason": "The schools asked for spring",
                             "new_end_date": _day_month_year(r["end_date"] + timedelta(days=30)),
                             "from_line": "", "to_line": "", "new_item": "", "amount": ""},
             action="variation.requested", effect=variations_requested, tells=("managers",),
             done=r"Your request has been sent"),
    Scenario("decisions.variation", "approve a variation", variation_requested, MANAGER,
             form_page=lambda r: f"/manage/variations/{r['variation']}",
             data=lambda r: {"outcome": "approve", "comment": "Agreed"},
             action="variation.approved", effect=variation_decided(VariationStatus.APPROVED),
             transition=("variation", "approve"), done=r"Variation approved",
             rivals=(MANAGER, MANAGER_2)),
    Scenario("decisions.variation", "approve a carry-forward", carry_forward_requested,
             MANAGER, form_page=lambda r: f"/manage/variations/{r['variation']}",
             data=lambda r: {"outcome": "approve", "comment": "Agreed"},
             action="award.carried_forward", effect=carried_forward,
             transition=("variation", "approve"), done=r"Variation approved",
             rivals=(MANAGER, MANAGER_2)),
    Scenario("decisions.variation", "decline a variation", variation_requested, MANAGER,
             form_page=lambda r: f"/manage/variations/{r['variation']}",
             data=lambda r: {"outcome": "decline", "comment": "The round ends in March"},
             action="variation.declined", effect=variation_decided(VariationStatus.DECLINED),
             transition=("variation", "decline"), done=r"Variation declined"),
    Scenario("decisions.round_form_publish", "publish a round's form", form_with_draft,
             MANAGER, form_page=lambda r: f"/manage/rounds/{r['round']}/form",
             post_to=lambda r: f"/manage/rounds/{r['round']}/form/publish",
             data=lambda r: {}, action="form.published", effect=version_published,
             done=r"Version \d+ of the form is published", rivals=(MANAGER, MANAGER_2)),
    Scenario("decisions.return_form_publish", "publish a fund's return form",
             return_form_with_draft, MANAGER,
             form_page=lambda r: f"/manage/funds/{r['fund']}/return-form",
             post_to=lambda r: f"/manage/funds/{r['fund']}/return-form/publish",
             data=lambda r: {}, action="form.published", effect=version_published,
             done=r"Version \d+ of the form is published", rivals=(MANAGER, MANAGER_2)),
    Scenario("decisions.round_form_move", "move a section of a round's form",
             form_round("PCF"), MANAGER, form_page=lambda r: f"/manage/rounds/{r['round']}/form",
             post_to=lambda r: f"/manage/rounds/{r['round']}/form/move",
             data=lambda r: {"move": "section:outcomes:up"}, action="form.section_moved",
             effect=moved_up_once, before=_section_place, done=r"moved up",
             rivals=(MANAGER, MANAGER_2)),
    Scenario("decisions.return_form_move", "move a section of a fund's return form",
             return_form_of_two_sections, MANAGER,
             form_page=lambda r: f"/manage/funds/{r['fund']}/return-form",
             post_to=lambda r: f"/manage/funds/{r['fund']}/return-form/move",
             data=lambda r: {"move": "section:third_extra:up"}, action="form.section_moved",
             effect=moved_up_once, before=_section_place, done=r"moved up",
             rivals=(MANAGER, MANAGER_2)),
]

SCENARIOS: dict[str, list[Scenario]] = {}
for _scenario in SCENARIO_LIST:
    SCENARIOS.setdefault(_scenario.endpoint, []).append(_scenario)


def one_shot_endpoints(app: Flask) -> set[str]:
    """Every endpoint whose view acts once per form."""
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if is_one_shot(app.view_functions[rule.endpoint])}


def _routes_app() -> Flask:
    """The app, for its URL map only (no database is opened)."""
    return create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "routes",
                       "AUDIT_KEY": "routes"})


ONE_SHOT = one_shot_endpoints(_routes_app())
RUNNING = [s for s in SCENARIO_LIST if s.endpoint in ONE_SHOT]
CASES = [(s, "double click") for s in RUNNING] + [(s, "rivals") for s in RUNNING if s.rivals]


# --- the server, once for the module -------------------------------------------------------------


@dataclass
class Harness:
    app: Flask
    server: PortalServer
    mail: MailServer
    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def _with_people(app: Flask, r: dict[str, Any]) -> dict[str, Any]:
    """Ids the posts need: the assessor to assign, when the scenario names one."""
    if "assessor_email" in r:
        r = {**r, "assessor": _step(app, lambda: _user(r["assessor_email"]).id)}
    return r


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    directory: Path = tmp_path_factory.mktemp("one-shot")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    url, remove = isolated_database("postgresql", directory,
                                    "oneshot" + (f"_{worker}" if worker else ""))
    app = make_test_app(url, directory)
    engine = get_db(app).engine
    mail = MailServer()
    server = PortalServer(database_url=url, directory=directory,
                          secret_key=app.config["SECRET_KEY"], audit_key=app.config["AUDIT_KEY"],
                          workers=3)
    try:
        migrate.upgrade(engine)
        load_demo(app)
        add_second_staff(app)
        server.mail_port = mail.start().port
        server.start(wait_seconds=None)  # its workers boot while the records are built
        records: dict[tuple[str, str], dict[str, Any]] = {}
        # Every running scenario's records, built up front: the races then only post.
        for scenario in RUNNING:
            records[(scenario.name, "double click")] = _with_people(app, scenario.build(app))
            if scenario.rivals:
                records[(scenario.name, "rivals")] = _with_people(app, scenario.build(app))
        engine.dispose()
        server.wait_until_up()
        yield Harness(app, server, mail, records)
    finally:
        server.stop()
        mail.stop()
        engine.dispose()
        remove()


# --- the race and what it must show --------------------------------------------------------------


@dataclass
class Click:
    """One post released at the barrier: its response and, its redirect followed, the page."""

    who: str
    response: Page | None = None
    page: Page | None = None
    error: BaseException | None = None

    def verdict(self, scenario: Scenario) -> str:
        if self.page is None:
            return "no page"
        notices = " | ".join(self.page.notices())
        if ALREADY in notices:
            return "already done"
        if re.search(scenario.done, notices) or (
                scenario.done_anywhere and re.search(scenario.done, self.page.visible_text())):
            return "done"
        return "refused" if notices else "silent"

    def line(self, scenario: Scenario) -> str:
        if self.error is not None:
            return f"{self.who}: {type(self.error).__name__}: {self.error}"
        notices = self.page.notices() if self.page is not None and self.page.is_html else []
        return f"{self.who}: {self.page.describe() if self.page else '?'} " \
               f"[{self.verdict(scenario)}] {notices}"


def _prepare(harness: Harness, scenario: Scenario, r: dict[str, Any],
             race: str) -> list[tuple[Browser, Any]]:
    """Signed-in sessions and the forms they will post, read before the race."""
    form_page = scenario.form_page(r)
    action = scenario.post_to(r) if scenario.post_to else None
    if race == "double click":
        browser = harness.server.browser().sign_in(scenario.actor)
        form = browser.form(form_page, action)
        assert form.once, f"{scenario.name}: the form on {form_page} carries no one-time token"
        return [(browser.fork(), form) for _ in range(DOUBLE_CLICKS)]
    prepared = []
    for index in range(RIVALS):
        browser = harness.server.browser().sign_in(scenario.rivals[index % len(scenario.rivals)])
        prepared.append((browser, browser.form(form_page, action)))
    tokens = {form.once for _browser, form in prepared}
    assert len(tokens) == RIVALS, f"{scenario.name}: rival forms share one-time tokens"
    return prepared


def _expected_recipients(scenario: Scenario, r: dict[str, Any]) -> set[str]:
    """The addresses of everyone the scenario's action must tell."""
    def role(name: Role, organisation: int | None = None) -> set[str]:
        statement = (select(User.email).join(UserRole)
                     .where(UserRole.role == name, User.active.is_(True)))
        if organisation is not None:
            statement = statement.where(User.organisation_id == organisation)
        return set(session.scalars(statement))

    people: set[str] = set()
    for audience in scenario.audiences():
        if audience == "partnership":
            people |= role(Role.OFFICER, r["org"])
        elif audience == "managers":
            people |= role(Role.MANAGER)
        elif audience == "finance":
            people |= role(Role.FINANCE)
        elif audience == "assessors":
            people |= set(session.scalars(
                select(User.email).join(Assignment, Assignment.assessor_id == User.id)
                .where(Assignment.bid_id == r["bid"], User.active.is_(True),
                       Assignment.conflict != ConflictStatus.CONFLICTED)))
        elif audience == "assessor":
            people.add(session.get(User, r["assessor"]).email)
        else:
            raise AssertionError(f"{scenario.name}: unknown audience {audience!r}")
    return people


def _race(harness: Harness, scenario: Scenario, race: str) -> None:
    app, server, mail = harness.app, harness.server, harness.mail
    r = harness.records[(scenario.name, race)]
    prepared = _prepare(harness, scenario, r, race)
    data = scenario.data(r)
    files = scenario.files(r) if scenario.files else None
    with app.app_context():
        before = scenario.before(r)
        audit_mark = _count(select(func.max(AuditEvent.id)))
        session.rollback()
    mail_mark, log_mark = mail.mark(), server.log_offset()

    def click(browser: Browser, form: Any) -> Callable[[], Click]:
        def post() -> Click:
            result = Click(browser.email or "?")
            result.response = browser.post(form, data, files=files)
            result.page = browser.follow(result.response)
            return result

        return post

    outcomes = release_together([click(browser, form) for browser, form in prepared])
    clicks = []
    for (browser, _form), outcome in zip(prepared, outcomes):
        clicks.append(outcome.value if outcome.error is None
                      else Click(browser.email or "?", error=outcome.error))

    problems: list[str] = []
    for index, item in enumerate(clicks):
        if item.error is not None or item.page is None:
            problems.append(f"post {index}: no response ({item.error!r})")
            continue
        hop: Page | None = item.page
        while hop is not None:
            if hop.status >= 500:
                problems.append(f"post {index}: {hop.method} {hop.path} answered {hop.status}")
            hop = hop.redirected_from
        page = item.page
        if page.status != 200 or not page.is_html or not page.title():
            problems.append(f"post {index}: ended on {page.describe()}, not a page")
        elif "Traceback (most recent call last)" in page.text:
            problems.append(f"post {index}: a stack trace reached the page")
    verdicts = Counter(item.verdict(scenario) for item in clicks)
    if verdicts["done"] != 1:
        problems.append(f"{verdicts['done']} pages say it was done, not 1")
    if verdicts["silent"] or verdicts["no page"]:
        problems.append("some pages say nothing of what happened to the post")
    if race == "double click" and verdicts["already done"] != DOUBLE_CLICKS - 1:
        problems.append(f"{verdicts['already done']} repeated posts were shown the first "
                        f"one's result ({ALREADY!r}), not {DOUBLE_CLICKS - 1}")

    with app.app_context():
        effect = scenario.effect(r, before)
        events = list(session.execute(
            select(AuditEvent.action, AuditEvent.record_type, AuditEvent.record_id)
            .where(AuditEvent.id > audit_mark).order_by(AuditEvent.id)))
        expected_people = _expected_recipients(scenario, r)
        session.rollback()
    wrong = {what: n for what, n in effect.items() if n != 1}
    if wrong:
        problems.append(f"effect counted {effect}, every count should be 1")
    actions = Counter(action for action, _type, _id in events)
    if actions[scenario.action] != 1:
        problems.append(f"{actions[scenario.action]} audit events {scenario.action!r}, not 1")
    # No action recorded twice on one record (one effect may touch several records: a
    # form's publishing moves each draft bid, each bid's history saying so once).
    per_record = Counter(events)
    twice = {f"{action} {kind} {ident}": n for (action, kind, ident), n in per_record.items()
             if n > 1}
    if twice:
        problems.append(f"audit actions recorded more than once: {twice}")

    messages = mail.since(mail_mark)
    received = Counter(address.strip() for message in messages
                       for address in str(message["To"]).split(","))
    missing = sorted(expected_people - set(received))
    if missing:
        problems.append(f"not told: {missing}")
    told_twice = {address: n for address, n in received.items() if n > 1}
    if told_twice:
        problems.append(f"told more than once: {told_twice}")

    errors = server.errors(log_mark)
    if errors:
        problems.append("the server logged errors")
    if problems:
        report = [f"{scenario.name}, {race}: {len(clicks)} posts released together",
                  *[f"  - {p}" for p in problems],
                  "posts:", *[f"  {item.line(scenario)}" for item in clicks],
                  f"effect: {effect}",
                  f"audit events since the race began: {[tuple(e) for e in events]}",
                  f"emails: {[(str(m['To']), str(m['Subject'])) for m in messages]}",
                  f"expected to be told: {sorted(expected_people)}"]
        if errors or server.server_errors(log_mark):
            report += ["server log (5xx and errors since the race began):",
                       *server.server_errors(log_mark), *errors]
        report.append(f"full server log: {server.log_path}")
        pytest.fail("\n".join(report), pytrace=False)


# --- the tests -----------------------------------------------------------------------------------


def test_every_one_shot_endpoint_has_a_scenario() -> None:
    """A one-shot view without a scenario here would escape the race: write one."""
    found = one_shot_endpoints(_routes_app())
    missing = sorted(found - set(SCENARIOS))
    assert not missing, f"one-shot endpoints with no scenario in SCENARIOS: {missing}"
    assert found, "no one-shot endpoint found: is_one_shot no longer finds them"


@pytest.mark.parametrize(("scenario", "race"), CASES,
                         ids=[f"{s.name}-{race.replace(' ', '-')}" for s, race in CASES])
def test_a_one_shot_action_posted_at_once_acts_once(harness: Harness, scenario: Scenario,
                                                    race: str) -> None:
    _race(harness, scenario, race)


def test_the_audit_chain_holds_after_the_races(harness: Harness) -> None:
    """Every worker wrote to one hash chain: it is unbroken."""
    from portal.services import audit

    with harness.app.app_context():
        checked, broken = audit.verify(harness.app.config["AUDIT_KEY"])
        session.rollback()
    assert broken is None, f"the audit chain breaks at event {broken} ({checked} checked)"
