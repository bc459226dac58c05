"""The query functions behind finance's, the administrators' and the public pages return
what those pages show, for a small case; what is owed and the eligible spend in the
underspend email are the awards service's figures, not worked out again."""

from __future__ import annotations

from datetime import timedelta

from portal.db import utcnow
from portal.queries import admin as admin_queries
from portal.queries import finance as finance_queries
from portal.queries import public as public_queries
from tests.helpers import signed_in, text_of
from tests.integration.test_finance import (
    FINANCE,
    OFFICER,
    approve_return,
    file_return,
    make_award,
    pay,
    repayment_form,
    return_ids,
)
from tests.integration.test_transparency import award as awarded_bid


def test_the_finance_lists_are_what_the_finance_home_shows(app):
    award_id = make_award(app)
    first, final = return_ids(app, award_id)
    file_return(app, first, [100000, 50000, 20000])
    with app.app_context():
        queue = finance_queries.returns_queue(1)
        due, more_due = finance_queries.first_returns_awaited(10)
        awaited = finance_queries.returns_awaited(1)
        listed = finance_queries.awards(1)
    [row] = [r for r in queue.items if r.award_id == award_id]
    assert (row.id, row.spend_pence, row.partnership) == (first, 170000,
                                                          "South Cambridgeshire CSP")
    assert [r.id for r in due if r.award_id == award_id] == [final] and not more_due
    assert [r.id for r in awaited.items if r.award_id == award_id] == [final]
    assert award_id in [a.id for a in listed.items]
    page = signed_in(app, FINANCE).get("/finance/")
    text = text_of(page)
    assert "£1,700.00" in text and row.reference in text
    assert f'href="/finance/returns/{first}"' in page.get_data(as_text=True)


def test_what_is_owed_is_the_underspend_the_service_asked_for_until_it_is_received(app, smtp):
    award_id = make_award(app)
    pay(app, award_id, 400000)
    with app.app_context():
        assert finance_queries.owed_pence(award_id) == 0
    first, final = return_ids(app, award_id)
    approve_return(app, file_return(app, first, [100000, 100000, 10000]))
    approve_return(app, file_return(app, final, [50000, 20000, 20000]))  # 3,000 eligible
    with app.app_context():
        assert finance_queries.owed_pence(award_id) == 100000
        [repayment], more = finance_queries.first_repayments_awaited(10)
        assert not more and (repayment.award_id, repayment.amount_pence) == (award_id, 100000)
        assert finance_queries.repayments_awaited(1).total == 1
    finance = signed_in(app, FINANCE)
    assert "£1,000.00" in text_of(finance.get("/finance/repayments"))
    # The partnership is told the eligible spend the award closed with.
    [told] = [m for m in smtp.messages if "Underspend to repay" in m["Subject"]
              and m["To"] == OFFICER]
    assert "£4,000.00 was paid and the eligible spend was £3,000.00, so £1,000.00" in \
        " ".join(told.get_content().split())
    assert f"http://portal.test/awards/{award_id}" in told.get_content()  # and where to see it
    finance.submit(f"/finance/awards/{award_id}/repayments/{repayment.id}", repayment_form(),
                   form_url=f"/finance/awards/{award_id}")
    with app.app_context():
        assert finance_queries.owed_pence(award_id) == 0
        assert finance_queries.repayments_awaited(1).total == 0


def test_a_return_to_check_is_none_when_there_is_none(app):
    award_id = make_award(app)
    first, _final = return_ids(app, award_id)
    with app.app_context():
        assert finance_queries.return_to_check(first).id == first
        assert finance_queries.return_to_check(2_000_000_000) is None
        assert finance_queries.uk_today() - utcnow().date() in {timedelta(0), timedelta(days=1)}


def test_the_users_the_admin_page_lists_are_the_query_s(app, client):
    with app.app_context():
        found = admin_queries.users("FENLAND", 1)
        everyone = admin_queries.users("", 1)
        choices = admin_queries.organisation_choices()
        someone = found.items[0]
        assert admin_queries.user(someone.id).email == someone.email
        assert admin_queries.user(2_000_000_000) is None
        assert admin_queries.organisation(None) is None
        assert admin_queries.organisation(choices[0][0]).name == choices[0][1]
    assert found.items and all("fenland" in (u.name + u.email).lower() for u in found.items)
    assert everyone.total > found.total
    assert [name for _id, name in choices] == sorted(name for _id, name in choices)
    client.sign_in("admin@example.org")
    text = text_of(client.get("/admin/?q=FENLAND"))
    assert all(u.email in text for u in found.items)
    assert not [u for u in everyone.items if u not in found.items and u.email in text]


def test_the_register_shows_the_query_s_grants_and_filters(app, client):
    awarded_bid(app, "SCF", 1_234_00, title="Lit paths to the station")
    with app.app_context():
        years, funds = public_queries.register_choices()
        page = public_queries.register(None, "SCF", 1, 20)
        assert public_queries.database_answers()
    assert years == sorted(years, reverse=True) and ("SCF", "Safer Communities Fund") in funds
    [grant] = page.items
    assert (grant.title, grant.amount_pence) == ("Lit paths to the station", 1_234_00)
    text = text_of(client.get("/transparency?fund=SCF"))
    assert "Lit paths to the station" in text and "£1,234.00" in text
