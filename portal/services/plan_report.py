"""The board's list of grants by section of the Police and Crime Plan (issue 18, point 3).

The OPCC reports its grants to the Business Coordination Board as "a full list of the grants,
aligned to the section of the Police and Crime Plan they support" (seed 002, paragraph 5.1).
For a financial year (and perhaps one fund) the list holds every grant awarded, competitive
and direct, under the section its award is listed under (``Award.plan_section_id``), with the
section totals and the overall total.

Which grants count, and in which year, is the dashboard's rule, read from the same place
(``portal.services.reporting``: an award counts in each financial year its round funds,
whatever its status, offered, active or closed), so the list's total is the dashboard's
"committed" for the same year and fund.

The sections come in the plan's order: first every section of the year's plan (the latest
plan whose years cover the financial year; if none does, the plan in force on the year's last
day), those with no grants too; then each section of an older (or other) plan that grants of
the year are still listed under, its plan named, newest plan first; last the grants aligned to
no section. Two queries, whatever the number of grants: the grants, then the sections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import ColumnElement, Integer, func, or_, select

from portal import bilingual
from portal.db import session
from portal.models import Award, Bid, Decision, Fund, Organisation, Plan, PlanSection, Round
from portal.services import reporting

# --- what the list holds -------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A section of a plan, or (``id`` None) the place of grants aligned to none. ``plan_title``
    is given only for a section of another plan than the year's: the list names that plan."""

    id: int | None
    code: str = ""
    name: str = ""
    name_cy: str = ""
    plan_title: str = ""
    plan_title_cy: str = ""

    def label(self) -> str:
        """Plain text in the reader's language: "PCF: Putting Communities First", with the
        plan's title in brackets for a section of another plan."""
        if self.id is None:
            return _("Not aligned to a section")
        shown = f"{self.code}: {bilingual.text(self, 'name')}"
        return f"{shown} ({bilingual.text(self, 'plan_title')})" if self.plan_title else shown

    def marked(self) -> Markup:
        """:meth:`label` as markup, English shown to a Welsh reader marked ``lang="en"``."""
        if self.id is None:
            return Markup.escape(_("Not aligned to a section"))
        shown = Markup("{}: {}").format(self.code, bilingual.marked(self, "name"))
        if not self.plan_title:
            return shown
        return Markup("{} ({})").format(shown, bilingual.marked(self, "plan_title"))


@dataclass(frozen=True)
class Grant:
    """One grant of the list: the award, its recipient (the partnership), its purpose (the
    decision's, else the bid's title), its fund and its amount in pence. ``years``: the
    round's years for a round over several ("2022/23 to 2024/25"), else ""."""

    award_id: int
    reference: str
    partnership: str
    partnership_cy: str
    purpose: str
    fund: str  # the fund's code
    fund_name: str
    fund_name_cy: str
    amount_pence: int
    years: str = ""
    direct: bool = False


@dataclass(frozen=True)
class Group:
    """A section and its grants (by recipient as the reader sees them, then reference)."""

    section: Section
    grants: list[Grant] = field(default_factory=list)

    @property
    def total_pence(self) -> int:
        return sum(grant.amount_pence for grant in self.grants)


@dataclass(frozen=True)
class PlanList:
    """The list for ``filters`` (one financial year, perhaps one fund): the groups in order,
    and the year's plan's title (empty when no plan covers the year)."""

    filters: reporting.Filters
    groups: list[Group]
    plan_title: str = ""
    plan_title_cy: str = ""

    @property
    def grants(self) -> list[Grant]:
        return [grant for group in self.groups for grant in group.grants]

    @property
    def total_pence(self) -> int:
        return sum(group.total_pence for group in self.groups)


# --- reading it ----------------------------------------------------------------------------------


def _year_plan(year: int) -> ColumnElement[int]:
    """The id of the year's plan, in SQL: the latest in force by the year's last day (31
    March) of those whose years cover ``year``, else the plan in force on that day."""
    # Only plans in force by the year's end: a plan whose years cover the year but whose date
    # is later is not the year's (a breaker's plan moved to 2028 took 2026/27's place).
    covering = (select(Plan.id).where(Plan.first_year <= year, Plan.last_year >= year,
                                      Plan.in_force_from <= date(year + 1, 3, 31))
                .order_by(Plan.in_force_from.desc()).limit(1).scalar_subquery())
    at_end = (select(Plan.id).where(Plan.in_force_from <= date(year + 1, 3, 31))
              .order_by(Plan.in_force_from.desc()).limit(1).scalar_subquery())
    return func.coalesce(covering, at_end, type_=Integer)


@dataclass(frozen=True)
class _Sections:
    ordered: list[Section]  # the year's plan's sections, then the others, in order
    own: set[int]  # ids of the year's plan's sections
    plan_title: str = ""
    plan_title_cy: str = ""


