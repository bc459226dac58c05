"""Administrators keep each organisation's Welsh name and the language it works in (issue 16):
Welsh readers see the Welsh name, and a partnership's offer letters are written in its
language."""

from __future__ import annotations

from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.db import session
from portal.models import AuditEvent, Organisation, OrganisationType
from tests.helpers import table_row_counts, text_of

ADMIN = "admin@example.org"
HUNTS = "Huntingdonshire CSP"


def org(app, name: str = HUNTS) -> Organisation:
    with app.app_context():
        return session.scalar(select(Organisation).where(Organisation.name == name))


def url(app, name: str = HUNTS) -> str:
    return f"/admin/organisations/{org(app, name).id}"


def error_beside(response, field: str) -> str:
    beside = BeautifulSoup(response.get_data(as_text=True), "html.parser").find(
        id=f"{field}-error")
    return beside.get_text(" ", strip=True) if beside is not None else ""


def changes(app) -> list[AuditEvent]:
    with app.app_context():
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "organisation.changed").order_by(AuditEvent.id)))


def test_the_admin_home_links_to_the_organisations_with_their_welsh_names(app, client):
    client.sign_in(ADMIN)
    home = BeautifulSoup(client.get("/admin/").get_data(as_text=True), "html.parser")
    assert home.find("a", href="/admin/organisations") is not None
    page = BeautifulSoup(client.get("/admin/organisations").get_data(as_text=True),
                         "html.parser")
    row = page.find("a", string=HUNTS).find_parent("tr")
    welsh = row.find(lang="cy")
    assert welsh is not None and welsh.get_text() == "PDC Swydd Huntingdon"
    assert row.find("a")["href"] == url(app)


def test_the_list_costs_the_same_whatever_the_number_of_organisations(app, client,
                                                                         count_queries):
    client.sign_in(ADMIN)
    client.get("/admin/organisations")
    with count_queries() as few:
        client.get("/admin/organisations")
    with app.app_context():
        for number in range(30):
            session.add(Organisation(name=f"Extra partnership {number}", name_cy=f"Partneriaeth {number}",
                                     type=OrganisationType.CSP))
        session.commit()
    with count_queries() as many:
        page = client.get("/admin/organisations")
    assert "Extra partnership 29" in text_of(page)
    assert len(many) == len(few)


def test_saving_the_welsh_name_and_language_twice_keeps_each_and_audits_each(app, client):
    client.sign_in(ADMIN)
    first = client.submit(url(app), {"name_cy": "  Partneriaeth Huntingdon  ", "language": "cy"})
    assert first.headers["Location"] == "/admin/organisations"
    saved = org(app)
    assert (saved.name_cy, saved.language) == ("Partneriaeth Huntingdon", "cy")
    second = client.submit(url(app), {"name_cy": "", "language": "en"})
    assert second.status_code == 302
    saved = org(app)
    assert (saved.name_cy, saved.language) == ("", "en")
    events = changes(app)
    assert [(e.before, e.after) for e in events] == [
        ({"name_cy": "PDC Swydd Huntingdon", "language": "en"},
         {"name_cy": "Partneriaeth Huntingdon", "language": "cy"}),
        ({"name_cy": "Partneriaeth Huntingdon", "language": "cy"},
         {"name_cy": "", "language": "en"}),
    ]
    history = text_of(client.get(url(app)))
    assert "History of this organisation" in history and "Cymraeg" in history


def test_the_form_shows_what_is_saved_and_saving_it_unchanged_records_nothing(app, client):
    client.sign_in(ADMIN)
    page = BeautifulSoup(client.get(url(app)).get_data(as_text=True), "html.parser")
    assert page.find("input", attrs={"name": "name_cy"})["value"] == "PDC Swydd Huntingdon"
    assert page.find("input", attrs={"name": "name_cy"})["lang"] == "cy"
    assert page.find("input", attrs={"name": "language", "value": "en"}).has_attr("checked")
    as_shown = {"name_cy": "PDC Swydd Huntingdon", "language": "en"}
    assert client.submit(url(app), as_shown).status_code == 302
    assert changes(app) == []


def refused(app, client, data: dict, field: str, message: str) -> None:
    client.sign_in(ADMIN)
    counts = table_row_counts(app)
    response = client.submit(url(app), data)
    assert response.status_code == 200
    assert message in error_beside(response, field), error_beside(response, field)
    assert table_row_counts(app) == counts
    saved = org(app)
    assert (saved.name_cy, saved.language) == ("PDC Swydd Huntingdon", "en")


def test_a_welsh_name_too_long_is_refused_beside_it(app, client):
    refused(app, client, {"name_cy": "a" * 201, "language": "cy"}, "name_cy",
            "Welsh name must be 200 characters or fewer")


def test_a_welsh_name_another_organisation_has_is_refused_beside_it(app, client):
    refused(app, client, {"name_cy": "safer fenland partnership", "language": "en"},
            "name_cy", "Another organisation already has this name")


def test_a_welsh_name_with_a_control_character_is_refused_beside_it(app, client):
    refused(app, client, {"name_cy": "PDC\u202eSwydd", "language": "en"}, "name_cy", "")


def test_a_language_not_offered_is_refused_beside_it(app, client):
    refused(app, client, {"name_cy": "PDC Swydd Huntingdon", "language": "fr"}, "language",
            "Select the language the partnership works in")


def test_a_missing_or_too_large_organisation_id_is_not_found(client):
    client.sign_in(ADMIN)
    assert client.get("/admin/organisations/999999").status_code == 404
    assert client.get("/admin/organisations/99999999999999999999").status_code == 404
    assert client.post("/admin/organisations/999999", data={}).status_code in (400, 404)


def test_only_administrators_may_change_organisations(app, client):
    client.sign_in("manager@example.org")
    assert client.get("/admin/organisations").status_code == 403
    assert client.get(url(app)).status_code == 403


def test_create_user_can_make_a_welsh_working_organisation_and_a_welsh_reading_user(app):
    result = app.test_cli_runner().invoke(args=[
        "create-user", "--name", "Prif Weinyddwr", "--email", "gweinyddwr@example.org",
        "--organisation", "Swyddfa Gwent", "--organisation-name-cy", "Swyddfa Gwent (cy)",
        "--organisation-language", "cy", "--language", "cy", "--role", "admin",
        "--password", "quartz-bramble-lantern-nine"])
    assert result.exit_code == 0, result.output
    made = org(app, "Swyddfa Gwent")
    assert (made.name_cy, made.language) == ("Swyddfa Gwent (cy)", "cy")
    with app.app_context():
        from portal.services import accounts

        assert accounts.get_user_by_email("gweinyddwr@example.org").language == "cy"


def test_create_user_refuses_a_hidden_character_in_the_welsh_name(app):
    counts = table_row_counts(app)
    result = app.test_cli_runner().invoke(args=[
        "create-user", "--name", "First Admin", "--email", "first@example.org",
        "--organisation", "New OPCC", "--organisation-name-cy", "Swyddfa\u202e",
        "--password", "quartz-bramble-lantern-nine"])
    assert result.exit_code != 0 and "control character" in result.output
    assert table_row_counts(app) == counts
