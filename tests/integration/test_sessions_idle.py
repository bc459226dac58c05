"""An idle session: the page says how long it has left, the server tells the warning's script
without renewing it, "Stay signed in" renews it; and a save that arrives after the session
ended keeps what was typed until the same user signs in again (issue 13, point 9)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask, url_for
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from portal.access import PUBLIC, access_of
from portal.db import session
from portal.models import Bid
from portal.models.sessions import KeptForm
from tests import bidding
from tests.helpers import CheckedClient, table_row_counts, text_of

OFFICER = bidding.OFFICER
OTHER_OFFICER = "officer.fenland@example.org"
TYPED = "Typed before the session ended: a summary long enough to matter to its writer."


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """``clock(seconds)``: from now on the time (as sessions read it) is that much later."""
    real_time = time.time

    def move(seconds: float) -> None:
        monkeypatch.setattr(time, "time", lambda: real_time() + seconds)

    return move


def lifetime(app: Flask) -> float:
    return app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()


def session_cookie_set(response: Any) -> bool:
    return any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie"))


def kept_forms(app: Flask) -> int:
    with app.app_context():
        return session.scalar(select(func.count()).select_from(KeptForm)) or 0


# --- how long is left -----------------------------------------------------------------------


def test_every_signed_in_page_says_how_long_its_session_has_left(app, client):
    client.sign_in(OFFICER)
    page = BeautifulSoup(client.get("/bids/").get_data(as_text=True), "html.parser")
    dialog = page.find("dialog", id="session-timeout")
    assert dialog is not None and dialog.get("open") is None  # shown only by the script
    assert abs(int(dialog["data-seconds-left"]) - lifetime(app)) <= 2
    assert dialog["aria-labelledby"] == "session-timeout-heading"
    assert page.find(attrs={"aria-live": "polite"}) is not None
    assert "Stay signed in" in dialog.get_text() and "Sign out" in dialog.get_text()


def test_signed_out_pages_have_no_warning(client):
    assert 'id="session-timeout"' not in client.get("/sign-in").get_data(as_text=True)


def test_asking_how_long_is_left_does_not_renew_the_session(app, client, clock):
    client.sign_in(OFFICER)
    client.get("/bids/")
    clock(300)
    answer = client.get("/session")
    assert answer.headers["Cache-Control"] == "no-store"
    assert not session_cookie_set(answer)
    seconds = answer.get_json()["seconds_left"]
    assert answer.get_json()["signed_in"] and lifetime(app) - 305 <= seconds <= lifetime(app) - 295
    clock(lifetime(app) + 5)  # no renewal: the session has ended
    assert client.get("/session").get_json() == {"signed_in": False, "seconds_left": 0,
                                                 "units": {}}


def test_the_page_says_the_time_left_of_a_cookie_it_does_not_renew(app, client, clock):
    client.sign_in(OFFICER)
    client.get("/bids/")
    clock(30)  # under a minute: the cookie is not signed again
    response = client.get("/bids/")
    assert not session_cookie_set(response)
    left = int(re.search(r'data-seconds-left="(\d+)"', response.get_data(as_text=True))[1])
    assert lifetime(app) - 32 <= left <= lifetime(app) - 28


def test_the_time_is_given_in_words_of_the_page_language(app, client):
    client.sign_in(OFFICER)
    units = client.get("/session").get_json()["units"]
    assert units["minute"] == {"one": "{n} minute", "other": "{n} minutes"}
    client.submit("/account/language", {"language": "cy"})
    cymraeg = client.get("/session").get_json()["units"]
    assert set(cymraeg["second"]) == {"zero", "one", "two", "few", "many", "other"}


def test_staying_signed_in_renews_the_session(app, client, clock):
    client.sign_in(OFFICER)
    token = client.csrf_token("/bids/")
    clock(lifetime(app) - 60)
    renewed = client.post("/session/keep-alive", data={"csrf_token": token})
    assert renewed.status_code == 200 and session_cookie_set(renewed)
    answer = renewed.get_json()
    assert answer["signed_in"] and answer["seconds_left"] == int(lifetime(app))
    assert answer["csrf_token"]
    clock(lifetime(app) + 120)  # past the first lifetime, within the renewed one
    assert client.get("/bids/").status_code == 200


def test_staying_signed_in_needs_the_csrf_token(app, client):
    client.sign_in(OFFICER)
    refused = client.post("/session/keep-alive", data={})
    assert refused.status_code == 400 and refused.get_json()["error"] == "csrf"


def test_staying_signed_in_after_the_end_says_so(app, client, clock):
    client.sign_in(OFFICER)
    token = client.csrf_token("/bids/")
    clock(lifetime(app) + 5)
    late = client.post("/session/keep-alive", data={"csrf_token": token})
    assert late.status_code == 401 and late.get_json()["signed_in"] is False


def test_signing_out_after_the_end_just_says_so(app, client, clock):
    client.sign_in(OFFICER)
    token = client.csrf_token("/bids/")
    clock(lifetime(app) + 5)
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.headers["Location"] == "/sign-in"
    assert "You have signed out." in text_of(client.get("/sign-in"))


# --- what was typed survives the end of the session -----------------------------------------


def expired_save(app: Flask, client: CheckedClient, clock: Callable[[float], None]):
    """An officer's bid; its "about" section typed and saved after the session ended."""
    client.sign_in(OFFICER)
    bid_id = bidding.start(client, app)
    url = bidding.section_url(bid_id, "about")
    tokens = client.form_tokens(url)
    with app.app_context():
        year = session.get(Bid, bid_id).round.financial_year
    data = {**tokens, **bidding.fill(bidding.ABOUT, year), "summary": TYPED}
    clock(lifetime(app) + 60)
    return bid_id, url, client.post(url, data=data)


