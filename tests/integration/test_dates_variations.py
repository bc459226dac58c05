"""Extensions are bounded and one change waits at a time (issue 13, point 4): a new end date
no more than MAX_EXTENSION_MONTHS after the current end and within what the fund allows
(one-year funds: carried over into the next financial year at most; multi-year funds: their
three financial years); a second request while one waits is refused, even two at once."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.db import session, write_intent
from portal.models import Award, Variation, VariationKind, VariationStatus
from portal.services import DomainError, accounts, variations
from tests.helpers import signed_in, table_row_counts, text_of
from tests.integration.test_dates_awards import MANAGER, OFFICER, make_award


def _ask(client, award_id: int, new_end: date):
    return client.submit(f"/awards/{award_id}/variations/new", {
        "kind": "extension", "reason": "The schools asked for more sessions",
        "new_end_date": [str(new_end.day), str(new_end.month), str(new_end.year)]})


def _variations(app, award_id: int) -> list[tuple[str, date | None]]:
    with app.app_context():
        return [(v.status.value, v.new_end_date) for v in session.scalars(
            select(Variation).where(Variation.award_id == award_id).order_by(Variation.id))]


@pytest.mark.parametrize("code, latest", [
    ("SCF", date(2028, 3, 31)),  # one-year fund: into the next financial year at most
    ("PCF", date(2028, 3, 31)),  # multi-year, ending 31 March 2027: 12 months on at most
])
def test_the_latest_new_end_date_is_bounded_by_the_setting_and_the_fund(app, code, latest):
    award_id = make_award(app, start=date(2026, 5, 1), end=date(2027, 3, 31),
                          accepted_on=date(2026, 7, 1), code=code)
    with app.test_request_context():
        assert variations.latest_end_date(session.get(Award, award_id)) == latest


def test_a_one_year_funds_extension_never_passes_the_next_financial_year(app):
    award_id = make_award(app, start=date(2026, 5, 1), end=date(2026, 9, 30),
                          accepted_on=date(2026, 7, 1))
    with app.test_request_context():
        award = session.get(Award, award_id)
        assert variations.latest_end_date(award) == date(2027, 9, 30)  # 12 months
        app.config["MAX_EXTENSION_MONTHS"] = 36
        try:
            assert variations.latest_end_date(award) == date(2028, 3, 31)  # the fund's limit
        finally:
            app.config["MAX_EXTENSION_MONTHS"] = 12


@pytest.mark.parametrize("new_end, words", [
    (date(2099, 12, 31), "no later than 31 March 2028"),  # the testers' extension
    (date(2028, 4, 1), "no later than 31 March 2028"),
    (date(2027, 3, 31), "must be after 31 March 2027"),
])
def test_an_extension_beyond_the_bounds_is_refused_beside_the_date(app, new_end, words):
    award_id = make_award(app, start=date(2026, 5, 1), end=date(2027, 3, 31),
                          accepted_on=date(2026, 7, 1))
    officer = signed_in(app, OFFICER)
    before = table_row_counts(app)
    response = _ask(officer, award_id, new_end)
    assert response.status_code == 200
    assert 'href="#new_end_date' in response.get_data(as_text=True)
    assert words in text_of(response)
    assert table_row_counts(app) == before


def test_an_extension_to_the_latest_date_is_asked_for(app):
    award_id = make_award(app, start=date(2026, 5, 1), end=date(2027, 3, 31),
                          accepted_on=date(2026, 7, 1))
    assert _ask(signed_in(app, OFFICER), award_id, date(2028, 3, 31)).status_code == 302
    assert _variations(app, award_id) == [("requested", date(2028, 3, 31))]


def test_a_second_change_while_one_waits_is_refused_and_saves_nothing(app):
    award_id = make_award(app, start=date(2026, 5, 1), end=date(2027, 3, 31),
                          accepted_on=date(2026, 7, 1))
    officer = signed_in(app, OFFICER)
    assert _ask(officer, award_id, date(2027, 6, 30)).status_code == 302
    before = table_row_counts(app)
    response = _ask(officer, award_id, date(2027, 9, 30))
    assert response.status_code == 200
    assert "has not decided it yet" in text_of(response)
    assert 'href="#kind' in response.get_data(as_text=True)
    assert table_row_counts(app) == before
    with app.test_request_context():
        [waiting] = session.scalars(select(Variation).where(Variation.award_id == award_id))
        variations.decide_variation(waiting, False, "Not yet",
                                    accounts.get_user_by_email(MANAGER))
        session.commit()
    # Decided: another may be asked for.
    assert _ask(officer, award_id, date(2027, 9, 30)).status_code == 302


def test_approving_an_extension_past_the_bounds_is_refused_and_changes_nothing(app):
    award_id = make_award(app, start=date(2026, 5, 1), end=date(2027, 3, 31),
                          accepted_on=date(2026, 7, 1))
    with app.test_request_context():
        variation = Variation(award_id=award_id, kind=VariationKind.EXTENSION, reason="Old",
                              moves=[], new_end_date=date(2099, 1, 1),
                              requested_by_id=accounts.get_user_by_email(OFFICER).id)
        session.add(variation)
        session.commit()
        variation_id = variation.id
    manager = signed_in(app, MANAGER)
    before = table_row_counts(app)
    response = manager.submit(f"/manage/variations/{variation_id}", {"outcome": "approve"})
    assert "the latest this award can be extended to" in text_of(response)
    assert table_row_counts(app) == before
    with app.app_context():
        assert session.get(Award, award_id).end_date == date(2027, 3, 31)
        assert session.get(Variation, variation_id).status == VariationStatus.REQUESTED


# --- two at once -----------------------------------------------------------------------------


@pytest.fixture
def real_app(committed_app):
    return committed_app("variations")


def test_two_changes_asked_for_at_the_same_moment_make_one(real_app):
    app = real_app
    award_id = make_award(app, start=date(2026, 5, 1), end=date(2027, 3, 31),
                          accepted_on=date(2026, 7, 1))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def ask(months: int) -> None:
        with app.test_request_context():
            token = write_intent.set(False)
            officer = accounts.get_user_by_email(OFFICER)
            award = session.get(Award, award_id)
            _ = award.lines, award.round.fund, officer.roles, officer.organisation
            session.commit()
            write_intent.reset(token)
            barrier.wait(timeout=60)
            try:
                variations.request_variation(award, VariationKind.EXTENSION, "More time",
                                             officer, new_end_date=date(2027, 3 + months, 30))
                session.commit()
                result = "asked"
            except DomainError:
                session.rollback()
                result = "refused"
            except Exception as exc:  # noqa: BLE001 - a database error would be a failure
                session.rollback()
                result = f"error: {type(exc).__name__}: {exc}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=ask, args=(months,)) for months in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["asked", "refused"], outcomes
    with app.app_context():
        assert session.scalar(select(func.count()).select_from(Variation).where(
            Variation.award_id == award_id)) == 1
