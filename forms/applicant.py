"""Forms of the applicant journey: starting a bid, each task-list section, files, withdrawal."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (  # noqa: I001
    GovCharacterCount,
    GovCheckboxesInput,
    GovCheckboxInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Optional, ValidationError

from forms.base import PortalForm, RowForm
from forms.fields import (
    DayMonthYearField,
    MoneyField,
    OneShotForm,
    RequiredWhenCompleted,
    RowList,
    WholeNumberField,
    max_length,
    refresh_list_errors,
)
from portal.reference import ISSUE_TYPES, PRIORITY_CATEGORIES

COST_KINDS = [("", _l("Choose")), ("capital", _l("Capital")), ("revenue", _l("Revenue"))]
BUDGET_ROWS = 8
OUTCOME_ROWS = 6


class StartBidForm(PortalForm):
    token = HiddenField()
    submit = SubmitField(_l("Start a bid"), widget=GovSubmitInput())


class SectionForm(PortalForm):
    """A task-list section: saved as it is, or checked in full when marked complete."""

    version = HiddenField()
    completed = RadioField(
        _l("Have you completed this section?"), widget=GovRadioInput(),
        choices=[("yes", _l("Yes, I’ve completed this section")),
                 ("no", _l("No, I’ll come back to it later"))],
        validators=[InputRequired(_l("Select whether you have completed this section"))],
    )
    submit = SubmitField(_l("Save and continue"), widget=GovSubmitInput())

    def is_completing(self) -> bool:
        return self.completed.data == "yes"

    def answers(self) -> dict[str, Any]:
        """The section's answers as JSON-ready data."""
        skip = {"version", "completed", "submit", "csrf_token"}
        return {name: _plain(field.data) for name, field in self._fields.items()
                if name not in skip}

    def load(self, answers: dict[str, Any]) -> None:
        for name, value in answers.items():
            field = self._fields.get(name)
            if field is None or isinstance(field, FieldList):
                continue
            if isinstance(field, DayMonthYearField) and value:
                from datetime import date

                value = date.fromisoformat(value)
            field.data = value


def _plain(value: Any) -> Any:
    from datetime import date

    if isinstance(value, date):
        return value.isoformat()
    return value


def _checks(limit: int, label: Any, required: Any) -> list[Any]:
    """A length limit always; required once completed, unless ``required`` is None."""
    checks: list[Any] = [max_length(limit, label)]
    if required is not None:
        checks.insert(0, RequiredWhenCompleted(required))
    return checks


def _text(label: Any, limit: int, required: Any, hint: Any = None) -> StringField:
    return StringField(label, widget=GovTextInput(), description=hint,
                       validators=_checks(limit, label, required))


