"""Histories in words: every audit action the portal records reads as sentences, with money
in pounds and dates as UK dates, never JSON, key names or raw pence (issue 13, point 12)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel import Locale
from babel.support import NullTranslations
from bs4 import BeautifulSoup
from flask import Flask
from flask_babel import Babel, force_locale

from portal import questions, standard_forms
from portal.presenters import event_details, event_sentences
from portal.queries.history import BidNames, RecordNames
from portal.workflows import action_labels

PORTAL = Path(__file__).resolve().parents[2] / "portal"
ACTION = re.compile(r'"((?:assessment|award|bid|decision|form|fund|organisation|plan|return|round|user|variation)'
                    r'\.(?!html")[a-z_]+)"')

# What each action records, as the services write it (portal/services/*.py): a new action
# needs a sample here, so its history is checked too.
SNAPSHOT_ROUND = {"fund": "CSF", "name": "Round 1", "financial_year": "2026/27",
                  "opens_at": "2026-04-01T09:00:00+01:00", "closes_at": "2026-05-31T17:00:00+01:00",
                  "budget_pence": 25000000, "cap_pence": 1500000,
                  "eligible_organisation_types": ["csp"], "return_cadence": "six_monthly",
                  "guidance": "Read this.", "required_assessments": 2}
SNAPSHOT_FUND = {"code": "CSF", "name": "Community Safety Fund", "purpose": "Safer streets",
                 "is_youth": False, "allows_multi_year": True, "payment_rule": "arrears",
                 "terms": "The terms."}
SNAPSHOT_USER = {"name": "Ann Officer", "email": "ann@example.org", "organisation": "North CSP",
                 "roles": ["officer"], "active": True, "language": "en"}
SNAPSHOT_ASSESSMENT = {"assessor": "Asha Assessor", "status": "submitted",
                       "scores": {"3": {"score": 4, "justification": "Clear plan"}},
                       "recommendation": "fund", "weighted": 7250}
READINESS = {"assessments_submitted": 2, "assessments_assigned": 2, "assessments_required": 2,
             "override_reason": ""}
SAMPLES: dict[str, tuple[dict | None, dict | None]] = {
    "assessment.assigned": (None, {"assessor": "Asha Assessor", "assignment": 7}),
    "assessment.conflict_declared": ({"conflict": "undeclared"},
                                     {"conflict": "conflicted", "assessor": "Asha Assessor",
                                      "conflicted": True, "reason": "My sister runs it"}),
    "assessment.draft_saved": (None, {**SNAPSHOT_ASSESSMENT, "status": "draft"}),
    "assessment.submitted": (None, SNAPSHOT_ASSESSMENT),
    "assessment.rescored": (None, SNAPSHOT_ASSESSMENT),
    "assessment.reopened": ({"status": "submitted", **SNAPSHOT_ASSESSMENT},
                            {"status": "draft", "assessor": "Asha Assessor"}),
    "assessment.moderated": (None, {"scores": {"3": 4, "4": 2}, "rationale": "Agreed",
                                    "weighted": 6400}),
    "award.accepted": ({"status": "offered"},
                       {"status": "active", "name": "Ann Officer", "role": "Manager"}),
    "award.closed": ({"status": "active"}, {"status": "closed", "paid": 420000,
                                            "eligible_spend": 410000, "underspend": 10000}),
    "award.action_plan_saved": (
        {"actions": [{"number": "1.4", "title": "Conference", "lead": "", "target_date": None}],
         "lines": {"Conference": ["1.4"]}},
        {"actions": [{"number": "1.4", "title": "Conference", "lead": "Ann",
                      "target_date": "2027-03-31"}], "lines": {"Conference": []}}),
    "award.carried_forward": ({"Bike lights": {"2025": 66667, "2026": 66667}},
                              {"Bike lights": {"2025": 33334, "2026": 100000}}),
    "award.payment_plan_revised": ({"plan": {"2025": 500000, "2026": 500000}},
                                   {"plan": {"2025": 450000, "2026": 550000}}),
    "award.extended": ({"end_date": "2027-03-31"}, {"end_date": "2027-09-30"}),
    "award.lines_revised": ({"Youth worker": 300000, "Equipment": 120000},
                            {"Youth worker": 350000, "Equipment": 70000, "Venue hire": 1000}),
    "award.offered": (None, {"bid": "CSF-2026-0001", "amount": 420000,
                             "returns": ["2026-10-31", "2027-04-30"]}),
    "award.returns_rescheduled": ({"returns": ["2026-10-31", "2027-04-30"]},
                                  {"returns": ["2026-11-30", "2027-04-30"]}),
    "award.payment_recorded": (None, {"amount": 420000, "paid_on": "2026-05-01",
                                      "reference": "BACS-123", "paid_to_date": 420000}),
    "award.repayment_received": ({"status": "awaited"},
                                 {"status": "received", "amount": 10000,
                                  "received_on": "2027-06-01", "reference": "REF-9"}),
    "bid.created": (None, {"round": "Round 1", "fund": "Community Safety Fund"}),
    "bid.evidence_added": (None, {"file": "plan.pdf", "size": 204800}),
    "award.plan_section_changed": ({"plan_section": None}, {"plan_section": "PCF"}),
    "bid.plan_sections_chosen": ({"plan_sections": ["PCF"]},
                                 {"plan_sections": ["PCF", "SAF"]}),
    "bid.evidence_removed": ({"file": "plan.pdf"}, None),
    "bid.evidence_lost": ({"file": "plan.pdf", "stored_as": "ab12.pdf"}, None),
    "bid.section_saved": (None, {"section": "budget", "status": "in_progress", "version": 3}),
    "bid.section_saved_changed": (None, {"section": "problem", "status": "completed",
                                         "version": 2, "changed": ["District"]}),
    "bid.form_version_changed": (None, {"version": 2, "answers_left_behind": ["dropped"],
                                        "sections_removed": ["youth"]}),
    "form.section_added": ({"version": 1}, {"version": 1, "section": "safety",
                                            "title": "Safety"}),
    "form.section_changed": ({"version": 1}, {"version": 2, "section": "safety",
                                              "title": "Safety"}),
    "form.section_moved": ({"version": 1}, {"version": 1, "section": "safety",
                                            "moved": "up"}),
    "form.section_removed": ({"version": 1}, {"version": 1, "section": "safety"}),
    "form.question_added": ({"version": 1}, {"version": 1, "section": "delivery",
                                             "question": "young", "type": "yes_no",
                                             "label": "Young people?"}),
    "form.question_changed": ({"version": 1}, {"version": 1, "section": "delivery",
                                               "question": "young", "type": "yes_no",
                                               "label": "Young people?",
                                               "what_changed": ["label", "required"]}),
    "form.question_moved": ({"version": 1}, {"version": 1, "question": "young",
                                             "moved": "down"}),
    "form.question_removed": ({"version": 1}, {"version": 1, "question": "young"}),
    "form.copied": ({"version": 1}, {"version": 1,
                                     "copied_from": "Safer Communities Fund: 2026/27",
                                     "copied_version": 3}),
    "form.published": ({"version": 1}, {"version": 2, "draft_bids_moved": 1}),
    "form.published_return": ({"version": 1}, {"version": 2, "draft_returns_moved": 3}),
    "return.form_version_changed": (None, {"version": 2,
                                           "answers_left_behind": ["progress_narrative"]}),
    "bid.status_changed": ({"status": "submitted"}, {"status": "in_assessment"}),
    "bid.submitted": ({"status": "draft"}, {"status": "submitted", "reference": "CSF-2026-0001"}),
    "bid.assessment_started": ({"status": "submitted"}, {"status": "in_assessment"}),
    "bid.information_requested": ({"status": "submitted"},
                                  {"status": "more_information_requested",
                                   "question": "Who delivers it?"}),
    "bid.question_answered": ({"status": "more_information_requested"},
                              {"status": "submitted", "answered_request": 4}),
    "bid.withdrawn": ({"status": "submitted"}, {"status": "withdrawn", "reason": "No venue"}),
    "decision.approved": ({"status": "in_assessment"},
                          {"status": "awarded", "reference": "D-1", "amount": 420000,
                           "conditions": "Quarterly updates", "plan_section": "PCF",
                           **READINESS}),
    "decision.declined": ({"status": "in_assessment"},
                          {"status": "not_funded", "reference": "D-2", "feedback": "Too costly",
                           **READINESS, "override_reason": "Deadline"}),
    "fund.created": (None, SNAPSHOT_FUND),
    "fund.updated": (SNAPSHOT_FUND, {**SNAPSHOT_FUND, "payment_rule": "advance",
                                     "plan_section": "PCF Putting Communities First"}),
    "plan.created": (None, {"title": "Police and Crime Plan 2025 to 2028",
                            "first_year": "2025/26", "last_year": "2027/28",
                            "in_force_from": "2025-04-01", "copied_from": "Police and Crime Plan 2021 to 2024",
                            "sections_copied": ["PCF", "VAWG"]}),
    "plan.changed": ({"title": "Police and Crime Plan", "first_year": "2025/26",
                      "last_year": "2027/28", "in_force_from": "2025-04-01"},
                     {"title": "Police and Crime Plan", "title_cy": "Cynllun Heddlu",
                      "first_year": "2025/26", "last_year": "2028/29",
                      "in_force_from": "2025-05-01"}),
    "plan.section_added": (None, {"code": "PCF", "name": "Putting Communities First"}),
    "plan.section_changed": ({"code": "PCF", "name": "Putting Communities First"},
                             {"code": "PCF-1", "name": "Putting Communities First",
                              "name_cy": "Rhoi Cymunedau’n Gyntaf"}),
    "plan.section_moved": ({"position": 3}, {"code": "PCF", "position": 1}),
    "plan.section_removed": ({"code": "PCF", "name": "Putting Communities First"}, None),
    "return.approved": ({"status": "submitted"}, {"status": "approved", "comments": "Fine"}),
    "return.queried": ({"status": "submitted"}, {"status": "queried", "comments": "Receipts?"}),
    "return.saved": ({"status": "due"}, {"status": "draft", "spend": 123456, "award": 3}),
    "return.submitted": ({"status": "draft"}, {"status": "submitted", "spend": 123456,
                                               "award": 3}),
    "return.evidence_added": (None, {"file": "receipts.pdf", "size": 5000, "award": 3}),
    "return.evidence_lost": ({"file": "receipts.pdf", "stored_as": "cd34.pdf", "award": 3},
                             None),
    "round.created": (None, SNAPSHOT_ROUND),
    "round.updated": (SNAPSHOT_ROUND, {**SNAPSHOT_ROUND, "cap_pence": 2000000,
                                       "closes_at": "2026-06-30T17:00:00+01:00"}),
    "round.criteria_changed": (
        {"criteria": [{"title": "Need", "guidance": "", "weight": 100}],
         "scale": {"min": 0, "max": 5, "descriptors": ["None", "Weak"]}},
        {"criteria": [{"title": "Need", "guidance": "", "weight": 60},
                      {"title": "Value", "guidance": "Cost per person", "weight": 40}],
         "scale": {"min": 0, "max": 5, "descriptors": ["None", "Weak"]}}),
    "organisation.changed": ({"name_cy": "PDC Swydd Huntingdon", "language": "en"},
                             {"name_cy": "Partneriaeth Huntingdon", "language": "cy"}),
    "user.created": (None, SNAPSHOT_USER),
    "user.invited": (None, {"email": "ann@example.org"}),
    "user.invitation_accepted": (None, None),
    "user.language_changed": ({"language": "en"}, {"language": "cy"}),
    "user.password_reset": (None, None),
    "user.password_reset_requested": (None, None),
    "user.password_reset_limited": (None, {"limit": "address"}),
    "user.roles_changed": (SNAPSHOT_USER, {**SNAPSHOT_USER, "roles": ["assessor", "officer"]}),
    "user.updated": (SNAPSHOT_USER, {**SNAPSHOT_USER, "active": False}),
    "user.sign_in_failed": (None, {"email": "ann@example.org", "locked": False}),
    "user.signed_in": (None, None),
    "user.signed_out": (None, None),
    "variation.requested": (None, {"variation": 2, "kind": "reallocation",
                                   "moves": [{"from": 11, "to": 12, "amount": 50000},
                                             {"from": 11, "to": None, "new_item": "Venue",
                                              "amount": 1000}],
                                   "new_end_date": None}),
    "variation.approved": ({"status": "requested"},
                           {"status": "approved", "variation": 2, "comment": "Agreed"}),
    "variation.declined": ({"status": "requested"},
                           {"status": "declined", "variation": 2, "comment": ""}),
}


def recorded_actions() -> set[str]:
    """Every action the portal records: named in its source, or a workflow transition's."""
    named = {name for path in PORTAL.rglob("*.py") if path.name != "audit.py"
             for name in ACTION.findall(path.read_text())}
    return named | set(action_labels())


