"""What the OPCC types, in Welsh (issue 16): a Welsh reader sees the Welsh names and guidance
where they are given and the English, marked lang="en", where not; an English reader sees the
English unmarked; the grants team enters the Welsh beside the English, under the same rules."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal import demo
from portal.db import session
from portal.models import AuditEvent, Award, Bid, Criterion, Fund, Organisation, Round
from portal.services import accounts, decisions
from tests import bidding
from tests.helpers import signed_in, table_row_counts, text_of

# The demo's officer and manager who prefer Welsh, and an officer of the same partnership who
# reads English.
_LOCAL, _SHORT = next((local, short) for local, _name, short, _roles in demo.WELSH_ACCOUNTS
                      if short)
WELSH_OFFICER = f"{_LOCAL}@example.org"
WELSH_MANAGER = next(f"{local}@example.org" for local, _name, short, _roles
                     in demo.WELSH_ACCOUNTS if short is None)
ENGLISH_OFFICER = f"officer.{_SHORT}@example.org"
MANAGER = "manager@example.org"
FINANCE = "finance@example.org"

FUND_CY = "Cronfa Cymunedau Mwy Diogel"
PURPOSE_CY = "Ceisiadau hyd at £5,000"  # the start of the demo fund's Welsh purpose
GUIDANCE_CY = "Darllenwch bwrpas y gronfa"
CRITERION_CY = "Tystiolaeth o angen"


def scf_round(app) -> Round:
    """The Safer Communities Fund's current round, its fund and criteria loaded."""
    with app.app_context():
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == "SCF")
                                .order_by(Round.financial_year.desc()))
        _ = round_.fund, list(round_.criteria)
        session.expunge(round_)
        return round_


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def marked_english(page: BeautifulSoup) -> list[str]:
    """The text of every element marked lang="en" below <html>, but the footer's "English"
    (each language is named in its own, on every page)."""
    return [re.sub(r"\s+", " ", element.get_text(" ")).strip()
            for element in page.find_all(attrs={"lang": "en"})
            if element.name != "html" and element.find_parent("footer") is None]


def welsh_reader(client, email: str = WELSH_OFFICER):
    client.sign_in(email)
    return client


def empty_the_welsh(app) -> None:
    """The SCF fund, its rounds and criteria, and every partnership without Welsh."""
    with app.app_context():
        fund = session.scalar(select(Fund).where(Fund.code == "SCF"))
        fund.name_cy = fund.purpose_cy = fund.terms_cy = ""
        for round_ in fund.rounds:
            round_.name_cy = round_.guidance_cy = ""
            for criterion in round_.criteria:
                criterion.title_cy = criterion.guidance_cy = ""
        for organisation in session.scalars(select(Organisation)):
            organisation.name_cy = ""
        session.commit()


def approved_bid(app, officer: str = bidding.OFFICER) -> int:
    """A bid from ``officer``'s partnership (South Cambridgeshire CSP unless told) to the SCF,
    approved: on the public register, its offer waiting."""
    bid_id = bidding.submitted_bid(app, officer, title="Bike marking days")
    with app.test_request_context():
        decisions.approve(session.get(Bid, bid_id), 4_750_00, purpose="Bike marking",
                          conditions="", reasons="Fewer bikes stolen",
                          override_reason="Decided before the assessments (test)",
                          actor=accounts.get_user_by_email(MANAGER))
        session.commit()
    return bid_id


# --- a Welsh reader ---------------------------------------------------------------------------


def test_a_welsh_officer_sees_the_rounds_list_in_welsh(app, client):
    round_ = scf_round(app)
    page = soup(welsh_reader(client).get("/rounds/"))
    words = text_of_soup(page)
    assert page.html["lang"] == "cy"
    assert FUND_CY in words and round_.name_cy in words
    assert round_.name_cy.startswith("Cylch ")
    assert not any(FUND_CY in marked for marked in marked_english(page))


