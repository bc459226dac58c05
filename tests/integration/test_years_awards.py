"""Money over several financial years (issue 14): eligible spend and what is left per year,
payments never ahead of the plan, returns in every year, the action plan's RAG in returns, a
re-allocation proposed when an action closes with money left, and carry-forward variations.
Multi-year awards are built from an ordinary award moved onto a round of three years."""

from __future__ import annotations

import inspect
import re
from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.db import session, uk_today
from portal.models import (
    AuditEvent,
    Award,
    AwardAction,
    AwardStatus,
    GrantReturn,
    ReturnKind,
    ReturnStatus,
    Round,
    RoundYear,
    Variation,
    VariationKind,
    VariationStatus,
)
from portal.models.funds import ReturnCadence
from portal.services import DomainError, accounts, awards, return_evidence, variations, years
from portal.services.rounds import financial_year_of
from tests.helpers import signed_in, table_row_counts, text_of
from tests.integration.test_finance import FINANCE, MANAGER, OFFICER, error_beside, make_award

LINES = [("Bike lights", "capital", 200000), ("Mechanic", "revenue", 200000),
         ("Domestic abuse conference", "revenue", 100000)]
THIS_YEAR = financial_year_of(uk_today())


def three_year_award(app, first: int, *, cadence=ReturnCadence.SIX_MONTHLY,
                     room: int = 1_000_000) -> int:
    """An accepted award of £5,000 over ``first`` .. ``first + 2``, each line split evenly over
    the years, on a round of those three years (each year's pot ``room`` pence beyond what the
    award commits), with actions 1.1 and 1.4 (the conference line relates to 1.4), payments
    planned as the lines are, returns every period."""
    award_id = make_award(app, lines=LINES, title="Three years of safer cycling")
    with app.test_request_context():
        award = session.get(Award, award_id)
        old = award.round
        spread = [years.split_evenly(line.revised_pence, range(first, first + 3))
                  for line in award.lines]
        totals = {year: sum(s[year] for s in spread) for year in range(first, first + 3)}
        round_ = Round(fund_id=old.fund_id, name=f"Three years from {first}, award {award_id}", financial_year=first,
                       years=3, opens_at=old.opens_at, closes_at=old.closes_at,
                       budget_pence=sum(totals.values()) + 3 * room, cap_pence=None,
                       committed_pence=sum(totals.values()),
                       eligible_organisation_types=old.eligible_organisation_types,
                       return_cadence=cadence)
        round_.year_budgets = [RoundYear(financial_year=year, budget_pence=totals[year] + room,
                                         committed_pence=totals[year]) for year in totals]
        session.add(round_)
        session.flush()
        award.round_id = round_.id
        award.start_date, award.end_date = date(first, 4, 1), date(first + 3, 3, 31)
        for line, split in zip(award.lines, spread, strict=True):
            line.original_years = line.revised_years = years.as_json(split)
        award.lines[2].action_numbers = ["1.4"]
        award.lines[0].action_numbers = ["1.1"]
        award.payment_plan = years.as_json(totals)
        award.actions = [AwardAction(position=1, number="1.1", title="Cycle marking", lead="Police"),
                         AwardAction(position=2, number="1.4", title="Domestic abuse conference",
                                     lead="CSP")]
        for grant_return in list(award.returns):
            award.returns.remove(grant_return)
        session.flush()
        weeks = old.fund.final_return_weeks
        award.returns = [GrantReturn(kind=kind, period_start=a, period_end=b, due_date=due,
                                     status=ReturnStatus.DUE)
                         for kind, a, b, due in awards.return_schedule(
                             award.start_date, award.end_date, cadence, weeks)]
        session.commit()
        return award_id


def user(email):
    return accounts.get_user_by_email(email)


def file(app, return_id, spend, *, actions=None, submit=True, approve=True):
    """Spend per line (in LINES order); every outcome; ``actions``: {number: (rag, text)}."""
    with app.test_request_context():
        grant_return = session.get(GrantReturn, return_id)
        award = grant_return.award
        outcomes = [awards.OutcomeInput(m.id, 1, "green", "Going well") for m in award.bid.outcomes]
        wanted = actions if actions is not None else {a.number: ("green", "On track")
                                                       for a in award.actions}
        reports = [awards.ActionInput(a.id, *wanted[a.number]) for a in award.actions
                   if a.number in wanted]
        awards.save_return(grant_return, {line.id: p for line, p in zip(award.lines, spend)},
                           outcomes, "", 0, submit=submit, actor=user(OFFICER), actions=reports)
        session.commit()
        if submit and approve:
            awards.review_return(grant_return, True, "", user(FINANCE))
            session.commit()


def returns_of(app, award_id):
    with app.app_context():
        return [(r.id, r.kind, r.period_end) for r in session.get(Award, award_id).returns]


