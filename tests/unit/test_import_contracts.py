"""The contract type that keeps Flask's request out of services finds every way of using it."""

from __future__ import annotations

import sys
import textwrap

from tests.import_contracts import uses

FORBIDDEN = {("flask", "request"), ("flask", "url_for"), ("flask_login", "current_user")}


def _module(tmp_path, monkeypatch, source: str) -> str:
    package = tmp_path / "contract_probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "thing.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [n for n in sys.modules if n.startswith("contract_probe")]:
        del sys.modules[name]
    return "contract_probe.thing"


def test_every_form_of_use_is_found(tmp_path, monkeypatch):
    module = _module(tmp_path, monkeypatch, """
        from flask import (
            current_app,
            request,
        )
        import flask
        import flask_login as login


        def later():
            from flask import url_for
            return flask.request.path, login.current_user, url_for("x")
    """)
    assert uses(module, FORBIDDEN) == [
        (2, "flask.request"), (11, "flask.url_for"), (12, "flask.request"),
        (12, "flask_login.current_user"),
    ]


def test_allowed_names_pass(tmp_path, monkeypatch):
    module = _module(tmp_path, monkeypatch, """
        from flask import current_app, g
        import flask

        def f(request):
            return request.path, flask.current_app, g
    """)
    assert uses(module, FORBIDDEN) == []
