"""The form builder's questions in Welsh (issue 16, point 2): the grants manager gives the
Welsh beside every word applicants read; a Welsh reader sees it where given, the catalogue's
Welsh for the standard forms' words, else the English marked ``lang="en"``; the Welsh is
checked as the English is, and kept by copying and publishing."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask_babel import force_locale, gettext

from tests import bidding
from tests.helpers import signed_in, table_row_counts, text_of
from tests.integration.test_form_design import (
    MANAGER,
    OFFICER,
    add_question,
    add_section,
    base,
    errors_beside,
    latest,
    start_bid_on_form,
    versions,
)
from tests.integration.test_form_exports import bid_on, bids_csv


@pytest.fixture
def manager(client):
    client.sign_in(MANAGER)
    return client


WELSH_QUESTION = {
    "label": "Will young people take part?", "label_cy": "A fydd pobl ifanc yn cymryd rhan?",
    "hint": "Under 25.", "hint_cy": "O dan 25 oed.", "required": "yes",
    "error": "Select who takes part", "error_cy": "Dewiswch pwy sy’n cymryd rhan",
    "choices": "Yes, some\nNo, none", "choices_cy": "Bydd, rhai\nNa fydd, dim un",
    "key": "young",
}


def _soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def _in_welsh(client: Any) -> None:
    assert client.submit("/account/language", {"language": "cy"}).status_code == 302


def _english_marked(soup: BeautifulSoup) -> list[str]:
    return [" ".join(tag.get_text(" ").split()) for tag in soup.select('main [lang="en"]')]


def _welsh_form(app: Any, manager: Any) -> str:
    """The SCF round's form with a section of Welsh questions (and one without Welsh)."""
    url = base(app)
    response = add_section(manager, url, key="young_people", title="Young people",
                           title_cy="Pobl ifanc", intro="About the young people.",
                           intro_cy="Am y bobl ifanc.")
    assert response.status_code == 302, errors_beside(response)
    response = add_question(manager, url, "young_people", "one_choice", **WELSH_QUESTION)
    assert response.status_code == 302, errors_beside(response)
    response = add_question(manager, url, "young_people", "short_text",
                            label="Youth club name", required="yes", key="club",
                            error="Enter the club’s name")
    assert response.status_code == 302, errors_beside(response)
    return url


def test_the_designer_saves_the_welsh_beside_the_english_twice(app, manager):
    url = _welsh_form(app, manager)
    section = latest(app).section("young_people")
    assert (section.title_cy, section.intro_cy) == ("Pobl ifanc", "Am y bobl ifanc.")
    question = section.question("young")
    assert (question.label_cy, question.hint_cy, question.error_cy) == (
        "A fydd pobl ifanc yn cymryd rhan?", "O dan 25 oed.", "Dewiswch pwy sy’n cymryd rhan")
    assert [c.get("text_cy") for c in question.choices] == ["Bydd, rhai", "Na fydd, dim un"]
    # The page shows what is saved; saved again with changes, the changes are kept.
    page = _soup(manager.get(f"{url}/questions/young"))
    assert page.select_one("#label_cy")["value"] == "A fydd pobl ifanc yn cymryd rhan?"
    assert page.select_one("#choices_cy").get_text().strip() == "Bydd, rhai\nNa fydd, dim un"
    for label_cy in ("A fydd pobl ifanc yno?", "A fydd pobl ifanc yn dod?"):
        response = manager.submit(f"{url}/questions/young", {
            **WELSH_QUESTION, "label_cy": label_cy, "choices_cy": "Bydd\nNa fydd"})
        assert response.status_code == 302, errors_beside(response)
        question = latest(app).question("young")
        assert question.label_cy == label_cy
        assert [c["text_cy"] for c in question.choices] == ["Bydd", "Na fydd"]
        assert [c["value"] for c in question.choices] == ["yes_some", "no_none"]
    response = manager.submit(f"{url}/sections/young_people", {
        "title": "Young people", "title_cy": "Yr ifanc", "intro": "", "intro_cy": ""})
    assert response.status_code == 302, errors_beside(response)
    assert latest(app).section("young_people").title_cy == "Yr ifanc"
    # Blank Welsh: none kept.
    response = manager.submit(f"{url}/questions/young", {**WELSH_QUESTION, "label_cy": "",
                                                          "choices_cy": ""})
    assert response.status_code == 302, errors_beside(response)
    question = latest(app).question("young")
    assert question.label_cy == "" and not any("text_cy" in c for c in question.choices)


