"""Dashboards and exports for grants managers, finance and partnerships.

The dashboards show the figures of ``portal.services.reporting`` as tables, each beside a
bar chart drawn here as inline SVG (no script, no style attribute: the Content Security
Policy allows neither). The exports stream: CSV row batches straight to the response; the
workbook into a temporary file (XlsxWriter in constant-memory mode), then sent from disk.
A workbook is a zip whose directory is written last, so it cannot be streamed as it is
made; a temporary file keeps memory flat instead, and disappears when the response closes.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from portal import bilingual
from portal.access import requires
from portal.downloads import csv_file, workbook_file
from portal.exports import answers
from portal.exports import plan_list as plan_list_files
from portal.exports.tables import TABLES, csv_chunks, write_workbook
from portal.formatting import money
from portal.models import Fund
from portal.queries.reports import as_read
from portal.reference import ISSUE_TYPES
from portal.reports import bp
from portal.services import plan_report, reporting
from portal.services.policy import Action


class BadFilter(Exception):
    """A filter value the reports do not know: answered with 400 and the reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@bp.errorhandler(BadFilter)
def bad_filter(error: BadFilter) -> tuple[str, int]:
    start = "reports.partnership" if request.endpoint == "reports.partnership" \
        else "reports.plan_list" if request.endpoint in PLAN_LIST_FILES \
        else "reports.dashboard"
    return render_template("reports/bad_filter.html", message=error.message,
                           back=url_for(start)), 400


# --- filters -----------------------------------------------------------------------------------


ALL_YEARS = "all"


@dataclass(frozen=True)
class Choice:
    year: int | None  # None: every financial year (exports only)
    fund: Fund | None
    filters: reporting.Filters

    def args(self, year: str | None = None) -> dict[str, str]:
        """The query arguments that give this choice again (for export links), perhaps for
        another ``year`` (``ALL_YEARS``: every one)."""
        args = {"year": year or str(self.year)}
        if self.fund is not None:
            args["fund"] = self.fund.code
        return args


def _choice(funds: list[Fund], organisation_id: int | None = None,
            every_year: bool = False, errors: dict[str, str] | None = None) -> Choice:
    """The financial year and fund asked for; ``every_year``: ``year=all`` may ask for all
    years at once (the exports). A value not understood raises ``BadFilter``, or, given
    ``errors`` (the dashboards' filter form), is noted there by field name ("year", "fund")
    and the default (this year, every fund) is used instead."""

    def refuse(name: str, message: str) -> None:
        if errors is None:
            raise BadFilter(message)
        errors[name] = message

    raw_year = request.args.get("year", "").strip()
    year: int | None
    if not raw_year:
        year = reporting.current_year()
    elif every_year and raw_year.lower() == ALL_YEARS:
        year = None
    elif re.fullmatch(r"[0-9]{4}", raw_year) and 2000 <= int(raw_year) <= 2100:
        year = int(raw_year)
    else:
        year = reporting.current_year()
        refuse("year", _("“%(value)s” is not a financial year. Select a financial year from "
                         "the list", value=raw_year[:20]) if errors is not None else
               _("“%(value)s” is not a financial year. Give the year it starts in, "
                 "for example %(example)d.", value=raw_year[:20],
                 example=reporting.current_year()))
    raw_fund = request.args.get("fund", "").strip()
    fund = None
    if raw_fund:
        fund = next((f for f in funds if f.code.lower() == raw_fund.lower()), None)
        if fund is None:
            refuse("fund", _("There is no fund with the code “%(value)s”. Select a fund from "
                             "the list", value=raw_fund[:20]) if errors is not None else
                   _("There is no fund with the code “%(value)s”.", value=raw_fund[:20]))
    return Choice(year, fund, reporting.Filters(year=year, fund_id=fund.id if fund else None,
                                                organisation_id=organisation_id))


