"""Forms that send email are limited per address and per client, in the database, so every
worker and host counts the same (issue 13, point 8): one post past a limit sends nothing.

The reset form answers the same whatever happens (it never says whether an account exists,
nor that a limit was reached); an invitation past a limit is refused beside its email field
and changes nothing."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal import migrate
from portal.db import get_db, session
from portal.models import AuditEvent, Organisation
from portal.services import limits
from tests.conftest import isolated_database, mail_server, make_test_app
from tests.helpers import load_demo, table_row_counts, text_of

MANAGER = "manager@example.org"
ADMIN = "admin@example.org"
ACCOUNTS = [MANAGER, ADMIN, "finance@example.org", "assessor1@example.org",
            "assessor2@example.org"] + [f"officer.{short}@example.org" for short in
                                        ("cambridge", "eastcambs", "fenland", "hunts",
                                         "peterborough", "southcambs")]


def client_at(app, address: str):
    """A test client whose requests come from the network address ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def ask_reset(client, address: str) -> str:
    """The page's text, the address in it replaced by "<address>"."""
    response = client.submit("/reset-password", {"email": address})
    assert response.status_code == 200
    return text_of(response).replace(address.strip(), "<address>")


def limited_events(app) -> list[AuditEvent]:
    with app.app_context():
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "user.password_reset_limited")))


# --- the password-reset form ----------------------------------------------------------------


def test_one_address_gets_at_most_the_limit_of_reset_emails_from_any_number_of_clients(app,
                                                                                       smtp):
    limit = app.config["EMAIL_LIMIT_PER_ADDRESS"]
    answers = {ask_reset(client_at(app, f"10.0.0.{n}"), MANAGER) for n in range(limit + 1)}
    assert len(smtp.to(MANAGER)) == limit
    assert len(answers) == 1 and "Check your email" in answers.pop()  # the same neutral page
    [event] = limited_events(app)
    assert event.after == {"limit": "address"}  # the account's id, not the address typed
    assert event.record_id is not None
    ask_reset(client_at(app, "10.0.0.99"), MANAGER)
    assert len(smtp.to(MANAGER)) == limit
    assert len(limited_events(app)) == 1  # audited once a window, not once a post


def test_one_client_sends_at_most_the_limit_of_reset_emails_to_any_addresses(app, smtp):
    limit = app.config["EMAIL_LIMIT_PER_CLIENT"]
    assert limit < 2 * len(ACCOUNTS) <= 2 * app.config["EMAIL_LIMIT_PER_ADDRESS"] * len(ACCOUNTS)
    client = client_at(app, "192.0.2.7")
    addresses = [ACCOUNTS[n % len(ACCOUNTS)] for n in range(limit + 1)]
    answers = {ask_reset(client, address) for address in addresses}
    assert len(smtp.messages) == limit
    assert len(answers) == 1
    [event] = limited_events(app)
    assert event.after["limit"] == "client"
    # Another client is not held back by this one.
    ask_reset(client_at(app, "192.0.2.8"), addresses[-1])
    assert len(smtp.messages) == limit + 1


def test_unknown_addresses_count_too_and_get_the_same_answer(app, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "EMAIL_LIMIT_PER_CLIENT", 2)
    client = client_at(app, "192.0.2.20")
    unknown = ask_reset(client, "nobody@example.org")
    ask_reset(client, "nobody.else@example.org")
    over = ask_reset(client, MANAGER)  # an account, but past this client's limit
    assert over == unknown
    assert smtp.messages == []


def test_addresses_are_counted_whatever_their_case(app, smtp):
    limit = app.config["EMAIL_LIMIT_PER_ADDRESS"]
    for n in range(limit + 1):
        ask_reset(client_at(app, f"10.1.0.{n}"), MANAGER.upper() if n % 2 else MANAGER)
    assert len(smtp.to(MANAGER)) == limit


def test_emails_go_again_once_the_window_has_passed(app, smtp, monkeypatch):
    limit = app.config["EMAIL_LIMIT_PER_ADDRESS"]
    for n in range(limit + 1):
        ask_reset(client_at(app, f"10.2.0.{n}"), MANAGER)
    assert len(smtp.to(MANAGER)) == limit
    later = limits.utcnow() + timedelta(minutes=app.config["EMAIL_LIMIT_WINDOW_MINUTES"] + 1)
    monkeypatch.setattr(limits, "utcnow", lambda: later)
    ask_reset(client_at(app, "10.2.0.50"), MANAGER)
    assert len(smtp.to(MANAGER)) == limit + 1


def test_the_table_keeps_no_email_address(app, smtp):
    from portal.models.sending import EmailLimit

    ask_reset(client_at(app, "10.3.0.1"), MANAGER)
    with app.app_context():
        rows = list(session.scalars(select(EmailLimit)))
    assert rows and all(MANAGER not in row.key and "10.3.0.1" not in row.key for row in rows)


# --- invitations ----------------------------------------------------------------------------


