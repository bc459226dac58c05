"""Money in pence and dates shown the en_GB way (or the user's locale) through Babel."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask
from flask_babel import format_currency, format_date, format_datetime, format_time
from flask_babel import gettext as _


def pence_to_pounds(pence: int) -> Decimal:
    return (Decimal(pence) / 100).quantize(Decimal("0.01"))


def money(pence: int | None) -> str:
    """1234567 -> '£12,345.67'."""
    if pence is None:
        return ""
    return format_currency(pence_to_pounds(pence), "GBP")


def long_date(value: date | datetime | None) -> str:
    """'12 June 2025' (in UK time for datetimes)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "d MMMM y")
    return format_date(value, "d MMMM y")


def date_time(value: datetime | None) -> str:
    """'12 June 2025 at 5:00pm' in UK time, as GOV.UK writes times."""
    if value is None:
        return ""
    day = format_datetime(value, "d MMMM y")
    hour = format_time(value, "h:mma").lower()
    if hour == "12:00am":
        return _("%(day)s at midnight", day=day)
    if hour == "12:00pm":
        return _("%(day)s at midday", day=day)
    return _("%(day)s at %(time)s", day=day, time=hour)


def init_app(app: Flask) -> None:
    app.add_template_filter(money)
    app.add_template_filter(long_date, "date")
    app.add_template_filter(date_time, "datetime")
