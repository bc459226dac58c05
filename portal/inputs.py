"""What arrives in a request, before any view reads it.

NUL characters are taken out of every form field and query parameter: no text a person
types contains one, PostgreSQL cannot store one in a text column (the driver raises), and a
value that differs between the two databases is worse than one without it.

A form field whose name numbers a list row in anything but a few ASCII digits
(``rows-²-item``, ``rows-<4,400 digits>-item``) is dropped: no page of ours writes one, and
WTForms reads a row number with ``str.isdigit`` and then ``int``, which fails on both.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.utils import cached_property

# C0 controls but tab, LF and CR; DEL and the C1 controls; the bidi embeddings, overrides
# and isolates (U+202A-U+202E, U+2066-U+2069).
_UNUSABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def unusable_characters(text: str) -> bool:
    """True when ``text`` holds a character no one types: a control character other than
    tab, carriage return and line feed (NUL included), or a bidirectional embedding, override
    or isolate. They arrive pasted from another program or forged; PostgreSQL cannot store
    NUL; a bidi override makes text read differently from what it holds ("Trojan Source",
    CVE-2021-42574). Every form's text field (``forms.base``) and every command that takes
    text (``portal.cli``) refuses them."""
    return bool(_UNUSABLE.search(text))


def _without_nul(values: MultiDict[str, Any]) -> ImmutableMultiDict[str, Any]:
    return ImmutableMultiDict(
        (key.replace("\x00", ""), value.replace("\x00", "") if isinstance(value, str) else value)
        for key, value in values.items(multi=True) if _plain_row_numbers(key))


def _plain_row_numbers(key: str) -> bool:
    """False for a field name with a numeric part that is not 1 to 10 ASCII digits (an id)."""
    return all(part.isascii() and len(part) <= 10
               for part in key.split("-") if part.isdigit())


class PortalRequest(Request):
    #: Names of the posted fields whose value held NUL, which forms refuse (``forms.base``).
    fields_with_nul: frozenset[str] = frozenset()

    def _load_form_data(self) -> None:
        super()._load_form_data()
        posted = self.__dict__["form"]
        self.fields_with_nul = frozenset(
            key for key, value in posted.items(multi=True)
            if isinstance(value, str) and "\x00" in value)
        self.__dict__["form"] = _without_nul(posted)

    @cached_property
    def args(self) -> ImmutableMultiDict[str, str]:
        return _without_nul(super().args)


LARGEST_ROW_ID = 2_147_483_647  # an INTEGER key (the <int:…> converter's upper bound too)


def row_id(text: str | None) -> int | None:
    """A record id or version number posted in a form field: plain ASCII digits from 1 to
    2,147,483,647 (the range of an INTEGER column), else None. ``"²"`` passes ``str.isdigit``
    and breaks ``int``; an id beyond the column's range breaks the database: neither gets
    through."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= LARGEST_ROW_ID else None


def whole_number(text: str | None, *, digits: int = 10) -> int | None:
    """A whole number typed or posted as plain ASCII digits (spaces either side allowed),
    at most ``digits`` of them, else None. ``int()`` alone takes "５", "٥", "1_000", "+5" and
    " 5\\n" and any number of digits; none of those is what a page of ours sends."""
    text = (text or "").strip(" \t\r\n")
    if not re.fullmatch(rf"[0-9]{{1,{digits}}}", text, flags=re.ASCII):
        return None
    return int(text)
