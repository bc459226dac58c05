
from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.wtforms_widgets import (
    GovPasswordInput,
    GovRadioInput,
    GovSubmitInput,
)
from markupsafe import Markup
from wtforms import PasswordField, RadioField, SubmitField
from wtforms.validators import Email, EqualTo, InputRequired

from forms.base import PortalForm
from forms.fields import EmailAddressField, max_length


class SignInForm(PortalForm):
    email = EmailAddressField(
        _l("Email address"),
        validators=[InputRequired(_l("Enter your email address")),
                    max_length(254, _l("Email address"))],
    )
    password = PasswordField(
        _l("Password"), widget=GovPasswordInput(),
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
        _l("New password"), widget=GovPasswordInput(),
        description=_l("At least 12 characters. Three or four unrelated words work well."),
        validators=[InputRequired(_l("Enter a new password")),
                    max_length(256, _l("New password"))],
    )
    confirm = PasswordField(
        _l("Confirm new password"), widget=GovPasswordInput(),
        validators=[InputRequired(_l("Confirm your new password")),
                    EqualTo("password", _l("Passwords must match"))],
    )
    submit = SubmitField(_l("Save password"), widget=GovSubmitInput())


class SignOutForm(PortalForm):
    submit = SubmitField(_l("Sign out"), widget=GovSubmitInput())


# Each language by its own name, marked with its own lang so that a screen reader says
# "English" in English and "Cymraeg" in Welsh on a page in either (WCAG 2.2, 3.1.2).
LANGUAGE_CHOICES = [("en", Markup('<span lang="en">English</span>')),
                    ("cy", Markup('<span lang="cy">Cymraeg</span>'))]


class LanguageForm(PortalForm):
    language = RadioField(
        _l("Language"), widget=GovRadioInput(),
        choices=LANGUAGE_CHOICES,
        validators=[InputRequired(_l("Select a language"))],
    )
    submit = SubmitField(_l("Save"), widget=GovSubmitInput())
