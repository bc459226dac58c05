from typing import Any

from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.wtforms_widgets import (
    GovPasswordInput,
    GovRadioInput,
    GovSubmitInput,
)
from wtforms import PasswordField, RadioField, SubmitField
from wtforms.validators import Email, EqualTo, InputRequired

from forms.base import PortalForm
from forms.fields import EmailAddressField, max_length


class PasswordInput(GovPasswordInput):
    """GOV.UK's password input, its show/hide button and what it announces in the reader's
    language (the component's defaults are English; issue 16)."""

    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        params = super().map_gov_params(field, **kwargs)
        for option, words in (
                ("showPasswordText", _l("Show")),
                ("hidePasswordText", _l("Hide")),
                ("showPasswordAriaLabelText", _l("Show password")),
                ("hidePasswordAriaLabelText", _l("Hide password")),
                ("passwordShownAnnouncementText", _l("Your password is visible")),
                ("passwordHiddenAnnouncementText", _l("Your password is hidden"))):
            params.setdefault(option, str(words))
        return params


class SignInForm(PortalForm):
    email = EmailAddressField(
        _l("Email address"),
        validators=[InputRequired(_l("Enter your email address")),
                    max_length(254, _l("Email address"))],
    )
    password = PasswordField(
        _l("Password"), widget=PasswordInput(),
        validators=[InputRequired(_l("Enter your password")),
                    max_length(256, _l("Password"))],
    )
    submit = SubmitField(_l("Sign in"), widget=GovSubmitInput())


class ResetRequestForm(PortalForm):
    email = EmailAddressField(
        _l("Email address"),
        validators=[InputRequired(_l("Enter your email address")),
                    Email(_l("Enter an email address in the correct format, like "
                             "name@example.org")), max_length(254, _l("Email address"))],
    )
    submit = SubmitField(_l("Send reset link"), widget=GovSubmitInput())


class NewPasswordForm(PortalForm):
    password = PasswordField(
        _l("New password"), widget=PasswordInput(),
        description=_l("At least 12 characters. Three or four unrelated words work well."),
        validators=[InputRequired(_l("Enter a new password")),
                    max_length(256, _l("New password"))],
    )
    confirm = PasswordField(
        _l("Confirm new password"), widget=PasswordInput(),
        validators=[InputRequired(_l("Confirm your new password")),
                    EqualTo("password", _l("Passwords must match"))],
    )
    submit = SubmitField(_l("Save password"), widget=GovSubmitInput())


class SignOutForm(PortalForm):
    submit = SubmitField(_l("Sign out"), widget=GovSubmitInput())


class LanguageForm(PortalForm):
    language = RadioField(
        _l("Language"), widget=GovRadioInput(),
        choices=[("en", "English"), ("cy", "Cymraeg")],
        validators=[InputRequired(_l("Select a language"))],
    )
    submit = SubmitField(_l("Save"), widget=GovSubmitInput())
