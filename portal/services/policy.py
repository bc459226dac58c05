"""Who may do what: the one access policy for routes, services and templates.

``can(user, action, thing)`` answers every access question. An action is either an
:class:`Action` below (a part of the service, such as "apply" or "manage grants", or an act on
one record, such as "record a payment" on an award) or a workflow transition from
``portal.workflows`` (its roles are the transition's). Routes declare theirs with
``@requires(Action.…)`` (``portal.access``); services call :func:`require`, which raises
``NotAllowed`` (a ``DomainError`` the page shows) with the reason :func:`reason` gives;
templates call ``can(current_user, "record payment", award)``.

The rules come from the domain (``../shared/domain.md``): a Community Safety Partnership's
officers act only on their own partnership's records; an assessor never assesses a bid from
their own partnership; whoever approved an award never records its payments (separation of
duties, as the OPCC's financial regulations ask). ``tests/integration/test_route_access.py``
keeps a snapshot of the roles each endpoint allows, so widening a route fails a test.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from portal.models import Role, User
from portal.services import DomainError
from portal.workflows import Transition


class NotAllowed(DomainError):
    """The person may not do this (their role, the record's partnership, a separation of duties),
    or a transition is not open from the record's state."""


class Action(enum.StrEnum):
    """What a person may do. Parts of the service (the routes of a role's area) first, then
    acts on one record (``thing`` is that record)."""

    SIGNED_IN = "signed in"  # their own account: password, language, sign out
    APPLY = "apply"  # a partnership's bids, awards, returns and variation requests
    ASSESS = "assess"  # score the bids assigned to them
    MANAGE_GRANTS = "manage grants"  # funds, rounds, criteria, assignments, decisions, variations
    HANDLE_MONEY = "handle money"  # payments, returns checks, repayments
    ADMINISTER = "administer"  # user accounts
    SEE_REPORTS = "see reports"  # the OPCC's dashboard and exports
    SEE_OWN_FIGURES = "see own figures"  # a partnership's own figures
    # On one record:
    ACT_FOR_PARTNERSHIP = "act for partnership"  # thing: a record with an organisation_id
    ASSESS_BID = "assess bid"  # thing: a bid; user: the assessor
    RECORD_PAYMENT = "record payment"  # thing: an award


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    # (user, thing) -> why not, or None; only asked when a thing is given.
    check: Callable[[User, Any], str | None] | None = None


def _own_partnership(user: User, thing: Any) -> str | None:
    if thing.organisation_id != user.organisation_id:
        return _("Only the partnership's officers can do this.")
    return None


def _not_own_partnership(user: User, bid: Any) -> str | None:
    if user.organisation_id is not None and user.organisation_id == bid.organisation_id:
        return _("%(name)s works for the partnership that made this bid and cannot assess it.",
                 name=user.name)
    return None


def _not_the_approver(user: User, award: Any) -> str | None:
    if award.decision is not None and award.decision.decided_by_id == user.id:
        return _("You approved this award, so someone else must record its payments.")
    return None


RULES: dict[Action, Rule] = {
    Action.SIGNED_IN: Rule(frozenset(Role)),
    Action.APPLY: Rule(frozenset({Role.OFFICER})),
    Action.ASSESS: Rule(frozenset({Role.ASSESSOR})),
    Action.MANAGE_GRANTS: Rule(frozenset({Role.MANAGER})),
    Action.HANDLE_MONEY: Rule(frozenset({Role.FINANCE})),
    Action.ADMINISTER: Rule(frozenset({Role.ADMIN})),
    Action.SEE_REPORTS: Rule(frozenset({Role.MANAGER, Role.FINANCE})),
    Action.SEE_OWN_FIGURES: Rule(frozenset({Role.OFFICER})),
    Action.ACT_FOR_PARTNERSHIP: Rule(frozenset({Role.OFFICER}), _own_partnership),
    Action.ASSESS_BID: Rule(frozenset({Role.ASSESSOR}), _not_own_partnership),
    Action.RECORD_PAYMENT: Rule(frozenset({Role.FINANCE}), _not_the_approver),
}


def roles_for(action: Action | str | Transition) -> frozenset[Role]:
    """The roles that may take ``action`` (a transition's own roles for a transition)."""
    if isinstance(action, Transition):
        return action.roles
    return RULES[Action(action)].roles


def reason(user: User | Any, action: Action | str | Transition, thing: Any = None) -> str | None:
    """Why ``user`` may not take ``action`` (on ``thing``), in the user's language; None if they
    may. A signed-out user, or one whose account is deactivated, may do nothing. Raises ``ValueError`` for an action
    that does not exist."""
    roles = roles_for(action)
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return _("Sign in to do this.")
    if not user.has_role(*roles):
        return _("You cannot do this: it is for %(roles)s.",
                 roles=", ".join(sorted(role.value for role in roles)))
    if thing is not None and not isinstance(action, Transition):
        check = RULES[Action(action)].check
        if check is not None:
            return check(user, thing)
    return None


def can(user: User | Any, action: Action | str | Transition, thing: Any = None) -> bool:
    """True if ``user`` may take ``action`` (on ``thing``): :func:`reason` without its words.

    Asked on every page (the route's guard, the navigation's areas), so it builds no message."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    if not user.has_role(*roles_for(action)):
        return False
    if thing is not None and not isinstance(action, Transition):
        check = RULES[Action(action)].check
        return check is None or check(user, thing) is None
    return True


def require(user: User | Any, action: Action | str | Transition, thing: Any = None, *,
            field: str | None = None, otherwise: str | None = None) -> None:
    """Raise ``NotAllowed`` (beside ``field`` if given) unless ``user`` may take ``action``.
    ``otherwise`` words the refusal of someone without the role ("Only finance can …");
    a record's own rule (their partnership, the approver) always gives its own reason."""
    why = reason(user, action)
    if why is not None:
        raise NotAllowed(otherwise or why, field=field)
    why = reason(user, action, thing)
    if why is not None:
        raise NotAllowed(why, field=field)
