"""360Giving open data: every awarded grant as a JSON package or a flattened CSV, streamed.

What is published is decided once, in :func:`_published`: approved decisions on awarded
bids. Drafts, declined and withdrawn bids never match it, and nothing about the people who
wrote, assessed or decided a bid is ever selected into the export.

The rest are pure functions from rows to 360Giving dictionaries and from dictionaries to
text, so the JSON and the CSV say the same thing and a test can check each step alone.
Money is integer pence turned into pounds with ``Decimal`` and written as exact JSON
numbers (``4750.00``), never through a float.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import contains_eager

from portal.db import session, utcnow
from portal.exports.tables import spreadsheet_text
from portal.formatting import pence_to_pounds
from portal.models import (
    Award,
    Bid,
    BidStatus,
    Decision,
    DecisionOutcome,
    Fund,
    Organisation,
    OrganisationType,
    Payment,
    Plan,
    PlanSection,
    Round,
    Variation,
    VariationStatus,
)

SCHEMA_VERSION = "1.4"  # the package's "version": major.minor of the 360Giving standard
CURRENCY = "GBP"
COUNTRY = "GB"
# ONS entity codes (the first three characters of an area code) to 360Giving geoCodeType.
GEO_CODE_TYPES = {"E06": "UA", "E07": "NMD", "E22": "CSP", "E23": "PFA"}
BATCH = 500  # rows fetched at a time while streaming

# The columns of the CSV: 360Giving's flattened titles (the schema's titles joined by ":"),
# each with the path into a grant dictionary (an int picks an item of an array). They are
# the standard's own words, so they are not translated.
COLUMNS: list[tuple[str, tuple[str | int, ...]]] = [
    ("Identifier", ("id",)),
    ("Title", ("title",)),
    ("Description", ("description",)),
    ("Currency", ("currency",)),
    ("Amount Applied For", ("amountAppliedFor",)),
    ("Amount Awarded", ("amountAwarded",)),
    ("Amount Disbursed", ("amountDisbursed",)),
    ("Award Date", ("awardDate",)),
    ("Planned Dates:Start Date", ("plannedDates", 0, "startDate")),
    ("Planned Dates:End Date", ("plannedDates", 0, "endDate")),
    ("Recipient Org:Identifier", ("recipientOrganization", 0, "id")),
    ("Recipient Org:Name", ("recipientOrganization", 0, "name")),
    ("Recipient Org:Department", ("recipientOrganization", 0, "department")),
    ("Beneficiary Location:Name", ("beneficiaryLocation", 0, "name")),
    ("Beneficiary Location:Country Code", ("beneficiaryLocation", 0, "countryCode")),
    ("Beneficiary Location:Geographic Code", ("beneficiaryLocation", 0, "geoCode")),
    ("Beneficiary Location:Geographic Code Type", ("beneficiaryLocation", 0, "geoCodeType")),
    ("Funding Org:Identifier", ("fundingOrganization", 0, "id")),
    ("Funding Org:Name", ("fundingOrganization", 0, "name")),
    ("Grant Programme:Code", ("grantProgramme", 0, "code")),
    ("Grant Programme:Title", ("grantProgramme", 0, "title")),
    ("Classifications:Vocabulary", ("classifications", 0, "vocabulary")),
    ("Classifications:Code", ("classifications", 0, "code")),
    ("Classifications:Title", ("classifications", 0, "title")),
    ("Classifications:Description", ("classifications", 0, "description")),
    ("Last Modified", ("dateModified",)),
]


# --- identifiers --------------------------------------------------------------------------------


def giving_prefix(open_data_prefix: str) -> str:
    """The publisher's 360Giving prefix: ``360G-`` and the configured prefix, never twice."""
    prefix = open_data_prefix.strip().strip("-")
    if prefix[:5].upper() == "360G-":
        prefix = prefix[5:]
    return f"360G-{prefix}"


def grant_id(open_data_prefix: str, bid_reference: str) -> str:
    """``360G-opcc-cambs-SCF-2026-0001``."""
    return f"{giving_prefix(open_data_prefix)}-{bid_reference}"


@dataclass(frozen=True)
class Publisher:
    """Who publishes and funds: the OPCC, named in every grant's fundingOrganization."""

    prefix: str  # the 360Giving prefix, e.g. 360G-opcc-cambs
    funder_id: str
    funder_name: str


