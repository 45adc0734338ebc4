"""Literals checked against what they are compared with: a declared field's constraints.

`country == "Poland"` where `country` is declared `pattern: "[A-Z]{2}"` can
never be true; neither can `seats == 0` with `minimum: 1`, nor a code that is
not a key of the field's `in_table`. Only a field read (`order.country`, an
input) is checked: a computed value carries no declaration.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from ..typesys import Constraints, Prim, Type, strip


def constraints_of(t: Type) -> Constraints | None:
    base = strip(t)
    return base.constraints if isinstance(base, Prim) else None


def never_fits(value: Any, rules: Constraints) -> str | None:
    """Why a field with these constraints never holds `value`; None if it may."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if rules.pattern is not None and re.fullmatch(rules.pattern, value) is None:
            return f"it does not match the field's pattern {rules.pattern}"
        if rules.min_length is not None and len(value) < rules.min_length:
            return f"it is shorter than the field's min_length {rules.min_length}"
        if rules.max_length is not None and len(value) > rules.max_length:
            return f"it is longer than the field's max_length {rules.max_length}"
    if isinstance(value, (int, Decimal)):
        if rules.minimum is not None and value < rules.minimum:
            return f"it is below the field's minimum {rules.minimum}"
        if rules.maximum is not None and value > rules.maximum:
            return f"it is above the field's maximum {rules.maximum}"
    if rules.allowed is not None and isinstance(value, (str, int)) and value not in rules.allowed:
        return f"it is not a key of table {rules.in_table}"
    return None


def likely_meant(value: Any, rules: Constraints) -> str | None:
    """A near value the field does allow (`pl` -> `PL`), as a hint."""
    if isinstance(value, str):
        for candidate in (value.upper(), value.lower(), value.strip()):
            if candidate != value and never_fits(candidate, rules) is None:
                return f"did you mean {candidate!r}?"
    return None
