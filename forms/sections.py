"""A section of a form definition as a page's form (issue 15): one field (or a few, for a
built-in question's parts) per question, built from ``portal.questions`` at request time.

``section_form(section, ...)`` gives a :class:`QuestionsForm`: the applicant's section page
(``completion=True``: with the section's ``version``, "Have you completed this section?" and
its button), or only the questions' fields (``completion=False``: a return page embeds them;
the designer's preview). The built-in questions reuse the typed pieces of
``forms.applicant`` (budget lines by year, outcome rows, the project's dates, declarations), so
the standard form asks exactly what the fixed sections asked, with the same names, words and
messages.

What the fields cannot say (a required answer missing, a range, an email address's shape, a
choice not offered, a number below an earlier one) is checked by
``portal.questions.section_problems``, the rules the service checks again on saving: the page
and the server say the same. A hidden question's field is neither required nor kept:
:meth:`QuestionsForm.answers` drops it (``questions.kept``) and its errors are not shown.

Words are in the reader's language (issue 16): the grants team's Welsh where given, else the
catalogue's, else the English, which the page marks ``lang="en"`` on its label, legend, hint,
choice or error message (the fields keep plain words, which messages name them by; the
GOV.UK params each field is rendered with carry the marked words as ``html``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovFileInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    FormField,
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Optional, ValidationError

from forms import applicant
from forms.base import PortalForm
from forms.fields import (
    DayMonthYearField,
    EmailAddressField,
    MoneyField,
    RequiredWhenCompleted,
    WholeNumberField,
    max_length,
    refresh_list_errors,
)
from portal import questions
from portal.questions import Question, Section

#: The section form's own fields: never an answer.
OWN_FIELDS = frozenset({"version", "completed", "submit", "csrf_token"})
#: The longest a title may be (the bids.title column).
TITLE_LIMIT = 120
#: The longest an email address, phone number or web address may be.
CONTACT_LIMIT = 320


@dataclass
class Block:
    """One question as the page shows it (``templates/macros/questions.html``)."""

    question: Question
    #: Its fields' names in the form, each with the GOV.UK params it is rendered with.
    fields: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: For a question shown only by an answer on the same page: that question's key and
    #: the answer (the page's script shows and hides it; without script, the hint says).
    condition: dict[str, str] | None = None
    condition_hint: str = ""

    @property
    def type(self) -> str:
        return self.question.type

    @property
    def label(self) -> Markup:
        return self.question.marked("label")

    @property
    def hint(self) -> Markup:
        return self.question.marked("hint")

    @property
    def id(self) -> str:
        return f"question-{self.question.key}"


class QuestionsForm(PortalForm):
    """A section's questions as a form (made by :func:`section_form`)."""

    #: The section it asks (set by :func:`section_form`; none: a form of no questions).
    section: Section = Section(key="", title="")
    #: Every section's saved answers (by answer name), for conditions on earlier sections'
    #: answers and a file question's file already attached.
    every: dict[str, Any] = {}  # noqa: RUF012 - replaced per form, never changed in place
    completion: bool = True
    #: Whether a form without the completion question checks as completed.
    completing: bool = True
    #: The round's financial years (starting years) for the budget's lines.
    round_years: list[int] = []  # noqa: RUF012 - replaced per form

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        own = {part for q in self.section.questions for part in q.parts}
        #: The other sections' answers: what conditions on earlier sections read (this
        #: section's come from the page).
        self.others = {name: value for name, value in self.every.items() if name not in own}
        #: A file question's file already attached (its evidence id), by question key.
        self.saved_files: dict[str, int] = {}
        #: Attached files' names by evidence id (set by the view, for the hint).
        self.file_names: dict[int, str] = {}
        for question in self.section.questions:
            if question.type == "file":
                saved = _id(self.every.get(question.key))
                if saved is not None:
                    self.saved_files[question.key] = saved

    # --- what the form holds ----------------------------------------------------------

    def is_completing(self) -> bool:
        completed = self._fields.get("completed")
        if self.completion and completed is not None:
            return bool(completed.data == "yes")
        return self.completing

    def _posted(self) -> dict[str, Any]:
        """Every question's answer as posted (hidden ones too)."""
        answers: dict[str, Any] = {}
        for question in self.section.questions:
            answers.update(self._answer_of(question))
        return answers

    def _answer_of(self, question: Question) -> dict[str, Any]:
        code = question.type
        if code == "budget":
            return applicant.budget_answers(self)
        if code == "outcomes":
            return applicant.outcome_answers(self)
        if not question.kind.answers:
            return {}
        if code == "file":
            return {question.key: self.saved_files.get(question.key)}
        values = {}
        for name in question.parts if question.kind.builtin else (question.key,):
            values[name] = _plain(self[name].data, code)
        return values

    def answers(self) -> dict[str, Any]:
        """The section's answers as JSON-ready data, without those of hidden questions."""
        return questions.kept(self.section, self._posted(), self.others)

    def shown_keys(self) -> set[str]:
        everything = {**self.others, **self._posted()}
        return {q.key for q in questions.shown_questions(self.section, everything)}

    def load(self, answers: dict[str, Any]) -> None:
        """Fill the fields from a section's saved ``answers``."""
        for question in self.section.questions:
            code = question.type
            if code == "budget":
                applicant.load_budget(self, answers)
            elif code == "outcomes":
                applicant.load_outcomes(self, answers)
            elif code == "file":
                saved = _id(answers.get(question.key))
                if saved is not None:
                    self.saved_files[question.key] = saved
                else:
                    self.saved_files.pop(question.key, None)
            elif question.kind.answers:
                names = question.parts if question.kind.builtin else (question.key,)
                for name in names:
                    if name in answers:
                        self[name].data = _loaded(answers[name], self[name])

    def uploads(self) -> dict[str, Any]:
        """The files posted for the file questions shown, by question key."""
        shown = self.shown_keys()
        found = {}
        for question in self.section.questions:
            if question.type == "file" and question.key in shown:
                data = self[question.key].data
                if _is_file(data):
                    found[question.key] = data
        return found

    def answer_field(self, name: str) -> Field | None:
        """The field an answer's name is shown beside (``rows``: the first line's first
        field; ``match_funding_pence``: the match funding box)."""
        if name == "match_funding_pence":
            name = "match_funding"
        found = self._fields.get(name)
        if isinstance(found, FieldList):
            first = found.entries[0].form if found.entries else None
            if first is None:
                return None
            return next(iter(first), None)
        return found

    def allowed_names(self) -> set[str]:
        """Every name this form's page posts: a posted name outside it is a forged field."""
        names = set(OWN_FIELDS)
        for name, bound in self._fields.items():
            names.add(name)
            if isinstance(bound, FieldList):
                for entry in bound.entries:
                    names.update(sub.name for sub in entry.form)
        return names

    def blocks(self) -> list[Block]:
        """The questions in the order the page shows them; a question shown only by an
        answer on another page is left out unless that answer shows it."""
        here = {q.key for q in self.section.questions}
        found = []
        for question in self.section.questions:
            condition = question.condition
            if condition and condition.get("question") not in here and not questions.meets(
                    condition, self.others):
                continue
            block = Block(question, fields=list(_params(self, question)))
            if condition and condition.get("question") in here:
                block.condition = dict(condition)
                block.condition_hint = _condition_hint(self.section, condition)
                if block.fields:  # the hint says when it is asked (without script)
                    name, params = block.fields[0]
                    hint = block.hint
                    block.fields[0] = (name, {**params, "hint": {
                        "html": hint + Markup(" ") + block.condition_hint if hint
                        else escape(block.condition_hint)}})
            found.append(block)
        return found

    def multipart(self) -> bool:
        return any(q.type == "file" for q in self.section.questions)

    def multi_year(self) -> bool:
        return len(self.round_years) > 1

    # --- checking ------------------------------------------------------------------------

    def validate(self, extra_validators: Any = None) -> bool:
        super().validate(extra_validators)
        return self.check(self.is_completing())

    def check(self, completing: bool) -> bool:
        """Check the answers from the definition, beside the fields: the built-in
        questions' own rules, then ``questions.section_problems``. A hidden question's
        field keeps no error. True when the form holds no error at all."""
        shown = self.shown_keys()
        for question in self.section.questions:
            if question.key not in shown:
                for bound in self._question_fields(question):
                    _clear(bound)
        for question in self.section.questions:
            if question.key not in shown:
                continue
            if question.type == "budget":
                applicant.check_budget(self, completing)
            elif question.type == "outcomes":
                applicant.check_outcomes(self, completing)
            elif question.type == "file":
                self._check_file(question, completing)
        # A file posted now is an answer (its id comes when the service stores it).
        answers = {**self.answers(), **dict.fromkeys(self.uploads(), 0)}
        problems = questions.section_problems(self.section, answers, self.others,
                                              completing=completing)
        for name, message in problems.items():
            bound = self.answer_field(name)
            if bound is not None and not bound.errors and not _errors_in(bound):
                bound.errors.append(message)
        for question in self.section.questions:
            for bound in self._question_fields(question):
                if not isinstance(bound, FieldList) and bound.errors:
                    bound.errors = [questions.marked_message(e, question)
                                    for e in bound.errors]
        refresh_list_errors(self)
        return not any(_errors_in(bound) for bound in self)

    def _check_file(self, question: Question, completing: bool) -> None:
        """A required file once completed: a file attached before or posted now (the
        file's own checks are the evidence rules, when it is stored)."""
        bound = self[question.key]
        if completing and question.required and not _is_file(bound.data) and \
                question.key not in self.saved_files and not bound.errors:
            bound.errors.append(question.words("error") or _(
                "Select a file for “%(label)s”", label=question.words("label")))

    def _question_fields(self, question: Question) -> list[Field]:
        if question.type == "budget":
            return [self.rows, self.match_funding, self.match_funding_sources]
        if question.type == "outcomes":
            return [self.rows]
        if not question.kind.answers:
            return []
        names = question.parts if question.kind.builtin else (question.key,)
        return [self[name] for name in names]

    def validate_end_date(self, bound: Field) -> None:
        start = self._fields.get("start_date")
        if bound.data and start is not None and start.data and bound.data < start.data:
            raise ValidationError(_l("End date must be the same as or after the start date"))


