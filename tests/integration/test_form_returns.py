"""A fund's own questions on its monitoring returns (issue 15, point 6): the return page asks
them after the spend, actions, outcomes and case study every return reports; saving checks
what was typed, submitting every shown required question, from the definition alone; a
return keeps the version of the form it was first saved on; finance sees the answers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal import demo, questions
from portal.db import session
from portal.models import Fund, GrantReturn, ReturnStatus
from portal.models.forms import FormKind, FormVersion
from portal.services import awards
from tests.helpers import table_row_counts, text_of
from tests.integration.test_awards_applicant import (
    FINANCE,
    awarded,
    complete_return,
    error_links,
    facts,
    officer_client,
    return_url,
)

DEFINITION = {"sections": [
    {"key": "progress", "title": "Progress in the period", "intro": "Tell us how it went.",
     "questions": [
         {"key": "overall", "type": "rag", "label": "Overall progress", "hint": "",
          "required": True},
         {"key": "narrative", "type": "long_text", "label": "Progress narrative", "hint": "",
          "required": False, "limit": 2000, "limit_unit": "characters"},
         {"key": "partners_helped", "type": "yes_no", "label": "Did partners help?",
          "hint": "", "required": False},
         {"key": "partner_names", "type": "short_text", "label": "Which partners?",
          "hint": "", "required": True,
          "condition": {"question": "partners_helped", "value": "yes"}},
     ]},
    {"key": "numbers", "title": "Numbers", "intro": "", "questions": [
        {"key": "volunteers", "type": "whole_number", "label": "Volunteers", "hint": "",
         "required": False, "low": 0, "high": 500}]},
]}
SECOND = {"sections": [
    {"key": "later", "title": "Asked from version 2", "intro": "", "questions": [
        {"key": "lessons", "type": "long_text", "label": "Lessons learned", "hint": "",
         "required": True, "limit": 500, "limit_unit": "characters"}]}]}


def fund_form(app, definition: dict, number: int = 1) -> int:
    """A published version of the Safer Communities Fund's return form; its id."""
    with app.app_context():
        fund = session.scalar(select(Fund).where(Fund.code == "SCF"))
        now = datetime.now(UTC)
        version = FormVersion(kind=FormKind.RETURN, fund_id=fund.id, number=number,
                              definition=definition, revision=1, in_use=False,
                              published_at=now, created_at=now, updated_at=now)
        session.add(version)
        session.commit()
        return version.id


def saved(app, return_id: int) -> dict:
    with app.app_context():
        grant_return = session.get(GrantReturn, return_id)
        version = session.get(FormVersion, grant_return.form_version_id) \
            if grant_return.form_version_id else None
        return {"status": grant_return.status, "answers": dict(grant_return.answers or {}),
                "form": grant_return.form_version_id, "version": grant_return.version,
                "in_use": version.in_use if version else None,
                "spend": {line.award_line_id: line.spend_pence for line in grant_return.lines}}


@pytest.fixture
def setup(app):
    """An accepted award of the fund, its first return, the fund's form; the officer."""
    form_id = fund_form(app, DEFINITION)
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    return {"award": award_id, "return": return_id, "url": return_url(award_id, return_id),
            "form": form_id, "officer": officer_client(app)}


def answered(app, award_id: int, **answers: str) -> dict:
    data = complete_return(app, award_id)
    data.update({f"q-{key}": value for key, value in answers.items()})
    return data


def test_the_funds_questions_follow_the_returns_own_parts_each_section_a_heading(app, setup):
    page = setup["officer"].get(setup["url"])
    assert page.status_code == 200
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    headings = [h.get_text(strip=True) for h in soup.find_all("h2")]
    assert headings.index("Case study and forecast") < headings.index(
        "Progress in the period") < headings.index("Numbers") < headings.index("Evidence")
    form = soup.find("form", attrs={"action": setup["url"]})
    names = {field.get("name") for field in form.find_all(["input", "textarea"])}
    assert {"q-overall", "q-narrative", "q-partners_helped", "q-partner_names",
            "q-volunteers", "case_study", "form_seen"} <= names
    assert "Overall progress" in text_of(page) and "Tell us how it went." in text_of(page)
    # Nothing is written by opening the page: the return takes the form when first saved.
    assert saved(app, setup["return"])["form"] is None