@pytest.fixture
def babel_app():
    app = Flask(__name__)
    app.config["BABEL_DEFAULT_LOCALE"] = "en_GB"
    Babel(app)
    with app.test_request_context():
        yield app


def _integers(value: object) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, dict):
        return [i for v in value.values() for i in _integers(v)]
    if isinstance(value, list):
        return [i for v in value for i in _integers(v)]
    return []


def test_every_recorded_action_has_a_sample():
    actions = recorded_actions()
    assert len(actions) > 40  # the scan finds them
    assert actions <= set(SAMPLES), sorted(actions - set(SAMPLES))


@pytest.mark.parametrize("action", sorted(SAMPLES))
def test_every_action_reads_as_words_with_pounds(babel_app, action):
    before, after = SAMPLES[action]
    text = " ".join(event_sentences(action, before, after, action.split(".")[0]))
    assert "{" not in text and "}" not in text and "[" not in text, text
    assert "_pence" not in text and "_" not in text, text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), text  # ISO dates shown as UK dates
    for amount in _integers(after) + _integers(before):
        if amount >= 1000:  # amounts in pence are never shown as the bare number
            assert not re.search(rf"(?<![\d,.£]){amount}(?![\d,])", text), (amount, text)


def test_a_payment_reads_as_a_sentence(babel_app):
    before, after = SAMPLES["award.payment_recorded"]
    text = " ".join(event_sentences("award.payment_recorded", before, after, "award"))
    assert text.startswith("Payment of £4,200.00 recorded, reference BACS-123, paid on "
                           "1 May 2026.")
    assert "Paid to date: £4,200.00." in text


