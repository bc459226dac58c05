"""Turn a service's refusal into what the user sees: an error beside the field it names.

One helper for every view (it replaced four near-copies). A service raises
``DomainError(message, field=name)``; the view calls :func:`show_refusal`, which puts the
message on the form field ``name`` and takes the error summary's snapshot of list rows again,
so the message appears both beside the field and in the summary at the top of the page
(GOV.UK error summary pattern). A refusal that names no field of the form is flashed as a
page-level error instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from flask import flash
from wtforms import Field, FieldList

from forms.fields import refresh_list_errors
from portal.services import DomainError

# A field, or a function of the form returning one (lists: "the first amount typed").
# WTForms ships no types, so to the type checker both are Any.
Target: TypeAlias = Any


def show_refusal(form: Any, refused: DomainError, *, where: Mapping[str, Target] | None = None,
                 default: str | Target | None = None, flash_otherwise: bool = True) -> bool:
    """Show ``refused.message`` beside the field its ``field`` names; True if it found one.

    The field is looked up, in order: in ``where`` (service field name -> a field or a function
    of the form returning one, for names that are not the form's own, e.g. ``"rows"`` -> the first
    budget amount); as a field of the form, including a list row's field written the way WTForms
    names it (``rows-0-amount``); then ``default`` (a name or a target). With none found, the
    message is flashed as an error (unless ``flash_otherwise`` is False) and False is returned.
    """
    field = _resolve(form, refused.field or "", where or {})
    if field is None and default is not None:
        field = (_resolve(form, default, where or {}) if isinstance(default, str)
                 else _target(form, default))
    if field is None:
        if flash_otherwise:
            flash(refused.message, "error")
        return False
    field.errors = [*field.errors, refused.message]
    refresh_list_errors(form)
    return True


def _resolve(form: Any, name: str, where: Mapping[str, Target]) -> Field | None:
    if name in where:
        return _target(form, where[name])
    fields = getattr(form, "_fields", {})
    if name in fields:
        return fields[name]
    return _list_row_field(fields, name)


def _target(form: Any, target: Target) -> Field | None:
    found: Field | None = target if isinstance(target, Field) else target(form)
    return found


def _list_row_field(fields: Mapping[str, Any], name: str) -> Field | None:
    """``rows-2-amount`` -> the ``amount`` field of row 2 of the ``rows`` list, if it exists."""
    parts = name.split("-")
    if len(parts) < 3 or not parts[1].isdigit():
        return None
    listed = fields.get(parts[0])
    index = int(parts[1])
    if not isinstance(listed, FieldList) or index >= len(listed.entries):
        return None
    row = listed.entries[index]
    inner = "-".join(parts[2:])
    return getattr(row, "form", None) and row.form._fields.get(inner)
