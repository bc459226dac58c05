"""The pagination written in Python matches GOV.UK Frontend's govukPagination macro."""

from __future__ import annotations

import re

import pytest
from flask import Flask, render_template_string
from flask_babel import Babel
from jinja2 import PackageLoader, PrefixLoader

from portal.pagination import Page, nav


@pytest.fixture
def plain_app():
    app = Flask(__name__)
    app.jinja_loader = PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")})
    Babel(app)
    app.add_url_rule("/list", "listing", lambda: "")
    with app.test_request_context("/list"):
        yield app


def squeezed(html: str) -> str:
    """Whitespace between and inside tags does not change what is shown or read out."""
    html = re.sub(r">\s+", ">", re.sub(r"\s+<", "<", html.strip()))
    return re.sub(r"\s+", " ", html)


@pytest.mark.parametrize("number, total", [(1, 30), (2, 60), (5, 250), (10, 250), (3, 3 * 25)])
def test_the_python_pagination_writes_what_the_macro_writes(plain_app, number, total):
    params = Page(items=[], number=number, per_page=25, total=total).govuk_params(
        "listing", q="bikes")
    macro = render_template_string(
        '{% from "govuk_frontend_jinja/components/pagination/macro.html" import '
        'govukPagination %}{{ govukPagination(params) }}', params=params)
    assert squeezed(str(nav(params))) == squeezed(macro)
    assert "q=bikes" in str(nav(params))


def test_a_single_page_has_no_pagination(plain_app):
    assert Page(items=[], number=1, per_page=25, total=25).govuk_params("listing") is None
    assert str(nav(None)) == ""
