"""Rounds over several financial years (issue 14, point 2): the manager gives a budget per year,
a bid's lines an amount per year, and the pot is checked per year and in total, on saving the
budget and again on deciding; a refusal changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.db import session
from portal.models import AuditEvent, Award, Bid, BudgetLine, Fund, Round, RoundYear
from portal.services import accounts, bids, decisions, setup, years
from portal.services.setup import uk_date_and_time
from tests import bidding
from tests.helpers import table_row_counts, text_of

MANAGER = "manager@example.org"
BUDGETS = (60_000_00, 60_000_00, 70_000_00)  # £190,000 over three years
OVERRIDE = "The panel met early and agreed to decide now"


@pytest.fixture
def manager(client):
    client.sign_in(MANAGER)
    return client


@pytest.fixture
def officer(client):
    client.sign_in(bidding.OFFICER)
    return client


def pcf(app) -> Round:
    with app.app_context():
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "PCF"))
        _ = list(round_.year_budgets), round_.fund
        return round_


def three_years(app, budgets=BUDGETS, caps=(None, None, None)) -> Round:
    """The demo PCF round made one of three years through the setup service."""
    with app.test_request_context():
        round_ = session.scalar(select(Round).where(Round.id == pcf(app).id))
        opens_on, opens_time = uk_date_and_time(round_.opens_at)
        closes_on, closes_time = uk_date_and_time(round_.closes_at)
        details = setup.RoundDetails(
            name=round_.name, financial_year=round_.financial_year, opens_on=opens_on,
            opens_time=opens_time, closes_on=closes_on, closes_time=closes_time,
            budget_pence=sum(budgets), cap_pence=None,
            eligible_organisation_types=["csp"], return_cadence=round_.return_cadence,
            guidance="", years=3,
            year_budgets=tuple(setup.YearBudget(b, c) for b, c in zip(budgets, caps)))
        setup.update_round(round_, details, accounts.get_user_by_email(MANAGER))
        session.commit()
    return pcf(app)


def round_form(round_: Round, **changes) -> dict:
    opens_on, opens_time = uk_date_and_time(round_.opens_at)
    closes_on, closes_time = uk_date_and_time(round_.closes_at)
    form = {"name": round_.name, "financial_year": str(round_.financial_year),
            "opens_on": [str(opens_on.day), str(opens_on.month), str(opens_on.year)],
            "opens_time": opens_time.strftime("%H:%M"),
            "closes_on": [str(closes_on.day), str(closes_on.month), str(closes_on.year)],
            "closes_time": closes_time.strftime("%H:%M"), "cap": "",
            "eligible_organisation_types": ["csp"], "return_cadence": "six_monthly",
            "guidance": "", "required_assessments": ""}
    form.update(changes)
    return form


def year_rows(app, round_id) -> dict[int, tuple[int, int, int | None]]:
    with app.app_context():
        return {row.financial_year: (row.budget_pence, row.committed_pence, row.cap_pence)
                for row in session.scalars(select(RoundYear)
                                           .where(RoundYear.round_id == round_id))}


def about_until(year: int) -> dict:
    """The about section's answers (form) for a project from 1 December of the round's first
    year to 28 February of ``year + 1``."""
    return dict(bidding.ABOUT, end_date=["28", "2", str(year + 1)])


def budget_form(rows: list[tuple[str, str, list[str]]], **extra) -> dict:
    data = {"match_funding": "", "match_funding_sources": "", "completed": "yes"}
    for index, (item, kind, amounts) in enumerate(rows):
        data[f"rows-{index}-item"] = item
        data[f"rows-{index}-kind"] = kind
        for n, amount in enumerate(amounts):
            data[f"rows-{index}-year_{n}"] = amount
    data.update(extra)
    return data


def lines_of(app, bid_id):
    with app.app_context():
        return [(line.item, line.amount_pence, dict(line.year_amounts)) for line in
                session.scalars(select(BudgetLine).where(BudgetLine.bid_id == bid_id)
                                .order_by(BudgetLine.position))]


def errors(response) -> list[str]:
    import re

    return [" ".join(re.sub(r"<[^>]+>", " ", e).split()) for e in re.findall(
        r'class="govuk-error-message"[^>]*>(.*?)</p>', response.get_data(as_text=True), re.S)]


def multi_year_bid(app, year_amounts: list[dict[int, int]], officer=bidding.OFFICER,
                   title="Three years of youth work") -> int:
    """A submitted bid to the PCF round with one line per entry of ``year_amounts``."""
    with app.test_request_context():
        user = accounts.get_user_by_email(officer)
        round_ = session.scalar(select(Round).where(Round.id == pcf(app).id))
        bid = bids.start_bid(round_, user, bids.new_creation_token())
        for section in bids.sections_for(round_):
            answers = bidding._answers(round_.financial_year, 1)[section.key]  # noqa: SLF001
            if section.key == "about":
                answers = dict(answers, title=title,
                               end_date=f"{round_.last_financial_year + 1}-02-28")
            if section.key == "budget":
                answers = dict(answers, rows=[
                    {"item": f"Line {n}", "kind": "revenue",
                     "amount_pence": sum(amounts.values()),
                     "year_amounts": years.as_json(amounts)}
                    for n, amounts in enumerate(year_amounts, start=1)])
            bids.save_section(bid, section.key, answers, completed=True,
                              expected_version=None, actor=user)
        bids.submit(bid, user)
        session.commit()
        return bid.id


def approve(app, bid_id, amount):
    with app.test_request_context():
        bid = session.get(Bid, bid_id)
        decision = decisions.approve(bid, amount, purpose="Youth work", conditions="",
                                     reasons="Fewer young people drawn into crime",
                                     actor=accounts.get_user_by_email(MANAGER),
                                     override_reason=OVERRIDE)
        session.commit()
        return decision.id


# --- round setup ------------------------------------------------------------------------------


def test_a_manager_sets_a_round_over_three_years_with_a_budget_per_year(app, manager):
    round_ = pcf(app)
    page = manager.get(f"/manage/rounds/{round_.id}/edit").get_data(as_text=True)
    assert 'name="years"' in page and 'name="year_budgets-2-budget"' in page
    response = manager.submit(f"/manage/rounds/{round_.id}/edit", round_form(
        round_, years="3", **{"year_budgets-0-budget": "60,000", "year_budgets-1-budget":
                               "£60,000.00", "year_budgets-2-budget": " 70000 ",
                               "year_budgets-1-cap": "50,000"}))
    assert response.status_code == 302, errors(response)
    after = pcf(app)
    y = after.financial_year
    assert (after.years, after.budget_pence, after.committed_pence) == (3, 190_000_00, 0)
    assert year_rows(app, round_.id) == {y: (60_000_00, 0, None), y + 1: (60_000_00, 0, 50_000_00),
                                         y + 2: (70_000_00, 0, None)}
    assert after.financial_year_label == f"{years.year_label(y)} to {years.year_label(y + 2)}"
    with app.app_context():
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "round.updated")
                                .order_by(AuditEvent.id.desc())).first()
        assert event.after["years"] == 3
        assert event.after["year_budgets"][years.year_label(y + 2)]["budget_pence"] == 70_000_00
    # Saved again, shorter: two years; the third year's row goes.
    again = manager.submit(f"/manage/rounds/{round_.id}/edit", round_form(
        after, years="2", **{"year_budgets-0-budget": "50,000", "year_budgets-1-budget":
                              "40,000"}))
    assert again.status_code == 302, errors(again)
    assert year_rows(app, round_.id) == {y: (50_000_00, 0, None), y + 1: (40_000_00, 0, None)}
    assert pcf(app).budget_pence == 90_000_00


def test_a_one_year_fund_keeps_its_form_and_may_not_have_years(app, manager):
    scf = bidding.round_of(app, "SCF")
    page = manager.get(f"/manage/rounds/{scf.id}/edit").get_data(as_text=True)
    assert 'name="years"' not in page and 'name="budget"' in page
    before = table_row_counts(app)
    response = manager.submit(f"/manage/rounds/{scf.id}/edit", round_form(
        scf, budget="30,000", years="3", **{"year_budgets-0-budget": "1",
                                              "year_budgets-1-budget": "1",
                                              "year_budgets-2-budget": "1"}))
    assert response.status_code == 302  # the boxes a one-year fund's page lacks are not read
    with app.app_context():
        assert session.get(Round, scf.id).years == 1
    assert table_row_counts(app)["round_years"] == before["round_years"]


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"years": "4"}, "years", "Number of financial years must be a whole number from 1 to 3"),
    ({"years": "３"}, "years", "Number of financial years must be a whole number"),
    ({"years": "3", "year_budgets-2-budget": ""}, "year_budgets-2-budget",
     "Enter the budget for year 3"),
    ({"years": "3", "year_budgets-1-budget": "-5"}, "year_budgets-1-budget",
     "£0 or more"),
    ({"years": "3", "year_budgets-1-cap": "70,000"}, "year_budgets-1-cap",
     "cannot be more than that year’s budget"),
])
def test_bad_year_budgets_are_refused_beside_the_field(app, manager, changes, field, words):
    round_ = pcf(app)
    data = round_form(round_, **{"year_budgets-0-budget": "60,000",
                                 "year_budgets-1-budget": "60,000",
                                 "year_budgets-2-budget": "70,000"})
    data.update(changes)
    before = table_row_counts(app)
    response = manager.submit(f"/manage/rounds/{round_.id}/edit", data)
    assert response.status_code == 200
    assert any(words in e for e in errors(response)), errors(response)
    assert f'href="#{field}' in response.get_data(as_text=True)
    assert table_row_counts(app) == before


def test_years_and_budgets_cannot_go_below_what_is_committed(app, manager):
    round_ = three_years(app)
    y = round_.financial_year
    bid_id = multi_year_bid(app, [{y: 10_000_00, y + 1: 20_000_00, y + 2: 30_000_00}])
    approve(app, bid_id, 60_000_00)
    round_ = pcf(app)
    before = table_row_counts(app)
    shrink = manager.submit(f"/manage/rounds/{round_.id}/edit", round_form(
        round_, years="2", **{"year_budgets-0-budget": "60,000",
                              "year_budgets-1-budget": "60,000"}))
    assert any("at least 3 years" in e for e in errors(shrink)), errors(shrink)
    below = manager.submit(f"/manage/rounds/{round_.id}/edit", round_form(
        round_, years="3", **{"year_budgets-0-budget": "60,000",
                              "year_budgets-1-budget": "19,999.99",
                              "year_budgets-2-budget": "70,000"}))
    assert any("cannot be less than £20,000.00" in e for e in errors(below)), errors(below)
    assert 'href="#year_budgets-1-budget"' in below.get_data(as_text=True)
    assert table_row_counts(app) == before
    exactly = manager.submit(f"/manage/rounds/{round_.id}/edit", round_form(
        round_, years="3", **{"year_budgets-0-budget": "60,000",
                              "year_budgets-1-budget": "20,000",
                              "year_budgets-2-budget": "70,000"}))
    assert exactly.status_code == 302, errors(exactly)
    assert year_rows(app, round_.id)[y + 1] == (20_000_00, 20_000_00, None)
    assert pcf(app).budget_pence == 150_000_00 and pcf(app).committed_pence == 60_000_00


# --- the bid's budget --------------------------------------------------------------------------


def test_a_line_above_the_whole_pot_of_a_one_year_round_is_refused(app, officer):
    """The case in the issue: £190,000.01 on one line of the PCF round, more than its pot."""
    bid_id = bidding.start(officer, app, "PCF")
    before = table_row_counts(app)
    response = bidding.save(officer, bid_id, "budget", dict(
        bidding.BUDGET, **{"rows-0-amount": "190,000.01", "rows-1-item": "", "rows-1-kind": "",
                           "rows-1-amount": "", "rows-2-item": "", "rows-2-kind": "",
                           "rows-2-amount": ""}), pcf(app).financial_year)
    assert response.status_code == 200
    assert any("must be £190,000.00 or less, the whole budget of this round" in e
               for e in errors(response)), errors(response)
    assert 'href="#rows-0-amount"' in response.get_data(as_text=True)
    assert table_row_counts(app) == before
    exactly = bidding.save(officer, bid_id, "budget", dict(
        bidding.BUDGET, **{"rows-0-amount": "190,000", "rows-1-item": "", "rows-1-kind": "",
                           "rows-1-amount": "", "rows-2-item": "", "rows-2-kind": "",
                           "rows-2-amount": ""}), pcf(app).financial_year)
    assert exactly.status_code == 302
    y = pcf(app).financial_year
    assert lines_of(app, bid_id) == [("Bike lights (300 sets)", 190_000_00,
                                      {str(y): 190_000_00})]


def test_a_line_has_an_amount_per_year_and_a_year_above_its_budget_is_refused(app, officer):
    round_ = three_years(app)
    y = round_.financial_year
    bid_id = bidding.start(officer, app, "PCF")
    page = officer.get(bidding.section_url(bid_id, "budget")).get_data(as_text=True)
    for n in range(3):
        assert f'name="rows-0-year_{n}"' in page
    assert f">{years.year_label(y + 1)}<" in page.replace("\n", "").replace("  ", "")  or \
        years.year_label(y + 1) in text_of(officer.get(bidding.section_url(bid_id, "budget")))
    assert 'name="rows-0-amount"' not in page
    before = table_row_counts(app)
    over = officer.submit(bidding.section_url(bid_id, "budget"), dict(budget_form([
        ("Youth worker", "revenue", ["40,000", "60,000.01", ""]),
    ]), version=bidding.version_of(officer, bid_id, "budget")))
    assert any(f"The budget lines for {years.year_label(y + 1)} add up to £60,000.01" in e
               for e in errors(over)), errors(over)
    assert 'href="#rows-0-year_1"' in over.get_data(as_text=True)
    # Two lines each within the year, together above it: refused beside the first with money.
    together = officer.submit(bidding.section_url(bid_id, "budget"), dict(budget_form([
        ("Youth worker", "revenue", ["", "", "50,000"]),
        ("Venue", "revenue", ["1", "", "20,000.01"]),
    ]), version=bidding.version_of(officer, bid_id, "budget")))
    assert any("£70,000.01" in e and "£70,000.00 or less" in e for e in errors(together))
    assert 'href="#rows-0-year_2"' in together.get_data(as_text=True)
    zero = officer.submit(bidding.section_url(bid_id, "budget"), dict(budget_form([
        ("Youth worker", "revenue", ["0", "0.00", "£0"]),
    ]), version=bidding.version_of(officer, bid_id, "budget")))
    assert any("must add up to more than £0" in e for e in errors(zero)), errors(zero)
    assert table_row_counts(app) == before


def test_a_year_above_its_cap_is_refused(app, officer):
    round_ = three_years(app, caps=(None, 25_000_00, None))
    y = round_.financial_year
    bid_id = bidding.start(officer, app, "PCF")
    before = table_row_counts(app)
    response = officer.submit(bidding.section_url(bid_id, "budget"), dict(budget_form([
        ("Youth worker", "revenue", ["", "20,000", ""]),
        ("Venue", "revenue", ["", "5,000.01", ""]),
    ]), version=bidding.version_of(officer, bid_id, "budget")))
    assert any(f"{years.year_label(y + 1)} add up to £25,000.01" in e and "£25,000.00" in e
               for e in errors(response)), errors(response)
    assert table_row_counts(app) == before


def test_money_in_a_year_outside_the_project_dates_is_refused(app, officer):
    round_ = three_years(app)
    y = round_.financial_year
    bid_id = bidding.start(officer, app, "PCF")
    assert bidding.save(officer, bid_id, "about", bidding.ABOUT, y).status_code == 302
    before = table_row_counts(app)
    response = officer.submit(bidding.section_url(bid_id, "budget"), dict(budget_form([
        ("Youth worker", "revenue", ["1,000", "", "2,000"]),
    ]), version=bidding.version_of(officer, bid_id, "budget")))
    assert any(f"no money in {years.year_label(y + 2)}" in e for e in errors(response)), \
        errors(response)
    assert 'href="#rows-0-year_2"' in response.get_data(as_text=True)
    assert table_row_counts(app) == before
    # The project made longer, the same budget saves.
    assert bidding.save(officer, bid_id, "about", about_until(y + 2), y).status_code == 302
    saved = officer.submit(bidding.section_url(bid_id, "budget"), dict(budget_form([
        ("Youth worker", "revenue", ["1,000", "", "2,000"]),
    ]), version=bidding.version_of(officer, bid_id, "budget")))
    assert saved.status_code == 302, errors(saved)
    # Shortened again afterwards: the bid cannot be sent with money past its end.
    assert bidding.save(officer, bid_id, "about", bidding.ABOUT, y).status_code == 302
    with app.test_request_context():
        bid = session.get(Bid, bid_id)
        with pytest.raises(bids.DomainError, match="no money in"):
            bids._check_budget(bid, bid.section("budget").answers)  # noqa: SLF001


def test_the_budget_saved_twice_with_changed_values_and_rows(app, officer):
    round_ = three_years(app)
    y = round_.financial_year
    bid_id = bidding.start(officer, app, "PCF")
    assert bidding.save(officer, bid_id, "about", about_until(y + 2), y).status_code == 302
    first = officer.submit(bidding.section_url(bid_id, "budget"), dict(budget_form([
        ("Youth worker", "revenue", ["20,000", "20,000", "20,000"]),
        ("Laptop", "capital", ["900", "", ""]),
        ("Venue hire", "revenue", ["", "1,500.50", "1,500.50"]),
    ]), version=bidding.version_of(officer, bid_id, "budget")))
    assert first.status_code == 302, errors(first)
    assert lines_of(app, bid_id) == [
        ("Youth worker", 60_000_00, {str(y): 20_000_00, str(y + 1): 20_000_00,
                                     str(y + 2): 20_000_00}),
        ("Laptop", 900_00, {str(y): 900_00}),
        ("Venue hire", 3_001_00, {str(y + 1): 1_500_50, str(y + 2): 1_500_50}),
    ]
    with app.app_context():
        ids = [line.id for line in session.scalars(select(BudgetLine).where(
            BudgetLine.bid_id == bid_id).order_by(BudgetLine.position))]
    page = officer.get(bidding.section_url(bid_id, "budget")).get_data(as_text=True)
    assert 'name="rows-2-year_1" type="text" value="1,500.50"' in page or \
        'value="1,500.50"' in page
    second = officer.submit(bidding.section_url(bid_id, "budget"), dict(budget_form([
        ("Youth worker", "revenue", ["25,000", "", "25,000"]),
        ("Laptop", "capital", ["", "", "999.99"]),
    ]), version=bidding.version_of(officer, bid_id, "budget")))
    assert second.status_code == 302, errors(second)
    assert lines_of(app, bid_id) == [
        ("Youth worker", 50_000_00, {str(y): 25_000_00, str(y + 2): 25_000_00}),
        ("Laptop", 999_99, {str(y + 2): 999_99}),
    ]
    with app.app_context():
        assert [line.id for line in session.scalars(select(BudgetLine).where(
            BudgetLine.bid_id == bid_id).order_by(BudgetLine.position))] == ids[:2]
        assert session.get(Bid, bid_id).amount_requested_pence == 50_999_99


@pytest.mark.parametrize(("typed", "pence"), [
    ("£1,250.50", 1_250_50), ("1250.5", 1_250_50), (" 1250 ", 1_250_00),
    ("\u00a01250\u00a0", 1_250_00),
])
def test_odd_but_readable_amounts_in_a_year_are_taken(app, officer, typed, pence):
    round_ = three_years(app)
    bid_id = bidding.start(officer, app, "PCF")
    response = officer.submit(bidding.section_url(bid_id, "budget"), dict(budget_form([
        ("Youth worker", "revenue", [typed, "", ""]),
    ]), version=bidding.version_of(officer, bid_id, "budget")))
    assert response.status_code == 302, errors(response)
    assert lines_of(app, bid_id) == [("Youth worker", pence,
                                      {str(round_.financial_year): pence})]


@pytest.mark.parametrize("typed", ["１２５０", "-10", "1e3", "12.345", "1 250", "1,25,0",
                                   "12<b>3</b>", "9" * 400, "1\u202e0"])
def test_unreadable_amounts_in_a_year_are_refused_beside_it(app, officer, typed):
    three_years(app)
    bid_id = bidding.start(officer, app, "PCF")
    before = table_row_counts(app)
    response = officer.submit(bidding.section_url(bid_id, "budget"), dict(budget_form([
        ("Youth worker", "revenue", ["100", typed, ""]),
    ]), version=bidding.version_of(officer, bid_id, "budget")))
    assert response.status_code == 200
    assert errors(response)
    assert 'href="#rows-0-year_1"' in response.get_data(as_text=True)
    assert table_row_counts(app) == before


# --- deciding ---------------------------------------------------------------------------------


def test_a_decision_over_a_years_remaining_budget_is_refused_and_changes_nothing(app, manager):
    round_ = three_years(app)
    y = round_.financial_year
    first = multi_year_bid(app, [{y: 50_000_00, y + 1: 50_000_00, y + 2: 50_000_00}])
    second = multi_year_bid(app, [{y: 20_000_00, y + 1: 5_000_00, y + 2: 5_000_00}],
                            title="Another project")
    approve(app, first, 150_000_00)
    page = manager.get(f"/manage/bids/{second}/decide")
    text = text_of(page)
    assert "Asked for and remaining, by financial year" in text
    assert years.year_label(y) in text and "£20,000.00" in text and "£10,000.00" in text
    before = table_row_counts(app)
    with app.test_request_context():
        bid = session.get(Bid, second)
        with pytest.raises(decisions.DomainError) as refused:
            decisions.approve(bid, 30_000_00, purpose="Youth work", conditions="",
                              reasons="Less crime", actor=accounts.get_user_by_email(MANAGER),
                              override_reason=OVERRIDE)
        session.rollback()
    assert refused.value.field == "amount"
    assert (f"would take £20,000.00 from the budget for {years.year_label(y)}, but only "
            "£10,000.00 of it remains") in refused.value.message
    assert table_row_counts(app) == before
    assert year_rows(app, round_.id)[y][1] == 50_000_00
    # Through the page: the same refusal beside the amount, nothing changed.
    response = manager.submit(f"/manage/bids/{second}/decide", {
        "outcome": "approve", "amount": "30,000", "purpose": "Youth work", "conditions": "",
        "reasons": "Less crime", "feedback": "", "override_reason": OVERRIDE})
    assert response.status_code == 200
    assert any("but only £10,000.00 of it remains" in e for e in errors(response))
    assert table_row_counts(app) == before
    # Half of it fits: 10,000 / 2,500 / 2,500.
    approve(app, second, 15_000_00)
    assert {year: row[1] for year, row in year_rows(app, round_.id).items()} == {
        y: 60_000_00, y + 1: 52_500_00, y + 2: 52_500_00}


def test_each_years_committed_total_is_the_sum_of_its_awards_lines(app):
    round_ = three_years(app)
    y = round_.financial_year
    asked = [
        [{y + 1: 6_531_10, y + 2: 5_714_47}, {y: 5_335_80, y + 1: 5_353_01}],
        [{y: 3_333_33, y + 1: 3_333_33, y + 2: 3_333_34}],
        [{y: 1_00}, {y + 2: 7_77}, {y: 12_34, y + 1: 56_78, y + 2: 90_12}],
    ]
    amounts = [13_784_03, 9_999_99, 1_07]  # part awards that do not divide evenly
    ids = [multi_year_bid(app, lines, title=f"Project {n}") for n, lines in enumerate(asked)]
    for bid_id, amount in zip(ids, amounts):
        approve(app, bid_id, amount)
    expected: dict[int, int] = {y: 0, y + 1: 0, y + 2: 0}
    with app.app_context():
        for bid_id, amount in zip(ids, amounts):
            award = session.scalar(select(Award).where(Award.bid_id == bid_id))
            shares: dict[int, int] = {}
            for line in award.lines:
                for key, pence in line.original_years.items():
                    shares[int(key)] = shares.get(int(key), 0) + pence
            # A part award's years add up exactly to it, each within what was asked.
            assert sum(shares.values()) == amount == award.amount_pence
            asked_years: dict[int, int] = {}
            for line in session.get(Bid, bid_id).budget_lines:
                for key, pence in line.year_amounts.items():
                    asked_years[int(key)] = asked_years.get(int(key), 0) + pence
            for year, pence in shares.items():
                assert pence >= 0
                # In proportion to what was asked, to within a few pence of rounding.
                exact = asked_years[year] * amount / sum(asked_years.values())
                assert abs(pence - exact) < 2 * len(award.lines) + 2
            for year, pence in shares.items():
                expected[year] += pence
    rows = year_rows(app, round_.id)
    assert {year: row[1] for year, row in rows.items()} == expected
    assert pcf(app).committed_pence == sum(amounts) == sum(expected.values())


def test_the_read_only_bid_and_decide_page_show_the_years(app, manager):
    round_ = three_years(app)
    y = round_.financial_year
    bid_id = multi_year_bid(app, [{y: 1_000_00, y + 2: 2_000_00}])
    page = text_of(manager.get(f"/manage/bids/{bid_id}/decide"))
    for year, asked in ((y, "£1,000.00"), (y + 1, "£0.00"), (y + 2, "£2,000.00")):
        assert years.year_label(year) in page and asked in page


def test_a_part_award_never_gives_a_year_more_than_was_asked(app):
    round_ = three_years(app)
    y = round_.financial_year
    bid_id = multi_year_bid(app, [{y: 3_333_33, y + 1: 3_333_33, y + 2: 3_333_34}])
    approve(app, bid_id, 9_999_99)
    with app.app_context():
        award = session.scalar(select(Award).where(Award.bid_id == bid_id))
        shares = {int(k): v for k, v in award.lines[0].original_years.items()}
    assert sum(shares.values()) == 9_999_99
    assert shares[y + 2] <= 3_333_34, shares