def test_a_fund_without_a_return_form_asks_only_the_built_in_parts(app):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    officer = officer_client(app)
    page = officer.get(return_url(award_id, return_id))
    assert 'name="q-' not in page.get_data(as_text=True)
    data = complete_return(app, award_id)
    data["save_draft"] = "y"
    assert officer.submit(return_url(award_id, return_id), data).status_code == 302
    assert saved(app, return_id)["form"] is None and saved(app, return_id)["answers"] == {}


def test_a_draft_checks_only_what_was_typed_and_takes_the_funds_form(app, setup):
    data = answered(app, setup["award"], narrative="Half way there.")
    data["save_draft"] = "y"
    response = setup["officer"].submit(setup["url"], data)
    assert response.status_code == 302
    kept = saved(app, setup["return"])
    assert kept["status"] == ReturnStatus.DRAFT
    assert kept["answers"] == {"narrative": "Half way there."}
    assert kept["form"] == setup["form"] and kept["in_use"] is True
    page = setup["officer"].get(setup["url"])
    assert "Half way there." in page.get_data(as_text=True)


def test_a_required_rag_question_is_refused_on_submit_beside_its_field_changing_nothing(
        app, setup):
    data = answered(app, setup["award"], narrative="Going well.")
    data["submit"] = "y"
    counts = table_row_counts(app)
    response = setup["officer"].submit(setup["url"], data)
    assert response.status_code == 200
    assert error_links(response) == {"q-overall": "Select an answer to “Overall progress”"}
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert "Select an answer to “Overall progress”" in soup.find(
        id="q-overall-error").get_text()
    assert table_row_counts(app) == counts
    assert saved(app, setup["return"])["status"] == ReturnStatus.DUE


def test_the_service_refuses_a_submit_without_the_required_answers_too(app, setup):
    """From the definition alone: a caller that sends no answers cannot submit either."""
    with app.test_request_context():
        grant_return = session.get(GrantReturn, setup["return"])
        award = grant_return.award
        outcomes = [awards.OutcomeInput(m.id, 10, "amber", "Going well")
                    for m in award.bid.outcomes]
        officer = award.accepted_by
        with pytest.raises(awards.DomainError) as refused:
            awards.save_return(grant_return, {award.lines[0].id: 10000}, outcomes, "A case",
                               0, submit=True, actor=officer)
        assert refused.value.field == "q-overall"
        with pytest.raises(awards.DomainError) as refused:
            awards.save_return(grant_return, {award.lines[0].id: 10000}, outcomes, "A case",
                               0, submit=True, actor=officer,
                               answers={"overall": "purple"})
        assert refused.value.field == "q-overall"
        awards.save_return(grant_return, {award.lines[0].id: 10000}, outcomes, "A case", 0,
                           submit=True, actor=officer, answers={"overall": "amber"})
        session.commit()
    assert saved(app, setup["return"])["answers"] == {"overall": "amber"}


def test_submitting_every_required_answer_sends_the_return_with_its_answers(app, setup):
    data = answered(app, setup["award"], overall="amber", narrative="Some delays.",
                    partners_helped="yes", partner_names="Parish council", volunteers="12")
    data["submit"] = "y"
    response = setup["officer"].submit(setup["url"], data)
    assert response.status_code == 302
    kept = saved(app, setup["return"])
    assert kept["status"] == ReturnStatus.SUBMITTED
    assert kept["answers"] == {"overall": "amber", "narrative": "Some delays.",
                               "partners_helped": "yes", "partner_names": "Parish council",
                               "volunteers": 12}
    shown = text_of(setup["officer"].get(setup["url"]))
    assert "Overall progress" in shown and "Parish council" in shown


