"""The last English on Welsh pages (issue 16): GOV.UK Frontend's components say their own
words ("Important", "Warning", "Day", "Show") in the reader's language; English the OPCC typed,
shown inside a Welsh sentence or list, is marked ``lang="en"`` on its own element; the names of
the languages are each marked with their own language; the English inputs of the bilingual
forms are ``lang="en"`` as the Welsh ones are ``lang="cy"``.

The finder at the end renders every GOV.UK component the templates and the form widgets use,
with the least they need, in Welsh, and fails on any English default the package would write.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, NavigableString, Tag
from flask_babel import force_locale, gettext
from jinja2 import Environment, PackageLoader, PrefixLoader
from sqlalchemy import select

from portal import demo
from portal.db import session, utcnow
from portal.models import Fund, Organisation, Round
from tests import bidding
from tests.browser.english import english_words
from tests.helpers import signed_in
from tests.integration.test_awards_applicant import awarded, facts, officer_client, return_url
from tests.integration.test_form_design import fund_base

ROOT = Path(__file__).resolve().parents[2]
WELSH_OFFICER = "swyddog.hunts@example.org"
WELSH_MANAGER = "rheolwr@example.org"
ADMIN = "admin@example.org"


def soup(response: Any) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def language_of(node: Tag | NavigableString) -> str:
    """The lang of the nearest element above ``node`` that has one."""
    element = node if isinstance(node, Tag) else node.parent
    while element is not None and isinstance(element, Tag):
        if element.has_attr("lang"):
            return str(element["lang"])
        element = element.parent
    return ""


def unmarked_english(element: Tag) -> list[str]:
    """Text inside ``element`` with words only English has, not under ``lang="en"``."""
    found = []
    for node in element.find_all(string=True):
        text = " ".join(str(node).split())
        if text and english_words(text) and language_of(node) != "en":
            found.append(text)
    return found


def marked_english(element: Tag) -> list[str]:
    return [" ".join(e.get_text(" ").split()) for e in element.find_all(attrs={"lang": "en"})]


def in_welsh(client: Any) -> Any:
    assert client.submit("/account/language", {"language": "cy"}).status_code == 302
    return client


@pytest.fixture
def return_form(app) -> str:
    """The demo's return form of the Safer Communities Fund (English only, a question shown
    only by an earlier answer); the designer's address."""
    with app.test_request_context():
        demo.load_return_forms(utcnow())
        session.commit()
    return fund_base(app)


@pytest.fixture
def welsh_manager(app):
    return signed_in(app, WELSH_MANAGER)


# --- 1. GOV.UK components' own words --------------------------------------------------------


@pytest.mark.parametrize("page", ["/preview", "/preview/progress"])
def test_the_previews_banner_is_titled_in_welsh(app, return_form, welsh_manager, page):
    banner = soup(welsh_manager.get(return_form + page)).select_one(
        ".govuk-notification-banner__title")
    with app.test_request_context(), force_locale("cy"):
        assert banner.get_text(strip=True) == gettext("Important") != "Important"


def test_the_preview_in_english_keeps_the_english_title(app, return_form, client):
    client.sign_in("manager@example.org")
    banner = soup(client.get(return_form + "/preview")).select_one(
        ".govuk-notification-banner__title")
    assert banner.get_text(strip=True) == "Important"


# --- 2. English inside Welsh sentences -------------------------------------------------------


@pytest.mark.parametrize(("page", "english"), [
    ("/questions/visible_difference/remove", "Have residents seen a visible difference?"),
    ("/sections/progress/remove", "Progress in the period"),
])
def test_the_remove_pages_mark_the_english_title_in_their_welsh_heading(
        return_form, welsh_manager, page, english):
    shown = soup(welsh_manager.get(return_form + page))
    heading = shown.select_one("legend h1")
    assert marked_english(heading) == [english]
    assert unmarked_english(heading) == []
    assert "lang" not in str(shown.title)  # the page's title is text, nothing marked


def test_the_designer_marks_english_labels_and_conditions(return_form, welsh_manager):
    shown = soup(welsh_manager.get(return_form))
    row = shown.select_one("#question-difference_seen")
    assert "What have residents noticed?" in marked_english(row.select_one("dt"))
    value = row.select_one(".govuk-summary-list__value")
    assert "Have residents seen a visible difference?" in marked_english(value)
    assert unmarked_english(value) == []