def publisher_for(open_data_prefix: str, organisation_name: str,
                  opcc_identifier: str | None) -> Publisher:
    """The OPCC's org-id if its organisation row has one; otherwise one made under our own
    360Giving prefix, which is how 360Giving asks publishers to name an organisation that
    has no registered identifier (an invented list code such as GB-PCC-... would not
    resolve on org-id.guide)."""
    prefix = giving_prefix(open_data_prefix)
    funder_id = (opcc_identifier or "").strip() or f"{prefix}-funder"
    return Publisher(prefix=prefix, funder_id=funder_id, funder_name=organisation_name)


def current_publisher(config: Mapping[str, Any]) -> Publisher:
    """The publisher from the settings and the OPCC's organisation row (one query)."""
    identifier = session.scalar(
        select(Organisation.org_identifier).where(Organisation.type == OrganisationType.OPCC)
        .order_by(Organisation.id).limit(1))
    return publisher_for(config["OPEN_DATA_PREFIX"], config["ORGANISATION_NAME"], identifier)


# --- what is published ----------------------------------------------------------------------


def _funds_year(year: int) -> ColumnElement[bool]:
    """A grant is of financial ``year`` (its starting year, 2026 for 2026/27) if its round
    funds the year (a round over several years counts in each of them, as the dashboard
    counts it, ``portal.services.reporting``) and, for a round over several years, its
    award's project dates, when it has an award, touch the year: a direct fund's budget over three years holds agreements of one
    year as well as of three (the attack on issue 14 found a one-year agreement listed under
    years it had nothing in)."""
    first, last = date(year, 4, 1), date(year + 1, 3, 31)
    outside = (select(Award.id)
               .where(Award.decision_id == Decision.id,
                      or_(Award.start_date > last, Award.end_date < first))
               .correlate(Decision).exists())
    return and_(Round.financial_year <= year, Round.financial_year + Round.years > year,
                or_(Round.years <= 1, ~outside))


def _published(statement: Select, year: int | None, fund_code: str | None) -> Select:
    """What counts as published: approved decisions on awarded bids; optionally of one
    financial year (a round over several years is in each of its years) and one fund.
    ``statement`` joins decisions to bids, rounds and funds."""
    statement = statement.where(Decision.outcome == DecisionOutcome.APPROVED,
                                Bid.status == BidStatus.AWARDED)
    if year is not None:
        statement = statement.where(_funds_year(year))
    if fund_code is not None:
        statement = statement.where(Fund.code == fund_code)
    return statement


def awarded_query(year: int | None = None, fund_code: str | None = None) -> Select:
    """Published decisions with bid, partnership, round and fund joined in the same query
    (newest first)."""
    return _published(
        select(Decision)
        .join(Decision.bid).join(Bid.organisation).join(Bid.round).join(Round.fund)
        .options(contains_eager(Decision.bid).contains_eager(Bid.organisation),
                 contains_eager(Decision.bid).contains_eager(Bid.round)
                 .contains_eager(Round.fund))
        .order_by(Decision.decision_date.desc(), Decision.id.desc()), year, fund_code)


def register_query(year: int | None = None, fund_code: str | None = None) -> Select:
    """The public register's rows: only the published fields, newest first, with the round's
    years (``financial_year`` and how many, ``years``) and the award's project dates
    (``start_date``, ``end_date``; none if a decision has no award row)."""
    return _published(
        select(Bid.title, Bid.reference.label("bid_reference"),
               Organisation.name.label("partnership"), Organisation.host_council,
               Decision.amount_pence, Fund.name.label("fund"), Round.financial_year,
               Round.years, Decision.purpose, Decision.conditions,
               Decision.crime_reduction_reasons, Decision.reference, Decision.decision_date,
               Award.start_date, Award.end_date)
        .join(Bid, Bid.id == Decision.bid_id)
        .join(Organisation, Organisation.id == Bid.organisation_id)
        .join(Round, Round.id == Bid.round_id).join(Fund, Fund.id == Round.fund_id)
        .outerjoin(Award, Award.decision_id == Decision.id)
        .order_by(Decision.decision_date.desc(), Decision.id.desc()), year, fund_code)


def register_count(year: int | None = None, fund_code: str | None = None) -> Select:
    """How many grants :func:`register_query` gives, cheaply: approved decisions, joined only
    to what the filters need. An approved decision always has an awarded bid (the decision
    awards it in the same unit of work, and an awarded bid never changes status again), so
    the bid's status need not be read: an index on approved decisions alone answers."""
    statement = select(func.count()).select_from(Decision).where(
        Decision.outcome == DecisionOutcome.APPROVED)
    if year is not None or fund_code is not None:
        statement = (statement.join(Bid, Bid.id == Decision.bid_id)
                     .join(Round, Round.id == Bid.round_id))
    if year is not None:
        statement = statement.where(_funds_year(year))
    if fund_code is not None:
        statement = statement.join(Fund, Fund.id == Round.fund_id).where(Fund.code == fund_code)
    return statement


