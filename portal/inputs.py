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
import unicodedata
from typing import Any

from flask import Request
from flask_babel import gettext
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.utils import cached_property

# C0 controls but tab, LF and CR; DEL and the C1 controls; the bidi embeddings, overrides
# and isolates (U+202A-U+202E, U+2066-U+2069) and marks (U+200E, U+200F, U+061C); the
# invisible ones: zero-width space (U+200B), word joiner and invisible operators
# (U+2060-U+2064), byte order mark / zero-width no-break space (U+FEFF), Mongolian vowel
# separator (U+180E); the line and paragraph separators (U+2028, U+2029), which break lines
# in some programs and not in others. Zero-width (non-)joiners (U+200C, U+200D) are kept:
# Persian, Indic scripts and emoji sequences need them.
_UNUSABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u180e\u200b\u200e\u200f"
    "\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


# Every other format character (Unicode's category Cf: soft hyphen, tags, interlinear
# annotation, musical formatting...) is refused too, but the zero-width non-joiner and joiner,
# which Persian words and emoji sequences need; and the Hangul fillers and the combining
# grapheme joiner, letters or marks that show as nothing; and the blank braille pattern
# (U+2800), which shows as a space but is not one (a name of it looks empty).
_JOINERS = {"\u200c", "\u200d"}
_BLANK_LETTERS = {"\u034f", "\u115f", "\u1160", "\u2800", "\u3164", "\uffa0"}


def unusable_characters(text: str) -> bool:
    """True when ``text`` holds a character no one types: a control character other than
    tab, carriage return and line feed (NUL included), a bidirectional embedding, override,
    isolate or mark, an invisible character (zero-width space, word joiner, byte order mark
    and the like) or a line or paragraph separator (the full list is ``_UNUSABLE``). They
    arrive pasted from another program or forged; PostgreSQL cannot store NUL; a bidi
    override makes text read differently from what it holds ("Trojan Source",
    CVE-2021-42574); an invisible character makes two titles or names that look the same
    differ. Every form's field (``forms.base``) and every command that takes text
    (``portal.cli``) refuses them."""
    if _UNUSABLE.search(text):
        return True
    return not text.isascii() and any(
        (unicodedata.category(c) == "Cf" and c not in _JOINERS) or c in _BLANK_LETTERS
        for c in text)


def email_address_problem(text: str) -> str | None:
    """Why an email address (spaces either side already taken off) cannot be used, or None:
    it holds something other than ASCII. Staff and partnership addresses of a UK public
    service are ASCII; a non-ASCII one is either a look-alike of another ("ｍanager@…" with
    a full-width m, "mаnager@…" with a Cyrillic a, which would make a second account that
    reads the same) or one most mail servers cannot deliver to (a non-ASCII ``To:`` needs
    SMTPUTF8). Every email field (``forms.fields.EmailAddressField``) and
    ``accounts.create_user`` (invitations and the ``create-user`` command) refuse it with
    this message."""
    if text.isascii():
        return None
    return gettext("Email address must contain only the letters a to z, numbers and symbols "
                   "such as . - _ @: type it again without accented or look-alike letters")


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
