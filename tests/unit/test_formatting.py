"""Money in pence shown as pounds, and dates as GOV.UK writes them, through Babel."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask_babel import Babel, force_locale

from forms.applicant import character_count_texts
from portal import formatting


@pytest.fixture
def babel_app():
    app = Flask(__name__)
    app.config["BABEL_DEFAULT_LOCALE"] = "en_GB"
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Europe/London"
    Babel(app)
    with app.test_request_context():
        yield app


@pytest.mark.parametrize("pence, shown", [
    (500000, "£5,000.00"),
    (475000, "£4,750.00"),
    (101370, "£1,013.70"),
    (1, "£0.01"),
    (0, "£0.00"),
    (19000000, "£190,000.00"),
])
def test_pence_are_shown_as_pounds(babel_app, pence, shown):
    assert formatting.money(pence) == shown


def test_money_never_goes_through_a_float():
    assert formatting.pence_to_pounds(10000000000000001) == \
        __import__("decimal").Decimal("100000000000000.01")


def test_dates_are_shown_as_day_month_year(babel_app):
    assert formatting.long_date(date(2025, 6, 12)) == "12 June 2025"


def test_times_are_shown_in_uk_time(babel_app):
    # 11:00 UTC in June is midday in London (British Summer Time).
    assert formatting.date_time(datetime(2025, 6, 12, 11, 0, tzinfo=UTC)) == \
        "12 June 2025 at midday"
    assert formatting.date_time(datetime(2025, 1, 31, 17, 30, tzinfo=UTC)) == \
        "31 January 2025 at 5:30pm"


def test_welsh_dates_use_welsh_month_names(babel_app):
    with force_locale("cy"):
        assert formatting.long_date(date(2025, 6, 12)) == "12 Mehefin 2025"


@pytest.mark.parametrize("locale", ["en_GB", "cy"])
def test_the_fast_formatters_agree_with_babel(babel_app, locale):
    from flask_babel import format_currency, format_date, format_datetime, format_time

    moments = [datetime(2025, 1, 1, 0, 0, tzinfo=UTC) + timedelta(minutes=97 * n)
               for n in range(0, 24 * 400, 7)]  # every hour and month, both sides of BST
    moments.append(datetime(2025, 6, 12, 11, 0))  # naive: taken as UTC, as Babel does
    amounts = [0, 1, 9, 10, 99, 100, 101, 99999, 100000, 123456789, 10 ** 15 + 7]
    with force_locale(locale):
        for pence in amounts + [-p for p in amounts]:
            assert formatting.money(pence) == format_currency(
                formatting.pence_to_pounds(pence), "GBP"), pence
        for moment in moments:
            assert formatting.long_date(moment) == format_datetime(moment, "d MMMM y")
            assert formatting.long_date(moment.date()) == format_date(moment.date(),
                                                                      "d MMMM y")
            assert formatting._time(formatting._uk(moment)) == format_time(
                moment, "h:mma").lower(), moment


def test_a_tag_is_written_as_the_govuk_macro_writes_it_with_its_text_escaped():
    tag = formatting.tag("<b>Overdue</b>", "govuk-tag--red")
    assert tag == ('<strong class="govuk-tag govuk-tag--red">&lt;b&gt;Overdue&lt;/b&gt;'
                   '</strong>')
    assert formatting.tag("Open") == '<strong class="govuk-tag">Open</strong>'


def test_typed_text_becomes_escaped_paragraphs_or_the_fallback():
    assert formatting.paragraphs("One\n\n  <b>Two</b> \n") == (
        '<p class="govuk-body">One</p><p class="govuk-body">&lt;b&gt;Two&lt;/b&gt;</p>')
    assert formatting.paragraphs("  \n", "Not recorded.") == (
        '<p class="govuk-body">Not recorded.</p>')
    assert formatting.paragraphs(None, "Not recorded.") == (
        '<p class="govuk-body">Not recorded.</p>')


def test_a_return_is_named_by_its_period_and_kind(babel_app):
    assert formatting.return_title("periodic", date(2026, 4, 1), date(2026, 9, 30)) == (
        "Return for 1 April 2026 to 30 September 2026")
    assert formatting.return_title("final", date(2026, 4, 1), date(2027, 3, 31)) == (
        "Final return, 1 April 2026 to 31 March 2027")


@pytest.fixture
def portal_app(tmp_path):
    """The portal's app with its real catalogues (no page touches the database here)."""
    from portal import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "test", "AUDIT_KEY": "test",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
                      "SERVER_NAME": "portal.test"})
    with app.test_request_context():
        yield app


