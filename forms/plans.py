"""Forms of the grants manager's Police and Crime Plan (issue 18): a plan's title, years and
date, a section's code and names, moving and removing a section.

Each field's own checks are here (required, length, the code's shape, ASCII digits); the
service checks them again with what needs the database (another plan's date, codes and
names unique in the plan, a section in use)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, Field, RadioField, StringField, SubmitField
from wtforms.validators import Regexp, StopValidation

from forms.base import PortalForm
from forms.fields import DayMonthYearField, WholeNumberField, max_length
from forms.setup import Required, _required_text, _welsh_text

# The financial years a plan may cover (``portal.services.plans.FIRST_YEAR``/``LAST_YEAR``,
# which the service checks; forms do not import services).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _code(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _year(label: Any, message: Any) -> WholeNumberField:
    return WholeNumberField(label, low=FIRST_YEAR, high=LAST_YEAR,
                            description=_l("The year it starts: 2025 for 2025/26."),
                            message=_l("%(label)s must be a year from 2000 to 2100, like 2025",
                                       label=label),
                            validators=[Required(message)])


class PlanForm(PortalForm):
    title = _required_text(_l("Title of the plan"), 200, _l("Enter the title of the plan"),
                           _l("For example, Police and Crime Plan 2021 to 2024"))
    title_cy = _welsh_text(_l("Title of the plan in Welsh (optional)"),
                           _l("Title of the plan in Welsh"), 200)
    first_year = _year(_l("First financial year"), _l("Enter the first financial year"))
    last_year = _year(_l("Last financial year"), _l("Enter the last financial year"))
    in_force_from = DayMonthYearField(
        _l("In force from"),
        description=_l("The date from which it replaces the plan before. For example, "
                       "1 4 2025"),
        validators=[Required(_l("Enter the date the plan is in force from"))])
    submit = SubmitField(_l("Save plan"), widget=GovSubmitInput())


class NewPlanForm(PlanForm):
    copy_sections = BooleanField(_l("Start with the sections of the plan before (their codes "
                                    "and names), to change as this plan needs"),
                                 widget=GovCheckboxInput())
    submit = SubmitField(_l("Create plan"), widget=GovSubmitInput())


class PlanSectionForm(PortalForm):
    code = StringField(
        _l("Code"), widget=GovTextInput(), filters=[_code],
        description=_l("1 to 20 letters, numbers or hyphens, like PCF. Shown in the board’s "
                       "list of grants and in open data."),
        validators=[Required(_l("Enter the section’s code")),
                    max_length(20, _l("Code")),
                    Regexp(r"^[A-Za-z0-9-]{1,20}$", message=_l(
                        "Code must be 1 to 20 letters, numbers or hyphens, like PCF"))])
    name = _required_text(_l("Name"), 200, _l("Enter the section’s name"),
                          _l("For example, Putting Communities First"))
    name_cy = _welsh_text(_l("Name in Welsh (optional)"), _l("Name in Welsh"), 200)
    submit = SubmitField(_l("Save section"), widget=GovSubmitInput())


class PlanMoveForm(PortalForm):
    """The plan page's Move up and Move down buttons: ``move`` is the button's value,
    ``<section id>:<place>`` (0 is first), read by the view with ``portal.inputs``."""

    move = StringField(validators=[max_length(30, "move")])


YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]


class PlanSectionRemoveForm(PortalForm):
    confirm = RadioField(_l("Are you sure?"), widget=GovRadioInput(), choices=YES_NO,
                         invalid_choice_message=_l("Select yes to remove it, or no to keep it"))
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())

    def validate_confirm(self, field: Field) -> None:
        if not field.data:
            raise StopValidation(str(_l("Select yes to remove it, or no to keep it")))
