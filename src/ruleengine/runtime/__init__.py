"""Runtime support of generated code: what a compiled decision calls at request time.

- `stdlib_impl`: the standard library's implementations (`round_money`, `add_months`...).
- `inputs`: converting and reporting input (`to_date`, `describe_value`, `DATE_CACHE`).
- `namespace`: `NAMESPACE`, the only names generated code sees.

Every decimal operation runs in `DECIMAL_CONTEXT` (see docs/language.md, "Numbers").
"""

from __future__ import annotations

from .stdlib_impl import (
    DECIMAL_CONTEXT,
    MAX_ROUND_DIGITS,
    absolute,
    add_days,
    add_months,
    at,
    days,
    distinct,
    divide,
    flatten,
    maximum,
    minimum,
    round_money,
    sorted_list,
    sum_decimal,
    sum_int,
    to_map,
)

__all__ = [
    "DECIMAL_CONTEXT",
    "MAX_ROUND_DIGITS",
    "absolute",
    "add_days",
    "add_months",
    "at",
    "days",
    "distinct",
    "divide",
    "flatten",
    "maximum",
    "minimum",
    "round_money",
    "sorted_list",
    "sum_decimal",
    "sum_int",
    "to_map",
]
