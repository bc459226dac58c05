"""Email addresses and checkboxes through the pages (issue 13, findings after its fixes).

An email address is ASCII or refused beside its field, on every page and command that takes
one (invitation, sign-in, password reset, ``create-user``): "ｍanager@example.org" (a
full-width m) and "mаnager@example.org" (a Cyrillic a) made second accounts that read the
same as the manager's, and a non-ASCII address makes a ``To:`` most mail servers refuse.
Spaces either side are taken off rather than refused.

A checkbox takes its own value ("y") or nothing: WTForms read ``confirm=n`` as selected (an
offer was accepted) and ``is_youth=maybe`` as a youth fund. Every field and form is covered
class by class in ``tests/unit/test_form_fields.py``.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from portal.db import session
from portal.models import AwardStatus, User
from portal.services import accounts
from tests.helpers import signed_in, table_row_counts
from tests.integration.test_admin_users import ADMIN, invite
from tests.integration.test_awards_applicant import awarded, facts, officer_client
from tests.integration.test_decision_integrity import error_beside
from tests.integration.test_round_setup import FUND, MANAGER, fund_named

LOOKALIKES = ["\uff4danager@example.org",  # full-width m
              "m\u0430nager@example.org",  # Cyrillic a
              "jos\u00e9@example.org"]  # accented: undeliverable to most mail servers
ASCII_ONLY = ("Error: Email address must contain only the letters a to z, numbers and symbols "
              "such as . - _ @: type it again without accented or look-alike letters")


def users_named(app, address):
    with app.app_context():
        return session.scalar(select(func.count()).select_from(User).where(
            func.lower(User.email) == address.lower()))


@pytest.mark.parametrize("address", LOOKALIKES)
def test_an_invitation_to_a_non_ascii_address_is_refused_beside_the_field(app, client, smtp,
                                                                          address):
    client.sign_in(ADMIN)
    counts = table_row_counts(app)
    response = invite(client, app, email=address)
    assert response.status_code == 200
    assert error_beside(response, "email") == ASCII_ONLY
    assert table_row_counts(app) == counts
    assert smtp.messages == []


def test_an_invitation_address_is_trimmed_not_refused(app, client, smtp):
    client.sign_in(ADMIN)
    response = invite(client, app, email="  jo.bloggs@example.org ")
    assert response.status_code == 302, error_beside(response, "email")
    assert users_named(app, "jo.bloggs@example.org") == 1
    assert [m["To"] for m in smtp.messages] == ["jo.bloggs@example.org"]


@pytest.mark.parametrize("address", LOOKALIKES)
def test_sign_in_and_reset_refuse_a_non_ascii_address_beside_the_field(app, client, smtp,
                                                                       address):
    response = client.submit("/sign-in", {"email": address, "password": "anything-at-all"})
    assert response.status_code == 200
    assert error_beside(response, "email") == ASCII_ONLY
    response = client.submit("/reset-password", {"email": address})
    assert response.status_code == 200
    assert error_beside(response, "email") == ASCII_ONLY
    assert smtp.messages == []


def test_sign_in_takes_an_address_with_spaces_either_side(client):
    response = client.sign_in(" manager@example.org  ")
    assert response.status_code == 302 and response.headers["Location"] == "/manage/"


@pytest.mark.parametrize("address", [*LOOKALIKES, "\u212aate@example.org"])  # Kelvin sign
def test_create_user_refuses_a_non_ascii_address(app, address):
    counts = table_row_counts(app)
    result = app.test_cli_runner().invoke(args=[
        "create-user", "--role", "admin", "--name", "First Admin", "--email", address,
        "--organisation", "Cambridgeshire and Peterborough OPCC",
        "--password", "quartz-bramble-lantern-nine"])
    assert result.exit_code != 0
    assert "Email address must contain only the letters a to z" in result.output
    assert table_row_counts(app) == counts


def test_create_user_trims_the_address(app):
    result = app.test_cli_runner().invoke(args=[
        "create-user", "--role", "admin", "--name", "First Admin", "--email",
        " First@Example.org ", "--organisation", "Cambridgeshire and Peterborough OPCC",
        "--password", "quartz-bramble-lantern-nine"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert accounts.get_user_by_email("first@example.org").email == "first@example.org"


def test_a_look_alike_address_finds_no_account(app):
    """``str.lower`` folds the Kelvin sign into "k": a look-up must not find another
    person's account by it."""
    with app.app_context():
        assert accounts.get_user_by_email("\u212aate@example.org") is None
        assert accounts.normalise_email(" \u212aATE@example.org ") == "\u212aATE@example.org"
        assert accounts.normalise_email(" Manager@Example.org ") == "manager@example.org"


# --- checkboxes ------------------------------------------------------------------------------

FORGED_BOX = "Error: The form was changed: select this box again if it applies"


@pytest.mark.parametrize("posted", ["n", "no", "false", "0", "off", "maybe"])
def test_an_offer_is_not_accepted_by_a_checkbox_sent_another_value(app, posted):
    award_id = awarded(app)
    officer = officer_client(app)
    counts = table_row_counts(app)
    response = officer.submit(f"/awards/{award_id}/accept",
                              {"name": "Sam Officer", "role": "CSP manager", "confirm": posted})
    assert response.status_code == 200
    assert error_beside(response, "confirm") == FORGED_BOX
    box = BeautifulSoup(response.get_data(as_text=True), "html.parser").find(
        "input", attrs={"name": "confirm"})
    assert box["value"] == "y" and not box.has_attr("checked")  # to be selected again
    assert facts(app, award_id)["status"] == AwardStatus.OFFERED
    assert table_row_counts(app) == counts


@pytest.mark.parametrize("posted", ["maybe", "n", "on", "true", "1"])
def test_a_fund_checkbox_sent_another_value_is_refused(app, posted):
    manager = signed_in(app, MANAGER)
    counts = table_row_counts(app)
    response = manager.submit("/manage/funds/new", dict(FUND, is_youth=posted))
    assert response.status_code == 200
    assert error_beside(response, "is_youth") == FORGED_BOX
    assert fund_named(app, "RCF") is None
    assert table_row_counts(app) == counts
