"""Forms of the applicant journey: starting a bid, files, withdrawal, and the typed pieces a
section's form is built from (``forms.sections``): budget lines by year, outcome rows, the
character count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from babel import Locale
from flask_babel import get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (  # noqa: I001
    GovCharacterCount,
    GovFileInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    FormField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired

from forms.base import PortalForm, RowForm
from forms.fields import (
    MoneyField,
    OneShotForm,
    RequiredWhenCompleted,
    RowList,
    WholeNumberField,
    max_length,
    refresh_list_errors,
)

COST_KINDS = [("", _l("Choose")), ("capital", _l("Capital")), ("revenue", _l("Revenue"))]
BUDGET_ROWS = 8
OUTCOME_ROWS = 6


class StartBidForm(PortalForm):
    token = HiddenField()
    submit = SubmitField(_l("Start a bid"), widget=GovSubmitInput())


def _checks(limit: int, label: Any, required: Any) -> list[Any]:
    """A length limit always; required once completed, unless ``required`` is None."""
    checks: list[Any] = [max_length(limit, label)]
    if required is not None:
        checks.insert(0, RequiredWhenCompleted(required))
    return checks


def text_field(label: Any, limit: int, required: Any, hint: Any = None) -> StringField:
    return StringField(label, widget=GovTextInput(), description=hint,
                       validators=_checks(limit, label, required))


def _plural_samples(locale: str) -> dict[str, int]:
    """A number of each CLDR plural category of ``locale`` (Welsh has six: zero, one, two,
    few, many, other), as GOV.UK Frontend's scripts choose words by ``Intl.PluralRules``."""
    rule = Locale.parse(locale).plural_form
    samples: dict[str, int] = {}
    for n in range(0, 200):
        samples.setdefault(rule(n), n)
    return samples


def character_count_texts(words: bool = False) -> dict[str, Any]:
    """The words of GOV.UK's character count (govukCharacterCount's ``*Text`` options) in the
    reader's language: its script otherwise says "You have 12 characters remaining" in
    English. Each plural category gets the catalogue's form for a number of its own;
    ``%{count}`` is where GOV.UK's script puts the number."""
    samples = _plural_samples(str(get_locale() or "en_GB"))
    count = "%{count}"

    def each(words_for: Callable[[int], str]) -> dict[str, str]:
        return {category: words_for(n) for category, n in samples.items()}

    # Each message is written out in its ngettext call, so that the catalogue has it.
    if words:
        return {
            "textareaDescriptionText": gettext("You can enter up to %(count)s words", count=count),
            "wordsUnderLimitText": each(lambda n: ngettext(
                "You have %(count)s word remaining", "You have %(count)s words remaining", n,
                count=count)),
            "wordsAtLimitText": gettext("You have 0 words remaining"),
            "wordsOverLimitText": each(lambda n: ngettext(
                "You have %(count)s word too many", "You have %(count)s words too many", n,
                count=count)),
        }
    return {
        "textareaDescriptionText": gettext("You can enter up to %(count)s characters", count=count),
        "charactersUnderLimitText": each(lambda n: ngettext(
            "You have %(count)s character remaining", "You have %(count)s characters remaining",
            n, count=count)),
        "charactersAtLimitText": gettext("You have 0 characters remaining"),
        "charactersOverLimitText": each(lambda n: ngettext(
            "You have %(count)s character too many", "You have %(count)s characters too many",
            n, count=count)),
    }


class CountedTextArea(GovCharacterCount):
    """A GOV.UK character count whose limit is the field's own (no limit typed twice); with
    ``words``, a count of words (GOV.UK's ``maxwords``) instead of characters."""

    def __init__(self, limit: int, words: bool = False) -> None:
        super().__init__()
        self.limit = limit
        self.words = words

    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        params = super().map_gov_params(field, **kwargs)
        params.setdefault("maxwords" if self.words else "maxlength", self.limit)
        params.setdefault("rows", 5)
        for option, words in character_count_texts(self.words).items():
            params.setdefault(option, words)
        return params


def _long_text(label: Any, limit: int, required: Any, hint: Any = None) -> StringField:
    return StringField(label, widget=CountedTextArea(limit), description=hint,
                       validators=_checks(limit, label, required))


class OutcomeRow(RowForm):
    measure = StringField(_l("Measure"), widget=GovTextInput(),
                          description=_l("For example, cycle marking kits given out"),
                          validators=[max_length(200, _l("Measure"))])
    # At most 10,000,000 (the column is an INTEGER): "Target must be 10,000,000 or fewer".
    target = WholeNumberField(_l("Target"), high=10_000_000, grouped=True)
    how_measured = StringField(_l("How it will be measured"), widget=GovTextInput(),
                               validators=[max_length(500, _l("How it will be measured"))])

    def filled(self) -> bool:
        return bool((self.measure.data or "").strip() or self.target.data is not None
                    or self.target.number_error or (self.how_measured.data or "").strip())


