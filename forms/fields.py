"""Shared fields: money typed as people type it, and a rule for "required once completed"."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import Field, FieldList, HiddenField, StringField
from wtforms.validators import StopValidation, ValidationError

from forms.base import PortalForm

_MONEY = re.compile(r"^£?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


class MoneyError(ValueError):
    pass


def parse_money(text: str) -> int:
    """'5000', '5,000', '£5,000.00', '4999.99' -> pence. Refuses negatives, words, >2 decimals."""
    cleaned = text.strip().replace(" ", "")
    if cleaned.startswith("-") or cleaned.startswith("£-"):
        raise MoneyError(str(_l("Amount must be £0 or more")))
    if not _MONEY.match(cleaned):
        raise MoneyError(str(_l("Enter an amount in pounds, like 4750 or 4,750.00")))
    number = cleaned.lstrip("£").replace(",", "")
    if "." in number and len(number.split(".")[1]) > 2:
        raise MoneyError(str(_l("Amount must not have more than 2 decimal places (pence)")))
    try:
        pounds = Decimal(number)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already refused it
        raise MoneyError(str(_l("Enter an amount in pounds, like 4750 or 4,750.00"))) from exc
    pence = pounds * 100
    if pence > 10**13:
        raise MoneyError(str(_l("Amount is too large")))
    return int(pence)


def pence_to_text(pence: int | None) -> str:
    """Pence as the text a user would type back: 475000 -> '4,750.00'."""
    if pence is None:
        return ""
    return f"{Decimal(pence) / 100:,.2f}"


class MoneyField(StringField):
    """A text input for pounds and pence; ``data`` is integer pence (or None when blank)."""

    widget = GovTextInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.money_error: str | None = None

    def process_formdata(self, valuelist: list[str]) -> None:
        self.money_error = None
        self.raw_text = valuelist[0] if valuelist else ""
        if not self.raw_text.strip():
            self.data = None
            return
        try:
            self.data = parse_money(self.raw_text)
        except MoneyError as error:
            self.data = None
            self.money_error = str(error)

    def pre_validate(self, form: Any) -> None:
        if self.money_error:
            raise StopValidation(self.money_error)

    def _value(self) -> str:
        if getattr(self, "raw_text", None) is not None and self.raw_data:
            return self.raw_text
        return pence_to_text(self.data) if isinstance(self.data, int) else ""


class RequiredWhenCompleted:
    """Required only when the user says the section is complete; otherwise saved as it is."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.field_flags: dict[str, bool] = {}

    def __call__(self, form: Any, field: Field) -> None:
        root = getattr(form, "_section_root", form)
        if not getattr(root, "is_completing", lambda: False)():
            return
        data = field.data
        empty = data is None or data == "" or data == [] or data is False or (
            isinstance(data, str) and not data.strip())
        if empty:
            field.errors[:] = []
            raise StopValidation(self.message)


def max_length(limit: int, what: str) -> Callable[[Any, Field], None]:
    def check(_form: Any, field: Field) -> None:
        if field.data and len(field.data) > limit:
            raise ValidationError(str(_l("%(what)s must be %(limit)d characters or fewer",
                                         what=what, limit=limit)))

    return check


class DayMonthYearField(Field):
    """A GOV.UK date input (day, month, year boxes); ``data`` is a date or None when blank."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        from govuk_frontend_wtf.wtforms_widgets import GovDateInput

        kwargs.setdefault("widget", GovDateInput())
        super().__init__(label, validators, **kwargs)
        self.date_error: str | None = None

    def process_formdata(self, valuelist: list[str]) -> None:
        from datetime import date

        self.date_error = None
        parts = [(v or "").strip() for v in (list(valuelist) + ["", "", ""])[:3]]
        self.raw_data = parts
        if not any(parts):
            self.data = None
            return
        label = str(self.label.text)
        if not all(parts):
            self.data = None
            self.date_error = str(_l("%(label)s must include a day, month and year", label=label))
            return
        try:
            day, month, year = (int(p) for p in parts)
            if year < 1000:
                raise ValueError
            self.data = date(year, month, day)
        except (ValueError, OverflowError):  # 31 February, or a year of 20 digits
            self.data = None
            self.date_error = str(_l("%(label)s must be a real date", label=label))

    def _value(self) -> str:
        return ""

    def pre_validate(self, form: Any) -> None:
        if self.date_error:
            raise StopValidation(self.date_error)


def new_once_token() -> str:
    """A token issued to the signed-in user (see ``portal.tokens.once_token``)."""
    from flask import current_app
    from flask_login import current_user

    from portal.tokens import once_token

    user_id = current_user.id if current_user.is_authenticated else None
    return once_token(user_id, current_app.config["SECRET_KEY"])


class OneShotForm(PortalForm):
    """A form whose post does something once (submit, decide, accept, pay, approve…).

    It carries a one-time token (render ``{{ form.once }}`` beside ``form.csrf_token``): the
    same form posted again (a double click, a refreshed POST, a replay) is shown the first
    post's result instead of acting again (see ``portal.oneshot``)."""

    once = HiddenField(default=new_once_token)


def refresh_list_errors(form: Any) -> None:
    """A FieldList snapshots its rows' errors when validated; take the snapshot again so
    errors added to rows afterwards reach the error summary."""
    for field in form:
        if isinstance(field, FieldList):
            rows = [entry.errors for entry in field]
            field.errors = rows if any(rows) else []
