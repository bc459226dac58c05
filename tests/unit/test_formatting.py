"""Money in pence shown as pounds, and dates as GOV.UK writes them, through Babel."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from flask import Flask
from flask_babel import Babel, force_locale

from portal import formatting


@pytest.fixture
def babel_app():
    app = Flask(__name__)
    app.config["BABEL_DEFAULT_LOCALE"] = "en_GB"
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Europe/London"
    Babel(app)
    with app.test_request_context():
        yield app


@pytest.mark.parametrize("pence, shown", [
    (500000, "£5,000.00"),
    (475000, "£4,750.00"),
    (101370, "£1,013.70"),
    (1, "£0.01"),
    (0, "£0.00"),
    (19000000, "£190,000.00"),
])
def test_pence_are_shown_as_pounds(babel_app, pence, shown):
    assert formatting.money(pence) == shown


def test_money_never_goes_through_a_float():
    assert formatting.pence_to_pounds(10000000000000001) == \
        __import__("decimal").Decimal("100000000000000.01")


def test_dates_are_shown_as_day_month_year(babel_app):
    assert formatting.long_date(date(2025, 6, 12)) == "12 June 2025"


def test_times_are_shown_in_uk_time(babel_app):
    # 11:00 UTC in June is midday in London (British Summer Time).
    assert formatting.date_time(datetime(2025, 6, 12, 11, 0, tzinfo=timezone.utc)) == \
        "12 June 2025 at midday"
    assert formatting.date_time(datetime(2025, 1, 31, 17, 30, tzinfo=timezone.utc)) == \
        "31 January 2025 at 5:30pm"


def test_welsh_dates_use_welsh_month_names(babel_app):
    with force_locale("cy"):
        assert formatting.long_date(date(2025, 6, 12)) == "12 Mehefin 2025"