def test_changes_read_from_and_to_and_unchanged_details_are_left_out(babel_app):
    before, after = SAMPLES["round.updated"]
    text = " ".join(event_sentences("round.updated", before, after, "round"))
    assert "Most a bid may ask for changed from £15,000.00 to £20,000.00." in text
    assert "30 June 2026" in text
    assert "Budget" not in text  # unchanged


def test_states_are_in_the_workflow_words(babel_app):
    before, after = SAMPLES["bid.assessment_started"]
    text = " ".join(event_sentences("bid.assessment_started", before, after, "bid"))
    assert text == "Status changed from Submitted to In assessment."


def test_an_unknown_detail_reads_label_value(babel_app):
    text = " ".join(event_sentences("something.new", None,
                                    {"grant_total_pence": 123456, "new_thing": {"a_b": [1, 2]},
                                     "when": "2026-05-01"}))
    assert text == "Grant total: £1,234.56. New thing: A b: 1, 2. When: 1 May 2026."


# --- names, not ids, and never "None" (issue 13, presentation) -------------------------------

BARE_ID = re.compile(r"\b(?:budget line|line|return|criterion|variation|assignment|award) \d+\b",
                     re.IGNORECASE)
NO_NUMBER_REQUIRED = {"assessments_submitted": 2, "assessments_assigned": 3,
                      "assessments_required": None, "override_reason": ""}