def outcome_rows() -> RowList:
    return RowList(FormField(OutcomeRow), rows=OUTCOME_ROWS)


def check_outcomes(form: Any, completing: bool) -> bool:
    """The outcome rows of ``form`` (its ``rows``): a row begun is filled in full; at least
    one once completed. Messages beside the fields; False when any."""
    valid = True
    filled = 0
    for row in form.rows:
        if not row.form.filled():
            continue
        filled += 1
        for name, message in (("measure", _l("Enter the measure")),
                              ("target", _l("Enter the target as a whole number")),
                              ("how_measured", _l("Enter how it will be measured"))):
            field = row.form[name]
            if (field.data is None or field.data == "") and not field.errors:
                field.errors.append(str(message))
                valid = False
    if completing and filled == 0:
        form.rows[0].form.measure.errors.append(str(_l("Enter at least one outcome measure")))
        valid = False
    refresh_list_errors(form)
    return valid


def outcome_answers(form: Any) -> dict[str, Any]:
    return {"rows": [{"measure": (r.form.measure.data or "").strip(),
                      "target": r.form.target.data,
                      "how_measured": (r.form.how_measured.data or "").strip()}
                     for r in form.rows if r.form.filled()]}


def load_outcomes(form: Any, answers: dict[str, Any]) -> None:
    for row, saved in zip(form.rows, answers.get("rows") or []):
        if not isinstance(saved, dict):
            continue
        row.form.measure.data = saved.get("measure")
        row.form.target.data = saved.get("target")
        row.form.how_measured.data = saved.get("how_measured")


# The most financial years a round funds (``portal.services.bids.MULTI_YEAR_YEARS``; forms do
# not import services): a budget line has one amount box per year of its round.
BUDGET_YEARS = 3


class BudgetRow(RowForm):
    item = StringField(_l("Item"), widget=GovTextInput(),
                       validators=[max_length(200, _l("Item"))])
    kind = SelectField(_l("Capital or revenue"), widget=GovSelect(), choices=COST_KINDS,
                       validate_choice=False, default="")
    # A round of one year: the line's amount.
    amount = MoneyField(_l("Amount"), description=_l("In pounds"))
    # A round over several years (issue 14): the amount for each of its years, labelled with
    # the year (2023/24) by :func:`use_years`; the line's amount is their sum.
    year_0 = MoneyField(_l("Amount for the first year"), description=_l("In pounds"))
    year_1 = MoneyField(_l("Amount for the second year"), description=_l("In pounds"))
    year_2 = MoneyField(_l("Amount for the third year"), description=_l("In pounds"))

    #: How many year boxes the page shows (0: a round of one year, the ``amount`` box).
    year_count = 0

    def year_fields(self) -> list[MoneyField]:
        return [self[f"year_{index}"] for index in range(self.year_count)]

    def filled(self) -> bool:
        amounts = self.year_fields() if self.year_count else [self.amount]
        return bool((self.item.data or "").strip() or self.kind.data
                    or any(f.data is not None or f.money_error for f in amounts))

    def total(self) -> int | None:
        """The line's amount: the amount typed, or the sum of the years typed (None when
        none is)."""
        if not self.year_count:
            return self.amount.data
        typed = [f.data for f in self.year_fields() if f.data is not None]
        return sum(typed) if typed else None


def budget_fields() -> dict[str, Any]:
    """The budget's fields, by name: its lines, the match funding and where it comes from."""
    return {
        "rows": RowList(FormField(BudgetRow), rows=BUDGET_ROWS),
        "match_funding": MoneyField(_l("Match funding from others"),
                                    description=_l("In pounds. Leave blank if there is none.")),
        "match_funding_sources": _long_text(_l("Where the match funding comes from"), 500,
                                            None),
    }


def use_years(form: Any, years: list[tuple[int, str]]) -> None:
    """The round's financial years as (starting year, label: "2023/24"). Over more than
    one, each budget line has an amount box per year, labelled with it."""
    form.round_years = [year for year, _label in years]
    count = len(years) if len(years) > 1 else 0
    for row in form.rows:
        row.form.year_count = count
        if count:
            for field, (_year, label) in zip(row.form.year_fields(), years):
                field.label.text = label


def check_budget(form: Any, completing: bool) -> bool:
    """The budget lines of ``form``: a line begun has its item, kind and an amount above
    £0; at least one once completed; match funding says where it comes from. Messages
    beside the fields; False when any."""
    valid = True
    filled = 0
    for row in form.rows:
        if not row.form.filled():
            continue
        filled += 1
        checks = (("item", _l("Enter the item")),
                  ("kind", _l("Select capital or revenue")))
        for name, message in checks:
            field = row.form[name]
            if not field.errors and (field.data is None or field.data == ""):
                field.errors.append(str(message))
                valid = False
        kind = row.form.kind
        if kind.data and kind.data not in ("capital", "revenue") and not kind.errors:
            kind.errors.append(str(_l("Select capital or revenue")))
            valid = False
        amounts = row.form.year_fields() or [row.form.amount]
        if any(f.errors for f in amounts):
            valid = False
            continue
        first = amounts[0]
        total = row.form.total()
        if total is None:
            first.errors.append(str(_l("Enter the amount for at least one year")
                                    if row.form.year_count else _l("Enter the amount")))
            valid = False
        elif total == 0:
            first.errors.append(str(_l("The amounts must add up to more than £0")
                                    if row.form.year_count
                                    else _l("Amount must be more than £0")))
            valid = False
    if completing and filled == 0:
        form.rows[0].form.item.errors.append(str(_l("Enter at least one budget line")))
        valid = False
    if (form.match_funding.data or 0) > 0 and completing and not (
            form.match_funding_sources.data or "").strip():
        form.match_funding_sources.errors.append(
            str(_l("Enter where the match funding comes from")))
        valid = False
    refresh_list_errors(form)
    return valid


