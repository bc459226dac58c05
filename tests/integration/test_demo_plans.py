"""The demo data's Police and Crime Plans (issue 18, point 5): the plan in force today with its
sections, every demo fund's default section, every demo bid and award aligned to the plan in
force when it was made, and loading the demo twice changes nothing."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import func, select

from portal import demo_plans
from portal.db import UK, session, uk_today
from portal.models import Award, Bid, BidStatus, Fund, Plan, PlanSection, bid_plan_sections
from portal.services import plans
from portal.services.rounds import financial_year_of
from tests.integration.test_transparency import problems, validator  # noqa: F401


def load_demo_awards(app) -> None:
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output


def alignment(app) -> dict[str, object]:
    """Everything the demo aligns: plans, sections, funds' defaults, bids' and awards'."""
    with app.app_context():
        return {
            "plans": session.execute(select(Plan.id, Plan.title, Plan.in_force_from)
                                     .order_by(Plan.id)).all(),
            "sections": session.execute(select(PlanSection.id, PlanSection.plan_id,
                                               PlanSection.code, PlanSection.name)
                                        .order_by(PlanSection.id)).all(),
            "funds": session.execute(select(Fund.code, Fund.plan_section_id)
                                     .order_by(Fund.code)).all(),
            "bids": session.execute(select(bid_plan_sections.c.bid_id,
                                           bid_plan_sections.c.plan_section_id)
                                    .order_by(bid_plan_sections.c.bid_id,
                                              bid_plan_sections.c.plan_section_id)).all(),
            "awards": session.execute(select(Award.id, Award.plan_section_id)
                                      .order_by(Award.id)).all(),
        }


def test_the_demos_current_plan_is_in_force_today_with_its_sections(app):
    with app.app_context():
        plan = plans.plan_in_force(uk_today())
        assert plan is not None and plan.title == "Police and Crime Plan 2024–2028"
        assert plan.title_cy.startswith("Cynllun Heddlu a Throseddu")
        assert [(s.code, s.name) for s in plans.sections_in_force(uk_today())] == [
            ("PCF", "Putting Communities First"), ("VIC", "Supporting victims"),
            ("KPS", "Keeping people safe"), ("ETH", "Ethical policing"),
            ("CJS", "A robust criminal justice system")]
        assert all(s.name_cy for s in plan.sections)
        assert plan.first_year <= financial_year_of(uk_today()) <= plan.last_year
        # The plan the Commissioner elected in 2021 came before it.
        earlier = session.scalar(select(Plan).where(Plan.title == "Police and Crime Plan "
                                                                   "2021–2024"))
        assert earlier is not None and str(earlier.in_force_from) == "2021-05-13"
        assert (earlier.first_year, earlier.last_year) == (2021, 2024)


def test_every_demo_fund_names_a_default_section_of_the_plan_in_force(app):
    load_demo_awards(app)  # the direct funds too
    with app.app_context():
        current = {s.id for s in plans.sections_in_force(uk_today())}
        funds = session.scalars(select(Fund)).all()
        assert {f.code for f in funds} >= {"SCF", "YF", "PCF", "CSPA", "CDRP"}
        for fund in funds:
            assert fund.plan_section_id in current, fund.code


def test_every_demo_bid_sent_and_every_award_is_aligned_to_the_plan_of_its_day(app):
    load_demo_awards(app)
    with app.app_context():
        awards = session.scalars(select(Award)).all()
        assert len(awards) >= 11  # this year's, last year's, PCF's three years, two direct
        for award in awards:
            bid = award.bid
            assert award.plan_section is not None, bid.title
            assert bid.plan_sections, bid.title
            assert award.plan_section in bid.plan_sections, bid.title
            sent = bid.submitted_at.replace(tzinfo=bid.submitted_at.tzinfo or UTC)
            in_force = plans.plan_in_force(sent.astimezone(UK).date())
            assert award.plan_section.plan_id == in_force.id, bid.title
            assert {s.plan_id for s in bid.plan_sections} == {in_force.id}, bid.title
        unaligned = session.scalars(
            select(Bid.title).where(Bid.status != BidStatus.DRAFT, ~Bid.plan_sections.any())
        ).all()
        assert unaligned == []
        by_title = {a.bid.title: a.plan_section for a in awards}
        # Grants of older plans keep their sections under them while a later plan is in force.
        officer = by_title["CSP Project Officer for South Cambridgeshire"]
        assert (officer.code, officer.plan.title) == ("PCF", "Police and Crime Plan 2021–2024")
        cdrp = by_title["South Cambridgeshire CDRP action plan 2016/17"]
        assert cdrp.plan.title == "Police and Crime Plan 2012–2016"
        assert by_title["Cycle marking kits for students"].plan == plans.plan_in_force(uk_today())
        sections = {a.plan_section.code for a in awards
                    if a.plan_section.plan == plans.plan_in_force(uk_today())}
        assert len(sections) >= 2  # the board's list has several sections to group by


def test_the_demos_open_data_carries_each_grants_section_and_validates(
        app, client, validator):  # noqa: F811
    load_demo_awards(app)
    package = client.get("/transparency/360giving.json").get_json()
    assert problems(validator, package) == []
    assert package["grants"]
    for grant in package["grants"]:
        [classification] = grant["classifications"]
        assert classification["vocabulary"].startswith(
            "360G-opcc-cambs-police-and-crime-plan-"), grant["title"]
    vocabularies = {g["classifications"][0]["vocabulary"] for g in package["grants"]}
    assert vocabularies == {"360G-opcc-cambs-police-and-crime-plan-2012-11-22",
                            "360G-opcc-cambs-police-and-crime-plan-2021-05-13",
                            "360G-opcc-cambs-police-and-crime-plan-2024-05-09"}


def test_loading_the_demo_twice_changes_no_plan_section_or_alignment(app):
    load_demo_awards(app)
    before = alignment(app)
    runner = app.test_cli_runner()
    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0 and "already present" in second.output
    assert alignment(app) == before
    with app.test_request_context():
        assert demo_plans.load_plans() is False
        assert demo_plans.align_funds(uk_today()) is False
        assert demo_plans.align_grants() is False


def test_a_demo_loaded_before_the_plans_gets_them_on_loading_again(app):
    load_demo_awards(app)
    expected = alignment(app)
    with app.test_request_context():
        session.execute(bid_plan_sections.delete())
        for award in session.scalars(select(Award)):
            award.plan_section_id = None
        for fund in session.scalars(select(Fund)):
            fund.plan_section_id = None
        session.commit()
    load_demo_awards(app)
    assert alignment(app) == expected
    with app.app_context():
        assert session.scalar(select(func.count()).select_from(Plan)) == len(demo_plans.PLANS)