EXTRA_SAMPLES = {
    "decision.approved (no number required)": (
        "decision.approved", {"status": "in_assessment"},
        {"status": "awarded", "reference": "D-3", "amount": 420000, **NO_NUMBER_REQUIRED}),
    "round.created (blank details)": (
        "round.created", None, {**SNAPSHOT_ROUND, "required_assessments": None,
                                "cap_pence": None, "guidance": None}),
    "round.criteria_changed (no scale)": (
        "round.criteria_changed", None, {"criteria": [{"title": "Need"}],
                                         "scale": {"min": None, "max": None}}),
}


def _every_sample():
    for action, (before, after) in SAMPLES.items():
        yield action, action, before, after
    for name, (action, before, after) in EXTRA_SAMPLES.items():
        yield name, action, before, after


@pytest.mark.parametrize(("name", "action", "before", "after"), list(_every_sample()),
                         ids=[s[0] for s in _every_sample()])
def test_no_history_says_none_or_names_a_record_by_its_id(babel_app, name, action, before,
                                                          after):
    text = " ".join(event_sentences(action, before, after, action.split(".")[0]))
    assert "None" not in text, (name, text)
    assert not BARE_ID.search(text), (name, text)


def test_a_decision_where_every_assigned_assessor_is_required_says_so(babel_app):
    _name, before, after = ("", *EXTRA_SAMPLES["decision.approved (no number required)"][1:])
    text = " ".join(event_sentences("decision.approved", before, after, "bid"))
    assert ("2 of 3 assessments submitted (every assigned assessor's assessment is required)"
            in text), text


