"""The standard library's implementations: what `stdlib.BUILTINS` emits calls to.

Every function here is total on well-typed arguments: no exception escapes for
any input that passed validation. Every decimal operation goes through
`DECIMAL_CONTEXT` (never the thread's ambient context).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_UP, Context, Decimal
from typing import Any

from ..errors import DecisionBudgetError
from ..numbers import MAX_INT_DIGITS

# Wide enough that no amount a rule can produce is rounded before round_money;
# exponents as wide as decimal allows, so no expression can overflow.
DECIMAL_CONTEXT = Context(prec=60, rounding=ROUND_HALF_UP, Emax=MAX_EMAX, Emin=MIN_EMIN)
_QUANTS = {digits: Decimal(1).scaleb(-digits) for digits in range(0, 19)}
MAX_ROUND_DIGITS = 18
# The runtime cap on ints (issue 12): `*` is the one operator that multiplies their
# digits, so it refuses a product of more than MAX_INT_DIGITS digits (numbers.py).
_INT_LIMIT = 10**MAX_INT_DIGITS
_DIGITS_PER_BIT = 0.30103  # log10(2)


def divide(a: int | Decimal, b: int | Decimal) -> Decimal:
    """Exact-as-possible division (60 significant digits); the checker rules out b == 0."""
    return DECIMAL_CONTEXT.divide(Decimal(a), Decimal(b))


def multiply(a: int, b: int) -> int:
    """`a * b` on ints, refused (`decision_budget_exceeded`) past `MAX_INT_DIGITS` digits."""
    product = a * b
    if -_INT_LIMIT < product < _INT_LIMIT:
        return product
    digits = int(product.bit_length() * _DIGITS_PER_BIT) + 1
    raise DecisionBudgetError(
        f"a product of ints with about {digits:,} digits (ints may have at most {MAX_INT_DIGITS:,})"
    )


_QUANTIZE = DECIMAL_CONTEXT.quantize
_FAST_ROUND_LIMIT = DECIMAL_CONTEXT.prec - 2  # adjusted() + digits up to this: quantize fits


def round_money(x: int | Decimal, digits: int) -> Decimal:
    """Quantize to `digits` fractional digits, half up (0.125 -> 0.13, -0.125 -> -0.13)."""
    quant = _QUANTS.get(digits)
    # The common case, on every amount a decision rounds: an ordinary Decimal.
    if quant is not None and type(x) is Decimal and x.adjusted() + digits <= _FAST_ROUND_LIMIT:
        return _QUANTIZE(x, quant)
    digits = min(max(digits, 0), MAX_ROUND_DIGITS)
    value = Decimal(x)
    needed = value.adjusted() + digits + 2
    if needed <= DECIMAL_CONTEXT.prec:
        return DECIMAL_CONTEXT.quantize(value, _QUANTS[digits])
    # A huge amount: quantize with as many digits as it takes, never fail.
    wide = Context(prec=needed, rounding=ROUND_HALF_UP, Emax=MAX_EMAX, Emin=MIN_EMIN)
    return wide.quantize(value, _QUANTS[digits])


def add_months(d: date, n: int) -> date:
    """Add calendar months, clamping to the end of the target month; saturates at date.min/max."""
    month_index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(month_index, 12)
    if year < 1:
        return date.min
    if year > 9999:
        return date.max
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last))


def add_days(d: date, n: int) -> date:
    """Add days; saturates at date.min/max instead of overflowing."""
    ordinal = d.toordinal() + n
    if ordinal < 1:
        return date.min
    if ordinal > date.max.toordinal():
        return date.max
    return d + timedelta(days=n)


def days(a: date, b: date) -> int:
    """Days from a to b (negative when b is before a)."""
    return (b - a).days


def _frozen(item: Any) -> Any:
    """A hashable stand-in for a record or list, equal exactly when the items are equal."""
    kind = type(item)
    if kind is dict:
        return (dict, frozenset((k, _frozen(v)) for k, v in item.items()))
    if kind is list:
        return (list, tuple(_frozen(v) for v in item))
    return item


def distinct(items: Iterable[Any]) -> list[Any]:
    """The items without repeats, in order of first appearance (linear: records and
    lists are compared through a hashable stand-in, not against every earlier item)."""
    seen: list[Any] = []
    hashed: set[Any] = set()
    for item in items:
        key = item if type(item) not in (dict, list) else _frozen(item)
        if key in hashed:
            continue
        hashed.add(key)
        seen.append(item)
    return seen


def flatten(lists: Iterable[list[Any]]) -> list[Any]:
    return [item for sub in lists for item in sub]


def at(items: list[Any], i: int) -> Any:
    """`list[i]`: the item, or null when out of range (negative counts from the end)."""
    if -len(items) <= i < len(items):
        return items[i]
    return None


def to_map(pairs: Iterable[tuple[Any, Any]]) -> dict[Any, Any]:
    """Build a map; when keys repeat, the first pair wins."""
    out: dict[Any, Any] = {}
    for key, value in pairs:
        if key not in out:
            out[key] = value
    return out


def minimum(items: Iterable[Any]) -> Any:
    return min(items, default=None)


def maximum(items: Iterable[Any]) -> Any:
    return max(items, default=None)


def sum_decimal(items: Iterable[Any]) -> Decimal:
    """Add in `DECIMAL_CONTEXT`, like `+` and `sum(x in xs, ...)` (never the ambient context)."""
    total = Decimal(0)
    add = DECIMAL_CONTEXT.add
    for item in items:
        total = add(total, item)
    return total


def absolute(x: int | Decimal) -> int | Decimal:
    """`abs(x)`; a decimal's in `DECIMAL_CONTEXT` (Python's `abs` would round to 28 digits)."""
    return DECIMAL_CONTEXT.abs(x) if isinstance(x, Decimal) else abs(x)


def sum_int(items: Iterable[int]) -> int:
    total = 0
    for item in items:
        total += item
    return total


def sorted_list(items: Iterable[Any]) -> list[Any]:
    return sorted(items)
