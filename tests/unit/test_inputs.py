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