def state(app, award_id):
    """What a refusal must leave as it was: the lines' years, the round's years, variations."""
    with app.app_context():
        award = session.get(Award, award_id)
        return ([dict(line.revised_years) for line in award.lines],
                [(r.financial_year, r.committed_pence) for r in award.round.year_budgets],
                [(v.id, v.status) for v in award.variations])


# --- 1. eligible spend and what is left, year by year ------------------------------------------


def test_eligible_spend_caps_each_line_in_each_year_and_underspend_at_close_is_the_sum(app):
    first = THIS_YEAR - 2
    award_id = three_year_award(app, first)
    with app.app_context():
        award = session.get(Award, award_id)
        allocation = [years.by_year(line.revised_years) for line in award.lines]
    with app.test_request_context():
        award = session.get(Award, award_id)
        awards.record_payment(award, award.amount_pence, uk_today(), "BACS-ALL", user(FINANCE))
        session.commit()
    # One return per year's last period: the first year overspends the lights (kept by the
    # recipient), the second underspends everything, the third spends the lights' second-year
    # money too (which it cannot: not carried forward).
    spends = {first: [80000, 60000, 10000], first + 1: [30000, 66667, 0],
              first + 2: [100000, 66666, 33333]}
    for return_id, _kind, period_end in returns_of(app, award_id):
        year = financial_year_of(period_end)
        spend = spends[year] if period_end.month == 3 else [0, 0, 0]
        file(app, return_id, spend)
    expected = sum(min(spends[year][i], allocation[i][year]) for i in range(3)
                   for year in spends)
    with app.app_context():
        award = session.get(Award, award_id)
        assert awards.eligible_spend(award) == expected
        figures = {row.year: row for row in awards.year_figures(award)}
        for year, spend in spends.items():
            assert figures[year].spend_pence == sum(spend)
            assert figures[year].left_pence == figures[year].allocation_pence - sum(
                min(spend[i], allocation[i][year]) for i in range(3))
        assert award.status.value == "closed"
        assert [r.amount_pence for r in award.repayments] == [500000 - expected]


def test_a_one_year_award_keeps_the_rule_of_one_cap_per_line(app):
    award_id = make_award(app)
    with app.app_context():
        award = session.get(Award, award_id)
        assert not awards.spans_years(award)
        ids = [r.id for r in award.returns]
    file(app, ids[0], [250000, 100000, 0])
    with app.app_context():
        assert awards.eligible_spend(session.get(Award, award_id)) == 200000 + 100000


def test_officer_and_finance_see_money_by_year_only_when_it_spans_years(app):
    award_id = three_year_award(app, THIS_YEAR - 1)
    one_year = make_award(app, title="One year only")
    officer, finance = signed_in(app, OFFICER), signed_in(app, FINANCE)
    label = years.year_label(THIS_YEAR)
    for client, url in ((officer, f"/awards/{award_id}"), (finance, f"/finance/awards/{award_id}")):
        page = text_of(client.get(url))
        assert "Money by financial year" in page and label in page
    assert "Money by financial year" not in text_of(officer.get(f"/awards/{one_year}"))
    assert "Money by financial year" not in text_of(finance.get(f"/finance/awards/{one_year}"))


# --- 2. payments planned per year -------------------------------------------------------------


def test_payments_never_run_ahead_of_the_plan(app):
    award_id = three_year_award(app, THIS_YEAR)
    with app.app_context():
        award = session.get(Award, award_id)
        planned = years.by_year(award.payment_plan)[THIS_YEAR]
        assert awards.payable_now(award) == planned
    finance = signed_in(app, FINANCE)
    day = uk_today()
    before = table_row_counts(app)
    response = finance.submit(f"/finance/awards/{award_id}/payments",
                              {"amount": str(planned / 100 + 1), "reference": "BACS-AHEAD",
                               "paid_on": [str(day.day), str(day.month), str(day.year)]},
                              form_url=f"/finance/awards/{award_id}")
    message = error_beside(response, "amount")
    assert "payment plan" in message and years.year_label(THIS_YEAR) in message
    assert table_row_counts(app) == before
    with app.test_request_context():
        award = session.get(Award, award_id)
        awards.record_payment(award, planned, day, "BACS-PLAN", user(FINANCE))
        session.commit()
        assert awards.payable_now(award) == 0
        assert awards.payments_by_year(award) == {THIS_YEAR: planned}
    page = text_of(finance.get(f"/finance/awards/{award_id}"))
    assert "Payments planned" in page and "Paid in the year" in page


# --- 3. returns across years -------------------------------------------------------------------


