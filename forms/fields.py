"""Shared fields: money, whole numbers, dates and ids typed (or posted) as people type them,
lists of rows that keep their places, and a rule for "required once completed".

Numbers are ASCII digits only. Python's ``int()``, ``Decimal()`` and a regular expression's
``\\d`` all take other scripts' digits ("５０００", "٥٠٠٠") and ``int()`` takes "1_000" and "+5"
too: none is how a person here types a number, and each would be stored as if they had
typed the plain one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovTextInput
from wtforms import Field, FieldList, HiddenField, SelectField, StringField
from wtforms.utils import unset_value
from wtforms.validators import StopValidation, ValidationError

from forms.base import PortalForm, field_name
from portal.inputs import email_address_problem, row_id

# ASCII digits only (re.ASCII: ``\d`` otherwise matches other scripts' digits). Spaces only
# between "£" and the number: spaces either end are taken off first, and none is allowed
# inside the number ("50 00" is not £5,000, nor "1 2.3 4" £12.34).
_MONEY = re.compile(r"^£? *(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$", re.ASCII)


class MoneyError(ValueError):
    pass


def parse_money(text: str) -> int:
    """'5000', '5,000', '£5,000.00', '£ 5000', ' 4999.99 ' -> pence. Refuses negatives, words,
    more than 2 decimals, other scripts' digits and spaces inside the number ('50 00',
    '1 2.3 4', '1,2 34': each was once read as the digits run together)."""
    cleaned = text.strip(" \t\r\n\u00a0\u202f")  # and no-break spaces a spreadsheet adds
    if cleaned.lstrip("£").lstrip(" ").startswith("-"):
        raise MoneyError(str(_l("Amount must be £0 or more")))
    if not _MONEY.match(cleaned):
        raise MoneyError(str(_l("Enter an amount in pounds, like 4750 or 4,750.00")))
    number = cleaned.lstrip("£").lstrip(" ").replace(",", "")
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


def _ascii_email(_form: Any, field: Field) -> None:
    problem = email_address_problem(field.data) if isinstance(field.data, str) else None
    if problem:
        field.errors[:] = []
        raise StopValidation(problem)


def strip_ends(value: Any) -> Any:
    """A field filter: spaces either side taken off (a name of only spaces is no name)."""
    return value.strip() if isinstance(value, str) else value


class EmailAddressField(StringField):
    """An email address as people type or paste it: spaces either side are taken off
    (" name@example.org" is that address, not a refusal); anything but ASCII is refused
    beside the field (``portal.inputs.email_address_problem``: look-alike letters make a
    second account that reads the same, and most mail servers cannot deliver to it), after
    the hidden-character check and before the field's own ``validators`` (required, shape,
    length)."""

    widget = GovTextInput()

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs["filters"] = [strip_ends, *kwargs.get("filters", ())]
        super().__init__(label, [_ascii_email, *(validators or ())], **kwargs)


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


_DAY_OR_MONTH = re.compile(r"[0-9]{1,2}", re.ASCII)
_YEAR = re.compile(r"[1-9][0-9]{3}", re.ASCII)


class DateInput(GovDateInput):
    """govuk-frontend-wtf's date input, its boxes labelled in the reader's language (the
    widget writes "Day", "Month" and "Year" in English; issue 16)."""

    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        params: dict[str, Any] = super().map_gov_params(field, **kwargs)
        for item, label in zip(params.get("items", []), (_l("Day"), _l("Month"), _l("Year")),
                               strict=False):
            if item.get("label") in ("Day", "Month", "Year"):
                item["label"] = str(label)
        return params


class DayMonthYearField(Field):
    """A GOV.UK date input (day, month, year boxes); ``data`` is a date or None when blank."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("widget", DateInput())
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
        label = field_name(self)
        if not all(parts):
            self.data = None
            self.date_error = str(_l("%(label)s must include a day, month and year", label=label))
            return
        try:
            # ASCII digits only: int() takes "１０" and "1_0" too. A year has four digits.
            if not (_DAY_OR_MONTH.fullmatch(parts[0]) and _DAY_OR_MONTH.fullmatch(parts[1])
                    and _YEAR.fullmatch(parts[2])):
                raise ValueError(parts)
            day, month, year = (int(p) for p in parts)
            self.data = date(year, month, day)
        except (ValueError, OverflowError):  # 31 February, or not numbers at all
            self.data = None
            self.date_error = str(_l("%(label)s must be a real date", label=label))

    def _value(self) -> str:
        return ""

    def pre_validate(self, form: Any) -> None:
        if self.date_error:
            raise StopValidation(self.date_error)


_WHOLE = re.compile(r"[0-9]+", re.ASCII)
_GROUPED = re.compile(r"[0-9]{1,3}(,[0-9]{3})+", re.ASCII)