class CountedTextArea(GovCharacterCount):
    """A GOV.UK character count whose limit is the field's own (no limit typed twice)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        params = super().map_gov_params(field, **kwargs)
        params.setdefault("maxlength", self.limit)
        params.setdefault("rows", 5)
        return params


def _long_text(label: Any, limit: int, required: Any, hint: Any = None) -> StringField:
    return StringField(label, widget=CountedTextArea(limit), description=hint,
                       validators=_checks(limit, label, required))


class AboutForm(SectionForm):
    title = _text(_l("Project title"), 120, _l("Enter a project title"))
    summary = _long_text(_l("Summary of the project"), 1000, _l("Enter a summary of the project"),
                         _l("What you will do, where and for whom, in a few sentences."))
    start_date = DayMonthYearField(_l("Start date"), description=_l("For example, 1 12 2026"),
                                   validators=[RequiredWhenCompleted(_l("Enter the start date"))])
    end_date = DayMonthYearField(_l("End date"), description=_l("For example, 31 3 2027"),
                                 validators=[RequiredWhenCompleted(_l("Enter the end date"))])

    def validate_end_date(self, field: DayMonthYearField) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("End date must be the same as or after the start date"))


class ProblemForm(SectionForm):
    issue_types = SelectMultipleField(
        _l("Which issues will the project tackle?"), widget=GovCheckboxesInput(),
        choices=ISSUE_TYPES, description=_l("Select all that apply."),
        invalid_choice_message=_l("Select the issues from the list"),
        validators=[RequiredWhenCompleted(_l("Select at least one issue"))])
    other_issue = _text(_l("Other issue"), 200, None, _l("Only if you selected Other."))
    district = _text(_l("District"), 100, _l("Enter the district"))
    places = _long_text(_l("Parishes or wards"), 500, _l("Enter the parishes or wards"))
    priority_category = RadioField(
        _l("Priority area category"), widget=GovRadioInput(), choices=PRIORITY_CATEGORIES,
        description=_l("From the annual Strategic Assessment."),
        validators=[RequiredWhenCompleted(_l("Select the priority area category")), Optional()])
    evidence_sources = _long_text(_l("Where does your evidence come from?"), 1000,
                                  _l("Enter where your evidence comes from"),
                                  _l("For example, police incident data, council reports, "
                                     "resident surveys."))
    evidence_shows = _long_text(_l("What does the evidence show?"), 2000,
                                _l("Enter what the evidence shows"))

    def validate_other_issue(self, field: StringField) -> None:
        if self.is_completing() and "other" in (self.issue_types.data or []) and not (
                field.data or "").strip():
            raise ValidationError(_l("Enter the other issue"))


class DeliveryForm(SectionForm):
    activities = _long_text(_l("What will be done?"), 2000, _l("Enter what will be done"))
    delivered_by = _long_text(_l("Who will do it?"), 1000, _l("Enter who will do it"))
    partners = _long_text(_l("Which partners are involved?"), 1000,
                          _l("Enter the partners involved"),
                          _l("For example, the police, the fire service, parish councils."))


class OutcomeRow(RowForm):
    measure = StringField(_l("Measure"), widget=GovTextInput(),
                          description=_l("For example, cycle marking kits given out"),
                          validators=[max_length(200, _l("Measure"))])
    # At most 10,000,000 (the column is an INTEGER): "Target must be 10,000,000 or fewer".
    target = WholeNumberField(_l("Target"), high=10_000_000, grouped=True)
    how_measured = StringField(_l("How it will be measured"), widget=GovTextInput(),
                               validators=[max_length(500, _l("How it will be measured"))])

    def filled(self) -> bool:
        return bool((self.measure.data or "").strip() or self.target.data is not None
                    or self.target.number_error or (self.how_measured.data or "").strip())


class OutcomesForm(SectionForm):
    rows = RowList(FormField(OutcomeRow), rows=OUTCOME_ROWS)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        filled = 0
        for row in self.rows:
            if not row.form.filled():
                continue
            filled += 1
            for name, message in (("measure", _l("Enter the measure")),
                                  ("target", _l("Enter the target as a whole number")),
                                  ("how_measured", _l("Enter how it will be measured"))):
                field = row.form[name]
                if (field.data is None or field.data == "") and not field.errors:
                    field.errors.append(str(message))
                    valid = False
        if self.is_completing() and filled == 0:
            self.rows[0].form.measure.errors.append(str(_l("Enter at least one outcome measure")))
            valid = False
        refresh_list_errors(self)
        return valid

    def answers(self) -> dict[str, Any]:
        return {"rows": [{"measure": r.form.measure.data.strip(), "target": r.form.target.data,
                          "how_measured": r.form.how_measured.data.strip()}
                         for r in self.rows if r.form.filled()]}

    def load(self, answers: dict[str, Any]) -> None:
        for row, saved in zip(self.rows, answers.get("rows", [])):
            row.form.measure.data = saved["measure"]
            row.form.target.data = saved["target"]
            row.form.how_measured.data = saved["how_measured"]


# The most financial years a round funds (``portal.services.bids.MULTI_YEAR_YEARS``; forms do
# not import services): a budget line has one amount box per year of its round.
BUDGET_YEARS = 3


class BudgetRow(RowForm):
    item = StringField(_l("Item"), widget=GovTextInput(),
                       validators=[max_length(200, _l("Item"))])
    kind = SelectField(_l("Capital or revenue"), widget=GovSelect(), choices=COST_KINDS,
                       validate_choice=False, default="")
    # A round of one year: the line's amount.
    amount = MoneyField(_l("Amount"), description=_l("In pounds"))
    # A round over several years (issue 14): the amount for each of its years, labelled with
    # the year (2023/24) by :meth:`BudgetForm.use_years`; the line's amount is their sum.
    year_0 = MoneyField(_l("Amount for the first year"), description=_l("In pounds"))
    year_1 = MoneyField(_l("Amount for the second year"), description=_l("In pounds"))
    year_2 = MoneyField(_l("Amount for the third year"), description=_l("In pounds"))

    #: How many year boxes the page shows (0: a round of one year, the ``amount`` box).
    year_count = 0

    def year_fields(self) -> list[MoneyField]:
        return [self[f"year_{index}"] for index in range(self.year_count)]

    def filled(self) -> bool:
        amounts = self.year_fields() if self.year_count else [self.amount]
        return bool((self.item.data or "").strip() or self.kind.data
                    or any(f.data is not None or f.money_error for f in amounts))

    def total(self) -> int | None:
        """The line's amount: the amount typed, or the sum of the years typed (None when
        none is)."""
        if not self.year_count:
            return self.amount.data
        typed = [f.data for f in self.year_fields() if f.data is not None]
        return sum(typed) if typed else None


class BudgetForm(SectionForm):
    rows = RowList(FormField(BudgetRow), rows=BUDGET_ROWS)
    match_funding = MoneyField(_l("Match funding from others"),
                               description=_l("In pounds. Leave blank if there is none."))
    match_funding_sources = _long_text(_l("Where the match funding comes from"), 500, None)

    #: The round's financial years (starting years), set by :meth:`use_years`; empty when the
    #: form was made without its round (each line then has its amount alone).
    round_years: list[int] = []  # noqa: RUF012 - replaced per form, never changed in place

    def use_years(self, years: list[tuple[int, str]]) -> None:
        """The round's financial years as (starting year, label: "2023/24"). Over more than
        one, each line has an amount box per year, labelled with it."""
        self.round_years = [year for year, _label in years]
        count = len(years) if len(years) > 1 else 0
        for row in self.rows:
            row.form.year_count = count
            if count:
                for field, (_year, label) in zip(row.form.year_fields(), years):
                    field.label.text = label

    def multi_year(self) -> bool:
        return len(self.round_years) > 1

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        filled = 0
        for row in self.rows:
            if not row.form.filled():
                continue
            filled += 1
            checks = (("item", _l("Enter the item")),
                      ("kind", _l("Select capital or revenue")))
            for name, message in checks:
                field = row.form[name]
                if not field.errors and (field.data is None or field.data == ""):
                    field.errors.append(str(message))
                    valid = False
            kind = row.form.kind
            if kind.data and kind.data not in ("capital", "revenue") and not kind.errors:
                kind.errors.append(str(_l("Select capital or revenue")))
                valid = False
            amounts = row.form.year_fields() or [row.form.amount]
            if any(f.errors for f in amounts):
                valid = False
                continue
            first = amounts[0]
            total = row.form.total()
            if total is None:
                first.errors.append(str(_l("Enter the amount for at least one year")
                                        if row.form.year_count else _l("Enter the amount")))
                valid = False
            elif total == 0:
                first.errors.append(str(_l("The amounts must add up to more than £0")
                                        if row.form.year_count
                                        else _l("Amount must be more than £0")))
                valid = False
        if self.is_completing() and filled == 0:
            self.rows[0].form.item.errors.append(str(_l("Enter at least one budget line")))
            valid = False
        if (self.match_funding.data or 0) > 0 and self.is_completing() and not (
                self.match_funding_sources.data or "").strip():
            self.match_funding_sources.errors.append(
                str(_l("Enter where the match funding comes from")))
            valid = False
        refresh_list_errors(self)
        return valid

    def _year_amounts(self, row: BudgetRow) -> dict[str, int] | None:
        """A line's amounts by year as the answers keep them ({"2023": pence}), or None when
        the form does not know its round's years."""
        if not self.round_years:
            return None
        if not row.year_count:
            return {str(self.round_years[0]): row.amount.data or 0}
        return {str(year): field.data for year, field in zip(self.round_years,
                                                              row.year_fields())
                if field.data is not None}

    def answers(self) -> dict[str, Any]:
        rows = []
        for r in self.rows:
            if not r.form.filled():
                continue
            row: dict[str, Any] = {"item": r.form.item.data.strip(), "kind": r.form.kind.data,
                                   "amount_pence": r.form.total()}
            years = self._year_amounts(r.form)
            if years is not None:
                row["year_amounts"] = years
            rows.append(row)
        return {
            "rows": rows,
            "match_funding_pence": self.match_funding.data or 0,
            "match_funding_sources": (self.match_funding_sources.data or "").strip(),
        }

    def load(self, answers: dict[str, Any]) -> None:
        for row, saved in zip(self.rows, answers.get("rows", [])):
            row.form.item.data = saved["item"]
            row.form.kind.data = saved["kind"]
            row.form.amount.data = saved["amount_pence"]
            if row.form.year_count:
                years = saved.get("year_amounts") or {
                    str(self.round_years[0]): saved["amount_pence"]}
                for year, field in zip(self.round_years, row.form.year_fields()):
                    field.data = years.get(str(year))
        self.match_funding.data = answers.get("match_funding_pence") or None
        self.match_funding_sources.data = answers.get("match_funding_sources", "")

    def row_fields(self) -> list[Any]:
        return [row.form for row in self.rows]

    @staticmethod
    def line_years(saved_row: dict[str, Any]) -> list[tuple[int, int]]:
        """A saved line's amounts per financial year, (starting year, pence), in order:
        what a read-only page shows beside its total for a round over several years."""
        years = saved_row.get("year_amounts") or {}
        return sorted((int(year), int(pence)) for year, pence in years.items()
                      if isinstance(year, str) and year.isascii() and year.isdigit())


