"""Email through a durable outbox (issue 17, point 2): each email is a row written with the
change that causes it, so it leaves if and only if that change commits; the request delivers
it at once after its commit, and when the mail server cannot take it the row waits, with the
server's answer, for the sender (``flask send-email``), which tries again later, gives up on
what is refused for good, and never sends an email twice, even with two senders at once."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import func, select, update

from portal import migrate
from portal.db import get_db, session, utcnow
from portal.models import EmailStatus, OutgoingEmail
from portal.services import DomainError, email, sending
from portal.services.workflow import atomic
from tests.conftest import Mailbox, free_port, isolated_database, make_test_app
from tests.helpers import signed_in, text_of

MANAGER = "manager@example.org"
ADMIN = "admin@example.org"


# --- helpers --------------------------------------------------------------------------------


class Refusing(Mailbox):
    """A mail server that answers every recipient with ``reply`` (e.g. "550 …")."""

    def __init__(self, reply: str) -> None:
        super().__init__()
        self.reply = reply

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          options: Any) -> str:
        return self.reply


class Slow(Mailbox):
    """A mail server that takes a moment over each message (so two senders overlap)."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


@contextmanager
def server_on(port: int, handler: Mailbox | None = None) -> Iterator[Mailbox]:
    """An SMTP server on ``port`` while the block runs (stopping it is the mail server down)."""
    from aiosmtpd.controller import Controller

    mailbox = handler or Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def mail_at(app, monkeypatch) -> int:
    """The app sends through 127.0.0.1 on a port where nothing listens until a test starts a
    server there (``server_on``)."""
    port = free_port()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    return port


def ask_reset(app, address: str = MANAGER) -> None:
    response = app.test_client().submit("/reset-password", {"email": address})
    assert response.status_code == 200  # never a 500, whatever the mail server does


def rows(app, to: str = MANAGER) -> list[OutgoingEmail]:
    with app.app_context():
        return list(session.scalars(select(OutgoingEmail).where(OutgoingEmail.recipients == to)
                                    .order_by(OutgoingEmail.id)))


def add_email(to: str, *, subject: str = "Hello", **values: Any) -> int:
    """An email written straight to the outbox (flushed, not committed): its id."""
    message = EmailMessage()
    message["From"] = "grants@opcc.example.org"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Body")
    row = OutgoingEmail(recipients=to, subject=subject, message=bytes(message), **values)
    session.add(row)
    session.flush()
    return row.id


def count_emails() -> int:
    return session.scalar(select(func.count()).select_from(OutgoingEmail)) or 0


# --- written with the change ----------------------------------------------------------------


def test_a_refused_change_writes_no_email(app):
    @atomic
    def refused_after_sending() -> None:
        email.send("someone@example.org", "Hello", "password_reset", locale="en_GB",
                   user=None, token="x", minutes=30)
        raise DomainError("No")

    with app.test_request_context():
        before = count_emails()
        with pytest.raises(DomainError):
            refused_after_sending()
        assert count_emails() == before and email.queued() == []
        session.rollback()


def test_an_invitation_refused_by_the_form_writes_no_email(app, client, smtp):
    with app.app_context():
        before = count_emails()
    client.sign_in(ADMIN)
    response = client.submit("/admin/users/invite", {"name": "Jo", "email": "not an address",
                                                     "roles": ["officer"]})
    assert response.status_code == 200
    with app.app_context():
        assert count_emails() == before
    assert smtp.messages == []


def test_an_email_whose_change_commits_is_sent_once_straight_after_the_request(app, smtp):
    ask_reset(app)
    [message] = smtp.to(MANAGER)
    assert "reset" in message["Subject"].lower()
    [row] = rows(app)
    assert (row.status, row.attempts, row.claim_token) == (EmailStatus.SENT, 1, None)
    assert row.sent_at is not None and row.last_error == ""
    with app.app_context():
        assert sending.send_due() == sending.Outcome()  # nothing is due any more
    assert len(smtp.messages) == 1


