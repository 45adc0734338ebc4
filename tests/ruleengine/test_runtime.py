"""The standard library's implementations against independent references."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ruleengine import runtime

from ..conftest import examples

# --- round_money -------------------------------------------------------------------


def reference_round(x: Decimal | int, digits: int) -> Decimal:
    return Decimal(x).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


# Decimals up to 12 integer digits and 0..8 fractional digits, of either sign.
decimals = st.builds(
    lambda coefficient, places: Decimal(coefficient).scaleb(-places),
    st.integers(-(10**20), 10**20),
    st.integers(0, 8),
)
# Exact ties for a given number of digits: n + 0.5 units of the last kept digit.
ties = st.builds(
    lambda n, digits: ((Decimal(n) + Decimal("0.5")).scaleb(-digits), digits),
    st.integers(-(10**9), 10**9),
    st.integers(0, 4),
)


@settings(max_examples=examples(400))
@given(decimals, st.integers(0, 4))
@example(Decimal("0.125"), 2)
@example(Decimal("-0.125"), 2)
@example(Decimal("2.5"), 0)
@example(Decimal("-2.5"), 0)
@example(Decimal("1.005"), 2)
@example(Decimal("-0.004"), 2)
def test_round_money_is_quantize_half_up(x: Decimal, digits: int) -> None:
    got = runtime.round_money(x, digits)
    want = reference_round(x, digits)
    assert got == want
    assert got.as_tuple().exponent == -digits  # exactly `digits` fractional digits


@settings(max_examples=examples(200))
@given(ties)
def test_round_money_ties_round_away_from_zero(case: tuple[Decimal, int]) -> None:
    x, digits = case
    got = runtime.round_money(x, digits)
    assert got == reference_round(x, digits)
    assert abs(got) > abs(x)  # half up: a tie moves away from zero


@given(st.integers(-(10**15), 10**15), st.integers(0, 4))
def test_round_money_of_an_int(n: int, digits: int) -> None:
    got = runtime.round_money(n, digits)
    assert got == n
    assert str(got) == str(reference_round(n, digits))


@pytest.mark.parametrize(
    ("x", "digits", "text"),
    [
        ("46.8249", 2, "46.82"),
        ("46.825", 2, "46.83"),
        ("-46.825", 2, "-46.83"),
        ("41579.5", 0, "41580"),
        ("0.5", 0, "1"),
        ("1.23456", 4, "1.2346"),
        ("7", 2, "7.00"),
    ],
)
def test_round_money_text(x: str, digits: int, text: str) -> None:
    assert str(runtime.round_money(Decimal(x), digits)) == text


# --- add_months --------------------------------------------------------------------


def reference_add_months(d: date, n: int) -> date:
    """Count months, then clamp the day to the last day of the target month."""
    total = d.month - 1 + n
    year = d.year + total // 12
    month = total % 12 + 1
    first_of_next = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    last_day = (first_of_next - timedelta(days=1)).day
    return date(year, month, min(d.day, last_day))


def every_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_add_months_matches_reference_on_every_day_of_2024_to_2030() -> None:
    days = every_day(date(2024, 1, 1), date(2030, 12, 31))
    assert len(days) == 2557
    mismatches = [
        (d, n, runtime.add_months(d, n), reference_add_months(d, n))
        for n in range(-40, 41)
        for d in days
        if runtime.add_months(d, n) != reference_add_months(d, n)
    ]
    assert mismatches == []


@pytest.mark.parametrize(
    ("start", "n", "end"),
    [
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 5, 31), 1, date(2026, 6, 30)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 1, 15), -12, date(2025, 1, 15)),
        (date(2024, 2, 29), 36, date(2027, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2026, 8, 31), 0, date(2026, 8, 31)),
    ],
)
def test_add_months_end_of_month_clamping(start: date, n: int, end: date) -> None:
    assert runtime.add_months(start, n) == end
    assert reference_add_months(start, n) == end


# --- days --------------------------------------------------------------------------

dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))


@given(dates, dates)
def test_days_is_date_subtraction(a: date, b: date) -> None:
    got = runtime.days(a, b)
    assert type(got) is int
    assert got == (b - a).days
    assert runtime.days(b, a) == -got


def test_days_examples() -> None:
    assert runtime.days(date(2026, 1, 1), date(2026, 3, 1)) == 59
    assert runtime.days(date(2024, 1, 1), date(2024, 3, 1)) == 60
    assert runtime.days(date(2026, 3, 15), date(2026, 3, 15)) == 0
    assert runtime.days(date(2026, 3, 15), date(2026, 3, 14)) == -1


@given(dates, st.integers(-5000, 5000))
def test_add_days_is_timedelta_addition(d: date, n: int) -> None:
    assert runtime.add_days(d, n) == d + timedelta(days=n)


# --- one decimal context -------------------------------------------------------------

SUMS = """\
decisions:
  sums:
    input:
      a: decimal
      b: decimal
      c: decimal
      xs: list<decimal>
    output:
      plus: a + b + c
      summed: sum([a, b, c])
      folded: sum(x in [a, b, c], x)
      list_sum: sum(xs)
      list_folded: sum(x in xs, x)
      difference: a - b - c
      negated: -a
      absolute: abs(a)
"""

# 30 significant digits, placed anywhere from 20 fractional digits to 30 integer digits:
# valid input (below 10**30), and every sum of a few is exact in 60 digits.
thirty_digits = st.builds(
    lambda coefficient, places: Decimal(f"{coefficient}E-{places}"),  # exact (scaleb rounds)
    st.integers(-(10**30) + 1, 10**30 - 1),
    st.integers(0, 20),
)


@pytest.fixture(scope="module")
def sums_engine(build_engine: Any) -> Any:
    return build_engine(SUMS)


def exactly(*parts: Decimal) -> Decimal:
    with localcontext(Context(prec=200)):
        return sum(parts, Decimal(0))


@settings(max_examples=300)
@given(thirty_digits, thirty_digits, thirty_digits, st.lists(thirty_digits, max_size=6))
@example(Decimal(10**29), Decimal(1), Decimal(0), [Decimal(10**29), Decimal(1)])
@example(
    Decimal("-999999999999999999999999999999"),
    Decimal("0.00000000000000000001"),
    Decimal("0"),
    [Decimal("999999999999999999999999999999"), Decimal("0.00000000000000000001")],
)
def test_every_way_of_adding_decimals_agrees(
    sums_engine: Any, a: Decimal, b: Decimal, c: Decimal, xs: list[Decimal]
) -> None:
    # sum(xs), sum(x in xs, x) and a fold by + run in DECIMAL_CONTEXT, whatever the
    # thread's context (28 digits by default; 5 here): all agree, and are exact.
    data = {"a": a, "b": b, "c": c, "xs": xs}
    with localcontext(Context(prec=5)):
        plain = sums_engine.decide("t", "sums", data).result
        traced = sums_engine.decide("t", "sums", data, explain=True).result
        folded = Decimal(0)
        for x in xs:
            folded = runtime.DECIMAL_CONTEXT.add(folded, x)
    assert plain == traced
    assert plain["plus"] == plain["summed"] == plain["folded"] == exactly(a, b, c)
    assert plain["list_sum"] == plain["list_folded"] == folded == exactly(*xs)
    assert plain["difference"] == exactly(a, b.copy_negate(), c.copy_negate())
    assert plain["negated"] == a.copy_negate() and plain["absolute"] == a.copy_abs()