def test_moves_and_scores_use_the_names_of_lines_and_criteria(babel_app):
    from portal.queries.history import RecordNames

    names = RecordNames(award_lines={11: "Youth worker", 12: "Equipment"},
                        criteria={3: "Need", 4: "Value"})
    before, after = SAMPLES["variation.requested"]
    text = " ".join(event_sentences("variation.requested", before, after, "variation", names))
    assert "£500.00 from “Youth worker” to “Equipment”" in text, text
    assert "£10.00 from “Youth worker” to a new line “Venue”" in text, text
    unnamed = " ".join(event_sentences("variation.requested", before, after, "variation"))
    assert "from a budget line to a budget line" in unnamed, unnamed
    before, after = SAMPLES["assessment.moderated"]
    text = " ".join(event_sentences("assessment.moderated", before, after, "assessment", names))
    assert "Scores: “Need”: 4; “Value”: 2." in text, text
    before, after = SAMPLES["assessment.submitted"]
    text = " ".join(event_sentences("assessment.submitted", before, after, "assessment", names))
    assert "“Need”: 4 (Clear plan)" in text, text


def test_a_return_in_an_award_history_is_named_by_its_kind_and_period(babel_app):
    from datetime import date
    from types import SimpleNamespace

    from portal.presenters import event_record, section_title
    from portal.queries.history import RecordNames

    names = RecordNames(returns={4: ("interim", date(2026, 4, 1), date(2026, 9, 30)),
                                 5: ("final", date(2026, 10, 1), date(2027, 3, 31))},
                        variations={2: "extension"})
    event = SimpleNamespace(record_type="return", record_id="4")
    assert event_record(event, names) == "Return for 1 April 2026 to 30 September 2026"
    event = SimpleNamespace(record_type="return", record_id="5")
    assert event_record(event, names).startswith("Final return, 1 October 2026")
    assert event_record(SimpleNamespace(record_type="variation", record_id="2"), names) == \
        "Change asked for: extend the end date"
    assert event_record(SimpleNamespace(record_type="return", record_id="9"), names) == ""
    assert section_title("about") == "About the project"
    assert section_title("declarations") == "Declarations"


# --- in Welsh, every word (issue 16) -------------------------------------------------------
# A finder, not a list: every sample above is read by a Welsh reader through a stand-in for
# the Welsh catalogue that turns every message of the code (as `make translations` extracts
# them) into fullwidth letters. What is left in plain ASCII letters outside an element marked
# `lang` is English nobody can translate: a detail's key without words, a code shown as
# stored, the grants team's English shown unmarked. Only what a user typed (the samples'
# free text) and Babel's Welsh (months, am/pm) may be left.

CODE = re.compile(r"[a-z][a-z0-9_]*")  # a value as the portal stores its codes
WELSH_SAMPLES = {
    "bid.section_saved (dates and a label of the grants team's)": (
        "bid.section_saved", None,
        {"section": "about", "status": "completed", "version": 2,
         "changed": ["Project title", "Summary of the project", "Start date", "End date",
                     "Youth club name"]}),
    "bid.section_saved (a section of the grants team's)": (
        "bid.section_saved", None, {"section": "young_people", "status": "in_progress",
                                    "version": 1, "changed": ["young"]}),
    "decision.approved (a direct award)": (
        "decision.approved", {"status": None},
        {"status": "awarded", "reference": "DEC-1", "direct": True, "amount": 900000,
         "years": {"2025": 450000, "2026": 450000}, "partnership": "North CSP",
         "conditions": ""}),
    "round.created (over two years, with Welsh)": (
        "round.created", None,
        {**SNAPSHOT_ROUND, "years": 2, "name_cy": "Rownd 1", "guidance_cy": "Darllenwch hwn.",
         "year_budgets": {"2026/27": {"budget_pence": 100000, "cap_pence": 5000},
                          "2027/28": {"budget_pence": 100000, "cap_pence": 5000}}}),
    "form.section_moved (an older event's direction)": (
        "form.section_moved", {"version": 1}, {"version": 1, "section": "about",
                                                "direction": "down"}),
}