def test_a_welsh_officer_sees_the_round_page_in_welsh(app, client):
    round_ = scf_round(app)
    response = welsh_reader(client).get(f"/rounds/{round_.id}")
    page = soup(response)
    words = text_of_soup(page)
    for welsh in (FUND_CY, round_.name_cy, PURPOSE_CY, GUIDANCE_CY, CRITERION_CY):
        assert welsh in words, welsh
    assert page.title.get_text().startswith(f"{FUND_CY}: {round_.name_cy} – ")
    assert "Safer Communities Fund" not in words and "Evidence of need" not in words
    assert not any(FUND_CY in marked for marked in marked_english(page))


def test_a_welsh_manager_sees_the_round_page_and_the_funds_in_welsh(app, client):
    round_ = scf_round(app)
    welsh_reader(client, WELSH_MANAGER)
    for url in (f"/manage/rounds/{round_.id}", "/manage/", "/manage/funds",
                f"/manage/rounds/{round_.id}/criteria"):
        words = text_of(client.get(url))
        assert FUND_CY in words and round_.name_cy in words, url
    assert CRITERION_CY in text_of(client.get(f"/manage/rounds/{round_.id}/criteria"))


def test_the_public_register_in_welsh_names_the_partnership_and_the_fund_in_welsh(app, client):
    approved_bid(app)
    client.submit("/account/language", {"language": "cy"})
    page = soup(client.get("/transparency"))
    words = text_of_soup(page)
    assert "PDC De Swydd Gaergrawnt" in words and FUND_CY in words
    assert "South Cambridgeshire CSP" not in words
    fund_choices = [option.get_text() for option in page.select("select#fund option")]
    assert FUND_CY in fund_choices


def test_english_shown_to_a_welsh_reader_for_want_of_welsh_is_marked_english(app, client):
    empty_the_welsh(app)
    approved_bid(app)
    round_ = scf_round(app)
    welsh_reader(client)
    for url, english in ((f"/rounds/{round_.id}", ["Safer Communities Fund", round_.name,
                                                   "Evidence of need"]),
                         ("/rounds/", ["Safer Communities Fund", round_.name]),
                         ("/transparency", ["South Cambridgeshire CSP",
                                            "Safer Communities Fund"])):
        page = soup(client.get(url))
        marked = marked_english(page)
        for name in english:
            assert name in text_of_soup(page), (url, name)
            assert any(name in text for text in marked), (url, name)
    # The page title is plain text: the English name, no markup.
    title = soup(client.get(f"/rounds/{round_.id}")).title.get_text()
    assert title.startswith(f"Safer Communities Fund: {round_.name} – ") and "<" not in title


def test_an_english_reader_sees_the_english_and_no_part_marked_english(app, client):
    approved_bid(app)
    round_ = scf_round(app)
    client.sign_in(ENGLISH_OFFICER)
    for url in ("/rounds/", f"/rounds/{round_.id}", "/transparency", "/bids/", "/accessibility"):
        page = soup(client.get(url))
        assert page.html["lang"] == "en"
        assert marked_english(page) == [], url
        assert FUND_CY not in text_of_soup(page), url
    words = text_of(client.get(f"/rounds/{round_.id}"))
    assert "Safer Communities Fund" in words and round_.name in words


@pytest.mark.parametrize("email", [WELSH_OFFICER, WELSH_MANAGER, ENGLISH_OFFICER, MANAGER,
                                   FINANCE])
