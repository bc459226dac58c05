"""The grants manager designs forms (issue 15): a round's application form and a fund's
return form, with the same pages for both (the owner is the URL's round or fund).

Every page of the designer shows the form's latest version: while no bid (or return) uses
it, changes are made to it in place; once one does, they go to a draft of the next version
that the grants manager publishes. Each editing form carries the version and revision it
was opened at, so a change made from an older copy of the form is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from forms.builder import (
    CopyForm,
    MoveForm,
    PublishForm,
    QuestionForm,
    QuestionTypeForm,
    RemoveForm,
    SectionForm,
    condition_text,
    condition_value,
)
from forms.sections import section_form
from portal import questions
from portal.access import requires
from portal.decisions import bp
from portal.models import year_label
from portal.oneshot import one_shot
from portal.queries import decisions as queries
from portal.refusals import show_refusal
from portal.security import showing_saved
from portal.services import DomainError, form_design
from portal.services.form_design import Design, Expected, Owner
from portal.services.policy import Action

ROUND_PREFIX = "/manage/rounds/<int:round_id>/form"
FUND_PREFIX = "/manage/funds/<int:fund_id>/return-form"


def _routes(name: str, path: str, **options: Any) -> Callable[[Any], Any]:
    """Register a view for a round's application form (endpoint ``round_form<name>``) and
    for a fund's return form (``return_form<name>``)."""

    def register(view: Any) -> Any:
        bp.add_url_rule(ROUND_PREFIX + path, f"round_form{name}", view, **options)
        bp.add_url_rule(FUND_PREFIX + path, f"return_form{name}", view, **options)
        return view

    return register


def _owner(round_id: int | None, fund_id: int | None) -> Owner:
    if round_id is not None:
        round_ = queries.round_by_id(round_id) or abort(404)
        if round_.fund.direct:
            abort(404)  # a direct award's round has no application form
        return form_design.of_round(round_)
    fund = queries.fund(fund_id or 0) or abort(404)
    return form_design.of_fund(fund)


def _url(owner: Owner, name: str = "", **values: Any) -> str:
    ids: dict[str, Any] = {"round_id": owner.id} if owner.application else \
        {"fund_id": owner.id}
    prefix = "round_form" if owner.application else "return_form"
    return url_for(f"decisions.{prefix}{name}", **ids, **values)


def _expected(form: Any) -> Expected:
    version_id, revision = form.opened_at()
    return Expected(version_id, revision)


def _open(form: Any, design: Design) -> None:
    form.open_at(design.expected.version_id, design.expected.revision)


def _page(template: str, owner: Owner, design: Design, **context: Any) -> str:
    return render_template(f"decisions/forms/{template}", owner=owner, design=design,
                           url=lambda name="", **values: _url(owner, name, **values),
                           words=questions.words, types=questions.TYPES,
                           choices_marked=questions.choices_marked, **context)


def _back(owner: Owner) -> Any:
    return redirect(_url(owner))


def _refused(owner: Owner, refused: DomainError) -> Any:
    flash(refused.message, "error")
    return _back(owner)


# --- the form ---------------------------------------------------------------------------


def _condition_words(definition: questions.Definition, condition: dict[str, str] | None
                     ) -> Markup:
    """When a section or question is shown, in words for a page: the question's label and
    the answer marked ``lang="en"`` where English is shown to a Welsh reader (its
    ``striptags()`` for a select's option, which holds text only)."""
    if not condition:
        return Markup("")
    found = questions.condition_words(definition, condition)
    if found is None:
        return escape(_("Shown only when an answer that is no longer asked has a value"))
    return found.sentence(_("Shown only when “%(question)s” is “%(value)s”"), label="question")


@_routes("", "")
@requires(Action.MANAGE_GRANTS)
def form_page(round_id: int | None = None, fund_id: int | None = None):
    owner = _owner(round_id, fund_id)
    design = form_design.design(owner)
    move, publish = MoveForm(), PublishForm()
    _open(move, design)
    _open(publish, design)
    return _page("form.html", owner, design, move=move, publish=publish,
                 refusal=form_design.refusal(owner),
                 condition_words=lambda c: _condition_words(design.definition, c))


