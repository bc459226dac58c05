"""The Police and Crime Plan (issue 18): which plan is in force, and its sections.

Reads here are what every other part uses (bids, decisions, direct awards, reports, open
data); the grants manager's changes to plans and sections are added below them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.db import session, uk_today
from portal.models import Award, Fund, Plan, PlanSection, User, bid_plan_sections, year_label
from portal.services import DomainError, audit
from portal.services.workflow import atomic


def plan_in_force(on: date) -> Plan | None:
    """The plan in force on the UK date ``on``: the one with the latest ``in_force_from`` on
    or before it; None before the first plan. Read as it is now (a plan this session read
    before is refreshed: another manager may have moved its date a moment ago)."""
    return session.scalar(select(Plan).where(Plan.in_force_from <= on)
                          .order_by(Plan.in_force_from.desc()).limit(1)
                          .execution_options(populate_existing=True))


def sections_in_force(on: date) -> list[PlanSection]:
    """The sections of the plan in force on ``on``, in the plan's order; [] if none."""
    plan = plan_in_force(on)
    if plan is None:
        return []
    return list(session.scalars(select(PlanSection).where(PlanSection.plan_id == plan.id)
                                .order_by(PlanSection.position, PlanSection.id)
                                .execution_options(populate_existing=True)))


def hold_sections(section_ids: Iterable[int | None]) -> None:
    """Hold the sections ``section_ids`` and their plans (FOR SHARE) until the change that
    gives a record one of them commits. Call it before reading what is offered: a removal of
    the section, or a change of its plan's date, then waits for this change and finds the
    section in use; or this change waits for them and reads what they left (a breaker had a
    decision and a removal at once end in a deadlock, a foreign-key error, or a grant under a
    plan whose date moved past it). Plans first, then sections, as the removal takes them.
    (SQLite: a POST holds the write lock already.)"""
    ids = sorted({section_id for section_id in section_ids if section_id is not None})
    if not ids:
        return
    plan_ids = sorted(set(session.scalars(select(PlanSection.plan_id)
                                          .where(PlanSection.id.in_(ids)))))
    if plan_ids:
        session.execute(select(Plan.id).where(Plan.id.in_(plan_ids)).order_by(Plan.id)
                        .with_for_update(read=True))
    session.execute(select(PlanSection.id).where(PlanSection.id.in_(ids))
                    .order_by(PlanSection.id).with_for_update(read=True))


# --- the grants manager's plans and sections --------------------------------------------------
#
# A plan is in force from its date until the next plan's; a grant keeps the section it was
# given (by id), so nothing is copied or moved when a new plan starts. Every check runs
# before anything changes: a refusal leaves every table as it was.

FIRST_YEAR, LAST_YEAR = 2000, 2100  # the financial years a plan may cover (a typing slip else)
MOST_CODE, MOST_NAME, MOST_TITLE = 20, 200, 200
# A section's code: what the board's list and the 360Giving classification show. ASCII
# letters, digits and hyphens (re.ASCII: other scripts' letters and digits are not codes).
SECTION_CODE = re.compile(r"[A-Za-z0-9-]{1,20}", re.ASCII)


@dataclass(frozen=True)
class PlanDetails:
    """A plan as the grants manager gives it: ``first_year``/``last_year`` are the starting
    years of financial years (2021 for 2021/22), ``in_force_from`` a UK date."""

    title: str
    first_year: int
    last_year: int
    in_force_from: date
    title_cy: str = ""


@dataclass(frozen=True)
class SectionDetails:
    code: str
    name: str
    name_cy: str = ""


@dataclass(frozen=True)
class SectionUse:
    """How many funds (as their default), bids and awards name a section."""

    funds: int
    bids: int
    awards: int

    @property
    def any(self) -> bool:
        return bool(self.funds or self.bids or self.awards)


def plans() -> list[Plan]:
    """Every plan with its sections, latest first, in two queries whatever the count."""
    return list(session.scalars(select(Plan).options(selectinload(Plan.sections))
                                .order_by(Plan.in_force_from.desc())))


