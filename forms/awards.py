"""Forms of the CSP officer after the award: accepting the offer, returns, variations.

The rules (what must be filled in, what adds up) live in portal.services.awards; these
forms only turn what was typed into values, and refuse text that is not a value at all.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired

from forms.applicant import CountedTextArea
from forms.fields import (
    DayMonthYearField,
    MoneyField,
    OneShotForm,
    WholeNumberField,
    max_length,
    record_id,
)
from forms.sections import QuestionsForm, section_form
from portal import questions

RAG_CHOICES = [
    ("green", _l("Green: on track")),
    ("amber", _l("Amber: at some risk")),
    ("red", _l("Red: off track")),
    ("closed", _l("Closed: no longer being pursued")),
]
NEW_LINE = "new"
#: The fund's own questions on a return page are named ``q-<key>`` (a WTForms prefix): a
#: question's key never meets the return form's own fields (``portal.services.awards``
#: names a refusal's field the same way).
QUESTION_PREFIX = "q"
CASE_STUDY_LIMIT = 5000
NARRATIVE_LIMIT = 2000


class AcceptOfferForm(OneShotForm):
    name = StringField(_l("Your full name"), widget=GovTextInput(),
                       validators=[max_length(200, _l("Your full name"))])
    role = StringField(_l("Your role"), widget=GovTextInput(),
                       description=_l("For example, Community Safety Partnership manager"),
                       validators=[max_length(200, _l("Your role"))])
    confirm = BooleanField(_l("On behalf of the partnership, I accept this grant on the terms "
                              "and conditions of this offer"), widget=GovCheckboxInput())
    submit = SubmitField(_l("Accept the offer"), widget=GovSubmitInput())


class ReturnForm(OneShotForm):
    """Fields are added per award line and outcome measure by ``return_form``."""

    # The return's version the page showed: a save over someone's newer one is refused.
    version = HiddenField()
    # The action plan's actions the page showed (issue 14): a report is never kept against
    # words the officer did not see.
    actions_seen = HiddenField()
    # The fund's return form the page showed (issue 15: its version and revision): answers are
    # never kept against questions the officer did not see.
    form_seen = HiddenField()

    line_ids: list[int]
    measure_ids: list[int]
    action_ids: list[int]
    #: The fund's own questions (issue 15): the definition, and one form per section
    #: (``forms.sections``, only the questions' fields), rendered inside this form's page.
    definition: questions.Definition = questions.Definition()
    question_forms: list[QuestionsForm] = []  # noqa: RUF012 - replaced per form

    @property
    def errors(self) -> dict[str, Any]:
        """The return's errors and its questions' (keyed by the field's id, which the error
        summary links to), so that one summary lists them all."""
        found = dict(super().errors)
        for question_form in self.question_forms:
            for bound in question_form:
                if bound.errors:
                    found[bound.id] = bound.errors
        return found

    def add_questions(self, definition: questions.Definition,
                      saved: dict[str, Any]) -> None:
        """The fund's questions of ``definition``, each section's as a form of its own
        (named ``q-<key>``), conditions reading the ``saved`` answers (by key)."""
        self.definition = definition
        self.question_forms = [
            section_form(section, every=saved, completion=False, prefix=QUESTION_PREFIX,
                         meta={"csrf": False})
            for section in definition.sections]

    def load_answers(self, saved: dict[str, Any]) -> None:
        for question_form in self.question_forms:
            question_form.load(saved)

    def answers(self) -> dict[str, Any]:
        """The answers typed (by question key), those of hidden questions left out: each
        section's conditions read every other section's answers as posted."""
        posted: dict[str, Any] = {}
        for question_form in self.question_forms:
            posted.update(question_form.answers())
        found: dict[str, Any] = {}
        for question_form in self.question_forms:
            question_form.every = posted
            found.update(question_form.answers())
        return found

    def question_field_names(self) -> set[str]:
        """Every name the questions' fields post (``q-<key>``)."""
        return {bound.name for question_form in self.question_forms for bound in question_form}

    def question_field(self, key: str) -> Any:
        """The field of the question ``key`` (None: no such question on the page)."""
        for question_form in self.question_forms:
            bound = question_form.answer_field(key)
            if bound is not None:
                return bound
        return None

    def check_answers(self, completing: bool) -> bool:
        """Check the answers typed from the definition, beside their fields (``completing``:
        submitting, so every shown required question needs its answer); a hidden section is
        neither checked nor kept. True when none has an error."""
        posted = self.answers()
        shown = {s.key for s in questions.shown_sections(self.definition, posted)}
        fine = True
        for question_form in self.question_forms:
            if question_form.section.key not in shown:
                for bound in question_form:
                    bound.errors = []
                continue
            question_form.completing = completing
            fine = question_form.validate() and fine
        return fine

    def spend(self) -> dict[int, int]:
        """Spend typed per approved line (blank lines are left out)."""
        return {line_id: self[f"line-{line_id}"].data for line_id in self.line_ids
                if self[f"line-{line_id}"].data is not None}

    def outcome_values(self) -> list[tuple[int, int | None, str | None, str]]:
        return [(m, self[f"achieved-{m}"].data, self[f"rag-{m}"].data or None,
                 self[f"narrative-{m}"].data or "") for m in self.measure_ids]

    def action_values(self) -> list[tuple[int, str | None, str]]:
        """(action id, RAG status or None, narrative) for each action of the award's plan."""
        return [(a, self[f"action-rag-{a}"].data or None, self[f"action-narrative-{a}"].data or "")
                for a in self.action_ids]

    def is_submitting(self) -> bool:
        return bool(self["submit"].data)