_MOVE = re.compile(r"^(section|question):([a-z][a-z0-9_]{0,39}):(up|down)$", re.ASCII)


@_routes("_move", "/move", methods=["POST"])
@requires(Action.MANAGE_GRANTS)
@one_shot
def move(round_id: int | None = None, fund_id: int | None = None):
    owner = _owner(round_id, fund_id)
    form = MoveForm()
    found = _MOVE.match(form.move.data or "")
    if not form.validate_on_submit() or found is None:
        flash(_("The form was changed: reload the page and try again"), "error")
        return _back(owner)
    what, key, direction = found.groups()
    service = form_design.move_section if what == "section" else form_design.move_question
    try:
        service(owner, _expected(form), key, direction, current_user)
    except DomainError as refused:
        return _refused(owner, refused)
    flash(_("Section moved up.") if what == "section" and direction == "up" else
          _("Section moved down.") if what == "section" else
          _("Question moved up.") if direction == "up" else _("Question moved down."),
          "success")
    return redirect(_url(owner) + f"#{what}-{key}")


@_routes("_publish", "/publish", methods=["POST"])
@requires(Action.MANAGE_GRANTS)
@one_shot
def publish(round_id: int | None = None, fund_id: int | None = None):
    owner = _owner(round_id, fund_id)
    form = PublishForm()
    if not form.validate_on_submit():
        flash(_("The form was changed: reload the page and try again"), "error")
        return _back(owner)
    try:
        version = form_design.publish(owner, _expected(form), current_user)
    except DomainError as refused:
        return _refused(owner, refused)
    flash(_("Version %(n)d of the form is published.", n=version.number), "success")
    return _back(owner)


# --- sections ---------------------------------------------------------------------------


def _condition_choices(definition: questions.Definition, before: int,
                       current: dict[str, str] | None, always: str) -> list[tuple[str, str]]:
    """``question=value`` for each answer of each question that may decide whether a
    later one is shown, among the first ``before`` questions of the form."""
    choices = [("", always)]
    for index, (_s, question) in enumerate(definition.questions()):
        if index >= before or not question.kind.condition_source:
            continue
        for value, text in questions.choices_of(question):
            choices.append((f"{question.key}={value}",
                            _("Only when “%(question)s” is “%(value)s”",
                              question=question.words("label") or question.key,
                              value=text)))
    chosen = condition_text(current)
    if chosen and chosen not in {value for value, _t in choices}:
        choices.append((chosen, _condition_words(definition, current).striptags()))
    return choices


def _position_of_section(definition: questions.Definition, key: str | None) -> int:
    """How many questions come before section ``key`` (all of them: a new section)."""
    count = 0
    for section in definition.sections:
        if section.key == key:
            return count
        count += len(section.questions)
    return count


def _section_details(form: SectionForm) -> form_design.SectionDetails:
    return form_design.SectionDetails(key=form.key.data or "", title=form.title.data or "",
                                      intro=form.intro.data or "",
                                      condition=condition_value(form.condition.data),
                                      title_cy=form.title_cy.data or "",
                                      intro_cy=form.intro_cy.data or "")


def _condition_targets(form: Any) -> dict[str, Any]:
    """A condition's problems (its question, its value) beside the one select."""
    return {"condition_question": form.condition, "condition_value": form.condition}


