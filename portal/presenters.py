"""Shared presentation: a bid's saved answers as rows for GOV.UK summary lists (check answers,
the officer's read-only bid, and the same bid read by assessors and the grants manager). Every
blueprint may use it; it reads models and forms, never the request."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape
from wtforms import BooleanField, FieldList, RadioField, SelectField, SelectMultipleField

from forms.applicant import SECTION_FORMS
from forms.fields import DayMonthYearField, MoneyField
from portal.formatting import long_date, money
from portal.models import Bid

HIDDEN = {"version", "completed", "submit", "csrf_token"}


def _choice_label(field: Any, value: Any) -> str:
    return next((str(label) for key, label in field.choices if key == value), str(value or ""))


def _value(field: Any) -> Markup | str:
    data = field.data
    if isinstance(field, BooleanField):
        return _("Yes") if data else _("No")
    if isinstance(field, MoneyField):
        return money(data) if data is not None else ""
    if isinstance(field, DayMonthYearField):
        return long_date(data) if isinstance(data, date) else ""
    if isinstance(field, SelectMultipleField):
        return ", ".join(_choice_label(field, v) for v in data or [])
    if isinstance(field, (RadioField, SelectField)):
        return _choice_label(field, data) if data else ""
    return "" if data is None else str(data)


def _rows_table(form: Any, key: str) -> Markup:
    items = []
    if key == "budget":
        for row in form.rows:
            if row.form.filled():
                items.append(f"{escape(row.form.item.data)} ({escape(_choice_label(row.form.kind, row.form.kind.data))}): "
                             f"{escape(money(row.form.amount.data or 0))}")
    else:
        for row in form.rows:
            if row.form.filled():
                items.append(f"{escape(row.form.measure.data)}: {escape(row.form.target.data)} "
                             f"({escape(row.form.how_measured.data)})")
    if not items:
        return Markup("")
    return Markup('<ul class="govuk-list">' + "".join(f"<li>{i}</li>" for i in items) + "</ul>")


def summary_rows(bid: Bid, key: str) -> list[dict[str, Any]]:
    """(label, shown value) for each question of a section, as saved."""
    saved = bid.section(key)
    form = SECTION_FORMS[key](formdata=None, meta={"csrf": False})
    if saved is not None:
        form.load(saved.answers)
    rows: list[dict[str, Any]] = []
    for name, field in form._fields.items():
        if name in HIDDEN:
            continue
        if isinstance(field, FieldList):
            label = _("Budget lines") if key == "budget" else _("Outcome measures")
            rows.append({"key": {"text": label}, "value": {"html": _rows_table(form, key)}})
            if key == "budget":
                rows.append({"key": {"text": _("Total asked for")},
                             "value": {"text": money(bid.amount_requested_pence)}})
            continue
        rows.append({"key": {"text": str(field.label.text)}, "value": {"text": _value(field)}})
    return rows
