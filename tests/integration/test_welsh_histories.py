"""Histories read in Welsh (issue 16): a bid's history names its sections and the questions
whose answers changed in the bid's own form's words (the catalogue's Welsh for the standard
form, the grants team's Welsh for their own questions, their English marked ``lang="en"``
where they gave none), a section's state in words, the round and fund by their Welsh names;
an account's history names organisations by their Welsh names and languages by their own
names, each marked with its language. Compared with the catalogue itself (being translated as
this is written): the page shows gettext's Welsh."""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup, Tag
from flask_babel import force_locale, gettext
from sqlalchemy import select

from portal import questions, standard_forms
from portal.db import session
from portal.models import Bid, Organisation, Round
from portal.services import accounts, bids
from tests import bidding
from tests.helpers import signed_in
from tests.integration.test_form_welsh import WELSH_QUESTION, _welsh_form
from tests.integration.test_welsh_content import FUND_CY, MANAGER, WELSH_MANAGER, scf_round

ADMIN = "admin@example.org"


def _soup(response: Any) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def _words(element: Tag) -> str:
    return re.sub(r"\s+", " ", element.get_text(" ")).strip()


def _history(app: Any, page: BeautifulSoup) -> list[Tag]:
    """The entries of a bid's history on the grants manager's page of the bid."""
    with app.test_request_context(), force_locale("cy"):
        heading = gettext("History")
    title = next(h for h in page.select("main h2") if h.get_text(strip=True) == heading)
    return title.find_next("ol").find_all("li")


def _entry(entries: list[Tag], *words: str) -> Tag:
    found = [entry for entry in entries if all(w in _words(entry) for w in words)]
    assert found, (words, [_words(e) for e in entries])
    return found[0]


def _unmarked(element: Tag) -> str:
    """The text of ``element`` outside its parts marked with a language."""
    copy = BeautifulSoup(str(element), "html.parser")
    for marked in copy.select("[lang]"):
        marked.decompose()
    return _words(copy)


def _welsh(app: Any, english: str, **variables: Any) -> str:
    with app.test_request_context(), force_locale("cy"):
        return gettext(english, **variables)


def _bid_with_sections(app: Any, extra: dict[str, dict[str, Any]] | None = None,
                       changes: list[tuple[str, dict[str, Any]]] | None = None) -> int:
    """A bid on the SCF round's current form, each section saved complete (``extra``: the
    answers of the grants team's sections), then saved again with ``changes`` (each in a
    request of its own, as an officer's saves are), submitted."""
    with app.test_request_context():
        officer = accounts.get_user_by_email(bidding.OFFICER)
        round_ = session.get_one(Round, scf_round(app).id)
        answers = {**bidding._answers(round_.financial_year, 475000), **(extra or {})}
        bid = bids.start_bid(round_, officer, bids.new_creation_token())
        for section in bids.sections_for(round_):
            bids.save_section(bid, section.key, answers[section.key], completed=True,
                              expected_version=None, actor=officer)
        session.commit()
        bid_id = bid.id
    for key, changed in changes or []:
        answers[key] = {**answers[key], **changed}
        with app.test_request_context():
            bid = session.get_one(Bid, bid_id)
            bids.save_section(bid, key, answers[key], completed=True,
                              expected_version=bid.section(key).version,
                              actor=accounts.get_user_by_email(bidding.OFFICER))
            session.commit()
    with app.test_request_context():
        bids.submit(session.get_one(Bid, bid_id), accounts.get_user_by_email(bidding.OFFICER))
        session.commit()
    return bid_id


def test_a_welsh_manager_reads_the_standard_forms_changes_in_welsh(app, client):
    end = f"{scf_round(app).financial_year + 1}-03-01"
    bid_id = _bid_with_sections(app, changes=[("about", {"end_date": end})])
    client.sign_in(WELSH_MANAGER)
    entries = _history(app, _soup(client.get(f"/manage/bids/{bid_id}")))
    about = questions.read(standard_forms.application(youth=False)).section("about")
    assert about is not None
    dates = next(q for q in about.questions if q.type == "project_dates")
    title = _welsh(app, about.title)
    saved = _welsh(app, "“%(section)s” saved: %(status)s", section=title,
                   status=_welsh(app, "Completed"))
    # The first save changed every answer; the second only the end date.
    labels = [_welsh(app, q.label) for q in about.questions]
    labels.insert(labels.index(_welsh(app, dates.label)) + 1, _welsh(app, dates.end_label))
    every = _welsh(app, "%(label)s: %(value)s", label=_welsh(app, "Answers changed"),
                   value=", ".join(labels))
    first = _entry(entries, saved, every)
    end_only = _welsh(app, "%(label)s: %(value)s", label=_welsh(app, "Answers changed"),
                      value=_welsh(app, dates.end_label))
    _entry(entries, saved, end_only)
    text = " ".join(_words(entry) for entry in entries)
    assert not re.search(r"\b(completed|in_progress|in progress)\b", text), text
    for question in about.questions:  # the English only where the catalogue has no Welsh
        if _welsh(app, question.label) != question.label:
            assert question.label not in _words(first), _words(first)
    # The bid was started in the round and fund of their Welsh names.
    started = _entry(entries, FUND_CY)
    assert scf_round(app).name_cy in _words(started)
    assert "Safer Communities Fund" not in _words(started)