@dataclass(frozen=True)
class PlanAlignment:
    """The section of the Police and Crime Plan a grant is listed under (``Award.plan_section``,
    issue 18), with what names its plan: ``plan_title`` and ``in_force_from`` (unique to a
    plan, and never changed by a later plan)."""

    code: str
    name: str
    plan_title: str
    in_force_from: date


@dataclass(frozen=True)
class AwardedGrant:
    """One published grant: the decision (with bid, partnership, round and fund loaded)
    and what the award adds: payments so far, the planned dates, when it last changed, and
    the section of the Police and Crime Plan it is listed under (None if it has none)."""

    decision: Decision
    paid_pence: int | None
    start_date: date | None
    end_date: date | None
    changed_at: tuple[datetime | None, ...]
    plan_section: PlanAlignment | None = None


def awarded_grants(batch: int = BATCH) -> Iterator[AwardedGrant]:
    """Every published grant, oldest decision first, fetched ``batch`` rows at a time in one
    query, so an export of many grants keeps memory flat: the award's plan section and its
    plan are joined into the same rows, never fetched grant by grant."""
    last_payment = (select(func.max(Payment.recorded_at)).where(Payment.award_id == Award.id)
                    .correlate(Award).scalar_subquery())
    last_variation = (select(func.max(Variation.decided_at))
                      .where(Variation.award_id == Award.id,
                             Variation.status == VariationStatus.APPROVED)
                      .correlate(Award).scalar_subquery())
    statement = (
        awarded_query().order_by(None).order_by(Decision.decision_date, Decision.id)
        .outerjoin(Award, Award.decision_id == Decision.id)
        .outerjoin(PlanSection, PlanSection.id == Award.plan_section_id)
        .outerjoin(Plan, Plan.id == PlanSection.plan_id)
        .add_columns(Award.paid_pence, Award.start_date, Award.end_date,
                     PlanSection.code, PlanSection.name, Plan.title, Plan.in_force_from,
                     Award.offered_at, Award.accepted_at, Award.closed_at, last_payment,
                     last_variation)
        .execution_options(yield_per=batch))
    for row in session.execute(statement):
        decision: Decision = row[0]
        code, name, plan_title, in_force_from = row[4:8]
        section = (PlanAlignment(code, name, plan_title, in_force_from)
                   if code is not None else None)
        yield AwardedGrant(decision=decision, paid_pence=row[1], start_date=row[2],
                           end_date=row[3], changed_at=(decision.decided_at, *row[8:]),
                           plan_section=section)


# --- grants as 360Giving dictionaries -------------------------------------------------------


def timestamp(moment: datetime) -> str:
    """An RFC 3339 date-time in UTC, to the second."""
    if moment.tzinfo is None:  # stored as UTC; a naive value has lost only its label
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def recipient(organisation: Organisation, publisher: Publisher) -> dict[str, Any]:
    """A CSP is not a legal body: the money goes to its host council, the CSP is the
    department that receives it."""
    identifier = organisation.org_identifier or f"{publisher.prefix}-org-{organisation.id}"
    if organisation.host_council:
        return {"id": identifier, "name": organisation.host_council,
                "department": organisation.name}
    return {"id": identifier, "name": organisation.name}


def beneficiary_location(organisation: Organisation) -> dict[str, Any]:
    """The partnership's area: named after its host council, with its ONS code if known."""
    location: dict[str, Any] = {"name": organisation.host_council or organisation.name,
                                "countryCode": COUNTRY}
    if organisation.area_code:
        location["geoCode"] = organisation.area_code
        code_type = GEO_CODE_TYPES.get(organisation.area_code[:3].upper())
        if code_type:
            location["geoCodeType"] = code_type
    return location


def plan_vocabulary(publisher: Publisher, in_force_from: date) -> str:
    """The classification vocabulary of one Police and Crime Plan's sections, e.g.
    ``360G-opcc-cambs-police-and-crime-plan-2021-05-13``.

    It is the portal's own vocabulary (360Giving has none for these plans), so it carries the
    publisher's 360Giving prefix as 360Giving asks of every identifier a publisher makes up.
    It names one plan, not plans in general, because section codes are unique only within a
    plan (a new plan may use "PCF" again for another section, and a grant keeps the section of
    the plan it was given): one vocabulary, one meaning per code. The plan is named by the date
    it came into force, which is unique to it, readable, and unchanged when its title is
    edited or a later plan starts (only correcting that date itself changes it); its id would
    be as stable but says nothing to a reader."""
    return f"{publisher.prefix}-police-and-crime-plan-{in_force_from.isoformat()}"