@_routes("_section_new", "/sections/new", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def new_section(round_id: int | None = None, fund_id: int | None = None):
    owner = _owner(round_id, fund_id)
    design = form_design.design(owner)
    form = SectionForm()
    form.condition.choices = _condition_choices(
        design.definition, _position_of_section(design.definition, None), None,
        _("Always"))
    if showing_saved():
        _open(form, design)
    if form.validate_on_submit():
        try:
            key = form_design.add_section(owner, _expected(form), _section_details(form),
                                          current_user)
        except DomainError as refused:
            show_refusal(form, refused, where=_condition_targets(form))
        else:
            flash(_("Section added. Now add its questions."), "success")
            return redirect(_url(owner) + f"#section-{key}")
    return _page("section.html", owner, design, form=form, section=None)


def _section_or_404(design: Design, key: str) -> questions.Section:
    return design.definition.section(key) or abort(404)


@_routes("_section", "/sections/<section_key>", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def edit_section(section_key: str, round_id: int | None = None, fund_id: int | None = None):
    owner = _owner(round_id, fund_id)
    design = form_design.design(owner)
    section = _section_or_404(design, section_key)
    form = SectionForm()
    form.condition.choices = _condition_choices(
        design.definition, _position_of_section(design.definition, section.key),
        section.condition, _("Always"))
    if showing_saved():
        _open(form, design)
        form.key.data = section.key
        form.title.data, form.intro.data = section.title, section.intro
        form.title_cy.data, form.intro_cy.data = section.title_cy, section.intro_cy
        form.condition.data = condition_text(section.condition)
    form.key.data = section.key  # it cannot change
    if form.validate_on_submit():
        try:
            form_design.edit_section(owner, _expected(form), section.key,
                                     _section_details(form), current_user)
        except DomainError as refused:
            show_refusal(form, refused, where=_condition_targets(form))
        else:
            flash(_("Section saved."), "success")
            return redirect(_url(owner) + f"#section-{section.key}")
    return _page("section.html", owner, design, form=form, section=section)


@_routes("_section_remove", "/sections/<section_key>/remove", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def remove_section(section_key: str, round_id: int | None = None,
                   fund_id: int | None = None):
    owner = _owner(round_id, fund_id)
    design = form_design.design(owner)
    section = _section_or_404(design, section_key)
    form = RemoveForm()
    if showing_saved():
        _open(form, design)
    if form.validate_on_submit():
        if form.confirm.data != "yes":
            return _back(owner)
        try:
            form_design.remove_section(owner, _expected(form), section.key, current_user)
        except DomainError as refused:
            show_refusal(form, refused, default="confirm")
        else:
            flash(_("Section “%(title)s” removed.", title=section.words("title")),
                  "success")
            return _back(owner)
    return _page("remove.html", owner, design, form=form,
                 thing=_("the section “%(title)s” and its questions",
                         title=section.words("title")))


# --- questions --------------------------------------------------------------------------


def _type_choices(owner: Owner, design: Design) -> list[tuple[str, str]]:
    return [(code, str(questions.TYPES[code].name))
            for code in form_design.addable_types(owner, design.definition)]


@_routes("_question_type", "/sections/<section_key>/questions/new")
@requires(Action.MANAGE_GRANTS)
def question_type(section_key: str, round_id: int | None = None, fund_id: int | None = None):
    owner = _owner(round_id, fund_id)
    design = form_design.design(owner)
    section = _section_or_404(design, section_key)
    chosen = "type" in request.args
    form = QuestionTypeForm(formdata=request.args if chosen else None)
    form.type.choices = _type_choices(owner, design)
    if chosen and form.validate():
        return redirect(_url(owner, "_question_new", section_key=section.key,
                             type_code=form.type.data))
    return _page("question_type.html", owner, design, form=form, section=section)


def _questions_before(definition: questions.Definition, section: questions.Section,
                      question: questions.Question | None) -> int:
    """How many questions come before ``question`` (a new one: after ``section``'s last)."""
    count = 0
    for each_section, each in definition.questions():
        if each is question:
            return count
        count += 1
        if question is None and each_section is section and \
                each is section.questions[-1]:
            return count
    return _position_of_section(definition, section.key) + len(section.questions)


def _prepare(form: QuestionForm, design: Design, section: questions.Section,
             question: questions.Question | None, kind: questions.QuestionType) -> None:
    before = _questions_before(design.definition, section, question)
    form.condition.choices = _condition_choices(
        design.definition, before, question.condition if question else None,
        _("Always"))
    numbers = [(q.key, q.words("label") or q.key)
               for index, (_s, q) in enumerate(design.definition.questions())
               if index < before and q.type == "whole_number"]
    form.at_least.choices = [("", _("No other question")), *numbers]
    if question is not None and question.at_least and \
            question.at_least not in {k for k, _t in numbers}:
        form.at_least.choices.append((question.at_least, question.at_least))
    if not kind.answers:
        form.label.label.text = _("Heading (optional)")
        form.label_cy.label.text = _("Heading in Welsh (optional)")
        form.hint.label.text = _("Guidance text")
        form.hint_cy.label.text = _("Guidance text in Welsh (optional)")
        form.hint.description = ""


def _load(form: QuestionForm, question: questions.Question) -> None:
    form.key.data, form.label.data, form.hint.data = question.key, question.label, \
        question.hint
    form.label_cy.data, form.hint_cy.data = question.label_cy, question.hint_cy
    form.required.data = "yes" if question.required else "no"
    form.error.data, form.error_cy.data = question.error, question.error_cy
    form.condition.data = condition_text(question.condition)
    form.limit.data, form.limit_unit.data = question.limit, question.limit_unit
    if question.type == "money":
        form.low_money.data, form.high_money.data = question.low, question.high
    else:
        form.low.data, form.high.data = question.low, question.high
    form.choices.data = "\n".join(text for _v, text in question.choice_pairs()) \
        if question.kind.choices else ""
    welsh = question.choice_welsh()
    form.choices_cy.data = "\n".join(welsh.get(c["value"], "") for c in question.choices) \
        if question.kind.choices and welsh else ""
    form.at_least.data = question.at_least or ""
    (form.statement_1.data, form.statement_1_cy.data), \
        (form.statement_2.data, form.statement_2_cy.data) = question.statement_pairs()
    form.end_label.data, form.end_hint.data = question.end_label, question.end_hint
    form.end_label_cy.data, form.end_hint_cy.data = question.end_label_cy, \
        question.end_hint_cy


def _details(form: QuestionForm, type_code: str) -> form_design.QuestionDetails:
    money = type_code == "money"
    return form_design.QuestionDetails(
        key=form.key.data or "", label=form.label.data or "", hint=form.hint.data or "",
        required=form.required.data != "no", error=form.error.data or "",
        condition=condition_value(form.condition.data),
        limit=form.limit.data, limit_unit=form.limit_unit.data or "characters",
        low=form.low_money.data if money else form.low.data,
        high=form.high_money.data if money else form.high.data,
        choices=form.choice_lines(), at_least=form.at_least.data or None,
        statements=[form.statement_1.data or "", form.statement_2.data or ""],
        end_label=form.end_label.data or "", end_hint=form.end_hint.data or "",
        label_cy=form.label_cy.data or "", hint_cy=form.hint_cy.data or "",
        error_cy=form.error_cy.data or "", choices_cy=form.choice_lines(welsh=True),
        statements_cy=[form.statement_1_cy.data or "", form.statement_2_cy.data or ""],
        end_label_cy=form.end_label_cy.data or "", end_hint_cy=form.end_hint_cy.data or "")


def _question_refusal(form: QuestionForm, refused: DomainError, type_code: str) -> None:
    where: dict[str, Any] = dict(_condition_targets(form), statements=form.statement_1)
    if type_code == "money":
        where.update(low=form.low_money, high=form.high_money)
    show_refusal(form, refused, where=where)


@_routes("_question_new", "/sections/<section_key>/questions/new/<type_code>",
         methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def new_question(section_key: str, type_code: str, round_id: int | None = None,
                 fund_id: int | None = None):
    owner = _owner(round_id, fund_id)
    design = form_design.design(owner)
    section = _section_or_404(design, section_key)
    if type_code not in form_design.addable_types(owner, design.definition):
        abort(404)
    kind = questions.TYPES[type_code]
    form = QuestionForm()
    _prepare(form, design, section, None, kind)
    if showing_saved():
        _open(form, design)
    if form.validate_on_submit():
        try:
            key = form_design.add_question(owner, _expected(form), section.key, type_code,
                                           _details(form, type_code), current_user)
        except DomainError as refused:
            _question_refusal(form, refused, type_code)
        else:
            flash(_("Question added."), "success")
            return redirect(_url(owner) + f"#question-{key}")
    return _page("question.html", owner, design, form=form, section=section, question=None,
                 kind=kind, type_code=type_code)


def _question_or_404(design: Design, key: str
                     ) -> tuple[questions.Section, questions.Question]:
    found = next(((s, q) for s, q in design.definition.questions() if q.key == key), None)
    return found or abort(404)


@_routes("_question", "/questions/<key>", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def edit_question(key: str, round_id: int | None = None, fund_id: int | None = None):
    owner = _owner(round_id, fund_id)
    design = form_design.design(owner)
    section, question = _question_or_404(design, key)
    form = QuestionForm()
    _prepare(form, design, section, question, question.kind)
    if showing_saved():
        _open(form, design)
        _load(form, question)
    form.key.data = question.key  # it cannot change
    if form.validate_on_submit():
        try:
            form_design.edit_question(owner, _expected(form), question.key,
                                      _details(form, question.type), current_user)
        except DomainError as refused:
            _question_refusal(form, refused, question.type)
        else:
            flash(_("Question saved."), "success")
            return redirect(_url(owner) + f"#question-{question.key}")
    return _page("question.html", owner, design, form=form, section=section,
                 question=question, kind=question.kind, type_code=question.type)


@_routes("_question_remove", "/questions/<key>/remove", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def remove_question(key: str, round_id: int | None = None, fund_id: int | None = None):
    owner = _owner(round_id, fund_id)
    design = form_design.design(owner)
    _section, question = _question_or_404(design, key)
    form = RemoveForm()
    if showing_saved():
        _open(form, design)
    if form.validate_on_submit():
        if form.confirm.data != "yes":
            return _back(owner)
        try:
            form_design.remove_question(owner, _expected(form), question.key, current_user)
        except DomainError as refused:
            show_refusal(form, refused, default="confirm")
        else:
            flash(_("Question removed."), "success")
            return _back(owner)
    return _page("remove.html", owner, design, form=form,
                 thing=_("the question “%(label)s”",
                         label=question.words("label") or question.key))


# --- copying ----------------------------------------------------------------------------


@_routes("_copy", "/copy", methods=["GET", "POST"])
@requires(Action.MANAGE_GRANTS)
def copy_form(round_id: int | None = None, fund_id: int | None = None):
    owner = _owner(round_id, fund_id)
    design = form_design.design(owner)
    form = CopyForm()
    sources = form_design.copy_sources(owner)
    form.source.choices = [("", _("Select a form")), *((source.id, source.name)
                                                       for source in sources)] \
        if sources else []
    if showing_saved():
        _open(form, design)
    if form.validate_on_submit():
        assert form.source.data is not None  # validated above
        try:
            form_design.copy_form(owner, _expected(form), form.source.data, current_user)
        except DomainError as refused:
            show_refusal(form, refused, default="source")
        else:
            flash(_("Form copied. Check it, and change what this one should ask."),
                  "success")
            return _back(owner)
    return _page("copy.html", owner, design, form=form)


# --- preview ----------------------------------------------------------------------------


@_routes("_preview", "/preview")
@requires(Action.MANAGE_GRANTS)
def preview(round_id: int | None = None, fund_id: int | None = None):
    owner = _owner(round_id, fund_id)
    design = form_design.design(owner)
    return _page("preview.html", owner, design,
                 condition_words=lambda c: _condition_words(design.definition, c))


@_routes("_preview_section", "/preview/<section_key>")
@requires(Action.MANAGE_GRANTS)
def preview_section(section_key: str, round_id: int | None = None,
                    fund_id: int | None = None):
    """A section as the applicant sees it (their page's form, built the same way), with
    nothing to send it to."""
    owner = _owner(round_id, fund_id)
    design = form_design.design(owner)
    section = _section_or_404(design, section_key)
    years = [(year, year_label(year)) for year in owner.round.financial_years] \
        if owner.round is not None else []
    form = section_form(section, years=years, completion=owner.application, formdata=None)
    return _page("preview_section.html", owner, design, section=section, form=form,
                 round=owner.round)
