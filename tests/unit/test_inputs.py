"""Ids and versions posted in forms: only plain digits in an INTEGER column's range."""

from __future__ import annotations

import pytest

from portal.inputs import LARGEST_ROW_ID, row_id


@pytest.mark.parametrize(("text", "expected"), [
    ("1", 1), (" 42 ", 42), (str(LARGEST_ROW_ID), LARGEST_ROW_ID),
    ("0", None), ("-1", None), (str(LARGEST_ROW_ID + 1), None), ("9" * 40, None),
    ("²", None), ("٣", None), ("５", None), ("1e3", None), ("1_000", None), ("", None),
    (None, None), ("abc", None),
])
def test_row_id(text, expected):
    assert row_id(text) == expected


@pytest.mark.parametrize("character", [
    "\x00", "\x01", "\x1b", "\x7f", "\x85", "\u202e", "\u2066",  # controls, bidi
    "\u200b", "\ufeff", "\u2028", "\u2029", "\u200e", "\u200f", "\u061c",  # issue 13, again
    "\u2060", "\u2061", "\u2062", "\u2063", "\u2064", "\u180e",
    # Every other format character, and letters and marks that show as nothing (a third
    # attack): soft hyphen, grapheme joiner, Hangul fillers, deprecated format, annotation,
    # a tag, musical formatting.
    "\u00ad", "\u034f", "\u115f", "\u1160", "\u2800", "\u3164", "\uffa0", "\u206f", "\ufff9",
    "\U000e0041", "\U0001d173"])
def test_unusable_characters_are_found_anywhere_in_the_text(character):
    from portal.inputs import unusable_characters

    for text in (f"a{character}b", character, f"{character}ab", f"ab{character}"):
        assert unusable_characters(text), repr(text)


@pytest.mark.parametrize("text", [
    "Tab\tand\r\nnew lines", "Café, Ysgol Gymraeg, naïve", "\u0645\u0631\u062d\u0628\u0627",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # an emoji family: ZWJ kept
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"])  # Persian: ZWNJ kept
def test_what_people_type_is_usable(text):
    from portal.inputs import unusable_characters

    assert not unusable_characters(text)


@pytest.mark.parametrize(("address", "refused"), [
    ("manager@example.org", False), ("first.last+grants@sub.example.org", False),
    ("\uff4danager@example.org", True), ("m\u0430nager@example.org", True),
    ("\u212aate@example.org", True), ("jos\u00e9@example.org", True)])
def test_email_addresses_are_ascii(address, refused):
    from flask import Flask
    from flask_babel import Babel

    from portal.inputs import email_address_problem

    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        assert bool(email_address_problem(address)) == refused
