"""The applicant journey from the form definition (issue 15, "Applying", "Conditions" and
"Bad input"): the standard forms ask exactly the questions they asked before forms were data;
a round's own questions are asked, checked and kept from its definition alone; hidden
questions are neither required nor kept; a forged field is refused and changes nothing."""

from __future__ import annotations

import copy
import io
import re

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import delete, select, update

from portal import standard_forms
from portal.db import session
from portal.models import Bid, BidSection, BidStatus, EvidenceFile
from portal.services import accounts, form_versions
from tests import bidding
from tests.bidding import OFFICER
from tests.helpers import table_row_counts, text_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def officer(client):
    client.sign_in(OFFICER)
    return client


def _names(page: str) -> list[str]:
    """The names a section page's form posts, in order, each once."""
    soup = BeautifulSoup(page, "html.parser")
    form = soup.find("form", attrs={"method": "post", "action": re.compile("/sections/")})
    found: list[str] = []
    for element in form.find_all(["input", "textarea", "select"]):
        name = element.get("name")
        if name and name not in found and name not in ("csrf_token", "version", "completed"):
            found.append(name)
    return found


def _labels(page: str) -> list[str]:
    soup = BeautifulSoup(page, "html.parser")
    form = soup.find("form", attrs={"method": "post", "action": re.compile("/sections/")})
    return [re.sub(r"\s+", " ", element.get_text(" ", strip=True))
            for element in form.find_all(["label", "legend"])]


def _rows(prefix: str, count: int, *names: str) -> list[str]:
    return [f"rows-{i}-{name}" for i in range(count) for name in names]


# What each section asked before forms were data (templates/applicant/sections/*.html).
TODAY = {
    "about": (["title", "summary", "start_date", "end_date"],
              ["Project title", "Summary of the project", "Start date", "End date"]),
    "problem": (["issue_types", "other_issue", "district", "places", "priority_category",
                 "evidence_sources", "evidence_shows"],
                ["Which issues will the project tackle?", "Other issue", "District",
                 "Parishes or wards", "Priority area category",
                 "Where does your evidence come from?", "What does the evidence show?"]),
    "delivery": (["activities", "delivered_by", "partners"],
                 ["What will be done?", "Who will do it?", "Which partners are involved?"]),
    "outcomes": (_rows("rows", 6, "measure", "target", "how_measured"),
                 ["Outcome 1", "Measure", "Target", "How it will be measured"]),
    "budget": (_rows("rows", 8, "item", "kind", "amount") + ["match_funding",
                                                              "match_funding_sources"],
               ["Budget line 1", "Item", "Capital or revenue", "Amount",
                "Match funding from others", "Where the match funding comes from"]),
    "youth": (["age_from", "age_to", "young_people", "safeguarding_lead",
               "safeguarding_policy", "dbs_checked"],
              ["Youngest age", "Oldest age", "How many young people will take part?",
               "Name of the safeguarding lead",
               "We have a safeguarding policy that covers this project",
               "Everyone working with young people on this project has a DBS check"]),
    "declarations": (["accurate", "authorised", "name", "role"],
                     ["The information in this bid is true and complete",
                      "The partnership has agreed to this bid and its host council will "
                      "receive and account for the grant", "Your full name", "Your role"]),
}


def test_the_standard_forms_ask_exactly_todays_questions(app, officer):
    for code, keys in (("SCF", ["about", "problem", "delivery", "outcomes", "budget",
                                "declarations"]),
                       ("YF", ["about", "problem", "delivery", "outcomes", "budget", "youth",
                               "declarations"])):
        bid_id = bidding.start(officer, app, code)
        task_list = text_of(officer.get(f"/bids/{bid_id}"))
        for key in keys:
            page = officer.get(bidding.section_url(bid_id, key)).get_data(as_text=True)
            names, labels = TODAY[key]
            assert _names(page) == names, (code, key)
            shown = _labels(page)
            for label in labels:
                assert label in shown, (code, key, label, shown)
        assert ("Young people and safeguarding" in task_list) == (code == "YF")
    about = text_of(officer.get(bidding.section_url(bid_id, "about")))
    assert "What you will do, where and for whom, in a few sentences." in about
    assert "The project must start and end within" in about
    budget = text_of(officer.get(bidding.section_url(bid_id, "budget")))
    assert "Capital is equipment and things that last" in budget
    assert "The total so far is £0.00" in budget


