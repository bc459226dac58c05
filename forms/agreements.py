"""Forms of direct awards (issue 14): making one from a budget of a direct fund, and the
action plan an award holds.

The budget's financial years are known only once the budget is chosen, so the forms are made
for them: :func:`direct_award_form` has an amount per year on each budget line, and
:func:`action_plan_form` a row per action and one per approved line of the award."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextInput
from wtforms import FormField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired

from forms.admin import OptionsSelect
from forms.applicant import COST_KINDS, CountedTextArea
from forms.base import PortalForm, RowForm
from forms.fields import (
    DayMonthYearField,
    MoneyField,
    RecordSelectField,
    RowList,
    max_length,
    refresh_list_errors,
)

LINE_ROWS = 8
ACTION_ROWS = 10
MORE_ACTION_ROWS = 5  # empty rows the action plan page offers after the saved actions
MAX_ACTION_ROWS = 40
_NUMBERS = re.compile(r"[,;\s]+")


def _year_label(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def split_numbers(text: str | None) -> list[str]:
    """ "1.1, 1.4" -> ["1.1", "1.4"]: the action numbers a line relates to, as typed."""
    return [part for part in _NUMBERS.split(text or "") if part]


def _relates_to() -> StringField:
    return StringField(_l("Relates to actions (optional)"), widget=GovTextInput(),
                       description=_l("Numbers from the action plan, separated by commas, "
                                      "for example 1.1, 1.4"),
                       validators=[max_length(200, _l("Relates to actions"))])


class ActionRow(RowForm):
    number = StringField(_l("Number"), widget=GovTextInput(),
                         description=_l("For example 1.4"),
                         validators=[max_length(10, _l("Number"))])
    title = StringField(_l("Action"), widget=GovTextInput(),
                        validators=[max_length(500, _l("Action"))])
    lead = StringField(_l("Lead (optional)"), widget=GovTextInput(),
                       validators=[max_length(200, _l("Lead"))])
    target_date = DayMonthYearField(_l("Target date (optional)"),
                                    description=_l("For example, 31 3 2027"))

    def filled(self) -> bool:
        return bool((self.number.data or "").strip() or (self.title.data or "").strip()
                    or (self.lead.data or "").strip() or self.target_date.data is not None
                    or self.target_date.date_error)


def _check_action_rows(rows: Any) -> bool:
    valid = True
    for row in rows:
        form = row.form
        if not form.filled():
            continue
        for name, message in (("number", _l("Enter the action's number, for example 1.4")),
                              ("title", _l("Enter the action"))):
            field = form[name]
            if not field.errors and not (field.data or "").strip():
                field.errors.append(str(message))
                valid = False
    return valid


def action_values(rows: Any) -> list[tuple[int, dict[str, Any]]]:
    """The filled action rows: (row index, values)."""
    return [(index, {"number": row.form.number.data.strip(), "title": row.form.title.data.strip(),
                     "lead": (row.form.lead.data or "").strip(),
                     "target_date": row.form.target_date.data})
            for index, row in enumerate(rows) if row.form.filled()]


def _line_row(financial_years: list[int]) -> type:
    """A budget line with an amount for each of ``financial_years``."""
    fields: dict[str, Any] = {
        "item": StringField(_l("Item"), widget=GovTextInput(),
                            validators=[max_length(200, _l("Item"))]),
        "kind": SelectField(_l("Capital or revenue"), widget=GovSelect(), choices=COST_KINDS,
                            validate_choice=False, default=""),
    }
    for year in financial_years:
        fields[f"year_{year}"] = MoneyField(
            _l("Amount for %(year)s", year=_year_label(year)), description=_l("In pounds"))
    fields["actions"] = _relates_to()

    def filled(self: Any) -> bool:
        return bool((self.item.data or "").strip() or self.kind.data
                    or (self.actions.data or "").strip()
                    or any(self[f"year_{year}"].data is not None
                           or self[f"year_{year}"].money_error for year in financial_years))

    fields["filled"] = filled
    return type("DirectAwardLine", (RowForm,), fields)


class _DirectAwardBase(PortalForm):
    token = HiddenField()
    organisation = RecordSelectField(_l("Partnership"), widget=GovSelect(),
                                     message=_l("Select a partnership from the list"),
                                     validators=[InputRequired(_l("Select the partnership"))])
    title = StringField(_l("Title"), widget=GovTextInput(),
                        description=_l("Published on the public register and in open data."),
                        validators=[max_length(120, _l("Title"))])
    purpose = StringField(_l("Purpose of the grant"), widget=CountedTextArea(1000),
                          description=_l("Published on the public register."),
                          validators=[max_length(1000, _l("Purpose"))])
    start_date = DayMonthYearField(_l("Start date"), description=_l("For example, 1 4 2025"))
    end_date = DayMonthYearField(_l("End date"), description=_l("For example, 31 3 2028"))
    amount = MoneyField(_l("Amount awarded"),
                        description=_l("In pounds: the total of the budget lines over every "
                                       "year."))
    conditions = StringField(_l("Conditions (optional)"), widget=CountedTextArea(2000),
                             description=_l("Published on the public register. For example, "
                                            "six-monthly monitoring returns."),
                             validators=[max_length(2000, _l("Conditions"))])
    reasons = StringField(_l("Why the grant will reduce crime and disorder"),
                          widget=CountedTextArea(2000),
                          description=_l("Published on the public register."),
                          validators=[max_length(2000, _l("Reasons"))])
    # The sections offered are the view's (issue 18): the plan in force and the fund's default.
    plan_section = RecordSelectField(
        _l("Section of the Police and Crime Plan this grant is listed under"),
        widget=OptionsSelect(),
        description=_l("Optional. The board’s list of grants shows the grant under it."),
        message=_l("Select a section of the Police and Crime Plan from the list"), choices=[])
    check = SubmitField(_l("Continue"), widget=GovSubmitInput())
    change = SubmitField(_l("Change the answers"), widget=GovSubmitInput())
    confirm = SubmitField(_l("Make the award"), widget=GovSubmitInput())

    financial_years: list[int] = []
    # A budget of one unnamed year's lines by default; direct_award_form gives the budget's.
    lines = RowList(FormField(_line_row([])), rows=LINE_ROWS)
    actions = RowList(FormField(ActionRow), rows=ACTION_ROWS)

    def year_fields(self, row: Any) -> list[tuple[int, Any]]:
        return [(year, row.form[f"year_{year}"]) for year in self.financial_years]

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for name, message in (("title", _l("Enter a title for the award")),
                              ("purpose", _l("Enter the purpose of the grant")),
                              ("reasons", _l("Enter why the grant will reduce crime and "
                                             "disorder"))):
            field = self[name]
            if not field.errors and not (field.data or "").strip():
                field.errors.append(str(message))
                valid = False
        for name, message in (("start_date", _l("Enter the start date")),
                              ("end_date", _l("Enter the end date")),
                              ("amount", _l("Enter the amount awarded"))):
            field = self[name]
            if not field.errors and field.data is None:
                field.errors.append(str(message))
                valid = False
        filled = 0
        for row in self.lines:
            form = row.form
            if not form.filled():
                continue
            filled += 1
            for name, message in (("item", _l("Enter the item")),
                                  ("kind", _l("Select capital or revenue"))):
                field = form[name]
                if not field.errors and not field.data:
                    field.errors.append(str(message))
                    valid = False
            kind = form.kind
            if kind.data and kind.data not in ("capital", "revenue") and not kind.errors:
                kind.errors.append(str(_l("Select capital or revenue")))
                valid = False
        if filled == 0:
            self.lines[0].form.item.errors.append(str(_l("Enter at least one budget line")))
            valid = False
        valid = _check_action_rows(self.actions) and valid
        refresh_list_errors(self)
        return valid

    def line_values(self) -> list[tuple[int, dict[str, Any]]]:
        """The filled budget lines: (row index, values with pence per year)."""
        return [(index, {"item": (row.form.item.data or "").strip(), "kind": row.form.kind.data,
                         "years": {year: field.data or 0 for year, field in self.year_fields(row)},
                         "actions": split_numbers(row.form.actions.data)})
                for index, row in enumerate(self.lines) if row.form.filled()]


def direct_award_form(financial_years: list[int], *args: Any, **kwargs: Any) -> Any:
    """The "make a direct award" form for a budget over ``financial_years``: each budget
    line has an amount for each of them (``lines-0-year_2025``…)."""
    form = type("DirectAwardForm", (_DirectAwardBase,), {
        "financial_years": list(financial_years),
        "lines": RowList(FormField(_line_row(financial_years)), rows=LINE_ROWS),
    })
    return form(*args, **kwargs)


class _LineActions(RowForm):
    actions = _relates_to()


class _ActionPlanBase(PortalForm):
    seen = HiddenField()
    actions = RowList(FormField(ActionRow), rows=ACTION_ROWS)
    lines = RowList(FormField(_LineActions), rows=LINE_ROWS)
    submit = SubmitField(_l("Save the action plan"), widget=GovSubmitInput())

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        valid = _check_action_rows(self.actions) and valid
        refresh_list_errors(self)
        return valid

    def line_numbers(self) -> list[list[str]]:
        return [split_numbers(row.form.actions.data) for row in self.lines]

    def load(self, actions: list[Any], lines: list[Any]) -> None:
        """Show what is saved: ``actions`` (with number, title, lead, target_date) and each
        line's ``action_numbers``."""
        for row, action in zip(self.actions, actions, strict=False):
            row.form.number.data = action.number
            row.form.title.data = action.title
            row.form.lead.data = action.lead
            row.form.target_date.data = action.target_date
        for row, line in zip(self.lines, lines, strict=False):
            row.form.actions.data = ", ".join(line.action_numbers or [])


def action_plan_form(saved_actions: int, lines: int, *args: Any, **kwargs: Any) -> Any:
    """The action plan form of an award with ``saved_actions`` actions and ``lines`` approved
    budget lines: a row per action and a few empty ones to add more."""
    rows = min(MAX_ACTION_ROWS, max(ACTION_ROWS, saved_actions + MORE_ACTION_ROWS))
    form = type("ActionPlanForm", (_ActionPlanBase,), {
        "actions": RowList(FormField(ActionRow), rows=rows),
        "lines": RowList(FormField(_LineActions), rows=max(lines, 1)),
    })
    return form(*args, **kwargs)


class AwardSectionForm(PortalForm):
    """The section of the Police and Crime Plan an existing award is listed under (issue 18
    follow-up), on the grants manager's award page; the choices are the view's
    (``alignment.sections_for_award``)."""

    plan_section = RecordSelectField(
        _l("Section of the Police and Crime Plan this grant is listed under"),
        widget=OptionsSelect(),
        description=_l("Optional. The board’s list of grants shows the grant under it."),
        message=_l("Select a section of the Police and Crime Plan from the list"), choices=[])
    save_section = SubmitField(_l("Save the section"), widget=GovSubmitInput())