def plan_by_id(plan_id: int) -> Plan | None:
    return session.get(Plan, plan_id)


def section_of(plan: Plan, section_id: int) -> PlanSection | None:
    """The section ``section_id`` if it is one of ``plan``'s, else None (a 404 to the view)."""
    section = session.get(PlanSection, section_id)
    return section if section is not None and section.plan_id == plan.id else None


def years_of(plan: Plan) -> str:
    """The financial years a plan covers as users write them: ``2021/22 to 2023/24``."""
    if plan.first_year == plan.last_year:
        return year_label(plan.first_year)
    return _("%(first)s to %(last)s", first=year_label(plan.first_year),
             last=year_label(plan.last_year))


def plan_before(on: date) -> Plan | None:
    """The plan in force the day before ``on`` (the latest starting before it): the one a
    new plan from ``on`` replaces."""
    return session.scalar(select(Plan).where(Plan.in_force_from < on)
                          .order_by(Plan.in_force_from.desc()).limit(1))


def section_use(section: PlanSection) -> SectionUse:
    """How many funds, bids and awards name ``section`` (three counts, one query)."""
    funds = select(func.count()).select_from(Fund).where(Fund.plan_section_id == section.id)
    bids = select(func.count()).select_from(bid_plan_sections).where(
        bid_plan_sections.c.plan_section_id == section.id)
    awards = select(func.count()).select_from(Award).where(Award.plan_section_id == section.id)
    row = session.execute(select(funds.scalar_subquery(), bids.scalar_subquery(),
                                 awards.scalar_subquery())).one()
    return SectionUse(int(row[0]), int(row[1]), int(row[2]))


def plan_in_use(plan: Plan) -> bool:
    """Whether any fund names, or any bid supports, a section of ``plan``."""
    sections = select(PlanSection.id).where(PlanSection.plan_id == plan.id)
    return bool(session.scalar(select(
        exists().where(Fund.plan_section_id.in_(sections))
        | exists().where(bid_plan_sections.c.plan_section_id.in_(sections)))))


def awards_use_plan(plan: Plan) -> bool:
    """Whether any award is listed under one of ``plan``'s sections."""
    ids = select(PlanSection.id).where(PlanSection.plan_id == plan.id)
    return bool(session.scalar(select(exists().where(Award.plan_section_id.in_(ids)))))


def state_of(plan: Plan, in_force: Plan | None) -> str:
    """``plan`` against today (UK date) when ``in_force`` is the plan in force today: "now"
    (it is), "later" (it starts after today) or "earlier" (another has replaced it)."""
    if in_force is not None and plan.id == in_force.id:
        return "now"
    return "later" if plan.in_force_from > uk_today() else "earlier"


def plans_with_states() -> list[tuple[Plan, str]]:
    """Every plan (sections loaded), latest first, with :func:`state_of` each."""
    in_force = plan_in_force(uk_today())
    return [(plan, state_of(plan, in_force)) for plan in plans()]


def plan_state(plan: Plan) -> str:
    """:func:`state_of` ``plan`` today."""
    return state_of(plan, plan_in_force(uk_today()))


def fund_section_choices(current: PlanSection | None,
                         on: date | None = None) -> list[PlanSection]:
    """The sections a fund may name as its default on ``on`` (today, UK date, if not given):
    the plan in force's, and the fund's ``current`` one even when it is an older plan's
    (kept until changed)."""
    choices = sections_in_force(on or uk_today())
    if current is not None and all(section.id != current.id for section in choices):
        choices.append(current)
    return choices


def section_words(section: PlanSection | None) -> str | None:
    """A section as an audit detail: ``PCF Putting Communities First`` (None for none)."""
    return f"{section.code} {section.name}" if section is not None else None


# --- checks -----------------------------------------------------------------------------------


