"""The base of every form of the portal: ``PortalForm`` (a page's form, with CSRF) and
``RowForm`` (a row of a list inside one).

Every text field of every form is checked here, in one place, before its own validators:
a control character (anything but tab, carriage return and line feed) or a bidirectional
override is refused with an error beside the field. No one types them; they arrive pasted
from another program or forged, PostgreSQL cannot store NUL at all, and a bidi override
makes a title read differently from what it holds (the "Trojan Source" trick,
CVE-2021-42574). NUL is taken out of the request before any form reads it
(``portal.inputs``), which notes the fields it came in, so they are refused here too.

Every field that takes text from the request gets the check, not only text boxes: a radio,
select, checkbox or hidden field posted with a forged value is refused the same way, with
words that do not ask for text to be retyped (a file field's upload is not text). Every
choice field gets messages naming it, instead of WTForms' "Not a valid choice" and "Invalid
Choice: could not coerce", which a forged post would otherwise meet. A checkbox takes only
its own value ("y") or nothing: WTForms would read ``confirm=n`` as selected.

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
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    FileField,
    Form,
    FormField,
    HiddenField,
    SubmitField,
)
from wtforms.fields.choices import SelectFieldBase
from wtforms.meta import DefaultMeta
from wtforms.validators import StopValidation

from portal.inputs import unusable_characters

__all__ = ["PortalForm", "RowForm", "field_name", "plain_text", "unusable_characters"]


def field_name(field: Field) -> str:
    """A field's label as the subject of an error message: "Title", not "Title (optional)"."""
    text = str(field.label.text) if field.label else field.name
    return re.sub(r"\s*\((optional|dewisol)\)\s*$", "", text, flags=re.IGNORECASE)


def _forged_message(field: Field) -> str | None:
    """What to say when a field no one types in (a hidden field, a checkbox, radios, a
    select) was sent something its page never sends: not "retype the text", and not a
    checkbox's whole sentence as a name. None for a field people type in."""
    if isinstance(field, HiddenField):
        return str(_l("The form was changed: reload the page and try again"))
    if isinstance(field, BooleanField):
        return str(_l("The form was changed: select this box again if it applies"))
    if isinstance(field, SelectFieldBase):
        return str(_l("Select one of the options shown for %(label)s", label=field_name(field)))
    return None


def plain_text(_form: Any, field: Field) -> None:
    """Refuses a field holding a control character, bidi override or invisible character
    (``portal.inputs.unusable_characters``), or whose posted value held NUL (taken out by
    ``portal.inputs`` before the form read it). Words for a text field ("… must not contain
    hidden control characters"); for a hidden field, checkbox, radios or select, which
    only a forged post gets wrong, a message that does not ask for text to be retyped."""
    values = field.raw_data or []
    posted_nul = field.name in getattr(request, "fields_with_nul", ())
    if posted_nul or any(isinstance(v, str) and unusable_characters(v) for v in values):
        field.errors[:] = []
        raise StopValidation(_forged_message(field) or str(_l(
            "%(label)s must not contain hidden control characters: retype the text instead "
            "of pasting it", label=field_name(field))))


#: What a checkbox of ours sends when it is selected (WTForms' BooleanField renders
#: ``value="y"``); nothing at all when it is not.
CHECKED = "y"


def checkbox_value(_form: Any, field: Field) -> None:
    """Refuses a checkbox sent anything but its own value or nothing. WTForms' BooleanField
    takes every value but "false" and "" as selected, so a forged ``confirm=n`` accepted an
    offer and ``is_youth=maybe`` made a youth fund. The box is shown again not selected, with
    its own value, for the person to select it if they mean to. (It runs before
    ``plain_text``, which a value with a hidden character would otherwise meet first.)"""
    values = field.raw_data or []
    posted_nul = field.name in getattr(request, "fields_with_nul", ())
    if posted_nul or (values and values[0] not in (CHECKED, "")):
        field.data = False
        field.raw_data = []
        field.errors[:] = []
        raise StopValidation(_forged_message(field) or "")


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
        if isinstance(field, BooleanField) and not isinstance(field, SubmitField):
            # (A SubmitField is a BooleanField too: a button sends its own words.)
            field.validators = [checkbox_value, plain_text, *field.validators]
        elif not isinstance(field, _NOT_TEXT):
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