def test_the_preview_marks_the_english_question_in_the_condition_hint(return_form, welsh_manager):
    shown = soup(welsh_manager.get(return_form + "/preview/progress"))
    hints = [hint for hint in shown.select(".govuk-hint")
             if "Have residents seen a visible difference?" in hint.get_text()]
    assert hints
    for hint in hints:
        assert "Have residents seen a visible difference?" in marked_english(hint)
        assert unmarked_english(hint) == []
        assert "&lt;span" not in str(hint)


def test_in_english_the_condition_hint_is_plain(return_form, client):
    client.sign_in("manager@example.org")
    shown = soup(client.get(return_form + "/preview/progress"))
    hint = next(hint for hint in shown.select(".govuk-hint")
                if "Have residents seen a visible difference?" in hint.get_text())
    assert " ".join(hint.get_text().split()).endswith(
        "Only if your answer to “Have residents seen a visible difference?” is “Yes”.")
    assert hint.find(attrs={"lang": True}) is None


# --- 3. the administrators' pages ------------------------------------------------------------


def test_the_users_table_names_organisations_and_roles_in_welsh(app):
    admin = in_welsh(signed_in(app, ADMIN))
    shown = soup(admin.get("/admin/"))
    with app.app_context():
        opcc = session.scalar(select(Organisation).where(Organisation.name_cy != "")
                              .where(Organisation.type == "opcc"))
        welsh_name = opcc.name_cy
    cells = [" ".join(td.get_text(" ").split()) for td in shown.select("tbody td")]
    assert welsh_name in cells
    assert "Cambridgeshire and Peterborough OPCC" not in " ".join(cells)
    with app.test_request_context(), force_locale("cy"):
        assert gettext("Administrator") in cells
    assert "admin" not in cells and "assessor" not in cells


@pytest.mark.parametrize("page", ["/admin/users/invite", "user"])
def test_the_organisation_options_are_welsh_and_english_ones_marked(app, page):
    with app.app_context():
        untranslated = session.scalar(select(Organisation).where(
            Organisation.name == "Safer Fenland Partnership"))
        untranslated.name_cy = ""
        session.commit()
        translated = {o.name_cy for o in session.scalars(select(Organisation))} - {""}
    admin = in_welsh(signed_in(app, ADMIN))
    if page == "user":
        page = "/admin/"
        page = soup(admin.get(page)).select_one("tbody a")["href"]
    options = soup(admin.get(page)).select("select#organisation option")
    names = [option.get_text(strip=True) for option in options if option.get("value")]
    assert translated <= set(names)
    assert names == sorted(names, key=str.casefold)
    [english] = [option for option in options if option.get("lang") == "en"]
    assert english.get_text(strip=True) == "Safer Fenland Partnership"


# --- 4. the languages' names and the bilingual forms' inputs --------------------------------


def _language_names_marked(element: Tag) -> None:
    assert [s.get_text() for s in element.find_all(attrs={"lang": "en"})] == ["English"]
    assert [s.get_text() for s in element.find_all(attrs={"lang": "cy"})] == ["Cymraeg"]


@pytest.mark.parametrize("welsh", [True, False])
def test_each_language_is_named_in_its_own_lang_on_the_page_and_in_the_footer(app, welsh):
    client = signed_in(app, WELSH_OFFICER if welsh else "officer.hunts@example.org")
    shown = soup(client.get("/account/language"))
    _language_names_marked(shown.select_one("main .govuk-radios"))
    link = shown.select_one('footer a[href="/account/language"]')
    _language_names_marked(link)
    assert "&lt;" not in str(link)


def test_the_invitations_language_choices_are_marked_too(app):
    admin = signed_in(app, ADMIN)
    shown = soup(admin.get("/admin/users/invite"))
    radios = shown.find("input", attrs={"name": "language"}).find_parent(class_="govuk-radios")
    _language_names_marked(radios)


def _lang_of_inputs(page: BeautifulSoup) -> dict[str, str]:
    return {str(field["name"]): str(field.get("lang", ""))
            for field in page.select("main input[type=text], main textarea")}


