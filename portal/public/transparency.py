"""The public register of awarded grants and the 360Giving open data.

The Specified Information Order asks a Commissioner to publish each crime and disorder
reduction grant: recipient, amount, purpose, conditions and why it was expected to reduce
crime and disorder. Anyone may read it, signed in or not. What counts as published is
decided in one place, :func:`portal.exports.giving360._published`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import Response, current_app, render_template, request, stream_with_context
from flask_babel import gettext as _

from portal.access import public
from portal.downloads import csv_file
from portal.exports import giving360
from portal.models.funds import year_label, years_label
from portal.pagination import page_number
from portal.public import bp
from portal.queries import public as queries

PER_PAGE = 20


@dataclass
class Filters:
    """The register's filters as asked for, what they mean, and what was wrong with them."""

    year: int | None = None
    fund: str | None = None
    asked: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _filters(years: list[int], fund_codes: set[str]) -> Filters:
    year_text = request.args.get("year", "").strip()
    fund_text = request.args.get("fund", "").strip()
    filters = Filters(asked={"year": year_text, "fund": fund_text})
    if year_text:
        if re.fullmatch(r"[0-9]{4}", year_text) and int(year_text) in years:
            filters.year = int(year_text)
        else:
            filters.errors["year"] = _("Select a financial year from the list")
    if fund_text:
        if fund_text in fund_codes:
            filters.fund = fund_text
        else:
            filters.errors["fund"] = _("Select a fund from the list")
    return filters


def _select_items(everything: str, choices: list[tuple[str, str]], chosen: str) -> list[dict]:
    """Items for govukSelect: "everything" first, the choice asked for selected."""
    known = chosen in {value for value, _text in choices}
    return [{"value": "", "text": everything, "selected": not known},
            *({"value": value, "text": text, "selected": value == chosen}
              for value, text in choices)]


@bp.route("/transparency")
@public
def transparency():
    years, funds = queries.register_choices()
    filters = _filters(years, {code for code, _name in funds})
    context = {
        "filters": filters, "page": None, "pagination": None, "years_label": years_label,
        "year_items": _select_items(_("All years"), [(str(y), year_label(y)) for y in years],
                                    filters.asked["year"]),
        "fund_items": _select_items(_("All funds"), funds, filters.asked["fund"]),
        "error_list": [{"text": message, "href": f"#{name}"}
                       for name, message in filters.errors.items()],
    }
    if filters.errors:
        return render_template("public/transparency.html", **context), 400
    page = queries.register(filters.year, filters.fund, page_number(), PER_PAGE)
    context.update(page=page, pagination=page.govuk_params(
        "public.transparency", year=filters.year, fund=filters.fund))
    return render_template("public/transparency.html", **context)


def _open_data(fmt: str) -> Response:
    pieces = giving360.export(fmt, current_app.config)
    if fmt == "csv":
        name = giving360.giving_prefix(current_app.config["OPEN_DATA_PREFIX"])
        return csv_file(iter(pieces), f"{name}.csv", private=False)
    return Response(stream_with_context(pieces), content_type=giving360.FORMATS[fmt])


@bp.route("/transparency/360giving.json")
@public
def giving360_json():
    return _open_data("json")


@bp.route("/transparency/360giving.csv")
@public
def giving360_csv():
    return _open_data("csv")
