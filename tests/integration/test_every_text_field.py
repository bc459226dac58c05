"""Every text field of every form, through the pages (issue 13, "Text").

The forms are found as ``test_every_form_saves_twice`` finds them: every saving form's page
(SAVING_FORMS), plus the pages that make records or sign in (a representative set of the
one-shot and creating forms, which the unit test ``tests/unit/test_form_fields.py`` covers
class by class). On each, every text box and text area is given text with a hidden
character (a control character, an escape, a right-to-left override, NUL): the page answers
with the error beside each field and linked from the error summary, no table's row count
changes and the page then shows what it showed before. Text as people type it, with tabs,
new lines and markup, is saved and shown back exactly, escaped.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask

from tests.helpers import table_row_counts
from tests.integration.test_every_form_saves_twice import (
    ADMIN,
    CASES,
    MANAGER,
    SAVING_FORMS,
    Target,
    parse_form,
    round_page,
    shown,
)

HIDDEN = {"control": "Bike \x01lights", "escape": "Bike \x1b[2Jlights",
          "bidi": "Bike \u202elights", "NUL": "Bike \x00lights",
          # Invisible: a zero-width space and a byte order mark; a line separator. (Every
          # other one of portal.inputs.unusable_characters is fed to every form class by
          # tests/unit/test_form_fields.py.)
          "invisible": "Bike\u200b \ufefflights", "separator": "Bike\u2028lights"}
TYPED = "<b>Bold</b> & <i>x</i>\tand\r\na second line"

# Pages that create something or sign in: (endpoint, who signs in, page).
CREATING: list[tuple[str, str | None, Any]] = [
    ("auth.sign_in", None, lambda app: "/sign-in"),
    ("auth.request_reset", None, lambda app: "/reset-password"),
    ("admin.invite", ADMIN, lambda app: "/admin/users/invite"),
    ("decisions.new_fund", MANAGER, lambda app: "/manage/funds/new"),
    ("decisions.edit_criteria", MANAGER, round_page("criteria/edit")),
]


def _posts_to(app: Flask, endpoint: str):  # type: ignore[no-untyped-def]
    adapter = app.url_map.bind("portal.test")

    def wanted(action: str) -> bool:
        try:
            return adapter.match(action.split("?")[0], method="POST")[0] == endpoint
        except Exception:  # noqa: BLE001 - another endpoint, or none
            return False

    return wanted


def open_form(app: Flask, client: Any, endpoint: str, target: Target) -> tuple[str, Any, str, Any]:
    """Sign in as the target's user and read the page's form posting to ``endpoint``:
    (page URL, the action matcher, the page's HTML, the form as a browser would send it)."""
    url = target.page(app)
    if target.user:
        client.sign_in(target.user)
    wanted = _posts_to(app, endpoint)
    page = client.get(url)
    assert page.status_code == 200, url
    html = page.get_data(as_text=True)
    return url, wanted, html, parse_form(html, wanted, url)


def _text_names(form: Any, page: BeautifulSoup) -> list[str]:
    """Text boxes and areas holding words (not money, numbers, dates or codes)."""
    names = []
    for name, kind in form.kinds.items():
        if kind not in ("text", "textarea"):
            continue
        control = page.find(attrs={"name": name})
        if control is None or control.get("inputmode") == "numeric" or name in ("code",):
            continue
        if control.find_parent(attrs={"data-condition-question": True}) is not None:
            # A question shown only by another answer (issue 15): hidden by the answers
            # posted, its text is ignored, neither refused nor kept.
            continue
        names.append(name)
    return names


def _error_beside(page: BeautifulSoup, name: str) -> str:
    control = page.find(attrs={"name": name})
    assert control is not None, name
    field_id = control.get("id")
    message = page.find(id=f"{field_id}-error")
    assert message is not None, f"no error beside {name} (#{field_id}-error)"
    summary = page.select_one(".govuk-error-summary")
    assert summary is not None and summary.find("a", href=f"#{field_id}") is not None, (
        f"the error summary does not link to #{field_id}")
    return message.get_text(" ", strip=True)


# Saving forms with no text box to type in: their choices and hidden fields are checked
# class by class in tests/unit/test_form_fields.py (the evidence page's text is the upload's
# description, checked below with a file).
NO_TEXT = {"auth.language", "admin.edit_user", "applicant.remove_evidence",
           "applicant.plan_sections", "decisions.award_plan_section"}

CASES_TEXT = [case for case in CASES if case.values[0] not in NO_TEXT] + [
    pytest.param(endpoint, Target(user or "", page), id=endpoint)
    for endpoint, user, page in CREATING]


@pytest.mark.parametrize("kind", list(HIDDEN))
@pytest.mark.parametrize(("endpoint", "target"), CASES_TEXT)
def test_hidden_characters_are_refused_beside_every_text_field(
        app: Flask, client: Any, endpoint: str, target: Target, kind: str) -> None:
    url, wanted, html, form = open_form(app, client, endpoint, target)
    names = _text_names(form, BeautifulSoup(html, "html.parser"))
    assert names, f"{url}: no text field: add {endpoint} to NO_TEXT"
    data: dict[str, Any] = {name: list(values) for name, values in form.values.items()}
    for name in names:
        data[name] = [HIDDEN[kind]]
    buttons = [b for b in form.buttons if target.button in (None, b[0])]
    if buttons:
        data[buttons[0][0]] = buttons[0][1]
    counts = table_row_counts(app)
    response = client.post(form.action, data=data)
    assert response.status_code in (200, 400), (url, response.status_code)
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    for name in names:
        message = _error_beside(page, name)
        # Words get the hidden-character message; money and numbers may be refused as not
        # being money or a number first.
        assert re.search(r"control characters|Enter an amount|must be", message), (
            name, message)
        assert "(optional)" not in message
    assert table_row_counts(app) == counts, f"{url}: a refused post changed a table"
    again = client.get(url)
    if again.status_code == 200 and endpoint in SAVING_FORMS:
        assert shown(parse_form(again.get_data(as_text=True), wanted, url)) == shown(form), (
            f"{url}: the refused post changed what the page shows")


@pytest.mark.parametrize(("endpoint", "target"), [
    case for case in CASES if case.values[0] in (
        "applicant.section", "decisions.edit_fund", "review.assess", "decisions.moderate")])
def test_tabs_new_lines_and_markup_are_saved_and_shown_as_typed(
        app: Flask, client: Any, endpoint: str, target: Target) -> None:
    url, wanted, html, form = open_form(app, client, endpoint, target)
    words = [name for name in _text_names(form, BeautifulSoup(html, "html.parser"))
             if name not in target.keep and re.search(r"[^\W\d_]", "".join(
                 form.values.get(name, []))) and "email" not in name]
    assert words, f"{url}: no words to retype"
    data: dict[str, Any] = {name: list(values) for name, values in form.values.items()}
    for name in words:
        data[name] = [TYPED]
    buttons = [b for b in form.buttons if target.button in (None, b[0])]
    if buttons:
        data[buttons[0][0]] = buttons[0][1]
    response = client.post(form.action, data=data)
    assert response.status_code in (302, 303), (
        url, re.findall(r'govuk-error-message">(.*?)<', response.get_data(as_text=True),
                        re.S))
    after = client.get(url).get_data(as_text=True)
    assert "<b>Bold</b>" not in after and "&lt;b&gt;Bold&lt;/b&gt;" in after
    kept = parse_form(after, wanted, url)
    for name in words:
        value = kept.values[name][0].replace("\r\n", "\n")
        assert value == TYPED.replace("\r\n", "\n"), (name, value)


@pytest.mark.parametrize(("option", "value"), [
    ("--name", "First \x1b[2JAdmin"), ("--name", "First \u202eAdmin"),
    ("--name", "First\u200b Admin"), ("--organisation", "\ufeffOPCC"),
    ("--email", "first\x01@example.org"), ("--organisation", "OPCC\x00"),
    ("--name", "x" * 201)])
def test_create_user_refuses_hidden_characters_in_what_it_is_given(app: Flask, option: str,
                                                                   value: str) -> None:
    from portal.services import accounts

    args = {"--name": "First Admin", "--email": "first@example.org",
            "--organisation": "Cambridgeshire and Peterborough OPCC",
            "--password": "quartz-bramble-lantern-nine", option: value}
    counts = table_row_counts(app)
    result = app.test_cli_runner().invoke(
        args=["create-user", "--role", "admin", *[x for pair in args.items() for x in pair]])
    assert result.exit_code != 0
    what = option.lstrip("-")
    assert f"the {what}" in result.output, result.output
    assert "control character" in result.output or "characters or fewer" in result.output
    with app.app_context():
        assert accounts.get_user_by_email("first@example.org") is None
    assert table_row_counts(app) == counts


@pytest.mark.parametrize("kind", list(HIDDEN))
def test_an_upload_whose_description_holds_a_hidden_character_is_refused(
        app: Flask, client: Any, kind: str) -> None:
    import io

    from tests import bidding

    client.sign_in(bidding.OFFICER)
    bid_id = bidding.start(client, app)
    counts = table_row_counts(app)
    response = client.submit(f"/bids/{bid_id}/evidence", {
        "file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "plan.pdf"), "description": HIDDEN[kind]},
        content_type="multipart/form-data")
    assert response.status_code in (200, 400)
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert "control characters" in _error_beside(page, "description")
    assert table_row_counts(app) == counts
