"""portal/bilingual.py (issue 16): the Welsh for a Welsh reader where given, else the English,
marked lang="en" on a page; the English reader sees the English, unmarked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from flask import Flask, render_template_string
from flask_babel import Babel
from markupsafe import Markup

from portal import bilingual
from portal.exports import tables

FUND = SimpleNamespace(name="Safer Communities Fund", name_cy="Cronfa Cymunedau Mwy Diogel",
                       purpose="Line one\nLine <two>", purpose_cy="")


@pytest.fixture(scope="module")
def site() -> Flask:
    """A bare app with Babel (no database): a unit test, not the portal's ``app``."""
    app = Flask(__name__)
    app.config.update(SERVICE_NAME="Community safety grants",
                      SERVICE_NAME_CY="Grantiau diogelwch cymunedol",
                      ORGANISATION_NAME="Office of the PCC", ORGANISATION_NAME_CY="")
    Babel(app, locale_selector=lambda: app.config["TEST_LOCALE"])
    bilingual.init_app(app)
    return app


@contextmanager
def reading(app: Flask, language: str) -> Iterator[None]:
    app.config["TEST_LOCALE"] = language
    with app.test_request_context():
        yield


def test_a_welsh_reader_gets_the_welsh_where_it_is_given(site):
    with reading(site, "cy"):
        assert bilingual.welsh_wanted()
        assert bilingual.text(FUND, "name") == "Cronfa Cymunedau Mwy Diogel"
        assert bilingual.marked(FUND, "name") == "Cronfa Cymunedau Mwy Diogel"
        assert bilingual.config_text("SERVICE_NAME") == "Grantiau diogelwch cymunedol"


def test_a_welsh_reader_gets_the_english_marked_english_where_there_is_no_welsh(site):
    with reading(site, "cy"):
        assert bilingual.pick("Youth Fund", "  ") == "Youth Fund"
        assert bilingual.mark("Youth Fund", "") == Markup('<span lang="en">Youth Fund</span>')
        assert bilingual.mark("A & B", None, block=True) == Markup(
            '<div lang="en">A &amp; B</div>')
        assert bilingual.config_marked("ORGANISATION_NAME") == Markup(
            '<span lang="en">Office of the PCC</span>')
        assert bilingual.english("Bike marking") == Markup('<span lang="en">Bike marking</span>')
        body = bilingual.paragraphs(FUND, "purpose")
        assert body.startswith('<div lang="en">') and "Line &lt;two&gt;" in body
        assert body.count('<p class="govuk-body">') == 2


def test_nothing_is_marked_when_there_is_nothing_to_show(site):
    with reading(site, "cy"):
        assert bilingual.mark("", "") == "" and bilingual.mark(None, None) == ""
        assert bilingual.paragraphs(SimpleNamespace(terms="", terms_cy=""), "terms",
                                    "None given.") == bilingual.paragraphs(
            SimpleNamespace(terms=None, terms_cy=None), "terms", "None given.")


def test_an_english_reader_gets_the_english_unmarked(site):
    with reading(site, "en_GB"):
        assert not bilingual.welsh_wanted()
        assert bilingual.text(FUND, "name") == "Safer Communities Fund"
        assert bilingual.marked(FUND, "name") == "Safer Communities Fund"
        assert "lang" not in bilingual.paragraphs(FUND, "purpose")
        assert bilingual.config_marked("ORGANISATION_NAME") == "Office of the PCC"
        assert bilingual.english("Bike marking") == "Bike marking"


def test_text_typed_is_escaped_in_either_language(site):
    typed = SimpleNamespace(name="<b>x</b>", name_cy="<i>y</i>")
    with reading(site, "cy"):
        assert bilingual.marked(typed, "name") == "&lt;i&gt;y&lt;/i&gt;"
        assert bilingual.text(typed, "name") == "<i>y</i>"  # plain text, for titles and files
    with reading(site, "en_GB"):
        assert bilingual.marked(typed, "name") == "&lt;b&gt;x&lt;/b&gt;"


def test_a_record_without_a_welsh_field_reads_as_english(site):
    row = SimpleNamespace(partnership="Huntingdonshire CSP")  # a query row without _cy
    with reading(site, "cy"):
        assert bilingual.marked(row, "partnership") == Markup(
            '<span lang="en">Huntingdonshire CSP</span>')


def test_the_marks_survive_a_translated_sentence_in_a_template(site):
    with reading(site, "cy"):
        shown = render_template_string(
            "<p>{{ _('Terms of the %(fund)s', fund=cy_marked(fund, 'name')) }} – "
            "{{ setting('SERVICE_NAME') }}</p>",
            fund=SimpleNamespace(name="Youth <Fund>", name_cy=""))
        assert shown == ('<p>Terms of the <span lang="en">Youth &lt;Fund&gt;</span> – '
                         'Grantiau diogelwch cymunedol</p>')


def test_exports_give_names_in_the_readers_language_as_plain_text(site):
    column = next(c for c in tables.TABLES["bids"].columns if c.key == "partnership")
    title = next(c for c in tables.TABLES["bids"].columns if c.key == "title")
    row = {"partnership": "Huntingdonshire CSP", "partnership_cy": "PDC Swydd Huntingdon",
           "title": "Bikes", "title_cy": "not a column of names"}
    with reading(site, "cy"):
        assert tables.cell(row, column) == "PDC Swydd Huntingdon"
        assert tables.cell(row, title) == "Bikes"
        assert tables.cell({"partnership": "Huntingdonshire CSP"}, column) == \
            "Huntingdonshire CSP"
        assert tables.cell({"partnership": None, "partnership_cy": ""}, column) is None
    with reading(site, "en_GB"):
        assert tables.cell(row, column) == "Huntingdonshire CSP"
