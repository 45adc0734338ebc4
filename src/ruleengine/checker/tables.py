"""Table data: plain values from rule files converted to runtime values of a type."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from ..numbers import number_fix, number_hint
from ..typesys import (
    BOOL,
    DATE,
    DECIMAL,
    ERROR,
    INT,
    NULL,
    STRING,
    ListT,
    Prim,
    Type,
    is_optional,
    strip,
)


def literal_type(value: Any) -> Type:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, Decimal):
        return DECIMAL
    if isinstance(value, date):
        return DATE
    return STRING


def infer(value: Any) -> Type | None:
    if value is None or isinstance(value, (list, dict)):
        return None
    return literal_type(value)


def convert_value(value: Any, t: Type) -> tuple[Any, str | None]:
    """Convert plain data from a rule file to a runtime value of type t."""
    if t == ERROR:
        return value, None
    if value is None:
        return None, None if is_optional(t) else f"a value of type {t} is required"
    t = strip(t)
    if t == INT:
        if isinstance(value, int) and not isinstance(value, bool):
            return value, None
    elif t == DECIMAL:
        if isinstance(value, Decimal):
            return value, None
        if isinstance(value, int) and not isinstance(value, bool):
            return Decimal(value), None
    elif t == STRING or (isinstance(t, Prim) and t.name == "string"):
        if isinstance(value, str):
            if isinstance(t, Prim) and t.enum and value not in t.enum:
                return value, f"{value!r} is not one of {', '.join(sorted(t.enum))}"
            return value, None
    elif t == BOOL:
        if isinstance(value, bool):
            return value, None
    elif t == DATE:
        if isinstance(value, date):
            return value, None
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                return date.fromisoformat(value), None
            except ValueError:
                pass
        return value, f"{value!r} is not a valid date (YYYY-MM-DD)"
    elif isinstance(t, ListT) and isinstance(value, list):
        out = []
        for item in value:
            converted, problem = convert_value(item, t.elem)
            if problem:
                return value, problem
            out.append(converted)
        return out, None
    shown = "a number" if isinstance(value, Decimal) else repr(value)
    return value, f"expected {t}, got {shown}"


# YAML 1.1 read these as booleans; the loader (YAML 1.2's core schema) reads them as text.
YAML11_BOOLEANS = frozenset(
    form
    for word in ("yes", "no", "on", "off", "y", "n")
    for form in (word, word.capitalize(), word.upper())
)


def fix_for(value: Any, t: Type) -> str | None:
    """How to write a value that does not fit type t, where the mistake is a known habit."""
    t = strip(t)
    if t in (INT, DECIMAL) and isinstance(value, str):
        fix = number_fix(value)
        if fix is not None:
            return number_hint(value, fix)
    if t == BOOL and isinstance(value, str) and value in YAML11_BOOLEANS:
        truth = "true" if value.lower() in ("yes", "on", "y") else "false"
        return f"write {truth}: {value} is text here, not a boolean as it was in YAML 1.1"
    if isinstance(t, Prim) and t.name == "string" and isinstance(value, (int, Decimal, bool)):
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        return f'quote it to make it text: "{shown}"'
    return None
