"""Reads for the administrators' pages: users (searched and paged) and organisations."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from portal import bilingual
from portal.db import session
from portal.models import Organisation, User
from portal.pagination import Page, paginate


def users(search: str, number: int) -> Page:
    """Page ``number`` of the users (``User`` objects) by name, those whose name or email
    contains ``search`` (any case) when it is not empty."""
    statement = select(User).order_by(User.name, User.id)
    if search:
        typed = search.lower()  # % and _ are characters, not wildcards
        statement = statement.where(or_(func.lower(User.name).contains(typed, autoescape=True),
                                        func.lower(User.email).contains(typed, autoescape=True)))
    return paginate(statement, number)


def user(user_id: int) -> User | None:
    """The user with this id, or None."""
    return session.get(User, user_id)


def organisation(organisation_id: int | None) -> Organisation | None:
    """The organisation with this id, or None (also for no id)."""
    return None if organisation_id is None else session.get(Organisation, organisation_id)


def organisation_options() -> list[tuple[int, str, dict[str, str]]]:
    """Every organisation as (id, name, attributes of its option), by the name shown: the
    choices of the users' forms. The name is in the reader's language (its Welsh name for a
    Welsh reader, where given); an English name shown to a Welsh reader has ``lang="en"``."""
    rows = session.execute(select(Organisation.id, Organisation.name, Organisation.name_cy)
                           .order_by(Organisation.name, Organisation.id))
    options = []
    for row in rows:
        shown, in_english = bilingual.chosen(row.name, row.name_cy)
        options.append((row.id, shown, {"lang": "en"} if in_english else {}))
    return sorted(options, key=lambda option: option[1].casefold())


def organisation_choices() -> list[tuple[int, str]]:
    """Every organisation as (id, name in the reader's language), by that name."""
    return [(id_, name) for id_, name, _attributes in organisation_options()]


def organisations() -> list:
    """Every organisation as rows (id, name, name_cy, type, language), by name: the
    administrators' list (one query whatever their number)."""
    return list(session.execute(
        select(Organisation.id, Organisation.name, Organisation.name_cy, Organisation.type,
               Organisation.language).order_by(Organisation.name, Organisation.id)))