def test_no_page_shows_the_marks_as_escaped_text(app, client, email):
    empty_the_welsh(app)  # the English shown marked: where an escaped mark would show
    bid_id = approved_bid(app, WELSH_OFFICER)
    with app.app_context():
        award_id = session.scalar(select(Award.id).where(Award.bid_id == bid_id))
    round_ = scf_round(app)
    client.sign_in(email)
    urls = ["/transparency", "/accessibility", "/privacy"]
    if email in (WELSH_OFFICER, ENGLISH_OFFICER):
        urls += ["/rounds/", f"/rounds/{round_.id}", "/bids/", "/awards/", f"/bids/{bid_id}",
                 f"/awards/{award_id}", f"/awards/{award_id}/accept", "/reports/partnership"]
    elif email == FINANCE:  # finance in Welsh: the English names marked
        client.submit("/account/language", {"language": "cy"})
        urls += ["/finance/", "/finance/awards/", f"/finance/awards/{award_id}",
                 "/finance/returns/due", "/finance/repayments", "/reports/"]
    else:
        urls += ["/manage/direct-awards", "/manage/variations", "/manage/reminders",
                 "/reports/"]
        urls += [f"/manage/bids/{bid_id}", f"/manage/awards/{award_id}",
                 f"/manage/rounds/{round_.id}", "/manage/", "/manage/funds",
                 f"/manage/rounds/{round_.id}/criteria", f"/manage/rounds/{round_.id}/edit",
                 f"/manage/rounds/{round_.id}/criteria/edit",
                 f"/manage/rounds/{round_.id}/ranking", f"/manage/funds/{round_.fund_id}/edit"]
    marks = 0
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert "&lt;span" not in html and "&lt;div" not in html, url
        marks += html.count('<span lang="en">') - html.count('<span lang="en">English</span>')
    assert (marks > 0) == (email not in (ENGLISH_OFFICER, MANAGER))  # the marks were there


def test_the_service_and_the_organisation_are_named_in_welsh_to_a_welsh_reader(app, client):
    client.submit("/account/language", {"language": "cy"})
    page = soup(client.get("/accessibility"))
    service, organisation = (app.config["SERVICE_NAME_CY"], app.config["ORGANISATION_NAME_CY"])
    assert page.title.get_text().endswith(f" – {service}")
    assert service in page.find("h1").get_text()
    assert organisation in text_of_soup(page)
    assert app.config["ORGANISATION_SHORT_NAME_CY"] in page.header.get_text()
    assert service in page.header.get_text()


# --- entering the Welsh -----------------------------------------------------------------------


def fund_form(**welsh) -> dict:
    return {"name": "Safer Communities Fund", "code": "SCF",
            "purpose": "Small grants for a swift response.", "payment_rule": "advance",
            "terms": "Spend it on the approved lines.", **welsh}


def round_form(round_: Round, **welsh) -> dict:
    year = round_.financial_year
    return {"name": round_.name, "financial_year": str(year),
            "opens_on": ["1", "4", str(year)], "opens_time": "9:00",
            "closes_on": ["1", "12", str(year)], "closes_time": "5pm",
            "budget": "£30,000.00", "cap": "5,000", "eligible_organisation_types": ["csp"],
            "return_cadence": "six_monthly", "guidance": "Read the criteria.", **welsh}


def criteria_form(**welsh) -> dict:
    return {"rows-0-title": "Evidence of need", "rows-0-guidance": "Local data.",
            "rows-0-weight": "60", "rows-1-title": "Value for money", "rows-1-weight": "40",
            "scale_min": "0", "scale_max": "5",
            **{f"descriptors-{n}-text": word for n, word in enumerate(
                ("None", "Poor", "Partial", "Fair", "Good", "Strong"))}, **welsh}


def latest_event(app, action: str) -> AuditEvent:
    with app.app_context():
        return session.scalar(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id.desc()))


def test_the_fund_form_saves_its_welsh_twice_and_the_audit_keeps_it(app, client):
    client.sign_in(MANAGER)
    fund_id = scf_round(app).fund_id
    url = f"/manage/funds/{fund_id}/edit"
    first = {"name_cy": "Cronfa Gyntaf", "purpose_cy": "Pwrpas.", "terms_cy": "Telerau."}
    assert client.submit(url, fund_form(**first)).status_code == 302
    second = {"name_cy": "Cronfa Newydd", "purpose_cy": "Pwrpas newydd.", "terms_cy": ""}
    assert client.submit(url, fund_form(**second)).status_code == 302
    with app.app_context():
        fund = session.get(Fund, fund_id)
        assert (fund.name_cy, fund.purpose_cy, fund.terms_cy) == (
            "Cronfa Newydd", "Pwrpas newydd.", "")
    event = latest_event(app, "fund.updated")
    assert event.before["name_cy"] == "Cronfa Gyntaf" and event.after["name_cy"] == "Cronfa Newydd"
    assert "terms_cy" in event.before and "terms_cy" not in event.after
    # What the form shows to change is what was saved.
    page = soup(client.get(url))
    assert page.find("input", attrs={"name": "name_cy"})["value"] == "Cronfa Newydd"
    assert page.find("input", attrs={"name": "name_cy"})["lang"] == "cy"
    history = text_of(client.get("/manage/audit"))
    assert "Name in Welsh changed from Cronfa Gyntaf to Cronfa Newydd" in history


