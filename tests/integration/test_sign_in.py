"""Signing in and out: generic messages, lock-out kept in the database, fresh sessions."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from portal.db import session
from portal.models import AuditEvent, SignInThrottle
from tests.helpers import text_of

MANAGER = "manager@example.org"
WRONG = "not-the-right-password"


def audit_actions(app, record_id=None):
    with app.app_context():
        statement = select(AuditEvent.action).order_by(AuditEvent.id)
        if record_id is not None:
            statement = statement.where(AuditEvent.record_id == str(record_id))
        return list(session.scalars(statement))


def test_signing_in_lands_on_the_home_page_and_is_audited(app, client):
    response = client.sign_in(MANAGER)
    assert response.headers["Location"] == "/manage/"
    assert "user.signed_in" in audit_actions(app)


def test_a_wrong_password_and_an_unknown_account_get_the_same_message(client):
    wrong = client.sign_in(MANAGER, WRONG)
    unknown = client.sign_in("nobody@example.org", WRONG)
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "Enter a correct email address and password" in text_of(response)
        assert "There is a problem" in text_of(response)
    assert client.get("/manage/").status_code == 302


def test_the_email_typed_is_kept_after_an_error(client):
    response = client.sign_in(MANAGER, WRONG)
    assert f'value="{MANAGER}"' in response.get_data(as_text=True)


def test_failed_sign_ins_are_audited(app, client):
    client.sign_in(MANAGER, WRONG)
    assert "user.sign_in_failed" in audit_actions(app)


@pytest.mark.parametrize("email", [MANAGER, "nobody@example.org"])
def test_repeated_failures_lock_the_address_whether_or_not_it_has_an_account(app, client, email):
    for _ in range(app.config["SIGN_IN_MAX_FAILURES"]):
        client.sign_in(email, WRONG)
    locked = client.sign_in(email, "grants-demo-password")
    assert "too many attempts to sign in" in text_of(locked)
    assert client.get("/manage/").status_code == 302  # even the right password is refused
    with app.app_context():
        throttle = session.get(SignInThrottle, email)
        assert throttle is not None and throttle.locked_until is not None


def test_a_lock_recorded_in_the_database_refuses_sign_in(app, client):
    """The lock lives in the database, so every worker process enforces it."""
    from datetime import timedelta

    from portal.db import utcnow

    with app.app_context():
        session.add(SignInThrottle(email=MANAGER, failures=0,
                                   locked_until=utcnow() + timedelta(minutes=5)))
        session.commit()
    locked = client.sign_in(MANAGER)
    assert "too many attempts to sign in" in text_of(locked)


def test_a_successful_sign_in_clears_earlier_failures(app, client):
    client.sign_in(MANAGER, WRONG)
    client.sign_in(MANAGER)
    with app.app_context():
        assert session.get(SignInThrottle, MANAGER) is None


def test_sign_in_starts_a_fresh_session(client):
    with client.session_transaction() as before:
        before["planted"] = "by an attacker"
    client.sign_in(MANAGER)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after.permanent


def test_session_cookie_is_httponly_and_samesite(client):
    response = client.sign_in(MANAGER)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_is_secure_when_served_over_https(app, client):
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        token = client.csrf_token("/sign-in")
        response = client.post("/sign-in", data={"email": MANAGER, "csrf_token": token,
                                                 "password": "grants-demo-password"},
                               base_url="https://portal.test")
        cookie = next(c for c in response.headers.getlist("Set-Cookie")
                      if c.startswith("session="))
        assert "Secure" in cookie
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False


def test_an_idle_session_expires(app, client, monkeypatch):
    client.sign_in(MANAGER)
    assert client.get("/manage/").status_code == 200
    idle = app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() + 60
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + idle)
    response = client.get("/manage/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def session_cookie_set(response) -> bool:
    return any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie"))


def test_the_idle_expiry_is_renewed_once_a_minute_not_on_every_response(app, client,
                                                                         monkeypatch):
    client.sign_in(MANAGER)
    client.get("/manage/")  # the first page after sign-in keeps a new CSRF secret
    assert not session_cookie_set(client.get("/manage/"))  # unchanged, signed a moment ago
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 90)
    renewed = client.get("/manage/")
    assert renewed.status_code == 200 and session_cookie_set(renewed)
    # Still signed in long after sign-in, because the cookie was renewed.
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    monkeypatch.setattr(time, "time", lambda: real_time() + lifetime + 30)
    assert client.get("/manage/").status_code == 200


def test_signing_out_ends_the_session_and_is_audited(app, client):
    client.sign_in(MANAGER)
    token = client.csrf_token("/manage/")
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.headers["Location"] == "/sign-in"
    assert client.get("/manage/").status_code == 302
    assert "user.signed_out" in audit_actions(app)


def test_sign_out_needs_a_post_with_a_token(client):
    client.sign_in(MANAGER)
    assert client.get("/sign-out").status_code == 405
    forged = client.post("/sign-out", data={})
    assert forged.status_code == 400
    assert client.get("/manage/").status_code == 200  # still signed in


def test_a_forged_sign_in_form_is_refused_and_changes_nothing(app, client):
    response = client.post("/sign-in", data={"email": MANAGER, "password": WRONG})
    assert response.status_code == 400
    assert "The form you used has expired" in text_of(response)
    with app.app_context():
        assert session.get(SignInThrottle, MANAGER) is None


def test_next_only_goes_to_pages_on_this_site(client):
    token = client.csrf_token("/sign-in")
    response = client.post("/sign-in?next=https://evil.example/", data={
        "email": MANAGER, "password": "grants-demo-password", "csrf_token": token})
    assert response.headers["Location"] == "/manage/"


def test_next_returns_to_the_page_asked_for(client):
    token = client.csrf_token("/sign-in")
    response = client.post("/sign-in?next=/manage/", data={
        "email": "admin@example.org", "password": "grants-demo-password", "csrf_token": token})
    assert response.headers["Location"] == "/manage/"


def test_a_deactivated_user_cannot_sign_in(app, client):
    from portal.services import accounts

    with app.app_context():
        accounts.get_user_by_email(MANAGER).active = False
        session.commit()
    response = client.sign_in(MANAGER)
    assert "Enter a correct email address and password" in text_of(response)