def _is_file(data: Any) -> bool:
    """Whether a file field's data is a file that was posted (with a name)."""
    return bool(data is not None and getattr(data, "filename", None))


def _id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _errors_in(bound: Any) -> bool:
    if isinstance(bound, FieldList):
        return any(_errors_in(sub) for entry in bound.entries for sub in entry.form)
    return bool(bound.errors)


def _clear(bound: Any) -> None:
    if isinstance(bound, FieldList):
        for entry in bound.entries:
            for sub in entry.form:
                sub.errors = []
        bound.errors = []
    else:
        bound.errors = []


def _plain(value: Any, code: str) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if code in ("short_text", "long_text") and isinstance(value, str):
        return value.strip()
    if code in ("email", "phone", "url") and isinstance(value, str):
        return value.strip()
    if code in ("yes_no", "one_choice", "rag") and value in ("", "None"):
        return None
    if code == "several_choices" and isinstance(value, list):
        return list(dict.fromkeys(value))  # a box ticked is one answer, however often sent
    return value


def _loaded(value: Any, bound: Field) -> Any:
    if isinstance(bound, DayMonthYearField):
        try:
            return date.fromisoformat(value) if isinstance(value, str) and value else None
        except ValueError:
            return None
    if isinstance(bound, SelectMultipleField):
        return list(value) if isinstance(value, list) else []
    if isinstance(bound, BooleanField):
        return value is True
    return value


