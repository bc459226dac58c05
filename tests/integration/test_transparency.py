"""The public register of awarded grants and the 360Giving open data: what the Specified
Information Order asks to be published, nothing unpublished, and files that meet the
360Giving Data Standard (checked against its official schema and codelists)."""

from __future__ import annotations

import ast
import csv
import io
import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.db import session, uk_today, utcnow
from portal.exports import giving360
from portal.models import Award, Bid, Decision, Organisation, Plan, PlanSection, Round, User
from portal.services import accounts, awards, bids, decisions
from tests import bidding
from tests.conftest import unavailable
from tests.helpers import text_of

MANAGER = "manager@example.org"
FINANCE = "finance@example.org"
FENLAND = "officer.fenland@example.org"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "360giving"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


# --- data, made through the services --------------------------------------------------------


def award(app, code="SCF", amount=4_750_00, *, title=None, officer=bidding.OFFICER,
          purpose="Bike lights and repairs", conditions="Publicise the OPCC's support",
          reasons="Fewer bike thefts and safer cycling after dark") -> int:
    """A bid submitted by ``officer`` and approved in full by the manager; its id."""
    bid_id = bidding.submitted_bid(app, officer, code, amount, title)
    with app.test_request_context():
        decisions.approve(session.get(Bid, bid_id), amount, purpose=purpose,
                          conditions=conditions, reasons=reasons,
                          override_reason="Decided before the portal held assessments (test)",
                          actor=accounts.get_user_by_email(MANAGER))
        session.commit()
    return bid_id


def accept_and_pay(app, bid_id, pence) -> None:
    with app.test_request_context():
        grant = session.scalar(select(Award).where(Award.bid_id == bid_id))
        officer = grant.bid.created_by
        awards.accept(grant, officer.name, "Community safety officer", True, officer)
        awards.record_payment(grant, pence, utcnow().date(), "BACS-1",
                              accounts.get_user_by_email(FINANCE))
        session.commit()


def declined(app, title) -> int:
    bid_id = bidding.submitted_bid(app, title=title)
    with app.test_request_context():
        decisions.decline(session.get(Bid, bid_id), feedback="Not this time",
                          override_reason="Decided before the portal held assessments (test)",
                          actor=accounts.get_user_by_email(MANAGER))
        session.commit()
    return bid_id


def withdrawn(app, title) -> int:
    bid_id = bidding.submitted_bid(app, title=title)
    with app.test_request_context():
        bids.withdraw(session.get(Bid, bid_id), "Found other money",
                      accounts.get_user_by_email(bidding.OFFICER))
        session.commit()
    return bid_id


def draft(app, title) -> int:
    with app.test_request_context():
        officer = accounts.get_user_by_email(bidding.OFFICER)
        round_ = bidding.round_of(app, "SCF")
        bid = bids.start_bid(session.get(Round, round_.id), officer, bids.new_creation_token())
        bids.save_section(bid, "about", {"title": title, "summary": "A draft",
                                         "start_date": None, "end_date": None},
                          completed=False, expected_version=None, actor=officer)
        session.commit()
        return bid.id


def reference_of(app, bid_id) -> str:
    with app.app_context():
        return session.get(Bid, bid_id).reference


def set_area_code(app, email, code) -> None:
    with app.app_context():
        organisation = accounts.get_user_by_email(email).organisation
        organisation.area_code = code
        session.commit()


def plan(app, in_force_from, title, sections) -> dict[str, int]:
    """A Police and Crime Plan in force from ``in_force_from`` with ``sections`` ((code,
    name), in order); the sections' ids by code."""
    with app.app_context():
        made = Plan(title=title, first_year=in_force_from.year,
                    last_year=in_force_from.year + 3, in_force_from=in_force_from,
                    sections=[PlanSection(code=code, name=name, position=number)
                              for number, (code, name) in enumerate(sections, start=1)])
        session.add(made)
        session.commit()
        return {section.code: section.id for section in made.sections}