def test_bad_welsh_is_refused_beside_its_field_and_changes_nothing(app, manager):
    url = _welsh_form(app, manager)
    before = table_row_counts(app)
    for data, field, words in [
        ({"label_cy": "Pwy\x07?"}, "label_cy", "hidden control characters"),
        ({"label_cy": "a" * 501}, "label_cy", "500 characters or fewer"),
        ({"hint_cy": "a" * 2001}, "hint_cy", "2000 characters or fewer"),
        ({"error_cy": "a" * 501}, "error_cy", "500 characters or fewer"),
        ({"choices_cy": "Bydd, rhai"}, "choices_cy", "one line in Welsh for each choice"),
        ({"choices_cy": "Un\nDau\nTri"}, "choices_cy", "one line in Welsh for each choice"),
        ({"choices_cy": "a" * 201 + "\nDau"}, "choices_cy", "200 characters or fewer"),
    ]:
        response = manager.submit(f"{url}/questions/young", {**WELSH_QUESTION, **data})
        assert response.status_code == 200, (field, response.status_code)
        assert words in errors_beside(response).get(field, ""), (field, errors_beside(response))
    response = manager.submit(f"{url}/sections/young_people", {
        "title": "Young people", "title_cy": "a" * 121})
    assert response.status_code == 200
    assert "120 characters or fewer" in errors_beside(response).get("title_cy", "")
    assert table_row_counts(app) == before
    assert latest(app).question("young").label_cy == WELSH_QUESTION["label_cy"]


def test_markup_in_the_welsh_is_shown_as_text(app, manager):
    url = base(app)
    response = add_question(manager, url, "delivery", "short_text", label="Who?",
                            label_cy="<b>Pwy</b>?", required="no", key="who")
    assert response.status_code == 302, errors_beside(response)
    _in_welsh(manager)
    page = manager.get(f"{url}/preview/delivery").get_data(as_text=True)
    assert "<b>Pwy</b>" not in page and "&lt;b&gt;Pwy&lt;/b&gt;?" in page


def test_a_welsh_reader_sees_the_welsh_and_an_english_reader_the_english(app, manager):
    _welsh_form(app, manager)
    officer = signed_in(app, OFFICER)
    bid_id = bidding.start(officer, app, "SCF")
    english = officer.get(bidding.section_url(bid_id, "young_people"))
    text = text_of(english)
    assert "Young people" in text and "About the young people." in text
    assert "Will young people take part?" in text and "Yes, some" in text
    assert "A fydd" not in text and "Pobl ifanc" not in text
    assert not _soup(english).select('main [lang="en"]')  # an English page marks nothing

    _in_welsh(officer)
    welsh = officer.get(bidding.section_url(bid_id, "young_people"))
    soup = _soup(welsh)
    text = text_of(welsh)
    assert soup.select_one("main h1").get_text(strip=True) == "Pobl ifanc"
    assert "Am y bobl ifanc." in text and "O dan 25 oed." in text
    legend = soup.select_one("#young-hint").find_previous("legend")
    assert legend.get_text(strip=True) == "A fydd pobl ifanc yn cymryd rhan?"
    assert "Bydd, rhai" in text and "Na fydd, dim un" in text
    assert "Will young people take part?" not in text and "Yes, some" not in text
    # The question without Welsh: its English inside lang="en" (its label), nothing else.
    marked = _english_marked(soup)
    assert "Youth club name" in marked
    assert soup.select_one('label[for="club"] [lang="en"]') is not None
    assert not any("young" in words.lower() for words in marked)

    # Completing without answers: the Welsh own error; the English one marked lang="en".
    response = bidding.save(officer, bid_id, "young_people", {"completed": "yes"}, 2025)
    assert response.status_code == 200
    errors = errors_beside(response)
    assert errors["young"] == "Dewiswch pwy sy’n cymryd rhan"
    assert errors["club"] == "Enter the club’s name"
    soup = _soup(response)
    assert soup.select_one('#club-error [lang="en"]').get_text() == "Enter the club’s name"
    assert soup.select_one("#young-error [lang]") is None


def test_the_standard_questions_show_the_catalogues_welsh(app, client):
    """Compared with the catalogue itself (being translated as this is written): the page
    shows gettext's Welsh, and marks it English only where the catalogue has none."""
    client.sign_in(OFFICER)
    bid_id = bidding.start(client, app, "SCF")
    _in_welsh(client)
    soup = _soup(client.get(bidding.section_url(bid_id, "delivery")))
    with app.test_request_context(), force_locale("cy"):
        for field, english in [("activities", "What will be done?"),
                               ("delivered_by", "Who will do it?")]:
            welsh = gettext(english)
            label = soup.select_one(f'label[for="{field}"]')
            assert label.get_text(" ", strip=True) == welsh
            assert (label.select_one('[lang="en"]') is not None) == (welsh == english)
        title = gettext("What will be done")
    assert soup.select_one("main h1").get_text(strip=True) == title


