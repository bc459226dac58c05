"""Sharing money in whole pence among lines and years (issue 14): exact totals, and no share
above what was asked for."""

from __future__ import annotations

import random

from portal.services import years


def test_a_part_award_shares_add_up_and_never_pass_what_was_asked():
    rng = random.Random(14)
    for _ in range(3000):
        weights = {i: rng.randint(0, 5_000_000) for i in range(rng.randint(1, 6))}
        asked = sum(weights.values()) or 1
        amount = rng.randint(0, asked)
        shares = years.share(weights, amount, asked)
        assert sum(shares.values()) == amount * sum(weights.values()) // asked
        assert all(0 <= shares[key] <= weights[key] for key in weights), (weights, amount)


def test_the_worked_case_gives_the_last_year_no_more_than_it_asked():
    asked = {2022: 333_333, 2023: 333_333, 2024: 333_334}
    shares = years.scale(asked, 999_999, 1_000_000)
    assert sum(shares.values()) == 999_999
    assert all(shares[year] <= asked[year] for year in asked)


def test_split_evenly_gives_the_odd_pence_to_the_first_years():
    assert years.split_evenly(10, [2022, 2023, 2024]) == {2022: 4, 2023: 3, 2024: 3}
    assert years.split_evenly(0, []) == {}


def test_years_of_a_json_column_ignore_keys_that_are_not_years():
    assert years.by_year({"2023": 5, "2022": "7", "x": 1, "20222": 3, "２０２２": 9}) == {
        2022: 7, 2023: 5}
    assert years.as_json({2023: 5, 2022: 7}) == {"2022": 7, "2023": 5}


def test_a_late_accepted_agreement_over_years_reports_each_year_on_its_own():
    """The attack on issue 14: an agreement from April 2024 accepted in November 2026 had all
    its years merged into one return, whose spend then counted in its last year only."""
    from datetime import date

    from portal.models.awards import ReturnKind
    from portal.models.funds import ReturnCadence
    from portal.services.awards import return_schedule

    not_before = date(2026, 12, 30)
    schedule = return_schedule(date(2024, 4, 1), date(2026, 11, 30), ReturnCadence.SIX_MONTHLY,
                               4, not_before)
    assert [(kind, first, last) for kind, first, last, _due in schedule] == [
        (ReturnKind.PERIODIC, date(2024, 4, 1), date(2025, 3, 31)),
        (ReturnKind.PERIODIC, date(2025, 4, 1), date(2026, 3, 31)),
        (ReturnKind.FINAL, date(2026, 4, 1), date(2026, 11, 30))]
    assert all(due >= not_before for *_period, due in schedule)
    # A project of one year keeps merging into one return, as issue 13 made it.
    one_year = return_schedule(date(2026, 4, 1), date(2027, 3, 31), ReturnCadence.SIX_MONTHLY,
                               4, not_before)
    assert [(first, last) for _k, first, last, _d in one_year] == [
        (date(2026, 4, 1), date(2027, 3, 31))]