def test_a_welsh_reader_sees_welsh_dates_times_and_pounds(portal_app):
    """Issue 16: Babel's cy locale for months and am/pm, the catalogue's words around them."""
    from babel.dates import format_time

    with force_locale("cy"):
        assert formatting.long_date(date(2025, 6, 12)) == "12 Mehefin 2025"
        assert formatting.long_date(datetime(2025, 3, 1, 12, 0, tzinfo=UTC)) == "1 Mawrth 2025"
        evening = datetime(2025, 1, 31, 17, 30, tzinfo=UTC)
        assert formatting.date_time(evening) == (
            f"31 Ionawr 2025 am {format_time(evening, 'h:mma', locale='cy').lower()}")
        assert formatting.date_time(datetime(2025, 6, 12, 11, 0, tzinfo=UTC)) == (
            "12 Mehefin 2025 am hanner dydd")
        assert formatting.date_time(datetime(2025, 6, 11, 23, 0, tzinfo=UTC)) == (
            "12 Mehefin 2025 am hanner nos")
        assert formatting.money(500000) == "£5,000.00"
        assert formatting.return_title("final", date(2026, 4, 1), date(2027, 3, 31)).endswith(
            "1 Ebrill 2026 i 31 Mawrth 2027")



def test_the_character_count_speaks_the_readers_language_in_every_plural_form(portal_app):
    """GOV.UK's script picks words by Intl.PluralRules: English has "one" and "other",
    Welsh six categories; each is given, with %{count} for the script's number."""
    english = character_count_texts()
    assert english["textareaDescriptionText"] == "You can enter up to %{count} characters"
    assert english["charactersUnderLimitText"] == {
        "one": "You have %{count} character remaining",
        "other": "You have %{count} characters remaining"}
    assert set(character_count_texts(words=True)["wordsOverLimitText"]) == {
        "one", "other"}
    with force_locale("cy"):
        welsh = character_count_texts()
    assert set(welsh["charactersUnderLimitText"]) == {"zero", "one", "two", "few", "many",
                                                      "other"}
    assert all("%{count}" in text for text in welsh["charactersOverLimitText"].values())


def test_a_macro_file_speaks_each_readers_language_not_the_first_ones(portal_app):
    """Jinja keeps a macro file imported without context, and its render context, for every
    later render in the worker: its words must still follow each render's locale (a breaker
    found Welsh tags on English pages after a Welsh page, and the reverse)."""
    from flask import render_template_string

    page = '{% from "macros/rounds.html" import round_state_tag %}{{ round_state_tag("closed") }}'
    with force_locale("en_GB"):
        english = render_template_string(page)
    with force_locale("cy"):
        welsh = render_template_string(page)
    with force_locale("en_GB"):
        english_again = render_template_string(page)
    assert "Closed" in english and "Closed" in english_again
    assert "Closed" not in welsh and "Ar gau" in welsh


def test_a_fields_hidden_error_prefix_is_in_the_readers_language(portal_app):
    """GOV.UK's error message says "Error:" to screen readers: in Welsh, "Gwall:"."""
    from flask import render_template_string

    page = ('{% from "govuk_frontend_jinja/components/error-message/macro.html" import '
            'govukErrorMessage %}{{ govukErrorMessage({"text": "x"}) }}')
    with force_locale("cy"):
        welsh = render_template_string(page)
    with force_locale("en_GB"):
        english = render_template_string(page)
    assert ">Gwall:</span>" in welsh
    assert ">Error:</span>" in english


def test_a_rounds_years_are_written_in_the_readers_language(portal_app):
    """A breaker found "2022/23 to 2024/25" on Welsh pages, charts and the transparency page."""
    from portal.models.funds import years_label

    with force_locale("cy"):
        assert years_label(2022, 3) == "2022/23 i 2024/25"
    with force_locale("en_GB"):
        assert years_label(2022, 3) == "2022/23 to 2024/25"
    assert years_label(2022, 1) == "2022/23"
