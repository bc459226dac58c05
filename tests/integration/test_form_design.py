"""The grants manager designs a round's application form and a fund's return form (issue 15,
point 3 and "Bad input"): sections and questions added, changed, moved and removed; a form
copied; a preview exactly as applicants see it; versions once bids use a form; refusals
beside the field that change nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal import questions
from portal.db import session
from portal.models import AuditEvent, Bid, BidSection, BidStatus, FormVersion, Fund, Round
from portal.services import form_versions
from tests import bidding
from tests.helpers import signed_in, table_row_counts, text_of

MANAGER = "manager@example.org"
OFFICER = "officer.southcambs@example.org"
ASSESSOR = "assessor1@example.org"


@pytest.fixture
def manager(client):
    client.sign_in(MANAGER)
    return client


def round_id(app, code: str = "SCF") -> int:
    return bidding.round_of(app, code).id


def base(app, code: str = "SCF") -> str:
    return f"/manage/rounds/{round_id(app, code)}/form"


def fund_base(app, code: str = "SCF") -> str:
    with app.app_context():
        fund_id = session.scalar(select(Fund.id).where(Fund.code == code))
    return f"/manage/funds/{fund_id}/return-form"


def versions(app, code: str = "SCF") -> list[FormVersion]:
    """The round's versions, oldest first, read afresh."""
    with app.app_context():
        rid = session.scalar(select(Round.id).join(Fund).where(Fund.code == code))
        found = list(session.scalars(select(FormVersion).where(FormVersion.round_id == rid)
                                     .order_by(FormVersion.number)))
        for version in found:
            session.expunge(version)
        return found


def latest(app, code: str = "SCF") -> questions.Definition:
    return questions.read(versions(app, code)[-1].definition)


def keys(definition: questions.Definition) -> list[str]:
    return [q.key for _s, q in definition.questions()]


def errors_beside(response: Any) -> dict[str, str]:
    """Each field's error message on the page (by the field's id), and the flashed ones."""
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    found = {}
    for message in soup.select(".govuk-error-message"):
        for prefix in message.select(".govuk-visually-hidden"):  # "Error:" in the reader's words
            prefix.decompose()
        found[str(message.get("id", "")).removesuffix("-error")] = re.sub(
            r"\s+", " ", message.get_text(" ")).strip()
    return found


def add_section(client, url: str, **data: str):
    return client.submit(f"{url}/sections/new", {"title": "Safeguarding", **data})


def add_question(client, url: str, section: str, type_code: str, **data: Any):
    return client.submit(f"{url}/sections/{section}/questions/new/{type_code}", data)


def start_bid_on_form(app, client) -> int:
    """A draft bid started by the officer, on the round's current version (marked in use)."""
    bid_id = bidding.start(client, app, "SCF")
    with app.test_request_context():
        bid = session.get_one(Bid, bid_id)
        if bid.form_version_id is None:
            version = form_versions.current(bid.round)
            form_versions.use(version)
            bid.form_version_id = version.id
        session.commit()
    return bid_id


# --- adding, changing, moving, removing -----------------------------------------------------


def test_the_manager_sees_the_form_of_a_round_section_by_section(app, manager):
    page = manager.get(base(app))
    assert page.status_code == 200
    text = text_of(page)
    assert "About the project" in text and "Project title" in text
    assert "Declarations" in text and "Version 1" in text


def test_the_round_and_fund_pages_link_to_the_designer(app, manager):
    rid = round_id(app)
    assert f"/manage/rounds/{rid}/form" in manager.get(f"/manage/rounds/{rid}").get_data(
        as_text=True)
    assert "/return-form" in manager.get("/manage/funds").get_data(as_text=True)