def return_form(lines: list[Any], measures: list[Any], actions: list[Any] | None = None,
                **kwargs: Any) -> ReturnForm:
    """A return form for these award lines, outcome measures and actions of the award's
    action plan (issue 14: RAG status and narrative beside spend), fields in page order."""
    fields: dict[str, Any] = {}
    for line in lines:
        fields[f"line-{line.id}"] = MoneyField(line.item)
    for action in actions or []:
        fields[f"action-rag-{action.id}"] = RadioField(
            _("RAG status of action %(number)s", number=action.number), widget=GovRadioInput(),
            choices=RAG_CHOICES, validate_choice=False)
        fields[f"action-narrative-{action.id}"] = StringField(
            _("Narrative for action %(number)s", number=action.number),
            widget=CountedTextArea(NARRATIVE_LIMIT),
            description=_("What was done, and why, on this action in the period."),
            validators=[max_length(NARRATIVE_LIMIT, _l("Narrative"))])
    for measure in measures:
        fields[f"achieved-{measure.id}"] = WholeNumberField(
            _("Achieved so far"), description=_("Target: %(target)s", target=measure.target),
            high=10_000_000, grouped=True,  # the column is an INTEGER
            message=_l("Enter what was achieved as a whole number, like 12"),
            range_message=_l("What was achieved must be a whole number from 0 to 10,000,000"))
        fields[f"rag-{measure.id}"] = RadioField(_("RAG status"), widget=GovRadioInput(),
                                                 description=_("How this target is going."),
                                                 choices=RAG_CHOICES, validate_choice=False)
        fields[f"narrative-{measure.id}"] = StringField(
            _("Narrative"), widget=CountedTextArea(NARRATIVE_LIMIT),
            description=_("What happened, and why, against this target."),
            validators=[max_length(NARRATIVE_LIMIT, _l("Narrative"))])
    fields["case_study"] = StringField(
        _l("Case study"), widget=CountedTextArea(CASE_STUDY_LIMIT),
        description=_l("One example of the difference the project made, for example a person "
                       "or place it helped. Do not include anyone’s name."),
        validators=[max_length(CASE_STUDY_LIMIT, _l("Case study"))])
    fields["forecast_underspend"] = MoneyField(
        _l("Forecast underspend"),
        description=_l("In pounds: what you expect not to spend by the end of the project. "
                       "Leave blank or enter 0 if none."))
    fields["evidence"] = FileField(_l("Attach a file (optional)"), widget=GovFileInput(),
                                   description=_l("For example, invoices or photographs. PDF, "
                                                  "Word, Excel, CSV, PNG or JPEG."))
    fields["save_draft"] = SubmitField(_l("Save as draft"), widget=GovSubmitInput())
    fields["submit"] = SubmitField(_l("Submit return"), widget=GovSubmitInput())
    fields["line_ids"] = [line.id for line in lines]
    fields["measure_ids"] = [measure.id for measure in measures]
    fields["action_ids"] = [action.id for action in actions or []]
    form_class = type("ReturnForm", (ReturnForm,), fields)
    return form_class(**kwargs)


