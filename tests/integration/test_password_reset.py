"""Password reset by an emailed single-use link that expires, sent over real SMTP."""

from __future__ import annotations

import re
import time

from portal.db import session
from portal.services import accounts
from tests.helpers import text_of

MANAGER = "manager@example.org"
NEW_PASSWORD = "lantern-orchard-violet-engine"


def reset_link(mailbox, address=MANAGER) -> str:
    [message] = mailbox.to(address)
    assert message["Subject"] == "Reset your password"
    match = re.search(r"http://portal\.test(/reset-password/\S+)", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def test_asking_for_a_reset_emails_a_link_that_sets_a_new_password(client, smtp):
    response = client.submit("/reset-password", {"email": MANAGER})
    assert "Check your email" in text_of(response)
    link = reset_link(smtp)
    saved = client.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert saved.headers["Location"] == "/sign-in"
    assert client.sign_in(MANAGER, NEW_PASSWORD).headers["Location"] == "/manage/"


def test_an_unknown_address_gets_the_same_page_and_no_email(client, smtp):
    response = client.submit("/reset-password", {"email": "nobody@example.org"})
    assert "Check your email" in text_of(response)
    assert smtp.messages == []


def test_a_reset_link_works_only_once(client, smtp):
    client.submit("/reset-password", {"email": MANAGER})
    link = reset_link(smtp)
    client.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    again = client.get(link)
    assert again.status_code == 400
    assert "This link has already been used" in text_of(again)


def test_an_expired_reset_link_is_refused_and_changes_nothing(app, client, smtp, monkeypatch):
    client.submit("/reset-password", {"email": MANAGER})
    link = reset_link(smtp)
    later = time.time() + app.config["PASSWORD_RESET_MAX_AGE"] + 60
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.get(link)
    assert response.status_code == 400
    assert "This link has expired" in text_of(response)
    monkeypatch.undo()
    assert client.sign_in(MANAGER).headers["Location"] == "/manage/"


def test_a_tampered_link_is_refused(client):
    response = client.get("/reset-password/not-a-real-token")
    assert response.status_code == 400
    assert "This link is not valid" in text_of(response)


def test_short_and_common_passwords_are_refused_with_the_reason(client, smtp):
    client.submit("/reset-password", {"email": MANAGER})
    link = reset_link(smtp)
    short = client.submit(link, {"password": "short", "confirm": "short"})
    assert "Password must be 12 characters or more" in text_of(short)
    common = client.submit(link, {"password": "password1234", "confirm": "password1234"})
    assert "too common or easy to guess" in text_of(common)
    mismatch = client.submit(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert "Passwords must match" in text_of(mismatch)
    assert client.sign_in(MANAGER).headers["Location"] == "/manage/"


def test_changing_the_password_signs_out_other_sessions(app, client, smtp):
    other = app.test_client()
    other.sign_in(MANAGER)
    assert other.get("/manage/").status_code == 200
    client.submit("/reset-password", {"email": MANAGER})
    client.submit(reset_link(smtp), {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert other.get("/manage/").status_code == 302


def test_links_in_emails_use_the_portals_address_not_the_requests_host(app, smtp,
                                                                       monkeypatch):
    """A reset asked for with a forged ``Host`` still links to BASE_URL: otherwise anyone could
    send a victim a working reset token pointing at their own site. (Production sets no
    SERVER_NAME, so every Host reaches the portal; the tests' SERVER_NAME is lifted here.)"""
    assert app.config["BASE_URL"] == "http://portal.test"
    monkeypatch.setitem(app.config, "SERVER_NAME", None)
    with app.test_request_context("/reset-password", method="POST",
                                  base_url="http://evil.example"):
        accounts.request_password_reset(MANAGER)
        session.commit()
    [message] = smtp.to(MANAGER)
    assert "evil.example" not in message.get_content()
    assert reset_link(smtp).startswith("/reset-password/")



def test_links_in_emails_ignore_a_script_name_a_client_sent(app, smtp, monkeypatch):
    """gunicorn passes a SCRIPT_NAME header from a trusted address into the request's root;
    an email's link is BASE_URL and the path within the portal, whatever the request said."""
    monkeypatch.setitem(app.config, "SERVER_NAME", None)
    with app.test_request_context("/evil/reset-password", method="POST",
                                  environ_overrides={"SCRIPT_NAME": "/evil"}):
        accounts.request_password_reset(MANAGER)
        session.commit()
    assert "/evil" not in smtp.to(MANAGER)[0].get_content()
    assert reset_link(smtp).startswith("/reset-password/")


def test_without_smtp_settings_mail_goes_to_the_outbox(app, client, tmp_path):
    app.config["MAIL_OUTBOX"] = str(tmp_path)
    client.submit("/reset-password", {"email": MANAGER})
    [written] = list(tmp_path.glob("*.eml"))
    assert "/reset-password/" in written.read_text()


def test_a_refused_change_sends_no_email(app, smtp):
    with app.test_request_context():
        user = accounts.get_user_by_email(MANAGER)
        accounts.request_password_reset(user.email)
        session.rollback()
    assert smtp.messages == []
