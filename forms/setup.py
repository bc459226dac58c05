"""Forms of the grants manager's set-up: funds, rounds and the criteria bids are scored on."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.wtforms_widgets import (  # noqa: I001
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    FormField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import Regexp, StopValidation

from forms.admin import OptionsSelect
from forms.base import PortalForm, RowForm, field_name
from forms.fields import (
    DayMonthYearField,
    MoneyField,
    RecordSelectField,
    RowList,
    WholeNumberField,
    max_length,
    refresh_list_errors,
)

PAYMENT_RULES = [
    ("advance", _l("In full, in advance, when the offer is accepted")),
    ("arrears", _l("In arrears, when a monitoring return is accepted")),
    ("instalments", _l("In instalments")),
]
RETURN_CADENCES = [
    ("six_monthly", _l("Every six months (April to September, October to March)")),
    ("quarterly", _l("Every quarter")),
    ("annual", _l("Once a year")),
    ("final_only", _l("A final return only")),
]
ORGANISATION_TYPES = [
    ("csp", _l("Community Safety Partnerships")),
    ("opcc", _l("The OPCC itself")),
]
CRITERION_ROWS = 8
SCALE_ROWS = 6

# ASCII digits only (re.ASCII): "１７:００" is not a time anyone here types. Spaces only
# before "am" or "pm" ("5 pm"): "1 7:00" is not 17:00.
_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))? *(am|pm)?$", re.IGNORECASE | re.ASCII)


class Required:
    """Something must be entered: spaces alone are nothing. Adds no HTML ``required``
    attribute (GOV.UK forms validate on the server; a date input's wrapper cannot take it)."""

    def __init__(self, message: Any) -> None:
        self.message = message
        self.field_flags: dict[str, bool] = {}

    def __call__(self, form: Any, field: Any) -> None:
        data = field.data
        if data is None or data == [] or (isinstance(data, str) and not data.strip()):
            field.errors[:] = []
            raise StopValidation(str(self.message))


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    """A code in capitals, only when it is ASCII: ``str.upper`` makes "straße" "STRASSE" and
    "ıd" "ID", which the code's pattern would then take. Anything else is left as typed for
    the pattern to refuse."""
    if not isinstance(value, str):
        return value
    value = value.strip()
    return value.upper() if value.isascii() else value


def parse_time(text: str) -> time:
    """'17:00', '9:30', '9.30am', '5 pm' -> a time. ValueError if it is not a real time, or
    has spaces inside the number ('1 7:00', '9 :30')."""
    match = _TIME.match(text.strip(" \t\r\n"))
    if match is None:
        raise ValueError(text)
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = (match.group(3) or "").lower()
    if suffix:
        if not 1 <= hour <= 12:
            raise ValueError(text)
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    return time(hour, minute)  # refuses 24:00 and 9:75


class TimeOfDayField(StringField):
    """A time typed as people type it (17:00, 9:30am, 5pm); ``data`` is a time or None."""

    widget = GovTextInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.time_error: str | None = None

    def process_formdata(self, valuelist: list[str]) -> None:
        self.time_error = None
        self.raw_text = valuelist[0] if valuelist else ""
        if not self.raw_text.strip():
            self.data = None
            return
        try:
            self.data = parse_time(self.raw_text)
        except ValueError:
            self.data = None
            self.time_error = str(_l("%(label)s must be a real time, like 9:00 or 17:00",
                                     label=field_name(self)))

    def pre_validate(self, form: Any) -> None:
        if self.time_error:
            raise StopValidation(self.time_error)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_text
        return self.data.strftime("%H:%M") if isinstance(self.data, time) else ""


WELSH_HINT = _l("Shown to people who use the service in Welsh. Leave empty to show the English.")


def _welsh_text(label: Any, what: Any, limit: int, area: bool = False) -> StringField:
    """The Welsh beside an English field the OPCC types for applicants or the public (issue
    16): optional, the English's length limit; the form's field hook refuses control
    characters in it as in every field."""
    return StringField(label, widget=GovTextArea() if area else GovTextInput(),
                       description=WELSH_HINT, filters=[_strip],
                       validators=[max_length(limit, what)])


def _required_text(label: Any, limit: int, message: Any, hint: Any = None,
                   area: bool = False) -> StringField:
    return StringField(label, widget=GovTextArea() if area else GovTextInput(), description=hint,
                       filters=[_strip],
                       validators=[Required(message), max_length(limit, label)])


class FundForm(PortalForm):
    name = _required_text(_l("Name of the fund"), 200, _l("Enter the name of the fund"))
    name_cy = _welsh_text(_l("Name of the fund in Welsh (optional)"),
                          _l("Name of the fund in Welsh"), 200)
    code = StringField(
        _l("Short code"), widget=GovTextInput(), filters=[_upper],
        description=_l("2 to 10 capital letters or numbers, used in bid references, like SCF "
                       "in SCF-2026-0007."),
        validators=[Required(_l("Enter a short code")),
                    Regexp(r"^[A-Z0-9]{2,10}$", message=_l(
                        "Short code must be 2 to 10 capital letters or numbers, like SCF"))])
    purpose = _required_text(_l("Purpose"), 2000, _l("Enter the purpose of the fund"),
                             _l("What the fund pays for and who it is for. Shown to applicants."),
                             area=True)
    purpose_cy = _welsh_text(_l("Purpose in Welsh (optional)"), _l("Purpose in Welsh"), 2000,
                             area=True)
    is_youth = BooleanField(_l("This is a youth fund: bids answer questions about young people "
                               "and safeguarding"), widget=GovCheckboxInput())
    allows_multi_year = BooleanField(_l("Projects may run beyond the round’s financial year "
                                        "(up to three years)"), widget=GovCheckboxInput())
    direct = BooleanField(_l("The fund makes direct awards: the Commissioner decides without a "
                             "competition, and its rounds are budgets never open to bids"),
                          widget=GovCheckboxInput())
    payment_rule = RadioField(_l("How grants are paid"), widget=GovRadioInput(),
                              choices=PAYMENT_RULES,
                              invalid_choice_message=_l("Select how grants are paid"),
                              validators=[Required(_l("Select how grants are paid"))])
    terms = _required_text(_l("Terms and conditions of grant"), 10000,
                           _l("Enter the terms and conditions of grant"),
                           _l("Included in every grant offer from this fund."), area=True)
    terms_cy = _welsh_text(_l("Terms and conditions of grant in Welsh (optional)"),
                           _l("Terms and conditions in Welsh"), 10000, area=True)
    # The section of the Police and Crime Plan the fund's grants support unless a bid says
    # otherwise (issue 18): offered by the view (the sections of the plan in force today,
    # and the fund's own even if an older plan's), "" for none.
    plan_section = RecordSelectField(
        _l("Section of the Police and Crime Plan its grants support (optional)"),
        widget=OptionsSelect(), choices=[],
        description=_l("Bids to the fund start with this section; the applicant and the "
                       "decision may choose others."),
        message=_l("Select one of the sections shown"))
    submit = SubmitField(_l("Save fund"), widget=GovSubmitInput())

    def offer_sections(self, sections: list[tuple[int, str, bool]], none: Any) -> None:
        """The sections to choose from: (id, words, whether the words are English shown to
        a Welsh reader), after ``none``, the choice of no section."""
        self.plan_section.choices = [("", str(none), {}), *(
            (number, words, {"lang": "en"} if english else {})
            for number, words, english in sections)]


# The most financial years a round may fund (``portal.services.bids.MULTI_YEAR_YEARS``, which
# the service checks; forms do not import services): one budget row each.
ROUND_YEAR_ROWS = 3


class RoundYearRow(RowForm):
    """One financial year of a round over several: its budget and, optionally, the most one
    bid may have in it. The template labels each with its year."""

    budget = MoneyField(_l("Budget"), description=_l("In pounds"))
    cap = MoneyField(_l("Most a bid can have in this year"),
                     description=_l("In pounds. Leave blank if there is no limit per bid."))


class RoundForm(PortalForm):
    name = _required_text(_l("Name of the round"), 200, _l("Enter the name of the round"),
                          _l("For example, 2026/27 round"))
    name_cy = _welsh_text(_l("Name of the round in Welsh (optional)"),
                          _l("Name of the round in Welsh"), 200)
    financial_year = WholeNumberField(
        _l("Financial year"), low=2000, high=2100,
        description=_l("The year it starts: 2026 for 2026/27."),
        message=_l("Financial year must be a year like 2026"),
        validators=[Required(_l("Enter the financial year"))])
    opens_on = DayMonthYearField(_l("Opening date"), description=_l("For example, 1 4 2026"),
                                 validators=[Required(_l("Enter the opening date"))])
    opens_time = TimeOfDayField(_l("Opening time"), description=_l("UK time, like 9:00 or 17:00"),
                                validators=[Required(_l("Enter the opening time"))])
    closes_on = DayMonthYearField(_l("Closing date"), description=_l("For example, 30 6 2026"),
                                  validators=[Required(_l("Enter the closing date"))])
    closes_time = TimeOfDayField(_l("Closing time"), description=_l("UK time, like 12:00 or "
                                                                    "17:00"),
                                 validators=[Required(_l("Enter the closing time"))])
    # Required for a round of one year; a round over several years has a budget per year
    # instead (``year_budgets``), checked in :meth:`validate`.
    budget = MoneyField(_l("Budget"), description=_l("In pounds, like 30,000"))
    years = WholeNumberField(
        _l("Number of financial years"), low=1, high=ROUND_YEAR_ROWS,
        description=_l("From 1 to 3. The round funds this many financial years from the one "
                       "above, with a budget for each."),
        message=_l("Number of financial years must be a whole number from 1 to 3"))
    year_budgets = RowList(FormField(RoundYearRow), rows=ROUND_YEAR_ROWS)
    cap = MoneyField(_l("Most a bid can ask for"),
                     description=_l("In pounds. Leave blank if there is no limit per bid."))
    eligible_organisation_types = SelectMultipleField(
        _l("Who can bid"), widget=GovCheckboxesInput(), choices=ORGANISATION_TYPES,
        validate_choice=False,  # the service refuses unknown types in words people understand
        validators=[Required(_l("Select who can bid"))])
    return_cadence = RadioField(_l("How often funded projects send monitoring returns"),
                                widget=GovRadioInput(), choices=RETURN_CADENCES,
                                invalid_choice_message=_l("Select how often returns are due"),
                                validators=[Required(_l("Select how often returns are "
                                                             "due"))])
    guidance = StringField(_l("Guidance for applicants (optional)"), widget=GovTextArea(),
                           filters=[_strip], validators=[max_length(5000, _l("Guidance"))])
    guidance_cy = _welsh_text(_l("Guidance for applicants in Welsh (optional)"),
                              _l("Guidance in Welsh"), 5000, area=True)
    required_assessments = WholeNumberField(
        _l("Assessments needed before a decision"), low=1, high=20,
        description=_l("Leave blank to need every assigned assessor to submit an assessment. "
                       "Or enter a whole number, like 2. A manager can decide before then "
                       "only by giving a reason."),
        message=_l("Assessments needed must be a whole number from 1 to 20, or blank for "
                   "every assigned assessor"))
    submit = SubmitField(_l("Save round"), widget=GovSubmitInput())

    #: Set by the view before validating: whether the round's fund allows projects over
    #: several years, so the form asks for the number of years and a budget per year.
    multi_year = False

    def year_count(self) -> int:
        """How many financial years the round funds: 1 unless its fund allows several and a
        valid number was given."""
        if not self.multi_year or self.years.errors or self.years.number_error:
            return 1
        return self.years.data or 1

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.multi_year and self.years.data is None and not self.years.errors:
            self.years.errors.append(str(_l("Enter the number of financial years")))
            valid = False
        if not self.multi_year:
            if self.budget.data is None and not self.budget.errors:
                self.budget.errors.append(str(_l("Enter the budget")))
                valid = False
        else:
            for index, row in enumerate(self.year_budgets):
                field = row.form.budget
                if index < self.year_count() and field.data is None and not field.errors:
                    field.errors.append(str(_l("Enter the budget for year %(n)d", n=index + 1)))
                    valid = False
        refresh_list_errors(self)
        return valid


class CriterionRow(RowForm):
    title = StringField(_l("Criterion"), widget=GovTextInput(), filters=[_strip],
                        validators=[max_length(200, _l("Criterion"))])
    title_cy = _welsh_text(_l("Criterion in Welsh (optional)"), _l("Criterion in Welsh"), 200)
    guidance = StringField(_l("Guidance for assessors"), widget=GovTextArea(), filters=[_strip],
                           validators=[max_length(1000, _l("Guidance for assessors"))])
    guidance_cy = _welsh_text(_l("Guidance for assessors in Welsh (optional)"),
                              _l("Guidance for assessors in Welsh"), 1000, area=True)
    weight = WholeNumberField(_l("Weight"), low=1, high=100, description=_l("Per cent"),
                              message=_l("Weight must be a whole number from 1 to 100"))
    # The application form's sections it scores (issue 15): offered by the view (the round's
    # form's sections, ``CriteriaForm.offer_sections``); a key not offered is refused here.
    sections = SelectMultipleField(
        _l("Sections it scores"), widget=GovCheckboxesInput(), choices=[],
        description=_l("The assessor sees the answers to these sections beside the score. "
                       "Select all that apply."),
        invalid_choice_message=_l("Select the sections from the list"))

    def filled(self) -> bool:
        return bool(self.title.data or self.guidance.data or self.title_cy.data
                    or self.guidance_cy.data or self.weight.data is not None
                    or self.weight.number_error or self.sections.data)


class DescriptorRow(RowForm):
    # The template labels each box with its place on the scale.
    text = StringField(_l("Descriptor"), widget=GovTextInput(), filters=[_strip],
                       validators=[max_length(100, _l("Descriptor"))])


class CriteriaForm(PortalForm):
    rows = RowList(FormField(CriterionRow), rows=CRITERION_ROWS)
    scale_min = WholeNumberField(_l("Lowest score"), low=0, high=10,
                                 message=_l("Lowest score must be a whole number from 0 to 10"),
                                 validators=[Required(_l("Enter the lowest score"))])
    scale_max = WholeNumberField(_l("Highest score"), low=1, high=10,
                                 message=_l("Highest score must be a whole number from 1 to 10"),
                                 validators=[Required(_l("Enter the highest score"))])
    descriptors = RowList(FormField(DescriptorRow), rows=SCALE_ROWS)
    submit = SubmitField(_l("Save criteria"), widget=GovSubmitInput())

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for row in self.rows:
            if not row.form.filled():
                continue
            for name, message in (("title", _l("Enter the criterion")),
                                  ("weight", _l("Enter the weight"))):
                field = row.form[name]
                if not field.errors and (field.data is None or field.data == ""):
                    field.errors.append(str(message))
                    valid = False
        refresh_list_errors(self)
        return valid

    def filled_rows(self) -> list[CriterionRow]:
        return [row.form for row in self.rows if row.form.filled()]

    def offer_sections(self, choices: list[tuple[str, str]]) -> None:
        """The sections every criterion may name: (key, title) of the round's form's."""
        for row in self.rows:
            row.form.sections.choices = list(choices)

