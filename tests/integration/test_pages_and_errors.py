"""Public pages, error pages in the portal's design, security headers, health."""

from __future__ import annotations

import re

import pytest

from portal.access import public
from portal.db import session
from tests.conftest import make_test_app
from tests.helpers import text_of


@pytest.mark.parametrize("path, heading", [
    ("/", "Bid for community safety grants"),
    ("/accessibility", "Accessibility statement"),
    ("/privacy", "Privacy notice"),
    ("/cookies", "Cookies"),
    ("/sign-in", "Sign in"),
    ("/reset-password", "Reset your password"),
])
def test_public_pages_are_real_pages_with_the_footer_links(client, path, heading):
    response = client.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert heading in text_of(response)
    for link in ("/accessibility", "/privacy", "/cookies"):
        assert f'href="{link}"' in page


def test_the_portal_is_not_dressed_as_gov_uk(client):
    page = client.get("/").get_data(as_text=True)
    assert "Crown copyright" not in page
    assert "govuk-logo" not in page and "govuk-header__logotype" not in page
    assert "favicon.ico" not in page


def test_the_stylesheet_carries_no_gds_transport_font(app):
    from portal import ROOT

    css = (ROOT / "portal" / "static" / "build" / "portal.css").read_text()
    assert "GDS Transport" not in css


def test_unknown_pages_get_a_404_in_the_portal_design(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in text_of(response)
    assert "Accessibility statement" in text_of(response)


def test_wrong_method_gets_a_405_page(client):
    response = client.delete("/sign-in")
    assert response.status_code == 405
    assert "there is a problem with your request" in text_of(response)


def test_an_oversized_request_gets_a_413_page(app, client):
    token = client.csrf_token("/sign-in")
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    response = client.post("/sign-in", data={"email": big, "csrf_token": token})
    assert response.status_code == 413
    assert "The file is too large" in text_of(response)


def test_an_unexpected_error_gets_a_500_page_with_no_stack_trace(app, tmp_path):
    other = make_test_app(app.config["DATABASE_URL"], tmp_path)

    @other.route("/explode")
    @public
    def explode():
        raise RuntimeError("secret internals")

    response = other.test_client().get("/explode")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Sorry, there is a problem with the service" in body
    assert "secret internals" not in body and "Traceback" not in body


def test_every_response_carries_the_security_headers(client):
    response = client.get("/sign-in")
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    scripts = re.findall(r"<script([^>]*)>", response.get_data(as_text=True))
    inline = [attrs for attrs in scripts if "src=" not in attrs]
    assert inline == [f' nonce="{nonce}"']


def test_each_page_gets_a_new_nonce(client):
    first = client.get("/sign-in").headers["Content-Security-Policy"]
    second = client.get("/sign-in").headers["Content-Security-Policy"]
    assert first != second


def test_health_check_answers_200_when_the_database_is_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["database"] == "ok"


def test_health_check_answers_503_when_the_database_is_not(tmp_path):
    broken = make_test_app(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}", tmp_path)
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503


def test_language_choice_is_kept_for_the_user(app, client):
    client.sign_in("officer.fenland@example.org")
    response = client.submit("/account/language", {"language": "cy"})
    assert response.status_code == 302
    from portal.services import accounts

    with app.app_context():
        assert accounts.get_user_by_email("officer.fenland@example.org").language == "cy"
    page = client.get("/bids/").get_data(as_text=True)
    assert '<html lang="cy"' in page
    assert "Allgofnodi" in page  # "Sign out" from the Welsh catalogue


def test_templates_follow_a_locale_forced_within_a_request_and_back(app):
    from flask import render_template_string
    from flask_babel import force_locale

    def sign_out() -> str:
        return render_template_string('{{ _("Sign out") }}')

    with app.test_request_context("/"):
        assert sign_out() == "Sign out"
        with force_locale("cy"):  # as an email to a Welsh-speaking user is written
            assert sign_out() == "Allgofnodi"
        assert sign_out() == "Sign out"


@pytest.mark.parametrize("code, heading", [
    (400, "Sorry, there is a problem with your request"),
    (403, "You do not have permission to see this page"),
    (429, "Too many requests"),
])
def test_other_error_pages_are_in_the_portal_design(app, tmp_path, code, heading):
    from flask import abort

    other = make_test_app(app.config["DATABASE_URL"], tmp_path)

    @other.route("/fail")
    @public
    def fail():
        abort(code)

    response = other.test_client().get("/fail")
    assert response.status_code == code
    assert heading in text_of(response) and "Accessibility statement" in text_of(response)


def test_a_nul_character_sent_is_refused_beside_its_field_and_never_reaches_the_database(
        app, client):
    """PostgreSQL cannot store NUL in text: a search carrying one is read without it; a form
    field carrying one is refused beside the field and nothing is saved; never a 500."""
    from tests import bidding

    client.sign_in(bidding.OFFICER)
    assert client.get("/bids/?q=bike%00lights&status=").status_code == 200
    bid_id = bidding.start(client, app)
    year = bidding.round_of(app, "SCF").financial_year
    saved = bidding.save(client, bid_id, "delivery",
                         {**bidding.DELIVERY, "activities": "Twelve\x00 sessions"}, year)
    assert saved.status_code == 200
    page = text_of(saved)
    assert "must not contain hidden control characters" in page
    assert 'href="#activities"' in saved.get_data(as_text=True)
    with app.app_context():
        from portal.models import BidSection

        section = session.get(BidSection, (bid_id, "delivery"))
    assert section is None or "activities" not in (section.answers or {})


def test_the_public_register_is_linked_from_the_start_page_and_every_footer(client):
    for page in ("/", "/privacy"):
        html = client.get(page).get_data(as_text=True)
        assert 'href="/transparency"' in html, page
