"""Every field of every form, found by walking ``forms``: text refuses hidden characters and
keeps what a person types; numbers, dates and ids are ASCII digits only; lists of rows keep
their places (issue 13: "Text" and "Numbers").

The forms are found, not listed: every ``PortalForm`` subclass in a module of ``forms``, and
the forms the factories build (a return, an assessment, a moderation). A new form or field
is covered without anyone remembering to add it here.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask_babel import Babel
from flask_login import LoginManager
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    FileField,
    FormField,
    HiddenField,
    PasswordField,
    SelectFieldBase,
    StringField,
    SubmitField,
)

import forms
from forms.awards import return_form
from forms.base import PortalForm
from forms.fields import (
    DayMonthYearField,
    EmailAddressField,
    MoneyField,
    RecordSelectField,
    RowList,
    WholeNumberField,
    parse_money,
)
from forms.review import assessment_form, moderation_form
from forms.sections import section_form
from forms.setup import TimeOfDayField, parse_time
from portal import questions, standard_forms
from portal.inputs import PortalRequest, email_address_problem, whole_number

# --- the forms, found --------------------------------------------------------------------

LINES = [SimpleNamespace(id=11, item="Bike lights"), SimpleNamespace(id=12, item="Mechanic")]
MEASURES = [SimpleNamespace(id=21, target=300)]
CRITERIA = [SimpleNamespace(id=31, title="Need", descriptors={}, scale_min=0, scale_max=4)]

FACTORIES: dict[str, Callable[[], Any]] = {
    "forms.awards.return_form": lambda: return_form(LINES, MEASURES),
    "forms.review.assessment_form": lambda: assessment_form(CRITERIA),
    "forms.review.moderation_form": lambda: moderation_form(CRITERIA),
}


def _unconditional(section: questions.Section) -> questions.Section:
    """A section with every question shown (a hidden question's field is ignored, never
    refused: here each field's own checks are tried)."""
    for question in section.questions:
        question.condition = None
    return section


# Issue 15: a section's form is built from its definition; the standard form's sections (the
# budget over three years) and one question of every simple type.
_STANDARD = questions.read(standard_forms.application(youth=True))
_EVERY_TYPE = questions.Section(key="every", title="Every type", questions=[
    questions.Question(key=f"q_{code}", type=code, label=f"Question {code}",
                       choices=[{"value": "a", "text": "A"}, {"value": "b", "text": "B"}])
    for code in questions.SIMPLE_TYPES])
_YEARS = [(2025, "2025/26"), (2026, "2026/27"), (2027, "2027/28")]

def _section_factory(section: questions.Section) -> Callable[[], Any]:
    return lambda: section_form(section, years=_YEARS)


for _section in [*_STANDARD.sections, _EVERY_TYPE]:
    FACTORIES[f"forms.sections.section_form:{_section.key}"] = _section_factory(
        _unconditional(_section))


def _form_classes() -> dict[str, type[PortalForm]]:
    found: dict[str, type[PortalForm]] = {}
    for module_info in pkgutil.iter_modules(forms.__path__, "forms."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, PortalForm) and \
                    value.__module__ == module.__name__ and name != "PortalForm":
                found[f"{module.__name__}.{name}"] = value
    return found


FORMS: dict[str, Callable[[], Any]] = {**{name: cls for name, cls in _form_classes().items()},
                                       **FACTORIES}


def _make_app() -> Flask:
    app = Flask(__name__)
    app.request_class = PortalRequest
    app.config.update(SECRET_KEY="test", WTF_CSRF_ENABLED=False)
    Babel(app)
    LoginManager(app).user_loader(lambda _id: None)
    return app


@pytest.fixture(scope="module")
def form_app() -> Flask:
    return _make_app()


def _leaves(fields: Any) -> Iterator[Field]:
    """Every field a browser posts, rows of lists included (``rows-3-item``)."""
    for field in fields:
        if isinstance(field, FieldList):
            for entry in field:
                yield from _leaves([entry])
        elif isinstance(field, FormField):
            yield from _leaves(field.form)
        else:
            yield field


def _bind(form_app: Flask, make: Callable[[], Any], data: MultiDict | None = None) -> Any:
    """The form as a POST of ``data`` makes it (a GET when there is none)."""
    method = "POST" if data is not None else "GET"
    with form_app.test_request_context(method=method, data=data):
        form = make()
        for field in _leaves(form):  # choices the view gives: none here
            if isinstance(field, SelectFieldBase) and field.choices is None:
                field.choices = []
        if data is not None:
            form.validate()
        return form


def _posted_fields(form_app: Flask, make: Callable[[], Any]) -> list[Field]:
    with form_app.test_request_context():
        form = make()
        return [f for f in _leaves(form)
                if not isinstance(f, SubmitField | FileField) and f.name != "csrf_token"]


def _every_field_posting(fields: list[Field], value: str) -> MultiDict:
    data: MultiDict = MultiDict()
    for field in fields:
        for _ in range(3 if isinstance(field, DayMonthYearField) else 1):
            data.add(field.name, value)
    return data


def _errors_of(form: Any) -> dict[str, list[str]]:
    return {f.name: [str(e) for e in f.errors] for f in _leaves(form)
            if not isinstance(f, FieldList | FormField)}


def test_the_walk_finds_the_forms() -> None:
    assert len(FORMS) > 30
    for expected in ("forms.sections.section_form:budget", "forms.auth.SignInForm",
                     "forms.admin.InviteUserForm", "forms.setup.CriteriaForm",
                     "forms.finance.PaymentForm", "forms.review.AuditSearchForm"):
        assert expected in FORMS


# --- text -------------------------------------------------------------------------------

HIDDEN = {"control character": "a\x01b", "escape": "a\x1b[31mb", "bidi override": "a\u202eb",
          "NUL": "a\x00b", "DEL": "a\x7fb", "C1 control": "a\x85b", "isolate": "a\u2066b",
          "zero-width space": "a\u200bb", "byte order mark": "\ufeffab",
          "line separator": "a\u2028b", "paragraph separator": "a\u2029b",
          "left-to-right mark": "a\u200eb", "right-to-left mark": "a\u200fb",
          "Arabic letter mark": "a\u061cb", "word joiner": "a\u2060b",
          "function application": "a\u2061b", "invisible times": "a\u2062b",
          "invisible separator": "a\u2063b", "invisible plus": "a\u2064b",
          "Mongolian vowel separator": "a\u180eb"}

# What a field no one types in says when it is sent a hidden character (or a checkbox
# anything but its own value): nothing about retyping text, and no checkbox sentence.
NOT_TYPED = {HiddenField: "The form was changed: reload the page and try again",
             BooleanField: "The form was changed: select this box again if it applies",
             SelectFieldBase: "Select one of the options shown for"}


def _not_typed_message(field: Field) -> str | None:
    return next((words for kind, words in NOT_TYPED.items() if isinstance(field, kind)), None)


@pytest.mark.parametrize("kind", list(HIDDEN))
@pytest.mark.parametrize("form_name", list(FORMS))
def test_every_field_of_every_form_refuses_hidden_characters(form_app: Flask, form_name: str,
                                                             kind: str) -> None:
    make = FORMS[form_name]
    fields = _posted_fields(form_app, make)
    form = _bind(form_app, make, _every_field_posting(fields, HIDDEN[kind]))
    errors = _errors_of(form)
    silent = sorted(f.name for f in fields if not errors.get(f.name))
    assert not silent, f"{form_name}: {kind} taken without an error in {silent}"
    for field in fields:
        message = " ".join(errors[field.name])
        not_typed = _not_typed_message(field)
        if not_typed:
            assert not_typed in message, (form_name, field.name, message)
            assert "retype" not in message and "control characters" not in message
        elif isinstance(field, StringField) and not isinstance(
                field, MoneyField | WholeNumberField | TimeOfDayField):
            assert any("hidden control characters" in e for e in errors[field.name]), (
                form_name, field.name, errors[field.name])
        assert "(optional)" not in message


def _words_fields(fields: list[Field]) -> list[Field]:
    """Fields that hold words as typed (not numbers, money, times, codes or secrets)."""
    return [f for f in fields if isinstance(f, StringField) and not isinstance(
        f, MoneyField | WholeNumberField | TimeOfDayField | HiddenField | PasswordField)
        and f.name not in ("code",)]


TYPED = "<b>Bold</b> & <script>x</script>\tone\r\nline two\n"


@pytest.mark.parametrize("form_name", list(FORMS))
def test_tab_newlines_and_markup_are_kept_as_typed(form_app: Flask, form_name: str) -> None:
    make = FORMS[form_name]
    fields = _posted_fields(form_app, make)
    data: MultiDict = MultiDict({f.name: TYPED for f in _words_fields(fields)})
    form = _bind(form_app, make, data)
    errors = _errors_of(form)
    for field in _words_fields(_leaves_of(form)):
        assert not any("hidden control" in e for e in errors[field.name]), (field.name, errors)
        if "email" not in field.name:  # an address is checked for its shape, not kept
            assert field.data in (TYPED, TYPED.strip()), (form_name, field.name, field.data)


def _leaves_of(form: Any) -> list[Field]:
    return [f for f in _leaves(form) if not isinstance(f, SubmitField | FileField)]


@pytest.mark.parametrize("form_name", list(FORMS))
def test_very_long_text_is_refused_beside_the_field(form_app: Flask, form_name: str) -> None:
    make = FORMS[form_name]
    fields = _posted_fields(form_app, make)
    long = "word " * 20_000
    form = _bind(form_app, make, MultiDict({f.name: long for f in _words_fields(fields)}))
    errors = _errors_of(form)
    unlimited = sorted(f.name for f in _words_fields(fields) if not errors.get(f.name)
                       and f.name != "confirm")  # "confirm" must equal the checked password
    assert not unlimited, f"{form_name}: 100,000 characters taken in {unlimited}"
    for name, messages in errors.items():
        assert "(optional)" not in " ".join(messages), (name, messages)
        # WTForms' own "Field cannot be longer than 254 characters." names no field.
        assert not any(m.startswith("Field ") for m in messages), (name, messages)


# --- numbers ----------------------------------------------------------------------------

NOT_NUMBERS = ["５０００", "٥٠٠٠", "1_000", "1e3", "0x10", "+5", "9" * 40, "5,00,0", "五",
               "１２", "1 2 3 4 5 6", "50 00", "1 2.3 4", "1,2 34", "1 7:00", "1 0"]


def _number_fields(form_app: Flask) -> list[tuple[str, str, str]]:
    """(form, field name, kind) of every field that parses a number, a date or an id."""
    found = []
    for form_name, make in FORMS.items():
        for field in _posted_fields(form_app, make):
            kind = ("money" if isinstance(field, MoneyField) else
                    "whole number" if isinstance(field, WholeNumberField) else
                    "date" if isinstance(field, DayMonthYearField) else
                    "time" if isinstance(field, TimeOfDayField) else
                    "record" if isinstance(field, RecordSelectField) else None)
            if kind:
                found.append((form_name, field.name, kind))
    return found


def test_the_walk_finds_every_kind_of_number(form_app: Flask) -> None:
    kinds = {kind for _f, _n, kind in _number_fields(form_app)}
    assert kinds == {"money", "whole number", "date", "time", "record"}


def _number_cases() -> list[Any]:
    form_app = _make_app()
    return [pytest.param(form_name, name, kind, id=f"{form_name}:{name}")
            for form_name, name, kind in _number_fields(form_app)]


@pytest.mark.parametrize(("form_name", "name", "kind"), _number_cases())
def test_every_number_date_and_id_field_takes_ascii_digits_only(form_app: Flask, form_name: str,
                                                                 name: str, kind: str) -> None:
    make = FORMS[form_name]
    for typed in NOT_NUMBERS:
        values = [typed, "1", "2027"] if kind == "date" else [typed]
        data = MultiDict([(name, v) for v in values])
        form = _bind(form_app, make, data)
        errors = _errors_of(form)[name]
        assert errors, f"{form_name}.{name} ({kind}) took {typed!r}"
        message = " ".join(errors)
        assert "Not a valid" not in message and "could not coerce" not in message
        assert "(optional)" not in message
    # And plain ASCII still works.
    field = next(f for f in _posted_fields(form_app, make) if f.name == name)
    values = (["1", "5", "2027"] if kind == "date" else ["10:30"] if kind == "time" else
              [str(getattr(field, 'low', 1))] if kind == "whole number" else ["1,250.50"]
              if kind == "money" else ["1"])
    form = _bind(form_app, make, MultiDict([(name, v) for v in values]))
    field = next(f for f in _leaves(form) if f.name == name)
    if kind != "record":  # (no choices here)
        assert field.data is not None and not field.process_errors, (name, field.errors)


@pytest.mark.parametrize(("typed", "pence"), [
    ("５０００", None), ("٥٠٠٠", None), ("1_000", None), ("1e3", None), ("0x10", None),
    ("+5", None), ("5,00,0", None), ("9" * 40, None), ("1,000", 100000), (" 5 ", 500),
    ("£5,000.50", 500050), ("5\u00a0000", None), ("５.00", None),
    # Spaces at either end and between "£" and the number only: inside the number they
    # were once taken out ("50 00" became £5,000.00).
    ("£ 5,000", 500000), (" £ 12.34 ", 1234), ("\t5\n", 500), ("50 00", None),
    ("1 2.3 4", None), ("1,2 34", None), ("1 000", None), ("12 .34", None), ("12. 34", None),
    ("£5 ,000", None), ("5 £", None), ("£ -5", None),
])
def test_money_is_ascii_digits_as_people_type_them(form_app: Flask, typed: str,
                                                   pence: int | None) -> None:
    with form_app.test_request_context():
        if pence is None:
            with pytest.raises(ValueError):  # noqa: PT011 - MoneyError, with its message
                parse_money(typed)
        else:
            assert parse_money(typed) == pence


@pytest.mark.parametrize(("typed", "grouped", "data", "message"), [
    ("12", False, 12, None), (" 12 ", False, 12, None), ("012", False, 12, None),
    ("1,000", True, 1000, None), ("1,000", False, None, "Count must be a whole number, like 12"),
    ("５", False, None, "whole number"), ("٥", False, None, "whole number"),
    ("1_000", False, None, "whole number"), ("+5", False, None, "whole number"),
    ("1e3", False, None, "whole number"), ("0x10", False, None, "whole number"),
    ("5,00,0", True, None, "whole number"), ("9" * 40, False, None, "Count must be 1,000 or fewer"),
    ("1001", False, None, "Count must be 1,000 or fewer"), ("-3", False, None, "Count must be 0 or more"),
])
def test_a_whole_number_field(form_app: Flask, typed: str, grouped: bool, data: int | None,
                              message: str | None) -> None:
    class Counted(PortalForm):
        count = WholeNumberField("Count (optional)", high=1000, grouped=grouped)

    form = _bind(form_app, Counted, MultiDict({"count": typed}))
    assert form.count.data == data
    if message:
        assert message in " ".join(form.count.errors), form.count.errors
    else:
        assert not form.count.errors


@pytest.mark.parametrize(("typed", "number"), [
    ("5", 5), (" 5 ", 5), ("５", None), ("٥", None), ("1_0", None), ("+5", None),
    ("9" * 40, None), ("", None), (None, None), ("1e3", None),
])
def test_whole_number_of_a_posted_value(typed: str | None, number: int | None) -> None:
    assert whole_number(typed, digits=3) == number


@pytest.mark.parametrize("parts", [["１", "5", "2027"], ["1", "5", "２０２７"], ["1_0", "5", "2027"],
                                   ["1", "5", "0999"], ["1", "5", "20270"], ["+1", "5", "2027"]])
def test_a_date_is_ascii_digits_only(form_app: Flask, parts: list[str]) -> None:
    class Dated(PortalForm):
        on = DayMonthYearField("Answer by (optional)")

    form = _bind(form_app, Dated, MultiDict([("on", p) for p in parts]))
    assert form.on.data is None
    assert form.on.errors == ["Answer by must be a real date"]


# --- choices ----------------------------------------------------------------------------


@pytest.mark.parametrize("form_name", list(FORMS))
def test_a_forged_choice_gets_a_message_naming_the_field(form_app: Flask, form_name: str) -> None:
    make = FORMS[form_name]
    fields = [f for f in _posted_fields(form_app, make)
              if isinstance(f, SelectFieldBase) and getattr(f, "validate_choice", False)]
    if not fields:
        return
    form = _bind(form_app, make, MultiDict({f.name: "forged-value" for f in fields}))
    errors = _errors_of(form)
    for field in fields:
        message = " ".join(errors[field.name])
        if not field.choices:  # choices set by the view: any value is refused
            assert message, field.name
        assert "Not a valid" not in message and "not a valid choice" not in message
        assert "forged-value" not in message and "could not coerce" not in message


def test_a_record_select_refuses_what_is_no_id(form_app: Flask) -> None:
    class Chosen(PortalForm):
        organisation = RecordSelectField("Organisation", message="Select an organisation "
                                                                 "from the list")

    for typed, error in (("７", True), ("1_0", True), ("9" * 40, True), ("3", True), ("2", False)):
        with form_app.test_request_context(method="POST", data={"organisation": typed}):
            form = Chosen()
            form.organisation.choices = [(1, "One"), (2, "Two")]
            form.validate()
        assert bool(form.organisation.errors) == error, (typed, form.organisation.errors)
        if error:
            assert form.organisation.errors == ["Select an organisation from the list"]


# --- lists of rows ----------------------------------------------------------------------


def _row_lists(form_app: Flask) -> list[Any]:
    found = []
    for form_name, make in FORMS.items():
        with form_app.test_request_context():
            form = make()
            found += [pytest.param(form_name, f.name, id=f"{form_name}:{f.name}")
                      for f in form if isinstance(f, FieldList)]
    return found


def test_every_list_of_rows_is_a_row_list(form_app: Flask) -> None:
    lists = _row_lists(form_app)
    assert len(lists) >= 4
    for param in lists:
        form_name, name = param.values
        with form_app.test_request_context():
            assert isinstance(FORMS[form_name]()[name], RowList), (form_name, name)


@pytest.mark.parametrize("form_name", [n for n in FORMS if n in (
    "forms.sections.section_form:budget", "forms.sections.section_form:outcomes",
    "forms.setup.CriteriaForm")])
def test_a_post_missing_the_first_row_keeps_every_row_in_its_place(form_app: Flask,
                                                                  form_name: str) -> None:
    make = FORMS[form_name]
    with form_app.test_request_context():
        blank = make()
        lists = [f for f in blank if isinstance(f, FieldList)]
        sizes = {f.name: len(f.entries) for f in lists}
    for row_list in lists:
        # Rows 1 and 2 posted, row 0 and the rest left out (a forged or a trimmed post).
        text_fields = [f.short_name for f in _leaves([row_list.entries[1]])
                       if isinstance(f, StringField) and not isinstance(
                           f, MoneyField | WholeNumberField)]
        data = MultiDict()
        for index in (1, 2):
            for short in text_fields:
                data.add(f"{row_list.name}-{index}-{short}", f"row {index}")
        data.add(f"{row_list.name}-99-{text_fields[0]}", "beyond the list")
        form = _bind(form_app, make, data)
        rows = form[row_list.name]
        assert [entry.name for entry in rows] == [
            f"{row_list.name}-{i}" for i in range(sizes[row_list.name])]
        first = rows[0].form[text_fields[0]].data
        assert not first, f"{form_name}: row 0 was given {first!r}"
        for index in (1, 2):
            assert rows[index].form[text_fields[0]].data == f"row {index}"
        assert not any("beyond" in str(e.form[text_fields[0]].data or "") for e in rows)


def test_a_checkbox_is_checked_too(form_app: Flask) -> None:
    class Agreed(PortalForm):
        agree = BooleanField("I agree")

    form = _bind(form_app, Agreed, MultiDict({"agree": "y\u202e"}))
    assert form.agree.errors


@pytest.mark.parametrize(("typed", "hour", "minute"), [
    ("17:00", 17, 0), (" 17:00 ", 17, 0), ("9.30am", 9, 30), ("5 pm", 17, 0), ("5pm", 17, 0),
    ("1 7:00", None, None), ("17 :00", None, None), ("17: 00", None, None),
    ("1 7", None, None), ("9:3 0", None, None), ("１７:００", None, None),
])
def test_a_time_has_no_spaces_inside_its_number(typed: str, hour: int | None,
                                                minute: int | None) -> None:
    if hour is None:
        with pytest.raises(ValueError):  # noqa: PT011 - any refusal
            parse_time(typed)
    else:
        assert (parse_time(typed).hour, parse_time(typed).minute) == (hour, minute)


# --- email addresses --------------------------------------------------------------------


def _email_fields(form_app: Flask) -> list[Any]:
    """(form, field name) of every field holding an email address, found by its name."""
    return [pytest.param(form_name, field.name, id=f"{form_name}:{field.name}")
            for form_name, make in FORMS.items()
            for field in _posted_fields(form_app, make) if "email" in field.name]


def test_the_walk_finds_every_email_field(form_app: Flask) -> None:
    found = {param.values[0] for param in _email_fields(form_app)}
    assert {"forms.auth.SignInForm", "forms.auth.ResetRequestForm",
            "forms.admin.InviteUserForm"} <= found


LOOKALIKES = ["\uff4danager@example.org",  # full-width m
              "m\u0430nager@example.org",  # Cyrillic a
              "\u212aate@example.org",  # Kelvin sign, which str.lower() folds into k
              "jos\u00e9@example.org", "name@ex\u00e4mple.org", "\u540d@example.org"]


@pytest.mark.parametrize(("form_name", "name"), _email_fields(_make_app()))
def test_every_email_field_refuses_non_ascii_and_trims_spaces(form_app: Flask, form_name: str,
                                                              name: str) -> None:
    make = FORMS[form_name]
    field = next(f for f in _posted_fields(form_app, make) if f.name == name)
    assert isinstance(field, EmailAddressField), f"{form_name}.{name} is not an EmailAddressField"
    for typed in LOOKALIKES:
        form = _bind(form_app, make, MultiDict({name: typed}))
        errors = _errors_of(form)[name]
        assert errors == [email_address_problem(typed)], (typed, errors)
        assert "letters a to z" in errors[0]
    for typed in (" manager@example.org", "manager@example.org  ", "\tmanager@example.org\n"):
        form = _bind(form_app, make, MultiDict({name: typed}))
        assert form[name].data == "manager@example.org"
        assert not _errors_of(form)[name], (typed, _errors_of(form)[name])


# --- checkboxes -------------------------------------------------------------------------


def _checkboxes(form_app: Flask) -> list[Any]:
    return [pytest.param(form_name, field.name, id=f"{form_name}:{field.name}")
            for form_name, make in FORMS.items()
            for field in _posted_fields(form_app, make) if isinstance(field, BooleanField)]


def test_the_walk_finds_the_checkboxes(form_app: Flask) -> None:
    found = {param.values[1] for param in _checkboxes(form_app)}
    assert {"confirm", "is_youth", "active", "accurate"} <= found


@pytest.mark.parametrize(("form_name", "name"), _checkboxes(_make_app()))
def test_every_checkbox_takes_only_its_own_value(form_app: Flask, form_name: str,
                                                 name: str) -> None:
    """WTForms takes any value but "false" and "" as a selected box: ``confirm=n`` accepted
    an offer, ``is_youth=maybe`` made a youth fund."""
    make = FORMS[form_name]
    for posted in ("n", "no", "maybe", "false", "0", "off", "on", "true", "1", "yes", "Y",
                   " y", "y\u200b"):
        form = _bind(form_app, make, MultiDict({name: posted}))
        assert _errors_of(form)[name] == [NOT_TYPED[BooleanField]], (posted, form[name].errors)
        assert form[name].data is False
        assert form[name]._value() == "y"  # shown again with its own value, not selected
    selected = _bind(form_app, make, MultiDict({name: "y"}))
    assert selected[name].data is True and not _errors_of(selected)[name]
    for unselected in (MultiDict({name: ""}), MultiDict({"other": "y"})):
        form = _bind(form_app, make, unselected)
        assert form[name].data is False and not _errors_of(form)[name]


# --- codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "code"), [
    ("scf", "SCF"), (" Scf2 ", "SCF2"), ("stra\u00dfe", None), ("\u0131d", None),
    ("\uff33\uff23\uff26", None), ("\ufb00", None),  # full-width SCF; the "ff" ligature
])
def test_a_fund_code_is_checked_as_ascii_before_it_is_put_in_capitals(
        form_app: Flask, typed: str, code: str | None) -> None:
    """``str.upper`` makes "straße" "STRASSE", "ıd" "ID" and "ﬀ" "FF"."""
    form = _bind(form_app, FORMS["forms.setup.FundForm"], MultiDict({"code": typed}))
    if code is None:
        assert form.code.errors == [
            "Short code must be 2 to 10 capital letters or numbers, like SCF"], form.code.errors
        assert form.code.data == typed.strip()
    else:
        assert form.code.data == code and not form.code.errors


@pytest.mark.parametrize("form_name", list(FORMS))
def test_a_button_is_not_taken_for_a_checkbox(form_app: Flask, form_name: str) -> None:
    """A SubmitField is a BooleanField in WTForms: a button sends its own words (or anything a
    test client sends), and is never refused as a checkbox."""
    make = FORMS[form_name]
    with form_app.test_request_context():
        buttons = [f.name for f in _leaves(make()) if isinstance(f, SubmitField)]
    for words in ("x", "Save", "y"):
        form = _bind(form_app, make, MultiDict({name: words for name in buttons}))
        errors = _errors_of(form)
        assert not any(errors[name] for name in buttons), (form_name, words, errors)
