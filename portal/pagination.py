"""Paginate a select in two queries (the page and the count), whatever the table size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Select, func, select

from portal.db import session
from portal.inputs import whole_number

PER_PAGE = 25


@dataclass
class Page:
    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.number - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.number * self.per_page)

    def govuk_params(self, endpoint: str, **args: Any) -> dict | None:
        """Parameters for the govukPagination macro, keeping the other query arguments."""
        if self.pages <= 1:
            return None

        def link(number: int) -> str:
            return url_for(endpoint, **{**args, "page": number})

        params: dict[str, Any] = {"items": []}
        if self.number > 1:
            params["previous"] = {"href": link(self.number - 1)}
        if self.number < self.pages:
            params["next"] = {"href": link(self.number + 1)}
        shown = sorted({1, self.pages, self.number - 1, self.number, self.number + 1})
        last = 0
        for number in shown:
            if number < 1 or number > self.pages:
                continue
            if number - last > 1:
                params["items"].append({"ellipsis": True})
            params["items"].append({"number": number, "href": link(number),
                                    "current": number == self.number})
            last = number
        return params


def page_number() -> int:
    """The ``?page=`` asked for: ASCII digits ("５" is no page number), else the first page."""
    return max(1, whole_number(request.args.get("page"), digits=9) or 1)


def paginate(statement: Select, number: int, per_page: int = PER_PAGE,
             rows: bool = False, count: Select | None = None) -> Page:
    """A page of ``statement``'s entities, or with ``rows``, of its rows (a select of the
    columns a list shows, which is cheaper than loading whole objects). ``count``: a cheaper
    statement giving the same total (without the joins that only fetch what is shown)."""
    if count is None:
        count = select(func.count()).select_from(statement.order_by(None).subquery())
    total = session.scalar(count)
    total = int(total or 0)
    pages = max(1, -(-total // per_page))
    number = min(number, pages)
    window = statement.limit(per_page).offset((number - 1) * per_page)
    items = (list(session.execute(window)) if rows
             else list(session.scalars(window).unique()))
    return Page(items=items, number=number, per_page=per_page, total=total)


_PREVIOUS_ARROW = Markup(
    '<svg class="govuk-pagination__icon govuk-pagination__icon--prev" '
    'xmlns="http://www.w3.org/2000/svg" height="13" width="15" aria-hidden="true" '
    'focusable="false" viewBox="0 0 15 13"><path d="m6.5938-0.0078125-6.7266 6.7266 6.7441 '
    '6.4062 1.377-1.449-4.1856-3.9768h12.896v-2h-12.984l4.2931-4.293-1.414-1.414z"></path>'
    '</svg>')
_NEXT_ARROW = Markup(
    '<svg class="govuk-pagination__icon govuk-pagination__icon--next" '
    'xmlns="http://www.w3.org/2000/svg" height="13" width="15" aria-hidden="true" '
    'focusable="false" viewBox="0 0 15 13"><path d="m8.107-0.0078125-1.4136 1.414 4.2926 '
    '4.293h-12.986v2h12.896l-4.1855 3.9766 1.377 1.4492 6.7441-6.4062-6.7246-6.7266z"></path>'
    '</svg>')


def _arrow_link(kind: str, href: str, title: Markup, block: bool) -> Markup:
    """The previous ("prev") or next link: the arrow goes before the title, except for "next"
    beside a list of pages, where it follows it; without a list the title is underlined."""
    arrow = _PREVIOUS_ARROW if kind == "prev" else _NEXT_ARROW
    title_class = ("govuk-pagination__link-title govuk-pagination__link-title--decorated"
                   if block else "govuk-pagination__link-title")
    before, after = (arrow, "") if block or kind == "prev" else ("", arrow)
    return Markup(
        '<div class="govuk-pagination__{0}"><a class="govuk-link govuk-pagination__link" '
        'href="{1}" rel="{0}">{2}<span class="{3}">{4}</span>{5}</a></div>').format(
        kind, href, before, title_class, title, after)


def _whole(words: str) -> Markup:
    """A link's words with the part only a screen reader hears ("Previous page"), one message
    so that a language may put the words in its own order (Welsh: "Tudalen flaenorol"). The
    catalogue is ours and its tags are checked against the English's by a test."""
    return Markup(words)


def nav(params: dict | None) -> Markup:
    """GOV.UK pagination, as the govukPagination macro of the installed GOV.UK Frontend writes
    it (a test compares it with the package's fixtures), in Python: the macro costs more than
    a page of rows. ``params`` are the macro's, as :meth:`Page.govuk_params` gives them:
    ``previous`` and ``next`` (each an ``href``) and ``items`` (``number``, ``href`` and
    ``current``, or ``ellipsis``); without items the links are shown as blocks."""
    if not params:
        return Markup("")
    previous, following, items = params.get("previous"), params.get("next"), params.get("items")
    block = not items and bool(previous or following)
    parts = [Markup('<nav class="govuk-pagination{}" aria-label="{}">').format(
        " govuk-pagination--block" if block else "", _("Pagination"))]
    if previous and previous.get("href"):
        parts.append(_arrow_link("prev", previous["href"], _whole(_(
            'Previous<span class="govuk-visually-hidden"> page</span>')), block))
    if items:
        parts.append(Markup('<ul class="govuk-pagination__list">'))
        for item in items:
            if item.get("ellipsis"):
                parts.append(Markup('<li class="govuk-pagination__item '
                                    'govuk-pagination__item--ellipsis">&ctdot;</li>'))
                continue
            current = item.get("current")
            parts.append(Markup(
                '<li class="govuk-pagination__item{}"><a class="govuk-link '
                'govuk-pagination__link" href="{}" aria-label="{}"{}>{}</a></li>').format(
                " govuk-pagination__item--current" if current else "", item["href"],
                _("Page %(number)d", number=item["number"]),
                Markup(' aria-current="page"') if current else "", item["number"]))
        parts.append(Markup("</ul>"))
    if following and following.get("href"):
        parts.append(_arrow_link("next", following["href"], _whole(_(
            'Next<span class="govuk-visually-hidden"> page</span>')), block))
    parts.append(Markup("</nav>"))
    return Markup("\n").join(parts)  # whitespace between the links, as the macro's lines give
