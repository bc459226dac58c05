"""The GOV.UK markup the portal writes in Python is what the installed GOV.UK Frontend writes.

GOV.UK Frontend ships, for each component, ``fixtures.json``: the options of each example and
the HTML its macro renders for them. Each helper is rendered with a fixture's options and the
two HTML trees are compared, whitespace and attribute order aside. A helper that supports
only some of the macro's options is tested on every fixture that uses only those (and the
selection must not be empty). The fixtures come from ``npm ci`` (package.json, the same
package the styles are built from); without them these tests fail rather than skip.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from flask import Flask
from markupsafe import Markup

from portal import create_app
from portal.formatting import footer, generic_header, service_navigation, skip_link, tag
from portal.pagination import nav

COMPONENTS = (Path(__file__).resolve().parents[2] / "node_modules" / "govuk-frontend" / "dist"
              / "govuk" / "components")

Options = Mapping[str, Any]


@cache
def fixtures(component: str) -> list[dict[str, Any]]:
    """Every fixture of ``component`` (name, options, html); fails if the package is absent."""
    path = COMPONENTS / component / "fixtures.json"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `npm ci` (GOV.UK Frontend's fixtures)",
                    pytrace=False)
    return json.loads(path.read_text(encoding="utf-8"))["fixtures"]


def chosen(component: str, supported: Callable[[Options], bool]) -> list[Any]:
    """Test parameters: the fixtures whose options ``supported`` accepts. When the package
    is missing, one parameter whose test fails saying so (collection must not fail first)."""
    if not (COMPONENTS / component / "fixtures.json").is_file():
        return [pytest.param(component, None, id=f"{component}-fixtures-missing")]
    return [pytest.param(component, fixture, id=f"{component}: {fixture['name']}")
            for fixture in fixtures(component) if supported(fixture["options"])]


def tree(html: str) -> str:
    """The elements of ``html``, one per line, indented by depth: attributes sorted, text
    with its whitespace collapsed and trimmed, whitespace-only text and comments left out."""
    lines: list[str] = []

    def walk(node: Tag, depth: int) -> None:
        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                text = " ".join(child.split())
                if text:
                    lines.append("  " * depth + repr(text))
            elif isinstance(child, Tag):
                attributes = " ".join(
                    f'{name}="{value if isinstance(value, str) else " ".join(value)}"'
                    for name, value in sorted(child.attrs.items()))
                lines.append("  " * depth + f"<{child.name} {attributes}>".replace(" >", ">"))
                walk(child, depth + 1)

    walk(BeautifulSoup(html, "html.parser"), 0)
    return "\n".join(lines)


def words(html: str) -> str:
    """The text of ``html`` as read, whitespace collapsed: where the tree comparison trims
    each text, this keeps the spaces that part words ("Next page", not "Nextpage")."""
    return " ".join(BeautifulSoup(html, "html.parser").get_text().split())


def same_html(written: object, expected: str) -> None:
    assert tree(str(written)) == tree(expected)
    assert words(str(written)) == words(expected)


def without(html: str, *selectors: str) -> str:
    """``html`` without the elements matching ``selectors`` (CSS)."""
    soup = BeautifulSoup(html, "html.parser")
    for selector in selectors:
        for element in soup.select(selector):
            element.decompose()
    return str(soup)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The portal in English (the fixtures' language); no helper here reads the database."""
    directory = tmp_path_factory.mktemp("fixtures")
    yield create_app({"TESTING": True, "SECRET_KEY": "test", "AUDIT_KEY": "test",
                      "DATABASE_URL": f"sqlite:///{directory / 'unused.db'}",
                      "SERVER_NAME": "portal.test"})


@pytest.fixture
def english(app: Flask) -> Iterator[None]:
    with app.test_request_context("/"):
        yield


def only(options: Options, keys: set[str]) -> bool:
    return isinstance(options, Mapping) and set(options) <= keys


def plain_attributes(options: Options) -> bool:
    """GOV.UK's attributes given as plain strings (not the ``{value, optional}`` form)."""
    return all(isinstance(value, str) for value in (options.get("attributes") or {}).values())


# --- pagination -----------------------------------------------------------------------------

def pagination_supported(options: Options) -> bool:
    """What :meth:`Page.govuk_params` gives: previous and next links (an href each) and
    numbered items (number, href, current) or ellipses; no custom text, labels or classes."""
    if not only(options, {"previous", "next", "items"}):
        return False
    if not all(only(options[key], {"href"}) for key in ("previous", "next") if key in options):
        return False
    for item in options.get("items", []):
        if not item or not isinstance(item, Mapping):
            return False
        if item.get("ellipsis"):
            if set(item) != {"ellipsis"}:
                return False
        elif not only(item, {"number", "href", "current"}) or not isinstance(item["number"],
                                                                               int):
            return False
    return True


def test_pagination_fixtures_are_chosen():
    names = {f["name"] for f in fixtures("pagination") if pagination_supported(f["options"])}
    assert {"default", "with many pages", "first page", "last page", "with next only",
            "with previous only", "with prev and next only"} <= names