def test_returns_follow_the_cadence_across_years_and_every_year_has_one():
    six = awards.return_schedule(date(2022, 4, 1), date(2025, 3, 31), ReturnCadence.SIX_MONTHLY, 6)
    assert len(six) == 6 and [k for k, *_ in six].count(ReturnKind.FINAL) == 1
    assert six[-1][0] == ReturnKind.FINAL and six[-1][2] == date(2025, 3, 31)
    final_only = awards.return_schedule(date(2022, 4, 1), date(2025, 3, 31),
                                        ReturnCadence.FINAL_ONLY, 6)
    assert {financial_year_of(end) for _k, _s, end, _d in final_only} == {2022, 2023, 2024}
    assert [k for k, *_ in final_only] == [ReturnKind.PERIODIC, ReturnKind.PERIODIC,
                                          ReturnKind.FINAL]
    one_year = awards.return_schedule(date(2022, 4, 1), date(2023, 3, 31),
                                      ReturnCadence.FINAL_ONLY, 6)
    assert [k for k, *_ in one_year] == [ReturnKind.FINAL]


# --- 4. the action plan in returns -------------------------------------------------------------


def action_ids(app, award_id):
    with app.app_context():
        return {a.number: a.id for a in session.get(Award, award_id).actions}


def reports(app, return_id):
    with app.app_context():
        grant_return = session.get(GrantReturn, return_id)
        return sorted((row.action.number, row.rag.value if row.rag else None, row.narrative)
                      for row in grant_return.actions), sorted(row.id for row in grant_return.actions)


def test_a_return_saved_twice_keeps_one_row_per_action_changed_in_place(app):
    award_id = three_year_award(app, THIS_YEAR - 1)
    return_id = returns_of(app, award_id)[0][0]
    file(app, return_id, [0, 0, 0], submit=False,
         actions={"1.1": ("green", "Marked 40 bikes"), "1.4": ("amber", "Venue <b>booked</b>")})
    first, ids = reports(app, return_id)
    assert first == [("1.1", "green", "Marked 40 bikes"), ("1.4", "amber", "Venue <b>booked</b>")]
    file(app, return_id, [0, 0, 0], submit=False, actions={"1.1": ("red", "Marker broke")})
    assert reports(app, return_id)[0] == [("1.1", "red", "Marker broke")]
    assert reports(app, return_id)[1] == [ids[0]]
    file(app, return_id, [0, 0, 0], submit=False,
         actions={"1.1": ("green", "Fixed"), "1.4": (None, "")})
    assert reports(app, return_id)[0] == [("1.1", "green", "Fixed"), ("1.4", None, "")]


@pytest.mark.parametrize("actions, field", [
    ({"1.1": ("green", "Done")}, "action-rag-"),  # 1.4 missing on submit
    ({"1.1": ("green", "Done"), "1.4": ("closed", "   ")}, "action-narrative-"),
    ({"1.1": ("purple", "Done"), "1.4": ("closed", "x")}, "action-rag-"),
])
def test_a_return_submitted_without_every_action_is_refused_and_changes_nothing(app, actions,
                                                                                 field):
    award_id = three_year_award(app, THIS_YEAR - 1)
    return_id = returns_of(app, award_id)[0][0]
    before = table_row_counts(app)
    with pytest.raises(DomainError) as refused:
        file(app, return_id, [0, 0, 0], actions=actions)
    assert refused.value.field.startswith(field)
    assert table_row_counts(app) == before


def test_an_action_of_another_award_is_refused(app):
    award_id = three_year_award(app, THIS_YEAR - 1)
    other = three_year_award(app, THIS_YEAR - 1)
    foreign = action_ids(app, other)["1.1"]
    return_id = returns_of(app, award_id)[0][0]
    before = table_row_counts(app)
    with app.test_request_context(), pytest.raises(DomainError, match="action plan"):
        grant_return = session.get(GrantReturn, return_id)
        awards.save_return(grant_return, {}, [], "", 0, submit=False, actor=user(OFFICER),
                           actions=[awards.ActionInput(foreign, "green", "x")])
    assert table_row_counts(app) == before


def test_the_return_form_shows_each_action_and_finance_sees_the_reports(app):
    award_id = three_year_award(app, THIS_YEAR - 1)
    return_id = returns_of(app, award_id)[0][0]
    ids = action_ids(app, award_id)
    officer = signed_in(app, OFFICER)
    url = f"/awards/{award_id}/returns/{return_id}"
    soup = BeautifulSoup(officer.get(url).get_data(as_text=True), "html.parser")
    for action_id in ids.values():
        radios = soup.find_all("input", attrs={"name": f"action-rag-{action_id}"})
        values = {i["value"] for i in radios}
        assert values == {"green", "amber", "red", "closed"}
        assert soup.find("textarea", attrs={"name": f"action-narrative-{action_id}"}) is not None
    file(app, return_id, [0, 0, 0], approve=False,
         actions={"1.1": ("green", "Marked 40 bikes"), "1.4": ("closed", "Conference cancelled")})
    page = text_of(signed_in(app, FINANCE).get(f"/finance/returns/{return_id}"))
    assert "Action plan" in page and "Conference cancelled" in page and "Closed" in page