def test_a_section_and_its_questions_are_added_changed_moved_and_removed(app, manager):
    url = base(app)
    response = add_section(manager, url, key="", intro="About working with children.")
    assert response.status_code == 302, errors_beside(response)
    definition = latest(app)
    assert definition.sections[-1].key == "safeguarding"
    assert definition.sections[-1].intro == "About working with children."

    response = add_question(manager, url, "safeguarding", "yes_no",
                            label="Will the project work with young people?",
                            required="yes", key="young")
    assert response.status_code == 302, errors_beside(response)
    response = add_question(manager, url, "safeguarding", "long_text",
                            label="How will you keep them safe?", hint="Name your policy.",
                            required="yes", limit="300", limit_unit="words",
                            condition="young=yes")
    assert response.status_code == 302, errors_beside(response)
    definition = latest(app)
    section = definition.section("safeguarding")
    assert [q.key for q in section.questions] == ["young", "how_will_you_keep_them_safe"]
    conditional = section.questions[1]
    assert conditional.condition == {"question": "young", "value": "yes"}
    assert (conditional.limit, conditional.limit_unit) == (300, "words")
    # Changed: its words, optional now.
    response = manager.submit(f"{url}/questions/how_will_you_keep_them_safe", {
        "label": "How will you keep young people safe?", "hint": "", "required": "no",
        "limit": "250", "limit_unit": "words", "condition": "young=yes"})
    assert response.status_code == 302, errors_beside(response)
    changed = latest(app).question("how_will_you_keep_them_safe")
    assert changed.label == "How will you keep young people safe?" and not changed.required
    assert changed.limit == 250
    # Moved: the section up above the declarations; a question down and up again.
    page = manager.get(url)
    assert page.status_code == 200
    response = manager.submit(f"{url}/move", {"move": "section:safeguarding:up"},
                              form_url=url)
    assert response.status_code == 302
    assert [s.key for s in latest(app).sections][-2:] == ["safeguarding", "declarations"]
    response = manager.submit(f"{url}/move", {"move": "section:safeguarding:down"},
                              form_url=url)
    assert [s.key for s in latest(app).sections][-2:] == ["declarations", "safeguarding"]
    # The conditional question cannot move above the question it depends on.
    before = table_row_counts(app)
    response = manager.submit(f"{url}/move", {"move": "question:how_will_you_keep_them_safe:up"},
                              form_url=url, follow_redirects=True)
    assert "must come before it" in text_of(response)
    assert table_row_counts(app) == before
    # Removed: the question the other depends on cannot go first.
    response = manager.submit(f"{url}/questions/young/remove", {"confirm": "yes"})
    assert response.status_code == 200
    assert "depends on an answer here" in errors_beside(response)["confirm"]
    assert table_row_counts(app) == before
    response = manager.submit(f"{url}/questions/how_will_you_keep_them_safe/remove",
                              {"confirm": "yes"})
    assert response.status_code == 302
    response = manager.submit(f"{url}/sections/safeguarding/remove", {"confirm": "yes"})
    assert response.status_code == 302
    assert latest(app).section("safeguarding") is None
    with app.app_context():
        actions = [e.action for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("form.%"),
                                     AuditEvent.record_type == "round",
                                     AuditEvent.record_id == str(round_id(app))))]
    assert {"form.section_added", "form.question_added", "form.question_changed",
            "form.section_moved", "form.question_removed",
            "form.section_removed"} <= set(actions)


def test_choices_are_typed_one_per_line_and_keep_their_values_when_their_words_do(
        app, manager):
    url = base(app)
    response = add_question(manager, url, "delivery", "one_choice", label="Where?",
                            required="yes", choices="In schools\nIn parks\n\nOnline")
    assert response.status_code == 302, errors_beside(response)
    question = latest(app).question("where_2") or latest(app).question("where")
    assert question is not None
    values = [c["value"] for c in question.choices]
    assert [c["text"] for c in question.choices] == ["In schools", "In parks", "Online"]
    assert values == ["in_schools", "in_parks", "online"]
    response = manager.submit(f"{url}/questions/{question.key}", {
        "label": "Where?", "required": "yes", "choices": "Online\nIn schools\nIn youth clubs"})
    assert response.status_code == 302, errors_beside(response)
    changed = latest(app).question(question.key)
    assert [(c["value"], c["text"]) for c in changed.choices] == [
        ("online", "Online"), ("in_schools", "In schools"),
        ("in_youth_clubs", "In youth clubs")]


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(("type_code", "data", "field", "words"), [
    ("one_choice", {"label": "Which?", "choices": ""}, "choices", "at least one choice"),
    ("long_text", {"label": "Tell us", "limit": "-5"}, "limit", "0 or more"),
    ("long_text", {"label": "Tell us", "limit": "0"}, "limit", "1 or more"),
    ("short_text", {"label": "Again", "key": "district"}, "key", "Another question"),
    ("short_text", {"label": "Reserved", "key": "rows"}, "key", "kept for a built-in"),
    ("short_text", {"label": "Bad key", "key": "Not A Key"}, "key", "lower-case"),
    ("short_text", {"label": ""}, "label", "Enter the question"),
    ("whole_number", {"label": "How many?", "low": "10", "high": "5"}, "high",
     "same as or more than"),
    ("money", {"label": "How much?", "low_money": "-5"}, "low_money", "£0 or more"),
    ("short_text", {"label": "X" * 501}, "label", "500 characters or fewer"),
    ("short_text", {"label": "Bell\x07 here"}, "label", "hidden control characters"),
    ("one_choice", {"label": "Pick", "choices": "A\u202eB\nC"}, "choices",
     "hidden control characters"),
    ("one_choice", {"label": "Pick", "choices": "Same\nSame"}, "choices",
     "Two choices are the same"),
])
def test_a_question_that_cannot_work_is_refused_beside_its_field_and_changes_nothing(
        app, manager, type_code, data, field, words):
    url = base(app)
    manager.get(url)
    before = table_row_counts(app)
    response = add_question(manager, url, "delivery", type_code,
                            **{"required": "yes", **data})
    assert response.status_code == 200
    errors = errors_beside(response)
    assert words in errors.get(field, ""), errors
    assert table_row_counts(app) == before


