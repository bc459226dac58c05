"""Forms of finance (payments, repayments, the check of a return) and of the grants
manager's decision on a variation."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextInput
from wtforms import RadioField, StringField, SubmitField
from wtforms.validators import InputRequired, StopValidation

from forms.applicant import CountedTextArea
from forms.fields import DayMonthYearField, MoneyField, OneShotForm, max_length


class Required:
    """Something must be entered (spaces alone are nothing). No HTML ``required``
    attribute: GOV.UK forms validate on the server."""

    def __init__(self, message: Any) -> None:
        self.message = message
        self.field_flags: dict[str, bool] = {}

    def __call__(self, form: Any, field: Any) -> None:
        data = field.data
        if data is None or (isinstance(data, str) and not data.strip()):
            field.errors[:] = []
            raise StopValidation(str(self.message))


class PaymentForm(OneShotForm):
    amount = MoneyField(_l("Amount paid"), description=_l("In pounds, for example 2500 or "
                                                          "2,500.00"),
                        validators=[Required(_l("Enter the amount paid"))])
    paid_on = DayMonthYearField(_l("Date paid"), description=_l("For example, 14 6 2026"),
                                validators=[Required(_l("Enter the date paid"))])
    reference = StringField(_l("Payment reference"), widget=GovTextInput(),
                            description=_l("The reference on the remittance, so the payment "
                                           "can be traced."),
                            validators=[Required(_l("Enter the payment reference")),
                                        max_length(100, _l("Payment reference"))])
    record_payment = SubmitField(_l("Record payment"), widget=GovSubmitInput())


class RepaymentForm(OneShotForm):
    received_on = DayMonthYearField(_l("Date received"), description=_l("For example, 14 6 2026"),
                                    validators=[Required(_l("Enter the date received"))])
    received_reference = StringField(_l("Receipt reference"), widget=GovTextInput(),
                                     validators=[Required(_l("Enter the receipt reference")),
                                                 max_length(100, _l("Receipt reference"))])
    record_repayment = SubmitField(_l("Record as received"), widget=GovSubmitInput())


class ReturnCheckForm(OneShotForm):
    outcome = RadioField(_l("Approve or query this return"), widget=GovRadioInput(),
                         choices=[("approve", _l("Approve the return")),
                                  ("query", _l("Query the return and send it back"))],
                         validators=[InputRequired(_l("Select approve or query"))])
    comments = StringField(_l("Comments for the partnership"), widget=CountedTextArea(3000),
                           description=_l("Required when querying: say what needs to change."),
                           validators=[max_length(3000, _l("Comments"))])
    submit = SubmitField(_l("Save your check"), widget=GovSubmitInput())


class VariationDecisionForm(OneShotForm):
    outcome = RadioField(_l("Decision"), widget=GovRadioInput(),
                         choices=[("approve", _l("Approve the change")),
                                  ("decline", _l("Decline the change"))],
                         validators=[InputRequired(_l("Select approve or decline"))])
    comment = StringField(_l("Comment for the partnership"), widget=CountedTextArea(2000),
                          description=_l("Required when declining: give the reason."),
                          validators=[max_length(2000, _l("Comment"))])
    submit = SubmitField(_l("Record decision"), widget=GovSubmitInput())