@pytest.mark.skipif("actions" not in inspect.signature(
    return_evidence.save_return_with_file).parameters,
    reason="return_evidence.save_return_with_file does not pass actions on yet")
def test_the_return_form_saves_the_actions_twice(app):
    award_id = three_year_award(app, THIS_YEAR - 1)
    return_id = returns_of(app, award_id)[0][0]
    ids = action_ids(app, award_id)
    officer = signed_in(app, OFFICER)
    url = f"/awards/{award_id}/returns/{return_id}"
    for rag, text in (("amber", "First"), ("red", "Second")):
        response = officer.submit(url, {f"action-rag-{ids['1.1']}": rag,
                                        f"action-narrative-{ids['1.1']}": text,
                                        "save_draft": "Save as draft"})
        assert response.status_code == 302, text_of(response)[:500]
        saved = reports(app, return_id)[0]  # an action not reported yet is kept blank
        assert [row for row in saved if row[0] == "1.1"] == [("1.1", rag, text)]
        assert all(row[1:] == (None, "") for row in saved if row[0] != "1.1")


# --- 5. a closed action with money left -----------------------------------------------------


def test_a_closed_action_with_money_left_proposes_a_reallocation(app):
    award_id = three_year_award(app, THIS_YEAR - 1)
    return_id = returns_of(app, award_id)[0][0]
    file(app, return_id, [0, 0, 0], approve=False,
         actions={"1.1": ("green", "Fine"), "1.4": ("closed", "Conference cancelled")})
    officer = signed_in(app, OFFICER)
    page = officer.get(f"/awards/{award_id}").get_data(as_text=True)
    assert "Action 1.4 is closed with £1,000.00 left on “Domestic abuse conference”" in \
        text_of(officer.get(f"/awards/{award_id}"))
    link = BeautifulSoup(page, "html.parser").find("a", href=re.compile("from_line="))
    assert "propose a re-allocation" in link.get_text()
    form = BeautifulSoup(officer.get(link["href"]).get_data(as_text=True), "html.parser")
    with app.app_context():
        award = session.get(Award, award_id)
        conference, mechanic = award.lines[2].id, award.lines[1].id
    assert form.find("input", attrs={"name": "amount"})["value"] == "1,000.00"
    assert form.find("select", attrs={"name": "from_line"}).find(
        "option", selected=True)["value"] == str(conference)
    assert "Conference cancelled" not in form.find("textarea", attrs={"name": "reason"}).text
    assert form.find("input", attrs={"name": "kind", "value": "reallocation"}).has_attr("checked")
    response = officer.submit(link["href"].split("?")[0],
                              {"kind": "reallocation", "from_line": str(conference),
                               "to_line": str(mechanic), "amount": "1,000.00",
                               "reason": "The conference was cancelled"})
    assert response.status_code == 302, text_of(response)[:800]
    with app.test_request_context():
        variation = session.scalar(select(Variation).where(Variation.award_id == award_id))
        variations.decide_variation(variation, True, "", user(MANAGER))
        session.commit()
        award = session.get(Award, award_id)
        assert [line.revised_pence for line in award.lines] == [200000, 300000, 0]
        for line in award.lines:
            assert sum(years.by_year(line.revised_years).values()) == line.revised_pence
        assert awards.closed_actions_with_money(award) == []


def test_no_proposal_while_the_action_is_open_or_its_lines_are_spent(app):
    award_id = three_year_award(app, THIS_YEAR - 1)
    ids = returns_of(app, award_id)
    file(app, ids[0][0], [0, 0, 0], approve=False,
         actions={"1.1": ("closed", "Done"), "1.4": ("red", "Late")})
    with app.app_context():
        found = awards.closed_actions_with_money(session.get(Award, award_id))
        assert [(c.action.number, c.line.item, c.left_pence) for c in found] == \
            [("1.1", "Bike lights", 200000)]


# --- 6. carry-forward ---------------------------------------------------------------------


def carry(app, award_id, line_index, first, then, amount, actor=OFFICER):
    with app.test_request_context():
        award = session.get(Award, award_id)
        variation = variations.request_variation(
            award, VariationKind.CARRY_FORWARD, "Delayed delivery", user(actor),
            moves=[{"line": award.lines[line_index].id, "from_year": first, "to_year": then,
                    "amount": amount}])
        session.commit()
        return variation.id


