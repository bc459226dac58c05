from typing import Any

from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, RadioField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, InputRequired

from forms.auth import LANGUAGE_CHOICES
from forms.base import PortalForm
from forms.fields import EmailAddressField, RecordSelectField, max_length, strip_ends

ROLE_CHOICES = [
    ("officer", _l("CSP officer")),
    ("assessor", _l("Assessor")),
    ("manager", _l("Grants manager")),
    ("finance", _l("Finance officer")),
    ("admin", _l("Administrator")),
]


UNKNOWN_LANGUAGE = "both"  # the invitee's language is not known: emails in Welsh and English


class UserSearchForm(PortalForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(_l("Search by name or email"), widget=GovTextInput(),
                    validators=[max_length(100, _l("Search"))])


class OptionsSelect(GovSelect):
    """GOV.UK's select whose options carry their choice's attributes (a choice's third part,
    as WTForms takes it: ``(value, label, {"lang": "en"})`` for an English name shown to a
    Welsh reader), which govuk-frontend-wtf's widget leaves out."""

    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        params: dict[str, Any] = super().map_gov_params(field, **kwargs)
        for item, (_value, _label, _selected, attributes) in zip(
                params.get("items", []), field.iter_choices(), strict=False):
            if attributes:
                item["attributes"] = dict(attributes)
        return params


class _RolesMixin:
    organisation = RecordSelectField(_l("Organisation"), widget=OptionsSelect(),
                                     message=_l("Select an organisation from the list"),
                                     validators=[InputRequired(_l("Select an organisation"))])
    roles = SelectMultipleField(
        _l("Roles"), widget=GovCheckboxesInput(), choices=ROLE_CHOICES,
        description=_l("Select all that apply. Partnership users can only be CSP officers."),
        invalid_choice_message=_l("Select roles from the list"),
        validators=[InputRequired(_l("Select at least one role"))],
    )


class InviteUserForm(_RolesMixin, PortalForm):
    name = StringField(_l("Full name"), widget=GovTextInput(), filters=[strip_ends],
                       validators=[DataRequired(_l("Enter the user's full name")),
                                   max_length(200, _l("Full name"))])
    email = EmailAddressField(
        _l("Email address"),
        validators=[InputRequired(_l("Enter the user's email address")),
                    Email(_l("Enter an email address in the correct format, like "
                             "name@example.org")), max_length(254, _l("Email address"))],
    )
    language = RadioField(
        _l("Language of their emails"), widget=GovRadioInput(), default=UNKNOWN_LANGUAGE,
        choices=[(UNKNOWN_LANGUAGE, _l("Not known: Welsh and English in each email")),
                 *LANGUAGE_CHOICES],
        description=_l("They can change it once they have signed in."),
        invalid_choice_message=_l("Select the language of their emails from the list"),
    )
    submit = SubmitField(_l("Send invitation"), widget=GovSubmitInput())


class EditUserForm(_RolesMixin, PortalForm):
    active = BooleanField(_l("Account is active"), widget=GovCheckboxInput())
    submit = SubmitField(_l("Save changes"), widget=GovSubmitInput())


class OrganisationForm(PortalForm):
    name_cy = StringField(
        _l("Welsh name (optional)"), widget=GovTextInput(),
        description=_l("Shown instead of the English name to people who use the service in "
                       "Welsh, and in emails and letters written in Welsh."),
        validators=[max_length(200, _l("Welsh name"))],
    )
    language = RadioField(
        _l("Language"), widget=GovRadioInput(),
        choices=LANGUAGE_CHOICES,
        description=_l("The language the partnership works in. Its offer letters are written "
                       "in it."),
        validators=[InputRequired(_l("Select the language the partnership works in"))],
        invalid_choice_message=_l("Select the language the partnership works in"),
    )
    submit = SubmitField(_l("Save changes"), widget=GovSubmitInput())
