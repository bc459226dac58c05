"""Emails in the recipient's language, documents in the partnership's (issue 16, point 3).

Each email is written in the language stored on its recipient's account and says so in its
Content-Language header; where the recipient's choice is not known (an invitation the inviter
chose no language for) it is Welsh first, then English, in one message. The offer letter is
written in the language the partnership works in, whatever the reader's."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select

from portal.db import session
from portal.models import Award, Bid, Organisation
from portal.services import accounts, email
from tests import bidding
from tests.helpers import text_of
from tests.integration.test_awards_applicant import awarded

WELSH_OFFICER = "swyddog.hunts@example.org"  # Huntingdonshire CSP, prefers Welsh
ENGLISH_OFFICER = "officer.hunts@example.org"  # Huntingdonshire CSP, English
ADMIN = "admin@example.org"
EMAILS = Path(__file__).resolve().parents[2] / "templates" / "emails"


def submit_a_hunts_bid(app) -> Bid:
    officer = app.test_client()
    officer.sign_in(ENGLISH_OFFICER)
    bid_id = bidding.start(officer, app)
    bidding.complete(officer, app, bid_id)
    bidding.submit(officer, bid_id)
    with app.app_context():
        bid = session.get(Bid, bid_id)
        assert bid.reference
        return bid


def test_the_welsh_preferring_officer_gets_the_submission_email_in_welsh(app, smtp):
    bid = submit_a_hunts_bid(app)
    [welsh] = smtp.to(WELSH_OFFICER)
    assert welsh["Content-Language"] == "cy"
    assert welsh["Subject"] == f"Cais {bid.reference} wedi’i gyflwyno"
    body = welsh.get_content()
    assert body.startswith("Annwyl Gwen Swyddog,")
    assert "PDC Swydd Huntingdon" in body  # the partnership's Welsh name
    assert "Huntingdonshire CSP" not in body and "Dear" not in body
    assert app.config["ORGANISATION_NAME_CY"] in body


def test_the_english_officer_of_the_same_partnership_gets_it_in_english(app, smtp):
    bid = submit_a_hunts_bid(app)
    [english] = smtp.to(ENGLISH_OFFICER)
    assert english["Content-Language"] == "en-GB"
    assert english["Subject"] == f"Bid {bid.reference} submitted"
    body = english.get_content()
    assert body.startswith("Dear ") and "Huntingdonshire CSP" in body
    assert "Annwyl" not in body and "PDC Swydd Huntingdon" not in body


def invite(client, app, **overrides):
    with app.app_context():
        fenland = session.scalar(select(Organisation.id).where(
            Organisation.name == "Safer Fenland Partnership"))
    data = {"name": "Jo Bloggs", "email": "jo.bloggs@example.org", "organisation": fenland,
            "roles": ["officer"]}
    data.update(overrides)
    return client.submit("/admin/users/invite", data)


def test_an_invitation_whose_language_is_not_known_is_welsh_then_english(app, client, smtp):
    client.sign_in(ADMIN)
    assert invite(client, app).status_code == 302
    [message] = smtp.to("jo.bloggs@example.org")
    assert message["Content-Language"] == "cy, en-GB"
    assert message["Subject"] == ("Rydych wedi cael gwahoddiad i’r porth grantiau / "
                                  "You have been invited to the grants portal")
    body = message.get_content()
    assert body.index("Annwyl Jo Bloggs,") < body.index("Dear Jo Bloggs,")
    assert body.index(app.config["SERVICE_NAME_CY"]) < body.index(app.config["SERVICE_NAME"])
    # One link, in both halves: either works once.
    links = re.findall(r"http://portal\.test/invitation/\S+", body)
    assert len(links) == 2 and links[0] == links[1]


@pytest.mark.parametrize(("language", "greeting", "header"),
                         [("cy", "Annwyl Jo Bloggs,", "cy"), ("en", "Dear Jo Bloggs,", "en-GB")])
def test_an_invitation_in_the_language_the_inviter_chose_is_kept_for_the_account(
        app, client, smtp, language, greeting, header):
    client.sign_in(ADMIN)
    assert invite(client, app, language=language).status_code == 302
    [message] = smtp.to("jo.bloggs@example.org")
    assert message["Content-Language"] == header
    body = message.get_content()
    assert body.startswith(greeting) and "/" not in message["Subject"]
    assert ("Dear" in body) == (language == "en")
    with app.app_context():
        assert accounts.get_user_by_email("jo.bloggs@example.org").language == language


def test_a_forged_invitation_language_is_refused_and_nobody_is_invited(app, client, smtp):
    client.sign_in(ADMIN)
    response = invite(client, app, language="fr")
    assert response.status_code == 200
    assert "Select the language of their emails" in text_of(response)
    assert smtp.messages == []
    with app.app_context():
        assert accounts.get_user_by_email("jo.bloggs@example.org") is None


def test_a_password_reset_is_in_the_accounts_language_whatever_the_page_was(app, smtp):
    visitor = app.test_client()  # reads the page in English
    visitor.submit("/reset-password", {"email": WELSH_OFFICER})
    [message] = smtp.to(WELSH_OFFICER)
    assert message["Content-Language"] == "cy"
    assert message.get_content().startswith("Annwyl Gwen Swyddog,")
    assert message["Subject"] != "Reset your password"


# --- every template in Welsh ---------------------------------------------------------------


def _context(app, variant: int) -> dict:
    """Whatever any email template reads. Names are the same in both languages (no Welsh
    given), so a line differs between the renders only where its words were translated."""
    user = accounts.get_user_by_email(WELSH_OFFICER)
    organisation = SimpleNamespace(name="Northshire CSP", name_cy="")
    fund = SimpleNamespace(name="Safer Streets Fund", name_cy="")
    bid = SimpleNamespace(id=1, reference="SCF-2026-0001", title="Torches",
                          organisation=organisation, round=SimpleNamespace(fund=fund),
                          amount_requested_pence=475000)
    award = SimpleNamespace(id=2, bid=bid, bid_id=1, organisation=organisation,
                            amount_pence=475000, paid_pence=400000, accepted_name="Sam",
                            accepted_role="Chair")
    grant_return = SimpleNamespace(id=3, award=award, award_id=2, due_date=date(2026, 6, 12),
                                   period_start=date(2026, 4, 1), period_end=date(2026, 9, 30),
                                   spend_pence=100000)
    kinds = ("reallocation", "carry_forward", "extension")
    return {
        "user": user, "bid": bid, "award": award, "grant_return": grant_return,
        "assignment": SimpleNamespace(id=4, bid=bid, bid_id=1, conflict_reason="1234",
                                      assessor=SimpleNamespace(name="Asha"),
                                      weighted_basis_points=7250),
        "decision": SimpleNamespace(outcome="approved" if variant == 0 else "not_funded",
                                    amount_pence=475000, conditions="C", feedback="F",
                                    reference="DEC-2026-0001"),
        "question": SimpleNamespace(question="5678", answer="9", respond_by=date(2026, 6, 12)),
        "repayment": SimpleNamespace(amount_pence=75000, received_on=date(2026, 6, 12),
                                     received_reference="R-1"),
        "variation": SimpleNamespace(id=5, kind=kinds[variant], reason="R",
                                     new_end_date=date(2027, 3, 31), decision_comment="C"),
        "submitted_by": user, "withdrawn_by": user, "requested_by": user, "inviter": user,
        "token": "token", "minutes": 60, "days": 7, "reason": "R", "comments": "C",
        "eligible": 325000, "approved": variant == 0, "overdue": variant == 0,
    }


def _render(template: str, locale: str, context: dict) -> list[str]:
    with force_locale(locale):
        body = render_template(f"emails/{template}.txt", **context)
    return [line.strip() for line in body.splitlines() if line.strip()]


TEMPLATES = sorted(path.stem for path in EMAILS.glob("*.txt") if not path.name.startswith("_"))


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_email_template_reads_in_welsh_with_no_english_sentence_left(app, template):
    with app.test_request_context():
        for variant in range(3):
            context = _context(app, variant)
            english = _render(template, "en_GB", context)
            welsh = set(_render(template, "cy", context))
            left = [line for line in english if line in welsh
                    and re.search(r"[A-Za-z]{2}", line) and not line.startswith("http")]
            assert not left, f"{template} (variant {variant}): English left in Welsh: {left}"


def test_the_email_helper_is_the_one_place_a_language_becomes_a_locale():
    assert email.locale_of("cy") == "cy"
    assert email.locale_of("en") == "en_GB"
    assert email.locale_of(None) == email.BILINGUAL
    services = Path(__file__).resolve().parents[2] / "portal" / "services"
    for path in services.glob("*.py"):
        if path.name == "email.py":
            continue
        source = path.read_text()
        assert '"en_GB"' not in source and 'locale="' not in source, path.name
        assert 'language == "cy"' not in source, path.name


# --- the offer letter --------------------------------------------------------------------------


def _letter(client, award_id: int):
    response = client.get(f"/awards/{award_id}/offer-letter")
    assert response.status_code == 200
    main = BeautifulSoup(response.get_data(as_text=True), "html.parser").find("main")
    letter = main.find("div", lang=True)
    return main, letter, re.sub(r"\s+", " ", letter.get_text(" "))


def _partnership_works_in(app, language: str) -> None:
    with app.app_context():
        accounts.get_user_by_email(bidding.OFFICER).organisation.language = language
        session.commit()


def test_a_welsh_working_partnerships_letter_is_welsh_even_to_an_english_reader(app):
    _partnership_works_in(app, "cy")
    award_id = awarded(app)
    officer = app.test_client()
    officer.sign_in(bidding.OFFICER)  # reads in English
    main, letter, words = _letter(officer, award_id)
    assert letter["lang"] == "cy"
    assert "Annwyl gydweithwyr," in words and "Dear colleagues" not in words
    assert app.config["ORGANISATION_NAME_CY"] in words
    assert "Rhaid gwario’r grant" in words  # the fund's Welsh terms
    # The decision's purpose was typed in English only: marked so inside the Welsh letter.
    purpose = letter.find(lambda tag: tag.get("lang") == "en"
                          and "Bike lights and repairs" in tag.get_text())
    assert purpose is not None
    # The page around the letter stays in the reader's language.
    assert "Print this page" in main.get_text()


def test_an_english_working_partnerships_letter_is_english_even_to_a_welsh_reader(app):
    award_id = awarded(app)
    with app.app_context():
        officer_user = accounts.get_user_by_email(bidding.OFFICER)
        officer_user.language = "cy"
        session.commit()
    officer = app.test_client()
    officer.sign_in(bidding.OFFICER)
    main, letter, words = _letter(officer, award_id)
    assert letter["lang"] == "en"
    assert "Dear colleagues," in words and "Annwyl" not in words
    assert "The grant must be spent on the approved budget lines" in words
    assert "Print this page" not in main.get_text()  # the page is in Welsh


def test_the_letter_offered_keeps_its_language_when_the_partnership_changes_its_own(app):
    """A breaker switched a partnership to Welsh after it had accepted an English offer, and
    the letter it had accepted turned Welsh: the letter is the one offered."""
    award_id = awarded(app)
    officer = app.test_client()
    officer.sign_in(bidding.OFFICER)
    assert _letter(officer, award_id)[1]["lang"] == "en"
    _partnership_works_in(app, "cy")
    _main, letter, words = _letter(officer, award_id)
    assert letter["lang"] == "en" and "Dear colleagues," in words
    with app.app_context():
        assert session.get(Award, award_id).letter_language == "en"


def test_a_name_with_a_line_break_keeps_the_subject_on_one_line(app):
    """Names are typed text and may hold a line break; a subject built from one ("assessment
    submitted by …") must neither break the header nor fail the change that sends it (a
    breaker found the assessor's submission would stop with an error)."""
    with app.test_request_context():
        before = len(email.queued())
        email.send("someone@example.org", "Submitted by Evil\r\nBcc: victim@example.org",
                   "password_reset", locale="en_GB",
                   user=SimpleNamespace(name="Evil\r\nBcc: victim@example.org"), token="x",
                   minutes=30)
        message = email.message_of(email.queued()[before])
        assert message["Subject"] == "Submitted by Evil Bcc: victim@example.org"
        assert message["Bcc"] is None
        session.rollback()