def test_a_shown_conditional_question_is_required_and_a_hidden_one_is_not_kept(app, setup):
    data = answered(app, setup["award"], overall="green", partners_helped="yes")
    data["submit"] = "y"
    response = setup["officer"].submit(setup["url"], data)
    assert response.status_code == 200
    assert error_links(response) == {"q-partner_names": "Enter an answer to “Which partners?”"}
    data = answered(app, setup["award"], overall="green", partners_helped="no",
                    partner_names="Posted anyway")
    data["submit"] = "y"
    assert setup["officer"].submit(setup["url"], data).status_code == 302
    kept = saved(app, setup["return"])
    assert kept["status"] == ReturnStatus.SUBMITTED
    assert "partner_names" not in kept["answers"]
    assert kept["answers"]["partners_helped"] == "no"


@pytest.mark.parametrize("name", ["q-bogus", "q-Not_A_Key", "q-"])
def test_an_answer_to_no_question_of_the_form_is_refused(app, setup, name):
    data = answered(app, setup["award"], overall="green")
    data[name] = "forged"
    data["save_draft"] = "y"
    counts = table_row_counts(app)
    response = setup["officer"].submit(setup["url"], data)
    assert response.status_code == 200
    assert list(error_links(response)) == ["q-overall"]
    assert "This return has no" in text_of(response)
    assert table_row_counts(app) == counts


def test_the_service_refuses_unknown_keys_and_drops_hidden_answers(app, setup):
    definition = questions.read(DEFINITION)
    with app.test_request_context(), pytest.raises(awards.DomainError) as refused:
        awards.checked_answers(definition, {"overall": "green", "nope": 1}, completing=False)
    assert "“nope”" in refused.value.message
    with app.test_request_context():
        kept = awards.checked_answers(
            definition, {"overall": "green", "partners_helped": "no", "partner_names": "X"},
            completing=True)
    assert kept == {"overall": "green", "partners_helped": "no"}


def test_saving_twice_keeps_the_second_answers(app, setup):
    first = answered(app, setup["award"], overall="amber", narrative="First words.",
                     volunteers="3")
    first["save_draft"] = "y"
    assert setup["officer"].submit(setup["url"], first).status_code == 302
    version = saved(app, setup["return"])["version"]
    second = answered(app, setup["award"], overall="green", narrative="Second words.",
                      volunteers="")
    second["save_draft"] = "y"
    assert setup["officer"].submit(setup["url"], second).status_code == 302
    kept = saved(app, setup["return"])
    assert kept["version"] == version + 1
    assert kept["answers"]["overall"] == "green"
    assert kept["answers"]["narrative"] == "Second words."
    assert "volunteers" not in kept["answers"]  # left blank the second time


def test_a_return_keeps_its_version_after_the_funds_form_changes(app, setup):
    data = answered(app, setup["award"], overall="green", narrative="On v1.")
    data["submit"] = "y"
    assert setup["officer"].submit(setup["url"], data).status_code == 302
    second = fund_form(app, SECOND, number=2)
    kept = saved(app, setup["return"])
    assert kept["form"] == setup["form"]
    # Finance and the officer see the answers in the questions of version 1.
    finance = officer_client(app, FINANCE)
    page = text_of(finance.get(f"/finance/returns/{setup['return']}"))
    assert "Overall progress" in page and "On v1." in page and "Lessons learned" not in page
    own = text_of(setup["officer"].get(setup["url"]))
    assert "Overall progress" in own and "Lessons learned" not in own
    # A return not yet saved takes the fund's current form: version 2.
    other = facts(app, setup["award"])["returns"][1]
    other_url = return_url(setup["award"], other)
    page = setup["officer"].get(other_url).get_data(as_text=True)
    assert 'name="q-lessons"' in page and 'name="q-overall"' not in page
    draft = complete_return(app, setup["award"])
    draft.update({"q-lessons": "Start earlier.", "save_draft": "y"})
    assert setup["officer"].submit(other_url, draft).status_code == 302
    assert saved(app, other)["form"] == second
    assert saved(app, other)["answers"] == {"lessons": "Start earlier."}


