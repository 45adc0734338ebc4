"""The types of the expression language.

`int` counts and `decimal` amounts are distinct (an int widens to decimal,
never the reverse); `T?` is an optional type that must be handled before use.
Records are structural, optionally named (types declared in rule files).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Constraints:
    """What a declared field allows beyond its type (to catch literals that never match)."""

    pattern: str | None = None
    minimum: Any = None
    maximum: Any = None
    min_length: int | None = None
    max_length: int | None = None
    in_table: str | None = None
    allowed: frozenset[Any] | None = None  # the keys of `in_table`
    declared_at: Any = None  # the field's declaration (a model.Location)


@dataclass(frozen=True, slots=True)
class Prim:
    name: str  # int, decimal, string, bool, date, null, never
    # String enums keep their values to catch `plan == "maintenanse"`; not part of equality.
    enum: frozenset[str] | None = field(default=None, compare=False)
    # A declared field's constraints; not part of equality either.
    constraints: Constraints | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class ListT:
    elem: Type

    def __str__(self) -> str:
        return f"list<{self.elem}>"


@dataclass(frozen=True, slots=True)
class SetT:
    elem: Type

    def __str__(self) -> str:
        return f"set<{self.elem}>"


@dataclass(frozen=True, slots=True)
class MapT:
    key: Type
    value: Type

    def __str__(self) -> str:
        return f"map<{self.key}, {self.value}>"


@dataclass(frozen=True, slots=True)
class RecordT:
    fields: tuple[tuple[str, Type], ...]
    name: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        if self.name:
            return self.name
        return "{" + ", ".join(f"{k}: {v}" for k, v in self.fields) + "}"

    def field_type(self, name: str) -> Type | None:
        for key, value in self.fields:
            if key == name:
                return value
        return None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.fields)


@dataclass(frozen=True, slots=True)
class TableT:
    """Rows keyed by some of their columns: `t[k1, k2]` looks a row up, `t` iterates rows."""

    name: str
    keys: tuple[Type, ...]
    row: RecordT

    def __str__(self) -> str:
        return f"table {self.name}"


@dataclass(frozen=True, slots=True)
class OptT:
    inner: Type

    def __str__(self) -> str:
        return f"{self.inner}?"


Type = Prim | ListT | SetT | MapT | RecordT | TableT | OptT

INT = Prim("int")
DECIMAL = Prim("decimal")
STRING = Prim("string")
BOOL = Prim("bool")
DATE = Prim("date")
NULL = Prim("null")
NEVER = Prim("never")  # the element type of `[]`; fits anywhere

# Stands for the type of an expression that already has an error: it fits
# everywhere, so one mistake is reported once, not at every use.
ERROR = Prim("error")
# The types a set item or a map key may have.
HASHABLE = (INT, DECIMAL, STRING, BOOL, DATE)

SCALARS = {"int": INT, "decimal": DECIMAL, "string": STRING, "bool": BOOL, "date": DATE}


def optional(t: Type) -> Type:
    if isinstance(t, OptT) or t in (NULL, NEVER):
        return t
    return OptT(t)


def strip(t: Type) -> Type:
    """The type without its optionality."""
    return t.inner if isinstance(t, OptT) else t


def is_optional(t: Type) -> bool:
    return isinstance(t, OptT) or t == NULL


def is_numeric(t: Type) -> bool:
    return t in (INT, DECIMAL)


def is_ordered(t: Type) -> bool:
    return t in (INT, DECIMAL, STRING, DATE)


def unify(a: Type, b: Type) -> Type | None:
    """The smallest type both a and b fit in, or None."""
    if a == b:
        if isinstance(a, Prim) and isinstance(b, Prim) and a.enum != b.enum:
            return STRING if a.name == "string" else a
        return a
    if a == NEVER:
        return b
    if b == NEVER:
        return a
    if a == NULL:
        return optional(b)
    if b == NULL:
        return optional(a)
    if isinstance(a, OptT) or isinstance(b, OptT):
        inner = unify(strip(a), strip(b))
        return optional(inner) if inner is not None else None
    if {a, b} == {INT, DECIMAL}:
        return DECIMAL
    if isinstance(a, ListT) and isinstance(b, ListT):
        elem = unify(a.elem, b.elem)
        return ListT(elem) if elem is not None else None
    if isinstance(a, SetT) and isinstance(b, SetT):
        elem = unify(a.elem, b.elem)
        return SetT(elem) if elem is not None else None
    if isinstance(a, MapT) and isinstance(b, MapT):
        key = unify(a.key, b.key)
        value = unify(a.value, b.value)
        return MapT(key, value) if key is not None and value is not None else None
    if isinstance(a, RecordT) and isinstance(b, RecordT):
        if a.field_names != b.field_names and set(a.field_names) != set(b.field_names):
            return None
        fields = []
        for name, ta in a.fields:
            tb = b.field_type(name)
            assert tb is not None
            joined = unify(ta, tb)
            if joined is None:
                return None
            fields.append((name, joined))
        return RecordT(tuple(fields), a.name if a.name == b.name else None)
    return None


def assignable(src: Type, dst: Type) -> bool:
    """Whether a value of type src may be used where dst is expected."""
    if src in (dst, NEVER):
        return True
    if src == NULL:
        return isinstance(dst, OptT)
    if isinstance(dst, OptT):
        return assignable(strip(src), dst.inner)
    if isinstance(src, OptT):
        return False
    if src == INT and dst == DECIMAL:
        return True
    if isinstance(src, ListT) and isinstance(dst, ListT):
        return assignable(src.elem, dst.elem)
    if isinstance(src, SetT) and isinstance(dst, SetT):
        return assignable(src.elem, dst.elem)
    if isinstance(src, MapT) and isinstance(dst, MapT):
        return assignable(src.key, dst.key) and assignable(src.value, dst.value)
    if isinstance(src, RecordT) and isinstance(dst, RecordT):
        for name, t in dst.fields:
            have = src.field_type(name)
            if have is None or not assignable(have, t):
                return False
        return True
    return False


def comparable(a: Type, b: Type) -> bool:
    """Whether `a == b` can ever be true (an error otherwise: `seats == "three"`)."""
    a, b = strip(a), strip(b)
    if NULL in (a, b) or NEVER in (a, b):
        return True
    return unify(a, b) is not None