def test_the_preview_shows_the_welsh(app, manager):
    url = _welsh_form(app, manager)
    _in_welsh(manager)
    overview = _soup(manager.get(f"{url}/preview"))
    assert "Pobl ifanc" in [a.get_text(strip=True) for a in overview.select("main a")]
    preview = manager.get(f"{url}/preview/young_people")
    text = text_of(preview)
    assert "A fydd pobl ifanc yn cymryd rhan?" in text and "Bydd, rhai" in text
    assert "Youth club name" in _english_marked(_soup(preview))
    # The designer's own page lists the questions in the reader's language too.
    assert "A fydd pobl ifanc yn cymryd rhan?" in text_of(manager.get(url))


def test_answers_read_back_in_welsh(app, manager):
    _welsh_form(app, manager)
    officer = signed_in(app, OFFICER)
    bid_id = bidding.start(officer, app, "SCF")
    response = bidding.save(officer, bid_id, "young_people",
                            {"young": "yes_some", "club": "Wisbech Youth", "completed": "no"},
                            2025)
    assert response.status_code == 302, errors_beside(response)
    _in_welsh(officer)
    soup = _soup(officer.get(f"/bids/{bid_id}/check-answers"))
    keys = [" ".join(dt.get_text(" ").split()) for dt in soup.select("dt")]
    values = [" ".join(dd.get_text(" ").split()) for dd in
              soup.select("dd.govuk-summary-list__value")]
    assert "A fydd pobl ifanc yn cymryd rhan?" in keys and "Bydd, rhai" in values
    assert soup.select_one('dt [lang="en"]').get_text() == "Youth club name"


def test_copying_and_publishing_keep_the_welsh(app, manager):
    url = _welsh_form(app, manager)
    # Copied to another round.
    target = base(app, "YF")
    response = manager.submit(f"{target}/copy", {"source": str(bidding.round_of(app, "SCF").id)})
    assert response.status_code == 302, errors_beside(response)
    copied = latest(app, "YF")
    assert copied.section("young_people").title_cy == "Pobl ifanc"
    assert copied.question("young").label_cy == WELSH_QUESTION["label_cy"]
    assert [c.get("text_cy") for c in copied.question("young").choices] == [
        "Bydd, rhai", "Na fydd, dim un"]
    # Once a bid uses the form, a change is a draft; publishing keeps its Welsh.
    officer = signed_in(app, OFFICER)
    start_bid_on_form(app, officer)
    response = manager.submit(f"{url}/questions/young", {**WELSH_QUESTION,
                                                         "hint_cy": "Dan 25 oed."})
    assert response.status_code == 302, errors_beside(response)
    draft = versions(app)[-1]
    assert draft.published_at is None
    response = manager.submit(f"{url}/publish", {}, form_url=url)
    assert response.status_code == 302
    published = versions(app)[-1]
    assert published.published_at is not None
    assert published.definition["sections"][-1]["title_cy"] == "Pobl ifanc"
    question = next(q for q in published.definition["sections"][-1]["questions"]
                    if q["key"] == "young")
    assert (question["label_cy"], question["hint_cy"]) == (WELSH_QUESTION["label_cy"],
                                                          "Dan 25 oed.")


def test_the_welsh_preferring_manager_designs_in_welsh(app, client):
    """rheolwr@example.org prefers Welsh: the designer's boxes for the Welsh are there."""
    client.sign_in("rheolwr@example.org")
    page = _soup(client.get(f"{base(app)}/sections/delivery"))
    assert page.select_one("html")["lang"] == "cy"
    assert page.select_one('#title_cy[lang="cy"]') is not None


def test_a_welsh_readers_csv_is_the_same_file_as_an_english_readers(app, manager):
    """A CSV is for programs, which join and compare files: its choice words are the same
    for every reader (the workbook is the one in the reader's language)."""
    url = base(app)
    response = add_question(manager, url, "delivery", "one_choice",
                            **{**WELSH_QUESTION, "required": "no"})
    assert response.status_code == 302, errors_beside(response)
    _id, reference = bid_on(app, versions(app)[-1].id, {"delivery": {"young": "no_none"}})
    english = bids_csv(manager, "?fund=SCF")
    assert english[1][reference]["answer:young"] == "No, none"
    _in_welsh(manager)
    assert bids_csv(manager, "?fund=SCF") == english