class YouthForm(SectionForm):
    age_from = WholeNumberField(
        _l("Youngest age"), low=0, high=25,
        range_message=_l("Youngest age must be between 0 and 25"),
        validators=[RequiredWhenCompleted(_l("Enter the youngest age"))])
    age_to = WholeNumberField(
        _l("Oldest age"), low=0, high=25,
        range_message=_l("Oldest age must be between 0 and 25"),
        validators=[RequiredWhenCompleted(_l("Enter the oldest age"))])
    young_people = WholeNumberField(
        _l("How many young people will take part?"), low=1, high=100_000, grouped=True,
        message=_l("Enter the number of young people as a whole number, like 12"),
        range_message=_l("Number of young people must be from 1 to 100,000"),
        validators=[RequiredWhenCompleted(_l("Enter how many young people will take part"))])
    safeguarding_lead = _text(_l("Name of the safeguarding lead"), 200,
                              _l("Enter the name of the safeguarding lead"))
    safeguarding_policy = BooleanField(
        _l("We have a safeguarding policy that covers this project"), widget=GovCheckboxInput(),
        validators=[RequiredWhenCompleted(_l("Confirm you have a safeguarding policy"))])
    dbs_checked = BooleanField(
        _l("Everyone working with young people on this project has a DBS check"),
        widget=GovCheckboxInput(),
        validators=[RequiredWhenCompleted(_l("Confirm everyone working with young people has "
                                             "a DBS check"))])

    def validate_age_to(self, field: WholeNumberField) -> None:
        if field.data is not None and self.age_from.data is not None and \
                field.data < self.age_from.data:
            raise ValidationError(_l("Oldest age must be the same as or more than the youngest"))