def test_a_condition_on_a_later_question_or_on_itself_is_refused(app, manager):
    url = base(app)
    response = add_question(manager, url, "delivery", "yes_no", label="Partners?",
                            required="yes", key="has_partners")
    assert response.status_code == 302, errors_beside(response)
    # A section cannot depend on a question in itself or after it.
    before = table_row_counts(app)
    response = manager.submit(f"{url}/sections/delivery", {
        "title": "What will be done", "intro": "", "condition": "has_partners=yes"})
    assert response.status_code == 200
    assert "must come before it" in errors_beside(response)["condition"]
    # Nor a question on its own answer (forged: the page never offers it).
    response = manager.submit(f"{url}/questions/has_partners", {
        "label": "Partners?", "required": "yes", "condition": "has_partners=yes"})
    assert response.status_code == 200
    assert errors_beside(response)["condition"]
    # Nor on a later question.
    response = manager.submit(f"{url}/questions/activities", {
        "label": "What will be done?", "required": "yes", "condition": "has_partners=yes"})
    assert response.status_code == 200
    assert errors_beside(response)["condition"]
    assert table_row_counts(app) == before


def test_a_built_in_part_the_round_needs_cannot_be_removed(app, manager):
    url = base(app)
    manager.get(url)
    before = table_row_counts(app)
    response = manager.submit(f"{url}/questions/budget/remove", {"confirm": "yes"})
    assert response.status_code == 200
    assert "needs its" in errors_beside(response)["confirm"]
    response = manager.submit(f"{url}/sections/about/remove", {"confirm": "yes"})
    assert response.status_code == 200
    assert "needs its" in errors_beside(response)["confirm"]
    assert table_row_counts(app) == before


def test_markup_in_labels_hints_and_choices_is_shown_as_text(app, manager):
    url = base(app)
    response = add_question(manager, url, "delivery", "one_choice",
                            label="<script>alert(1)</script> Who?", hint="<b>bold</b>",
                            required="yes", choices="<i>one</i>\nTwo & three")
    assert response.status_code == 302, errors_beside(response)
    page = manager.get(url).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Who?" in page
    assert "&lt;i&gt;one&lt;/i&gt;" in page


# --- copying and previewing -----------------------------------------------------------------


def test_a_form_is_copied_from_another_round(app, manager):
    url = base(app)
    response = add_question(manager, url, "delivery", "short_text", label="Ward councillor",
                            required="no", key="councillor")
    assert response.status_code == 302
    target = base(app, "YF")
    page = manager.get(f"{target}/copy")
    assert page.status_code == 200
    response = manager.submit(f"{target}/copy", {"source": str(round_id(app))})
    assert response.status_code == 302, errors_beside(response)
    assert keys(latest(app, "YF")) == keys(latest(app))
    assert "councillor" in keys(latest(app, "YF"))


