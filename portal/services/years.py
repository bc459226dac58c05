"""Money over several financial years (issue 14): a round's pot per year, amounts per year on
budget lines and approved lines, and which year a return's spend belongs to.

Shapes: amounts per year are ``dict[int, int]`` in code (starting year -> pence) and
``dict[str, int]`` in the JSON columns (``BudgetLine.year_amounts``, ``AwardLine.original_years``
and ``revised_years``, ``Award.payment_plan``), keys the starting year as text ("2022" for
2022/23). :func:`by_year` and :func:`as_json` turn one into the other.

The pot: a round's ``budget_pence`` and ``committed_pence`` are the sums of its
``round_years``; :func:`commit` adds an award's amounts to each year and to the total with
guarded UPDATEs (``committed + amount <= budget`` in each WHERE clause, with CHECK constraints
behind them), so two managers approving at once cannot overspend any year. A round of one
year has its one ``RoundYear`` kept in step by ``portal.models.funds.keep_single_year`` (a
flush hook), so that code and tests which make or change a one-year round need not know about
years.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, TypeVar, cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, update

from portal.formatting import money
from portal.models import Award, AwardLine, GrantReturn, Round, RoundYear, year_label
from portal.services import DomainError
from portal.services.rounds import financial_year_dates, financial_year_of

K = TypeVar("K")

__all__ = ["share", "as_json", "by_year", "commit", "release", "split_evenly", "scale", "award_years",
           "return_year", "year_label", "years_between", "year_is_over"]


def by_year(amounts: Mapping[str, Any] | None) -> dict[int, int]:
    """``{"2022": 100}`` (a JSON column) as ``{2022: 100}``; keys that are not years are
    dropped (a hand-made value), amounts as ints."""
    result: dict[int, int] = {}
    for key, value in (amounts or {}).items():
        if isinstance(key, str) and key.isascii() and key.isdigit() and len(key) == 4:
            result[int(key)] = int(value)
    return dict(sorted(result.items()))


def as_json(amounts: Mapping[int, int]) -> dict[str, int]:
    """``{2022: 100}`` as a JSON column holds it: ``{"2022": 100}``, years in order."""
    return {str(year): int(amount) for year, amount in sorted(amounts.items())}


def years_between(start: date, end: date) -> list[int]:
    """The financial years (starting years) a period from ``start`` to ``end`` touches."""
    return list(range(financial_year_of(start), financial_year_of(end) + 1))


def year_is_over(year: int, today: date) -> bool:
    """Whether financial year ``year`` has ended by ``today`` (a UK date): a closed year, into
    which nothing may be carried forward."""
    return financial_year_dates(year)[1] < today


def split_evenly(total: int, years: Iterable[int]) -> dict[int, int]:
    """``total`` pence shared across ``years`` as evenly as whole pence allow, the first years
    taking the odd pence: 10 over three years is 4, 3, 3."""
    years = list(years)
    if not years:
        return {}
    share, odd = divmod(total, len(years))
    return {year: share + (1 if i < odd else 0) for i, year in enumerate(years)}


def share(weights: Mapping[K, int], amount: int, of: int) -> dict[K, int]:
    """``amount`` shared in whole pence in proportion to ``weights`` out of ``of``: each key
    gets ``weight * amount // of`` and the pence left over go one each to the keys with the
    largest remainders (the largest remainder method; ties to the first key). The shares add
    up to ``amount * sum(weights) // of``, and while ``amount <= of`` none is more than its
    weight: a part award never gives a line, or a year, more than was asked for it."""
    if not weights or of <= 0:
        return {key: 0 for key in weights}
    shares = {key: weight * amount // of for key, weight in weights.items()}
    left = amount * sum(weights.values()) // of - sum(shares.values())
    order = sorted(weights, key=lambda key: -(weights[key] * amount % of))
    for key in order[:max(0, left)]:
        shares[key] += 1
    return shares


def scale(amounts: Mapping[int, int], amount: int, of: int) -> dict[int, int]:
    """``amounts`` (pence per year) scaled by ``amount / of`` in whole pence (:func:`share`):
    the result adds up to ``amount * sum(amounts) // of``, which is ``amount`` itself when
    ``amounts`` add up to ``of`` (a line of a part award), and no year gets more than it had."""
    return share(amounts, amount, of)


def award_years(award: Award) -> list[int]:
    """The financial years the award's lines have money in, else the years its dates span."""
    return lines_years([(line.original_years, line.revised_years) for line in award.lines],
                       award.start_date, award.end_date)