def test_the_round_form_saves_its_welsh_twice_and_the_audit_keeps_it(app, client):
    client.sign_in(MANAGER)
    round_ = scf_round(app)
    url = f"/manage/rounds/{round_.id}/edit"
    for name_cy, guidance_cy in (("Cylch Un", "Canllaw un."), ("Cylch Dau", "Canllaw dau.")):
        response = client.submit(url, round_form(round_, name_cy=name_cy,
                                                 guidance_cy=guidance_cy))
        assert response.status_code == 302, text_of(response)
    with app.app_context():
        saved = session.get(Round, round_.id)
        assert (saved.name_cy, saved.guidance_cy) == ("Cylch Dau", "Canllaw dau.")
    event = latest_event(app, "round.updated")
    assert (event.before["name_cy"], event.after["name_cy"]) == ("Cylch Un", "Cylch Dau")
    assert event.after["guidance_cy"] == "Canllaw dau."


def test_the_criteria_form_saves_their_welsh_twice_and_the_audit_keeps_it(app, client):
    client.sign_in(MANAGER)
    round_ = scf_round(app)
    url = f"/manage/rounds/{round_.id}/criteria/edit"
    for title_cy in ("Angen", "Tystiolaeth o angen lleol"):
        response = client.submit(url, criteria_form(**{"rows-0-title_cy": title_cy,
                                                       "rows-0-guidance_cy": "Data lleol."}))
        assert response.status_code == 302, text_of(response)
    with app.app_context():
        first = session.scalar(select(Criterion).where(Criterion.round_id == round_.id)
                               .order_by(Criterion.position))
        assert (first.title_cy, first.guidance_cy) == ("Tystiolaeth o angen lleol",
                                                       "Data lleol.")
    event = latest_event(app, "round.criteria_changed")
    assert event.before["criteria"][0]["title_cy"] == "Angen"
    assert event.after["criteria"][0]["title_cy"] == "Tystiolaeth o angen lleol"
    assert "in Welsh: Tystiolaeth o angen lleol" in text_of(client.get("/manage/audit"))


def test_markup_typed_in_welsh_is_kept_as_text_and_shown_as_text(app, client):
    client.sign_in(MANAGER)
    round_ = scf_round(app)
    typed = "<b>Cronfa</b> & <script>x</script>"
    assert client.submit(f"/manage/funds/{round_.fund_id}/edit",
                         fund_form(name_cy=typed)).status_code == 302
    response = signed_in(app, WELSH_OFFICER).get(f"/rounds/{round_.id}")
    html = response.get_data(as_text=True)
    assert "&lt;b&gt;Cronfa&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;" in html
    assert "<script>x" not in html
    assert soup(response).find("h1").get_text() == typed


@pytest.mark.parametrize("field, value, message", [
    ("name_cy", "Cronfa\x07", "must not contain hidden"),
    ("name_cy", "C" * 201, "200 characters or fewer"),
    ("purpose_cy", "P" * 2001, "2000 characters or fewer"),
    ("terms_cy", "Telerau\u202e", "must not contain hidden"),
    ("name_cy", "Cronfa Ieuenctid", "A fund called “Cronfa Ieuenctid” in Welsh already exists"),
])
def test_bad_welsh_for_a_fund_is_refused_beside_its_field_and_changes_nothing(
        app, client, field, value, message):
    client.sign_in(MANAGER)
    fund_id = scf_round(app).fund_id
    before = table_row_counts(app)
    response = client.submit(f"/manage/funds/{fund_id}/edit", fund_form(**{field: value}))
    assert response.status_code in (200, 400)
    page = soup(response)
    error = page.find(id=f"{field}-error")
    assert error is not None and message in error.get_text(), page.find(id=f"{field}-error")
    assert page.find("a", href=f"#{field}") is not None  # the summary links to the field
    assert table_row_counts(app) == before
    with app.app_context():
        assert session.get(Fund, fund_id).name_cy == FUND_CY


