"""The translations kept per request follow the locale in force, through Flask-Babel's public
API only: a forced locale, a refreshed choice and the end of a forced locale are all seen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import flask_babel
import pytest
from flask import Flask, render_template_string
from flask import session as cookie_session
from flask_babel import force_locale, gettext, refresh

from portal import create_app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The portal's app with its real catalogues; no page touches the database here."""
    yield create_app({"TESTING": True, "SECRET_KEY": "test", "AUDIT_KEY": "test",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
                      "SERVER_NAME": "portal.test"})


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each time Flask-Babel's own domain is asked for translations, the locale in force."""
    asked: list[str] = []
    original = flask_babel.Domain.get_translations

    def counted(self: flask_babel.Domain) -> object:
        asked.append(str(flask_babel.get_locale()))
        return original(self)

    monkeypatch.setattr(flask_babel.Domain, "get_translations", counted)
    return asked


def sign_out() -> tuple[str, str]:
    """"Sign out" as Python code and as a template translate it."""
    return gettext("Sign out"), render_template_string('{{ _("Sign out") }}')


def test_a_request_looks_its_translations_up_once_per_locale(app, lookups):
    with app.test_request_context("/"):
        for _ in range(20):
            assert sign_out() == ("Sign out", "Sign out")
        assert lookups == ["en_GB"]


def test_a_forced_locale_is_followed_and_left(app, lookups):
    with app.test_request_context("/"):
        assert sign_out() == ("Sign out", "Sign out")
        with force_locale("cy"):  # as an email to a Welsh-speaking user is written
            assert sign_out() == ("Allgofnodi", "Allgofnodi")
            assert sign_out() == ("Allgofnodi", "Allgofnodi")
        assert sign_out() == ("Sign out", "Sign out")
        assert lookups == ["en_GB", "cy", "en_GB"]


def test_a_refreshed_choice_of_language_is_followed_at_once(app, lookups):
    with app.test_request_context("/"):
        assert sign_out() == ("Sign out", "Sign out")
        cookie_session["language"] = "cy"
        assert sign_out() == ("Sign out", "Sign out")  # chosen once per request, as documented
        refresh()
        assert sign_out() == ("Allgofnodi", "Allgofnodi")
        assert lookups == ["en_GB", "cy"]


def test_outside_a_request_english_is_given(app, lookups):
    assert gettext("Sign out") == "Sign out"  # no app at all: Flask-Babel's null translations
    lookups.clear()
    with app.app_context():  # a command: the default locale
        assert gettext("Sign out") == gettext("Sign out") == "Sign out"
        with force_locale("cy"):
            assert gettext("Sign out") == "Allgofnodi"
    assert lookups == ["en_GB", "cy"]