def test_the_bilingual_forms_english_inputs_are_marked_english(app, welsh_manager):
    with app.app_context():
        fund = session.scalar(select(Fund).where(Fund.code == "SCF"))
        round_id = session.scalar(select(Round.id).where(Round.fund_id == fund.id))
    fund_page = _lang_of_inputs(soup(welsh_manager.get(f"/manage/funds/{fund.id}/edit")))
    for name in ("name", "purpose", "terms"):
        assert (fund_page[name], fund_page[f"{name}_cy"]) == ("en", "cy")
    round_page = _lang_of_inputs(soup(welsh_manager.get(f"/manage/rounds/{round_id}/edit")))
    for name in ("name", "guidance"):
        assert (round_page[name], round_page[f"{name}_cy"]) == ("en", "cy")
    criteria = _lang_of_inputs(soup(welsh_manager.get(f"/manage/rounds/{round_id}/criteria/edit")))
    assert (criteria["rows-0-title"], criteria["rows-0-title_cy"]) == ("en", "cy")
    assert (criteria["rows-0-guidance"], criteria["rows-0-guidance_cy"]) == ("en", "cy")


def test_the_designers_english_inputs_are_marked_english(return_form, welsh_manager):
    section = _lang_of_inputs(soup(welsh_manager.get(return_form + "/sections/progress")))
    assert (section["title"], section["title_cy"], section["intro"]) == ("en", "cy", "en")
    question = _lang_of_inputs(soup(welsh_manager.get(
        return_form + "/questions/visible_difference")))
    assert (question["label"], question["label_cy"], question["hint"]) == ("en", "cy", "en")


# --- 5. the other pages ----------------------------------------------------------------------


def test_a_bid_without_a_title_is_captioned_with_the_welsh_fund_name(app):
    officer = signed_in(app, WELSH_OFFICER)
    bid_id = bidding.start(officer, app, "SCF")
    page = officer.get(f"/bids/{bid_id}")
    link = soup(page).select_one(f'a[href^="/bids/{bid_id}/sections/"]')
    caption = soup(officer.get(link["href"])).select_one(".govuk-caption-l")
    with app.app_context():
        welsh = session.scalar(select(Fund.name_cy).where(Fund.code == "SCF"))
    assert caption.get_text(strip=True) == welsh


def test_the_years_label_follows_the_name_shown(app, welsh_manager):
    from tests.integration.test_years_reports import label, make_three_years

    with app.app_context():
        first = session.scalar(select(Round).join(Fund).where(Fund.code == "PCF")).financial_year
    round_id = make_three_years(app, name=f"{label(first)} to {label(first + 2)} round")
    with app.app_context():
        session.get(Round, round_id).name_cy = "Cylch tair blynedd"
        session.commit()
    shown = soup(welsh_manager.get("/reports/"))
    table = shown.find("table", id=f"table-years-{round_id}")
    heading = table.find_previous("h3")
    assert "Cylch tair blynedd" in heading.get_text()
    assert re.search(r"\(.*" + re.escape(label(first)) + r".*\)", heading.get_text())


def test_an_english_section_intro_of_a_return_is_marked_for_a_welsh_reader(app, return_form):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    officer = in_welsh(officer_client(app))
    shown = soup(officer.get(return_url(award_id, return_id)))
    intro = "The fund asks every project for these, beside its spend and outcomes."
    [block] = [div for div in shown.find_all("div", attrs={"lang": "en"})
               if intro in div.get_text()]
    assert block.select("p.govuk-body")


# --- 6. the finder: every GOV.UK component used, in Welsh ------------------------------------

X = "Xyz"  # what the test gives; everything else a component writes is its own
# The least each component needs to write its own words; a component the templates start to
# use must be added here.
MINIMAL: dict[str, list[dict[str, Any]]] = {
    "button": [{"text": X}],
    "character-count": [{"name": "x", "label": {"text": X}, "maxlength": 10},
                        {"name": "x", "label": {"text": X}, "maxwords": 10}],
    "checkboxes": [{"name": "x", "items": [{"value": "x", "text": X}]}],
    "date-input": [{"id": "x", "namePrefix": "x"}],
    "details": [{"summaryText": X, "text": X}],
    "error-message": [{"text": X}],
    "error-summary": [{"titleText": X, "errorList": [{"text": X, "href": "#x"}]}],
    "file-upload": [{"name": "x", "label": {"text": X}}],
    "input": [{"name": "x", "label": {"text": X}}],
    "inset-text": [{"text": X}],
    "notification-banner": [{"text": X}, {"text": X, "type": "success"}],
    "panel": [{"titleText": X, "text": X}],
    "password-input": [{"name": "x", "label": {"text": X}}],
    "radios": [{"name": "x", "items": [{"value": "x", "text": X}]}],
    "select": [{"name": "x", "label": {"text": X}, "items": [{"value": "x", "text": X}]}],
    "summary-list": [{"rows": [{"key": {"text": X}, "value": {"text": X}, "actions": {
        "items": [{"href": "#x", "text": X}]}}]}],
    "table": [{"head": [{"text": X}], "rows": [[{"text": X}]]}],
    "textarea": [{"name": "x", "label": {"text": X}}],
    "warning-text": [{"text": X}],
}
IMPORTED = re.compile(r"govuk_frontend_jinja/components/([a-z-]+)/macro\.html")
READ = ("aria-label", "title", "alt", "placeholder")