def test_the_preview_shows_exactly_the_applicants_questions_and_saves_nothing(app, manager):
    url = base(app)
    add_question(manager, url, "delivery", "yes_no", label="Young people?", required="yes",
                 key="young")
    add_question(manager, url, "delivery", "long_text", label="Safeguarding?",
                 required="yes", condition="young=yes", key="safe")
    overview = manager.get(f"{url}/preview")
    assert overview.status_code == 200
    assert "What will be done" in text_of(overview)
    preview = manager.get(f"{url}/preview/delivery")
    assert preview.status_code == 200
    soup = BeautifulSoup(preview.get_data(as_text=True), "html.parser")
    assert not soup.select("main form")
    names = {tag["name"] for tag in soup.select("main input, main textarea, main select")
             if tag.get("name")}
    assert {"activities", "delivered_by", "partners", "young", "safe"} <= names
    assert "This is a preview" in text_of(preview)
    # The applicant's page of the same section asks the same questions.
    officer = signed_in(app, OFFICER)
    bid_id = bidding.start(officer, app, "SCF")
    applicant = BeautifulSoup(officer.get(bidding.section_url(bid_id, "delivery"))
                              .get_data(as_text=True), "html.parser")
    asked = {tag["name"] for tag in applicant.select(
        "main form input, main form textarea, main form select") if tag.get("name")}
    assert names - {"completed"} == asked - {"completed", "csrf_token", "version"}


# --- versions -------------------------------------------------------------------------------


def test_before_the_first_bid_the_form_changes_in_place(app, manager):
    url = base(app)
    add_question(manager, url, "delivery", "short_text", label="One", required="no", key="one")
    add_question(manager, url, "delivery", "short_text", label="Two", required="no", key="two")
    found = versions(app)
    assert len(found) == 1 and found[0].published_at is not None
    assert {"one", "two"} <= set(keys(questions.read(found[0].definition)))


def test_after_a_bid_starts_a_change_is_a_draft_that_publishing_moves_drafts_to(app, manager):
    url = base(app)
    add_question(manager, url, "delivery", "short_text", label="Kept", required="no",
                 key="kept")
    add_question(manager, url, "delivery", "short_text", label="Dropped", required="no",
                 key="dropped")
    officer = signed_in(app, OFFICER)
    draft_id = start_bid_on_form(app, officer)
    year = bidding.round_of(app, "SCF").financial_year
    response = bidding.save(officer, draft_id, "delivery",
                            {**bidding.DELIVERY, "kept": "keep me", "dropped": "lose me"},
                            year)
    assert response.status_code == 302, text_of(response)[:2000]
    submitted_id = bidding.submitted_bid(app)
    with app.app_context():
        submitted_version = session.get(Bid, submitted_id).form_version_id
    # A change now makes version 2, a draft; bids stay on version 1.
    response = manager.submit(f"{url}/questions/dropped/remove", {"confirm": "yes"})
    assert response.status_code == 302
    found = versions(app)
    assert [(v.number, v.published_at is None) for v in found] == [(1, False), (2, True)]
    assert "dropped" in keys(questions.read(found[0].definition))
    assert "dropped" not in keys(questions.read(found[1].definition))
    assert "Draft" in text_of(manager.get(url))
    # Publishing moves the draft bid, keeping the answers whose questions remain.
    response = manager.submit(f"{url}/publish", {}, form_url=url)
    assert response.status_code == 302
    found = versions(app)
    assert found[1].published_at is not None and found[1].in_use
    with app.app_context():
        draft = session.get(Bid, draft_id)
        assert draft.form_version_id == found[1].id
        answers = session.get(BidSection, (draft_id, "delivery")).answers
        assert answers["kept"] == "keep me" and "dropped" not in answers
        assert session.get(Bid, submitted_id).form_version_id == submitted_version
        assert session.get(Bid, submitted_id).status != BidStatus.DRAFT
        moved = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "bid.form_version_changed",
            AuditEvent.record_id == str(draft_id))).all()
        assert moved and moved[0].after["answers_left_behind"] == ["dropped"]


def test_publish_posted_twice_publishes_once(app, manager):
    url = base(app)
    officer = signed_in(app, OFFICER)
    start_bid_on_form(app, officer)
    add_question(manager, url, "delivery", "short_text", label="New", required="no",
                 key="new_one")
    tokens = manager.form_tokens(url, action=f"{url}/publish")
    first = manager.post(f"{url}/publish", data=tokens)
    second = manager.post(f"{url}/publish", data=tokens)
    assert first.status_code == 302 and second.status_code == 302
    found = versions(app)
    assert [v.number for v in found] == [1, 2] and all(v.published_at for v in found)
    with app.app_context():
        published = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "form.published")).all()
    assert len(published) == 1


def test_two_changes_from_one_stale_page_one_applies_the_other_is_refused(app, manager):
    url = base(app)
    page = f"{url}/sections/new"
    tokens = manager.form_tokens(page)
    first = manager.post(page, data={**tokens, "title": "First"})
    assert first.status_code == 302
    before = table_row_counts(app)
    second = manager.post(page, data={**tokens, "title": "Second"})
    assert second.status_code == 200
    assert "Someone changed this form" in text_of(second)
    assert table_row_counts(app) == before
    titles = [s.title for s in latest(app).sections]
    assert "First" in titles and "Second" not in titles