def align(app, bid_id, section_id) -> None:
    """List the award of ``bid_id`` under the plan section ``section_id`` (None: no section),
    as the grants manager's decision does."""
    with app.app_context():
        session.scalars(select(Award).where(Award.bid_id == bid_id)).one() \
            .plan_section_id = section_id
        session.commit()


def package(client) -> dict:
    response = client.get("/transparency/360giving.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True), parse_float=Decimal)


def csv_rows(client) -> list[dict[str, str]]:
    response = client.get("/transparency/360giving.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


# --- the official schema and codelists --------------------------------------------------------


def _date_time(value: object) -> bool:
    """RFC 3339 date-time, for when rfc3339-validator is not installed: without a real check
    a plain date matches both branches of the schema's oneOf and fails."""
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def validator():
    """A validator for the 360Giving package, working offline: the package schema refers to
    the grant schema by its 1.4.2 URL, the grant schema's own $id is 1.4.3."""
    if not SHARED.is_dir():
        unavailable(f"360Giving schema not found at {SHARED}: the open data cannot be checked "
                    "against it")
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    package_schema = json.loads((SHARED / "360-giving-package-schema.json").read_text())
    grant_schema = json.loads((SHARED / "360-giving-schema.json").read_text())
    resource = DRAFT202012.create_resource(grant_schema)
    referred = package_schema["properties"]["grants"]["items"]["$ref"]
    registry = Registry().with_resources([(grant_schema["$id"], resource), (referred, resource)])
    checker = FormatChecker(formats=Draft202012Validator.FORMAT_CHECKER.checkers)
    if "date-time" not in checker.checkers:
        checker.checks("date-time")(_date_time)
    return Draft202012Validator(package_schema, registry=registry, format_checker=checker)


def problems(validator, document) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in validator.iter_errors(document)]


def codelist(name) -> set[str]:
    with (SHARED / "codelists" / name).open(newline="", encoding="utf-8") as handle:
        return {row["Code"] for row in csv.DictReader(handle)}


def titles(schema, node=None, prefix="") -> set[str]:
    """Every flattened column title the grant schema allows ("Recipient Org:Name", ...)."""
    node = schema if node is None else node
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    if "items" in node:
        return titles(schema, node["items"], prefix)
    found = set()
    for name, child in node.get("properties", {}).items():
        title = child.get("title") or schema["$defs"].get(
            child.get("$ref", "").rsplit("/", 1)[-1], {}).get("title") or name
        found.add(prefix + title)
        if "properties" in child or "items" in child or "$ref" in child:
            found |= titles(schema, child, f"{prefix}{title}:")
    return found


# --- the 360Giving package --------------------------------------------------------------------


def test_awarded_grants_from_every_fund_make_a_valid_360giving_package(app, client, validator):
    set_area_code(app, FENLAND, "E22000018")
    ids = {code: award(app, code, amount) for code, amount in
           (("SCF", 4_750_00), ("YF", 3_999_99), ("PCF", 60_000_00))}
    fenland = award(app, "SCF", 1_234_56, officer=FENLAND, title="Fly-tipping cameras")
    accept_and_pay(app, fenland, 1_000_01)

    data = package(client)

    assert problems(validator, data) == []
    grants = {g["id"]: g for g in data["grants"]}
    assert {g["grantProgramme"][0]["code"] for g in grants.values()} == {"SCF", "YF", "PCF"}
    pcf = grants[f"360G-opcc-cambs-{reference_of(app, ids['PCF'])}"]
    assert pcf["amountAwarded"] == Decimal("60000.00")
    assert pcf["grantProgramme"] == [{"code": "PCF", "title": "Putting Communities First fund"}]
    paid = grants[f"360G-opcc-cambs-{reference_of(app, fenland)}"]
    assert paid["amountAwarded"] == Decimal("1234.56")
    assert paid["amountAppliedFor"] == Decimal("1234.56")
    assert paid["amountDisbursed"] == Decimal("1000.01")
    assert paid["recipientOrganization"] == [{"id": "GB-LAE-FEN",
                                              "name": "Fenland District Council",
                                              "department": "Safer Fenland Partnership"}]
    assert paid["beneficiaryLocation"] == [{"name": "Fenland District Council",
                                            "countryCode": "GB", "geoCode": "E22000018",
                                            "geoCodeType": "CSP"}]
    assert paid["description"] == "Bike lights and repairs"
    assert paid["title"] == "Fly-tipping cameras"
    assert paid["awardDate"] == utcnow().date().isoformat()
    assert paid["plannedDates"][0]["startDate"] < paid["plannedDates"][0]["endDate"]
    assert paid["fundingOrganization"][0]["name"] == app.config["ORGANISATION_NAME"]
    yf = grants[f"360G-opcc-cambs-{reference_of(app, ids['YF'])}"]
    assert yf["amountAwarded"] == Decimal("3999.99")
    assert yf["amountDisbursed"] == Decimal("0.00")


# A plan older than any the demo holds, so that its date is the tests' own.
OLD_PLAN = date(2001, 4, 1)


def test_each_grants_plan_section_is_published_as_a_classification_and_validates(
        app, client, validator):
    sections = plan(app, OLD_PLAN, "Community Safety Plan 2001–2004",
                    [("PCF", "Putting Communities First"), ("VIC", "Supporting victims")])
    first, second = award(app, "SCF", 1_000_00), award(app, "YF", 2_000_00)
    unaligned = award(app, "PCF", 3_000_00)
    align(app, first, sections["PCF"])
    align(app, second, sections["VIC"])
    align(app, unaligned, None)

    data = package(client)

    assert problems(validator, data) == []
    grants = {g["id"]: g for g in data["grants"]}
    vocabulary = "360G-opcc-cambs-police-and-crime-plan-2001-04-01"
    assert grants[f"360G-opcc-cambs-{reference_of(app, first)}"]["classifications"] == [
        {"vocabulary": vocabulary, "code": "PCF", "title": "Putting Communities First",
         "description": "Community Safety Plan 2001–2004"}]
    assert grants[f"360G-opcc-cambs-{reference_of(app, second)}"]["classifications"][0][
        "code"] == "VIC"
    assert "classifications" not in grants[f"360G-opcc-cambs-{reference_of(app, unaligned)}"]

    rows = {row["Identifier"]: row for row in csv_rows(client)}
    row = rows[f"360G-opcc-cambs-{reference_of(app, first)}"]
    assert (row["Classifications:Vocabulary"], row["Classifications:Code"],
            row["Classifications:Title"], row["Classifications:Description"]) == (
        vocabulary, "PCF", "Putting Communities First", "Community Safety Plan 2001–2004")
    none = rows[f"360G-opcc-cambs-{reference_of(app, unaligned)}"]
    assert none["Classifications:Vocabulary"] == none["Classifications:Code"] == ""


def test_a_grant_keeps_its_older_plans_classification_after_a_new_plan_starts(
        app, client, validator):
    old = plan(app, OLD_PLAN, "Community Safety Plan 2001–2004",
               [("PCF", "Putting Communities First")])
    kept = award(app, "SCF", 1_000_00)
    align(app, kept, old["PCF"])
    new = plan(app, uk_today(), "A new plan", [("PCF", "People and communities first")])
    newer = award(app, "SCF", 2_000_00)
    align(app, newer, new["PCF"])

    data = package(client)

    assert problems(validator, data) == []
    grants = {g["id"]: g["classifications"][0] for g in data["grants"]
              if "classifications" in g}
    # The same code in two plans: each plan is its own vocabulary, so neither is mistaken
    # for the other.
    assert grants[f"360G-opcc-cambs-{reference_of(app, kept)}"] == {
        "vocabulary": "360G-opcc-cambs-police-and-crime-plan-2001-04-01", "code": "PCF",
        "title": "Putting Communities First", "description": "Community Safety Plan 2001–2004"}
    assert grants[f"360G-opcc-cambs-{reference_of(app, newer)}"] == {
        "vocabulary": f"360G-opcc-cambs-police-and-crime-plan-{uk_today().isoformat()}",
        "code": "PCF", "title": "People and communities first", "description": "A new plan"}


def test_a_classification_of_the_wrong_shape_is_caught_by_the_schema(
        app, client, validator):
    sections = plan(app, OLD_PLAN, "Community Safety Plan 2001–2004",
                    [("PCF", "Putting Communities First")])
    align(app, award(app), sections["PCF"])
    good = package(client)
    grant = good["grants"][0]
    assert problems(validator, good) == []
    for bad in ({**grant, "classifications": {"code": "PCF"}},
                {**grant, "classifications": [{"code": 7, "vocabulary": "x"}]},
                {**grant, "classifications": [{**grant["classifications"][0],
                                               "title": ["Putting", "Communities"]}]}):
        assert problems(validator, {**good, "grants": [bad]}), bad


def test_the_schema_check_catches_what_the_standard_forbids(app, client, validator):
    award(app)
    good = package(client)
    grant = good["grants"][0]
    broken = [
        {k: v for k, v in grant.items() if k != "recipientOrganization"},
        {**grant, "amountAwarded": "4750.00"},
        {**grant, "currency": "XYZ"},
        {**grant, "dateModified": grant["awardDate"]},  # a date where a date-time is due
        {**grant, "awardDate": "12 June 2026"},
        {**grant, "recipientOrganization": [{"name": "No identifier"}]},
    ]
    for bad in broken:
        assert problems(validator, {**good, "grants": [bad]}), bad


def test_codes_in_the_open_data_come_from_the_360giving_codelists(app, client, validator):
    set_area_code(app, FENLAND, "E22000018")
    award(app, "SCF", officer=FENLAND)
    award(app, "YF")
    grants = package(client)["grants"]
    currencies, countries, geo_types = (codelist("currency.csv"), codelist("countryCode.csv"),
                                        codelist("geoCodeType.csv"))
    for grant in grants:
        assert grant["currency"] in currencies
        for place in grant["beneficiaryLocation"]:
            assert place["countryCode"] in countries
            assert place.get("geoCodeType", "CSP") in geo_types
    # Fenland's CSP code as set above; the demo's partnerships carry their district's code
    # (a non-metropolitan district, or a unitary authority for Peterborough).
    types = [p["geoCodeType"] for g in grants for p in g["beneficiaryLocation"]
             if "geoCodeType" in p]
    assert "CSP" in types and set(types) <= {"CSP", "NMD", "UA"}


def test_the_funder_is_the_opcc_by_its_own_identifier_when_it_has_one(app, client, validator):
    award(app)
    assert package(client)["grants"][0]["fundingOrganization"][0]["id"] == \
        "360G-opcc-cambs-funder"
    with app.app_context():
        opcc = session.scalar(select(Organisation).where(Organisation.type == "opcc"))
        opcc.org_identifier = "GB-GOR-PC000123"
        session.commit()
    data = package(client)
    assert data["grants"][0]["fundingOrganization"][0]["id"] == "GB-GOR-PC000123"
    assert data["publisher"]["identifier"] == "GB-GOR-PC000123"
    assert problems(validator, data) == []


def test_a_package_with_no_grants_is_well_formed_with_an_empty_list(app, client, validator):
    data = package(client)
    assert data["grants"] == []
    # The package schema itself asks for at least one grant before a file is published;
    # every other part of the empty package meets it.
    [error] = list(validator.iter_errors(data))
    assert (list(error.absolute_path), error.validator) == (["grants"], "minItems")


def test_the_open_data_is_streamed_for_anyone(app, client):
    award(app)
    for url in ("/transparency/360giving.json", "/transparency/360giving.csv"):
        response = client.get(url)
        assert response.status_code == 200 and response.is_streamed, url
        assert "360G-opcc-cambs-SCF-" in response.get_data(as_text=True)


def test_grants_are_fetched_in_batches_and_none_is_lost(app):
    made = [award(app, code, 1_000_00) for code in ("SCF", "YF", "PCF", "SCF", "YF")]
    with app.app_context():
        fetched = [row.decision.bid_id for row in giving360.awarded_grants(batch=2)]
    assert fetched == made  # oldest decision first


# --- identifiers and money (no database) ------------------------------------------------------


@pytest.mark.parametrize("prefix", ["360G-opcc-cambs", "opcc-cambs", "360g-opcc-cambs",
                                    " 360G-opcc-cambs- "])
def test_grant_ids_carry_the_360g_prefix_exactly_once(prefix):
    assert giving360.grant_id(prefix, "SCF-2026-0001") == "360G-opcc-cambs-SCF-2026-0001"


def test_amounts_are_exact_pounds_from_integer_pence():
    assert giving360.to_json({"a": giving360.pence_to_pounds(123_456_789_01)}) == \
        '{"a": 123456789.01}'
    assert giving360.to_json([giving360.pence_to_pounds(10), None, "£"]) == '[0.10, null, "£"]'
    assert json.loads(giving360.to_json(giving360.pence_to_pounds(7)),
                      parse_float=Decimal) == Decimal("0.07")


def test_the_export_module_imports_no_views():
    tree = ast.parse(Path(giving360.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
    views = ("portal.public", "portal.applicant", "portal.review", "portal.decisions",
             "portal.finance", "portal.admin", "portal.reports", "portal.auth", "flask")
    assert not [name for name in imported if name and name.startswith(views)]


# --- CSV --------------------------------------------------------------------------------------


def test_the_csv_has_360givings_column_titles_and_a_row_per_grant(app, client):
    first = award(app, "SCF", 4_750_00)
    award(app, "PCF", 12_345_67, officer=FENLAND)
    rows = csv_rows(client)
    assert len(rows) == 2
    assert list(rows[0])[:3] == ["Identifier", "Title", "Description"]
    by_id = {row["Identifier"]: row for row in rows}
    row = by_id[f"360G-opcc-cambs-{reference_of(app, first)}"]
    assert row["Amount Awarded"] == "4750.00" and row["Currency"] == "GBP"
    assert row["Recipient Org:Identifier"] == "GB-LAE-SCA"
    assert row["Recipient Org:Department"] == "South Cambridgeshire CSP"
    assert row["Funding Org:Name"] == app.config["ORGANISATION_NAME"]
    assert {r["Grant Programme:Code"] for r in rows} == {"SCF", "PCF"}


def test_a_title_that_is_a_formula_stays_text_in_the_csv_and_exact_in_the_json(app, client):
    """Spreadsheets run a cell starting with = + - @ as a formula: the CSV keeps it text, as
    every export of the portal does; the JSON publishes the title exactly as typed."""
    title = '=HYPERLINK("http://x.example","click")'
    award(app, "SCF", 4_750_00, title=title)
    [row] = csv_rows(client)
    assert row["Title"] == "'" + title
    grants = client.get("/transparency/360giving.json").get_json()["grants"]
    assert [g["title"] for g in grants] == [title]


def test_every_csv_column_is_a_title_the_360giving_schema_defines(app, client, validator):
    header = client.get("/transparency/360giving.csv").get_data(as_text=True).splitlines()[0]
    schema = json.loads((SHARED / "360-giving-schema.json").read_text())
    assert set(header.split(",")) - titles(schema) == set()


def test_a_csv_with_no_grants_still_has_its_header(app, client):
    text = client.get("/transparency/360giving.csv").get_data(as_text=True)
    assert text.splitlines() == [",".join(title for title, _path in giving360.COLUMNS)]


# --- the command ------------------------------------------------------------------------------


def test_the_command_writes_a_valid_package_and_a_csv(app, validator, tmp_path):
    award(app, "SCF")
    award(app, "YF")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["export-360giving", "--output", str(tmp_path / "grants.json")])
    assert result.exit_code == 0, result.output
    assert "Wrote 2 grant(s)" in result.output
    data = json.loads((tmp_path / "grants.json").read_text(encoding="utf-8"))
    assert len(data["grants"]) == 2 and problems(validator, data) == []
    result = runner.invoke(args=["export-360giving", "--output", str(tmp_path / "grants.txt"),
                                 "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "grants.txt").read_text("utf-8"))))
    assert [r["Identifier"] for r in rows] == [g["id"] for g in data["grants"]]


def test_the_command_refuses_a_format_it_does_not_know_and_a_missing_folder(app, tmp_path):
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["export-360giving", "--output", str(tmp_path / "g.xml"),
                                  "--format", "xml"])
    assert unknown.exit_code != 0 and "xml" in unknown.output
    nowhere = runner.invoke(args=["export-360giving", "--output",
                                  str(tmp_path / "missing" / "g.json")])
    assert nowhere.exit_code != 0 and "No such folder" in nowhere.output
    assert not (tmp_path / "missing").exists()


# --- the register -----------------------------------------------------------------------------


def test_the_register_shows_each_awarded_grant_with_what_the_law_asks(app, client):
    bid_id = award(app, "SCF", 4_750_00, officer=FENLAND, title="Fly-tipping cameras",
                   purpose="Cameras at three fly-tipping hot spots",
                   conditions="Signs must credit the Commissioner",
                   reasons="Offenders caught on camera are deterred and prosecuted")
    with app.app_context():
        decision = session.scalar(select(Decision).where(Decision.bid_id == bid_id))
        reference, day = decision.reference, decision.decision_date
    page = text_of(client.get("/transparency"))
    for expected in ("Fly-tipping cameras", "Safer Fenland Partnership",
                     "Fenland District Council", "£4,750.00",
                     "Cameras at three fly-tipping hot spots",
                     "Signs must credit the Commissioner",
                     "Offenders caught on camera are deterred and prosecuted",
                     reference, f"{day.day} {day:%B %Y}", "Safer Communities Fund",
                     reference_of(app, bid_id)):
        assert expected in page, expected
    html = client.get("/transparency").get_data(as_text=True)
    assert 'href="/transparency/360giving.json"' in html
    assert 'href="/transparency/360giving.csv"' in html


def test_nothing_unpublished_and_no_officer_reaches_the_public(app, client):
    award(app, title="Approved lights project")
    declined(app, "Declined mural project")
    withdrawn(app, "Withdrawn camera project")
    draft(app, "Draft youth club project")
    bidding.submitted_bid(app, title="Undecided patrol project")
    with app.app_context():
        people = [(u.name, u.email) for u in session.scalars(select(User))]
    page = client.get("/transparency").get_data(as_text=True)
    json_text = client.get("/transparency/360giving.json").get_data(as_text=True)
    csv_text = client.get("/transparency/360giving.csv").get_data(as_text=True)
    for published in (page, json_text, csv_text):
        assert "Approved lights project" in published
        for hidden in ("Declined mural", "Withdrawn camera", "Draft youth club",
                       "Undecided patrol", "Not this time", "Found other money"):
            assert hidden not in published
        for name, email in people:
            assert name not in published and email not in published, name


def test_the_register_filters_by_financial_year_and_fund(app, client):
    this_year = award(app, "SCF", title="This year's lights")
    award(app, "YF", title="This year's youth club")
    last_year = award(app, "SCF", title="Last year's cameras")
    with app.app_context():
        current = session.get(Bid, this_year).round
        earlier = Round(fund_id=current.fund_id, name="Earlier round",
                        financial_year=current.financial_year - 1,
                        opens_at=current.opens_at.replace(year=current.opens_at.year - 1),
                        closes_at=current.closes_at.replace(year=current.closes_at.year - 1),
                        budget_pence=10_000_00, cap_pence=None, committed_pence=0,
                        eligible_organisation_types=["csp"])
        session.add(earlier)
        session.flush()
        session.get(Bid, last_year).round_id = earlier.id
        year = current.financial_year
        session.commit()

    def shown(query):
        response = client.get(f"/transparency{query}")
        assert response.status_code == 200
        page = text_of(response)
        return {t for t in ("This year's lights", "This year's youth club",
                            "Last year's cameras") if t in page}

    assert shown("") == {"This year's lights", "This year's youth club", "Last year's cameras"}
    assert shown(f"?year={year}") == {"This year's lights", "This year's youth club"}
    assert shown(f"?year={year - 1}") == {"Last year's cameras"}
    assert shown("?fund=YF") == {"This year's youth club"}
    assert shown(f"?year={year}&fund=SCF") == {"This year's lights"}
    assert shown(f"?year={year - 1}&fund=YF") == set()
    assert "No grants match these filters" in text_of(client.get(f"/transparency?year={year - 1}"
                                                                 "&fund=YF"))
    selected = client.get(f"/transparency?year={year}&fund=YF").get_data(as_text=True)
    assert re.search(rf'<option value="{year}"\s+selected', selected)
    assert re.search(r'<option value="YF"\s+selected', selected)


@pytest.mark.parametrize("query, message", [
    ("?year=abc", "Select a financial year from the list"),
    ("?year=1999", "Select a financial year from the list"),
    ("?year=2026%2F27", "Select a financial year from the list"),
    ("?year=%C2%B2", "Select a financial year from the list"),
    ("?year=" + "9" * 5000, "Select a financial year from the list"),
    ("?fund=NOPE", "Select a fund from the list"),
    ("?fund=scf", "Select a fund from the list"),
    ("?year=abc&fund=NOPE", "Select a fund from the list"),
])
def test_unknown_filters_are_refused_with_a_message(app, client, query, message):
    award(app)
    response = client.get(f"/transparency{query}")
    assert response.status_code == 400
    page = text_of(response)
    assert "There is a problem" in page and message in page
    assert "Bike lights and repairs" not in page
    assert "<title>Error:" in response.get_data(as_text=True)


def test_the_register_pages_keep_the_filters(app, client, monkeypatch):
    from portal.public import transparency

    monkeypatch.setattr(transparency, "PER_PAGE", 2)
    for number in range(3):
        award(app, "SCF", 1_000_00, title=f"Grant number {number}")
    year = bidding.round_of(app, "SCF").financial_year
    first = client.get(f"/transparency?fund=SCF&year={year}")
    assert "Showing 1 to 2 of 3 grants" in text_of(first)
    html = first.get_data(as_text=True)
    link = re.search(r'href="(/transparency\?[^"]*page=2[^"]*)"', html).group(1)
    assert "fund=SCF" in link and f"year={year}" in link
    second = client.get(link.replace("&amp;", "&"))
    assert "Showing 3 to 3 of 3 grants" in text_of(second)
    assert client.get("/transparency?page=abc").status_code == 200
    assert "Showing 3 to 3" in text_of(client.get("/transparency?page=99"))


def test_the_register_and_the_open_data_cost_the_same_queries_for_2_and_12_grants(
        app, client, count_queries):
    counts = []
    made = 0
    sections = plan(app, OLD_PLAN, "Community Safety Plan 2001–2004",
                    [("PCF", "Putting Communities First"), ("VIC", "Supporting victims")])
    for total in (2, 12):
        while made < total:
            bid_id = award(app, ("SCF", "YF", "PCF")[made % 3], 1_000_00, title=f"Grant {made}")
            align(app, bid_id, sections[("PCF", "VIC")[made % 2]])
            made += 1
        with count_queries() as queries:
            assert client.get("/transparency").status_code == 200
        with count_queries() as exported:
            grants = package(client)["grants"]
            assert len(grants) == total
            assert all(g["classifications"][0]["code"] in sections for g in grants)
        counts.append((len(queries), len(exported)))
    assert counts[0] == counts[1]


def test_a_signed_in_user_sees_the_same_register(app, client):
    award(app, title="Visible to everyone")
    client.sign_in(FENLAND)
    assert "Visible to everyone" in text_of(client.get("/transparency"))