def classifications(section: PlanAlignment | None, publisher: Publisher) -> list[dict[str, Any]]:
    """The grant's 360Giving ``classifications``: its section of the Police and Crime Plan
    (vocabulary of :func:`plan_vocabulary`, the section's code, its English name as the title
    and the plan's title as the description: open data is published in English), or [] for a
    grant given no section."""
    if section is None:
        return []
    return [{"vocabulary": plan_vocabulary(publisher, section.in_force_from),
             "code": section.code, "title": section.name,
             "description": section.plan_title}]


def grant(row: AwardedGrant, publisher: Publisher) -> dict[str, Any]:
    """One grant in the 360Giving Data Standard's shape."""
    decision = row.decision
    bid = decision.bid
    fund = bid.round.fund
    record: dict[str, Any] = {
        "id": f"{publisher.prefix}-{bid.reference}",
        "title": bid.title or bid.reference,
        "description": decision.purpose,
        "currency": CURRENCY,
        "amountAppliedFor": pence_to_pounds(bid.amount_requested_pence),
        "amountAwarded": pence_to_pounds(decision.amount_pence),
    }
    if row.paid_pence is not None:
        record["amountDisbursed"] = pence_to_pounds(row.paid_pence)
    record["awardDate"] = decision.decision_date.isoformat()
    start, end = row.start_date or bid.start_date, row.end_date or bid.end_date
    if start or end:
        dates = {"startDate": start.isoformat() if start else None,
                 "endDate": end.isoformat() if end else None}
        record["plannedDates"] = [{k: v for k, v in dates.items() if v}]
    record["recipientOrganization"] = [recipient(bid.organisation, publisher)]
    record["beneficiaryLocation"] = [beneficiary_location(bid.organisation)]
    record["fundingOrganization"] = [{"id": publisher.funder_id, "name": publisher.funder_name}]
    record["grantProgramme"] = [{"code": fund.code, "title": fund.name}]
    classified = classifications(row.plan_section, publisher)
    if classified:
        record["classifications"] = classified
    changed = [moment for moment in row.changed_at if moment is not None]
    if changed:
        record["dateModified"] = timestamp(max(changed))
    return record


def grants(rows: Iterable[AwardedGrant], publisher: Publisher) -> Iterator[dict[str, Any]]:
    return (grant(row, publisher) for row in rows)


# --- JSON -------------------------------------------------------------------------------------


def to_json(value: Any) -> str:
    """JSON text in which a Decimal is written as the exact number it is."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a number JSON can hold: {value}")
        return format(value, "f")
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(key), ensure_ascii=False)}: {to_json(item)}"
                               for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(to_json(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def json_package(records: Iterable[dict[str, Any]], publisher: Publisher,
                 modified: datetime | None = None) -> Iterator[str]:
    """The package, a piece at a time: its metadata, then one grant per line.

    A package with no grants is still written (``"grants": []``), though the 360Giving
    package schema asks for at least one grant before a file is published."""
    head = {"version": SCHEMA_VERSION,
            "publisher": {"identifier": publisher.funder_id, "name": publisher.funder_name},
            "modified": timestamp(modified or utcnow())}
    yield to_json(head)[:-1] + ', "grants": ['
    separator = "\n"
    for record in records:
        yield separator + to_json(record)
        separator = ",\n"
    yield "\n]}\n"


# --- CSV --------------------------------------------------------------------------------------


def _pick(record: Mapping[str, Any], path: tuple[str | int, ...]) -> Any:
    value: Any = record
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return spreadsheet_text(str(value))


def csv_row(record: Mapping[str, Any]) -> list[str]:
    return [_cell(_pick(record, path)) for _title, path in COLUMNS]


def csv_document(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The header row, then one row per grant, each as soon as it is ready."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield line([title for title, _path in COLUMNS])
    for record in records:
        yield line(csv_row(record))


FORMATS = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


def document(fmt: str, records: Iterable[dict[str, Any]], publisher: Publisher) -> Iterator[str]:
    """``records`` as a 360Giving file in ``fmt`` (json or csv), as pieces of text."""
    if fmt == "csv":
        return csv_document(records)
    if fmt == "json":
        return json_package(records, publisher)
    raise ValueError(f"unknown format {fmt!r}")


def export(fmt: str, config: Mapping[str, Any]) -> Iterator[str]:
    """Every published grant in ``fmt`` (json or csv), as pieces of text."""
    publisher = current_publisher(config)
    return document(fmt, grants(awarded_grants(), publisher), publisher)