def lines_years(lines: Iterable[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]],
                start: date, end: date) -> list[int]:
    """:func:`award_years` on plain values (a report's selected columns): the years the lines'
    ``(original_years, revised_years)`` JSON have money in, else the years ``start`` to ``end``
    span."""
    found: set[int] = set()
    for original, revised in lines:
        found.update(year for year, pence in by_year(revised).items() if pence)
        found.update(by_year(original))
    return sorted(found) if found else years_between(start, end)


def return_year(grant_return: GrantReturn, years: list[int]) -> int:
    """The financial year a return's spend counts against (:func:`period_year` of its period's
    end): a one-year grant extended into the next year still spends its one year's money."""
    return period_year(grant_return.period_end, years)


def period_year(period_end: date, years: list[int]) -> int:
    """The financial year a period ending on ``period_end`` counts in, brought within
    ``years`` (an award's, in order)."""
    year = financial_year_of(period_end)
    if not years:
        return year
    return min(max(year, years[0]), years[-1])


def line_years(line: AwardLine) -> dict[int, int]:
    """An approved line's revised amount per year (its total in one unnamed year if the line
    predates years: never, after migration 0011)."""
    return by_year(line.revised_years)


# --- the pot ---------------------------------------------------------------------------------


def commit(round_: Round, amounts: Mapping[int, int], *, field: str = "amount") -> None:
    """Add ``amounts`` (pence per financial year) to what ``round_`` has committed, each year
    within that year's budget and the total within the round's. Guarded UPDATEs: the first
    that would pass a budget changes nothing and raises DomainError beside ``field`` naming
    the year and what remains; the caller's savepoint (``@atomic``) undoes the years already
    added."""
    amounts = {year: pence for year, pence in amounts.items() if pence}
    total = sum(amounts.values())
    for year in amounts:
        if year not in round_.financial_years:
            raise DomainError(_("The round has no budget for %(year)s", year=year_label(year)),
                              field=field)
    # The round's row first, then its years: the order every writer of a round takes
    # (``setup.update_round`` holds the round's row too), so two never wait on each other.
    result = cast(CursorResult[Any], _session().execute(
        update(Round)
        .where(Round.id == round_.id, Round.committed_pence + total <= Round.budget_pence,
               Round.committed_pence + total >= 0)
        .values(committed_pence=Round.committed_pence + total)
        .execution_options(synchronize_session=False)))
    if result.rowcount != 1:
        _session().refresh(round_)
        raise DomainError(_("Only %(remaining)s of the round's budget remains.",
                            remaining=money(round_.remaining_pence)), field=field)
    for year, pence in sorted(amounts.items()):
        result = cast(CursorResult[Any], _session().execute(
            update(RoundYear)
            .where(RoundYear.round_id == round_.id, RoundYear.financial_year == year,
                   RoundYear.committed_pence + pence <= RoundYear.budget_pence,
                   RoundYear.committed_pence + pence >= 0)
            .values(committed_pence=RoundYear.committed_pence + pence)
            .execution_options(synchronize_session=False)))
        if result.rowcount != 1:
            remaining = _year_remaining(round_, year)
            raise DomainError(_("Only %(remaining)s of the budget for %(year)s remains",
                                remaining=money(remaining), year=year_label(year)), field=field)
    _session().refresh(round_)
    for row in round_.year_budgets:
        _session().refresh(row)


def release(round_: Round, amounts: Mapping[int, int]) -> None:
    """Take ``amounts`` (pence per year) off what the round has committed (money moved out of
    a year by a carry-forward, say): :func:`commit` of the negative amounts."""
    commit(round_, {year: -pence for year, pence in amounts.items()})


def _year_remaining(round_: Round, year: int) -> int:
    row = _session().get(RoundYear, (round_.id, year), populate_existing=True)
    return row.remaining_pence if row is not None else 0


def _session() -> Any:
    from portal.db import session

    return session