@pytest.mark.parametrize("shift, amount, field, words", [
    ((0, 1), 10000, "to_year", "closed year"),  # two years ago into last year: both over
    ((2, 3), 10000, "to_year", "beyond the agreement's end"),
    ((1, 2), 10_000_000, "carry_amount", "left unspent"),
    ((1, 1), 10000, "to_year", "after"),
    ((2, 1), 10000, "to_year", "after"),
    ((1, 2), 0, "carry_amount", "more than £0"),
    ((-3, 2), 10000, "from_year", "year of this award"),
])
def test_a_carry_forward_refused_at_request_changes_nothing(app, shift, amount, field, words):
    first = THIS_YEAR - 2
    award_id = three_year_award(app, first)
    before, kept = table_row_counts(app), state(app, award_id)
    with pytest.raises(DomainError) as refused:
        carry(app, award_id, 0, first + shift[0], first + shift[1], amount)
    assert refused.value.field == field and words in refused.value.message
    assert table_row_counts(app) == before and state(app, award_id) == kept


def test_a_carry_forward_asked_for_on_the_form_is_refused_beside_the_field(app):
    first = THIS_YEAR - 2
    award_id = three_year_award(app, first)
    with app.app_context():
        line_id = session.get(Award, award_id).lines[0].id
    officer = signed_in(app, OFFICER)
    url = f"/awards/{award_id}/variations/new"
    before = table_row_counts(app)
    response = officer.submit(url, {"kind": "carry_forward", "carry_line": str(line_id),
                                    "from_year": str(first), "to_year": str(first + 1),
                                    "carry_amount": "100", "reason": "Late"})
    assert "closed year" in error_beside(response, "to_year")
    response = officer.submit(url, {"kind": "carry_forward", "carry_line": str(line_id),
                                    "from_year": "２０２５", "to_year": str(first + 2),
                                    "carry_amount": "1e3", "reason": "Late"})
    assert response.status_code == 200
    assert table_row_counts(app) == before
    response = officer.submit(url, {"kind": "carry_forward", "carry_line": str(line_id),
                                    "from_year": str(first + 1), "to_year": str(first + 2),
                                    "carry_amount": "100.00", "reason": "Late <script>"})
    assert response.status_code == 302, text_of(response)[:800]
    manager = signed_in(app, MANAGER)
    with app.app_context():
        variation_id = session.scalar(select(Variation.id).where(Variation.award_id == award_id))
    page = text_of(manager.get(f"/manage/variations/{variation_id}"))
    assert "Carry money forward" in page and years.year_label(first + 2) in page
    assert "Carry £100.00 of “Bike lights” forward" in text_of(officer.get(f"/awards/{award_id}"))


def test_an_approved_carry_forward_moves_the_line_and_the_pot_once(app):
    first = THIS_YEAR - 1
    award_id = three_year_award(app, first)
    _kept_lines, pot_before, _v = state(app, award_id)
    variation_id = carry(app, award_id, 0, first, first + 1, 5000)
    manager = signed_in(app, MANAGER)
    url = f"/manage/variations/{variation_id}"
    tokens = manager.form_tokens(url)
    for _ in range(2):  # the same form posted twice: one effect
        response = manager.post(url, data={**tokens, "outcome": "approve", "comment": ""})
        assert response.status_code == 302
    with app.test_request_context():
        variation = session.get(Variation, variation_id)
        assert variation.status == VariationStatus.APPROVED
        with pytest.raises(DomainError, match="already been decided"):
            variations.decide_variation(variation, True, "", user(MANAGER))
        award = session.get(Award, award_id)
        lights = years.by_year(award.lines[0].revised_years)
        original = years.by_year(award.lines[0].original_years)
        assert lights[first] == original[first] - 5000
        assert lights[first + 1] == original[first + 1] + 5000
        assert award.lines[0].revised_pence == 200000
        pot = dict((year, pence) for year, pence in
                   [(r.financial_year, r.committed_pence) for r in award.round.year_budgets])
        before = dict(pot_before)
        assert pot[first] == before[first] - 5000 and pot[first + 1] == before[first + 1] + 5000
        assert award.round.committed_pence == sum(before.values())
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "award.carried_forward",
            AuditEvent.record_id == str(award_id))).all()
        assert len(events) == 1


def test_a_carry_forward_no_longer_possible_at_decision_is_refused_and_changes_nothing(app):
    first = THIS_YEAR - 1
    award_id = three_year_award(app, first, room=0)
    variation_id = carry(app, award_id, 0, first, first + 1, 60000)
    # Meanwhile the lights' first-year money is spent: not enough left to carry.
    period = next(r for r in returns_of(app, award_id) if financial_year_of(r[2]) == first)
    file(app, period[0], [20000, 0, 0], approve=False)
    before, kept = table_row_counts(app), state(app, award_id)
    with app.test_request_context():
        with pytest.raises(DomainError, match="left unspent") as refused:
            variations.decide_variation(session.get(Variation, variation_id), True, "",
                                        user(MANAGER))
        assert refused.value.field == "outcome"
        session.rollback()
    assert table_row_counts(app) == before and state(app, award_id) == kept


