"""The board's list of grants by section of the Police and Crime Plan (issue 18, point 3): for
a financial year with grants in several sections (one a direct award, one aligned to no
section, one under a section of an older plan, and one of another year that must not count),
the totals per section are the sums worked out here, the overall total is the dashboard's
committed, the CSV and the workbook carry the same grants, the dashboard charts the same
totals, the page costs the same queries for one grant or many, and only managers and finance
see it."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.db import session
from portal.models import Award, Fund, Plan, PlanSection, Round
from portal.models.funds import PaymentRule, ReturnCadence
from portal.services import accounts, agreements
from tests.helpers import signed_in, text_of
from tests.integration.test_reports import (
    ADMIN,
    ASSESSOR,
    CAMBRIDGE,
    FENLAND,
    FINANCE,
    HUNTS,
    MANAGER,
    SOUTHCAMBS,
    cell_text,
    make_grant,
    number_formats,
    pounds,
    sheets_of,
    soup_of,
    summary,
    table,
)

OLD_PLAN = "Police and Crime Plan 2019–2023"
NEW_PLAN = "Police and Crime Plan for the test"
CSV_HEADER = ["section_code", "section", "plan", "reference", "partnership", "purpose", "fund",
              "amount_gbp"]


def year_of(app) -> int:
    """The financial year of the demo's open rounds (the competitive grants')."""
    with app.app_context():
        return session.scalar(select(Round.financial_year).join(Fund)
                              .where(Fund.code == "SCF").order_by(Round.financial_year.desc()))


@dataclass
class Listed:
    year: int
    sections: dict[str, int]  # code -> id ("OLD" for the older plan's section)
    amounts: dict[str | None, list[int]] = field(default_factory=dict)  # code -> pence
    references: dict[str | None, set[str]] = field(default_factory=dict)
    elsewhere: str = ""  # the reference of the other year's grant

    def add(self, code: str | None, reference: str, pence: int) -> None:
        self.amounts.setdefault(code, []).append(pence)
        self.references.setdefault(code, set()).add(reference)

    def total(self, code: str | None) -> int:
        return sum(self.amounts.get(code, []))

    @property
    def overall(self) -> int:
        return sum(sum(amounts) for amounts in self.amounts.values())


def make_plans(app, year: int) -> dict[str, int]:
    """An older plan (one section) and the year's plan (three, entered out of order), in
    force from dates no demo plan has."""
    with app.app_context():
        old = Plan(title=OLD_PLAN, first_year=year - 7, last_year=year - 4,
                   in_force_from=date(year - 7, 6, 3))
        old.sections = [PlanSection(code="SAFE", name="Safer streets", position=1)]
        new = Plan(title=NEW_PLAN, first_year=year, last_year=year + 3,
                   in_force_from=date(year, 6, 2))
        new.sections = [
            PlanSection(code="VIC", name="Supporting victims", name_cy="Cefnogi dioddefwyr",
                        position=2),
            PlanSection(code="ETH", name="Ethical policing", position=3),
            PlanSection(code="PCF", name="Putting Communities First", position=1),
        ]
        session.add_all([old, new])
        session.commit()
        ids = {section.code: section.id for section in new.sections}
        ids["OLD"] = old.sections[0].id
        return ids


def align(app, award_id: int, section_id: int | None) -> None:
    with app.app_context():
        session.get(Award, award_id).plan_section_id = section_id
        session.commit()


def reference_of(app, award_id: int) -> str:
    with app.app_context():
        return session.get(Award, award_id).bid.reference


def direct_award(app, year: int, email: str, pence: int, code: str,
                 purpose: str = "The partnership's action plan for the year") -> int:
    """A direct award of ``pence`` for ``year`` from a new direct fund ``code``."""
    with app.test_request_context():
        fund = Fund(code=code, name=f"Commissioner's agreements {code}",
                    purpose="Direct awards to partnerships", direct=True,
                    payment_rule=PaymentRule.ADVANCE, terms="Grant agreement terms")
        round_ = Round(fund=fund, name=f"Budget {year}", financial_year=year, years=1,
                       opens_at=datetime(year, 4, 1, tzinfo=UTC),
                       closes_at=datetime(year + 1, 3, 31, tzinfo=UTC),
                       budget_pence=pence * 2, committed_pence=0,
                       eligible_organisation_types=["csp"],
                       return_cadence=ReturnCadence.SIX_MONTHLY)
        session.add(round_)
        session.flush()
        award = agreements.create_direct_award(
            accounts.get_user_by_email(email).organisation_id, round_.id,
            title="Yearly allocation", purpose=purpose,
            start_date=date(year, 4, 1), end_date=date(year + 1, 3, 31),
            lines=[agreements.LineInput("Community engagement", "revenue", {year: pence})],
            conditions="", reasons="Actions agreed against the Strategic Assessment",
            token=uuid.uuid4().hex, actor=accounts.get_user_by_email(MANAGER))
        session.commit()
        return award.id


def build(app) -> Listed:
    year = year_of(app)
    listed = Listed(year, make_plans(app, year))

    def grant(email: str, code: str, pence: int, section: str | None) -> None:
        made = make_grant(app, email, code, [("Work", "revenue", pence)], ["youth"])
        align(app, made.award_id, listed.sections[section] if section else None)
        listed.add(section, made.reference, pence)

    grant(FENLAND, "SCF", 4_000_00, "PCF")
    grant(SOUTHCAMBS, "SCF", 3_000_00, "VIC")
    grant(CAMBRIDGE, "YF", 2_500_00, "PCF")
    grant(HUNTS, "SCF", 2_000_00, "OLD")  # decided under the older plan: stays under it
    grant(SOUTHCAMBS, "YF", 1_000_00, None)  # aligned to no section
    direct = direct_award(app, year, FENLAND, 1_527_70, "DIRA")
    align(app, direct, listed.sections["VIC"])
    listed.add("VIC", reference_of(app, direct), 1_527_70)
    other = direct_award(app, year + 1, HUNTS, 9_999_00, "DIRB")  # another year
    align(app, other, listed.sections["PCF"])
    listed.elsewhere = reference_of(app, other)
    return listed


@pytest.fixture
def listed(app) -> Listed:
    return build(app)


@pytest.fixture
def manager(app):
    return signed_in(app, MANAGER)


def headings(response) -> list[str]:
    return [" ".join(h.get_text(" ", strip=True).split())
            for h in soup_of(response).select(".portal-print-group h2")]


def section_tables(response) -> dict[str, dict[str, list[str]]]:
    """Each section's rows (by recipient) and its total row, by the section's heading."""
    soup = soup_of(response)
    found = {}
    for group in soup.select(".portal-print-group"):
        heading = " ".join(group.find("h2").get_text(" ", strip=True).split())
        element = group.find("table")
        found[heading] = table(response, element["id"]) if element else {}
    return found


LABELS = {"PCF": "PCF: Putting Communities First", "VIC": "VIC: Supporting victims",
          "ETH": "ETH: Ethical policing", "OLD": f"SAFE: Safer streets ({OLD_PLAN})",
          None: "Not aligned to a section"}


# --- the list --------------------------------------------------------------------------------


def test_the_list_groups_the_years_grants_by_section_in_plan_order(app, manager, listed):
    page = manager.get(f"/reports/plan-list?year={listed.year}")
    assert page.status_code == 200
    # The year's plan's sections in its order (the empty one too), then the older plan's
    # section with its plan named, then the grants aligned to none.
    assert headings(page) == [LABELS[code] for code in ("PCF", "VIC", "ETH", "OLD", None)]
    tables = section_tables(page)
    for code in ("PCF", "VIC", "OLD", None):
        rows = tables[LABELS[code]]
        assert rows["Total for this section"][-1] == pounds(listed.total(code)), code
        assert len(rows) == len(listed.amounts[code]) + 1  # the grants and the total
        shown = text_of(page)
        for reference in listed.references[code]:
            assert reference in shown
    assert tables[LABELS["ETH"]] == {}
    assert "No grants under this section" in text_of(page)
    assert listed.elsewhere not in text_of(page)
    overall = soup_of(page).find(id="plan-list-overall").get_text(strip=True)
    assert overall == pounds(listed.overall)
    assert soup_of(page).find(id="plan-list-total").get_text(strip=True) == overall


def partnership(app, email: str) -> str:
    with app.app_context():
        return accounts.get_user_by_email(email).organisation.name


def test_each_row_gives_recipient_purpose_fund_and_amount(app, manager, listed):
    page = manager.get(f"/reports/plan-list?year={listed.year}")
    rows = section_tables(page)[LABELS["VIC"]]
    fenland, south = partnership(app, FENLAND), partnership(app, SOUTHCAMBS)
    assert set(rows) == {south, fenland, "Total for this section"}
    purpose, fund, amount = rows[fenland]
    assert purpose.startswith("The partnership's action plan for the year")
    assert "direct award" in purpose
    assert fund == "Commissioner's agreements DIRA"
    assert amount == pounds(1_527_70)
    purpose, fund, amount = rows[south]
    assert purpose.startswith("Safer streets")  # the decision's purpose
    assert fund == "Safer Communities Fund" and amount == pounds(3_000_00)


def test_the_overall_total_is_the_dashboards_committed_for_the_year(app, manager, listed):
    dashboard = manager.get(f"/reports/?year={listed.year}")
    assert summary(dashboard)["Committed"] == pounds(listed.overall)
    # The dashboard's chart and table by section: the same totals, in the same order.
    rows = table(dashboard, "table-sections")
    assert list(rows) == [LABELS[code] for code in ("PCF", "VIC", "ETH", "OLD", None)]
    for code in ("PCF", "VIC", "ETH", "OLD", None):
        assert rows[LABELS[code]][1] == pounds(listed.total(code)), code
    chart = soup_of(dashboard).find("svg", id="chart-sections")
    assert chart is not None and chart["role"] == "img"
    assert "Police and Crime Plan" in chart.find("title").get_text()
    texts = [t.get_text(strip=True) for t in chart.find_all("text")]
    assert texts[texts.index(LABELS["PCF"]) + 1] == f"Awarded: {pounds(listed.total('PCF'))}"
    link = soup_of(dashboard).find("a", href=f"/reports/plan-list?year={listed.year}")
    assert link is not None


def test_a_fund_filter_keeps_the_list_to_that_funds_grants(app, manager, listed):
    page = manager.get(f"/reports/plan-list?year={listed.year}&fund=YF")
    assert page.status_code == 200
    overall = soup_of(page).find(id="plan-list-overall").get_text(strip=True)
    assert overall == pounds(2_500_00 + 1_000_00)
    dashboard = manager.get(f"/reports/?year={listed.year}&fund=YF")
    assert summary(dashboard)["Committed"] == overall


def test_another_year_lists_only_its_own_grants(app, manager, listed):
    page = manager.get(f"/reports/plan-list?year={listed.year + 1}")
    assert page.status_code == 200
    assert listed.elsewhere in text_of(page)
    assert soup_of(page).find(id="plan-list-overall").get_text(strip=True) == \
        pounds(9_999_00)


# --- the files -------------------------------------------------------------------------------


def csv_of(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    header, *rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert header == CSV_HEADER
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_the_csv_has_one_row_per_grant_with_its_section(app, manager, listed):
    response = manager.get(f"/reports/plan-list.csv?year={listed.year}")
    rows = csv_of(response)
    assert "grants-by-plan-section-" in response.headers["Content-Disposition"]
    assert len(rows) == sum(len(amounts) for amounts in listed.amounts.values())
    codes = {"PCF": "PCF", "VIC": "VIC", "OLD": "SAFE", None: ""}
    for code, references in listed.references.items():
        mine = [row for row in rows if row["reference"] in references]
        assert {row["section_code"] for row in mine} == {codes[code]}
        assert sum(Decimal(row["amount_gbp"]) * 100 for row in mine) == listed.total(code)
    old = next(row for row in rows if row["section_code"] == "SAFE")
    assert old["plan"] == OLD_PLAN and old["section"] == "Safer streets"
    assert next(row for row in rows if row["section_code"] == "PCF")["plan"] == NEW_PLAN
    assert listed.elsewhere not in {row["reference"] for row in rows}


def test_the_workbook_has_the_grants_and_the_section_and_overall_totals(app, manager, listed):
    response = manager.get(f"/reports/plan-list.xlsx?year={listed.year}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_data()
    response.close()
    [(name, rows)] = sheets_of(data).items()
    assert name == "Grants by plan section"
    formats = number_formats(data)
    totals, grants = {}, {}
    assert cell_text(rows[0]["A"]).startswith(
        "Grants awarded by section of the Police and Crime Plan, ")
    assert [cell_text(cell) for cell in rows[1].values()] == [
        "Section of the Police and Crime Plan", "Reference", "Recipient", "Purpose", "Fund",
        "Amount"]
    for row in rows[2:]:  # (the blank rows are not written)
        label, amount = cell_text(row["A"]), row["F"]
        assert amount.get("t") is None and "£#,##0.00" in formats[int(amount.get("s"))]
        pence = int(Decimal(cell_text(amount)) * 100)
        if label.startswith("Total for "):
            totals[label.removeprefix("Total for ")] = pence
        else:
            grants[cell_text(row["B"])] = (label, pence)
    for code in ("PCF", "VIC", "ETH", "OLD", None):
        assert totals[LABELS[code]] == listed.total(code), code
    assert totals["all sections"] == listed.overall
    for code, references in listed.references.items():
        for reference in references:
            assert grants[reference][0] == LABELS[code]
    csv_rows = csv_of(manager.get(f"/reports/plan-list.csv?year={listed.year}"))
    assert {row["reference"]: int(Decimal(row["amount_gbp"]) * 100) for row in csv_rows} == \
        {reference: pence for reference, (_label, pence) in grants.items()}


def test_a_purpose_that_looks_like_a_formula_stays_text_in_the_csv(app, manager):
    year = year_of(app)
    direct_award(app, year, FENLAND, 1_000_00, "DIRC", purpose='=HYPERLINK("http://x")')
    rows = csv_of(manager.get(f"/reports/plan-list.csv?year={year}"))
    assert [row["purpose"] for row in rows] == ["'=HYPERLINK(\"http://x\")"]


# --- cost ----------------------------------------------------------------------------------


def test_the_list_costs_the_same_queries_for_one_grant_or_many(app, manager, count_queries):
    year = year_of(app)
    sections = make_plans(app, year)
    # One grant (a direct award: the dashboard reads direct funds' budgets by year apart).
    align(app, direct_award(app, year, FENLAND, 500_00, "DIRD"), sections["ETH"])

    def cost() -> tuple[int, int, int]:
        with count_queries() as page:
            assert manager.get(f"/reports/plan-list?year={year}").status_code == 200
        with count_queries() as csv_file:
            assert manager.get(f"/reports/plan-list.csv?year={year}").status_code == 200
        with count_queries() as dashboard:
            assert manager.get(f"/reports/?year={year}").status_code == 200
        return len(page), len(csv_file), len(dashboard)

    before = cost()
    for email, code, section in [(SOUTHCAMBS, "SCF", "VIC"), (CAMBRIDGE, "YF", "OLD"),
                                 (HUNTS, "SCF", None), (SOUTHCAMBS, "YF", "PCF")]:
        made = make_grant(app, email, code, [("Work", "revenue", 1_000_00)], ["youth"])
        align(app, made.award_id, sections[section] if section else None)
    assert cost() == before


# --- bad input and access ------------------------------------------------------------------


@pytest.mark.parametrize("url, message", [
    ("/reports/plan-list?year=abc", "“abc” is not a financial year"),
    ("/reports/plan-list?year=20256", "is not a financial year"),
    ("/reports/plan-list?year=1999", "is not a financial year"),
    ("/reports/plan-list?fund=NOPE", "There is no fund with the code “NOPE”"),
    ("/reports/plan-list.csv?year=abc", "is not a financial year"),
    ("/reports/plan-list.csv?year=all", "is not a financial year"),
    ("/reports/plan-list.xlsx?year=２０２５", "is not a financial year"),
    ("/reports/plan-list.xlsx?fund=NOPE", "There is no fund with the code"),
])
def test_unknown_years_and_funds_are_refused_as_the_dashboard_refuses_them(app, manager, url,
                                                                           message):
    response = manager.get(url)
    assert response.status_code == 400
    assert message in text_of(response)


def test_the_list_defaults_to_the_current_financial_year(app, manager):
    from portal.services import reporting

    page = manager.get("/reports/plan-list")
    assert page.status_code == 200
    with app.app_context():
        year = reporting.current_year()
    assert f"Financial year {year}/{(year + 1) % 100:02d}" in text_of(page)


PAGES = ["/reports/plan-list", "/reports/plan-list.csv", "/reports/plan-list.xlsx"]


@pytest.mark.parametrize("email", [FENLAND, ASSESSOR, ADMIN])
def test_only_managers_and_finance_see_the_list(app, email):
    client = signed_in(app, email)
    for url in PAGES:
        assert client.get(url).status_code == 403, url


def test_finance_sees_the_list(app):
    client = signed_in(app, FINANCE)
    for url in PAGES:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("url", PAGES)
def test_signed_out_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_a_welsh_reader_sees_a_sections_welsh_name_and_english_marked_as_english(
        app, manager, listed):
    manager.submit("/account/language", {"language": "cy"})
    page = manager.get(f"/reports/plan-list?year={listed.year}")
    assert page.status_code == 200
    heads = soup_of(page).select(".portal-print-group h2")
    victims = next(h for h in heads if h.get_text().startswith("VIC"))
    assert "Cefnogi dioddefwyr" in victims.get_text() and victims.find(lang="en") is None
    ethical = next(h for h in heads if h.get_text().startswith("ETH"))
    assert ethical.find(lang="en").get_text() == "Ethical policing"  # no Welsh given