def year_label(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


# --- charts ------------------------------------------------------------------------------------

# GOV.UK colours, each with at least 3:1 contrast on white, one per measure on every chart;
# every bar also says in words what it is.
BUDGET, COMMITTED, PAID, SPENT = "#505a5f", "#1d70b8", "#00703c", "#4c2c92"
WIDTH, PLOT, BAR, GAP, LABEL, LEGEND = 720, 420, 20, 4, 26, 32


@dataclass(frozen=True)
class Bar:
    y: int
    width: int
    fill: str
    text: str

    @property
    def text_x(self) -> int:
        return self.width + 6

    @property
    def text_y(self) -> int:
        return self.y + 15

    @property
    def height(self) -> int:
        return BAR


@dataclass(frozen=True)
class Group:
    label: str
    label_y: int
    bars: list[Bar]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    height: int
    legend: list[tuple[int, str, str]]  # (x, colour, name)
    groups: list[Group]
    width: int = WIDTH


def bar_chart(chart_id: str, title: str, description: str, series: list[tuple[str, str]],
              groups: list[tuple[str, list[int]]]) -> Chart | None:
    """Horizontal bars for ``groups`` of (label, one value in pence per series), where
    ``series`` is (name, colour); all drawn to one scale. None when there is nothing to draw."""
    if not groups:
        return None
    top = max([value for _label, values in groups for value in values] + [1])
    legend = [(index * 170, colour, name) for index, (name, colour) in enumerate(series)]
    y, drawn = LEGEND, []
    said = _("%(measure)s: %(amount)s")  # translated once: a chart may have hundreds of bars
    for label, values in groups:
        bars = [Bar(y=y + LABEL + index * (BAR + GAP), width=max(0, value) * PLOT // top,
                    fill=series[index][1],
                    text=said % {"measure": series[index][0], "amount": money(value)})
                for index, value in enumerate(values)]
        drawn.append(Group(label=label, label_y=y + 18, bars=bars))
        y += LABEL + len(values) * (BAR + GAP) + 14
    return Chart(chart_id, title, description, y, legend, drawn)


CHARTED = 20  # groups of bars a chart draws at most: the tables list every row


def _largest(rows: list[reporting.Row], size: Callable[[reporting.Row], int],
             description: str) -> tuple[list[reporting.Row], str]:
    """``rows`` to chart (the CHARTED largest by ``size``, in their order, when there are
    more) and the chart's description, which then says so."""
    if len(rows) <= CHARTED:
        return rows, description
    kept = {id(row) for row in sorted(rows, key=size, reverse=True)[:CHARTED]}
    note = _("Only the %(n)d largest of %(total)d are drawn; the table lists every one.",
             n=CHARTED, total=len(rows))
    return [row for row in rows if id(row) in kept], f"{description} {note}"


def _round_label(row: reporting.Row) -> str:
    label = f"{bilingual.text(row, 'key')}, {bilingual.text(row, 'detail')}"
    return f"{label} ({row.years})" if row.years else label


def _year_charts(board: reporting.Dashboard) -> dict[int, Chart | None]:
    """For each round over several years (and each direct fund's budget): its budget,
    committed, paid and spent in each financial year, the table beside it giving the same
    figures and the totals."""
    series = [(_("Budget"), BUDGET), (_("Committed"), COMMITTED), (_("Paid"), PAID),
              (_("Spent"), SPENT)]
    fields = ["budget_pence", "committed_pence", "paid_pence", "spent_pence"]
    return {table.round_id: bar_chart(
        f"chart-years-{table.round_id}",
        _("%(fund)s, %(round)s: money by financial year", fund=bilingual.text(table, "fund"),
          round=bilingual.text(table, "name")),
        _("Bar chart of the budget, committed, paid and spent in each financial year of "
          "%(years)s. The table that follows gives the same figures and the totals.",
          years=table.years_label),
        series, [(row.label, [getattr(row, name) for name in fields]) for row in table.rows])
        for table in board.years}


def _charts(board: reporting.Dashboard, year: int, issue_label: dict[str, str],
            partnership: bool,
            sections: list[tuple[plan_report.Section, reporting.Row]] | None = None
            ) -> dict[str, Chart | None]:
    shown_year = year_label(year)
    if partnership:
        series = [(_("Awarded"), COMMITTED), (_("Paid"), PAID), (_("Spent"), SPENT)]
        fields = ["committed_pence", "paid_pence", "spent_pence"]
    else:
        series = [(_("Budget"), BUDGET), (_("Committed"), COMMITTED), (_("Paid"), PAID),
                  (_("Spent"), SPENT)]
        fields = ["budget_pence", "committed_pence", "paid_pence", "spent_pence"]
    names = ", ".join(name for name, _colour in series).lower()
    rounds, rounds_description = _largest(
        board.rounds, lambda r: max(r.budget_pence, r.committed_pence),
        _("Bar chart of %(series)s for each round in %(year)s. The table that follows gives "
          "the same figures.", series=names, year=shown_year))
    charts = {
        "rounds": bar_chart(
            "chart-rounds", _("Money by fund and round, %(year)s", year=shown_year),
            rounds_description, series,
            [(_round_label(r), [getattr(r, name) for name in fields]) for r in rounds]),
        "issue_types": bar_chart(
            "chart-issue-types", _("Awarded by issue type, %(year)s", year=shown_year),
            _("Bar chart of the amount awarded and paid under each issue type in %(year)s. An "
              "award whose bid names several issue types counts under each. The table that "
              "follows gives the same figures.", year=shown_year),
            [(_("Awarded"), COMMITTED), (_("Paid"), PAID)],
            [(issue_label.get(r.key, r.key), [r.committed_pence, r.paid_pence])
             for r in board.issue_types]),
    }
    if not partnership:
        partnerships, partnerships_description = _largest(
            board.partnerships, lambda r: r.committed_pence,
            _("Bar chart of the amount committed and paid to each partnership in %(year)s. "
              "The table that follows gives the same figures.", year=shown_year))
        charts["partnerships"] = bar_chart(
            "chart-partnerships", _("Committed by partnership, %(year)s", year=shown_year),
            partnerships_description, [(_("Committed"), COMMITTED), (_("Paid"), PAID)],
            [(bilingual.text(r, "key"), [r.committed_pence, r.paid_pence])
             for r in partnerships])
        charts["sections"] = bar_chart(
            "chart-sections",
            _("Awarded by section of the Police and Crime Plan, %(year)s", year=shown_year),
            _("Bar chart of the amount awarded and paid under each section of the Police and "
              "Crime Plan in %(year)s. The table that follows gives the same figures.",
              year=shown_year),
            [(_("Awarded"), COMMITTED), (_("Paid"), PAID)],
            [(section.label(), [row.committed_pence, row.paid_pence])
             for section, row in sections or []])
    return charts


def _section_table(sections: list[tuple[plan_report.Section, reporting.Row]]
                   ) -> tuple[list[reporting.Row], dict[str, Markup]]:
    """The rows of the table beside the sections' chart (``group_table``), and each row's
    label by its key."""
    rows, labels = [], {}
    for number, (section, row) in enumerate(sections):
        key = f"section-{number}"
        rows.append(replace(row, key=key))
        labels[key] = section.marked()
    return rows, labels


# --- dashboards --------------------------------------------------------------------------------


def _dashboard(template: str, organisation_id: int | None,
               endpoint: str) -> tuple[str, int]:
    funds = reporting.funds()
    errors: dict[str, str] = {}
    choice = _choice(funds, organisation_id, errors=errors)
    shown = choice.year
    assert shown is not None  # only the exports may ask for every year at once
    board = reporting.dashboard(choice.filters)
    issue_label = {code: str(label) for code, label in ISSUE_TYPES}
    years = sorted(set(reporting.years()) | {shown}, reverse=True)
    # The grants team's view: the awards by section of the Police and Crime Plan (issue 18).
    sections = plan_report.section_rows(shown, board.by_section) \
        if organisation_id is None else []
    section_rows, section_labels = _section_table(sections)
    # A filter not understood: the figures for the default, the form with the error beside
    # its field and an error summary (issue 13), status 400.
    return render_template(
        template, board=board, choice=choice, funds=funds, endpoint=endpoint, exports=TABLES,
        all_years=ALL_YEARS, filter_errors=errors,
        years=[(year, year_label(year)) for year in years], year=year_label(shown),
        issue_label=issue_label,
        charts=_charts(board, shown, issue_label, organisation_id is not None, sections),
        year_charts=_year_charts(board), section_rows=section_rows,
        section_labels=section_labels), \
        400 if errors else 200


@bp.route("/")
@requires(Action.SEE_REPORTS)
def dashboard():
    return _dashboard("reports/dashboard.html", None, "reports.dashboard")


@bp.route("/partnership")
@requires(Action.SEE_OWN_FIGURES)
def partnership():
    return _dashboard("reports/partnership.html", current_user.organisation_id,
                      "reports.partnership")


# --- exports -----------------------------------------------------------------------------------


def _filename(choice: Choice, name: str, extension: str) -> str:
    fund = f"-{choice.fund.code}" if choice.fund is not None else ""
    year = "all-years" if choice.year is None else str(choice.year)
    return f"{name}-{year}{fund}.{extension}"


@bp.route("/export/<name>.csv")
@requires(Action.SEE_REPORTS)
def export_csv(name: str):
    table = TABLES.get(name)
    if table is None:
        raise BadFilter(_("There is no export called “%(value)s”. Choose one of: %(names)s.",
                          value=name[:30], names=", ".join(TABLES)))
    choice = _choice(reporting.funds(), every_year=True)
    table, rows = answers.export(name, choice.filters)  # the bids: with their answers
    chunks = as_read(csv_chunks(table, rows))
    filename = _filename(choice, name, "csv")
    return csv_file(chunks, filename)


@bp.route("/export/workbook.xlsx")
@requires(Action.SEE_REPORTS)
def export_workbook():
    choice = _choice(reporting.funds(), every_year=True)
    # Deleted when closed: Werkzeug closes it once the response has been sent.
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - closed by the response
    try:
        write_workbook(handle, (answers.export(name, choice.filters)
                                for name in reporting.EXPORTS))
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return workbook_file(handle, _filename(choice, "grants", "xlsx"))



# --- the board's list of grants by section of the Police and Crime Plan (issue 18) --------------

PLAN_LIST_FILES = ("reports.plan_list_csv", "reports.plan_list_workbook")


@bp.route("/plan-list")
@requires(Action.SEE_REPORTS)
def plan_list() -> tuple[str, int]:
    """Every grant of a financial year under the section of the Police and Crime Plan it is
    listed under, with the totals: a page for the board that prints on A4. A year or fund
    not understood: the default's list, the error beside its filter, status 400."""
    funds = reporting.funds()
    errors: dict[str, str] = {}
    choice = _choice(funds, errors=errors)
    shown = choice.year
    assert shown is not None  # only the dashboards' exports may ask for every year
    years = sorted(set(reporting.years()) | {shown}, reverse=True)
    return render_template(
        "reports/plan_list.html", found=plan_report.plan_list(choice.filters), choice=choice,
        funds=funds, endpoint="reports.plan_list", filter_errors=errors,
        years=[(year, year_label(year)) for year in years], year=year_label(shown)), \
        400 if errors else 200


@bp.route("/plan-list.csv")
@requires(Action.SEE_REPORTS)
def plan_list_csv():
    choice = _choice(reporting.funds())
    found = plan_report.plan_list(choice.filters)
    chunks = as_read(csv_chunks(plan_list_files.PLAN_LIST, plan_list_files.csv_rows(found)))
    return csv_file(chunks, _filename(choice, "grants-by-plan-section", "csv"))


@bp.route("/plan-list.xlsx")
@requires(Action.SEE_REPORTS)
def plan_list_workbook():
    choice = _choice(reporting.funds())
    assert choice.year is not None
    found = plan_report.plan_list(choice.filters)
    title = _("Grants awarded by section of the Police and Crime Plan, %(year)s",
              year=year_label(choice.year))
    if choice.fund is not None:
        title = f"{title}, {bilingual.text(choice.fund, 'name')}"
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - closed by the response
    try:
        plan_list_files.write_workbook(handle, found, title)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return workbook_file(handle, _filename(choice, "grants-by-plan-section", "xlsx"))
