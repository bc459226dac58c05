"""Money typed the ways people type it, refused the ways it should be."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import Babel

from forms.fields import MoneyError, parse_money, pence_to_text


@pytest.fixture(autouse=True)
def _babel():
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        yield


@pytest.mark.parametrize("typed, pence", [
    ("5000", 500000), ("5,000", 500000), ("£5,000.00", 500000), ("4999.99", 499999),
    ("£4,750", 475000), (" 12.5 ", 1250), ("0.01", 1), ("1,013.70", 101370),
])
def test_accepted_amounts(typed, pence):
    assert parse_money(typed) == pence


@pytest.mark.parametrize("typed, message", [
    ("-5", "£0 or more"), ("£-5", "£0 or more"), ("12.345", "2 decimal places"),
    ("five thousand", "Enter an amount in pounds"), ("5,00", "Enter an amount in pounds"),
    ("1e3", "Enter an amount in pounds"), ("£", "Enter an amount in pounds"),
    ("5.000.00", "Enter an amount in pounds"), ("NaN", "Enter an amount in pounds"),
])
def test_refused_amounts(typed, message):
    with pytest.raises(MoneyError, match=message):
        parse_money(typed)


def test_amounts_round_trip_as_text():
    assert pence_to_text(475000) == "4,750.00"
    assert parse_money(pence_to_text(101370)) == 101370


@pytest.mark.parametrize("text", ["100\u00a0", "\u00a0100", "\u202f100\u202f"])
def test_no_break_spaces_at_the_ends_are_taken_off_as_spaces_are(text):
    """Copied from a spreadsheet, a number often ends with a no-break space."""
    assert parse_money(text) == 10000