class WholeNumberField(StringField):
    """A whole number typed as a person types it: ASCII digits, spaces either side, and
    with ``grouped`` thousands separated by commas ("1,200"). ``data`` is an int from
    ``low`` to ``high``, or None when blank.

    Refused beside the field, with the field's name: anything else ("５", "1_000", "+5",
    "1e3", "0x10", "5,00,0", "twelve") as not a whole number; a number outside the range
    (40 digits included: the field never makes an int of more digits than ``high`` has)
    as "… must be ``high`` or fewer" / "… ``low`` or more". ``message``, when given, is
    said instead of all three; ``range_message`` instead of the last two."""

    widget = GovTextInput()

    def __init__(self, label: Any = None, validators: Any = None, *, low: int = 0,
                 high: int, grouped: bool = False, message: Any = None,
                 range_message: Any = None, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.low, self.high, self.grouped = low, high, grouped
        self.message, self.range_message = message, range_message or message
        self.number_error: str | None = None

    def process_formdata(self, valuelist: list[str]) -> None:
        self.number_error = None
        self.raw_text = valuelist[0] if valuelist else ""
        text = self.raw_text.strip(" \t\r\n")
        self.data = None
        if not text:
            return
        if self.grouped and _GROUPED.fullmatch(text):
            text = text.replace(",", "")
        if text.startswith("-") and _WHOLE.fullmatch(text[1:]) and text.strip("-0"):
            self.number_error = str(self.range_message or _l(  # a person's minus sign
                "%(label)s must be %(low)s or more", label=field_name(self),
                low=f"{self.low:,}"))
            return
        if not _WHOLE.fullmatch(text):
            self.number_error = str(self.message or _l(
                "%(label)s must be a whole number, like 12", label=field_name(self)))
            return
        digits = text.lstrip("0") or "0"
        if len(digits) > len(str(self.high)) or int(digits) > self.high:
            self.number_error = str(self.range_message or _l(
                "%(label)s must be %(high)s or fewer", label=field_name(self),
                high=f"{self.high:,}"))
        elif int(digits) < self.low:
            self.number_error = str(self.range_message or _l(
                "%(label)s must be %(low)s or more", label=field_name(self),
                low=f"{self.low:,}"))
        else:
            self.data = int(digits)

    def pre_validate(self, form: Any) -> None:
        if self.number_error:
            raise StopValidation(self.number_error)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_text
        return str(self.data) if isinstance(self.data, int) else ""


def record_id(value: Any) -> int | None:
    """A choice's value as a record id: an int (from the code) or the text of one (posted),
    through ``portal.inputs.row_id`` (ASCII digits, within an INTEGER column); else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return row_id(value) if isinstance(value, str) else None


class RecordSelectField(SelectField):
    """A select of records by id; ``data`` is the int id. A posted value that is no id of
    ours ("５", "1_000", 40 digits, words) is refused with ``message`` beside the field, as a
    valid id that is not among the choices is, instead of WTForms' "Invalid Choice: could
    not coerce" or "Not a valid choice"."""

    def __init__(self, label: Any = None, validators: Any = None, *, message: Any,
                 **kwargs: Any) -> None:
        kwargs.setdefault("coerce", record_id)
        super().__init__(label, validators, invalid_value_message=str(message),
                         invalid_choice_message=str(message), **kwargs)
        self.invalid_message = message

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        self.data = record_id(valuelist[0])
        if self.data is None and valuelist[0].strip():
            raise ValueError(str(self.invalid_message))


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


class RowList(FieldList):
    """A list of a fixed number of rows (``rows-0-…`` to ``rows-<n-1>-…``) that keeps every
    posted row in its place.

    WTForms' FieldList numbers its entries from the indexes posted, in order: a post
    without ``rows-0-…`` made ``rows-1`` the first row and added a ``rows-8`` no page
    shows, moving every row (and its errors) up one. Here row ``i`` is always the posted
    ``rows-i-…``; a row not posted is an empty row in its place; indexes beyond the list
    are not read (no page of ours posts them)."""

    def __init__(self, unbound_field: Any, label: Any = None, validators: Any = None, *,
                 rows: int, **kwargs: Any) -> None:
        super().__init__(unbound_field, label, validators, min_entries=rows,
                         max_entries=rows, **kwargs)

    def process(self, formdata: Any, data: Any = unset_value,
                extra_filters: Any = None) -> None:
        if not formdata:
            super().process(formdata, data, extra_filters)
            return
        if extra_filters:
            raise TypeError("RowList does not accept extra filters")
        self.entries: list[Any] = []
        if data is unset_value or not data:
            data = self.default() if callable(self.default) else self.default
        self.object_data = data
        saved = list(data or [])
        for index in range(self.max_entries or 0):
            self._add_entry(formdata, saved[index] if index < len(saved) else unset_value,
                            index=index)


def refresh_list_errors(form: Any) -> None:
    """A FieldList snapshots its rows' errors when validated; take the snapshot again so
    errors added to rows afterwards reach the error summary."""
    for field in form:
        if isinstance(field, FieldList):
            rows = [entry.errors for entry in field]
            field.errors = rows if any(rows) else []
