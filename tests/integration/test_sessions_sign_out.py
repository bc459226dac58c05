"""Signing out ends the session on the server, for every copy of its cookie (issue 13, point 5);
deactivation and a new password end every sign-in of the user; the language chosen outlives
the session (signing out used to reset it to English)."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask, url_for
from sqlalchemy import func, select

from portal.db import session
from portal.models import Role, User
from portal.models.sessions import SignIn
from portal.services import accounts
from portal.services import sessions as sign_ins
from tests.helpers import CheckedClient, table_row_counts, text_of

HOMES = {
    "officer.southcambs@example.org": "/bids/",
    "assessor1@example.org": "/assess/",
    "manager@example.org": "/manage/",
    "finance@example.org": "/finance/",
    "admin@example.org": "/admin/",
}
OFFICER = "officer.southcambs@example.org"
DOMAIN = "portal.test"  # the test app's SERVER_NAME


def cookie_of(client: CheckedClient) -> str:
    cookie = client.get_cookie("session", domain=DOMAIN)
    assert cookie is not None
    return cookie.value


def client_with(app: Flask, cookie: str) -> CheckedClient:
    other: CheckedClient = app.test_client()  # type: ignore[assignment]
    other.set_cookie("session", cookie, domain=DOMAIN)
    return other


def sign_out(client: CheckedClient, page: str) -> None:
    response = client.post("/sign-out", data={"csrf_token": client.csrf_token(page)})
    assert response.status_code == 302


def signed_in_pages(app: Flask) -> list[str]:
    """Every page a signed-in user may open whose address needs no id."""
    from portal.access import PUBLIC, access_of

    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if "GET" in (rule.methods or ()) and not rule.arguments
                  and access_of(app.view_functions[rule.endpoint]) not in (None, PUBLIC))


def signed_in_posts(app: Flask) -> list[str]:
    """Every signed-in POST endpoint, its ids filled in with 1 and its keys with "about"."""
    from portal.access import PUBLIC, access_of

    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()) or access_of(
                app.view_functions[rule.endpoint]) in (None, PUBLIC):
            continue
        numbers = set(re.findall(r"<int:(\w+)>", rule.rule))
        values = {name: 1 if name in numbers else "about" for name in rule.arguments}
        with app.test_request_context():
            urls.append(url_for(rule.endpoint, **values))
    return sorted(urls)


@pytest.mark.parametrize("email", sorted(HOMES))
def test_a_copy_of_the_cookie_taken_before_signing_out_opens_nothing_afterwards(app, client,
                                                                               email):
    client.sign_in(email)
    home = HOMES[email]
    assert client.get(home).status_code == 200
    copy = cookie_of(client)
    sign_out(client, home)
    stolen = client_with(app, copy)
    for page in [home, *signed_in_pages(app)]:
        response = stolen.get(page)
        assert response.status_code == 302, page
        assert response.headers["Location"].startswith("/sign-in"), page


def test_a_copy_of_the_cookie_posts_nothing_after_signing_out(app, client):
    client.sign_in(OFFICER)
    token = client.csrf_token("/bids/")  # the copy's CSRF secret is still good
    copy = cookie_of(client)
    sign_out(client, "/bids/")
    stolen = client_with(app, copy)
    before = table_row_counts(app)
    for url in signed_in_posts(app):
        response = stolen.post(url, data={"csrf_token": token, "title": "Forged"})
        if url == "/session/keep-alive":  # the idle warning's script reads JSON
            assert response.status_code == 401 and response.get_json()["signed_in"] is False
            continue
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/sign-in"), url
    assert table_row_counts(app) == before


def test_signing_out_ends_only_that_sign_in(app):
    laptop: CheckedClient = app.test_client()  # type: ignore[assignment]
    phone: CheckedClient = app.test_client()  # type: ignore[assignment]
    laptop.sign_in(OFFICER)
    phone.sign_in(OFFICER)
    sign_out(laptop, "/bids/")
    assert laptop.get("/bids/").status_code == 302
    assert phone.get("/bids/").status_code == 200


def test_each_sign_in_is_a_row_that_signing_out_ends(app, client):
    client.sign_in(OFFICER)
    with client.session_transaction() as cookie:
        sign_in_id = cookie["sign_in"]
    with app.app_context():
        row = session.get(SignIn, sign_in_id)
        assert row is not None and row.ended_at is None and len(sign_in_id) >= 40
    sign_out(client, "/bids/")
    with app.app_context():
        row = session.get(SignIn, sign_in_id)
        assert row.ended_at is not None and row.ended_because == sign_ins.SIGNED_OUT


def test_a_session_without_a_live_sign_in_is_not_signed_in(app, client):
    """A cookie of before the sign-in rows (or with its row gone) opens nothing."""
    client.sign_in(OFFICER)
    with client.session_transaction() as cookie:
        cookie.pop("sign_in")
    assert client.get("/bids/").status_code == 302


def test_deactivating_a_user_ends_all_their_sign_ins(app):
    officer: CheckedClient = app.test_client()  # type: ignore[assignment]
    officer.sign_in(OFFICER)
    assert officer.get("/bids/").status_code == 200
    with app.test_request_context():
        user = session.scalar(select(User).where(User.email == OFFICER))
        admin = session.scalar(select(User).where(User.email == "admin@example.org"))
        accounts.update_user(user, roles={Role.OFFICER}, organisation=user.organisation,
                             active=False, actor=admin)
        session.commit()
        live = session.scalar(select(func.count()).select_from(SignIn).where(
            SignIn.user_id == user.id, SignIn.ended_at.is_(None)))
        assert live == 0
    assert officer.get("/bids/").status_code == 302


def test_a_new_password_ends_all_sign_ins(app):
    officer: CheckedClient = app.test_client()  # type: ignore[assignment]
    officer.sign_in(OFFICER)
    with app.test_request_context():
        user = session.scalar(select(User).where(User.email == OFFICER))
        accounts.set_password(user, "a brand new long passphrase", actor=user,
                              action="user.password_reset")
        session.commit()
        ended = session.scalars(select(SignIn.ended_because).where(
            SignIn.user_id == user.id)).all()
        assert ended and set(ended) == {sign_ins.PASSWORD_CHANGED}
    assert officer.get("/bids/").status_code == 302


def test_a_sign_in_ends_after_the_absolute_lifetime_however_busy(app, client):
    client.sign_in(OFFICER)
    with client.session_transaction() as cookie:
        sign_in_id = cookie["sign_in"]
    with app.app_context():
        row = session.get(SignIn, sign_in_id)
        row.created_at = row.created_at - sign_ins.absolute_lifetime()
        session.commit()
    assert client.get("/bids/").status_code == 302


# --- the language outlives the session -----------------------------------------------------


def test_signing_out_keeps_the_language_chosen(app, client):
    client.sign_in(OFFICER)
    client.submit("/account/language", {"language": "cy"})
    sign_out(client, "/bids/")
    page = client.get("/sign-in")
    assert 'lang="cy"' in page.get_data(as_text=True)
    assert "Rydych wedi allgofnodi." in text_of(page)  # "You have signed out."


def test_signing_out_keeps_the_language_of_the_account(app, client):
    with app.app_context():
        user = session.scalar(select(User).where(User.email == OFFICER))
        user.language = "cy"
        session.commit()
    client.sign_in(OFFICER)
    sign_out(client, "/bids/")
    assert 'lang="cy"' in client.get("/sign-in").get_data(as_text=True)


def test_an_idle_session_keeps_the_language_chosen(app, client, monkeypatch):
    client.submit("/account/language", {"language": "cy"})
    idle = app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() + 60
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + idle)
    assert 'lang="cy"' in client.get("/sign-in").get_data(as_text=True)
