"""A page of a list and the pagination it shows: which page links, where the gaps fall, and the
other query arguments kept. The markup itself is compared with GOV.UK Frontend's fixtures
(tests/unit/test_govuk_fixtures.py)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask_babel import Babel

from portal.pagination import Page, nav


@pytest.fixture
def plain_app():
    app = Flask(__name__)
    Babel(app)
    app.add_url_rule("/list", "listing", lambda: "")
    with app.test_request_context("/list"):
        yield app


def shown(params: dict) -> list[object]:
    """The items as read: page numbers, the current one starred, "…" for a gap."""
    return ["…" if item.get("ellipsis") else
            f"{item['number']}*" if item["current"] else item["number"]
            for item in params["items"]]


@pytest.mark.parametrize("number, total, items, previous, following", [
    (1, 30, ["1*", 2], False, True),
    (2, 60, [1, "2*", 3], True, True),
    (3, 75, [1, 2, "3*"], True, False),
    (5, 250, [1, "…", 4, "5*", 6, "…", 10], True, True),
    (10, 250, [1, "…", 9, "10*"], True, False),
    (1, 250, ["1*", 2, "…", 10], False, True),
])
def test_a_page_links_its_neighbours_and_both_ends(plain_app, number, total, items, previous,
                                                   following):
    params = Page(items=[], number=number, per_page=25, total=total).govuk_params(
        "listing", q="bikes")
    assert shown(params) == items
    assert ("previous" in params, "next" in params) == (previous, following)
    links = [a["href"] for a in BeautifulSoup(str(nav(params)), "html.parser").find_all("a")]
    assert links and all(link.startswith("/list?") and "q=bikes" in link for link in links)
    assert f"page={number - 1}" in links[0] if previous else f"page={number + 1}" in links[-1]


def test_a_single_page_has_no_pagination(plain_app):
    assert Page(items=[], number=1, per_page=25, total=25).govuk_params("listing") is None
    assert str(nav(None)) == ""