def test_the_standard_messages_are_kept(app, officer):
    bid_id = bidding.start(officer, app)
    with app.app_context():
        year = session.get(Bid, bid_id).round.financial_year
    page = text_of(bidding.save(officer, bid_id, "about", {"completed": "yes"}, year))
    for message in ("Enter a project title", "Enter a summary of the project",
                    "Enter the start date", "Enter the end date"):
        assert message in page
    page = text_of(bidding.save(officer, bid_id, "declarations", {"completed": "yes"}, year))
    for message in ("Confirm the information is true and complete",
                    "Confirm the partnership has agreed to this bid", "Enter your full name",
                    "Enter your role"):
        assert message in page
    page = text_of(bidding.save(officer, bid_id, "outcomes", {"completed": "yes"}, year))
    assert "Enter at least one outcome measure" in page


# --- a round's own questions ---------------------------------------------------------------

EXTRA = {"key": "young", "title": "Young people", "intro": "Tell us about young people.",
         "questions": [
             {"key": "young_heading", "type": "guidance", "label": "Working with young people",
              "hint": "Some projects work with people under 18.", "required": False},
             {"key": "with_young", "type": "yes_no",
              "label": "Will the project work with young people?", "required": True},
             {"key": "safeguarding", "type": "long_text", "label": "How will you keep them safe?",
              "limit": 50, "limit_unit": "words", "required": True,
              "condition": {"question": "with_young", "value": "yes"}},
         ]}
LATER = {"key": "later", "title": "More about the project", "intro": "", "questions": [
    {"key": "note", "type": "short_text", "label": "Anything else?", "required": False,
     "limit": 200, "limit_unit": "characters"},
    {"key": "youth_worker", "type": "short_text", "label": "Name of the youth worker",
     "required": True, "limit": 200, "limit_unit": "characters",
     "condition": {"question": "with_young", "value": "yes"}},
]}
HIDDEN_SECTION = {"key": "clubs", "title": "Youth clubs", "intro": "",
                  "condition": {"question": "with_young", "value": "yes"}, "questions": [
                      {"key": "club", "type": "short_text", "label": "Which youth club?",
                       "required": True, "limit": 100, "limit_unit": "characters"}]}


def _choices(*pairs):
    return [{"value": v, "text": t} for v, t in pairs]


EVERY_TYPE = {"key": "every", "title": "Every type", "intro": "", "questions": [
    {"key": "short", "type": "short_text", "label": "Short", "required": False, "limit": 20,
     "limit_unit": "characters"},
    {"key": "long", "type": "long_text", "label": "Long", "required": False, "limit": 100,
     "limit_unit": "characters"},
    {"key": "count", "type": "whole_number", "label": "Count", "required": False, "low": 2,
     "high": 50},
    {"key": "cost", "type": "money", "label": "Cost", "required": False, "low": 100,
     "high": 100_000},
    {"key": "when", "type": "date", "label": "When", "required": False},
    {"key": "pick", "type": "one_choice", "label": "Pick one", "required": False,
     "choices": _choices(("a", "Apples"), ("b", "Bananas"))},
    {"key": "several", "type": "several_choices", "label": "Pick some", "required": False,
     "choices": _choices(("a", "Apples"), ("b", "Bananas"))},
    {"key": "sure", "type": "confirm", "label": "I am sure", "required": False},
    {"key": "status", "type": "rag", "label": "Status", "required": False},
    {"key": "mail", "type": "email", "label": "Email", "required": False},
    {"key": "phone", "type": "phone", "label": "Phone", "required": False},
    {"key": "site", "type": "url", "label": "Web site", "required": False},
]}
FILE = {"key": "papers", "title": "Papers", "intro": "", "questions": [
    {"key": "plan", "type": "file", "label": "Your delivery plan", "required": True}]}