def _check_plan(details: PlanDetails, plan: Plan | None) -> None:
    if not details.title.strip():
        raise DomainError(_("Enter the title of the plan"), field="title")
    if len(details.title) > MOST_TITLE:
        raise DomainError(_("Title must be %(limit)d characters or fewer", limit=MOST_TITLE),
                          field="title")
    if len(details.title_cy) > MOST_TITLE:
        raise DomainError(_("Title in Welsh must be %(limit)d characters or fewer",
                            limit=MOST_TITLE), field="title_cy")
    for field, year in (("first_year", details.first_year), ("last_year", details.last_year)):
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise DomainError(_("The financial year must be from %(first)s to %(last)s",
                                first=year_label(FIRST_YEAR), last=year_label(LAST_YEAR)),
                              field=field)
    if details.last_year < details.first_year:
        raise DomainError(_("The last financial year cannot be before the first (%(first)s)",
                            first=year_label(details.first_year)), field="last_year")
    if not FIRST_YEAR <= details.in_force_from.year <= LAST_YEAR:
        raise DomainError(_("The date it is in force from must be in %(first)s to %(last)s",
                            first=FIRST_YEAR, last=LAST_YEAR), field="in_force_from")
    others = select(Plan).where(Plan.in_force_from == details.in_force_from)
    if plan is not None:
        others = others.where(Plan.id != plan.id)
    clash = session.scalar(others.limit(1))
    if clash is not None:
        raise DomainError(_("“%(title)s” is already in force from that date: a new plan "
                            "needs a date of its own", title=clash.title),
                          field="in_force_from")
    if plan is not None and details.in_force_from != plan.in_force_from \
            and awards_use_plan(plan):
        raise DomainError(_("The date cannot change: grants have been awarded under this "
                            "plan’s sections"), field="in_force_from")
    if plan is not None and details.in_force_from != plan.in_force_from \
            and plan_in_use(plan):
        # A fund or bid given a section of a plan then moved later would be decided under a
        # plan not yet in force (a breaker's grant, whose plan's date then locked there).
        raise DomainError(_("The date cannot change: funds or bids use this plan’s sections. "
                            "Give them sections of another plan first."),
                          field="in_force_from")
    if plan is not None and (details.first_year, details.last_year) \
            != (plan.first_year, plan.last_year) and awards_use_plan(plan):
        # The board's lists pick each year's plan by its years (a breaker moved a plan with
        # grants to 2099-2100 and back).
        raise DomainError(_("The years cannot change: grants have been awarded under this "
                            "plan’s sections"), field="first_year")


def _check_section(plan: Plan, details: SectionDetails, section: PlanSection | None) -> None:
    if not details.code:
        raise DomainError(_("Enter the section’s code"), field="code")
    if not SECTION_CODE.fullmatch(details.code):
        raise DomainError(_("Code must be 1 to 20 letters, numbers or hyphens, like PCF"),
                          field="code")
    if not details.name.strip():
        raise DomainError(_("Enter the section’s name"), field="name")
    for field, value, what in (("name", details.name, _("Name")),
                               ("name_cy", details.name_cy, _("Name in Welsh"))):
        if len(value) > MOST_NAME:
            raise DomainError(_("%(what)s must be %(limit)d characters or fewer", what=what,
                                limit=MOST_NAME), field=field)
    others = select(PlanSection.id).where(PlanSection.plan_id == plan.id)
    if section is not None:
        others = others.where(PlanSection.id != section.id)
    if session.scalar(others.where(func.upper(PlanSection.code) == details.code.upper())):
        raise DomainError(_("This plan already has a section with the code %(code)s",
                            code=details.code), field="code")
    # A name in either language may not be another section's in either (a reader of the
    # other language would see two sections called the same).
    for field, value in (("name", details.name), ("name_cy", details.name_cy)):
        if value and session.scalar(others.where(or_(
                func.lower(PlanSection.name) == value.lower(),
                func.lower(PlanSection.name_cy) == value.lower()))):
            raise DomainError(_("This plan already has a section called “%(name)s”",
                                name=value), field=field)