def components_used() -> set[str]:
    """Every component a template of ours imports, and those the form widgets render."""
    import govuk_frontend_wtf

    found = set()
    ours = [path for path in (ROOT / "templates").rglob("*.html")
            if "govuk_frontend_jinja" not in path.parts]
    widgets = list((Path(govuk_frontend_wtf.__file__).parent / "templates").glob("*.html"))
    for path in ours + widgets:
        found |= set(IMPORTED.findall(path.read_text(encoding="utf-8")))
    return found


def macro_name(component: str) -> str:
    return "govuk" + "".join(part.capitalize() for part in component.split("-"))


def words_of(html: str) -> set[str]:
    """What a component says: its text and the names a screen reader reads, and the words its
    script is given (data-i18n attributes), "%{count}" in them made a number."""
    page = BeautifulSoup(html, "html.parser")
    said = {" ".join(node.split()) for node in page.find_all(string=True)}
    for element in page.find_all(True):
        for name, value in element.attrs.items():
            if name in READ or name.startswith("data-i18n"):
                said.add(" ".join(str(value).split()))
    return {text for text in said if re.search(r"[A-Za-z]{2}", text) and text != X}


def render(env: Environment, component: str, params: dict[str, Any]) -> str:
    template = env.from_string(
        f'{{% from "govuk_frontend_jinja/components/{component}/macro.html" import '
        f'{macro_name(component)} %}}{{{{ {macro_name(component)}(params) }}}}')
    return template.render(params=params)


def package_environment() -> Environment:
    """The package's own macros, none of ours: what GOV.UK Frontend writes by default."""
    env = Environment(loader=PrefixLoader({
        "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        autoescape=True, extensions=["jinja2.ext.i18n"])
    # (install_null_translations is added by the i18n extension.)
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    return env


def test_every_component_used_has_its_least_params_here():
    assert components_used() - set(MINIMAL) == set()
    assert {"notification-banner", "warning-text", "date-input"} <= components_used()


@pytest.mark.parametrize("component", sorted(MINIMAL))
def test_no_component_writes_its_english_default_to_a_welsh_reader(app, component):
    package = package_environment()
    for params in MINIMAL[component]:
        defaults = words_of(render(package, component, params))
        with app.test_request_context(), force_locale("cy"):
            shown = words_of(render(app.jinja_env, component, params))
        assert defaults & shown == set(), (component, params)


def test_the_finder_finds_the_package_defaults():
    package = package_environment()
    assert "Important" in words_of(render(package, "notification-banner", {"text": X}))
    assert {"Day", "Month", "Year"} <= words_of(render(package, "date-input", {"id": "x"}))
    assert "Warning" in words_of(render(package, "warning-text", {"text": X}))


def test_the_scripts_words_of_the_character_count_and_password_are_welsh(app):
    """What GOV.UK's scripts say as one types or shows a password is given to them in the
    reader's language (else the scripts say it in English)."""
    html = {}
    with app.test_request_context(), force_locale("cy"):
        html["password"] = render(app.jinja_env, "password-input",
                                  {"name": "x", "label": {"text": X}})
        from wtforms import StringField

        from forms.applicant import CountedTextArea
        from forms.base import PortalForm

        class Counted(PortalForm):
            class Meta:
                csrf = False

            text = StringField("Xyz", widget=CountedTextArea(10))

        html["count"] = str(Counted().text())
    keys = {name.split(".")[1] for name in re.findall(r"data-i18n\.[a-z.-]+", " ".join(
        html.values()))}
    assert {"show-password", "hide-password", "show-password-aria-label",
            "hide-password-aria-label", "password-shown-announcement",
            "password-hidden-announcement", "characters-under-limit", "characters-at-limit",
            "characters-over-limit"} <= keys
    english = {"Show", "Hide", "Show password", "Hide password", "Your password is visible",
               "Your password is hidden", "You have 0 characters remaining"}
    assert english.isdisjoint(words_of(" ".join(html.values())))