def test_questions_changed_while_the_page_was_open_save_nothing(app, setup):
    """Version 1 is not yet in use, so the grants team may still change it in place: a page
    opened before the change saves nothing over it."""
    officer = setup["officer"]
    tokens = officer.form_tokens(setup["url"])
    with app.app_context():
        version = session.get(FormVersion, setup["form"])
        version.revision += 1
        session.commit()
    data = {**tokens, **answered(app, setup["award"], overall="green"), "save_draft": "y",
            "case_study": "Typed before the change"}
    response = officer.post(setup["url"], data=data)
    # Nothing saved; the page again, with what was typed and the message beside the
    # questions (breakers' finding: everything typed was lost to a redirect).
    assert response.status_code == 200
    page = text_of(response)
    assert "changed this return’s questions" in page or \
        "changed this return's questions" in page
    assert "Typed before the change" in response.get_data(as_text=True)
    assert saved(app, setup["return"])["form"] is None
    # The page now shows the questions as they are: saving it again works.
    again = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    stamp = again.find("input", {"name": "form_seen"})["value"]
    once = again.find("input", {"name": "once"})["value"]
    response = officer.post(setup["url"], data={**data, "form_seen": stamp, "once": once})
    assert response.status_code == 302
    assert saved(app, setup["return"])["form"] == setup["form"]


def test_finance_sees_the_answers_of_a_submitted_return(app, setup):
    data = answered(app, setup["award"], overall="red", narrative="Staff left.",
                    partners_helped="no", volunteers="4")
    data["submit"] = "y"
    assert setup["officer"].submit(setup["url"], data).status_code == 302
    finance = officer_client(app, FINANCE)
    page = finance.get(f"/finance/returns/{setup['return']}")
    assert page.status_code == 200
    shown = text_of(page)
    for words in ("Progress in the period", "Overall progress", "Red", "Staff left.",
                  "Did partners help?", "No", "Volunteers", "4"):
        assert words in shown
    assert "Which partners?" not in shown  # hidden: not asked, not shown


def test_markup_is_kept_as_text_and_shown_escaped(app, setup):
    markup = "<script>alert('x')</script> & <b>bold</b>"
    data = answered(app, setup["award"], overall="green", narrative=markup)
    data["submit"] = "y"
    assert setup["officer"].submit(setup["url"], data).status_code == 302
    assert saved(app, setup["return"])["answers"]["narrative"] == markup
    finance = officer_client(app, FINANCE)
    html = finance.get(f"/finance/returns/{setup['return']}").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


@pytest.mark.parametrize("value, message", [
    ("Bell\x07here", "must not contain hidden control characters"),
    ("right\u202eto left", "must not contain hidden control characters"),
    ("x" * 2001, "2000 characters or fewer"),
])
def test_bad_text_is_refused_beside_the_question_changing_nothing(app, setup, value,
                                                                 message):
    data = answered(app, setup["award"], overall="green", narrative=value)
    data["save_draft"] = "y"
    counts = table_row_counts(app)
    response = setup["officer"].submit(setup["url"], data)
    assert response.status_code == 200
    errors = error_links(response)
    assert list(errors) == ["q-narrative"]
    assert message in errors["q-narrative"].replace(",", "")
    assert table_row_counts(app) == counts


def test_a_number_out_of_range_is_refused_beside_the_question(app, setup):
    data = answered(app, setup["award"], overall="green", volunteers="501")
    data["save_draft"] = "y"
    response = setup["officer"].submit(setup["url"], data)
    assert response.status_code == 200
    assert list(error_links(response)) == ["q-volunteers"]
    assert saved(app, setup["return"])["form"] is None


def test_the_demo_return_form_is_a_working_definition(app):
    definition = questions.read(demo.RETURN_FORM)
    with app.test_request_context():
        assert questions.problems(definition, application=False) == []
        rag = definition.question("overall_progress")
        assert rag is not None and rag.type == "rag" and rag.label == "Overall progress"
        assert awards.checked_answers(definition, demo.RETURN_ANSWERS,
                                      completing=True) == demo.RETURN_ANSWERS


