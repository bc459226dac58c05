"""Two app hosts behind one proxy share everything that matters (issue 17).

Two gunicorn servers, each in a Linux network namespace of its own (``tests/hosts.py``), share
one PostgreSQL, one S3-compatible store (moto's server, reached through boto3 as in
production: ``STORAGE_URL=s3://…``) and one mail server, and nothing else: each has its own
instance and upload folder, and neither delivers email after its requests
(``MAIL_SEND_AFTER_REQUEST=false``), so only the senders (``flask send-email``) do. The test
talks to each host at its own address, as a proxy would send one person's requests to
either:

1. a session signed in on host A carries on at host B, and ends on both when signed out;
2. a file uploaded through A downloads through B with the same bytes, from the bucket;
3. failed sign-ins count across both hosts: the account locks at SIGN_IN_MAX_FAILURES in all;
4. ``flask send-reminders`` on both hosts at once, then ``flask send-email`` on both at once:
   each reminder arrives once;
5. emails written through both hosts at once, then senders on both at once: each arrives once.

PostgreSQL only; needs root and iproute2 for the namespaces (skipped otherwise, failed in CI).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from flask import Flask
from sqlalchemy import func, make_url, select

from portal import migrate
from portal.db import get_db, session
from portal.models import Fund, OutgoingEmail, ReminderSent, Round, User
from portal.services import email as email_service
from tests.conftest import isolated_database, make_test_app, unavailable
from tests.helpers import DEMO_PASSWORD, load_demo
from tests.hosts import (
    S3_CREDENTIALS,
    Forwarder,
    Host,
    Network,
    S3Endpoint,
    carried_to,
    namespaces_unavailable,
    run_together,
)
from tests.server import Browser, Form, MailServer, Page, PortalServer, release_together

BUCKET = "portal-evidence"
MAX_FAILURES = 5  # SIGN_IN_MAX_FAILURES on both hosts
WRONG = "not-the-password"
OFFICER = "officer.southcambs@example.org"  # sessions and files
LOCKED = "assessor2@example.org"  # the lock-out (no other test signs in as them)
FENLAND = "officer.fenland@example.org"  # the demo's return due soon
CAMBRIDGE = "officer.cambridge@example.org"  # the demo's overdue return
RESETS_THROUGH_A = ["officer.eastcambs@example.org", "officer.peterborough@example.org",
                    "finance@example.org", "officer.hunts@example.org"]
RESETS_THROUGH_B = ["assessor1@example.org", "admin@example.org", "manager@example.org",
                    "officer.eastcambs@example.org"]


@dataclass
class TwoHosts:
    app: Flask  # the test's own app on the same database (to build records and read rows)
    a: Host
    b: Host
    s3: S3Endpoint
    mail: MailServer

    @property
    def hosts(self) -> tuple[Host, Host]:
        return self.a, self.b


def _host_environment(host: Host, *, s3_port: int, mail_port: int) -> dict[str, str]:
    return {
        "STORAGE_URL": f"s3://{BUCKET}/evidence",
        "AWS_ENDPOINT_URL": f"http://{host.gateway}:{s3_port}",
        **S3_CREDENTIALS,
        "AWS_EC2_METADATA_DISABLED": "true",
        "MAIL_SERVER": host.gateway,
        "MAIL_PORT": str(mail_port),
        "MAIL_SEND_AFTER_REQUEST": "false",  # only the senders deliver
        "SIGN_IN_MAX_FAILURES": str(MAX_FAILURES),
    }


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoHosts]:
    why_not = namespaces_unavailable()
    if why_not:
        unavailable(why_not)
    directory: Path = tmp_path_factory.mktemp("two-hosts")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    url, remove = isolated_database("postgresql", directory,
                                    "hosts" + (f"_{worker}" if worker else ""))
    with ExitStack() as cleanup:
        cleanup.callback(remove)
        mail = MailServer().start()
        cleanup.callback(mail.stop)
        s3 = S3Endpoint(directory / "s3", BUCKET)
        cleanup.callback(s3.stop)
        s3.start()
        network = Network(("a", "b")).open()
        cleanup.callback(network.close)
        gateways = [host.gateway for host in network.hosts]
        database = make_url(url)
        forwarders = {name: Forwarder(target, gateways).start() for name, target in (
            ("postgresql", (database.host or "127.0.0.1", database.port or 5432)),
            ("s3", ("127.0.0.1", s3.port)),
            ("smtp", ("127.0.0.1", mail.port)))}
        for forwarder in forwarders.values():
            cleanup.callback(forwarder.stop)

        app = make_test_app(url, directory, MAIL_SERVER="127.0.0.1", MAIL_PORT=mail.port,
                            MAIL_SEND_AFTER_REQUEST=False)
        engine = get_db(app).engine
        cleanup.callback(engine.dispose)
        migrate.upgrade(engine)
        load_demo(app, awards=True)  # a return due soon and an overdue one
        engine.dispose()

        for host in network.hosts:
            host_url = database.set(host=host.gateway, port=forwarders["postgresql"].port)
            host.server = PortalServer(
                database_url=host_url.render_as_string(hide_password=False),
                directory=directory / f"host-{host.label}", secret_key=app.config["SECRET_KEY"],
                audit_key=app.config["AUDIT_KEY"], workers=2, bind_host=host.address,
                command_prefix=host.prefix,
                environment=_host_environment(host, s3_port=forwarders["s3"].port,
                                              mail_port=forwarders["smtp"].port))
            cleanup.callback(host.server.stop)
            host.server.start(wait_seconds=None)  # both boot at once
        for host in network.hosts:
            assert host.server is not None
            host.server.wait_until_up()
        yield TwoHosts(app, network.hosts[0], network.hosts[1], s3, mail)
        for host in network.hosts:
            assert host.server is not None
            problems = host.server.errors() + host.server.server_errors()
            assert not problems, f"host {host.label} logged errors:\n" + "\n".join(problems)


# --- helpers -----------------------------------------------------------------------------------


def _sign_in_page(browser: Browser, email: str, password: str) -> Page:
    form = browser.form("/sign-in")
    return browser.post(form, {"email": email, "password": password})


def _sign_out_form(page: Page) -> Form:
    """The page's sign-out form (the header's; the idle warning has another)."""
    tag = page.soup.find("form", action=re.compile(r"/sign-out$"))
    assert tag is not None, f"{page.describe()} has no sign-out form"
    hidden = [(str(i["name"]), str(i.get("value", ""))) for i in tag.find_all("input")
              if i.get("name") and (i.get("type") or "").lower() == "hidden"]
    return Form(action=urljoin(page.url, tag["action"]), enctype="", hidden=hidden)


def _said(page: Page) -> str:
    return " | ".join(page.notices()) or page.visible_text()[:300]


def _key(message: Any) -> tuple[str, str, str]:
    """What tells one email from another (no Message-ID is set): to, subject, body."""
    return (str(message["To"]), str(message["Subject"]),
            " ".join(message.get_content().split()))


def _outbox(app: Flask) -> list[tuple[int, str, str, Any]]:
    """Every row of ``outgoing_emails``: id, status, recipients, parsed message."""
    with app.app_context():
        rows = session.execute(select(OutgoingEmail.id, OutgoingEmail.status,
                                      OutgoingEmail.recipients, OutgoingEmail.message)
                               .order_by(OutgoingEmail.id)).all()
        session.rollback()
    return [(row.id, row.status.value, row.recipients, email_service.parse(row.message))
            for row in rows]


def _assert_each_email_arrived_once(two: TwoHosts) -> None:
    """Every email written is sent, and arrived at the mail server exactly once; nothing
    arrived that was not written."""
    rows = _outbox(two.app)
    unsent = [(i, status, to) for i, status, to, _m in rows if status != "sent"]
    assert not unsent, f"emails not sent: {unsent}"
    written = Counter(_key(message) for *_row, message in rows)
    arrived = Counter(_key(message) for message in two.mail.messages)
    twice = {key[:2]: count for key, count in arrived.items() if count > written.get(key, 0)}
    missing = {key[:2]: count for key, count in written.items() if arrived.get(key, 0) < count}
    assert not twice, f"emails that arrived more often than written (to, subject): {twice}"
    assert not missing, f"emails written that never arrived (to, subject): {missing}"


def _senders_on_both(two: TwoHosts) -> None:
    """``flask send-email`` on both hosts at once (one pass each), both successful."""
    results = run_together([(host.flask_command("send-email"), host.flask_environment())
                            for host in two.hosts])
    for host, result in zip(two.hosts, results, strict=True):
        assert result.returncode == 0, (f"flask send-email on host {host.label} exited "
                                        f"{result.returncode}:\n{result.stdout}\n{result.stderr}")


def _draft_bid(app: Flask, officer: str) -> int:
    """A new draft bid of ``officer``'s partnership in the Safer Communities Fund's round."""
    from portal.services import bids

    with app.test_request_context():
        author = session.scalar(select(User).where(User.email == officer))
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF"))
        assert author is not None and round_ is not None
        bid = bids.start_bid(round_, author, bids.new_creation_token())
        session.commit()
        return bid.id


# --- the tests ---------------------------------------------------------------------------------


def test_both_hosts_reach_the_database_and_the_store(two: TwoHosts) -> None:
    for host in two.hosts:
        page = host.browser().get("/healthz")
        assert page.status == 200, f"host {host.label}: {page.status} {page.text[:300]}"
        health = json.loads(page.body)
        assert (health.get("database"), health.get("store")) == ("ok", "ok"), \
            f"host {host.label}: {health}"


def test_a_session_signed_in_on_one_host_carries_on_at_the_other(two: TwoHosts) -> None:
    at_a = two.a.browser().sign_in(OFFICER)
    # A form read on host A (its CSRF token kept in the session cookie) ...
    form = at_a.form("/account/language")
    assert two.b.browser().get("/bids/").is_redirect, "host B lets a stranger see the bids"
    at_b = carried_to(at_a, two.b.base_url)
    page = at_b.get("/bids/")
    assert page.status == 200, f"host B did not take host A's session: {page.describe()}"
    assert "Your bids" in page.visible_text(), page.visible_text()[:300]
    # ... is posted to host B (one secret key, one store of sessions).
    form.action = form.action.replace(two.a.base_url, two.b.base_url)
    saved = at_b.follow(at_b.post(form, {"language": "en"}))
    assert "Your language has been saved" in _said(saved), \
        f"host B refused a form read on host A: {saved.describe()} {_said(saved)}"
    # Signed out at B, the session ends for the copy at A too: it lives on the server.
    signed_out = at_b.post(_sign_out_form(at_b.open_page("/bids/")))
    assert signed_out.is_redirect, signed_out.describe()
    after = at_a.get("/bids/")
    assert after.is_redirect and "/sign-in" in after.location, \
        f"host A still honours a session ended at host B: {after.describe()}"


def test_a_file_uploaded_through_one_host_downloads_through_the_other(two: TwoHosts) -> None:
    bid_id = _draft_bid(two.app, OFFICER)
    content = b"%PDF-1.4\n" + os.urandom(300_000) + b"\n%%EOF\n"
    at_a = two.a.browser().sign_in(OFFICER)
    form = at_a.form(f"/bids/{bid_id}/evidence")
    uploaded = at_a.post(form, {"description": "Incidents by street"},
                         files={"file": ("incidents.pdf", content, "application/pdf")})
    assert uploaded.is_redirect, f"the upload through host A failed: {_said(uploaded)}"

    at_b = two.b.browser().sign_in(OFFICER)
    listing = at_b.open_page(f"/bids/{bid_id}/evidence")
    links = [a["href"] for a in listing.soup.find_all("a", href=True)
             if re.fullmatch(rf"/bids/{bid_id}/evidence/\d+", a["href"])]
    assert len(links) == 1, f"host B lists {links} for the bid's evidence"
    download = at_b.get(links[0])
    assert download.status == 200, f"host B could not send the file: {download.describe()}"
    assert download.body == content, "host B sent other bytes than were uploaded through A"
    stored = two.s3.objects("evidence/")
    assert content in stored.values(), f"the file is not in the bucket: {sorted(stored)}"
    for host in two.hosts:
        assert host.server is not None
        folder = host.server.directory / "uploads"
        kept = [p.name for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
        assert not kept, f"host {host.label} kept the file in its own folder: {kept}"


def test_failed_sign_ins_count_across_both_hosts(two: TwoHosts) -> None:
    hosts = [two.a if attempt % 2 == 0 else two.b for attempt in range(MAX_FAILURES)]
    for attempt, host in enumerate(hosts[:-1], start=1):
        page = _sign_in_page(host.browser(), LOCKED, WRONG)
        assert "Enter a correct email address and password" in _said(page), \
            f"failure {attempt} (host {host.label}): {_said(page)}"
    last = _sign_in_page(hosts[-1].browser(), LOCKED, WRONG)
    assert "too many attempts to sign in" in _said(last), \
        (f"{MAX_FAILURES} failures alternating between the hosts did not lock the account "
         f"(failure {MAX_FAILURES} at host {hosts[-1].label}): {_said(last)}")
    for host in two.hosts:  # even the right password is refused, wherever it is typed
        page = _sign_in_page(host.browser(), LOCKED, DEMO_PASSWORD)
        assert not page.is_redirect and "too many attempts to sign in" in _said(page), \
            f"host {host.label} let a locked account in: {page.describe()} {_said(page)}"


def test_reminders_and_senders_on_both_hosts_at_once_send_each_reminder_once(
        two: TwoHosts) -> None:
    results = run_together([(host.flask_command("send-reminders"), host.flask_environment())
                            for host in two.hosts])
    for host, result in zip(two.hosts, results, strict=True):
        assert result.returncode == 0, (f"flask send-reminders on host {host.label} exited "
                                        f"{result.returncode}:\n{result.stdout}\n{result.stderr}")
    with two.app.app_context():
        sent = session.scalar(select(func.count()).select_from(ReminderSent))
        session.rollback()
    assert sent == 2, f"{sent} reminders recorded as sent; the demo has 2 due"
    _senders_on_both(two)
    subjects = {address: [m["Subject"] for m in two.mail.messages if address in m["To"]
                          and m["Subject"].startswith(("Return due soon", "Return overdue"))]
                for address in (FENLAND, CAMBRIDGE)}
    assert [s.split(":")[0] for s in subjects[FENLAND]] == ["Return due soon"], \
        f"the due-soon reminder arrived as {subjects[FENLAND]}"
    assert [s.split(":")[0] for s in subjects[CAMBRIDGE]] == ["Return overdue"], \
        f"the overdue reminder arrived as {subjects[CAMBRIDGE]}"
    _assert_each_email_arrived_once(two)


def test_emails_written_through_both_hosts_arrive_once_with_senders_on_both(
        two: TwoHosts) -> None:
    before = {row[0] for row in _outbox(two.app)}
    mark = two.mail.mark()
    posts = [(two.a, address) for address in RESETS_THROUGH_A] + \
        [(two.b, address) for address in RESETS_THROUGH_B]
    forms = [(host, host.browser(), address) for host, address in posts]
    ready = [(browser, browser.form("/reset-password"), address) for _h, browser, address in forms]
    outcomes = release_together([partial(browser.post, form, {"email": address})
                                 for browser, form, address in ready])
    for (host, _b, address), outcome in zip(forms, outcomes, strict=True):
        assert outcome.error is None, f"reset for {address} at host {host.label}: {outcome.error}"
        assert outcome.value.status == 200, \
            f"reset for {address} at host {host.label}: {outcome.value.describe()}"
    written = [row for row in _outbox(two.app) if row[0] not in before]
    resets = Counter(to for _i, _s, to, _m in written)
    assert resets == Counter(RESETS_THROUGH_A + RESETS_THROUGH_B), \
        f"the resets wrote emails to {dict(resets)}"
    assert not two.mail.since(mark), "a host delivered email after its request: only senders may"
    _senders_on_both(two)
    arrived = Counter(str(m["To"]) for m in two.mail.since(mark))
    assert arrived == resets, f"the senders delivered {dict(arrived)}, not one each of {resets}"
    _assert_each_email_arrived_once(two)
