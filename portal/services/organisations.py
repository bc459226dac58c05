"""Organisations: the Welsh name and the working language an administrator keeps (issue 16).

An organisation's Welsh name is shown to Welsh readers where its English name would be (pages,
emails, letters); its language ("en" or "cy") is the one the partnership works in, and its
offer letters are written in it whatever the language of the officer reading them.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.bilingual import LANGUAGES
from portal.db import session
from portal.models import Organisation, User
from portal.services import DomainError, audit, policy
from portal.services.policy import Action
from portal.services.workflow import atomic

NAME_MAX = 200  # organisations.name and name_cy are String(200)


def _snapshot(organisation: Organisation) -> dict:
    return {"name_cy": organisation.name_cy, "language": organisation.language}


def _name_problem(organisation: Organisation, name_cy: str) -> str | None:
    """Why the Welsh name cannot be kept, or None: as the English name, at most 200
    characters and no other organisation's (in any case), Welsh or English."""
    if len(name_cy) > NAME_MAX:
        return _("%(what)s must be %(limit)d characters or fewer", what=_("Welsh name"),
                 limit=NAME_MAX)
    if not name_cy:
        return None
    typed = name_cy.lower()
    taken = session.scalar(
        select(Organisation.id).where(
            Organisation.id != organisation.id,
            (func.lower(Organisation.name_cy) == typed) | (func.lower(Organisation.name) == typed))
        .limit(1))
    if taken is not None:
        return _("Another organisation already has this name")
    return None


@atomic
def update(organisation: Organisation, *, name_cy: str, language: str, actor: User) -> bool:
    """Keep ``organisation``'s Welsh name (optional: empty shows its English name to Welsh
    readers) and language; audited when either changed. True if anything changed. Refused
    beside its field, before anything is written."""
    policy.require(actor, Action.ADMINISTER, field="name_cy",
                   otherwise=_("Only an administrator can change organisations."))
    # Every organisation's row held until the change commits: two administrators naming
    # organisations at once are taken one after the other, so the second's check sees the
    # first's name in any case and either language, and a double post finds its own change
    # made and records nothing (a breaker raced both).
    session.execute(select(Organisation.id).with_for_update(key_share=True))
    session.refresh(organisation)
    name_cy = name_cy.strip()
    problem = _name_problem(organisation, name_cy)
    if problem:
        raise DomainError(problem, field="name_cy")
    if language not in LANGUAGES:
        raise DomainError(_("Select the language the partnership works in"), field="language")
    before = _snapshot(organisation)
    organisation.name_cy = name_cy
    organisation.language = language
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # another administrator gave the name a moment ago
        raise DomainError(_("Another organisation already has this name"),
                          field="name_cy") from None
    after = _snapshot(organisation)
    if after == before:
        return False
    audit.record("organisation.changed", "organisation", organisation.id, actor=actor,
                 before=before, after=after)
    return True
