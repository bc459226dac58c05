"""The base of every form of the portal: ``PortalForm`` (a page's form, with CSRF) and
``RowForm`` (a row of a list inside one).

Every text field of every form is checked here, in one place, before its own validators:
a control character (anything but tab, carriage return and line feed) or a bidirectional
override is refused with an error beside the field. No one types them; they arrive pasted
from another program or forged, PostgreSQL cannot store NUL at all, and a bidi override
makes a title read differently from what it holds (the "Trojan Source" trick,
CVE-2021-42574). NUL is taken out of the request before any form reads it
(``portal.inputs``), which notes the fields it came in, so they are refused here too.

A form built on a GET with no data of its own takes the data of ``g.kept_formdata`` when a
request hook has put some there: what a person typed before their session ended, shown
again after they sign in (``portal.security``).
"""

from __future__ import annotations

import re
from typing import Any

from flask import g, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, Form, StringField
from wtforms.meta import DefaultMeta
from wtforms.validators import StopValidation

# C0 controls but tab, LF and CR; DEL and the C1 controls; the bidi embeddings, overrides
# and isolates (U+202A-U+202E, U+2066-U+2069).
_UNUSABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def field_name(field: Field) -> str:
    """A field's label as the subject of an error message: "Title", not "Title (optional)"."""
    text = str(field.label.text) if field.label else field.name
    return re.sub(r"\s*\((optional|dewisol)\)\s*$", "", text, flags=re.IGNORECASE)


def unusable_characters(text: str) -> bool:
    """True when ``text`` holds a character no one types (see the module's docstring)."""
    return bool(_UNUSABLE.search(text))


def plain_text(_form: Any, field: Field) -> None:
    """Refuses a text field holding a control character or bidi override, or whose posted
    value held NUL (taken out by ``portal.inputs`` before the form read it)."""
    values = field.raw_data or []
    posted_nul = field.name in getattr(request, "fields_with_nul", ())
    if posted_nul or any(isinstance(v, str) and unusable_characters(v) for v in values):
        field.errors[:] = []
        raise StopValidation(str(_l(
            "%(label)s must not contain hidden control characters: retype the text instead "
            "of pasting it", label=field_name(field))))


class _PlainTextMeta(DefaultMeta):
    def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
        field = super().bind_field(form, unbound_field, options)
        if isinstance(field, StringField):
            field.validators = [plain_text, *field.validators]
        return field


class RowForm(Form):
    """A row of a list inside a page's form (``FieldList(FormField(...))``)."""

    class Meta(_PlainTextMeta):
        pass


class PortalForm(FlaskForm):
    """A page's form: CSRF-protected, its text fields checked (see the module's docstring)."""

    class Meta(_PlainTextMeta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            wrapped = super().wrap_formdata(form, formdata)
            if wrapped is None and request.method == "GET":
                return g.get("kept_formdata")
            return wrapped