def _condition_hint(section: Section, condition: dict[str, str]) -> Markup:
    """When a question is asked, for its hint: the label and answer marked ``lang="en"``
    where English is shown to a Welsh reader."""
    found = questions.condition_words(section, condition)
    if found is None:
        return Markup("")
    if found.confirm:
        return found.sentence(_("Only if you confirm “%(label)s”."))
    return found.sentence(_("Only if your answer to “%(label)s” is “%(value)s”."))


# --- the fields of each type ----------------------------------------------------------------


def _required(question: Question, default: Any) -> RequiredWhenCompleted:
    return RequiredWhenCompleted(question.words("error") or str(default))


def _label(question: Question) -> str:
    return question.words("label")


def _hint(question: Question) -> str | None:
    """The hint, or None: an empty hint writes no empty hint element for the field to be
    described by."""
    return question.words("hint") or None


def _fields_of(question: Question) -> dict[str, Any]:
    """The unbound fields of one question, by name (its answer's parts)."""
    code = question.type
    label, hint = _label(question), _hint(question)
    if code == "title":
        return {"title": StringField(label, widget=GovTextInput(), description=hint,
                                     validators=[_required(question, _l("Enter a project title")),
                                                 max_length(TITLE_LIMIT, label)])}
    if code == "summary":
        limit = question.text_limit()
        words = question.limit_unit == "words"
        checks: list[Any] = [_required(question, _l("Enter a summary of the project"))]
        checks.append(_word_limit(limit, label) if words else max_length(limit, label))
        return {"summary": StringField(label, widget=applicant.CountedTextArea(limit, words),
                                       description=hint, validators=checks)}
    if code == "project_dates":
        return {
            "start_date": DayMonthYearField(
                label, description=hint,
                validators=[RequiredWhenCompleted(_("Enter the start date"))]),
            "end_date": DayMonthYearField(
                question.words("end_label") or _("End date"),
                description=question.words("end_hint"),
                validators=[RequiredWhenCompleted(_("Enter the end date"))]),
        }
    if code == "issue_types":
        return {"issue_types": SelectMultipleField(
            label, widget=GovCheckboxesInput(), choices=questions.choices_marked(question),
            description=hint, invalid_choice_message=_l("Select the issues from the list"),
            validators=[_required(question, _l("Select at least one issue"))])}
    if code == "budget":
        return applicant.budget_fields()
    if code == "outcomes":
        return {"rows": applicant.outcome_rows()}
    if code == "declarations":
        statements = [questions.words(english, welsh)
                      for english, welsh in question.statement_pairs()]
        return {
            "accurate": BooleanField(
                statements[0] or _("The information in this bid is true and complete"),
                widget=GovCheckboxInput(), validators=[RequiredWhenCompleted(
                    _("Confirm the information is true and complete"))]),
            "authorised": BooleanField(
                statements[1] or _("The partnership has agreed to this bid"),
                widget=GovCheckboxInput(), validators=[RequiredWhenCompleted(
                    _("Confirm the partnership has agreed to this bid"))]),
            "name": applicant.text_field(_l("Your full name"), 200, _l("Enter your full name")),
            "role": applicant.text_field(_l("Your role"), 200, _l("Enter your role")),
        }
    key = question.key
    if code in ("short_text", "long_text"):
        limit = question.text_limit()
        words = question.limit_unit == "words"
        check = _word_limit(limit, label) if words else max_length(limit, label)
        widget = applicant.CountedTextArea(limit, words) if code == "long_text" \
            else GovTextInput()
        return {key: StringField(label, widget=widget, description=hint, validators=[check])}
    if code == "email":
        return {key: EmailAddressField(label, description=hint,
                                       validators=[max_length(CONTACT_LIMIT, label)])}
    if code in ("phone", "url"):
        return {key: StringField(label, widget=GovTextInput(), description=hint,
                                 validators=[max_length(CONTACT_LIMIT, label)])}
    if code == "whole_number":
        # The question's own range (one message for one limit), within the column's.
        return {key: WholeNumberField(label, description=hint, low=max(question.low or 0, 0),
                                      high=min(question.high if question.high is not None
                                               else questions.HIGHEST_NUMBER,
                                               questions.HIGHEST_NUMBER), grouped=True)}
    if code == "money":
        return {key: MoneyField(label, description=hint)}
    if code == "date":
        return {key: DayMonthYearField(label, description=hint)}
    if code in ("yes_no", "one_choice", "rag"):
        return {key: RadioField(label, widget=GovRadioInput(), description=hint,
                                choices=questions.choices_marked(question),
                                validators=[Optional()])}
    if code == "several_choices":
        return {key: SelectMultipleField(label, widget=GovCheckboxesInput(), description=hint,
                                         choices=questions.choices_marked(question))}
    if code == "confirm":
        return {key: BooleanField(label, widget=GovCheckboxInput(), description=hint)}
    if code == "file":
        return {key: FileField(label, widget=GovFileInput(), description=hint)}
    return {}  # guidance: words only