def test_a_stale_page_after_a_bid_started_is_refused_too(app, manager):
    url = base(app)
    add_question(manager, url, "delivery", "short_text", label="One", required="no", key="one")
    tokens = manager.form_tokens(f"{url}/sections/new")
    officer = signed_in(app, OFFICER)
    start_bid_on_form(app, officer)
    # The version is in use now: the change goes to a new draft version.
    response = manager.post(f"{url}/sections/new", data={**tokens, "title": "Later"})
    assert response.status_code == 302
    found = versions(app)
    assert len(found) == 2 and found[1].published_at is None
    again = manager.post(f"{url}/sections/new", data={**tokens, "title": "Again"})
    assert again.status_code == 200 and "Someone changed this form" in text_of(again)


# --- the return form ------------------------------------------------------------------------


def test_a_funds_return_form_is_designed_with_the_same_pages(app, manager):
    url = fund_base(app)
    page = manager.get(url)
    assert page.status_code == 200 and "Return form" in text_of(page)
    response = add_section(manager, url, title="Progress")
    assert response.status_code == 302, errors_beside(response)
    response = add_question(manager, url, "progress", "rag", label="Overall progress",
                            required="yes")
    assert response.status_code == 302, errors_beside(response)
    with app.app_context():
        version = session.scalar(select(FormVersion).where(
            FormVersion.fund_id.is_not(None)).order_by(FormVersion.id.desc()))
        assert version.kind.value == "return"
        assert keys(questions.read(version.definition)) == ["overall_progress"]
    # Built-in parts of an application are not offered on a return form.
    assert manager.get(f"{url}/sections/progress/questions/new/budget").status_code == 404
    assert manager.get(f"{url}/preview/progress").status_code == 200


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("email", [OFFICER, ASSESSOR, "finance@example.org"])
def test_only_the_grants_manager_designs_forms(app, email):
    client = signed_in(app, email)
    url = base(app)
    for path in ("", "/sections/new", "/preview", "/copy", "/questions/title"):
        assert client.get(url + path).status_code in (403, 404)
    assert client.post(url + "/publish", data={}).status_code in (400, 403, 404)


def test_missing_and_too_large_ids_find_nothing(app, manager):
    assert manager.get("/manage/rounds/999999/form").status_code == 404
    assert manager.get("/manage/rounds/99999999999999/form").status_code == 404
    assert manager.get(f"{base(app)}/questions/nosuch").status_code == 404
    assert manager.get(f"{base(app)}/sections/nosuch").status_code == 404
    assert manager.get(f"{base(app)}/sections/about/questions/new/nosuch").status_code == 404


@pytest.mark.parametrize("chosen", ["zzz", "a%01b", "title", "x" * 300, ""])
def test_a_type_not_offered_is_refused_beside_the_radios(app, chosen):
    """The new question's type comes in the page's query (a GET form): one not offered (a
    built-in the form has already, control characters, nonsense) is shown beside the radios,
    never a 500 nor a redirect to a page that cannot exist."""
    client = signed_in(app, "manager@example.org")
    with app.app_context():
        round_id = session.scalar(select(Round.id).join(Fund).where(Fund.code == "SCF"))
    response = client.get(f"/manage/rounds/{round_id}/form/sections/delivery/questions/new"
                          f"?type={chosen}")
    assert response.status_code in (200, 400), response.status_code
    page = response.get_data(as_text=True)
    assert "govuk-error-message" in page or not chosen


@pytest.mark.parametrize("condition", ["garbage", "=", "nonexistent=yes"])
def test_a_forged_condition_is_refused_never_read_as_always(app, manager, condition):
    """Breakers' finding: a condition without "=" was saved as "always shown"."""
    url = base(app)
    before = table_row_counts(app)
    response = add_section(manager, url, title="Only sometimes", condition=condition)
    assert response.status_code == 200
    assert "condition" in errors_beside(response)
    assert table_row_counts(app) == before


def test_a_section_key_of_new_is_refused(app, manager):
    """Breakers' finding: a section keyed "new" could never be changed (its address is the
    add-a-section page's)."""
    response = add_section(manager, base(app), title="New things", key="new")
    assert response.status_code == 200
    assert "key" in errors_beside(response)
