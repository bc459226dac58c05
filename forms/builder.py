"""Forms of the form designer (issue 15): a section, a question's type and details, removing,
moving, copying a form and publishing a draft.

Each editing form carries the version and revision of the form it was opened at (hidden):
a change made from an older copy of the form is refused by the service, which checks every
rule of a definition (``portal.questions.problems``); these forms only read what was typed
(numbers as ASCII digits, money in pounds) and keep its length within reason.

Beside every word applicants read is an optional box for its Welsh (issue 16), named as the
English with ``_cy``; the service checks it as it checks the English.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import Field, HiddenField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import StopValidation

from forms.base import PortalForm
from forms.fields import MoneyField, OneShotForm, RecordSelectField, WholeNumberField, max_length
from portal import questions
from portal.inputs import row_id

YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]
LIMIT_UNITS = [("characters", _l("Characters")), ("words", _l("Words"))]
# Longest text a box takes here: the definition's own limits (``portal.questions``) are
# checked by the service and said beside the field; this only keeps a post within reason.
MOST_TYPED = 20_000
MOST_CHOICE_LINES = 10_000


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _row_id_or_blank(_form: Any, field: Field) -> None:
    """A version id or revision: blank (no version yet) or an id (``portal.inputs.row_id``);
    anything else only a forged post sends."""
    if (field.data or "").strip() and row_id(field.data) is None:
        field.errors[:] = []
        raise StopValidation(str(_l("The form was changed: reload the page and try again")))


def _text(label: Any, hint: Any = None, *, area: bool = False, most: int = MOST_TYPED,
          what: Any = None) -> StringField:
    """A text box; ``what`` names it in a message when its label says "(optional)"."""
    return StringField(label, widget=GovTextArea() if area else GovTextInput(),
                       description=hint, filters=[_strip],
                       validators=[max_length(most, what or label)])


class DesignForm(PortalForm):
    """An editing form of the designer: the version and revision it was opened at."""

    version_id = HiddenField(validators=[_row_id_or_blank])
    revision = HiddenField(validators=[_row_id_or_blank])

    def opened_at(self) -> tuple[int | None, int | None]:
        """(version id, revision) the page was opened at (None, None: no version yet)."""
        return row_id(self.version_id.data), row_id(self.revision.data)

    def open_at(self, version_id: int | None, revision: int | None) -> None:
        self.version_id.data = str(version_id or "")
        self.revision.data = str(revision or "")


def condition_value(text: str | None) -> dict[str, str] | None:
    """A condition select's value (``question=value``) as a definition's condition; blank:
    none. Anything else (a forged value without "=") is a condition on no question, which
    the service refuses beside the select, never read as "always"."""
    if not text:
        return None
    question, _sep, value = text.partition("=")
    return {"question": question if _sep else "", "value": value}


def condition_text(condition: dict[str, str] | None) -> str:
    if not condition:
        return ""
    return f"{condition.get('question', '')}={condition.get('value', '')}"


class SectionForm(DesignForm):
    key = StringField(
        _l("Key (optional)"), widget=GovTextInput(), filters=[_strip],
        description=_l("How exports and the portal name this section: lower-case letters, "
                       "digits and _, like safeguarding. Leave blank to make one from the "
                       "title. It cannot change later."),
        validators=[max_length(40, _l("Key"))])
    title = _text(_l("Title"), _l("Shown on the task list and as the section’s heading."),
                  most=1000)
    title_cy = _text(_l("Title in Welsh (optional)"),
                     _l("Shown to applicants who use the portal in Welsh. Leave blank to show "
                        "them the English."), most=1000, what=_l("Title in Welsh"))
    intro = _text(_l("Introduction (optional)"),
                  _l("Shown above the section’s questions."), area=True,
                  what=_l("Introduction"))
    intro_cy = _text(_l("Introduction in Welsh (optional)"), area=True,
                     what=_l("Introduction in Welsh"))
    condition = SelectField(
        _l("When is this section shown?"), widget=GovSelect(), choices=[],
        validate_choice=False,  # the service refuses a condition that cannot work
        description=_l("A section can depend on the answer to a question in an earlier "
                       "section. Its questions are asked only then."))
    submit = SubmitField(_l("Save section"), widget=GovSubmitInput())


class QuestionTypeForm(PortalForm):
    """The first step of adding a question: its type (a GET form: it saves nothing)."""

    class Meta(PortalForm.Meta):
        csrf = False

    type = RadioField(_l("What kind of question is it?"), widget=GovRadioInput(), choices=[],
                      invalid_choice_message=_l("Select the type of question"))
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())

    def validate_type(self, field: Field) -> None:
        if not field.data:
            raise StopValidation(str(_l("Select the type of question")))


class QuestionForm(DesignForm):
    """A question's details: the template shows those of its type, the view reads them."""

    key = StringField(
        _l("Key (optional)"), widget=GovTextInput(), filters=[_strip],
        description=_l("The question’s name in exports and conditions: lower-case letters, "
                       "digits and _, like age_from. Leave blank to make one from the "
                       "question. It cannot change later."),
        validators=[max_length(60, _l("Key"))])
    label = _text(_l("Question"), most=5000)
    label_cy = _text(_l("Question in Welsh (optional)"),
                     _l("Shown to applicants who use the portal in Welsh. Leave blank to show "
                        "them the English."), most=5000, what=_l("Question in Welsh"))
    hint = _text(_l("Hint (optional)"), _l("Help shown under the question."), area=True,
                 what=_l("Hint"))
    hint_cy = _text(_l("Hint in Welsh (optional)"), area=True, what=_l("Hint in Welsh"))
    required = RadioField(_l("Must applicants answer it?"), widget=GovRadioInput(),
                          choices=YES_NO, default="yes",
                          invalid_choice_message=_l("Select yes if it must be answered"))
    error = _text(_l("Message when it is not answered (optional)"),
                  _l("Say what to do, like “Enter the name of the safeguarding lead”. Leave "
                     "blank for “Enter an answer to …”."), most=5000,
                  what=_l("Message when it is not answered"))
    error_cy = _text(_l("Message when it is not answered, in Welsh (optional)"), most=5000,
                     what=_l("Message when it is not answered, in Welsh"))
    condition = SelectField(
        _l("When is this question asked?"), widget=GovSelect(), choices=[],
        validate_choice=False,  # the service refuses a condition that cannot work
        description=_l("A question can depend on the answer to an earlier question. A "
                       "question not asked is not required, and nothing is kept for it."))
    limit = WholeNumberField(_l("Limit (optional)"), low=0, high=questions.MOST_CHARACTERS,
                             description=_l("The most characters or words the answer may "
                                            "have. Leave blank for the usual limit."))
    limit_unit = RadioField(_l("The limit counts"), widget=GovRadioInput(),
                            choices=LIMIT_UNITS, default="characters",
                            invalid_choice_message=_l("Select characters or words"))
    low = WholeNumberField(_l("Lowest answer allowed (optional)"), low=0,
                           high=questions.HIGHEST_NUMBER)
    high = WholeNumberField(_l("Highest answer allowed (optional)"), low=0,
                            high=questions.HIGHEST_NUMBER)
    low_money = MoneyField(_l("Lowest amount allowed (optional)"),
                           description=_l("In pounds, like 500"))
    high_money = MoneyField(_l("Highest amount allowed (optional)"),
                            description=_l("In pounds, like 25,000"))
    choices = _text(_l("Choices"), _l("One choice per line, in the order shown."), area=True,
                    most=MOST_CHOICE_LINES)
    choices_cy = _text(_l("Choices in Welsh (optional)"),
                       _l("The Welsh of each choice, one per line, in the same order as the "
                          "choices above."), area=True, most=MOST_CHOICE_LINES,
                       what=_l("Choices in Welsh"))
    at_least = SelectField(_l("It may not be less than (optional)"), widget=GovSelect(),
                           choices=[], validate_choice=False,  # the service checks it
                           description=_l("An earlier whole-number question, like the "
                                          "youngest age for the oldest."))
    statement_1 = _text(_l("First statement"), most=5000)
    statement_1_cy = _text(_l("First statement in Welsh (optional)"), most=5000,
                           what=_l("First statement in Welsh"))
    statement_2 = _text(_l("Second statement"), most=5000)
    statement_2_cy = _text(_l("Second statement in Welsh (optional)"), most=5000,
                           what=_l("Second statement in Welsh"))
    end_label = _text(_l("Second date’s label"), most=5000)
    end_label_cy = _text(_l("Second date’s label in Welsh (optional)"), most=5000,
                         what=_l("Second date’s label in Welsh"))
    end_hint = _text(_l("Second date’s hint (optional)"), most=5000,
                     what=_l("Second date’s hint"))
    end_hint_cy = _text(_l("Second date’s hint in Welsh (optional)"), most=5000,
                        what=_l("Second date’s hint in Welsh"))
    submit = SubmitField(_l("Save question"), widget=GovSubmitInput())

    def choice_lines(self, welsh: bool = False) -> list[str]:
        """The choices typed (``welsh``: their Welsh), one per line, blank lines left out."""
        typed = (self.choices_cy if welsh else self.choices).data or ""
        return [line.strip() for line in typed.splitlines() if line.strip()]


class RemoveForm(DesignForm):
    confirm = RadioField(_l("Are you sure?"), widget=GovRadioInput(), choices=YES_NO,
                         invalid_choice_message=_l("Select yes to remove it"))
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())

    def validate_confirm(self, field: Field) -> None:
        if not field.data:
            raise StopValidation(str(_l("Select yes to remove it, or no to keep it")))


class MoveForm(DesignForm, OneShotForm):
    """The form page's Move up and Move down buttons (``move`` is the button's value:
    ``section:<key>:up`` or ``question:<key>:down``)."""

    move = StringField(validators=[max_length(100, "move")])


class CopyForm(DesignForm):
    source = RecordSelectField(_l("Copy the form of"), widget=GovSelect(), choices=[],
                               message=_l("Select a form to copy from"))
    submit = SubmitField(_l("Copy this form"), widget=GovSubmitInput())

    def validate_source(self, field: Field) -> None:
        if field.data is None:
            raise StopValidation(str(_l("Select a form to copy from")))


class PublishForm(DesignForm, OneShotForm):
    submit = SubmitField(_l("Publish this version"), widget=GovSubmitInput())