def error_beside(response, field: str) -> str:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    message = soup.find(id=f"{field}-error")
    return message.get_text(" ", strip=True) if message else ""


def invite(client, app, address: str):
    with app.app_context():
        fenland = session.scalar(select(Organisation.id).where(
            Organisation.name == "Safer Fenland Partnership"))
    return client.submit("/admin/users/invite", {"name": "Jo Bloggs", "email": address,
                                                 "organisation": fenland,
                                                 "roles": ["officer"]})


def test_one_client_sends_at_most_the_limit_of_invitations_then_is_told_beside_the_field(
        app, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "EMAIL_LIMIT_PER_CLIENT", 3)
    admin = client_at(app, "198.51.100.1")
    admin.sign_in(ADMIN)
    for n in range(3):
        assert invite(admin, app, f"new.{n}@example.org").status_code == 302
    before = table_row_counts(app)
    refused = invite(admin, app, "new.3@example.org")
    assert refused.status_code == 200
    assert "You have sent too many invitations for now" in error_beside(refused, "email")
    assert 'value="new.3@example.org"' in refused.get_data(as_text=True)  # kept as typed
    assert table_row_counts(app) == before  # the refusal changed nothing
    assert len(smtp.messages) == 3 and smtp.to("new.3@example.org") == []


def test_invitations_to_one_address_are_limited_too(app, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "EMAIL_LIMIT_PER_ADDRESS", 0)
    admin = client_at(app, "198.51.100.2")
    admin.sign_in(ADMIN)
    before = table_row_counts(app)
    refused = invite(admin, app, "jo.new@example.org")
    assert "Too many invitations have been sent to this address" in error_beside(refused,
                                                                                 "email")
    assert table_row_counts(app) == before
    assert smtp.messages == []


def test_refused_invitations_do_not_use_up_the_limit(app, smtp, monkeypatch):
    """Only invitations sent are counted: a post refused for another reason (an address that
    already has an account) leaves the count as it was."""
    monkeypatch.setitem(app.config, "EMAIL_LIMIT_PER_CLIENT", 1)
    admin = client_at(app, "198.51.100.3")
    admin.sign_in(ADMIN)
    duplicate = invite(admin, app, MANAGER)
    assert "already exists" in error_beside(duplicate, "email")
    assert invite(admin, app, "first.new@example.org").status_code == 302
    assert len(smtp.messages) == 1


# --- two workers on one database ------------------------------------------------------------


@pytest.fixture
def two_workers(backend, tmp_path):
    """Two app instances (as two workers or hosts would be) on one database whose writes
    commit, both sending through one SMTP server."""
    url, remove = isolated_database(backend, tmp_path, "email_limits")
    apps = [make_test_app(url, tmp_path / f"worker{n}") for n in (1, 2)]
    migrate.upgrade(get_db(apps[0]).engine)
    load_demo(apps[0])
    try:
        with mail_server(*apps) as mailbox:
            yield apps, mailbox
    finally:
        for application in apps:
            get_db(application).engine.dispose()
        remove()


def test_two_workers_share_the_count_per_address(two_workers):
    apps, mailbox = two_workers
    limit = apps[0].config["EMAIL_LIMIT_PER_ADDRESS"]
    for n in range(limit + 1):  # alternately to each worker, from different clients
        ask_reset(client_at(apps[n % 2], f"10.4.0.{n}"), MANAGER)
    assert len(mailbox.to(MANAGER)) == limit


def test_two_workers_share_the_count_per_client(two_workers):
    apps, mailbox = two_workers
    for application in apps:
        application.config["EMAIL_LIMIT_PER_CLIENT"] = 4
    for n in range(5):
        ask_reset(client_at(apps[n % 2], "203.0.113.9"), ACCOUNTS[n])
    assert len(mailbox.messages) == 4


def test_posts_at_the_same_moment_on_two_workers_never_pass_the_limit(two_workers):
    apps, mailbox = two_workers
    limit = apps[0].config["EMAIL_LIMIT_PER_ADDRESS"]
    posts = 2 * (limit + 1)
    clients = [client_at(apps[n % 2], f"10.5.0.{n}") for n in range(posts)]
    tokens = [c.form_tokens("/reset-password") for c in clients]  # pages fetched beforehand
    barrier = threading.Barrier(posts)
    statuses: list[int] = []
    lock = threading.Lock()

    def post(n: int) -> None:
        barrier.wait(timeout=60)
        response = clients[n].post("/reset-password", data={**tokens[n], "email": MANAGER})
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == [200] * posts
    assert len(mailbox.to(MANAGER)) == limit


def test_a_limited_reset_for_no_account_keeps_no_address_in_the_audit(app, smtp):
    nobody = "nobody.at.all@example.org"
    for n in range(app.config["EMAIL_LIMIT_PER_ADDRESS"] + 1):
        ask_reset(client_at(app, f"10.9.0.{n}"), nobody)
    [event] = limited_events(app)
    assert event.record_id is None and event.after == {"limit": "address"}
    assert "nobody" not in repr(event.after)