def test_a_carry_forward_into_a_year_without_room_is_refused(app):
    first = THIS_YEAR - 1
    award_id = three_year_award(app, first, room=0)
    variation_id = carry(app, award_id, 0, first, first + 1, 1000)
    before, kept = table_row_counts(app), state(app, award_id)
    with app.test_request_context():
        with pytest.raises(DomainError, match="budget for") as refused:
            variations.decide_variation(session.get(Variation, variation_id), True, "",
                                        user(MANAGER))
        assert refused.value.field == "outcome"
        session.rollback()
    assert table_row_counts(app) == before and state(app, award_id) == kept


def test_money_carried_forward_is_eligible_in_the_later_year(app):
    first = THIS_YEAR - 1
    award_id = three_year_award(app, first)
    with app.app_context():
        lights = years.by_year(session.get(Award, award_id).lines[0].revised_years)
    variation_id = carry(app, award_id, 0, first, first + 1, 10000)
    with app.test_request_context():
        variations.decide_variation(session.get(Variation, variation_id), True, "", user(MANAGER))
        session.commit()
    year_two = next(r for r in returns_of(app, award_id) if financial_year_of(r[2]) == first + 1
                    and r[1] == ReturnKind.PERIODIC)
    file(app, year_two[0], [lights[first + 1] + 10000, 0, 0])
    with app.app_context():
        assert awards.eligible_spend(session.get(Award, award_id)) == lights[first + 1] + 10000



# --- from the attack on issue 14 ----------------------------------------------------------------


def test_a_carry_forward_cannot_take_a_year_past_the_rounds_limit_for_it(app):
    first = THIS_YEAR - 1
    award_id = three_year_award(app, first)
    with app.test_request_context():
        award = session.get(Award, award_id)
        in_year = awards.year_totals(award.lines, revised=True)[first + 1]
        next(row for row in award.round.year_budgets
             if row.financial_year == first + 1).cap_pence = in_year + 100
        session.commit()
    before, kept = table_row_counts(app), state(app, award_id)
    with pytest.raises(DomainError, match="limit") as refused:
        carry(app, award_id, 0, first, first + 1, 5000)
    assert refused.value.field == "carry_amount"
    assert table_row_counts(app) == before and state(app, award_id) == kept
    carry(app, award_id, 0, first, first + 1, 100)  # up to the limit is allowed


def test_the_payment_plan_follows_money_carried_forward(app):
    first = THIS_YEAR - 1
    award_id = three_year_award(app, first)
    with app.app_context():
        plan = years.by_year(session.get(Award, award_id).payment_plan)
    variation_id = carry(app, award_id, 0, first, first + 1, 5000)
    with app.test_request_context():
        variations.decide_variation(session.get(Variation, variation_id), True, "",
                                    user(MANAGER))
        session.commit()
        after = years.by_year(session.get(Award, award_id).payment_plan)
    assert after[first] == plan[first] - 5000 and after[first + 1] == plan[first + 1] + 5000
    assert sum(after.values()) == sum(plan.values())
    page = text_of(signed_in(app, FINANCE).get(f"/finance/awards/{award_id}"))
    assert f"Payments planned: {years.year_label(first)} from" in page  # in the history


def test_money_already_spent_on_a_line_cannot_be_reallocated(app):
    first = THIS_YEAR - 1
    award_id = three_year_award(app, first)
    period = next(r for r in returns_of(app, award_id) if financial_year_of(r[2]) == first)
    file(app, period[0], [20000, 0, 0])  # £200.00 of the lights' £2,000.00 approved as spent
    before = table_row_counts(app)
    with app.test_request_context():
        award = session.get(Award, award_id)
        lights, mechanic = award.lines[0].id, award.lines[1].id
        with pytest.raises(DomainError, match="has only £1,800.00 to move") as refused:
            variations.request_variation(award, VariationKind.REALLOCATION, "Move it all",
                                         user(OFFICER), moves=[{"from": lights, "to": mechanic,
                                                                "amount": 200000}])
        assert refused.value.field == "amount"
        session.rollback()
    assert table_row_counts(app) == before
    with app.test_request_context():
        award = session.get(Award, award_id)
        variations.request_variation(award, VariationKind.REALLOCATION, "Move what is left",
                                     user(OFFICER), moves=[{"from": lights, "to": mechanic,
                                                            "amount": 180000}])
        session.commit()


def test_a_cap_lowered_on_one_year_does_not_block_money_moving_between_others(app):
    first = THIS_YEAR - 1
    award_id = three_year_award(app, first)
    with app.test_request_context():
        award = session.get(Award, award_id)
        next(row for row in award.round.year_budgets
             if row.financial_year == first).cap_pence = 100  # below what the year holds
        session.commit()
    carry(app, award_id, 0, first + 1, first + 2, 5000)  # neither year is the capped one