def _year_amounts(form: Any, row: BudgetRow) -> dict[str, int] | None:
    """A line's amounts by year as the answers keep them ({"2023": pence}), or None when
    the form does not know its round's years."""
    round_years = getattr(form, "round_years", [])
    if not round_years:
        return None
    if not row.year_count:
        return {str(round_years[0]): row.amount.data or 0}
    return {str(year): field.data for year, field in zip(round_years, row.year_fields())
            if field.data is not None}


def budget_answers(form: Any) -> dict[str, Any]:
    rows = []
    for r in form.rows:
        if not r.form.filled():
            continue
        row: dict[str, Any] = {"item": (r.form.item.data or "").strip(),
                               "kind": r.form.kind.data, "amount_pence": r.form.total()}
        years = _year_amounts(form, r.form)
        if years is not None:
            row["year_amounts"] = years
        rows.append(row)
    return {
        "rows": rows,
        "match_funding_pence": form.match_funding.data or 0,
        "match_funding_sources": (form.match_funding_sources.data or "").strip(),
    }


def load_budget(form: Any, answers: dict[str, Any]) -> None:
    round_years = getattr(form, "round_years", [])
    for row, saved in zip(form.rows, answers.get("rows") or []):
        if not isinstance(saved, dict):
            continue
        row.form.item.data = saved.get("item")
        row.form.kind.data = saved.get("kind")
        row.form.amount.data = saved.get("amount_pence")
        if row.form.year_count and round_years:
            years = saved.get("year_amounts") or {
                str(round_years[0]): saved.get("amount_pence")}
            for year, field in zip(round_years, row.form.year_fields()):
                field.data = years.get(str(year))
    form.match_funding.data = answers.get("match_funding_pence") or None
    form.match_funding_sources.data = answers.get("match_funding_sources", "")


def line_years(saved_row: dict[str, Any]) -> list[tuple[int, int]]:
    """A saved line's amounts per financial year, (starting year, pence), in order:
    what a read-only page shows beside its total for a round over several years."""
    years = saved_row.get("year_amounts") or {}
    return sorted((int(year), int(pence)) for year, pence in years.items()
                  if isinstance(year, str) and year.isascii() and year.isdigit()
                  and isinstance(pence, int))


class EvidenceForm(OneShotForm):
    file = FileField(_l("Upload a file"), widget=GovFileInput(),
                     description=_l("PDF, Word, Excel, CSV, PNG or JPEG."),
                     validators=[InputRequired(_l("Select a file"))])
    description = StringField(_l("What the file shows (optional)"), widget=GovTextInput(),
                              validators=[max_length(200, _l("Description"))])
    submit = SubmitField(_l("Upload file"), widget=GovSubmitInput(),
                         render_kw={"class": "govuk-button--secondary"})


class RemoveEvidenceForm(OneShotForm):
    """Remove one evidence file: the page shows one of these, with its own one-time token,
    for each file listed (a double click on one Remove removes it once; another file's
    Remove on the same page is another form)."""

    submit = SubmitField(_l("Remove"), widget=GovSubmitInput())


class SubmitBidForm(OneShotForm):
    submit = SubmitField(_l("Submit bid"), widget=GovSubmitInput())


class WithdrawForm(OneShotForm):
    reason = StringField(_l("Why are you withdrawing this bid?"), widget=GovTextArea(),
                         validators=[InputRequired(_l("Enter why you are withdrawing the bid")),
                                     max_length(1000, _l("Reason"))])
    submit = SubmitField(_l("Withdraw bid"), widget=GovSubmitInput())


class AnswerForm(OneShotForm):
    answer = StringField(_l("Your answer"), widget=CountedTextArea(3000),
                         validators=[InputRequired(_l("Enter your answer")),
                                     max_length(3000, _l("Your answer"))])
    submit = SubmitField(_l("Send answer"), widget=GovSubmitInput())


class BidSearchForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search by title or reference"), widget=GovTextInput(),
                    validators=[max_length(100, _l("Search"))])
    status = SelectField(_l("Status"), widget=GovSelect(), validate_choice=True, choices=[],
                         default="", invalid_choice_message=_l("Select a status from the list"))