def _every_welsh_sample():
    yield from _every_sample()
    for name, (action, before, after) in WELSH_SAMPLES.items():
        yield name, action, before, after


@lru_cache(maxsize=1)
def _messages() -> frozenset[str]:
    from tests.unit.test_welsh_catalogue import extracted

    return frozenset(msgid for msgid, _context in extracted())


def _pseudo(text: str) -> str:
    """Every letter outside the placeholders as its fullwidth form."""
    from tests.unit.test_welsh_catalogue import PLACEHOLDER

    out, at = [], 0
    for found in PLACEHOLDER.finditer(text):
        out += [_fullwidth(text[at:found.start()]), found.group()]
        at = found.end()
    return "".join([*out, _fullwidth(text[at:])])


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalpha() else c for c in text)


class _PseudoWelsh(NullTranslations):
    """The Welsh catalogue as a finder sees it: every message of the code translated."""

    def ugettext(self, message):
        return _pseudo(message) if message in _messages() else message

    def ungettext(self, singular, plural, n):
        chosen = singular if n == 1 else plural
        return _pseudo(chosen) if singular in _messages() else chosen

    def upgettext(self, context, message):
        return self.ugettext(message)

    def unpgettext(self, context, singular, plural, n):
        return self.ungettext(singular, plural, n)

    gettext, ngettext, pgettext, npgettext = ugettext, ungettext, upgettext, unpgettext


@pytest.fixture
def pseudo_welsh(babel_app):
    babel_app.extensions["babel"].instance.domain_instance.cache[("cy", "messages")] = \
        _PseudoWelsh()
    with force_locale("cy"):
        yield babel_app


def _typed(value: object) -> list[str]:
    """What a user typed in ``value`` (keys and values): text that is not a stored code."""
    if isinstance(value, str):
        return [] if CODE.fullmatch(value) or not value.strip() else [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _typed(k) + _typed(v)]
    if isinstance(value, list):
        return [t for v in value for t in _typed(v)]
    return []


def _names_of_a_page() -> RecordNames:
    """What ``event_names`` finds for a page: a bid on the standard form with a section of the
    grants team's (one question with Welsh, one without), the names of lines and criteria."""
    definition = questions.read(standard_forms.application(youth=True))
    definition.sections.append(questions.read({"sections": [{
        "key": "young_people", "title": "Young people", "title_cy": "Pobl ifanc",
        "questions": [
            {"key": "young", "type": "yes_no", "label": "", "label_cy": ""},
            {"key": "club", "type": "short_text", "label": "Youth club name"}]}]}).sections[0])
    return RecordNames(award_lines={11: "Youth worker", 12: "Equipment"},
                       criteria={3: "Need", 4: "Value"}, criteria_cy={3: "Angen"},
                       bids={1: BidNames(definition, "Round 1", "Rownd 1",
                                         "Community Safety Fund", "")},
                       organisations={"North CSP": "PDC y Gogledd"})


def _welsh_of(value: object) -> list[str]:
    """The Welsh the grants team gave in a form's definition (its ``…_cy`` words)."""
    if isinstance(value, dict):
        return [t for k, v in value.items()
                for t in (_typed(v) if str(k).endswith("_cy") else _welsh_of(v))]
    if isinstance(value, list):
        return [t for v in value for t in _welsh_of(v)]
    return []


def _typed_in(names: RecordNames | None) -> list[str]:
    """What users typed that a page's names give: budget lines' items and the Welsh (their
    English, shown to a Welsh reader, must be marked)."""
    if names is None:
        return []
    return [*names.award_lines.values(), *names.criteria_cy.values(),
            *names.organisations.values(),
            *(t for bid in names.bids.values() for t in (bid.round_name_cy, bid.fund_name_cy,
                                                          *_welsh_of(bid.definition.as_json())))]