def _word_limit(limit: int, label: str) -> Any:
    def check(_form: Any, bound: Field) -> None:
        if bound.data and questions.word_count(bound.data) > limit:
            raise ValidationError(_("%(label)s must be %(n)s words or fewer", label=label,
                                    n=f"{limit:,}"))

    return check


def _params(form: QuestionsForm, question: Question) -> list[tuple[str, dict[str, Any]]]:
    """Each field of ``question`` with the GOV.UK params the page renders it with. A field
    with no hint of its own says so: govuk-frontend-wtf gives radios and checkboxes a hint of
    their description whatever it is, which would show "None", or an empty hint the fieldset
    is described by."""
    fields = _field_params(form, question)
    return [(name, params if form[name].description else {"hint": None, **params})
            for name, params in fields]


def _shown(question: Question, *, legend: bool = False, classes: str = "",
           label: str = "label", hint: str = "hint") -> dict[str, Any]:
    """GOV.UK params giving a field its words marked for the reader (``questions.marked``):
    its label (or, for radios, checkboxes and dates, its fieldset's legend) and its hint."""
    params: dict[str, Any] = {}
    if getattr(question, label):
        words: dict[str, Any] = {"html": question.marked(label)}
        if classes:
            words["classes"] = classes
        params["fieldset" if legend else "label"] = {"legend": words} if legend else words
    elif classes and legend:
        params["fieldset"] = {"legend": {"classes": classes}}
    if question.words(hint):
        params["hint"] = {"html": question.marked(hint)}
    return params