def test_the_returns_export_has_a_column_per_question_in_words(app, setup):
    from portal.exports import return_answers
    from portal.exports.tables import csv_chunks
    from portal.services import reporting

    data = answered(app, setup["award"], overall="amber", narrative="=SUM(A1)",
                    partners_helped="yes", partner_names="Parish council", volunteers="7")
    data["submit"] = "y"
    assert setup["officer"].submit(setup["url"], data).status_code == 302
    with app.test_request_context():
        table, rows = return_answers.export(reporting.Filters(year=None))
        text = "".join(csv_chunks(table, rows))
    header, *lines = text.splitlines()
    assert header.endswith("answer:overall,answer:narrative,answer:partners_helped,"
                           "answer:partner_names,answer:volunteers")
    answered_line = next(line for line in lines if "Parish council" in line)
    assert answered_line.endswith("Amber,'=SUM(A1),Yes,Parish council,7")
    # The award's other returns, not answered yet, have the columns empty.
    assert any(line.endswith(",,,,") for line in lines)


def test_the_demo_answers_its_funds_sent_returns_on_its_return_form(app):
    from portal.db import utcnow

    with app.test_request_context():
        now = utcnow()
        demo.load_history(now)
        assert demo.load_return_forms(now) is True
        session.commit()
    with app.app_context():
        fund = session.scalar(select(Fund).where(Fund.code == demo.RETURN_FORM_FUND))
        version = session.scalar(select(FormVersion).where(FormVersion.fund_id == fund.id))
        assert version.in_use and version.published_at is not None
        sent = session.scalars(select(GrantReturn).where(
            GrantReturn.form_version_id == version.id)).all()
        assert sent and all(r.answers == demo.RETURN_ANSWERS for r in sent)
        first = sent[0].id
    with app.test_request_context():
        assert demo.load_return_forms(utcnow()) is False  # safe to run twice
    finance = officer_client(app, FINANCE)
    shown = text_of(finance.get(f"/finance/returns/{first}"))
    assert "Overall progress" in shown and "Green" in shown


def test_a_return_sent_before_its_fund_had_a_form_shows_no_questions(app):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    officer = officer_client(app)
    data = complete_return(app, award_id)
    data["submit"] = "y"
    assert officer.submit(return_url(award_id, return_id), data).status_code == 302
    fund_form(app, DEFINITION)
    finance = officer_client(app, FINANCE)
    assert "Overall progress" not in text_of(finance.get(f"/finance/returns/{return_id}"))
    assert "Overall progress" not in text_of(officer.get(return_url(award_id, return_id)))


def test_publishing_moves_returns_not_yet_sent_and_keeps_sent_ones(app, setup):
    """Breakers' question, settled: a new version of the return form reaches the returns not
    yet sent, as a new application form reaches draft bids; answers whose question is still
    asked are kept; a sent return keeps the version it was sent on."""
    from portal.services import accounts, form_design

    draft = answered(app, setup["award"], overall="amber", narrative="Typed on v1.")
    draft["save_draft"] = "y"
    assert setup["officer"].submit(setup["url"], draft).status_code == 302
    other = facts(app, setup["award"])["returns"][1]
    sent = answered(app, setup["award"], overall="green", narrative="Sent on v1.")
    sent["submit"] = "y"
    # The other return is sent on version 1 (its period may not have begun: send it as is).
    with app.test_request_context():
        grant_return = session.get(GrantReturn, other)
        grant_return.form_version_id = setup["form"]
        grant_return.status = "submitted"
        session.commit()
    with app.test_request_context():
        fund = session.scalar(select(Fund).where(Fund.code == "SCF"))
        owner = form_design.of_fund(fund)
        manager = accounts.get_user_by_email("manager@example.org")
        form_design.remove_question(owner, form_design.design(owner).expected, "narrative",
                                    manager)
        form_design.add_question(owner, form_design.design(owner).expected, "progress",
                                 "long_text", form_design.QuestionDetails(
                                     label="Lessons learned", key="lessons"), manager)
        form_design.publish(owner, form_design.design(owner).expected, manager)
        session.commit()
        latest = form_design.design(owner).version.id
    moved = saved(app, setup["return"])
    assert moved["form"] == latest and moved["in_use"]
    assert moved["answers"] == {"overall": "amber"}  # the narrative is no longer asked
    assert saved(app, other)["form"] == setup["form"]
    page = text_of(setup["officer"].get(setup["url"]))
    assert "Lessons learned" in page