def _hold_plans() -> None:
    """Hold every plan's row until the change commits (plans are few): two managers giving
    two plans the same date are taken one after the other, and the second is refused in
    words. (SQLite: a POST holds the write lock already.)"""
    # In id order, as ``hold_sections`` takes its plans: a breaker's bid choosing sections of
    # two plans while a plan was saved deadlocked when the rows lay in another order on disk.
    session.execute(select(Plan.id).order_by(Plan.id).with_for_update())


def _hold_plan(plan: Plan) -> None:
    """Hold the plan's row: its sections' writers take turns, so each one's checks (codes
    and names in any case, positions) see the others' changes."""
    session.execute(select(Plan.id).where(Plan.id == plan.id).with_for_update())
    session.refresh(plan)


def _flush(message: str, field: str) -> None:
    """Flush; a unique or reference clash with a change made a moment ago elsewhere becomes
    a refusal beside ``field`` instead of an error page."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise DomainError(message, field=field) from None


def _plan_snapshot(plan: Plan) -> dict[str, Any]:
    return {"title": plan.title, **({"title_cy": plan.title_cy} if plan.title_cy else {}),
            "first_year": year_label(plan.first_year), "last_year": year_label(plan.last_year),
            "in_force_from": plan.in_force_from.isoformat()}


def _section_snapshot(section: PlanSection) -> dict[str, Any]:
    return {"code": section.code, "name": section.name,
            **({"name_cy": section.name_cy} if section.name_cy else {})}


def _ordered(plan: Plan) -> list[PlanSection]:
    return list(session.scalars(select(PlanSection).where(PlanSection.plan_id == plan.id)
                                .order_by(PlanSection.position, PlanSection.id)))


# --- writes -----------------------------------------------------------------------------------


@atomic
def create_plan(details: PlanDetails, actor: User, *, copy_sections: bool = False) -> Plan:
    """A new plan, in force from ``details.in_force_from`` (it replaces the plan before from
    that date; nothing of that plan changes). ``copy_sections``: start with the codes and
    names of the plan before's sections. Raises DomainError beside ``title``, ``title_cy``,
    ``first_year``, ``last_year``, ``in_force_from`` or ``copy_sections``."""
    _hold_plans()
    _check_plan(details, None)
    before = plan_before(details.in_force_from) if copy_sections else None
    if copy_sections and before is None:
        raise DomainError(_("No plan is in force before that date, so there are no sections "
                            "to start from"), field="copy_sections")
    plan = Plan(title=details.title, title_cy=details.title_cy, first_year=details.first_year,
                last_year=details.last_year, in_force_from=details.in_force_from)
    session.add(plan)
    _flush(_("Another plan was given that date a moment ago: choose another date"),
           "in_force_from")
    copied = []
    if before is not None:
        for position, section in enumerate(_ordered(before)):
            session.add(PlanSection(plan_id=plan.id, code=section.code, name=section.name,
                                    name_cy=section.name_cy, position=position))
            copied.append(section.code)
        session.flush()
    after = _plan_snapshot(plan)
    if before is not None:
        after["copied_from"] = before.title
        after["sections_copied"] = copied
    audit.record("plan.created", "plan", plan.id, actor=actor, after=after)
    return plan


@atomic
def update_plan(plan: Plan, details: PlanDetails, actor: User) -> None:
    """A plan's title, years and date. Its date cannot change once an award is listed under
    one of its sections (the board's lists would move), nor be another plan's. Raises
    DomainError beside the field."""
    _hold_plans()
    session.refresh(plan)  # as it is now, a change made a moment ago included
    _check_plan(details, plan)
    before = _plan_snapshot(plan)
    plan.title, plan.title_cy = details.title, details.title_cy
    plan.first_year, plan.last_year = details.first_year, details.last_year
    plan.in_force_from = details.in_force_from
    _flush(_("Another plan was given that date a moment ago: choose another date"),
           "in_force_from")
    after = _plan_snapshot(plan)
    if after != before:
        audit.record("plan.changed", "plan", plan.id, actor=actor, before=before, after=after)


@atomic
def add_section(plan: Plan, details: SectionDetails, actor: User) -> PlanSection:
    """A section added at the end of ``plan``'s. Codes are unique in the plan in any case,
    names in either language. Raises DomainError beside ``code``, ``name`` or ``name_cy``."""
    _hold_plan(plan)
    _check_section(plan, details, None)
    position = (session.scalar(select(func.max(PlanSection.position))
                               .where(PlanSection.plan_id == plan.id)) or 0) + 1
    section = PlanSection(plan_id=plan.id, code=details.code, name=details.name,
                          name_cy=details.name_cy, position=position)
    session.add(section)
    _flush(_("Another manager added a section with this code or name a moment ago"), "code")
    audit.record("plan.section_added", "plan", plan.id, actor=actor,
                 after=_section_snapshot(section))
    return section


@atomic
def update_section(section: PlanSection, details: SectionDetails, actor: User) -> None:
    """A section's code, name and Welsh name. Grants aligned to it keep it (by id) and show
    its new words. Raises DomainError beside ``code``, ``name`` or ``name_cy``."""
    _hold_plan(section.plan)
    if session.scalar(select(PlanSection.id).where(PlanSection.id == section.id)) is None:
        raise DomainError(_("That section was removed a moment ago"), field="code")
    session.refresh(section)
    _check_section(section.plan, details, section)
    before = _section_snapshot(section)
    section.code, section.name, section.name_cy = details.code, details.name, details.name_cy
    _flush(_("Another manager gave a section this code or name a moment ago"), "code")
    after = _section_snapshot(section)
    if after != before:
        audit.record("plan.section_changed", "plan", section.plan_id, actor=actor,
                     before=before, after=after)


@atomic
def move_section(section: PlanSection, to: int, actor: User) -> None:
    """Put ``section`` at place ``to`` (0 is first) in its plan's order, the others kept in
    theirs. Sending the same place twice moves it once: a double click is harmless. A place
    beyond either end is the end."""
    _hold_plan(section.plan)
    ordered = _ordered(section.plan)
    if section not in ordered:  # removed a moment ago
        raise DomainError(_("That section was removed a moment ago"), field="move")
    was = ordered.index(section)
    to = max(0, min(to, len(ordered) - 1))
    ordered.insert(to, ordered.pop(was))
    for position, each in enumerate(ordered):
        each.position = position
    session.flush()
    if to != was:
        audit.record("plan.section_moved", "plan", section.plan_id, actor=actor,
                     before={"position": was + 1},
                     after={"code": section.code, "position": to + 1})


@atomic
def remove_section(section: PlanSection, actor: User) -> None:
    """Remove a section no fund, bid or award names (they keep the section they were given:
    a section in use is never removed). Raises DomainError beside ``confirm``."""
    plan = section.plan
    _hold_plan(plan)
    # The section's own row first, as a fund choosing it holds it (FOR SHARE): whichever
    # comes second sees the other's change.
    if session.scalar(select(PlanSection.id).where(PlanSection.id == section.id)
                      .with_for_update()) is None:
        raise DomainError(_("That section was removed a moment ago"), field="confirm")
    use = section_use(section)
    if use.any:
        raise DomainError(in_use_message(use), field="confirm")
    before = _section_snapshot(section)
    session.delete(section)
    _flush(_("The section cannot be removed: a fund, bid or award was given it a moment "
             "ago"), "confirm")
    session.expire(plan, ["sections"])
    for position, each in enumerate(_ordered(plan)):
        each.position = position
    session.flush()
    audit.record("plan.section_removed", "plan", plan.id, actor=actor, before=before)


def in_use_message(use: SectionUse) -> str:
    """Why a section in use cannot be removed, with what uses it."""
    return _("This section cannot be removed while it is in use (%(funds)s, %(bids)s, "
             "%(awards)s): grants keep the section they were given.",
             funds=ngettext("%(num)d fund", "%(num)d funds", use.funds),
             bids=ngettext("%(num)d bid", "%(num)d bids", use.bids),
             awards=ngettext("%(num)d award", "%(num)d awards", use.awards))