def _field_params(form: QuestionsForm, question: Question) -> list[tuple[str, dict[str, Any]]]:
    code = question.type
    if code == "title":
        return [("title", {"classes": "govuk-!-width-full", **_shown(question)})]
    if code == "summary":
        return [("summary", _shown(question))]
    if code == "project_dates":
        return [("start_date", _shown(question, legend=True)),
                ("end_date", _shown(question, legend=True, label="end_label",
                                    hint="end_hint"))]
    if code == "issue_types":
        return [("issue_types", _shown(question, legend=True,
                                       classes="govuk-fieldset__legend--m"))]
    if code in ("budget", "outcomes"):
        return []  # the macro draws their rows
    if code == "declarations":
        statements = [{"items": [{"html": questions.marked(english, welsh)}]} if english
                      else {} for english, welsh in question.statement_pairs()]
        return [("accurate", statements[0]), ("authorised", statements[1]),
                ("name", {"autocomplete": "name", "classes": "govuk-!-width-two-thirds"}),
                ("role", {"autocomplete": "organization-title",
                          "classes": "govuk-!-width-two-thirds"})]
    key = question.key
    params: dict[str, Any] = {}
    if code == "short_text":
        params = {"classes": "govuk-!-width-two-thirds"}
    elif code == "email":
        params = {"type": "email", "autocomplete": "email", "spellcheck": False,
                  "classes": "govuk-!-width-two-thirds"}
    elif code == "phone":
        params = {"type": "tel", "autocomplete": "tel", "classes": "govuk-input--width-20"}
    elif code == "url":
        params = {"type": "url", "autocomplete": "url", "spellcheck": False,
                  "classes": "govuk-!-width-two-thirds"}
    elif code == "whole_number":
        params = {"classes": "govuk-input--width-5", "inputmode": "numeric",
                  "spellcheck": False}
    elif code == "money":
        params = {"prefix": {"text": "£"}, "classes": "govuk-input--width-10",
                  "spellcheck": False}
    elif code in ("yes_no", "rag"):
        return [(key, {**_shown(question, legend=True, classes="govuk-fieldset__legend--s"),
                       "classes": "govuk-radios--inline"})]
    elif code in ("one_choice", "several_choices"):
        return [(key, _shown(question, legend=True, classes="govuk-fieldset__legend--s"))]
    elif code == "confirm":
        # One checkbox: its words are the box's own (no legend).
        shown = _shown(question)
        params = {"items": [{"html": shown.pop("label")["html"]}]} if "label" in shown else {}
        return [(key, {**params, **shown})]
    elif code == "file":
        shown = _shown(question)
        saved = form.saved_files.get(key)
        names = form.file_names
        if saved is not None:
            current = names.get(saved) or _("a file")
            extra = escape(_("Attached: %(name)s. Choose another file only to replace it.",
                             name=current))
            hint = shown.get("hint", {}).get("html")
            shown["hint"] = {"html": hint + Markup(" ") + extra if hint else extra}
        return [(key, shown)]
    elif code == "guidance":
        return []
    return [(key, {**params, **_shown(question)})]


def section_form(section: Section, *, years: list[tuple[int, str]] | None = None,
                 every: dict[str, Any] | None = None, completion: bool = True,
                 **form_kwargs: Any) -> QuestionsForm:
    """The form of ``section``'s questions (see the module's docstring). ``years``: the
    round's financial years as (starting year, "2023/24"), for the budget's lines; ``every``:
    every section's saved answers (conditions on earlier sections, files attached)."""
    attrs: dict[str, Any] = {"section": section, "every": dict(every or {}),
                             "completion": completion}
    if completion:
        attrs["version"] = HiddenField()
    for question in section.questions:
        attrs.update(_fields_of(question))
    if completion:
        attrs["completed"] = RadioField(
            _l("Have you completed this section?"), widget=GovRadioInput(),
            choices=[("yes", _l("Yes, I’ve completed this section")),
                     ("no", _l("No, I’ll come back to it later"))],
            validators=[InputRequired(_l("Select whether you have completed this section"))])
        attrs["submit"] = SubmitField(_l("Save and continue"), widget=GovSubmitInput())
    form_class = type(f"QuestionsForm_{section.key}", (QuestionsForm,), attrs)
    form: QuestionsForm = form_class(**form_kwargs)
    if section.has("budget"):
        applicant.use_years(form, list(years or []))
    return form


__all__ = ["Block", "FormField", "QuestionsForm", "section_form"]