def _sections(year: int, used: set[int]) -> _Sections:
    """Every section of the year's plan and the sections ``used`` (ids) of other plans, in
    the order the list shows them. One query."""
    year_plan = _year_plan(year)
    rows = session.execute(
        select(PlanSection.id, PlanSection.code, PlanSection.name, PlanSection.name_cy,
               PlanSection.position, PlanSection.plan_id, Plan.title, Plan.title_cy,
               Plan.in_force_from, year_plan.label("year_plan"))
        .join(Plan, Plan.id == PlanSection.plan_id)
        .where(or_(PlanSection.plan_id == year_plan, PlanSection.id.in_(sorted(used))))
    ).mappings()
    own: list[tuple[Any, ...]] = []
    other: list[tuple[Any, ...]] = []
    title = title_cy = ""
    for row in rows:
        section_id, position = row["id"], row["position"]
        if row["plan_id"] == row["year_plan"]:
            title, title_cy = row["title"], row["title_cy"] or ""
            own.append(((position, section_id),
                        Section(section_id, row["code"], row["name"], row["name_cy"] or "")))
        else:
            other.append(((-row["in_force_from"].toordinal(), position, section_id),
                          Section(section_id, row["code"], row["name"], row["name_cy"] or "",
                                  row["title"], row["title_cy"] or "")))
    ordered = [section for _key, section in sorted(own, key=lambda item: item[0])]
    ordered += [section for _key, section in sorted(other, key=lambda item: item[0])]
    return _Sections(ordered, {section.id for _key, section in own if section.id is not None},
                     title, title_cy)


def _grants(filters: reporting.Filters) -> list[tuple[int | None, Grant]]:
    """The grants in scope (the dashboard's rule), each with its section's id. One query."""
    statement = reporting._in_scope(  # noqa: SLF001 - the dashboard's scope, the one rule
        select(Award.id, Award.plan_section_id, Award.amount_pence, Bid.reference, Bid.title,
               Decision.purpose, Organisation.name, Organisation.name_cy, Fund.code,
               Fund.name.label("fund_name"), Fund.name_cy.label("fund_name_cy"), Fund.direct,
               Round.financial_year, Round.years)
        .join(Bid, Bid.id == Award.bid_id)
        .join(Decision, Decision.id == Award.decision_id)
        .join(Organisation, Organisation.id == Award.organisation_id), filters
    ).join(Fund, Fund.id == Round.fund_id)
    found = []
    for row in session.execute(statement).mappings():
        found.append((row["plan_section_id"], Grant(
            award_id=row["id"], reference=row["reference"] or "",
            partnership=row["name"], partnership_cy=row["name_cy"] or "",
            purpose=(row["purpose"] or "").strip() or (row["title"] or "").strip(),
            fund=row["code"], fund_name=row["fund_name"],
            fund_name_cy=row["fund_name_cy"] or "",
            amount_pence=reporting._pence(row["amount_pence"]),  # noqa: SLF001 - exact pence
            years=reporting.years_label(row["financial_year"], row["years"]),
            direct=bool(row["direct"]))))
    return found


def _recipient_order(grant: Grant) -> tuple[str, str]:
    return bilingual.pick(grant.partnership, grant.partnership_cy).casefold(), grant.reference


def plan_list(filters: reporting.Filters) -> PlanList:
    """The board's list for ``filters`` (``year`` must be given): every section of the
    year's plan (with or without grants), the sections of other plans that grants in scope
    are listed under, then the grants aligned to none; each group's grants by recipient.
    Two queries whatever the number of grants."""
    assert filters.year is not None  # a list is of one financial year
    grants = _grants(filters)
    sections = _sections(filters.year, {section_id for section_id, _grant in grants
                                        if section_id is not None})
    by_section: dict[int | None, list[Grant]] = {}
    for section_id, grant in grants:
        by_section.setdefault(section_id, []).append(grant)
    groups = [Group(section, sorted(by_section.get(section.id, []), key=_recipient_order))
              for section in sections.ordered
              if section.id in sections.own or section.id in by_section]
    if None in by_section:
        groups.append(Group(Section(None), sorted(by_section[None], key=_recipient_order)))
    return PlanList(filters, groups, sections.plan_title, sections.plan_title_cy)


def section_rows(year: int, by_section: dict[int | None, reporting.Row]
                 ) -> list[tuple[Section, reporting.Row]]:
    """The dashboard's figures by section (``reporting.Dashboard.by_section``), named and in
    the list's order: every section of the year's plan (zero where nothing is awarded), the
    sections of other plans with awards, then the awards aligned to none. One query."""
    sections = _sections(year, {section_id for section_id in by_section
                                if section_id is not None})
    rows = [(section, by_section.get(section.id) or reporting.Row(key=""))
            for section in sections.ordered
            if section.id in sections.own or section.id in by_section]
    if None in by_section:
        rows.append((Section(None), by_section[None]))
    return rows