def _custom(app, code="SCF", *extra, replace=None):
    """Give the round of ``code`` a form with the standard sections and ``extra`` ones
    (before the declarations); ``replace``: a function changing the definition."""
    definition = copy.deepcopy(standard_forms.application(youth=code == "YF"))
    sections = definition["sections"]
    for section in extra:
        sections.insert(len(sections) - 1, copy.deepcopy(section))
    if replace is not None:
        replace(definition)
    with app.app_context():
        round_ = bidding.round_of(app, code)
        round_ = session.merge(round_)
        version = form_versions.current(round_)
        version.definition = definition
        session.commit()


def _answers(app, bid_id, key):
    with app.app_context():
        section = session.get(Bid, bid_id).section(key)
        return None if section is None else dict(section.answers)


def _year(app, bid_id):
    with app.app_context():
        return session.get(Bid, bid_id).round.financial_year


def test_a_hidden_question_is_neither_required_nor_kept(app, officer):
    _custom(app, "SCF", EXTRA)
    bid_id = bidding.start(officer, app)
    year = _year(app, bid_id)
    url = bidding.section_url(bid_id, "young")
    page = officer.get(url).get_data(as_text=True)
    assert 'data-condition-question="with_young"' in page and 'data-condition-value="yes"' in page
    assert "Only if your answer to “Will the project work with young people?” is “Yes”" in \
        text_of(officer.get(url))
    assert "Working with young people" in page and "Tell us about young people." in page
    # "No", with an answer to the hidden question posted anyway: saved without it.
    response = bidding.save(officer, bid_id, "young", {
        "with_young": "no", "safeguarding": "Posted anyway", "completed": "yes"}, year)
    assert response.status_code == 302, text_of(response)[:2000]
    assert _answers(app, bid_id, "young") == {"with_young": "no"}
    # "Yes" makes it required.
    response = bidding.save(officer, bid_id, "young", {"with_young": "yes", "completed": "yes"},
                            year)
    assert response.status_code == 200
    assert "Enter an answer to “How will you keep them safe?”" in text_of(response)
    # A word limit, counted as words.
    response = bidding.save(officer, bid_id, "young", {
        "with_young": "yes", "safeguarding": "word " * 51, "completed": "yes"}, year)
    assert "How will you keep them safe? must be 50 words or fewer" in text_of(response)
    assert 'data-maxwords="50"' in response.get_data(as_text=True)
    response = bidding.save(officer, bid_id, "young", {
        "with_young": "yes", "safeguarding": "DBS checks and two adults.", "completed": "yes"},
        year)
    assert response.status_code == 302
    assert _answers(app, bid_id, "young") == {"with_young": "yes",
                                              "safeguarding": "DBS checks and two adults."}
    # The check-answers page shows both answers.
    check = text_of(officer.get(f"/bids/{bid_id}/check-answers"))
    assert "Will the project work with young people? Yes" in check
    assert "DBS checks and two adults." in check


def test_submit_catches_a_question_made_required_later_and_strips_hidden_answers(app,
                                                                                  officer):
    _custom(app, "SCF", EXTRA, LATER, HIDDEN_SECTION)
    bid_id = bidding.start(officer, app)
    year = _year(app, bid_id)
    bidding.complete(officer, app, bid_id)
    assert bidding.save(officer, bid_id, "young", {"with_young": "no", "completed": "yes"},
                        year).status_code == 302
    # The youth clubs section is hidden: not in the task list, not to be completed.
    task_list = text_of(officer.get(f"/bids/{bid_id}"))
    assert "Youth clubs" not in task_list and "More about the project" in task_list
    assert officer.get(bidding.section_url(bid_id, "clubs")).status_code == 404
    assert bidding.save(officer, bid_id, "later", {"note": "None", "completed": "yes"},
                        year).status_code == 302
    # "Yes" shows the youth clubs section and makes the youth worker required in "later",
    # which was completed while the question was hidden.
    response = bidding.save(officer, bid_id, "young", {
        "with_young": "yes", "safeguarding": "DBS checks", "completed": "yes"}, year)
    assert response.status_code == 302
    assert bidding.save(officer, bid_id, "clubs", {"club": "Wisbech youth club",
                                                   "completed": "yes"}, year).status_code == 302
    response = bidding.submit(officer, bid_id)
    assert response.status_code == 302
    page = text_of(officer.get(f"/bids/{bid_id}/check-answers"))
    assert "More about the project: Enter an answer to “Name of the youth worker”" in page
    with app.app_context():
        assert session.get(Bid, bid_id).status == "draft"
    # Back to "no": the youth worker is no longer required; the clubs' answers and the
    # safeguarding answer are hidden, and go when the bid is submitted.
    assert bidding.save(officer, bid_id, "young", {"with_young": "no", "completed": "yes"},
                        year).status_code == 302
    with app.app_context():
        bid = session.get(Bid, bid_id)
        # An answer no page would keep (saved before the question was hidden, say).
        session.execute(update(BidSection)
                        .where(BidSection.bid_id == bid_id, BidSection.key == "young")
                        .values(answers={"with_young": "no", "safeguarding": "Kept by a bug"}))
        session.commit()
        assert bid.section("clubs").answers == {"club": "Wisbech youth club"}
    response = bidding.submit(officer, bid_id)
    assert response.status_code == 302 and "/submitted" in response.headers["Location"]
    assert _answers(app, bid_id, "clubs") == {}
    assert _answers(app, bid_id, "young") == {"with_young": "no"}
    assert _answers(app, bid_id, "later") == {"note": "None"}