class DeclarationsForm(SectionForm):
    accurate = BooleanField(
        _l("The information in this bid is true and complete"), widget=GovCheckboxInput(),
        validators=[RequiredWhenCompleted(_l("Confirm the information is true and complete"))])
    authorised = BooleanField(
        _l("The partnership has agreed to this bid and its host council will receive and "
           "account for the grant"), widget=GovCheckboxInput(),
        validators=[RequiredWhenCompleted(_l("Confirm the partnership has agreed to this bid"))])
    name = _text(_l("Your full name"), 200, _l("Enter your full name"))
    role = _text(_l("Your role"), 200, _l("Enter your role"))


SECTION_FORMS: dict[str, type[SectionForm]] = {
    "about": AboutForm,
    "problem": ProblemForm,
    "delivery": DeliveryForm,
    "outcomes": OutcomesForm,
    "budget": BudgetForm,
    "youth": YouthForm,
    "declarations": DeclarationsForm,
}


class EvidenceForm(PortalForm):
    file = FileField(_l("Upload a file"), widget=GovFileInput(),
                     description=_l("PDF, Word, Excel, CSV, PNG or JPEG."),
                     validators=[InputRequired(_l("Select a file"))])
    description = StringField(_l("What the file shows (optional)"), widget=GovTextInput(),
                              validators=[max_length(200, _l("Description"))])
    submit = SubmitField(_l("Upload file"), widget=GovSubmitInput(),
                         render_kw={"class": "govuk-button--secondary"})


class RemoveEvidenceForm(PortalForm):
    submit = SubmitField(_l("Remove"), widget=GovSubmitInput())


class SubmitBidForm(OneShotForm):
    submit = SubmitField(_l("Submit bid"), widget=GovSubmitInput())


class WithdrawForm(OneShotForm):
    reason = StringField(_l("Why are you withdrawing this bid?"), widget=GovTextArea(),
                         validators=[InputRequired(_l("Enter why you are withdrawing the bid")),
                                     max_length(1000, _l("Reason"))])
    submit = SubmitField(_l("Withdraw bid"), widget=GovSubmitInput())


class AnswerForm(OneShotForm):
    answer = StringField(_l("Your answer"), widget=CountedTextArea(3000),
                         validators=[InputRequired(_l("Enter your answer")),
                                     max_length(3000, _l("Your answer"))])
    submit = SubmitField(_l("Send answer"), widget=GovSubmitInput())


class BidSearchForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search by title or reference"), widget=GovTextInput(),
                    validators=[max_length(100, _l("Search"))])
    status = SelectField(_l("Status"), widget=GovSelect(), validate_choice=True, choices=[],
                         default="", invalid_choice_message=_l("Select a status from the list"))
