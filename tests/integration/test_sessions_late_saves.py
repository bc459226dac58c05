"""Saves that arrive after a session ended, as an attacker would send them (issue 13, review):

- the cookie outlives the idle limit in the browser (its ``Expires`` is the absolute limit;
  the server alone checks idleness), so a late save still says whose it is;
- a replayed ended cookie cannot fill the database: one kept form per user and page, a
  few per user, none from a cookie ended long ago or whose sign-in row is gone, and forms
  older than a day are deleted on every keep;
- a signed-out or late post to a POST-only route never sends the browser, after signing in,
  to a GET of that route (405); the idle warning's keep-alive always answers JSON.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import delete, func, select
from werkzeug.exceptions import HTTPException

from portal.db import session, utcnow
from portal.models import User
from portal.models.sessions import KeptForm, SignIn
from portal.services import sessions as sign_ins
from tests import bidding
from tests.helpers import CheckedClient, table_row_counts
from tests.integration.test_sessions_idle import (
    OFFICER,
    TYPED,
    lifetime,
    signed_in_post_urls,
)

DOMAIN = "portal.test"  # the test app's SERVER_NAME
SECTIONS = ("about", "problem", "delivery", "outcomes", "budget", "declarations")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """``clock(seconds)``: from now on the time (as sessions read it) is that much later."""
    real_time = time.time

    def move(seconds: float) -> None:
        monkeypatch.setattr(time, "time", lambda: real_time() + seconds)

    return move


def kept_forms(app: Flask, user_id: int | None = None) -> int:
    with app.app_context():
        statement = select(func.count()).select_from(KeptForm)
        if user_id is not None:
            statement = statement.where(KeptForm.user_id == user_id)
        return session.scalar(statement) or 0


def user_id_of(app: Flask, email: str) -> int:
    with app.app_context():
        return session.scalar(select(User.id).where(User.email == email))


def session_cookie(response: Any) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


def absolute_seconds(app: Flask) -> float:
    return app.config.get("SESSION_ABSOLUTE_HOURS", 12) * 3600.0


class LateSaves:
    """An officer's bid, and the officer's session cookie and tokens taken before it ended:
    ``post(key)`` replays that cookie with a big save of the section ``key``."""

    def __init__(self, app: Flask, client: CheckedClient) -> None:
        self.app, self.client = app, client
        client.sign_in(OFFICER)
        self.bid_id = bidding.start(client, app)
        self.tokens = client.form_tokens(bidding.section_url(self.bid_id, "about"))
        self.cookie = client.get_cookie("session", domain=DOMAIN).value

    def post(self, key: str = "about", text: str = TYPED) -> Any:
        self.client.set_cookie("session", self.cookie, domain=DOMAIN)
        return self.client.post(bidding.section_url(self.bid_id, key),
                                data={**self.tokens, "summary": text})

    def sign_in_id(self) -> str:
        with self.app.app_context():
            return session.scalar(select(SignIn.id).order_by(SignIn.created_at.desc()))


# --- 1. the browser keeps the cookie past the idle limit ---------------------------------------


def test_the_session_cookie_expires_at_the_absolute_limit_not_the_idle_one(app, client):
    """A browser deletes a cookie at its Expires: at the idle limit, a late save would come
    with no cookie, and what was typed could not be kept. The server checks idleness."""
    signed_in = client.sign_in(OFFICER)
    for response in (signed_in, client.post("/session/keep-alive", data={
            "csrf_token": client.csrf_token("/bids/")})):
        cookie = session_cookie(response).lower()
        assert "max-age" not in cookie
        expires = parsedate_to_datetime(cookie.split("expires=", 1)[1].split(";")[0])
        left = (expires - datetime.now(UTC)).total_seconds()
        assert abs(left - absolute_seconds(app)) < 120, (left, lifetime(app))
        assert left > lifetime(app) + 3600


def test_the_idle_limit_is_still_the_servers(app, client, clock):
    client.sign_in(OFFICER)
    clock(lifetime(app) + 5)
    response = client.get("/bids/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


# --- 2. a replayed cookie cannot fill the database ---------------------------------------------


def test_saving_the_same_page_again_replaces_what_was_kept(app, client, clock):
    late = LateSaves(app, client)
    clock(lifetime(app) + 60)
    for n in range(4):
        assert late.post(text=f"{TYPED} {n} " + "x" * 50_000).status_code == 302
    assert kept_forms(app) == 1
    with app.app_context():
        fields = dict(session.scalar(select(KeptForm.fields)))
    assert fields["summary"].startswith(f"{TYPED} 3 ")  # the latest


def test_a_user_keeps_a_few_forms_at_most_the_oldest_going(app, client, clock):
    late = LateSaves(app, client)
    clock(lifetime(app) + 60)
    for key in SECTIONS:
        assert late.post(key).status_code == 302
    assert kept_forms(app) == sign_ins.KEPT_FORMS_PER_USER < len(SECTIONS)
    with app.app_context():
        paths = set(session.scalars(select(KeptForm.path)))
    assert bidding.section_url(late.bid_id, SECTIONS[0]) not in paths  # the oldest went
    assert bidding.section_url(late.bid_id, SECTIONS[-1]) in paths


def test_a_cookie_that_ended_longer_ago_than_the_absolute_lifetime_keeps_nothing(
        app, client, clock):
    late = LateSaves(app, client)
    clock(lifetime(app) + absolute_seconds(app) + 60)
    before = table_row_counts(app)
    response = late.post()
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    assert table_row_counts(app) == before


def test_a_cookie_whose_sign_in_row_is_gone_keeps_nothing(app, client, clock):
    late = LateSaves(app, client)
    gone = late.sign_in_id()
    with app.app_context():
        session.execute(delete(SignIn).where(SignIn.id == gone))
        session.commit()
        assert sign_ins.ended_because(gone) == sign_ins.GONE
    clock(lifetime(app) + 60)
    before = table_row_counts(app)
    response = late.post()
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    assert table_row_counts(app) == before


def test_why_a_sign_in_ended(app, client):
    client.sign_in(OFFICER)
    with app.app_context():
        live = session.scalar(select(SignIn.id).order_by(SignIn.created_at.desc()))
        assert sign_ins.ended_because(live) is None
        assert sign_ins.ended_because("no-such-sign-in") == sign_ins.GONE
        sign_ins.end(live, sign_ins.SIGNED_OUT)
        assert sign_ins.ended_because(live) == sign_ins.SIGNED_OUT


def test_every_keep_deletes_a_batch_of_forms_older_than_a_day(app, client, clock,
                                                                monkeypatch):
    monkeypatch.setattr(sign_ins, "KEPT_FORM_PURGE_BATCH", 3)
    late = LateSaves(app, client)  # signing in deletes them all: add them after
    other = user_id_of(app, "officer.fenland@example.org")
    with app.app_context():
        old = utcnow() - timedelta(hours=sign_ins.KEPT_FORM_HOURS, minutes=5)
        session.add_all(KeptForm(id=f"old-{n}", user_id=other, path=f"/bids/{n}",
                                 fields=[["summary", "old"]], created_at=old)
                        for n in range(5))
        session.add(KeptForm(id="recent", user_id=other, path="/bids/9",
                             fields=[["summary", "recent"]], created_at=utcnow()))
        session.commit()
    clock(lifetime(app) + 60)
    late.post()
    assert kept_forms(app, other) == 1 + 5 - 3  # a bounded batch; the recent one stays
    late.post("problem")
    assert kept_forms(app, other) == 1
    with app.app_context():
        assert session.get(KeptForm, "recent") is not None


# --- 3. back to a page only when it answers GET; the keep-alive answers JSON ----------------


def answers_get(app: Flask, path: str) -> bool:
    with app.test_request_context():
        adapter = app.url_map.bind(DOMAIN)
        try:
            adapter.match(path, method="GET")
        except HTTPException:
            return False
    return True


def next_of(response: Any) -> str | None:
    location = urlsplit(response.headers["Location"])
    assert location.path == "/sign-in", response.headers["Location"]
    return parse_qs(location.query).get("next", [None])[0]


def test_a_signed_out_post_is_sent_back_only_to_a_page_that_answers_get(app, client):
    token = client.csrf_token("/sign-in")  # signed out, with a good CSRF token
    seen = set()
    for url in signed_in_post_urls(app):
        response = client.post(url, data={"csrf_token": token})
        if url == "/session/keep-alive":
            continue
        assert response.status_code == 302, url
        target = next_of(response)
        assert target is None or answers_get(app, target), (url, target)
        seen.add(target is None)
    assert seen == {True, False}  # both kinds of route are among them
    assert next_of(client.post("/rounds/1/start", data={"csrf_token": token})) is None
    assert next_of(client.post("/sign-out", data={"csrf_token": token})) is None
    about = bidding.section_url(1, "about")
    assert next_of(client.post(about, data={"csrf_token": token})) == about


def test_a_late_post_is_sent_back_only_to_a_page_that_answers_get(app, client, clock):
    client.sign_in(OFFICER)
    token = client.csrf_token("/bids/")
    expired = client.get_cookie("session", domain=DOMAIN).value
    clock(lifetime(app) + 60)
    for referrer in (None, "http://portal.test/sign-out", "http://portal.test/rounds/1"):
        headers = {"Referer": referrer} if referrer else {}
        for url in signed_in_post_urls(app):
            if url == "/session/keep-alive":
                continue
            client.set_cookie("session", expired, domain=DOMAIN)
            response = client.post(url, data={"csrf_token": token, "note": "typed"},
                                   headers=headers)
            assert response.status_code == 302, url
            target = next_of(response)
            assert target is None or answers_get(app, target), (url, referrer, target)
    client.set_cookie("session", expired, domain=DOMAIN)
    start = client.post("/rounds/1/start", data={"csrf_token": token},
                        headers={"Referer": "http://portal.test/rounds/1"})
    assert next_of(start) == "/rounds/1"  # the page the form was on


@pytest.mark.parametrize("signed_in", [True, False])
def test_the_keep_alive_answers_json_without_a_csrf_token(app, client, signed_in):
    if signed_in:
        client.sign_in(OFFICER)
    before = table_row_counts(app)
    response = client.post("/session/keep-alive", data={})
    assert response.is_json and response.headers["Cache-Control"] == "no-store"
    assert response.status_code == (400 if signed_in else 401)
    assert response.get_json()["signed_in"] is signed_in
    assert table_row_counts(app) == before


def test_the_keep_alive_answers_json_when_signed_out(app, client):
    token = client.csrf_token("/sign-in")
    response = client.post("/session/keep-alive", data={"csrf_token": token})
    assert response.status_code == 401 and response.is_json
    assert response.get_json() == {"signed_in": False, "seconds_left": 0}



# --- a third attack ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["sections/a%00b", "sections/a%01b", "sections/a%E2%80%AEb"])
def test_a_late_save_to_a_path_holding_a_control_character_keeps_nothing_and_is_no_error(
        app, client, clock, path):
    """PostgreSQL cannot store NUL: such a path was kept, and the keeping was a 500."""
    late = LateSaves(app, client)
    clock(lifetime(app) + 60)
    client.set_cookie("session", late.cookie, domain=DOMAIN)
    counts = table_row_counts(app)
    response = client.post(f"/bids/{late.bid_id}/{path}", data={**late.tokens, "x": "y"})
    assert response.status_code < 500
    assert table_row_counts(app) == counts


@pytest.mark.parametrize("target", ["/sign-out", "/session/keep-alive", "/rounds/1/start"])
def test_signing_in_never_goes_on_to_a_page_that_only_takes_posts(app, client, target):
    """A hand-made ?next= naming a POST-only route would end the sign-in on a 405."""
    response = client.post(f"/sign-in?next={target}", data={
        "csrf_token": client.csrf_token("/sign-in"), "email": OFFICER,
        "password": "grants-demo-password"})
    assert response.status_code == 302
    assert response.headers["Location"] != target
    assert client.get(response.headers["Location"]).status_code == 200


def test_a_welsh_users_session_ending_while_idle_leaves_the_sign_in_page_in_welsh(
        app, client, clock):
    """A breaker's Welsh officer (Welsh kept on the account, never chosen in the browser)
    timed out and was asked to sign in again in English: the session now carries the
    account's language, so the pages after it ends stay in it."""
    client.sign_in("swyddog.hunts@example.org")
    clock(lifetime(app) + 5)
    response = client.get("/bids/", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert '<html lang="cy"' in page, page[:300]