@pytest.mark.parametrize("field, value, message", [
    ("name_cy", "Cylch\x1b", "must not contain hidden"),
    ("guidance_cy", "G" * 5001, "5000 characters or fewer"),
])
def test_bad_welsh_for_a_round_is_refused_beside_its_field_and_changes_nothing(
        app, client, field, value, message):
    client.sign_in(MANAGER)
    round_ = scf_round(app)
    before = table_row_counts(app)
    response = client.submit(f"/manage/rounds/{round_.id}/edit",
                             round_form(round_, **{field: value}))
    error = soup(response).find(id=f"{field}-error")
    assert error is not None and message in error.get_text()
    assert table_row_counts(app) == before


def test_bad_welsh_for_a_criterion_is_refused_beside_its_field_and_changes_nothing(app, client):
    client.sign_in(MANAGER)
    round_ = scf_round(app)
    before = table_row_counts(app)
    response = client.submit(f"/manage/rounds/{round_.id}/criteria/edit",
                             criteria_form(**{"rows-1-title_cy": "T" * 201}))
    error = soup(response).find(id="rows-1-title_cy-error")
    assert error is not None and "200 characters or fewer" in error.get_text()
    assert table_row_counts(app) == before


def test_the_welsh_fields_say_they_are_optional_and_what_they_are_for(app, client):
    client.sign_in(MANAGER)
    round_ = scf_round(app)
    for url, labels in ((f"/manage/funds/{round_.fund_id}/edit",
                         ["Name of the fund in Welsh (optional)", "Purpose in Welsh (optional)",
                          "Terms and conditions of grant in Welsh (optional)"]),
                        (f"/manage/rounds/{round_.id}/edit",
                         ["Name of the round in Welsh (optional)",
                          "Guidance for applicants in Welsh (optional)"]),
                        (f"/manage/rounds/{round_.id}/criteria/edit",
                         ["Title in Welsh (optional)",
                          "Guidance for assessors in Welsh (optional)"])):
        words = text_of(client.get(url))
        for label in labels:
            assert label in words, (url, label)
        assert "Shown to people who use the service in Welsh. Leave empty to show the " \
            "English." in words


def test_a_new_fund_and_round_can_be_made_without_welsh(app, client):
    client.sign_in(MANAGER)
    response = client.submit("/manage/funds/new", fund_form(name="Rural Crime Fund",
                                                           code="RCF"))
    assert response.status_code == 302
    with app.app_context():
        fund = session.scalar(select(Fund).where(Fund.code == "RCF"))
        assert (fund.name_cy, fund.purpose_cy, fund.terms_cy) == ("", "", "")
    event = latest_event(app, "fund.created")
    assert not any(key.endswith("_cy") for key in event.after)


def text_of_soup(page: BeautifulSoup) -> str:
    return re.sub(r"\s+", " ", page.get_text(" ")).strip()


def test_a_welsh_fund_name_may_not_be_another_funds_name_in_either_language(app, client):
    """A breaker gave one fund's English name as another's Welsh: a Welsh reader saw two
    funds called the same. Refused beside the field, nothing changed."""
    client.sign_in(MANAGER)
    fund_id = scf_round(app).fund_id
    with app.app_context():
        other = session.scalars(select(Fund).where(Fund.id != fund_id)).first()
        other_name = other.name
    before = table_row_counts(app)
    response = client.submit(f"/manage/funds/{fund_id}/edit",
                             fund_form(name_cy=other_name.upper()))
    page = soup(response)
    assert page.find(id="name_cy-error") is not None
    assert table_row_counts(app) == before
    with app.app_context():
        assert session.get(Fund, fund_id).name_cy == FUND_CY


