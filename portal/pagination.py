"""Paginate a select in two queries (the page and the count), whatever the table size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from sqlalchemy import Select, func, select

from portal.db import session

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
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


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
