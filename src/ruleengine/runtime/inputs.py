"""Request-time input helpers: what generated validators call to convert and report.

`DATE_CACHE` maps date texts already parsed to their dates: the fast validators and
`Engine.decide` (for `as_of`) read it directly, a dict lookup instead of a parse.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from ..errors import InputCode, InputError, InputProblem, did_you_mean

# Bounds on numbers accepted as input: they keep every computation exact and finite.
MAX_INT = 2**63 - 1
MAX_DECIMAL_DIGITS = 30
MAX_INT_DECIMAL = 10**MAX_DECIMAL_DIGITS  # an int input for a decimal field stays below this
DECIMAL_TEXT_LENGTH = 64  # the longest decimal string accepted
DATE_TEXT_LENGTH = 10  # YYYY-MM-DD, the only date text accepted
FAIL: Any = object()  # what a fast validator returns for input it cannot vouch for
DATE_CACHE: dict[str, date] = {}
_DATE_CACHE_LIMIT = 10_000
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_NO_VALUE = object()


def describe_value(value: Any) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean " + ("true" if value else "false")
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, Decimal):
        text = str(value)
        if "." not in text and "E" not in text:
            # JSON's 1e0 reads as Decimal('1'): "number 1" would read as an integer
            return f"number {text} (a decimal, not an integer)"
        return f"number {text}"
    if isinstance(value, float):
        return f"float {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, date):
        return f"date {value.isoformat()}"
    return type(value).__name__


def problem(
    code: str, path: str, message: str, expected: str | None, value: Any = _NO_VALUE
) -> InputProblem:
    got = None if value is _NO_VALUE else describe_value(value)
    return InputProblem(code, path, message, expected, got)


def to_decimal(value: Any) -> Decimal | None:
    """Accept Decimal, int or a decimal string; never a binary float."""
    if type(value) is Decimal:
        result = value
    elif type(value) is int:
        result = Decimal(value)
    elif type(value) is str and 0 < len(value) <= DECIMAL_TEXT_LENGTH:
        try:
            result = Decimal(value.strip())
        except ArithmeticError:
            return None
    else:
        return None
    if not result.is_finite() or result.adjusted() >= MAX_DECIMAL_DIGITS:
        return None
    return result


def to_date(value: Any) -> date | None:
    """A `datetime.date`, or a strict `YYYY-MM-DD` string as a date; else None."""
    if type(value) is date:
        return value
    if type(value) is not str:
        return None
    # Dates repeat across requests (as_of, renewal dates): parse each text once.
    found = DATE_CACHE.get(value)
    if found is not None:
        return found
    if not _ISO_DATE.match(value):
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return None
    if len(DATE_CACHE) >= _DATE_CACHE_LIMIT:
        DATE_CACHE.clear()
    DATE_CACHE[value] = parsed
    return parsed


def unknown_fields(
    data: dict[str, Any], known: tuple[str, ...], path: str, errs: list[InputProblem]
) -> None:
    for key in data:
        if key not in known:
            shown = key if isinstance(key, str) else repr(key)
            suggestion = did_you_mean(str(key), known)
            message = f"unknown field {shown!r}" + (
                f"; did you mean {suggestion!r}?" if suggestion else ""
            )
            errs.append(
                InputProblem(
                    InputCode.UNKNOWN_FIELD,
                    f"{path}.{shown}",
                    message,
                    "one of: " + ", ".join(known),
                    None,
                )
            )


def raise_input(errs: list[InputProblem]) -> None:
    raise InputError(errs)


class PatternMemo:
    """Strings already seen to match a pattern: a set lookup instead of a regex on the hot
    path (country codes, currencies: few distinct values). Bounded; thread-safe enough, as
    adding to a set is atomic and a lost addition only costs a regex match."""

    __slots__ = ("_regex", "matched")
    LIMIT = 4096

    def __init__(self, pattern: str):
        self._regex = re.compile(pattern)
        self.matched: set[str] = set()

    def check(self, value: str) -> bool:
        if self._regex.fullmatch(value) is None:
            return False
        if len(self.matched) < self.LIMIT:
            self.matched.add(value)
        return True
