"""The demo data carries the seeds' agreements as they happened (issue 14, point 4): South
Cambridgeshire's Project Officer agreement, the CDRP's 2016/17 allocation with its action plan,
re-allocations, returns and overspend, Putting Communities First over three years, and the
partnerships' ONS codes in the open data."""

from __future__ import annotations

from sqlalchemy import func, select

from portal import demo, demo_agreements
from portal.db import session
from portal.exports import giving360
from portal.models import (
    Award,
    AwardStatus,
    Bid,
    Decision,
    Fund,
    Organisation,
    Payment,
    Rag,
    ReturnKind,
    ReturnStatus,
    Round,
    Variation,
    VariationKind,
    VariationStatus,
)
from portal.services import accounts, awards, years
from tests.integration.test_transparency import problems, validator  # noqa: F401

PROJECT_OFFICER = "CSP Project Officer for South Cambridgeshire"
CDRP = "South Cambridgeshire CDRP action plan 2016/17"


def load_demo_awards(app) -> None:
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output


def award_titled(title: str) -> Award:
    return session.scalars(select(Award).join(Bid).where(Bid.title == title)).one()


def pounds(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


def test_the_partnerships_carry_the_ons_codes_of_their_districts(app):
    with app.app_context():
        codes = dict(session.execute(select(Organisation.name, Organisation.area_code)
                                     .where(Organisation.type == "csp")).all())
    assert codes == {
        "Cambridge City CSP": "E07000008", "East Cambridgeshire CSP": "E07000009",
        "Safer Fenland Partnership": "E07000010", "Huntingdonshire CSP": "E07000011",
        "Safer Peterborough Partnership": "E06000031", "South Cambridgeshire CSP": "E07000012"}


def test_loading_the_demo_again_gives_a_partnership_its_missing_code_and_nothing_more(app):
    with app.test_request_context():
        fenland = session.scalars(select(Organisation)
                                  .where(Organisation.name == "Safer Fenland Partnership")).one()
        fenland.area_code = None
        session.flush()
        assert demo.load(awards=False) is True
        assert fenland.area_code == "E07000010"
        assert demo.load(awards=False) is False


def test_the_project_officer_agreement_is_45000_a_year_for_three_years(app):
    load_demo_awards(app)
    with app.app_context():
        award = award_titled(PROJECT_OFFICER)
        fund, round_ = award.round.fund, award.round
        assert fund.direct and fund.code == "CSPA"
        assert round_.financial_year_label == "2022/23 to 2024/25" and round_.years == 3
        assert award.organisation.name == "South Cambridgeshire CSP"
        assert award.amount_pence == 135_000_00
        assert award.bid.status.value == "awarded" and award.bid.reference.startswith("CSPA-2022-")
        [line] = award.lines
        assert (line.item, line.kind.value) == ("CSP Project Officer", "revenue")
        assert line.original_years == {"2022": 45_000_00, "2023": 45_000_00, "2024": 45_000_00}
        assert line.revised_years == line.original_years
        assert award.payment_plan == line.original_years
        assert (award.start_date.isoformat(), award.end_date.isoformat()) == ("2022-04-01",
                                                                             "2025-03-31")
        decision = session.scalars(select(Decision).where(Decision.bid_id == award.bid_id)).one()
        assert decision.amount_pence == award.amount_pence and decision.purpose
        assert decision.conditions and "crime and disorder" in decision.crime_reduction_reasons
        assert [a.title for a in award.actions] == ["Oversee the work of the new Project Officer"]


def test_the_project_officer_is_reported_six_monthly_and_paid_in_arrears(app):
    load_demo_awards(app)
    with app.app_context():
        award = award_titled(PROJECT_OFFICER)
        returns = sorted(award.returns, key=lambda r: r.period_start)
        assert len(returns) == 6 and returns[-1].kind == ReturnKind.FINAL
        for grant_return in returns:
            assert grant_return.status == ReturnStatus.APPROVED
            assert grant_return.spend_pence == 22_500_00
            assert grant_return.submitted_at.date() > grant_return.period_end
            assert [a.rag for a in grant_return.actions] == [Rag.GREEN]
        accepted = awards.accepted_on(award)
        assert all(p.paid_on >= accepted for p in award.payments)
        assert [p.amount_pence for p in award.payments] == [22_500_00] * 6
        assert award.paid_pence == award.amount_pence and award.status == AwardStatus.CLOSED
        assert not award.repayments


def test_the_cdrp_allocation_has_its_lines_as_originally_allocated_and_as_revised(app):
    load_demo_awards(app)
    with app.app_context():
        award = award_titled(CDRP)
        assert award.round.fund.direct and award.round.financial_year_label == "2016/17"
        assert award.amount_pence == 15_277_00
        table = [(line.item, pounds(line.original_pence), pounds(line.revised_pence),
                  line.action_numbers) for line in award.lines]
        assert table == [
            ("CCC/Research and Analyst", "4000.00", "4000.00", ["3.1", "3.2", "3.3"]),
            ("Community & school presentations of Chelsea's Choice and Tough Love",
             "4500.00", "4500.00", ["1.6"]),
            ("Domestic abuse conference", "1000.00", "0.00", ["1.4"]),
            ("Hoarding", "1000.00", "1000.00", ["1.1", "1.5"]),
            ("Hate Crime", "500.00", "500.00", ["1.8"]),
            ("Community Protection work by CCC", "2000.00", "2000.00", ["1.9"]),
            ("Burglary Prevention", "1000.00", "1000.00", ["2.2"]),
            ("Community Engagement", "1277.00", "0.00", ["3.1", "3.2", "3.3"]),
            ("Contribution to Bobby Scheme", "0.00", "777.00", ["1.1", "2.2"]),
            ("Information packs for the Parish Training Event", "0.00", "500.00", ["1.1"]),
            ("Parish Training Event", "0.00", "1000.00", ["1.1"]),
        ]
        assert sum(line.original_pence for line in award.lines) == 15_277_00
        assert sum(line.revised_pence for line in award.lines) == 15_277_00
        for line in award.lines:  # each line's year adds up to the line
            assert sum(years.by_year(line.revised_years).values()) == line.revised_pence
            assert sum(years.by_year(line.original_years).values()) == line.original_pence


def test_the_cdrp_money_was_moved_by_two_reallocations_the_opcc_agreed(app):
    load_demo_awards(app)
    with app.app_context():
        award = award_titled(CDRP)
        lines = {line.id: line.item for line in award.lines}
        first, second = session.scalars(select(Variation).where(Variation.award_id == award.id)
                                         .order_by(Variation.id)).all()
        for variation in (first, second):
            assert variation.kind == VariationKind.REALLOCATION
            assert variation.status == VariationStatus.APPROVED
            assert variation.requested_at < variation.decided_at
        assert [(lines[m["from"]], m["new_item"], m["amount"]) for m in first.moves] == [
            ("Community Engagement", "Contribution to Bobby Scheme", 777_00),
            ("Community Engagement", "Information packs for the Parish Training Event", 500_00)]
        assert [(lines[m["from"]], m["new_item"], m["amount"]) for m in second.moves] == [
            ("Domestic abuse conference", "Parish Training Event", 1_000_00)]
        assert "agreed by opcc" in second.decision_comment.lower()


def test_the_hoarding_overspend_of_13_70_is_met_by_the_partnership(app):
    load_demo_awards(app)
    with app.app_context():
        award = award_titled(CDRP)
        first, second = sorted(award.returns, key=lambda r: r.period_start)
        assert (first.period_start.isoformat(), first.period_end.isoformat()) == (
            "2016-04-01", "2016-09-30")
        assert first.submitted_at.date().isoformat().startswith("2016-10")
        assert (second.period_start.isoformat(), second.period_end.isoformat()) == (
            "2016-10-01", "2017-03-31")
        assert second.submitted_at.date().isoformat() == "2017-03-31"
        assert all(r.status == ReturnStatus.APPROVED for r in (first, second))
        checks = {check.line.item: check for check in awards.line_checks(second)}
        hoarding = checks["Hoarding"]
        assert hoarding.this_pence == 1_013_70 and hoarding.overspent
        assert hoarding.variance_pence == -demo_agreements.HOARDING_OVERSPEND
        assert [item for item, check in checks.items() if check.overspent] == ["Hoarding"]
        assert first.spend_pence + second.spend_pence == 15_277_00 + 13_70
        assert awards.eligible_spend(award) == 15_277_00  # capped at the line
        assert award.paid_pence == 15_277_00 and award.status == AwardStatus.CLOSED
        assert not award.repayments  # nothing to repay, nothing more paid


def test_each_action_of_the_cdrp_plan_is_reported_with_its_rag_status(app):
    load_demo_awards(app)
    with app.app_context():
        award = award_titled(CDRP)
        assert [a.number for a in award.actions] == [
            "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9", "2.1", "2.2",
            "3.1", "3.2", "3.3", "3.4", "3.5"]
        assert {a.lead for a in award.actions} == {"SCDC Community Safety Officer"}
        second = max(award.returns, key=lambda r: r.period_start)
        reported = {row.action.number: row for row in second.actions}
        assert set(reported) == {a.number for a in award.actions}
        assert reported["1.4"].rag == Rag.CLOSED
        assert "Agreed to not hold the conference due to low interest" in \
            reported["1.4"].narrative
        assert {n for n, row in reported.items() if row.rag == Rag.AMBER} == {"1.7", "1.8", "3.2"}
        assert {n for n, row in reported.items() if row.rag == Rag.GREEN} == \
            set(reported) - {"1.4", "1.7", "1.8", "3.2"}
        assert all(row.narrative for row in reported.values())


def test_putting_communities_first_runs_three_years_with_awards_across_them(app):
    load_demo_awards(app)
    with app.app_context():
        rounds = session.scalars(select(Round).join(Fund).where(Fund.code == "PCF")).all()
        three = next(r for r in rounds if r.years == 3)
        assert three.financial_year_label == "2022/23 to 2024/25"
        assert three.budget_pence == 190_000_00
        assert [(y.financial_year, y.budget_pence) for y in three.year_budgets] == [
            (2022, 63_334_00), (2023, 63_333_00), (2024, 63_333_00)]
        made = session.scalars(select(Award).where(Award.round_id == three.id)).all()
        assert len(made) >= 2
        assert all(y.committed_pence > 0 for y in three.year_budgets)
        spans = {tuple(years.award_years(award)) for award in made}
        assert len(spans) > 1  # awards across different years
        current = next(r for r in rounds if r.years == 1)  # this year's, open for bids
        assert current.budget_pence == 190_000_00 and current.committed_pence == 0


def test_every_demo_round_has_committed_what_its_awards_hold_each_year(app):
    load_demo_awards(app)
    with app.app_context():
        for round_ in session.scalars(select(Round)):
            made = session.scalars(select(Award).where(Award.round_id == round_.id)).all()
            per_year = awards.year_totals([line for a in made for line in a.lines])
            committed = {y.financial_year: y.committed_pence for y in round_.year_budgets}
            assert {y: p for y, p in committed.items() if p} == per_year, round_.name
            assert round_.committed_pence == sum(a.amount_pence for a in made), round_.name
            for award in made:
                assert sum(line.original_pence for line in award.lines) == award.amount_pence
                assert sum(line.revised_pence for line in award.lines) == award.amount_pence
                paid = session.scalar(select(func.coalesce(func.sum(Payment.amount_pence), 0))
                                      .where(Payment.award_id == award.id))
                assert paid == award.paid_pence <= award.amount_pence
                assert award.paid_pence <= sum(years.by_year(award.payment_plan).values())


def test_the_open_data_names_each_partnerships_district_by_its_ons_code(app, client,
                                                                        validator):  # noqa: F811
    load_demo_awards(app)
    package = client.get("/transparency/360giving.json").get_json()
    assert problems(validator, package) == []
    places = {(g["recipientOrganization"][0]["department"], g["beneficiaryLocation"][0]["geoCode"],
               g["beneficiaryLocation"][0].get("geoCodeType")) for g in package["grants"]}
    typed = "E07" in giving360.GEO_CODE_TYPES  # another change adds E06 and E07
    for department, code, code_type in places:
        if typed:
            assert code_type == ("UA" if code.startswith("E06") else "NMD"), department
    assert ("South Cambridgeshire CSP", "E07000012",
            "NMD" if typed else None) in places
    assert ("Safer Peterborough Partnership", "E06000031", "UA" if typed else None) in places
    titles = {g["title"] for g in package["grants"]}
    assert {PROJECT_OFFICER, CDRP} <= titles


def test_loading_the_demo_twice_makes_no_second_agreement(app):
    load_demo_awards(app)
    with app.test_request_context():
        before = session.scalar(select(func.count()).select_from(Award))
        officer, manager, finance = (accounts.get_user_by_email(f"{who}@example.org") for who in
                                     ("officer.southcambs", "manager", "finance"))
        assert demo_agreements.load(officer, manager, finance) is False
        assert session.scalar(select(func.count()).select_from(Award)) == before