def test_a_save_after_the_session_ended_is_kept_until_signing_in_again(app, client, clock):
    bid_id, url, response = expired_save(app, client, clock)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sign-in?next=/bids/{bid_id}/sections/about"
    sign_in_page = text_of(client.get(response.headers["Location"]))
    assert "what you typed will be shown again" in sign_in_page
    assert kept_forms(app) == 1
    signed_in = client.post(response.headers["Location"], data={
        "csrf_token": client.csrf_token("/sign-in"), "email": OFFICER,
        "password": "grants-demo-password"})
    assert signed_in.headers["Location"] == url
    page = client.get(url)
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    assert soup.find("textarea", attrs={"name": "summary"}).get_text().strip() == TYPED
    assert "We kept what you typed" in text_of(page)
    # Shown once: the next visit shows what is saved (nothing yet).
    assert TYPED not in client.get(url).get_data(as_text=True)
    # The page's own form, as kept, saves.
    hidden = {i["name"]: i.get("value", "") for i in soup.find_all(
        "input", attrs={"type": "hidden"}) if i.get("name")}
    saved = client.post(url, data=MultiDict([*hidden.items(), *_typed_back(soup)]))
    assert saved.status_code == 302, text_of(saved)[:2000]
    with app.app_context():
        assert session.get(Bid, bid_id).section("about").answers["summary"] == TYPED
    assert kept_forms(app) == 0  # deleted by the next request that writes


def _typed_back(soup: BeautifulSoup) -> list[tuple[str, str]]:
    """The visible fields of the section's form as the page shows them."""
    form = soup.find("form", attrs={"method": re.compile("post", re.I), "action": re.compile(
        r"/sections/")}) or soup.find("main").find("form")
    fields: list[tuple[str, str]] = []
    for control in form.find_all(["input", "textarea"]):
        name = control.get("name")
        if not name or control.get("type") == "hidden":
            continue
        if control.name == "textarea":
            fields.append((name, control.get_text().lstrip("\n")))
        elif control.get("type") in ("radio", "checkbox"):
            if control.has_attr("checked"):
                fields.append((name, control.get("value", "")))
        else:
            fields.append((name, control.get("value", "")))
    return fields


def test_another_user_signing_in_never_sees_what_was_kept(app, client, clock):
    bid_id, url, response = expired_save(app, client, clock)
    assert kept_forms(app) == 1
    client.post(response.headers["Location"], data={
        "csrf_token": client.csrf_token("/sign-in"), "email": OTHER_OFFICER,
        "password": "grants-demo-password"})
    assert kept_forms(app) == 0
    with client.session_transaction() as cookie:
        assert "kept_form" not in cookie


def test_a_forged_save_after_the_session_ended_is_refused_and_kept_nowhere(app, client, clock):
    bid_id, url, _response = expired_save(app, client, clock)  # one kept: the real one
    before = table_row_counts(app)
    forged = client.post(url, data={"csrf_token": "forged", "summary": "planted"})
    assert forged.status_code == 400  # CSRF protection answers as before
    assert table_row_counts(app) == before


def test_a_save_with_a_cookie_of_a_session_signed_out_is_not_kept(app, client, clock):
    client.sign_in(OFFICER)
    bid_id = bidding.start(client, app)
    url = bidding.section_url(bid_id, "about")
    tokens = client.form_tokens(url)
    copy = client.get_cookie("session", domain="portal.test").value
    client.post("/sign-out", data={"csrf_token": tokens["csrf_token"]})
    stolen: CheckedClient = app.test_client()  # type: ignore[assignment]
    stolen.set_cookie("session", copy, domain="portal.test")
    clock(lifetime(app) + 60)
    response = stolen.post(url, data={**tokens, "summary": TYPED})
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    assert kept_forms(app) == 0


def signed_in_post_urls(app: Flask) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if "POST" not in (rule.methods or ()) or access_of(view) in (None, PUBLIC):
            continue
        numbers = set(re.findall(r"<int:(\w+)>", rule.rule))
        with app.test_request_context():
            urls.append(url_for(rule.endpoint, **{
                name: 1 if name in numbers else "about" for name in rule.arguments}))
    return sorted(urls)


def test_no_signed_in_form_says_it_has_expired_after_the_session_ended(app, client, clock):
    """Every signed-in POST, arriving after its session ended, is sent to sign in (with the
    way back) instead of the "form has expired" page; nothing else changes."""
    client.sign_in(OFFICER)
    token = client.csrf_token("/bids/")
    expired = client.get_cookie("session", domain="portal.test").value
    clock(lifetime(app) + 60)
    before = table_row_counts(app)
    for url in signed_in_post_urls(app):
        client.set_cookie("session", expired, domain="portal.test")
        response = client.post(url, data={"csrf_token": token, "note": "typed"})
        if url == "/session/keep-alive":
            assert response.status_code == 401
            continue
        assert response.status_code == 302, (url, response.status_code)
        assert response.headers["Location"].startswith("/sign-in"), url
    after = table_row_counts(app)
    # Only kept forms may have been added (what was typed into each, for this officer).
    assert {k: v for k, v in after.items() if k != "kept_forms"} == {
        k: v for k, v in before.items() if k != "kept_forms"}
