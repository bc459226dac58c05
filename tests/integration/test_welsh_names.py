"""The last places that named partnerships, funds, rounds and sections in English only (issue
16): the assessor's list, the ranking and its CSV, the dashboards and their charts, the
exports, the section titles of the task list, check-answers, assessment and decision pages,
the form designer's copy list; and the Welsh Language Standards' rule for grants where a round
invites bids. A Welsh reader sees the Welsh where it is given, the English marked
``lang="en"`` where not; an English reader sees the English."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask_babel import force_locale, gettext

from portal import standard_forms
from portal.db import session, utcnow
from portal.models import Bid, Round
from portal.services import accounts, assessment
from tests import bidding
from tests.helpers import signed_in, text_of
from tests.integration.test_form_design import add_question, add_section, base, errors_beside
from tests.integration.test_form_welsh import WELSH_QUESTION
from tests.integration.test_welsh_content import (
    ENGLISH_OFFICER,
    FUND_CY,
    MANAGER,
    WELSH_MANAGER,
    WELSH_OFFICER,
    approved_bid,
    empty_the_welsh,
    marked_english,
    scf_round,
)
from tests.integration.test_years_reports import make_three_years

ASSESSOR = "assessor1@example.org"
PARTNERSHIP = "South Cambridgeshire CSP"  # bidding.OFFICER's
PARTNERSHIP_CY = "PDC De Swydd Gaergrawnt"
STATEMENT = ("You can write your bid in Welsh or English. A bid written in Welsh will be "
             "treated no less favourably than a bid written in English.")


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def words_of(page: BeautifulSoup) -> str:
    return " ".join(page.get_text(" ").split())


def in_welsh(client: Any) -> Any:
    assert client.submit("/account/language", {"language": "cy"}).status_code == 302
    return client


def welsh(app: Any, english: str) -> str:
    """The catalogue's Welsh for ``english`` (being translated as this is written)."""
    with app.test_request_context(), force_locale("cy"):
        return gettext(english)


def standard_titles(app: Any, keys: list[str]) -> dict[str, tuple[str, str]]:
    """The standard application form's section titles by key: (English, the catalogue's
    Welsh)."""
    titles = {s["key"]: s["title"] for s in standard_forms.application(youth=True)["sections"]}
    return {key: (titles[key], welsh(app, titles[key])) for key in keys}


def assigned(app: Any, bid_id: int, email: str = ASSESSOR) -> int:
    """The bid assigned to ``email`` (an assessor) by the manager; the assignment's id."""
    with app.test_request_context():
        assessor, manager = (accounts.get_user_by_email(email),
                             accounts.get_user_by_email(MANAGER))
        assert assessor is not None and manager is not None
        assignment = assessment.assign(session.get_one(Bid, bid_id), assessor, manager)
        session.commit()
        return assignment.id


