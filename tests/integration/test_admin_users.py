"""Administrators invite users by email and set their roles and organisation."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.db import session
from portal.models import AuditEvent, Organisation, Role
from portal.services import accounts
from tests.helpers import table_row_counts, text_of

ADMIN = "admin@example.org"


def org_id(app, name):
    with app.app_context():
        return session.scalar(select(Organisation.id).where(Organisation.name == name))


def invite(client, app, **overrides):
    data = {"name": "Jo Bloggs", "email": "jo.bloggs@example.org",
            "organisation": org_id(app, "Safer Fenland Partnership"), "roles": ["officer"]}
    data.update(overrides)
    return client.submit("/admin/users/invite", data)


def test_an_invited_user_gets_an_email_sets_a_password_and_signs_in(app, client, smtp):
    client.sign_in(ADMIN)
    response = invite(client, app)
    assert response.headers["Location"] == "/admin/"
    [message] = smtp.to("jo.bloggs@example.org")
    link = re.search(r"http://portal\.test(/invitation/\S+)", message.get_content()).group(1)
    visitor = app.test_client()
    page = visitor.get(link)
    assert "Set up your account" in text_of(page)
    password = "harbour-kettle-meadow-signal"
    assert visitor.submit(link, {"password": password, "confirm": password}).status_code == 302
    assert visitor.sign_in("jo.bloggs@example.org", password).headers["Location"] == "/bids/"
    assert visitor.get(link).status_code == 400  # the link worked once


def test_an_invited_user_cannot_sign_in_before_accepting(app, client, smtp):
    client.sign_in(ADMIN)
    invite(client, app)
    visitor = app.test_client()
    assert "Enter a correct email address" in text_of(visitor.sign_in("jo.bloggs@example.org",
                                                                      "anything-at-all-here"))


def test_invitations_are_audited(app, client, smtp):
    client.sign_in(ADMIN)
    invite(client, app)
    with app.app_context():
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"user.created", "user.invited"} <= actions


def test_inviting_an_existing_address_is_refused_beside_the_field(app, client, smtp):
    client.sign_in(ADMIN)
    response = invite(client, app, email="manager@example.org")
    assert "A user with this email address already exists" in text_of(response)
    assert smtp.messages == []


def test_a_partnership_user_cannot_be_made_an_assessor(app, client, smtp):
    client.sign_in(ADMIN)
    response = invite(client, app, roles=["officer", "assessor"])
    assert "Users of a partnership can only be officers" in text_of(response)
    with app.app_context():
        assert accounts.get_user_by_email("jo.bloggs@example.org") is None


def test_invite_form_errors_keep_what_was_typed(app, client):
    client.sign_in(ADMIN)
    response = invite(client, app, email="not-an-email", roles=[])
    page = response.get_data(as_text=True)
    assert "Enter an email address in the correct format" in text_of(response)
    assert "Select at least one role" in text_of(response)
    assert 'value="Jo Bloggs"' in page and 'value="not-an-email"' in page


def test_changing_roles_is_audited_with_before_and_after(app, client):
    client.sign_in(ADMIN)
    with app.app_context():
        user_id = accounts.get_user_by_email("finance@example.org").id
    opcc = org_id(app, "Cambridgeshire and Peterborough OPCC")
    response = client.submit(f"/admin/users/{user_id}", {
        "organisation": opcc, "roles": ["finance", "assessor"], "active": "y"})
    assert response.status_code == 302
    with app.app_context():
        user = accounts.get_user_by_email("finance@example.org")
        assert user.roles == {Role.FINANCE, Role.ASSESSOR}
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "user.roles_changed")).one()
        assert event.before["roles"] == ["finance"]
        assert event.after["roles"] == ["assessor", "finance"]


def test_an_administrator_cannot_remove_their_own_access(app, client):
    client.sign_in(ADMIN)
    with app.app_context():
        user_id = accounts.get_user_by_email(ADMIN).id
    opcc = org_id(app, "Cambridgeshire and Peterborough OPCC")
    response = client.submit(f"/admin/users/{user_id}", {"organisation": opcc,
                                                         "roles": ["manager"], "active": "y"})
    assert "You cannot remove your own administrator access" in text_of(response)


def test_an_administrator_cannot_deactivate_themselves_and_is_told_beside_the_box(app, client):
    client.sign_in(ADMIN)
    with app.app_context():
        user_id = accounts.get_user_by_email(ADMIN).id
    opcc = org_id(app, "Cambridgeshire and Peterborough OPCC")
    counts = table_row_counts(app)
    response = client.submit(f"/admin/users/{user_id}", {"organisation": opcc, "roles": ["admin"]})
    beside = BeautifulSoup(response.get_data(as_text=True), "html.parser").find(id="active-error")
    assert beside is not None and "You cannot deactivate your own account" in beside.get_text()
    assert table_row_counts(app) == counts


def test_user_search_takes_percent_and_underscore_as_typed(client):
    client.sign_in(ADMIN)
    assert "No users match" in text_of(client.get("/admin/?q=%25"))
    assert "No users match" in text_of(client.get("/admin/?q=_"))


def test_deactivating_a_user_signs_them_out(app, client):
    officer = app.test_client()
    officer.sign_in("officer.fenland@example.org")
    client.sign_in(ADMIN)
    with app.app_context():
        user_id = accounts.get_user_by_email("officer.fenland@example.org").id
    fenland = org_id(app, "Safer Fenland Partnership")
    client.submit(f"/admin/users/{user_id}", {"organisation": fenland, "roles": ["officer"]})
    assert officer.get("/bids/").status_code == 302


def test_unknown_user_id_is_404(client):
    client.sign_in(ADMIN)
    assert client.get("/admin/users/999999").status_code == 404


def test_user_list_is_searchable(client):
    client.sign_in(ADMIN)
    page = text_of(client.get("/admin/?q=fenland"))
    assert "officer.fenland@example.org" in page
    assert "manager@example.org" not in page
    assert "No users match" in text_of(client.get("/admin/?q=zzzz"))


def test_user_list_is_paginated_in_a_bounded_number_of_queries(app, client, count_queries):
    client.sign_in(ADMIN)
    counts = []
    for extra in (0, 60):
        with app.app_context():
            opcc = session.scalar(select(Organisation).where(Organisation.type == "opcc"))
            for i in range(extra):
                accounts.create_user(f"Bulk {i:03d}", f"bulk{i:03d}@example.org", opcc,
                                     {Role.ASSESSOR}, actor=None)
            session.commit()
        with count_queries() as queries:
            response = client.get("/admin/")
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    second = client.get("/admin/?page=2")
    assert "Showing 26 to 50 of" in text_of(second)
