"""The base of every form of the portal: ``PortalForm`` (a page's form, with CSRF) and
``RowForm`` (a row of a list inside one).

Every text field of every form is checked here, in one place, before its own validators:
a control character (anything but tab, carriage return and line feed) or a bidirectional
override is refused with an error beside the field. No one types them; they arrive pasted
from another program or forged, PostgreSQL cannot store NUL at all, and a bidi override
makes a title read differently from what it holds (the "Trojan Source" trick,
CVE-2021-42574). NUL is taken out of the request before any form reads it
(``portal.inputs``), which notes the fields it came in, so they are refused here too.

Every field that takes text from the request gets the check, not only text boxes: a radio
or select posted with a forged value is refused the same way (a file field's upload is not
text). Every choice field gets messages naming it, instead of WTForms' "Not a valid choice"
and "Invalid Choice: could not coerce", which a forged post would otherwise meet.

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
from wtforms import Field, FieldList, FileField, Form, FormField, SubmitField
from wtforms.fields.choices import SelectFieldBase
from wtforms.meta import DefaultMeta
from wtforms.validators import StopValidation

from portal.inputs import unusable_characters

__all__ = ["PortalForm", "RowForm", "field_name", "plain_text", "unusable_characters"]


def field_name(field: Field) -> str:
    """A field's label as the subject of an error message: "Title", not "Title (optional)"."""
    text = str(field.label.text) if field.label else field.name
    return re.sub(r"\s*\((optional|dewisol)\)\s*$", "", text, flags=re.IGNORECASE)


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


def _choice_messages(field: SelectFieldBase) -> None:
    """Messages naming the field for a value not among its choices, or not of its kind (an
    id that is not a number): only a forged or stale post meets them."""
    name = field_name(field)
    if getattr(field, "invalid_choice_message", "") is None:
        field.invalid_choice_message = str(_l(
            "Select one of the options shown for %(label)s", label=name))
    if getattr(field, "invalid_value_message", "") is None:
        field.invalid_value_message = str(_l(
            "Select one of the options shown for %(label)s", label=name))


# Fields holding no text of their own: an upload, a button, and lists of rows (whose
# rows' fields are checked).
_NOT_TEXT = (FileField, SubmitField, FieldList, FormField)


class _PlainTextMeta(DefaultMeta):
    def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
        field = super().bind_field(form, unbound_field, options)
        if not isinstance(field, _NOT_TEXT):
            field.validators = [plain_text, *field.validators]
        if isinstance(field, SelectFieldBase):
            _choice_messages(field)
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
