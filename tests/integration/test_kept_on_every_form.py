"""What was typed before a session ended is shown again on every saving form (issue 13,
"Sessions"), not only on the bid section the session tests drive end to end: a view that
fills its form from what is saved on a GET must not overwrite the kept text
(``portal.security.showing_saved``).

The forms are found as ``test_every_form_saves_twice`` finds them (SAVING_FORMS)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal.db import session
from portal.models import User
from portal.services import sessions as sign_ins
from tests.helpers import text_of
from tests.integration.test_every_form_saves_twice import CASES, Target, parse_form, shown
from tests.integration.test_every_text_field import NO_TEXT, _text_names, open_form

KEPT = [case for case in CASES if case.values[0] not in NO_TEXT | {
    "applicant.evidence_files"}]  # an upload's file cannot be kept; its description can't alone


@pytest.mark.parametrize(("endpoint", "target"), KEPT)
def test_the_text_typed_before_the_session_ended_is_what_the_form_shows(
        app: Flask, client: Any, endpoint: str, target: Target) -> None:
    from bs4 import BeautifulSoup

    url, wanted, html, form = open_form(app, client, endpoint, target)
    names = _text_names(form, BeautifulSoup(html, "html.parser"))
    words = [name for name in names if name not in target.keep]
    assert words, f"{url}: no text to keep"
    typed = {name: f"Typed before the session ended, {n}" for n, name in enumerate(words)}
    fields = [(name, typed.get(name, value)) for name, values in form.values.items()
              for value in values if name not in ("csrf_token", "once")]
    with app.test_request_context():
        user_id = session.scalar(select(User.id).where(User.email == target.user))
        kept_id = sign_ins.keep_form(user_id, url.split("?")[0], fields)
        session.commit()
    assert kept_id is not None
    with client.session_transaction() as cookie:
        cookie["kept_form"] = kept_id
    page = client.get(url)
    assert "We kept what you typed" in text_of(page)
    again = parse_form(page.get_data(as_text=True), wanted, url)
    for name, text in typed.items():
        assert again.values.get(name) == [text], (url, name, again.values.get(name))
    # Shown once: the next visit shows what is saved.
    assert shown(parse_form(client.get(url).get_data(as_text=True), wanted, url)) == shown(
        form)