@pytest.mark.parametrize("component, fixture", chosen("pagination", pagination_supported))
def test_pagination_is_written_as_govuk_frontend_writes_it(english, component, fixture):
    assert fixture is not None, fixtures(component)
    same_html(nav(fixture["options"]), fixture["html"])


# --- tag ------------------------------------------------------------------------------------

def tag_supported(options: Options) -> bool:
    return only(options, {"text", "html", "classes", "attributes"}) and plain_attributes(options)


def test_every_tag_fixture_is_supported():
    assert all(tag_supported(f["options"]) for f in fixtures("tag"))


@pytest.mark.parametrize("component, fixture", chosen("tag", tag_supported))
def test_a_tag_is_written_as_govuk_frontend_writes_it(component, fixture):
    assert fixture is not None, fixtures(component)
    options = fixture["options"]
    text = Markup(options["html"]) if options.get("html") else options["text"]
    written = tag(text, options.get("classes", ""), options.get("attributes"))
    same_html(written, fixture["html"])


# --- the page frame: skip link, header, service navigation, footer ------------------------

def skip_link_supported(options: Options) -> bool:
    return (only(options, {"text", "html", "href", "classes", "attributes"})
            and plain_attributes(options))


def generic_header_supported(options: Options) -> bool:
    return (only(options, {"logoText", "logoHtml", "url", "classes", "containerClasses",
                           "attributes"}) and plain_attributes(options))


def service_navigation_supported(options: Options) -> bool:
    """Everything but the end slot's inline alignment."""
    if not only(options, {"serviceName", "serviceUrl", "navigation",
                          "collapseNavigationOnMobile", "navigationLabel", "navigationId",
                          "navigationClasses", "menuButtonText", "menuButtonLabel", "ariaLabel",
                          "classes", "attributes", "slots"}) or not plain_attributes(options):
        return False
    if not all(isinstance(slot, str) for slot in (options.get("slots") or {}).values()):
        return False
    return all(not item or (only(item, {"href", "text", "html", "active", "current",
                                        "attributes"}) and plain_attributes(item))
               for item in options.get("navigation") or [])


def footer_supported(options: Options) -> bool:
    """The meta links and text; no footer navigation, licence text or copyright of its own
    (a licence of null is what the portal shows: none)."""
    if not only(options, {"meta", "contentLicence", "classes", "containerClasses",
                          "attributes"}) or not plain_attributes(options):
        return False
    if options.get("contentLicence", None) is not None:
        return False
    meta = options.get("meta")
    if meta is None:
        return True
    return (only(meta, {"items", "text", "html", "visuallyHiddenTitle"})
            and all(only(item, {"href", "text", "attributes"}) and plain_attributes(item)
                    for item in meta.get("items") or []))


def frame_options(options: Options) -> dict[str, Any]:
    """The fixture's options, their "html" values marked as markup as the macros' ``| safe``
    takes them (the helpers treat ``Markup`` as trusted, as in a template)."""
    return {key: Markup(value) if key in {"html", "logoHtml"} else value
            for key, value in options.items()}


FRAME: dict[str, tuple[Callable[[Options], Markup], Callable[[Options], bool]]] = {
    "skip-link": (skip_link, skip_link_supported),
    "generic-header": (generic_header, generic_header_supported),
    "service-navigation": (service_navigation, service_navigation_supported),
    "footer": (footer, footer_supported),
}

# What the portal's frame uses of each component, which the chosen fixtures must cover.
FRAME_USES = {
    "skip-link": {"default"},
    "generic-header": {"with image logo", "custom url"},
    "service-navigation": {"with service link", "with service name and navigation",
                           "with a single navigation item",
                           "with a single navigation item and collapseNavigationOnMobile set "
                           "to true", "with slotted content"},
    "footer": {"with only meta links", "with meta links and meta content",
               "with only custom meta"},
}


@pytest.mark.parametrize("component", FRAME)
def test_the_frame_fixtures_chosen_cover_what_the_portal_uses(component):
    supported = FRAME[component][1]
    names = {f["name"] for f in fixtures(component) if supported(f["options"])}
    assert names and FRAME_USES[component] <= names


@pytest.mark.parametrize("component, fixture",
                         [param for name, (_helper, supported) in FRAME.items()
                          for param in chosen(name, supported)])
def test_the_frame_is_written_as_govuk_frontend_writes_it(english, component, fixture):
    """The footer is compared without what only a GOV.UK service shows and the portal, not
    on GOV.UK, leaves out: the crown, the Open Government Licence (logo and words) and the
    Crown copyright link (its meta item). Everything else is compared as it is."""
    assert fixture is not None, fixtures(component)
    helper = FRAME[component][0]
    options = frame_options(fixture["options"])
    for key in ("navigation",):
        if options.get(key):
            options[key] = [frame_options(item) if isinstance(item, Mapping) else item
                            for item in options[key]]
    if isinstance(options.get("meta"), Mapping):
        options["meta"] = frame_options(options["meta"])
    expected = fixture["html"]
    if component == "footer":
        expected = without(expected, "svg.govuk-footer__crown", "svg.govuk-footer__licence-logo",
                           "span.govuk-footer__licence-description",
                           ".govuk-footer__meta-item:has(> .govuk-footer__copyright-logo)")
    same_html(helper(options), expected)