def test_a_change_is_not_approved_on_an_award_that_is_no_longer_active(app):
    first = THIS_YEAR - 1
    award_id = three_year_award(app, first)
    variation_id = carry(app, award_id, 0, first + 1, first + 2, 5000)
    with app.test_request_context():
        session.get(Award, award_id).status = AwardStatus.CLOSED
        session.commit()
    before, kept = table_row_counts(app), state(app, award_id)
    with app.test_request_context():
        variation = session.get(Variation, variation_id)
        with pytest.raises(DomainError, match="no longer active") as refused:
            variations.decide_variation(variation, True, "", user(MANAGER))
        assert refused.value.field == "outcome"
        session.rollback()
    assert table_row_counts(app) == before and state(app, award_id) == kept
    with app.test_request_context():  # declining it clears the queue
        variations.decide_variation(session.get(Variation, variation_id), False,
                                    "The award has closed", user(MANAGER))
        session.commit()


def test_a_new_line_cannot_take_the_name_of_one_the_award_has(app):
    award_id = three_year_award(app, THIS_YEAR - 1)
    with app.test_request_context():
        award = session.get(Award, award_id)
        with pytest.raises(DomainError, match="already has a line called") as refused:
            variations.request_variation(
                award, VariationKind.REALLOCATION, "Split the mechanic", user(OFFICER),
                moves=[{"from": award.lines[2].id, "to": None, "new_item": " mechanic ",
                        "amount": 100}])
        assert refused.value.field == "new_item"


def test_an_extension_past_a_years_end_splits_the_final_return_at_it(app):
    """The attack on issue 14: the final return, extended into a later year, would have set
    that year's spend against the later year's money."""
    first = THIS_YEAR - 1
    award_id = three_year_award(app, first)
    with app.test_request_context():
        award = session.get(Award, award_id)
        final = next(r for r in award.returns if r.kind == ReturnKind.FINAL)
        start_of_final, old_end, version = final.period_start, award.end_date, final.version
        final_id = final.id
        variation = variations.request_variation(
            award, VariationKind.EXTENSION, "Delayed recruitment", user(OFFICER),
            new_end_date=date(old_end.year, 9, 30))
        variations.decide_variation(variation, True, "", user(MANAGER))
        session.commit()
        award = session.get(Award, award_id)
        periods = sorted((r.period_start, r.period_end, r.kind) for r in award.returns)
        # a page of the old final return, saved now, is refused as a stale copy
        assert session.get(GrantReturn, final_id).version == version + 1
    assert (start_of_final, old_end, ReturnKind.PERIODIC) in periods
    assert periods[-1] == (old_end + timedelta(days=1), date(old_end.year, 9, 30),
                           ReturnKind.FINAL)
    for (_a, last, _k), (following, _b, _c) in zip(periods, periods[1:]):
        assert following == last + timedelta(days=1)  # one after another, no gap
    assert all(financial_year_of(a) == financial_year_of(b) for a, b, _k in periods)


def test_the_history_names_the_line_money_was_carried_forward_on(app):
    first = THIS_YEAR - 1
    award_id = three_year_award(app, first)
    carry(app, award_id, 1, first + 1, first + 2, 5000)
    page = text_of(signed_in(app, FINANCE).get(f"/finance/awards/{award_id}"))
    assert f"£50.00 of “Mechanic” from {years.year_label(first + 1)}" in page


# --- from the third attack ------------------------------------------------------------------


def one_year_award(app, year: int) -> int:
    """An accepted one-year award over financial ``year`` on a three-year round (room in every
    year), its one final return open: the shape an extension and a carry-forward reshape."""
    award_id = three_year_award(app, year)
    with app.test_request_context():
        award = session.get(Award, award_id)
        for line in award.lines:
            line.original_years = line.revised_years = {str(year): line.revised_pence}
        award.payment_plan = {str(year): award.amount_pence}
        award.start_date, award.end_date = date(year, 4, 1), date(year + 1, 2, 28)
        for grant_return in list(award.returns):
            award.returns.remove(grant_return)
        session.flush()
        award.returns = [GrantReturn(kind=ReturnKind.FINAL, period_start=award.start_date,
                                     period_end=award.end_date, due_date=date(year + 1, 4, 30),
                                     status=ReturnStatus.DUE)]
        session.commit()
    return award_id


