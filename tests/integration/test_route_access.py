"""Every route declares who may use it, and the declarations hold in practice."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.routing import IntegerConverter

from portal.access import PUBLIC, access_of, public
from portal.models import Role
from portal.services.policy import Action, roles_for
from tests.helpers import text_of

SNAPSHOT = Path(__file__).with_name("route_access_snapshot.json")

# Endpoints that are not views of ours.
NOT_VIEWS = {"static"}


def undeclared_endpoints(app: Flask) -> list[str]:
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_VIEWS:
            continue
        if access_of(app.view_functions[rule.endpoint]) is None:
            missing.append(rule.endpoint)
    return missing


def test_every_endpoint_declares_who_may_use_it(app):
    assert undeclared_endpoints(app) == []


def test_the_walk_catches_a_route_added_without_a_declaration(app):
    from tests.conftest import make_test_app

    other = make_test_app(app.config["DATABASE_URL"], __import__("pathlib").Path("/tmp"))

    @other.route("/forgotten")
    def forgotten():  # pragma: no cover - never called
        return "oops"

    @other.route("/declared")
    @public
    def declared():  # pragma: no cover - never called
        return "fine"

    assert undeclared_endpoints(other) == ["forgotten"]


def test_declarations_name_actions_of_the_policy(app):
    for endpoint, view in app.view_functions.items():
        access = access_of(view)
        if endpoint in NOT_VIEWS or access == PUBLIC:
            continue
        assert isinstance(access, Action), endpoint


def allowed_roles(app: Flask) -> dict[str, list[str]]:
    """Each endpoint and the roles the policy lets use it (``["public"]`` for anyone)."""
    allowed = {}
    for endpoint, view in sorted(app.view_functions.items()):
        if endpoint in NOT_VIEWS:
            continue
        access = access_of(view)
        allowed[endpoint] = (["public"] if access == PUBLIC
                             else sorted(role.value for role in roles_for(access)))
    return allowed


def test_who_may_use_each_route_is_what_the_snapshot_says(app):
    """Widening (or narrowing) a route's access fails here until the snapshot is changed on
    purpose: ``UPDATE_ACCESS_SNAPSHOT=1 make test PYTEST_ARGS="-k snapshot"``, then read the
    diff of ``route_access_snapshot.json`` in review."""
    now = allowed_roles(app)
    if os.environ.get("UPDATE_ACCESS_SNAPSHOT"):
        lines = [f"  {json.dumps(endpoint)}: {json.dumps(roles)}" for endpoint, roles in now.items()]
        SNAPSHOT.write_text("{\n" + ",\n".join(lines) + "\n}\n")
    recorded = json.loads(SNAPSHOT.read_text())
    changed = {endpoint: {"snapshot": recorded.get(endpoint), "now": now.get(endpoint)}
               for endpoint in sorted(set(now) | set(recorded))
               if now.get(endpoint) != recorded.get(endpoint)}
    assert changed == {}


def test_the_snapshot_catches_a_role_added_to_a_route(app, monkeypatch):
    from portal.services import policy

    widened = policy.Rule(policy.RULES[Action.HANDLE_MONEY].roles | {Role.OFFICER})
    monkeypatch.setitem(policy.RULES, Action.HANDLE_MONEY, widened)
    recorded = json.loads(SNAPSHOT.read_text())
    assert allowed_roles(app)["finance.home"] != recorded["finance.home"]


HOMES = {
    "officer.fenland@example.org": "/bids/",
    "assessor1@example.org": "/assess/",
    "manager@example.org": "/manage/",
    "finance@example.org": "/finance/",
    "admin@example.org": "/admin/",
}
PAGES = ["/bids/", "/assess/", "/manage/", "/finance/", "/admin/", "/admin/users/invite"]
ALLOWED = {
    "officer.fenland@example.org": {"/bids/"},
    "assessor1@example.org": {"/assess/"},
    "manager@example.org": {"/manage/"},
    "finance@example.org": {"/finance/"},
    "admin@example.org": {"/admin/", "/admin/users/invite"},
}


@pytest.mark.parametrize("email", sorted(HOMES))
def test_each_role_reaches_its_own_pages_and_no_others(client, email):
    signed_in = client.sign_in(email)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == HOMES[email]
    for page in PAGES:
        expected = 200 if page in ALLOWED[email] else 403
        assert client.get(page).status_code == expected, (email, page)


@pytest.mark.parametrize("page", PAGES)
def test_signed_out_visitors_are_sent_to_sign_in(client, page):
    response = client.get(page)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_forbidden_page_is_in_the_portal_design(client):
    client.sign_in("officer.fenland@example.org")
    response = client.get("/admin/")
    assert response.status_code == 403
    assert "You do not have permission to see this page" in text_of(response)


def test_a_user_with_several_roles_gets_every_section_in_the_navigation(app, client):
    from portal.db import session
    from portal.models import User, UserRole
    from portal.services import accounts

    with app.app_context():
        user = accounts.get_user_by_email("finance@example.org")
        user.role_rows.append(UserRole(role=Role.ASSESSOR))
        session.commit()
    client.sign_in("finance@example.org")
    assert client.get("/assess/").status_code == 200
    page = client.get("/finance/").get_data(as_text=True)
    assert 'href="/assess/"' in page and 'href="/finance/"' in page
    del User


def test_an_id_too_large_for_its_column_or_zero_is_not_found_on_every_route(app, client):
    """Every ``<int:…>`` in every route, given 0, a number beyond an INTEGER key, other
    scripts' digits or leading zeros (``/bids/0002``, a second address of ``/bids/2``): 404,
    the same for anyone, never a database error. (Signed out, a route that matched would
    send the visitor to sign in instead.)"""
    checked = 0
    for rule in app.url_map.iter_rules():
        ints = [name for name, converter in rule._converters.items()
                if isinstance(converter, IntegerConverter)]
        if not ints or "GET" not in rule.methods:
            continue
        for bad in ("0", str(2**31), str(10**25), "١", "１",  # int() reads these two as 1
                    "01", "0002", "00"):
            values = {name: 1 for name in rule.arguments}
            values.update({name: 987654 for name in ints})
            path = rule.build(values, append_unknown=False)[1].replace("987654", bad)
            assert client.get(path).status_code == 404, path
        checked += 1
    assert checked > 20