def test_a_welsh_manager_reads_the_grants_teams_own_questions_in_their_welsh(app, client):
    manager = signed_in(app, MANAGER)
    _welsh_form(app, manager)  # "Young people": a question with Welsh, one without
    young = {"young": "yes_some", "club": "Wisbech Youth"}
    bid_id = _bid_with_sections(app, extra={"young_people": young},
                                changes=[("young_people", {"club": "Chatteris Youth"}),
                                         ("young_people", {"young": "no_none"})])
    client.sign_in(WELSH_MANAGER)
    page = _soup(client.get(f"/manage/bids/{bid_id}"))
    entries = _history(app, page)
    saved = _welsh(app, "“%(section)s” saved: %(status)s", section="Pobl ifanc",
                   status=_welsh(app, "Completed"))
    club = _entry(entries, saved, "Youth club name")
    # Its English (the grants team gave no Welsh) marked English, nothing else.
    assert [_words(m) for m in club.select('[lang="en"]')] == ["Youth club name"]
    assert "Youth club name" not in _unmarked(club)
    welsh_label = WELSH_QUESTION["label_cy"]
    asked = _entry(entries, saved, _welsh(app, "%(label)s: %(value)s",
                                          label=_welsh(app, "Answers changed"),
                                          value=welsh_label))
    assert asked.select("[lang]") == []
    assert WELSH_QUESTION["label"] not in _words(asked) and "young" not in _words(asked)
    # The audit trail reads the same.
    trail = _soup(client.get("/manage/audit"))
    assert welsh_label in _words(trail.select_one("main"))
    assert any(_words(m) == "Youth club name" for m in trail.select('main [lang="en"]'))


def test_an_english_manager_reads_the_same_history_in_english(app, client):
    manager = signed_in(app, MANAGER)
    _welsh_form(app, manager)
    bid_id = _bid_with_sections(app, extra={"young_people": {"young": "yes_some",
                                                             "club": "Wisbech Youth"}},
                                changes=[("young_people", {"young": "no_none"})])
    page = _soup(manager.get(f"/manage/bids/{bid_id}"))
    title = next(h for h in page.select("main h2") if h.get_text(strip=True) == "History")
    entries = title.find_next("ol").find_all("li")
    changed = _entry(entries, "“Young people” saved: Completed.",
                     f"Answers changed: {WELSH_QUESTION['label']}")
    assert changed.select("[lang]") == []  # an English page marks nothing English
    _entry(entries, "Bid started in", "(Safer Communities Fund)")


def test_an_accounts_history_names_organisations_in_welsh_and_languages_by_their_names(
        app, client):
    with app.test_request_context():
        admin = accounts.get_user_by_email(ADMIN)
        officer = accounts.get_user_by_email(bidding.OFFICER)
        before = officer.organisation
        hunts = session.scalar(select(Organisation).where(
            Organisation.name == "Huntingdonshire CSP"))
        accounts.update_user(officer, roles=officer.roles, organisation=hunts, active=True,
                             actor=admin)
        accounts.set_language(officer, "cy")
        names = (before.name, before.name_cy, hunts.name, hunts.name_cy)
        officer_id = officer.id
        session.commit()
    assert all(names)  # the demo partnerships have Welsh names
    client.sign_in(ADMIN)
    assert client.submit("/account/language", {"language": "cy"}).status_code == 302
    page = _soup(client.get(f"/admin/users/{officer_id}"))
    history = " ".join(_words(cell) for cell in page.select("main td"))
    assert names[1] in history and names[3] in history, history
    assert names[0] not in history and names[2] not in history, history
    english = [_words(m) for m in page.select('main td [lang="en"]')]
    welsh = [_words(m) for m in page.select('main td [lang="cy"]')]
    assert "English" in english and "Cymraeg" in welsh
    assert not re.search(r"\b(en|cy)\b", history), history