def test_a_carry_forward_into_a_new_year_splits_the_open_final_return_at_the_years_end(app):
    """The third attack on issue 14: extended (one year of money, so no split), then money
    carried into the next year: the final return ran across 31 March and the first year's
    spend was counted in the second, capped there: false underspend."""
    year = THIS_YEAR
    award_id = one_year_award(app, year)
    with app.test_request_context():
        award = session.get(Award, award_id)
        extension = variations.request_variation(
            award, VariationKind.EXTENSION, "Later start", user(OFFICER),
            new_end_date=date(year + 1, 9, 30))
        variations.decide_variation(extension, True, "", user(MANAGER))
        session.commit()
    variation_id = carry(app, award_id, 0, year, year + 1, 5000)
    with app.test_request_context():
        variations.decide_variation(session.get(Variation, variation_id), True, "",
                                    user(MANAGER))
        session.commit()
        award = session.get(Award, award_id)
        periods = sorted((r.period_start, r.period_end, r.kind) for r in award.returns)
    assert all(financial_year_of(a) == financial_year_of(b) for a, b, _k in periods), periods
    assert periods[0][:2] == (date(year, 4, 1), date(year + 1, 3, 31))
    assert periods[-1] == (date(year + 1, 4, 1), date(year + 1, 9, 30), ReturnKind.FINAL)


def test_the_final_return_is_approved_only_after_every_other_return(app):
    """The third attack on issue 14: approving the final return closed the award while an
    earlier year's return was still due, so its spend never counted."""
    first = THIS_YEAR - 1
    award_id = three_year_award(app, first)
    rows = returns_of(app, award_id)
    final = next(r for r in rows if r[1] == ReturnKind.FINAL)
    with app.test_request_context():
        grant_return = session.get(GrantReturn, final[0])
        grant_return.status = ReturnStatus.SUBMITTED  # as if sent early, its period begun
        grant_return.period_start = uk_today() - timedelta(days=1)
        session.commit()
    before = table_row_counts(app)
    with app.test_request_context():
        with pytest.raises(DomainError, match="other returns first") as refused:
            awards.review_return(session.get(GrantReturn, final[0]), True, "", user(FINANCE))
        assert refused.value.field == "outcome"
        session.rollback()
    assert table_row_counts(app) == before
    with app.app_context():
        assert session.get(Award, award_id).status == AwardStatus.ACTIVE


def test_the_end_date_cannot_move_once_the_final_return_is_sent(app):
    first = THIS_YEAR - 1
    award_id = three_year_award(app, first)
    with app.test_request_context():
        award = session.get(Award, award_id)
        variation = variations.request_variation(
            award, VariationKind.EXTENSION, "Later start", user(OFFICER),
            new_end_date=date(first + 3, 6, 30))
        next(r for r in award.returns if r.kind == ReturnKind.FINAL).status = \
            ReturnStatus.SUBMITTED
        session.commit()
    before, kept = table_row_counts(app), state(app, award_id)
    with app.test_request_context():
        with pytest.raises(DomainError, match="final return has been sent") as refused:
            variations.decide_variation(session.get(Variation, variation.id), True, "",
                                        user(MANAGER))
        assert refused.value.field == "outcome"
        session.rollback()
    assert table_row_counts(app) == before and state(app, award_id) == kept


def test_a_look_alike_name_is_the_name_of_the_line_it_looks_like(app):
    award_id = three_year_award(app, THIS_YEAR - 1)
    with app.test_request_context():
        award = session.get(Award, award_id)
        with pytest.raises(DomainError, match="already has a line called"):
            variations.request_variation(
                award, VariationKind.REALLOCATION, "Split", user(OFFICER),
                moves=[{"from": award.lines[2].id, "to": None,
                        "new_item": "ＭＥＣＨＡＮＩＣ\u00a0", "amount": 100}])


def test_a_return_is_checked_against_its_years_allocation(app):
    """A return of an award over several years is checked line by line against the line's
    amount for the return's year and the spend approved earlier in that year, as eligible
    spend counts it (the attack on issue 14 saw the line's whole total shown)."""
    first = THIS_YEAR - 2
    award_id = three_year_award(app, first)
    rows = returns_of(app, award_id)
    year_one = [r for r in rows if financial_year_of(r[2]) == first]
    year_two = [r for r in rows if financial_year_of(r[2]) == first + 1]
    file(app, year_one[0][0], [30000, 0, 0])
    file(app, year_two[0][0], [10000, 0, 0])
    with app.app_context():
        award = session.get(Award, award_id)
        lights = years.by_year(award.lines[0].revised_years)
        second = session.get(GrantReturn, year_two[1][0] if len(year_two) > 1 else year_two[0][0])
        [check] = [c for c in awards.line_checks(second) if c.line.id == award.lines[0].id]
    assert check.year == first + 1 and check.allocation_pence == lights[first + 1]
    expected_previous = 10000 if len(year_two) > 1 else 0
    assert check.previous_pence == expected_previous  # the first year's 300.00 is not counted
    page = text_of(signed_in(app, FINANCE).get(f"/finance/returns/{year_two[0][0]}"))
    assert f"for {years.year_label(first + 1)}" in page