def test_a_forged_field_is_refused_and_changes_nothing(app, officer):
    _custom(app, "SCF", EXTRA)
    bid_id = bidding.start(officer, app)
    year = _year(app, bid_id)
    before = table_row_counts(app)
    for forged in ({"is_admin": "yes"}, {"rows-0-item": "Not here"}, {"title": "Another"},
                   {"safeguarding_lead": "Not in this section"}):
        response = bidding.save(officer, bid_id, "young",
                                {"with_young": "no", "completed": "yes", **forged}, year)
        assert response.status_code == 400, forged
    response = bidding.save(officer, bid_id, "about",
                            dict(bidding.ABOUT, with_young="yes"), year)
    assert response.status_code == 400
    assert table_row_counts(app) == before
    assert _answers(app, bid_id, "young") is None and _answers(app, bid_id, "about") is None


def test_a_file_question_adds_the_file_to_the_bids_evidence(app, officer):
    _custom(app, "SCF", FILE)
    bid_id = bidding.start(officer, app)
    year = _year(app, bid_id)
    url = bidding.section_url(bid_id, "papers")
    page = officer.get(url).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page
    # Required once completed.
    response = bidding.save(officer, bid_id, "papers", {"completed": "yes"}, year)
    assert response.status_code == 200
    assert "Select a file for “Your delivery plan”" in text_of(response)
    # A file the evidence rules refuse is refused beside the question.
    response = officer.submit(url, {"plan": (io.BytesIO(b"MZ" + b"\x00" * 100), "plan.pdf"),
                                    "completed": "yes"}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "The selected file must be a PDF" in text_of(response), text_of(response)[200:1500]
    assert _answers(app, bid_id, "papers") is None
    response = officer.submit(url, {"plan": (io.BytesIO(PDF), "plan.pdf"), "completed": "yes"},
                              content_type="multipart/form-data")
    assert response.status_code == 302, text_of(response)[:2000]
    with app.app_context():
        [stored] = session.scalars(select(EvidenceFile).where(EvidenceFile.bid_id == bid_id))
        assert stored.description == "Your delivery plan"
        stored_id = stored.id
    assert _answers(app, bid_id, "papers") == {"plan": stored_id}
    # Saved again without a new file: the file stays the answer, and the page names it.
    assert "Attached: plan.pdf" in text_of(officer.get(url))
    response = officer.submit(url, {"completed": "yes"}, content_type="multipart/form-data")
    assert response.status_code == 302
    assert _answers(app, bid_id, "papers") == {"plan": stored_id}
    assert "plan.pdf" in text_of(officer.get(f"/bids/{bid_id}/check-answers"))


GOOD = {"short": "Short answer", "long": "A longer answer", "count": "12", "cost": "£250.50",
        "when": ["3", "4", "2026"], "pick": "b", "several": ["a", "b"], "sure": "y",
        "status": "amber", "mail": " name@example.org ", "phone": "01632 960 001",
        "site": "https://example.org/project"}


def test_every_simple_type_is_saved_as_its_value_and_twice(app, officer):
    _custom(app, "SCF", EVERY_TYPE)
    bid_id = bidding.start(officer, app)
    year = _year(app, bid_id)
    response = bidding.save(officer, bid_id, "every", {**GOOD, "completed": "no"}, year)
    assert response.status_code == 302, text_of(response)[:3000]
    assert _answers(app, bid_id, "every") == {
        "short": "Short answer", "long": "A longer answer", "count": 12, "cost": 25050,
        "when": "2026-04-03", "pick": "b", "several": ["a", "b"], "sure": True,
        "status": "amber", "mail": "name@example.org", "phone": "01632 960 001",
        "site": "https://example.org/project"}
    page = officer.get(bidding.section_url(bid_id, "every")).get_data(as_text=True)
    assert 'value="250.50"' in page and 'type="email"' in page and 'type="tel"' in page
    assert 'type="url"' in page and 'autocomplete="email"' in page
    check = text_of(officer.get(f"/bids/{bid_id}/check-answers"))
    for shown in ("Count 12", "Cost £250.50", "When 3 April 2026", "Pick one Bananas",
                  "Pick some Apples, Bananas", "I am sure Yes", "Status Amber"):
        assert shown in check, shown
    changed = {**GOOD, "short": "Changed", "count": "3", "several": ["a"], "sure": "",
               "pick": "a", "completed": "yes"}
    response = bidding.save(officer, bid_id, "every", changed, year)
    assert response.status_code == 302, text_of(response)[:3000]
    saved = _answers(app, bid_id, "every")
    assert saved["short"] == "Changed" and saved["count"] == 3
    assert saved["several"] == ["a"] and saved["sure"] is False and saved["pick"] == "a"


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("short", "x" * 21, "Short must be 20 characters or fewer"),
    ("long", "y" * 101, "Long must be 100 characters or fewer"),
    ("short", "a\x01b", "Short must not contain hidden control characters"),
    ("long", "a\u202eb", "Long must not contain hidden control characters"),
    ("short", "x" * 100_000, "Short must be 20 characters or fewer"),
    ("count", "1e3", "Count must be a whole number, like 12"),
    ("count", "５", "Count must be a whole number, like 12"),
    ("count", "1_000", "Count must be a whole number, like 12"),
    ("count", "-5", "Count must be 2 or more"),
    ("count", "9" * 40, "Count must be 50 or fewer"),
    ("count", "1", "Count must be 2 or more"),
    ("count", "51", "Count must be 50 or fewer"),
    ("cost", "lots", "Enter an amount in pounds"),
    ("cost", "0.50", "Cost must be £1.00 or more"),
    ("cost", "1,000.01", "Cost must be £1,000.00 or less"),
    ("cost", "١٠٠", "Enter an amount in pounds"),
    ("when", ["31", "2", "2026"], "When must be a real date"),
    ("when", ["1", "", "2026"], "When must include a day, month and year"),
    ("pick", "c", "Select one of the options shown for Pick one"),
    ("several", "c", "Select one of the options shown for Pick some"),
    ("sure", "n", "The form was changed: select this box again if it applies"),
    ("status", "purple", "Select one of the options shown for Status"),
    ("mail", "not an address", "Enter an email address in the correct format"),
    ("mail", "nаme@example.org", "Email"),  # a Cyrillic "а"
    ("phone", "call me", "Enter a phone number"),
    ("site", "javascript:alert(1)", "Enter a web address starting with https://"),
    ("site", "example.org", "Enter a web address starting with https://"),
])
def test_bad_answers_are_refused_beside_the_field_and_change_nothing(app, officer, field,
                                                                     typed, message):
    _custom(app, "SCF", EVERY_TYPE)
    bid_id = bidding.start(officer, app)
    year = _year(app, bid_id)
    before = table_row_counts(app)
    response = bidding.save(officer, bid_id, "every", {field: typed, "completed": "no"}, year)
    assert response.status_code == 200
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    beside = soup.find(id=re.compile(f"^{field}(-[0-9]+)?-error$"))
    assert beside is not None, text_of(response)[:2000]
    assert message in beside.get_text(" ", strip=True)
    assert table_row_counts(app) == before