def test_with_sending_after_requests_off_the_sender_delivers_it(app, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SEND_AFTER_REQUEST", False)
    ask_reset(app)
    assert smtp.messages == [] and rows(app)[0].status == EmailStatus.PENDING
    result = app.test_cli_runner().invoke(args=["send-email"])
    assert result.exit_code == 0, result.output
    assert "Sent 1 email(s); 0 to try again later; 0 failed." in result.output
    assert len(smtp.to(MANAGER)) == 1 and rows(app)[0].status == EmailStatus.SENT


# --- the mail server down, then back --------------------------------------------------------


def test_with_the_mail_server_down_the_email_waits_and_goes_once_it_is_back(app, mail_at):
    ask_reset(app)  # nothing listens: the request still succeeds
    [row] = rows(app)
    assert (row.status, row.attempts, row.claim_token) == (EmailStatus.PENDING, 1, None)
    assert "Connection refused" in row.last_error and "password" not in row.last_error.lower()
    assert timedelta(seconds=50) < row.next_attempt_at - utcnow() <= timedelta(minutes=1)
    with server_on(mail_at) as mailbox, app.app_context():
        assert sending.send_due() == sending.Outcome()  # not due yet: no message
        later = utcnow() + timedelta(minutes=1, seconds=5)
        assert sending.send_due(now=later) == sending.Outcome(sent=1)
        assert sending.send_due(now=later + timedelta(hours=1)) == sending.Outcome()
    assert len(mailbox.to(MANAGER)) == 1
    [row] = rows(app)
    assert (row.status, row.attempts) == (EmailStatus.SENT, 2)


def test_a_bid_submitted_while_the_mail_server_is_stopped_is_confirmed_once_it_is_back(
        app, mail_at):
    """Issue 17's "done when": the submission succeeds with the mail server stopped, and its
    confirmation goes (once) when the sender runs after the server is back."""
    from tests.bidding import OFFICER, complete, start, submit
    from tests.helpers import signed_in as sign_in

    officer = sign_in(app, OFFICER)
    bid_id = start(officer, app)
    complete(officer, app, bid_id)
    assert submit(officer, bid_id).status_code == 302  # nothing listens: still submitted
    waiting = [row for row in rows(app, OFFICER) if "submitted" in row.subject]
    assert [(row.status, row.attempts) for row in waiting] == [(EmailStatus.PENDING, 1)]
    with server_on(mail_at) as mailbox, app.app_context():
        later = utcnow() + timedelta(minutes=2)
        assert sending.send_due(now=later).sent >= 1
        assert sending.send_due(now=later + timedelta(hours=2)).sent == 0
    confirmations = [m for m in mailbox.to(OFFICER) if "submitted" in m["Subject"]]
    assert len(confirmations) == 1
    assert [row.status for row in rows(app, OFFICER) if "submitted" in row.subject] \
        == [EmailStatus.SENT]


def test_a_mail_server_out_of_reach_is_tried_once_per_pass_not_once_per_email(app, mail_at):
    with app.app_context():
        ids = [add_email(f"many{number}@example.org") for number in range(3)]
        session.commit()
        assert sending.send_due() == sending.Outcome(retry=1, untried=2)
        tried = [session.scalar(select(OutgoingEmail.attempts).where(OutgoingEmail.id == id_))
                 for id_ in ids]
        assert tried == [1, 0, 0]  # the others stay due, unclaimed, for the next pass
        assert session.scalar(select(func.count()).where(
            OutgoingEmail.id.in_(ids), OutgoingEmail.claim_token.is_not(None))) == 0
        with server_on(mail_at) as mailbox:
            assert sending.send_due(now=utcnow() + timedelta(minutes=2)).sent == 3
    assert len(mailbox.messages) == 3


def test_a_server_stopped_between_requests_delays_only_what_came_after(app, mail_at):
    with server_on(mail_at) as mailbox:
        ask_reset(app, MANAGER)
    ask_reset(app, ADMIN)  # the server has stopped
    assert len(mailbox.messages) == 1
    assert [row.status for row in rows(app, ADMIN)] == [EmailStatus.PENDING]
    with server_on(mail_at) as back, app.app_context():
        assert sending.send_due(now=utcnow() + timedelta(minutes=2)).sent == 1
    assert len(back.to(ADMIN)) == 1 and back.to(MANAGER) == []


def test_the_sender_backs_off_doubling_up_to_the_most_minutes(app, mail_at, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_RETRY_MAX_MINUTES", 5)
    with app.app_context():
        email_id = add_email("backoff@example.org")
        session.commit()
        now = utcnow()
        waits = []
        for _attempt in range(5):
            assert sending.deliver_now([email_id], now=now) == sending.Outcome(retry=1)
            row = session.get(OutgoingEmail, email_id)
            session.refresh(row)
            waits.append(round((row.next_attempt_at - now).total_seconds() / 60))
            assert sending.deliver_now([email_id], now=now) == sending.Outcome()  # not yet
            now = row.next_attempt_at
        assert waits == [1, 2, 4, 5, 5]
        assert (row.attempts, row.status, row.claimed_until) == (5, EmailStatus.PENDING, None)


def test_an_email_that_cannot_go_for_the_give_up_hours_fails(app, mail_at):
    with app.app_context():
        hours = app.config["MAIL_GIVE_UP_HOURS"]
        email_id = add_email("old@example.org", created_at=utcnow() - timedelta(hours=hours),
                             attempts=9)
        session.commit()
        assert sending.send_due() == sending.Outcome(failed=1)
        row = session.get(OutgoingEmail, email_id)
        session.refresh(row)
        assert row.status == EmailStatus.FAILED and row.attempts == 10
        assert row.last_error.startswith("Given up after 10 attempts: ConnectionRefusedError")
        assert sending.send_due(now=utcnow() + timedelta(days=9)) == sending.Outcome()


@pytest.mark.parametrize(("reply", "status"), [
    ("550 5.1.1 No such mailbox", EmailStatus.FAILED),
    ("451 4.3.0 Try again later", EmailStatus.PENDING),
])
def test_a_refusal_for_good_fails_and_a_passing_one_is_tried_again(app, mail_at, reply, status):
    with server_on(mail_at, Refusing(reply)) as mailbox:
        ask_reset(app)
    [row] = rows(app)
    assert row.status == status and row.attempts == 1
    assert reply.split()[0] in row.last_error and MANAGER in row.last_error
    assert mailbox.messages == []


def test_a_live_claim_keeps_other_senders_off_until_its_lease_ends(app, smtp):
    with app.app_context():
        email_id = add_email("claimed@example.org", claim_token="theirs",
                             claimed_until=utcnow() + sending.LEASE)
        session.commit()
        assert sending.send_due() == sending.Outcome()
        assert sending.deliver_now([email_id]) == sending.Outcome()
        # The other sender died: once its lease has passed, the email is taken and sent.
        assert sending.send_due(now=utcnow() + sending.LEASE + timedelta(seconds=1)).sent == 1
    assert len(smtp.to("claimed@example.org")) == 1


def test_deliver_now_sends_only_the_emails_it_is_given(app, smtp):
    with app.app_context():
        wanted = add_email("wanted@example.org")
        add_email("other@example.org")
        session.commit()
        assert sending.deliver_now([wanted]) == sending.Outcome(sent=1)
    assert len(smtp.messages) == 1 and smtp.to("wanted@example.org")


def test_without_a_mail_server_emails_are_written_to_the_outbox_folder(app, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_OUTBOX", str(tmp_path))
    ask_reset(app)
    [written] = list(tmp_path.glob("*.eml"))
    assert b"To: manager@example.org" in written.read_bytes()
    assert rows(app)[0].status == EmailStatus.SENT


# --- two senders at once --------------------------------------------------------------------


EMAILS = 45


@pytest.fixture
def outbox_app(backend, tmp_path):
    """An app on a database of its own (writes really commit), with EMAILS emails waiting."""
    url, remove = isolated_database(backend, tmp_path, "outbox")
    application = make_test_app(url, tmp_path, MAIL_SEND_AFTER_REQUEST=False)
    migrate.upgrade(get_db(application).engine)
    with application.app_context():
        for number in range(EMAILS):
            add_email(f"person{number}@example.org")
        session.commit()
    yield application
    get_db(application).engine.dispose()
    remove()


def test_two_senders_at_once_deliver_each_email_exactly_once(outbox_app):
    barrier = threading.Barrier(2)
    outcomes: list[sending.Outcome] = []
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            with outbox_app.app_context():
                barrier.wait(timeout=30)
                outcomes.append(sending.send_due())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    port = free_port()
    outbox_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    with server_on(port, Slow()) as mailbox:  # each message takes a moment: senders overlap
        threads = [threading.Thread(target=sender) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert errors == []
    assert len(outcomes) == 2
    assert sum(outcome.sent for outcome in outcomes) == EMAILS
    addresses = sorted(message["To"] for message in mailbox.messages)
    assert addresses == sorted(f"person{number}@example.org" for number in range(EMAILS))
    with outbox_app.app_context():
        assert set(session.scalars(select(OutgoingEmail.status))) == {EmailStatus.SENT}
        assert set(session.scalars(select(OutgoingEmail.attempts))) == {1}


# --- the administrators' page ---------------------------------------------------------------


def _undelivered(count: int) -> None:
    session.execute(update(OutgoingEmail).values(status=EmailStatus.SENT))
    for number in range(count):
        failed = number % 2 == 0
        add_email(f"lost{number}@example.org", subject=f"Subject {number}",
                  status=EmailStatus.FAILED if failed else EmailStatus.PENDING, attempts=3,
                  last_error=f"SMTPDataError: 554 refused number {number}")
    add_email("never.tried@example.org")  # waiting, never failed: not listed
    session.commit()


def test_administrators_see_the_emails_not_delivered_with_the_last_error(app):
    with app.app_context():
        _undelivered(2)
    admin = signed_in(app, ADMIN)
    assert 'href="/admin/emails"' in admin.get("/admin/").get_data(as_text=True)
    page = text_of(admin.get("/admin/emails"))
    assert "Emails not sent" in page
    assert "lost0@example.org" in page and "Subject 0" in page and "Failed" in page
    assert "SMTPDataError: 554 refused number 1" in page and "Waiting" in page
    assert "Next try" in page and "3 attempts" in page
    assert "never.tried@example.org" not in page


def test_only_administrators_see_the_emails_not_delivered(app):
    assert signed_in(app, MANAGER).get("/admin/emails").status_code == 403
    assert app.test_client().get("/admin/emails").status_code == 302


def test_the_page_costs_the_same_for_one_email_or_a_full_page(app, count_queries):
    admin = signed_in(app, ADMIN)

    def cost(count: int) -> int:
        with app.app_context():
            _undelivered(count)
        with count_queries() as queries:
            assert admin.get("/admin/emails").status_code == 200
        return len(queries)

    assert cost(1) == cost(30)


# --- a slow mail server (a breaker's findings) --------------------------------------------------


@contextmanager
def dripping_server(port: int) -> Iterator[None]:
    """A mail server that answers one line of its greeting every 0.2 s and never finishes it:
    each read arrives within any per-read timeout, so only a deadline for the whole
    conversation stops the wait."""
    import socket

    listener = socket.create_server(("127.0.0.1", port))
    listener.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        connections = []
        while not done.is_set():
            try:
                connection, _ = listener.accept()
                connections.append(connection)
            except OSError:
                pass
            for connection in list(connections):
                try:
                    connection.sendall(b"220-still saying hello\r\n")
                except OSError:
                    connections.remove(connection)
            done.wait(0.2)
        for connection in connections:
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=5)
        listener.close()


def test_a_request_spends_at_most_its_budget_on_a_dripping_mail_server(app, mail_at,
                                                                       monkeypatch):
    """The breaker's server sent a byte every 9 s: each read beat the 10 s timeout, and the
    request waited until gunicorn killed its worker (a 500 after the change had committed)."""
    import time

    monkeypatch.setitem(app.config, "MAIL_REQUEST_SECONDS", 1)
    with dripping_server(mail_at):
        began = time.monotonic()
        ask_reset(app)
        took = time.monotonic() - began
    assert took < 5, took
    [row] = rows(app)
    assert (row.status, row.attempts) == (EmailStatus.PENDING, 1)
    assert "cut off" in row.last_error


def test_the_sender_cuts_off_one_message_before_its_lease_could_lapse(app, mail_at,
                                                                      monkeypatch):
    """A message still going when its lease lapsed was taken by a second sender and sent
    twice: no message may take longer than the lease's margin."""
    assert sending.MESSAGE_SECONDS < sending._LEASE_MARGIN_SECONDS
    monkeypatch.setattr(sending, "MESSAGE_SECONDS", 1)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT_SECONDS", 5)
    with app.app_context():
        add_email("slow@example.org")
        session.commit()
        with dripping_server(mail_at):
            assert sending.send_due() == sending.Outcome(retry=1)
        [row] = session.scalars(select(OutgoingEmail).where(
            OutgoingEmail.recipients == "slow@example.org")).all()
        assert "cut off" in row.last_error and row.claim_token is None


def test_a_worker_that_found_the_mail_server_out_of_reach_leaves_the_next_emails_to_the_sender(
        app, mail_at, monkeypatch):
    """Each request waited for the same silent server in turn, tying up every worker."""
    monkeypatch.setitem(app.config, "MAIL_PAUSE_AFTER_UNREACHABLE_SECONDS", 60)
    monkeypatch.setattr(sending, "_unreachable_since", None)
    ask_reset(app)  # tries, finds nothing listening
    ask_reset(app, ADMIN)  # does not try: waits for the sender
    assert [(row.status, row.attempts) for row in rows(app)] == [(EmailStatus.PENDING, 1)]
    assert [(row.status, row.attempts) for row in rows(app, ADMIN)] == [(EmailStatus.PENDING, 0)]
    with server_on(mail_at) as mailbox, app.app_context():
        assert sending.send_due().sent == 1  # the admin's, due at once
    assert len(mailbox.to(ADMIN)) == 1


def test_every_email_carries_a_message_id_that_a_retry_sends_again(app, mail_at):
    """A server that took a message but did not say so in time gets it again: the same
    Message-ID lets mail systems drop the second copy."""
    ask_reset(app)
    [row] = rows(app)
    written = email.parse(row.message)["Message-ID"]
    assert written and written.endswith("@opcc.example.org>")
    with server_on(mail_at) as mailbox, app.app_context():
        sending.send_due(now=utcnow() + timedelta(minutes=2))
    assert mailbox.to(MANAGER)[0]["Message-ID"] == written


def test_a_sender_told_to_stop_puts_the_rest_of_its_batch_back(app, smtp):
    with app.app_context():
        for number in range(3):
            add_email(f"stop{number}@example.org")
        session.commit()
        asked = []

        def stop() -> bool:
            asked.append(1)
            return len(asked) > 2  # once the first message has gone

        outcome = sending.send_due(stop=stop)
        assert (outcome.sent, outcome.untried) == (1, 2)
        assert session.scalar(select(func.count()).where(
            OutgoingEmail.claim_token.is_not(None))) == 0
    assert len(smtp.messages) == 1


@contextmanager
def slow_goodbye_server(port: int) -> Iterator[list[bytes]]:
    """A mail server that takes every message at once, then answers QUIT one byte every
    0.3 s, forever: the message is sent, and the goodbye is not worth waiting for."""
    import socket

    taken: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", port))
    listener.settimeout(0.2)
    done = threading.Event()

    def talk(connection: socket.socket) -> None:
        reader = connection.makefile("rb")
        connection.sendall(b"220 ready\r\n")
        while not done.is_set():
            line = reader.readline()
            if not line:
                return
            command = line[:4].upper()
            if command == b"DATA":
                connection.sendall(b"354 go on\r\n")
                body = b""
                while not body.endswith(b"\r\n.\r\n"):
                    chunk = reader.readline()
                    if not chunk:
                        return
                    body += chunk
                taken.append(body)
                connection.sendall(b"250 taken\r\n")
            elif command == b"QUIT":
                while not done.is_set():
                    for byte in b"221-bye\r\n":
                        connection.sendall(bytes([byte]))
                        done.wait(0.3)
                return
            else:
                connection.sendall(b"250 ok\r\n")

    def serve() -> None:
        while not done.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=quietly, args=(connection,), daemon=True).start()

    def quietly(connection: socket.socket) -> None:
        with contextlib.suppress(OSError), connection:  # the client hung up: so be it
            talk(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield taken
    finally:
        done.set()
        thread.join(timeout=5)
        listener.close()


def test_a_server_slow_to_say_goodbye_after_taking_the_email_delays_nobody_and_gets_it_once(
        app, mail_at):
    """A breaker's server took the message, then dripped its answer to QUIT: the request
    outlived its worker (a 500) and the email, taken, was sent again after the lease."""
    import time

    with slow_goodbye_server(mail_at) as taken:
        began = time.monotonic()
        ask_reset(app)
        assert time.monotonic() - began < 4
        [row] = rows(app)
        assert (row.status, row.attempts) == (EmailStatus.SENT, 1)
        with app.app_context():
            assert sending.send_due(now=utcnow() + timedelta(hours=1)) == sending.Outcome()
    assert len(taken) == 1


def test_a_slow_refusal_in_a_request_also_leaves_the_next_emails_to_the_sender(
        app, monkeypatch):
    """A server that answered "450" after 9 s held every request in turn (only an
    unreachable server paused a worker's sending)."""
    monkeypatch.setitem(app.config, "MAIL_PAUSE_AFTER_UNREACHABLE_SECONDS", 60)
    monkeypatch.setattr(sending, "_unreachable_since", None)
    port = free_port()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    with server_on(port, Refusing("450 4.2.0 try again later")):
        ask_reset(app)
        ask_reset(app, ADMIN)
    assert [(row.status, row.attempts) for row in rows(app)] == [(EmailStatus.PENDING, 1)]
    assert [(row.status, row.attempts) for row in rows(app, ADMIN)] == [(EmailStatus.PENDING, 0)]
