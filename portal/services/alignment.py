"""Grants aligned to the Police and Crime Plan (issue 18, point 2).

The OPCC reports its grants to the board "aligned to the section of the Police and Crime Plan
they support" (seed 002, paragraph 5.1). Each fund names its default section
(``Fund.plan_section``); a bid starts with it and its officer chooses the sections the bid
supports (``Bid.plan_sections``, one or more while the plan has sections); the grants manager
lists the grant under one section when deciding (``Award.plan_section``), a direct award
likewise. The sections offered are those of the plan in force on the day
(``plans.sections_in_force``) plus any the record already has: a bid chosen under an older
plan keeps, and may keep choosing, its old sections, so a new plan never moves a grant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from portal import bilingual
from portal.db import session, uk_today
from portal.models import Award, Bid, BidStatus, PlanSection, Round, User
from portal.services import DomainError, audit, plans, policy
from portal.services.policy import Action
from portal.services.workflow import atomic

# The field a refusal is shown beside: the bid's checkboxes, the decision's or the direct
# award's select.
BID_FIELD = "plan_sections"
AWARD_FIELD = "plan_section"


def _with(current: list[PlanSection], kept: Iterable[PlanSection | None]) -> list[PlanSection]:
    """The sections of the plan in force, in its order, then those of older plans a record
    already has (by plan, then the plan's order), each once."""
    ids = {section.id for section in current}
    older = {section.id: section for section in kept
             if section is not None and section.id not in ids}
    return current + sorted(older.values(),
                            key=lambda s: (s.plan.in_force_from, s.position, s.id))


def sections_for_bid(bid: Bid, on: date | None = None) -> list[PlanSection]:
    """What a bid's officer may choose from: the sections of the plan in force on ``on`` (a UK
    date; today by default) and those the bid already has from an older plan. [] when there
    is no plan and the bid has none."""
    return _with(plans.sections_in_force(on or uk_today()), bid.plan_sections)


def sections_for_decision(bid: Bid, on: date | None = None) -> list[PlanSection]:
    """What the grants manager may list an approved bid's grant under: the sections of the
    plan in force, those the bid chose and the fund's default."""
    return _with(plans.sections_in_force(on or uk_today()),
                 [*bid.plan_sections, bid.round.fund.plan_section])


def sections_for_direct_award(round_: Round, on: date | None = None) -> list[PlanSection]:
    """What a direct award from ``round_`` may be listed under: the sections of the plan in
    force and the fund's default."""
    return _with(plans.sections_in_force(on or uk_today()), [round_.fund.plan_section])


def sections_for_award(award: Award, on: date | None = None) -> list[PlanSection]:
    """What the grants manager may list an existing award under (the award's page): the
    sections of the plan in force on ``on`` (today by default) and the award's own section,
    even of an older plan, so saving keeps it. [] when there is no plan and the award has
    none."""
    return _with(plans.sections_in_force(on or uk_today()), [award.plan_section])


def decision_default(bid: Bid) -> PlanSection | None:
    """The section the decision page proposes: the first the bid chose (in its plan's order),
    else the fund's default, else none."""
    return bid.plan_sections[0] if bid.plan_sections else bid.round.fund.plan_section


def section_label(section: PlanSection, current: bool = True) -> str:
    """A section as an option or a line of text (plain text, the reader's language):
    "PCF – Putting Communities First", with its plan's title when ``current`` is False (a
    section of an older plan)."""
    # (No words to translate: a code, a name and a title, each in the reader's language.)
    name = bilingual.text(section, "name")
    if current:
        return f"{section.code} – {name}"
    return f"{section.code} – {name} ({bilingual.text(section.plan, 'title')})"


def plan_id_in_force(on: date | None = None) -> int | None:
    """The id of the plan in force on ``on`` (today by default), if any: a section of another
    plan is one of an older plan a record kept."""
    plan = plans.plan_in_force(on or uk_today())
    return plan.id if plan is not None else None


def choices(sections: Sequence[PlanSection], on: date | None = None) -> list[tuple[str, str]]:
    """``sections`` as the (id, words) choices of a form, those of an older plan named with
    their plan."""
    in_force = plan_id_in_force(on)
    return [(str(s.id), section_label(s, s.plan_id == in_force)) for s in sections]


def award_choices(sections: Sequence[PlanSection]) -> list[tuple[str, str, dict[str, str]]]:
    """The choices of the select of the section a grant is listed under: none first (the
    section is optional), then :func:`choices`, each option whose name is English shown to a
    Welsh reader marked ``lang="en"`` (the house's ``OptionsSelect`` writes it)."""
    in_force = plan_id_in_force()
    marked = [(str(s.id), section_label(s, s.plan_id == in_force),
               {"lang": "en"} if bilingual.chosen(s.name, s.name_cy)[1] else {})
              for s in sections]
    return [("", _("Not listed under a section"), {}), *marked]


def codes(sections: Iterable[PlanSection]) -> list[str]:
    """The sections' codes, as the audit records them."""
    return [section.code for section in sections]


def offered_section(section_id: int | None, offered: Sequence[PlanSection]) -> PlanSection | None:
    """The section ``section_id`` names if it is among ``offered``; None for none chosen.
    Raises DomainError beside ``plan_section`` for any other id (another plan's, a missing
    one): the page offered only these."""
    if section_id is None:
        return None
    found = next((section for section in offered if section.id == section_id), None)
    if found is None:
        raise DomainError(_("Select a section of the Police and Crime Plan from the list"),
                          field=AWARD_FIELD)
    return found


def default_for_new_bid(bid: Bid) -> None:
    """A bid just started supports its fund's default section, if the fund names one
    (``bids.start_bid``); the officer may change it while the bid is a draft."""
    section = bid.round.fund.plan_section
    if section is not None:
        bid.plan_sections = [section]


@atomic
def choose_sections(bid: Bid, section_ids: Sequence[int], actor: User,
                    on: date | None = None) -> list[PlanSection]:
    """Record the sections of the Police and Crime Plan a draft bid supports
    (``section_ids``: ids of :func:`sections_for_bid`), in the plan's order; audited as
    ``bid.plan_sections_chosen`` with the codes before and after. At least one when any is
    offered. The bid's row is locked and read again first, as ``evidence.add`` does: a choice
    racing the submission lands before it or finds the bid submitted. Raises DomainError
    beside ``plan_sections`` (submitted, an id not offered, none chosen); nothing changes."""
    session.execute(select(Bid.id).where(Bid.id == bid.id).with_for_update())
    plans.hold_sections(section_ids)  # a removal of one waits, or is waited for
    session.refresh(bid, ["status", "plan_sections"])
    if bid.status != BidStatus.DRAFT:
        raise DomainError(_("This bid has been submitted and can no longer be changed."),
                          field=BID_FIELD)
    offered = sections_for_bid(bid, on)
    wanted = set(section_ids)
    if wanted - {section.id for section in offered}:
        raise DomainError(_("Select sections of the Police and Crime Plan from the list"),
                          field=BID_FIELD)
    if offered and not wanted:
        raise DomainError(_("Select the sections of the Police and Crime Plan your bid "
                            "supports"), field=BID_FIELD)
    chosen = [section for section in offered if section.id in wanted]
    before = codes(bid.plan_sections)
    if {s.id for s in chosen} == {s.id for s in bid.plan_sections}:
        return chosen  # saved again as it was: nothing to record
    bid.plan_sections = chosen
    session.flush()
    audit.record("bid.plan_sections_chosen", "bid", bid.id, actor=actor,
                 before={"plan_sections": before}, after={"plan_sections": codes(chosen)})
    return chosen


@atomic
def relist_award(award: Award, plan_section_id: int | None, actor: User,
                 on: date | None = None) -> PlanSection | None:
    """List an existing award under the section ``plan_section_id`` of the Police and Crime
    Plan (one of :func:`sections_for_award`; None: under none) for the board's list; returns
    the section. Any award status (offered, active, closed): the section is what the board's
    report shows, not a term of the grant, and a closed grant is still reported. Audited as
    ``award.plan_section_changed`` with the codes before and after (None for none); saving
    the section it has already records nothing. The award's row is locked and read again,
    then the section and its plan held (``plans.hold_sections``) before what is offered is
    read: two managers take turns, and a removal of the section waits or is waited for.
    Raises NotAllowed (not a grants manager) or DomainError beside ``plan_section`` (an id not
    offered: another plan's, a missing one); nothing changes."""
    policy.require(actor, Action.MANAGE_GRANTS,
                   otherwise=_("Only a grants manager can change the section a grant is "
                               "listed under."), field=AWARD_FIELD)
    session.execute(select(Award.id).where(Award.id == award.id).with_for_update())
    plans.hold_sections([plan_section_id])
    session.refresh(award, ["plan_section_id", "plan_section"])
    before = award.plan_section
    section = offered_section(plan_section_id, sections_for_award(award, on))
    if (before.id if before is not None else None) == plan_section_id:
        return section  # saved again as it was: nothing to record
    award.plan_section = section
    session.flush()
    audit.record("award.plan_section_changed", "award", award.id, actor=actor,
                 before={"plan_section": before.code if before is not None else None},
                 after={"plan_section": section.code if section is not None else None})
    return section