def test_markup_is_kept_as_typed_and_shown_as_text(app, officer):
    _custom(app, "SCF", EVERY_TYPE)
    bid_id = bidding.start(officer, app)
    year = _year(app, bid_id)
    typed = "<script>alert(1)</script> & <b>"
    response = bidding.save(officer, bid_id, "every", {"long": typed, "short": "<i>x</i>",
                                                        "completed": "no"}, year)
    assert response.status_code == 302
    assert _answers(app, bid_id, "every")["long"] == typed
    page = officer.get(f"/bids/{bid_id}/check-answers").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;" in page


def _budget_moved(definition):
    """The budget question moved from its section "budget" into a section "money"."""
    sections = definition["sections"]
    budget = next(s for s in sections if s["key"] == "budget")
    budget["key"] = "money"
    budget["title"] = "Money asked for"


def test_a_budget_placed_in_another_section_still_fills_the_bid(app, officer):
    _custom(app, "SCF", replace=_budget_moved)
    bid_id = bidding.start(officer, app)
    year = _year(app, bid_id)
    assert officer.get(bidding.section_url(bid_id, "budget")).status_code == 404
    response = bidding.save(officer, bid_id, "money", bidding.BUDGET, year)
    assert response.status_code == 302, text_of(response)[:2000]
    with app.app_context():
        bid = session.get(Bid, bid_id)
        assert bid.amount_requested_pence == 475000
        assert [line.item for line in bid.budget_lines] == [
            "Bike lights (300 sets)", "Mechanic for twelve sessions", "Spare parts"]
    # The round's checks run wherever the budget is: over the cap is refused.
    over = dict(bidding.BUDGET, **{"rows-2-amount": "9,000"})
    response = bidding.save(officer, bid_id, "money", over, year)
    assert "must be £5,000.00 or less" in text_of(response)
    with app.app_context():
        assert session.get(Bid, bid_id).amount_requested_pence == 475000
    # The whole bid submits with the budget in its new place.
    for key, answers in bidding.SECTIONS.items():
        if key in ("budget", "youth"):
            continue
        assert bidding.save(officer, bid_id, key, answers, year).status_code == 302
    response = bidding.submit(officer, bid_id)
    assert "/submitted" in response.headers["Location"]
    check = text_of(officer.get(f"/bids/{bid_id}/check-answers"))
    assert "Money asked for" in check and "Total asked for £4,750.00" in check