def csv_rows(client: Any, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def reference_of(app: Any, bid_id: int) -> str:
    with app.app_context():
        return session.get_one(Bid, bid_id).reference or ""


def card_titles(page: BeautifulSoup) -> list[Any]:
    return page.select("main .govuk-summary-card__title")


# --- the assessor's list and the ranking -----------------------------------------------------


def test_a_welsh_assessor_sees_the_partnership_and_the_fund_in_welsh(app):
    assigned(app, bidding.submitted_bid(app))
    client = in_welsh(signed_in(app, ASSESSOR))
    page = soup(client.get("/assess/"))
    words = words_of(page)
    assert PARTNERSHIP_CY in words and FUND_CY in words
    assert PARTNERSHIP not in words and "Safer Communities Fund" not in words
    # Without the Welsh: the English, marked.
    empty_the_welsh(app)
    marked = marked_english(soup(client.get("/assess/")))
    assert PARTNERSHIP in marked and "Safer Communities Fund" in marked


def test_an_english_assessor_sees_the_english_names_unmarked(app):
    assigned(app, bidding.submitted_bid(app))
    page = soup(signed_in(app, ASSESSOR).get("/assess/"))
    assert PARTNERSHIP in words_of(page) and PARTNERSHIP_CY not in words_of(page)
    assert marked_english(page) == []


def test_the_ranking_and_its_csv_name_the_partnership_in_the_readers_language(app):
    bid_id = bidding.submitted_bid(app)
    round_id = scf_round(app).id
    client = signed_in(app, WELSH_MANAGER)
    assert PARTNERSHIP_CY in text_of(client.get(f"/manage/rounds/{round_id}/ranking"))
    # The CSV, for programs, is the same for every reader: English names.
    [row] = [r for r in csv_rows(client, f"/manage/rounds/{round_id}/ranking.csv")
             if r["title"] == bidding.ABOUT["title"]]
    assert row["partnership"] == PARTNERSHIP
    english = signed_in(app, MANAGER)
    assert PARTNERSHIP in text_of(english.get(f"/manage/rounds/{round_id}/ranking"))
    rows = csv_rows(english, f"/manage/rounds/{round_id}/ranking.csv")
    assert [r["partnership"] for r in rows] == [PARTNERSHIP]
    assert [r["reference"] for r in rows] == [reference_of(app, bid_id)]


# --- the dashboards and the exports ----------------------------------------------------------


def test_the_dashboard_names_funds_rounds_and_partnerships_in_welsh(app):
    approved_bid(app)
    round_ = scf_round(app)
    client = signed_in(app, WELSH_MANAGER)
    page = soup(client.get(f"/reports/?year={round_.financial_year}"))
    rounds_table = words_of(page.select_one("#table-rounds"))
    assert f"{FUND_CY}, {round_.name_cy}" in rounds_table
    assert "Safer Communities Fund" not in rounds_table
    partnerships = words_of(page.select_one("#table-partnerships"))
    assert PARTNERSHIP_CY in partnerships and PARTNERSHIP not in partnerships
    # The charts' labels too.
    charts = " ".join(text.get_text() for text in page.select("svg text"))
    assert f"{FUND_CY}, {round_.name_cy}" in charts and PARTNERSHIP_CY in charts
    # The funds to choose from, in Welsh and in Welsh order.
    choices = [option.get_text() for option in page.select("select#fund option")][1:]
    assert FUND_CY in choices and choices == sorted(choices, key=str.casefold)


def test_the_dashboard_marks_english_names_shown_for_want_of_welsh(app):
    approved_bid(app)
    empty_the_welsh(app)
    round_ = scf_round(app)
    page = soup(signed_in(app, WELSH_MANAGER).get(f"/reports/?year={round_.financial_year}"))
    marked = marked_english(page.select_one("#table-rounds"))
    assert "Safer Communities Fund" in marked and round_.name in marked
    assert PARTNERSHIP in marked_english(page.select_one("#table-partnerships"))


def test_the_partnerships_own_dashboard_names_its_rounds_in_welsh(app):
    approved_bid(app, WELSH_OFFICER)
    round_ = scf_round(app)
    page = soup(signed_in(app, WELSH_OFFICER).get(
        f"/reports/partnership?year={round_.financial_year}"))
    assert f"{FUND_CY}, {round_.name_cy}" in words_of(page.select_one("#table-rounds"))


def test_the_year_tables_name_the_fund_and_round_in_welsh(app):
    """A round over several years has a table of its years (and a chart): headed in Welsh."""
    round_id = make_three_years(app)
    with app.app_context():
        round_ = session.get(Round, round_id)
        year, round_cy, fund_cy = round_.financial_year, round_.name_cy, round_.fund.name_cy
    assert round_cy and fund_cy
    page = soup(signed_in(app, WELSH_MANAGER).get(f"/reports/?year={year}"))
    headings = [words_of(h) for h in page.select("main h3")]
    assert any(fund_cy in h and round_cy in h for h in headings), headings
    caption = words_of(page.select_one(f"#table-years-{round_id} caption"))
    assert fund_cy in caption and round_cy in caption
    chart = page.select_one(f"#chart-years-{round_id}-title").get_text()
    assert fund_cy in chart and round_cy in chart


@pytest.mark.parametrize("table", ["bids", "assessments", "awards"])
def test_the_csv_exports_are_the_same_file_for_every_reader(app, table):
    """A CSV is for programs, which join and compare files: partnership and round names
    (and codes) in English for a Welsh reader too; the workbook is the one for people."""
    bid_id = approved_bid(app)
    assigned(app, bidding.submitted_bid(app))
    round_ = scf_round(app)
    url = f"/reports/export/{table}.csv?year=all&fund=SCF"
    welsh = signed_in(app, WELSH_MANAGER).get(url).get_data(as_text=True)
    english = signed_in(app, MANAGER).get(url).get_data(as_text=True)
    assert welsh == english
    rows = csv_rows(signed_in(app, WELSH_MANAGER), url)
    assert rows, table
    assert {(r["partnership"], r["round"]) for r in rows} == {(PARTNERSHIP, round_.name)}
    assert bid_id


# --- section titles ----------------------------------------------------------------------------


def test_the_task_list_and_check_answers_give_the_standard_titles_in_welsh(app):
    officer = signed_in(app, bidding.OFFICER)
    bid_id = bidding.start(officer, app, "SCF")
    in_welsh(officer)
    titles = standard_titles(app, ["about", "delivery", "declarations"])
    tasks = soup(officer.get(f"/bids/{bid_id}"))
    links = {a.get_text(" ", strip=True): a for a in tasks.select("main .govuk-task-list__link")}
    check = soup(officer.get(f"/bids/{bid_id}/check-answers"))
    cards = {c.get_text(" ", strip=True): c for c in card_titles(check)}
    # Nothing is complete: the warning lists every section, in Welsh.
    warning = words_of(check.select_one("main .govuk-warning-text"))
    for english, shown in titles.values():
        assert shown in links and shown in cards and shown in warning, shown
        # Marked English only where the catalogue has no Welsh yet.
        assert (links[shown].select_one('[lang="en"]') is not None) == (shown == english)
        assert (cards[shown].select_one('[lang="en"]') is not None) == (shown == english)
    html = check.decode()
    assert "&lt;span" not in html


def test_a_team_section_shows_its_welsh_title_and_its_english_marked(app):
    manager = signed_in(app, MANAGER)
    url = base(app)
    for key, data in (("young_people", {"title": "Young people", "title_cy": "Pobl ifanc"}),
                      ("club", {"title": "The club"})):
        response = add_section(manager, url, key=key, **data)
        assert response.status_code == 302, errors_beside(response)
        response = add_question(manager, url, key, "short_text", label="Club name",
                                required="no", key=f"{key}_name")
        assert response.status_code == 302, errors_beside(response)
    officer = signed_in(app, bidding.OFFICER)
    bid_id = bidding.start(officer, app, "SCF")
    in_welsh(officer)
    for path in (f"/bids/{bid_id}", f"/bids/{bid_id}/check-answers"):
        page = soup(officer.get(path))
        words = words_of(page)
        assert "Pobl ifanc" in words and "Young people" not in words, path
        assert "The club" in marked_english(page), path
        assert "Pobl ifanc" not in marked_english(page), path
    # Saving the section says so in Welsh.
    response = bidding.save(officer, bid_id, "young_people",
                            {"young_people_name": "Wisbech Youth", "completed": "no"}, 2025)
    assert response.status_code == 302, errors_beside(response)
    assert "“Pobl ifanc”" in text_of(officer.get(response.headers["Location"]))
    # An English reader: the English, unmarked.
    english = signed_in(app, ENGLISH_OFFICER)
    bid_id = bidding.start(english, app, "SCF")
    page = soup(english.get(f"/bids/{bid_id}"))
    assert "Young people" in words_of(page) and marked_english(page) == []


def test_the_assessor_and_the_manager_see_the_sections_in_welsh(app):
    bid_id = bidding.submitted_bid(app)
    number = assigned(app, bid_id)
    assessor = in_welsh(signed_in(app, ASSESSOR))
    assessor.submit(f"/assess/{number}/declaration", {"conflict": "no"})
    titles = standard_titles(app, ["about", "problem", "budget"])
    for client, url in ((assessor, f"/assess/{number}"),
                        (signed_in(app, WELSH_MANAGER), f"/manage/bids/{bid_id}")):
        page = soup(client.get(url))
        shown = {c.get_text(" ", strip=True): c for c in card_titles(page)}
        for english, title in titles.values():
            assert title in shown, (url, title, list(shown))
            assert (shown[title].select_one('[lang="en"]') is not None) == (title == english)
        assert "&lt;span" not in page.decode()


def test_the_criteria_form_offers_the_sections_in_welsh(app):
    round_ = scf_round(app)
    page = soup(signed_in(app, WELSH_MANAGER).get(f"/manage/rounds/{round_.id}/criteria/edit"))
    about_en, about_cy = standard_titles(app, ["about"])["about"]
    labels = [" ".join(label.get_text(" ").split()) for label in page.select("main label")]
    assert about_cy in labels
    if about_cy != about_en:
        assert about_en not in labels


# --- the form designer's copy list --------------------------------------------------------------


def test_the_forms_to_copy_are_named_in_the_readers_language(app):
    youth = bidding.round_of(app, "YF")
    with app.app_context():
        youth_round_cy = session.get(Round, youth.id).name_cy
    page = soup(signed_in(app, WELSH_MANAGER).get(f"{base(app)}/copy"))
    options = [" ".join(o.get_text(" ").split()) for o in page.select("main option, main label")]
    assert f"Cronfa Ieuenctid: {youth_round_cy}" in options, options
    page = soup(signed_in(app, MANAGER).get(f"{base(app)}/copy"))
    options = [" ".join(o.get_text(" ").split()) for o in page.select("main option, main label")]
    assert f"Youth Fund: {youth.name}" in options, options


def test_the_history_names_the_welsh_the_designer_changed(app):
    manager = signed_in(app, MANAGER)
    url = base(app)
    response = add_question(manager, url, "delivery", "one_choice", **WELSH_QUESTION)
    assert response.status_code == 302, errors_beside(response)
    response = manager.submit(f"{url}/questions/young", {
        **WELSH_QUESTION, "label_cy": "A fydd pobl ifanc yno?", "hint_cy": "Dan 25 oed."})
    assert response.status_code == 302, errors_beside(response)
    history = text_of(manager.get("/manage/audit"))
    assert "What changed: Hint in Welsh, Question in Welsh." in history
    assert "label_cy" not in history and "hint_cy" not in history


# --- the Welsh Language Standards' rule for grants -----------------------------------------------


def test_the_round_page_and_the_list_say_a_bid_may_be_written_in_welsh(app):
    round_ = scf_round(app)
    english = signed_in(app, ENGLISH_OFFICER)
    for url in (f"/rounds/{round_.id}", "/rounds/"):
        assert STATEMENT in text_of(english.get(url)), url
    statement_cy = welsh(app, STATEMENT)
    client = signed_in(app, WELSH_OFFICER)
    for url in (f"/rounds/{round_.id}", "/rounds/"):
        page = soup(client.get(url))
        assert words_of(page.select_one("#welsh-bids")) == statement_cy, url


def test_a_closed_round_does_not_invite_bids(app):
    round_id = scf_round(app).id
    with app.app_context():
        round_ = session.get(Round, round_id)
        round_.opens_at = utcnow() - timedelta(days=30)
        round_.closes_at = utcnow() - timedelta(days=1)
        session.commit()
    page = soup(signed_in(app, bidding.OFFICER).get(f"/rounds/{round_id}"))
    assert "closed" in words_of(page).lower()
    assert page.select_one("#welsh-bids") is None
