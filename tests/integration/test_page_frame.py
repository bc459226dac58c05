"""The page frame of base.html is GOV.UK Frontend's page template (template.njk) with its
components written by the helpers of portal/formatting.py, which tests/unit/
test_govuk_fixtures.py compares with GOV.UK Frontend's fixtures. Here: every page's skip
link, header and footer are those helpers' output for what the portal shows (so nothing in
base.html writes the components' markup by hand), inside the template's own elements."""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag
from markupsafe import Markup

from portal.formatting import footer, generic_header, service_navigation, skip_link
from tests.unit.test_govuk_fixtures import same_html


def frame(client, path: str) -> BeautifulSoup:
    response = client.get(path)
    assert response.status_code == 200
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def one(page: BeautifulSoup, selector: str) -> Tag:
    found = page.select(selector)
    assert len(found) == 1, (selector, len(found))
    return found[0]


def test_the_frame_of_a_public_page(app, client):
    page = frame(client, "/privacy")
    config = app.config
    with app.test_request_context("/privacy"):
        same_html(one(page, "body > a.govuk-skip-link"),
                  skip_link({"href": "#main-content", "text": "Skip to main content"}))
        logo = Markup('<span class="portal-header__name">{}</span>').format(
            config["ORGANISATION_SHORT_NAME"])
        header = one(page, "body > header.govuk-template__header")
        same_html(one(header, ":scope > .govuk-generic-header"),
                  generic_header({"url": "/", "logoHtml": logo}))
        same_html(one(header, ":scope > .govuk-service-navigation"),
                  service_navigation({"serviceName": config["SERVICE_NAME"], "serviceUrl": "/"}))
        same_html(one(page, "body > footer.govuk-template__footer > .govuk-footer"), footer({
            "meta": {"items": [
                {"href": "/transparency", "text": "Grants awarded"},
                {"href": "/accessibility", "text": "Accessibility statement"},
                {"href": "/privacy", "text": "Privacy"},
                {"href": "/cookies", "text": "Cookies"},
                {"href": "/account/language", "html": Markup(
                    'Language: <span lang="en">English</span> or <span lang="cy">Cymraeg</span>')}],
                "text": f"Run by the {config['ORGANISATION_NAME']}. "
                        f"Contact {config['SUPPORT_EMAIL']}."}}))
    assert one(page, "body > .govuk-width-container > main#main-content")  # the skip's target
    assert len(header.find_all(recursive=False)) == 2


def test_the_navigation_of_a_signed_in_page(app, client):
    client.sign_in("officer.fenland@example.org")
    page = frame(client, "/bids/")
    navigation = one(page, "header .govuk-service-navigation")
    entries = navigation.select("ul#navigation > li.govuk-service-navigation__item")
    assert [entry.get_text(" ", strip=True) for entry in entries] == [
        "Your bids", "Your figures", "Sign out"]
    sign_out = entries[-1]
    with app.test_request_context("/bids/"):
        same_html(navigation, service_navigation({
            "serviceName": app.config["SERVICE_NAME"], "serviceUrl": "/",
            "navigation": [{"href": "/bids/", "text": "Your bids", "active": True},
                           {"href": "/reports/partnership", "text": "Your figures"}],
            "slots": {"navigationEnd": Markup(str(sign_out))},
            "collapseNavigationOnMobile": True}))
    form = one(sign_out, "form[method=post]")
    assert form["action"] == "/sign-out" and form.select("input[name=csrf_token]")
    assert one(navigation, "button.govuk-service-navigation__toggle")["aria-controls"] == (
        "navigation")