def test_a_save_from_an_older_page_shows_the_newer_answers_and_keeps_what_was_typed(app,
                                                                                     officer):
    bid_id = bidding.start(officer, app)
    year = _year(app, bid_id)
    version = bidding.version_of(officer, bid_id, "delivery")
    first = dict(bidding.DELIVERY, activities="Saved first")
    assert bidding.save(officer, bid_id, "delivery", first, year,
                        version=version).status_code == 302
    before = table_row_counts(app)
    late = dict(bidding.DELIVERY, activities="Typed on the older page")
    response = bidding.save(officer, bid_id, "delivery", late, year, version=version)
    assert response.status_code == 200
    page = text_of(response)
    assert "saved this section on" in page and "Your unsaved changes" in page
    assert "What will be done? Typed on the older page" in page  # what was typed, in words
    assert ">Saved first</textarea>" in response.get_data(as_text=True)  # the newer answers
    assert table_row_counts(app) == before
    assert _answers(app, bid_id, "delivery")["activities"] == "Saved first"


def test_a_file_answering_a_question_is_not_removed_from_under_it(app, officer):
    """Breakers' finding: a file removed from the evidence page left its question answered
    and the bid submittable. The evidence page now refuses to remove it, and submission
    checks a required file question's file is still attached."""
    _custom(app, "SCF", FILE)
    bid_id = bidding.start(officer, app)
    url = bidding.section_url(bid_id, "papers")
    response = officer.submit(url, {"plan": (io.BytesIO(PDF), "plan.pdf"), "completed": "yes"},
                              content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        stored = session.scalar(select(EvidenceFile.id).where(EvidenceFile.bid_id == bid_id))
    before = table_row_counts(app)
    response = officer.submit(f"/bids/{bid_id}/evidence/{stored}/remove", {},
                              form_url=f"/bids/{bid_id}/evidence")
    assert response.status_code == 302
    assert "This file answers “Your delivery plan”" in text_of(officer.get(
        response.headers["Location"]))
    assert table_row_counts(app) == before
    # Removed behind the page's back (as a race would), the submission is refused.
    bidding.complete(officer, app, bid_id)
    with app.app_context():
        session.execute(delete(EvidenceFile).where(EvidenceFile.id == stored))
        session.commit()
    response = bidding.submit(officer, bid_id)
    page = text_of(officer.get(response.headers.get("Location", f"/bids/{bid_id}/check-answers")))
    assert "Select a file for “Your delivery plan”" in page
    with app.app_context():
        assert session.get(Bid, bid_id).status == BidStatus.DRAFT


def test_a_page_of_a_version_replaced_since_keeps_what_was_typed(app, officer):
    """Breakers' finding: a section page opened before the OPCC published a version without
    one of its questions answered a bare 400 and lost what was typed. Now nothing is saved,
    the section is shown as it is, and every typed answer is listed beside it."""
    from portal.services import form_design

    bid_id = bidding.start(officer, app)
    year = _year(app, bid_id)
    assert bidding.save(officer, bid_id, "delivery", bidding.DELIVERY, year).status_code == 302
    url = bidding.section_url(bid_id, "delivery")
    typed = {**bidding.DELIVERY, "partners": "Typed just now: the fire service",
             "version": bidding.version_of(officer, bid_id, "delivery")}
    with app.test_request_context():
        round_ = session.merge(bidding.round_of(app, "SCF"))
        owner = form_design.of_round(round_)
        manager = accounts.get_user_by_email("manager@example.org")
        form_design.remove_question(owner, form_design.design(owner).expected, "partners",
                                    manager)
        form_design.publish(owner, form_design.design(owner).expected, manager)
        session.commit()
    before = table_row_counts(app)
    response = officer.submit(url, typed)
    assert response.status_code == 200
    page = text_of(response)
    assert "The OPCC changed this form while you were working on it." in page
    assert "Typed just now: the fire service" in page
    assert table_row_counts(app) == before


def test_a_never_saved_section_of_a_version_replaced_since_keeps_what_was_typed(app,
                                                                                officer):
    """Breakers' finding (second round): a section never saved has no version to be stale
    by, so its old page was refused with a bare 400."""
    from portal.services import form_design

    bid_id = bidding.start(officer, app)

    def change(work) -> None:
        with app.test_request_context():
            round_ = session.merge(bidding.round_of(app, "SCF"))
            owner = form_design.of_round(round_)
            manager = accounts.get_user_by_email("manager@example.org")
            work(owner, manager)
            form_design.publish(owner, form_design.design(owner).expected, manager)
            session.commit()

    def add(owner, manager) -> None:
        form_design.add_section(owner, form_design.design(owner).expected,
                                form_design.SectionDetails("extra2", "Extra"), manager)
        for key in ("gone_soon", "stays"):
            form_design.add_question(owner, form_design.design(owner).expected, "extra2",
                                     "short_text", form_design.QuestionDetails(
                                         label=key.replace("_", " "), key=key), manager)

    change(add)
    url = bidding.section_url(bid_id, "extra2")
    tokens = officer.form_tokens(url)
    change(lambda owner, manager: form_design.remove_question(
        owner, form_design.design(owner).expected, "gone_soon", manager))
    before = table_row_counts(app)
    response = officer.post(url, data={**tokens, "gone_soon": "My long typed text",
                                       "stays": "Kept text", "completed": "yes"})
    assert response.status_code == 200
    page = text_of(response)
    assert "The OPCC changed this form while you were working on it." in page
    assert "My long typed text" in page and "Kept text" in page
    assert table_row_counts(app) == before


def test_a_question_without_a_hint_has_no_hint_at_all(app, officer):
    """Breakers' finding: radios and boxes without a hint showed "None" as their hint (the
    Youth Fund's safeguarding confirmations too), or an empty one the field was described
    by."""
    _custom(app, "SCF", EXTRA)
    bid_id = bidding.start(officer, app)
    youth = bidding.start(officer, app, "YF")
    for url in (bidding.section_url(youth, "youth"), bidding.section_url(bid_id, "young")):
        assert officer.get(url).status_code == 200
        soup = BeautifulSoup(officer.get(url).get_data(as_text=True), "html.parser")
        for hint in soup.select(".govuk-hint"):
            assert hint.get_text(strip=True) not in ("", "None"), (url, hint)
