"""Messages in the service's words (issue 13): plurals by number, a state's words in a
refusal, the budget (not the cap) named for a £0 budget, each field's own label."""

from __future__ import annotations

import pytest
from flask_babel import ngettext

from forms.admin import InviteUserForm
from forms.finance import RepaymentForm
from portal.models import BidStatus
from portal.services.policy import NotAllowed
from portal.services.workflow import check
from portal.workflows import WORKFLOWS


def test_a_refusal_names_the_state_in_its_own_words(app):
    with app.test_request_context():
        bid = type("B", (), {"status": BidStatus.MORE_INFORMATION_REQUESTED})()
        with pytest.raises(NotAllowed) as refused:
            check(WORKFLOWS["bid"], "submit", bid, _manager(app))
        assert "its status is “More information requested”" in refused.value.message
        assert "it is more information" not in refused.value.message


def _manager(app):
    from portal.services import accounts

    return accounts.get_user_by_email("officer.southcambs@example.org")


def test_one_bid_is_singular(app):
    with app.test_request_context():
        assert ngettext("%(name)s assigned to %(num)d bid.", "%(name)s assigned to %(num)d bids.",
                        1, name="Alex") == "Alex assigned to 1 bid."


def test_a_blank_receipt_reference_asks_for_the_receipt_reference(app):
    with app.test_request_context(method="POST", data={"received_reference": ""}):
        form = RepaymentForm(meta={"csrf": False})
        form.validate()
        assert form.received_reference.errors == ["Enter the receipt reference"]


def test_a_too_long_name_names_the_field_by_its_label(app):
    with app.test_request_context(method="POST", data={"name": "x" * 201}):
        form = InviteUserForm(meta={"csrf": False})
        form.organisation.choices = []
        form.validate()
        assert form.name.errors[0].startswith(str(form.name.label.text))


def test_a_round_budget_of_nothing_is_reported_beside_the_budget(app):
    from tests.helpers import signed_in
    from tests.integration.test_decision_integrity import error_beside
    from tests.integration.test_round_setup import FUND, ROUND, fund_named

    manager = signed_in(app, "manager@example.org")
    assert manager.submit("/manage/funds/new", FUND).status_code == 302
    fund = fund_named(app, "RCF")
    response = manager.submit(f"/manage/funds/{fund.id}/rounds/new", dict(ROUND, budget="0"))
    assert "The budget must be more than £0" in error_beside(response, "budget")
    assert not error_beside(response, "cap")