def _left_in_english(action: str, before, after, names) -> list[str]:
    event = SimpleNamespace(action=action, before=before, after=after,
                            record_type=action.split(".")[0], record_id="1")
    soup = BeautifulSoup(str(event_details(event, names)), "html.parser")
    for marked in soup.select("[lang]"):
        marked.decompose()
    text = soup.get_text()
    typed = _typed(before) + _typed(after) + _typed(_typed_in(names))
    for words in sorted(typed, key=len, reverse=True):
        text = text.replace(words, " ")
    welsh = Locale.parse("cy")  # Babel's: the months, and am/pm as times write them (9:00am)
    periods = welsh.day_periods["format"]["abbreviated"]
    for period in (periods["am"].lower(), periods["pm"].lower()):
        text = re.sub(rf"(?<=\d:\d\d){re.escape(period)}\b", " ", text)
    for month in welsh.months["format"]["wide"].values():
        text = re.sub(rf"\b{re.escape(month)}\b", " ", text)
    return re.findall(r"[A-Za-z]+", text)


@pytest.mark.parametrize("with_names", [True, False], ids=["a page's names", "no names"])
@pytest.mark.parametrize(("name", "action", "before", "after"), list(_every_welsh_sample()),
                         ids=[s[0] for s in _every_welsh_sample()])
def test_a_welsh_reader_reads_every_event_in_welsh(pseudo_welsh, name, action, before, after,
                                                   with_names):
    names = _names_of_a_page() if with_names else None
    left = _left_in_english(action, before, after, names)
    shown = str(event_details(SimpleNamespace(action=action, before=before, after=after,
                                              record_type=action.split(".")[0],
                                              record_id="1"), names))
    assert not left, f"English left unmarked in {name}: {left}\n{shown}"


def test_the_finder_finds_a_key_without_words_and_a_code_shown_raw(pseudo_welsh):
    assert _left_in_english("bid.created", None, {"a_new_detail": "Text typed"}, None) == [
        "A", "new", "detail"]
    assert _left_in_english("something.new", None, {"status": "some_code"}, None) == [
        "some", "code"]


def _details(action: str, before, after, names=None) -> str:
    return str(event_details(SimpleNamespace(action=action, before=before, after=after,
                                             record_type=action.split(".")[0],
                                             record_id="1"), names))


def test_the_marks_of_languages_are_elements_and_never_text(babel_app):
    before, after = SAMPLES["organisation.changed"]
    html = _details("organisation.changed", before, after)
    assert '<span lang="cy">Partneriaeth Huntingdon</span>' in html  # Welsh in an English page
    assert '<span lang="en">English</span>' in html and '<span lang="cy">Cymraeg</span>' in html
    plain = " ".join(event_sentences("organisation.changed", before, after, "organisation"))
    assert plain == ("Name in Welsh changed from PDC Swydd Huntingdon to Partneriaeth "
                     "Huntingdon. Language changed from English to Cymraeg.")
    # What a user typed is escaped, and marks typed into it are dropped.
    html = _details("bid.withdrawn", {"status": "submitted"},
                    {"status": "withdrawn", "reason": "<b>\ue000No\ue002 venue</b>"})
    assert "&lt;b&gt;No venue&lt;/b&gt;" in html and "\ue000" not in html
    assert "<span" not in html


def test_an_english_reader_gets_the_grants_teams_english_unmarked(babel_app):
    names = _names_of_a_page()
    _action, before, after = WELSH_SAMPLES[
        "bid.section_saved (dates and a label of the grants team's)"]
    html = _details("bid.section_saved", before, after, names)
    assert html == ("“About the project” saved: Completed. Answers changed: Project title, "
                    "Summary of the project, Start date, End date, Youth club name.")
    html = _details("bid.created", None, {"round": "Round 1", "fund": "Community Safety Fund"},
                    names)
    assert html == "Bid started in Round 1 (Community Safety Fund)."


def test_a_welsh_reader_gets_the_grants_teams_welsh_and_their_english_marked(pseudo_welsh):
    names = _names_of_a_page()
    html = _details("bid.section_saved", None,
                    {"section": "young_people", "status": "completed", "version": 2,
                     "changed": ["young", "Youth club name"]}, names)
    assert html.startswith("“Pobl ifanc” ")
    assert html.endswith(': <span lang="en">young</span>, <span lang="en">Youth club name'
                         '</span>.')
    # A round renamed since the event: the name it had, marked; the fund without Welsh, marked.
    html = _details("bid.created", None, {"round": "Round 0", "fund": "Community Safety Fund"},
                    names)
    assert '<span lang="en">Round 0</span>' in html
    assert '<span lang="en">Community Safety Fund</span>' in html
    html = _details("bid.created", None, {"round": "Round 1", "fund": "Community Safety Fund"},
                    names)
    assert "Rownd 1" in html and "Round 1" not in html