def test_two_managers_giving_one_welsh_name_at_once_get_one_fund_and_a_refusal(
        app, monkeypatch):
    """The service checks the Welsh name before it writes; two saves at once both pass that
    check, and the database's unique index on a given Welsh name refuses the second (the
    check is skipped here to stand for the rival who saved in between)."""
    from portal.services import DomainError, setup

    with app.app_context():
        first, second = session.scalars(select(Fund).order_by(Fund.id).limit(2)).all()
        taken = first.name_cy
        assert taken
        manager = accounts.get_user_by_email(MANAGER)
        monkeypatch.setattr(setup, "_check_fund", lambda details, fund: None)
        details = setup.FundDetails(
            code=second.code, name=second.name, purpose=second.purpose,
            is_youth=second.is_youth, allows_multi_year=second.allows_multi_year,
            payment_rule=second.payment_rule, terms=second.terms, direct=second.direct,
            name_cy=taken, purpose_cy=second.purpose_cy, terms_cy=second.terms_cy)
        with pytest.raises(DomainError) as refused:
            setup.update_fund(second, details, manager)
        assert refused.value.field == "name_cy"
        assert session.get(Fund, second.id).name_cy != taken


def test_two_admins_giving_one_welsh_organisation_name_at_once_get_one_and_a_refusal(
        app, monkeypatch):
    from portal.services import DomainError, organisations

    with app.app_context():
        first, second = session.scalars(
            select(Organisation).where(Organisation.name_cy != "").order_by(Organisation.id)
            .limit(2)).all()
        admin = accounts.get_user_by_email("admin@example.org")
        monkeypatch.setattr(organisations, "_name_problem", lambda organisation, name: None)
        with pytest.raises(DomainError) as refused:
            organisations.update(second, name_cy=first.name_cy, language="en", actor=admin)
        assert refused.value.field == "name_cy"
        assert session.get(Organisation, second.id).name_cy != first.name_cy


@pytest.mark.parametrize("manager, marked", [("rheolwr@example.org", True), (MANAGER, False)])
def test_a_saved_message_naming_a_fund_without_welsh_marks_its_english(app, client, manager,
                                                                        marked):
    """The flash after saving names the fund: for a Welsh reader its English (no Welsh
    given) is marked lang="en"; for an English reader nothing is marked; never escaped."""
    client.sign_in(manager)
    fund_id = scf_round(app).fund_id
    response = client.submit(f"/manage/funds/{fund_id}/edit", fund_form(name_cy=""),
                             follow_redirects=True)
    banner = soup(response).find(class_="govuk-notification-banner__content")
    assert banner is not None
    english = banner.find(attrs={"lang": "en"})
    assert (english is not None and english.get_text() == "Safer Communities Fund") is marked
    assert "Safer Communities Fund" in banner.get_text()
    assert "&lt;" not in str(banner) and "<span" not in banner.get_text()


def test_a_signed_in_user_sees_the_language_their_account_keeps_whatever_the_browser_chose(
        app, client):
    """A breaker chose Cymraeg signed out, then signed in to an account kept in English: the
    pages were Welsh while the emails went in English and the language page said English.
    The account's language decides once signed in, so pages, page and emails agree."""
    assert client.submit("/account/language", {"language": "cy"}).status_code == 302
    assert soup(client.get("/")).html["lang"] == "cy"
    client.sign_in("officer.cambridge@example.org")
    page = soup(client.get("/account/language"))
    assert page.html["lang"] == "en"
    assert page.find("input", attrs={"name": "language", "value": "en"}).has_attr("checked")
    # Choosing Welsh while signed in keeps it on the account, and the pages follow.
    assert client.submit("/account/language", {"language": "cy"}).status_code == 302
    assert soup(client.get("/account/language")).html["lang"] == "cy"
    with app.app_context():
        assert accounts.get_user_by_email("officer.cambridge@example.org").language == "cy"
