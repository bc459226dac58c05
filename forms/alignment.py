"""The sections of the Police and Crime Plan a bid supports (issue 18): the officer's
checkboxes. The sections offered are the view's (the plan in force and the bid's own)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovSubmitInput
from wtforms import SelectMultipleField, SubmitField

from forms.base import PortalForm
from forms.fields import record_id


class PlanSectionsForm(PortalForm):
    # Ids through ``record_id`` (ASCII digits within an INTEGER column): anything else, and
    # an id not offered, is refused beside the boxes.
    plan_sections = SelectMultipleField(
        _l("Select the sections of the Police and Crime Plan your bid supports"),
        widget=GovCheckboxesInput(), coerce=record_id, choices=[],
        description=_l("Select all that apply."),
        invalid_choice_message=_l("Select sections of the Police and Crime Plan from the list"))
    submit = SubmitField(_l("Save and continue"), widget=GovSubmitInput())
