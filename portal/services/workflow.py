"""Moving a record along its workflow (``portal.workflows``): one guarded write, then its effects.

``move`` checks who may take the transition and from which states, then changes the status
with one ``UPDATE … WHERE id = :id AND <status> = :from``. If that write changes no row,
someone else got there first: ``Conflict`` is raised and nothing follows it. The audit event
(and whatever the service does after ``move``: references, money, email) follows only a
write that won.

``atomic`` runs a service inside its own savepoint: a refusal (any exception) rolls back every
row it wrote and drops the email it queued, whatever the view does next. ``tell`` sends a
transition's email to the audiences its definition names.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import ResourceClosedError
from sqlalchemy.orm import attributes

from portal.db import session
from portal.models import Assignment, ConflictStatus, Role, User, UserRole
from portal.services import DomainError, audit, email, policy
from portal.services.policy import NotAllowed
from portal.workflows import Transition, Workflow

F = TypeVar("F", bound=Callable[..., Any])


class Conflict(DomainError):
    """Someone else changed the record between the page being read and this write."""


_depth: contextvars.ContextVar[int] = contextvars.ContextVar("service_depth", default=0)


def atomic(service: F) -> F:
    """Run ``service`` in a savepoint: on any exception, nothing it wrote or queued remains.
    Files it stored (``storage.put_for_row``) are deleted when the savepoint rolls back, and
    removals it asked for (``storage.delete_after_commit``) forgotten: ``portal.storage``
    follows the savepoint through the session's events, so nothing here names it.

    The outermost service call of a request notes in ``g.service_outcomes`` whether it took
    effect (True) or was refused (False): a one-shot form keeps its token only for an
    effect. A one-shot post without a valid token (``g.once_refused``) runs as a dry run: its
    own refusal is shown as usual, and what would have worked is rolled back and refused."""

    @wraps(service)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        dry_run = _depth.get() == 0 and has_app_context() and bool(g.get("once_refused"))
        queued = len(email.queued())
        savepoint = session.begin_nested()
        outermost = _depth.get() == 0
        depth = _depth.set(_depth.get() + 1)
        try:
            result = service(*args, **kwargs)
        except BaseException:
            # Also when a failed flush has left it inactive (not yet rolled back): until it
            # is, the session refuses every statement.
            with contextlib.suppress(ResourceClosedError):
                savepoint.rollback()
            email.drop_queued_after(queued)
            _note(False, outermost)
            raise
        finally:
            _depth.reset(depth)
        if dry_run:  # it would have worked, but the form's token was not valid: undo it
            savepoint.rollback()
            email.drop_queued_after(queued)
            _note(False, outermost)
            raise DomainError(_("This form had expired, so nothing was done. Check the page "
                                "and try again."))
        if savepoint.is_active:
            savepoint.commit()
        _note(True, outermost)
        return result

    wrapper.atomic = True  # type: ignore[attr-defined]  # a mark the atomicity test looks for
    return wrapper  # type: ignore[return-value]  # wraps() keeps the signature; mypy cannot see it


def _note(took_effect: bool, outermost: bool) -> None:
    if outermost and has_app_context():
        g.setdefault("service_outcomes", []).append(took_effect)


def check(workflow: Workflow, name: str, record: Any, actor: User | None) -> Transition:
    """The transition, or ``NotAllowed`` naming why not (who, or the state the record is in)."""
    transition = workflow.transitions[name]
    if actor is None:
        if not transition.system:
            raise NotAllowed(_("Sign in to do this."))
    else:
        policy.require(actor, transition)
    current = getattr(record, workflow.column)
    if current.value not in transition.sources:
        raise NotAllowed(_("This %(noun)s cannot be changed that way now: its status is "
                           "“%(state)s”.", noun=workflow.noun, state=workflow.label(current)))
    return transition


def move(workflow: Workflow, name: str, record: Any, actor: User | None, *,
         values: dict[str, Any] | None = None, record_id: object | None = None,
         before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
         audit_event: bool = True, guard: dict[str, Any] | None = None) -> Transition:
    """Take transition ``name`` on ``record``: one guarded UPDATE of its status (and of
    ``values``, columns that change with it), then the audit event.

    ``guard`` adds columns the row must still hold (e.g. the version a form was loaded at).
    Raises ``NotAllowed`` (wrong role or state, read before the write) or ``Conflict`` (the
    guarded write lost: someone else moved or saved the record first; it is re-read so the
    page shows its state now).
    """
    transition = check(workflow, name, record, actor)
    model: Any = workflow.model  # a mapped class with an id and the workflow's column
    column = getattr(model, workflow.column)
    current = getattr(record, workflow.column)
    target = type(current)(transition.target)
    changes = {workflow.column: target, **(values or {})}
    # An UPDATE's result is a CursorResult (it has a row count), as in the other services.
    result = cast(CursorResult[Any], session.execute(
        update(model).where(model.id == record.id, column == current,
                            *(getattr(model, name) == value
                              for name, value in (guard or {}).items()))
        .values(changes)
        .execution_options(synchronize_session=False)))
    if result.rowcount != 1:
        session.refresh(record)
        now = getattr(record, workflow.column)
        raise Conflict(_("Someone else changed this %(noun)s a moment ago: it is now "
                         "%(state)s. Nothing was changed by this request.",
                         noun=workflow.noun, state=workflow.label(now).lower()))
    for key, value in changes.items():
        attributes.set_committed_value(record, key, value)
    if audit_event:
        audit.record(transition.action, workflow.record_type,
                     record.id if record_id is None else record_id, actor=actor,
                     before={workflow.column: current.value, **(before or {})},
                     after={workflow.column: target.value, **(after or {})})
    return transition


# --- the messenger ---------------------------------------------------------------------------


def users_with_role(role: Role, organisation_id: int | None = None) -> list[User]:
    statement = (select(User).join(UserRole)
                 .where(UserRole.role == role, User.active.is_(True)).order_by(User.id))
    if organisation_id is not None:
        statement = statement.where(User.organisation_id == organisation_id)
    return list(session.scalars(statement))


def _assessors_of(bid_id: int) -> list[User]:
    return list(session.scalars(
        select(User).join(Assignment, Assignment.assessor_id == User.id)
        .where(Assignment.bid_id == bid_id, Assignment.conflict != ConflictStatus.CONFLICTED,
               User.active.is_(True)).order_by(User.id)))


def audience(name: str, *, organisation_id: int | None = None, bid_id: int | None = None,
             assessor: User | None = None) -> list[User]:
    """The people an audience named in a workflow means for one record."""
    if name == "partnership":
        return users_with_role(Role.OFFICER, organisation_id) if organisation_id else []
    if name == "managers":
        return users_with_role(Role.MANAGER)
    if name == "finance":
        return users_with_role(Role.FINANCE)
    if name == "assessors":
        return _assessors_of(bid_id) if bid_id is not None else []
    if name == "assessor":
        return [assessor] if assessor is not None else []
    raise ValueError(f"unknown audience {name!r}")


def recipients(transition: Transition, **record: Any) -> list[User]:
    """Everyone the transition tells, once each."""
    seen: dict[int, User] = {}
    for name in transition.tell:
        for user in audience(name, **record):
            seen.setdefault(user.id, user)
    return list(seen.values())


def tell(transition: Transition, subject: Any, template: str, *,
         organisation_id: int | None = None, bid_id: int | None = None,
         assessor: User | None = None, only: Iterable[str] | None = None,
         **context: Any) -> list[User]:
    """Email everyone the transition names (or only the audiences in ``only``), each in
    their own language; ``subject`` is lazy text, read in that language. Sent on commit."""
    chosen = transition if only is None else Transition(
        transition.name, transition.sources, transition.target, transition.roles,
        transition.action, transition.label, tuple(only), transition.system)
    people = recipients(chosen, organisation_id=organisation_id, bid_id=bid_id,
                        assessor=assessor)
    for user in people:
        email.send_to(user, subject, template, **context)
    return people