class VariationForm(OneShotForm):
    kind = RadioField(_l("What do you want to change?"), widget=GovRadioInput(),
                      description=_l("Ask for one change at a time."),
                      choices=[("reallocation", _l("Move money between budget lines")),
                               ("extension", _l("Extend the end date")),
                               ("carry_forward", _l("Carry money forward to a later "
                                                    "financial year"))],
                      validators=[InputRequired(_l("Select what you want to change"))])
    from_line = SelectField(_l("Move money from"), widget=GovSelect(), validate_choice=False,
                            choices=[])
    to_line = SelectField(_l("Move it to"), widget=GovSelect(), validate_choice=False,
                          choices=[])
    new_item = StringField(_l("Name of the new line"), widget=GovTextInput(),
                           description=_l("Only if you are moving money to a new line."),
                           validators=[max_length(200, _l("Name of the new line"))])
    amount = MoneyField(_l("Amount to move"), description=_l("In pounds"))
    new_end_date = DayMonthYearField(_l("New end date"),
                                     description=_l("For example, 30 6 2027"))
    carry_line = SelectField(_l("Budget line"), widget=GovSelect(), validate_choice=False,
                             choices=[])
    from_year = SelectField(_l("From financial year"), widget=GovSelect(),
                            validate_choice=False, choices=[])
    to_year = SelectField(_l("To financial year"), widget=GovSelect(), validate_choice=False,
                          choices=[])
    carry_amount = MoneyField(_l("Amount to carry forward"), description=_l("In pounds"))
    reason = StringField(_l("Why do you need this change?"), widget=CountedTextArea(2000),
                         validators=[max_length(2000, _l("Reason"))])
    submit = SubmitField(_l("Ask for the change"), widget=GovSubmitInput())

    REALLOCATION_ONLY = ("from_line", "to_line", "new_item", "amount")
    EXTENSION_ONLY = ("new_end_date",)
    CARRY_FORWARD_ONLY = ("carry_line", "from_year", "to_year", "carry_amount")

    def set_lines(self, lines: list[Any]) -> None:
        choices = [(str(line.id), line.item) for line in lines]
        self.from_line.choices = [("", _("Choose a line"))] + choices
        self.to_line.choices = ([("", _("Choose a line"))] + choices
                                + [(NEW_LINE, _("A new line (name it below)"))])
        self.carry_line.choices = [("", _("Choose a line"))] + choices

    def set_years(self, years: list[tuple[int, str]]) -> None:
        """The financial years of the award (starting year, label), for a carry-forward."""
        choices = [(str(year), label) for year, label in years]
        self.from_year.choices = [("", _("Choose a year"))] + choices
        self.to_year.choices = [("", _("Choose a year"))] + choices

    def validate(self, extra_validators: Any = None) -> bool:
        """Only the fields of the chosen kind of change count."""
        super().validate(extra_validators)
        kept = {"reallocation": self.REALLOCATION_ONLY, "extension": self.EXTENSION_ONLY,
                "carry_forward": self.CARRY_FORWARD_ONLY}.get(self.kind.data or "")
        if kept is not None:
            for name in self.REALLOCATION_ONLY + self.EXTENSION_ONLY + self.CARRY_FORWARD_ONLY:
                if name not in kept:
                    self[name].errors = []
        return not any(field.errors for field in self)

    @staticmethod
    def line_id(value: str | None) -> int | None:
        """A line chosen: its id (ASCII digits within an INTEGER), else None, which the
        service refuses beside the field in words."""
        return record_id(value or "")

    def moves(self) -> list[dict[str, Any]]:
        to = self.to_line.data or ""
        return [{"from": self.line_id(self.from_line.data),
                 "to": None if to == NEW_LINE else self.line_id(to) if to else None,
                 "new_item": (self.new_item.data or "").strip() if to == NEW_LINE else "",
                 "amount": self.amount.data or 0}]

    def carry_moves(self) -> list[dict[str, Any]]:
        """The carry-forward asked for: ``[{"line", "from_year", "to_year", "amount"}]``, ids
        and years as ints (None when not one: the service refuses it beside the field)."""
        return [{"line": record_id(self.carry_line.data or ""),
                 "from_year": record_id(self.from_year.data or ""),
                 "to_year": record_id(self.to_year.data or ""),
                 "amount": self.carry_amount.data or 0}]
