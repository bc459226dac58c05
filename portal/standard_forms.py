"""The seed funds' forms, written with the form builder's own types (issue 15): the questions
every bid asked before forms became data, worded as they were, so a round made without a form
of its own asks them. The words are kept in English in a definition and marked here for the
message catalogue, so ``portal.questions.words`` shows them in Welsh to a Welsh reader.

``N_`` marks a string for the catalogue without translating it: a definition stores the
English words, whatever the language of the person who made the round.
"""

from __future__ import annotations

from typing import Any


def N_(text: str) -> str:  # noqa: N802 - the catalogue's marker for words kept untranslated
    return text


def _q(key: str, type_: str, label: str, hint: str = "", *, required: bool = True,
       **options: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "label": label, "hint": hint, "required": required,
            **options}


def _long(key: str, label: str, limit: int, hint: str = "", error: str = "") -> dict[str, Any]:
    return _q(key, "long_text", label, hint, limit=limit, limit_unit="characters", error=error)


def application(*, youth: bool) -> dict[str, Any]:
    """The application form every round of the seed funds asked until issue 15: about the
    project, the problem and its evidence, delivery, outcomes, budget, young people and
    safeguarding (a youth fund's only) and declarations."""
    sections: list[dict[str, Any]] = [
        {"key": "about", "title": N_("About the project"), "intro": "", "questions": [
            _q("title", "title", N_("Project title"), error=N_("Enter a project title")),
            _q("summary", "summary", N_("Summary of the project"),
               N_("What you will do, where and for whom, in a few sentences."), limit=1000,
               limit_unit="characters", error=N_("Enter a summary of the project")),
            _q("project_dates", "project_dates", N_("Start date"), N_("For example, 1 12 2026"),
               end_label=N_("End date"), end_hint=N_("For example, 31 3 2027")),
        ]},
        {"key": "problem", "title": N_("The problem and the evidence"), "intro": "",
         "questions": [
             _q("issue_types", "issue_types", N_("Which issues will the project tackle?"),
                N_("Select all that apply."), error=N_("Select at least one issue")),
             _q("other_issue", "short_text", N_("Other issue"), N_("Only if you selected Other."),
                limit=200, limit_unit="characters",
                condition={"question": "issue_types", "value": "other"},
                error=N_("Enter the other issue")),
             _q("where", "guidance", N_("Where"), required=False),
             _q("district", "short_text", N_("District"), limit=100, limit_unit="characters",
                error=N_("Enter the district")),
             _long("places", N_("Parishes or wards"), 500,
                   error=N_("Enter the parishes or wards")),
             _q("priority_category", "one_choice", N_("Priority area category"),
                N_("From the annual Strategic Assessment."),
                choices=[{"value": "emerging", "text": N_("Emerging")},
                         {"value": "preventing", "text": N_("Preventing")},
                         {"value": "sustaining", "text": N_("Sustaining")}],
                error=N_("Select the priority area category")),
             _q("evidence", "guidance", N_("Evidence"), required=False),
             _long("evidence_sources", N_("Where does your evidence come from?"), 1000,
                   N_("For example, police incident data, council reports, resident surveys."),
                   error=N_("Enter where your evidence comes from")),
             _long("evidence_shows", N_("What does the evidence show?"), 2000,
                   error=N_("Enter what the evidence shows")),
             _q("evidence_files", "guidance", "",
                N_("You can attach evidence files from the bid's task list."), required=False),
         ]},
        {"key": "delivery", "title": N_("What will be done"), "intro": "", "questions": [
            _long("activities", N_("What will be done?"), 2000,
                  error=N_("Enter what will be done")),
            _long("delivered_by", N_("Who will do it?"), 1000, error=N_("Enter who will do it")),
            _long("partners", N_("Which partners are involved?"), 1000,
                  N_("For example, the police, the fire service, parish councils."),
                  error=N_("Enter the partners involved")),
        ]},
        {"key": "outcomes", "title": N_("Outcomes"),
         "intro": N_("Give each outcome a measure with a number to reach, for example “cycle "
                     "marking kits given out: 300”, and say how you will measure it. Leave "
                     "rows you do not need empty."),
         "questions": [_q("outcomes", "outcomes", N_("Outcome measures"))]},
        {"key": "budget", "title": N_("Budget"),
         "intro": N_("List what the grant will pay for. Capital is equipment and things that "
                     "last (cameras, signs, lights); revenue is everything else (staff time, "
                     "sessions, leaflets)."),
         "questions": [_q("budget", "budget", N_("Budget lines"))]},
    ]
    if youth:
        sections.append(
            {"key": "youth", "title": N_("Young people and safeguarding"),
             "intro": N_("Youth work needs safeguarding arrangements: a named safeguarding "
                         "lead, a policy and DBS-checked staff."),
             "questions": [
                 _q("age_from", "whole_number", N_("Youngest age"), low=0, high=25,
                    error=N_("Enter the youngest age")),
                 _q("age_to", "whole_number", N_("Oldest age"), low=0, high=25,
                    at_least="age_from", error=N_("Enter the oldest age")),
                 _q("young_people", "whole_number", N_("How many young people will take part?"),
                    low=1, high=100_000, error=N_("Enter how many young people will take part")),
                 _q("safeguarding_lead", "short_text", N_("Name of the safeguarding lead"),
                    limit=200, limit_unit="characters",
                    error=N_("Enter the name of the safeguarding lead")),
                 _q("safeguarding_policy", "confirm",
                    N_("We have a safeguarding policy that covers this project"),
                    error=N_("Confirm you have a safeguarding policy")),
                 _q("dbs_checked", "confirm",
                    N_("Everyone working with young people on this project has a DBS check"),
                    error=N_("Confirm everyone working with young people has a DBS check")),
             ]})
    sections.append(
        {"key": "declarations", "title": N_("Declarations"), "intro": "", "questions": [
            _q("declarations", "declarations", N_("Declarations"), statements=[
                N_("The information in this bid is true and complete"),
                N_("The partnership has agreed to this bid and its host council will receive "
                   "and account for the grant")]),
        ]})
    return {"sections": sections}


def monitoring_return() -> dict[str, Any]:
    """A fund's return form before its grants team adds questions: none beyond the return's
    built-in spend per line, outcomes, case study and forecast underspend."""
    return {"sections": []}
