"""Forms of the assessors and the grants manager: conflicts, scores, moderation, decisions."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired

from forms.admin import OptionsSelect
from forms.applicant import CountedTextArea
from forms.base import PortalForm
from forms.fields import (
    DayMonthYearField,
    MoneyField,
    OneShotForm,
    RecordSelectField,
    max_length,
)

# The choices' words live with the other reference data, which every layer reads (the
# workbook's recommendation column too); presenters read them from here as well.
from portal.reference import RECOMMENDATIONS as RECOMMENDATIONS


class ConflictForm(OneShotForm):
    conflict = RadioField(
        _l("Do you have a conflict of interest with this bid?"), widget=GovRadioInput(),
        description=_l("For example, you work closely with the partnership, a relative or "
                       "friend would benefit, or you helped write the bid."),
        choices=[("no", _l("No, I have no conflict of interest")),
                 ("yes", _l("Yes, I have a conflict of interest"))],
        validators=[InputRequired(_l("Select whether you have a conflict of interest"))])
    reason = StringField(_l("Describe the conflict"), widget=GovTextArea(),
                         description=_l("Only if you have one. The grants manager will "
                                        "reassign the bid."),
                         validators=[max_length(1000, _l("Description"))])
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())


def scale_choices(criterion: Any) -> list[tuple[str, str]]:
    descriptors = criterion.descriptors or {}
    return [(str(n), f"{n} – {descriptors.get(str(n), '')}".rstrip(" –"))
            for n in range(criterion.scale_min, criterion.scale_max + 1)]


def assessment_form(criteria: list[Any], formdata: Any = None, **kwargs: Any) -> FlaskForm:
    """A form with a score and a justification per criterion of the round."""

    class AssessmentForm(OneShotForm):
        recommendation = RadioField(_l("Your recommendation"), widget=GovRadioInput(),
                                    choices=RECOMMENDATIONS, validate_choice=False)
        comments = StringField(_l("Comments for the grants manager"),
                               widget=CountedTextArea(3000),
                               validators=[max_length(3000, _l("Comments"))])
        save_draft = SubmitField(_l("Save as draft"), widget=GovSubmitInput())
        submit = SubmitField(_l("Submit assessment"), widget=GovSubmitInput())

    for criterion in criteria:
        setattr(AssessmentForm, f"score-{criterion.id}",
                RadioField(criterion.title, widget=GovRadioInput(),
                           choices=scale_choices(criterion), validate_choice=False))
        setattr(AssessmentForm, f"justification-{criterion.id}",
                StringField(_l("Justification for this score"), widget=CountedTextArea(2000),
                            validators=[max_length(2000, _l("Justification"))]))
    return AssessmentForm(formdata=formdata, **kwargs) if formdata is not None else \
        AssessmentForm(**kwargs)


class ReopenForm(OneShotForm):
    submit = SubmitField(_l("Reopen assessment"), widget=GovSubmitInput())


def moderation_form(criteria: list[Any]) -> FlaskForm:
    class ModerationForm(OneShotForm):
        # The moderation the page showed: a save over another manager's newer one is refused.
        seen = HiddenField()
        rationale = StringField(_l("Why these are the moderated scores"),
                                widget=CountedTextArea(3000),
                                validators=[InputRequired(_l("Explain the moderated scores")),
                                            max_length(3000, _l("Rationale"))])
        submit = SubmitField(_l("Save moderated scores"), widget=GovSubmitInput())

    for criterion in criteria:
        setattr(ModerationForm, f"score-{criterion.id}",
                SelectField(criterion.title, widget=GovSelect(),
                            choices=[("", _l("Choose a score"))] + scale_choices(criterion),
                            validate_choice=False))
    return ModerationForm()


_ASSESSOR_LISTED = _l("Choose an assessor from the list")


class AssignForm(OneShotForm):
    assessor = SelectField(_l("Assessor"), widget=GovSelect(), coerce=str,
                           invalid_choice_message=_ASSESSOR_LISTED,
                           validators=[InputRequired(_l("Choose an assessor"))])
    submit = SubmitField(_l("Assign"), widget=GovSubmitInput())


class BulkAssignForm(OneShotForm):
    bids = SelectMultipleField(_l("Bids"), widget=GovCheckboxesInput(), coerce=str,
                               invalid_choice_message=_l("Select bids from the list"),
                               validators=[InputRequired(_l("Select at least one bid"))])
    assessor = SelectField(_l("Assessor"), widget=GovSelect(), coerce=str,
                           invalid_choice_message=_ASSESSOR_LISTED,
                           validators=[InputRequired(_l("Choose an assessor"))])
    submit = SubmitField(_l("Assign selected bids"), widget=GovSubmitInput())


class AskForm(OneShotForm):
    question = StringField(_l("Your question for the partnership"), widget=CountedTextArea(2000),
                           validators=[InputRequired(_l("Enter the question")),
                                       max_length(2000, _l("Question"))])
    respond_by = DayMonthYearField(_l("Answer by (optional)"),
                                   description=_l("For example, 14 1 2027"))
    submit = SubmitField(_l("Send question"), widget=GovSubmitInput())


class DecisionForm(OneShotForm):
    outcome = RadioField(_l("Decision"), widget=GovRadioInput(),
                         choices=[("approve", _l("Approve")), ("decline", _l("Decline"))],
                         validators=[InputRequired(_l("Select approve or decline"))])
    amount = MoneyField(_l("Amount awarded"),
                        description=_l("In pounds. No more than was asked for. For a part "
                                       "award, enter the smaller amount."))
    purpose = StringField(_l("Purpose of the grant"), widget=CountedTextArea(1000),
                          description=_l("Published on the public register."),
                          validators=[max_length(1000, _l("Purpose"))])
    conditions = StringField(_l("Conditions (optional)"), widget=CountedTextArea(2000),
                             description=_l("Published on the public register."),
                             validators=[max_length(2000, _l("Conditions"))])
    reasons = StringField(_l("Why the grant will reduce crime and disorder"),
                          widget=CountedTextArea(2000),
                          description=_l("Published on the public register."),
                          validators=[max_length(2000, _l("Reasons"))])
    # The sections offered are the view's (issue 18): the plan in force and the bid's own.
    plan_section = RecordSelectField(
        _l("Section of the Police and Crime Plan this grant is listed under"),
        widget=OptionsSelect(),
        description=_l("Optional. The board’s list of grants shows the grant under it."),
        message=_l("Select a section of the Police and Crime Plan from the list"), choices=[])
    feedback = StringField(_l("Feedback for the partnership"), widget=CountedTextArea(3000),
                           description=_l("Required when declining."),
                           validators=[max_length(3000, _l("Feedback"))])
    # Shown only while the round's required assessments are not all in; the page gives the
    # shortfall as the hint.
    override_reason = StringField(_l("Why decide before the required assessments are in"),
                                  widget=CountedTextArea(2000),
                                  validators=[max_length(2000, _l("Reason"))])
    submit = SubmitField(_l("Record decision"), widget=GovSubmitInput())


class AuditSearchForm(PortalForm):
    class Meta:
        csrf = False  # a search changes nothing

    user = StringField(_l("User (name or email)"), widget=GovTextInput(),
                       validators=[max_length(200, _l("User"))])
    record_type = SelectField(_l("Record"), widget=GovSelect(), default="",
                              choices=[("", _l("Any record")), ("bid", _l("Bid")),
                                       ("award", _l("Award")), ("return", _l("Return")),
                                       ("user", _l("User")), ("round", _l("Round")),
                                       ("fund", _l("Fund"))],
                              invalid_choice_message=_l("Select a kind of record from the list"))
    record_id = StringField(_l("Record number"), widget=GovTextInput(),
                            validators=[max_length(60, _l("Record number"))])
    date_from = DayMonthYearField(_l("From"))
    date_to = DayMonthYearField(_l("To"))
