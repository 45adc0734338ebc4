"""Rule-file constants (table cells, literals) as symbolic values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import z3

from ..typesys import DECIMAL, ListT, MapT, OptT, RecordT, SetT, TableT, Type, strip
from .program import CheckedTable
from .values import FALSE, TRUE, GList, GMap, Opt, Rec, Table, Unsupported, Val


def scalar(value: Any, t: Type | None = None) -> Val:
    """A Python constant as a term; an int where a decimal is expected becomes a Real."""
    if value is None:
        return Opt(FALSE, None)
    if isinstance(value, bool):
        return z3.BoolVal(value)
    if isinstance(value, int):
        if t is not None and strip(t) == DECIMAL:
            return z3.RealVal(value)
        return z3.IntVal(value)
    if isinstance(value, Decimal):
        return z3.RealVal(Fraction(value))
    if isinstance(value, str):
        return z3.StringVal(value)
    if isinstance(value, date):
        return z3.IntVal(value.toordinal())
    raise Unsupported(f"a constant of type {type(value).__name__}")


def constant(value: Any, t: Type) -> Val:
    """Any constant (scalar, list, set, map, record) of type t."""
    if value is None:
        return Opt(FALSE, None)
    if isinstance(t, OptT):
        return Opt(TRUE, constant(value, t.inner))
    if isinstance(t, ListT):
        return GList(tuple((TRUE, constant(v, t.elem)) for v in value))
    if isinstance(t, SetT):
        return GList(tuple((TRUE, constant(v, t.elem)) for v in sorted(value, key=repr)), True)
    if isinstance(t, MapT):
        return GMap(
            tuple((TRUE, constant(k, t.key), constant(v, t.value)) for k, v in value.items())
        )
    if isinstance(t, RecordT):
        return Rec({name: constant(value.get(name), ft) for name, ft in t.fields})
    return scalar(value, t)


def table_value(table: CheckedTable) -> Val:
    if isinstance(table.type, TableT):
        _, rows = table.value
        row_type = table.type.row
        return Table(
            table.name,
            tuple(table.definition.key),
            tuple(constant(row, row_type) for row in rows),
        )
    return constant(table.value, table.type)


def placeholder(t: Type) -> Val | None:
    """A stand-in payload for a null of type t (read only where it cannot be null)."""
    t = strip(t)
    if isinstance(t, RecordT):
        fields = {name: placeholder(ft) for name, ft in t.fields}
        if any(v is None for v in fields.values()):
            return None
        return Rec(fields)
    if isinstance(t, (ListT, SetT)):
        return GList((), isinstance(t, SetT))
    if isinstance(t, MapT):
        return GMap(())
    name = getattr(t, "name", None)
    return {
        "int": z3.IntVal(0),
        "date": z3.IntVal(1),
        "decimal": z3.RealVal(0),
        "string": z3.StringVal(""),
        "bool": z3.BoolVal(False),
    }.get(name or "")
