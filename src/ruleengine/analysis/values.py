"""Symbolic values: what an expression evaluates to when its input is unknown.

A scalar is a z3 term (int and date: Int, decimal: Real, string: String,
bool: Bool). Structures stay Python structures of terms:

- `Opt(present, value)`: an optional value; `value` is meaningless when absent.
- `Rec(fields)`: a record.
- `GList(items)`: a guarded list, the items whose guard holds, in order; an
  input list of unknown length is its first `bound` items, guarded by `i < len`.
- `Table`: a constant table (rows, sets, maps, values) read by key.

Helpers fold constants as they build terms (`AND(True, x)` is `x`), which keeps
the terms of two versions that share most of their rules small and shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import z3

Term = Any  # a z3 expression (z3 ships no type stubs)

TRUE = z3.BoolVal(True)
FALSE = z3.BoolVal(False)


class Unsupported(Exception):
    """Something the translation to z3 does not cover; the caller reports "not analysed"."""

    def __init__(self, what: str, node: Any = None):
        super().__init__(what)
        self.what = what
        self.node = node


@dataclass(frozen=True, slots=True)
class Opt:
    present: Term
    value: Val | None  # None: the null literal (no payload at all)


@dataclass(frozen=True, slots=True)
class Rec:
    fields: dict[str, Val]


@dataclass(frozen=True, slots=True)
class GList:
    items: tuple[tuple[Term, Val], ...]
    is_set: bool = False
    bounded: bool = False  # an input list cut at the analysis bound, or made from one


@dataclass(frozen=True, slots=True)
class GMap:
    """A map: entries in order; when keys repeat the first entry wins (as `to_map`)."""

    entries: tuple[tuple[Term, Val, Val], ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A rows table: each row a record of constants; `key` names the key columns."""

    name: str
    key: tuple[str, ...]
    rows: tuple[Rec, ...]
    lookups: dict[tuple[int, ...], Opt] = field(default_factory=dict, compare=False)


# A symbolic value: a term, Opt, Rec, GList, GMap or Table. (Any: z3 terms are untyped.)
Val = Any


# --- boolean helpers that fold constants -------------------------------------


def is_true(t: Term) -> bool:
    return bool(z3.is_true(t))


def is_false(t: Term) -> bool:
    return bool(z3.is_false(t))


def AND(*terms: Term) -> Term:
    kept = []
    for t in terms:
        if is_false(t):
            return FALSE
        if not is_true(t):
            kept.append(t)
    if not kept:
        return TRUE
    return kept[0] if len(kept) == 1 else z3.And(*kept)


def OR(*terms: Term) -> Term:
    kept = []
    for t in terms:
        if is_true(t):
            return TRUE
        if not is_false(t):
            kept.append(t)
    if not kept:
        return FALSE
    return kept[0] if len(kept) == 1 else z3.Or(*kept)


def NOT(t: Term) -> Term:
    if is_true(t):
        return FALSE
    if is_false(t):
        return TRUE
    return z3.Not(t)


def is_const(t: Term) -> bool:
    return bool(
        z3.is_true(t)
        or z3.is_false(t)
        or z3.is_int_value(t)
        or z3.is_rational_value(t)
        or z3.is_string_value(t)
    )


def const_value(t: Term) -> Any:
    if z3.is_true(t):
        return True
    if z3.is_false(t):
        return False
    if z3.is_int_value(t):
        return t.as_long()
    if z3.is_rational_value(t):
        return Fraction(t.numerator_as_long(), t.denominator_as_long())
    return t.as_string()


def numeric(a: Term, b: Term) -> tuple[Term, Term]:
    """Both operands in one sort: an Int meets a Real as a Real."""
    if a.sort() == b.sort():
        return a, b
    if z3.is_int(a) and z3.is_real(b):
        return z3.ToReal(a), b
    if z3.is_real(a) and z3.is_int(b):
        return a, z3.ToReal(b)
    raise Unsupported(f"operands of sorts {a.sort()} and {b.sort()}")


def ITE(c: Term, a: Term, b: Term) -> Term:
    if is_true(c):
        return a
    if is_false(c):
        return b
    a, b = numeric(a, b)
    if a.eq(b):
        return a
    return z3.If(c, a, b)


def scalar_eq(a: Term, b: Term) -> Term:
    a, b = numeric(a, b)
    if is_const(a) and is_const(b):
        return TRUE if const_value(a) == const_value(b) else FALSE
    if a.eq(b):
        return TRUE
    return a == b


# --- structural merge and equality -------------------------------------------


def ite(c: Term, a: Val, b: Val) -> Val:
    """`if c then a else b` on symbolic values of one type."""
    if is_true(c):
        return a
    if is_false(c):
        return b
    if isinstance(a, Opt) or isinstance(b, Opt):
        oa, ob = as_opt(a), as_opt(b)
        if oa.value is None:
            return Opt(ITE(c, oa.present, ob.present), ob.value)
        if ob.value is None:
            return Opt(ITE(c, oa.present, ob.present), oa.value)
        return Opt(ITE(c, oa.present, ob.present), ite(c, oa.value, ob.value))
    if isinstance(a, Rec) and isinstance(b, Rec):
        return Rec({k: ite(c, v, b.fields[k]) for k, v in a.fields.items() if k in b.fields})
    if isinstance(a, GList) and isinstance(b, GList):
        return GList(
            tuple((AND(c, g), v) for g, v in a.items)
            + tuple((AND(NOT(c), g), v) for g, v in b.items),
            a.is_set and b.is_set,
            a.bounded or b.bounded,
        )
    if isinstance(a, GMap) and isinstance(b, GMap):
        return GMap(
            tuple((AND(c, g), k, v) for g, k, v in a.entries)
            + tuple((AND(NOT(c), g), k, v) for g, k, v in b.entries)
        )
    if isinstance(a, (Table, GList, GMap, Rec)) or isinstance(b, (Table, GList, GMap, Rec)):
        raise Unsupported("a conditional between values of different shapes")
    return ITE(c, a, b)


def as_opt(v: Val) -> Opt:
    if isinstance(v, Opt):
        if isinstance(v.value, Opt):  # optional of optional is optional
            return Opt(AND(v.present, v.value.present), v.value.value)
        return v
    return Opt(TRUE, v)


def payload(v: Val) -> Val:
    """The value of an optional the checker knows to be present here (narrowed)."""
    if isinstance(v, Opt):
        if v.value is None:
            raise Unsupported("a value known to be null used as a value")
        return payload(v.value)
    return v


def present(v: Val) -> Term:
    return as_opt(v).present if isinstance(v, Opt) else TRUE


def positions(items: tuple[tuple[Term, Val], ...]) -> list[Term]:
    """For each item, its index among the items that are there (when it is there)."""
    out = []
    count: Term = z3.IntVal(0)
    for guard, _ in items:
        out.append(count)
        if is_true(guard):
            count = z3.simplify(count + 1)
        elif not is_false(guard):
            count = count + z3.If(guard, 1, 0)
    return out


def length(v: GList | GMap) -> Term:
    guards = [g for g, _ in v.items] if isinstance(v, GList) else first_entries(v)
    total: Term = z3.IntVal(0)
    for g in guards:
        if is_true(g):
            total = total + 1
        elif not is_false(g):
            total = total + z3.If(g, 1, 0)
    return z3.simplify(total) if is_const(z3.simplify(total)) else total


def first_entries(m: GMap) -> list[Term]:
    """The guard of each entry that counts (present, and no earlier entry with its key)."""
    out = []
    for i, (g, k, _) in enumerate(m.entries):
        earlier = [AND(g2, equal(k2, k)) for g2, k2, _ in m.entries[:i]]
        out.append(AND(g, NOT(OR(*earlier))))
    return out


def equal(a: Val, b: Val) -> Term:
    """Whether two values are equal (the engine's `==`, and equality of results)."""
    if isinstance(a, Opt) or isinstance(b, Opt):
        oa, ob = as_opt(a), as_opt(b)
        both_absent = AND(NOT(oa.present), NOT(ob.present))
        if oa.value is None or ob.value is None:
            return both_absent
        return OR(both_absent, AND(oa.present, ob.present, equal(oa.value, ob.value)))
    if isinstance(a, Rec) and isinstance(b, Rec):
        if set(a.fields) != set(b.fields):
            return FALSE
        return AND(*(equal(v, b.fields[k]) for k, v in a.fields.items()))
    if isinstance(a, GList) and isinstance(b, GList):
        if a.is_set or b.is_set:
            return AND(
                *(z3.Implies(g, member(v, b)) for g, v in a.items if not is_false(g)),
                *(z3.Implies(g, member(v, a)) for g, v in b.items if not is_false(g)),
            )
        return list_equal(a, b)
    if isinstance(a, GMap) and isinstance(b, GMap):
        fa, fb = first_entries(a), first_entries(b)
        return AND(
            *(
                z3.Implies(g, map_has(b, fb, k, v))
                for g, (_, k, v) in zip(fa, a.entries, strict=True)
            ),
            *(
                z3.Implies(g, map_has(a, fa, k, v))
                for g, (_, k, v) in zip(fb, b.entries, strict=True)
            ),
        )
    if isinstance(a, (GList, GMap, Rec, Table)) or isinstance(b, (GList, GMap, Rec, Table)):
        raise Unsupported("equality of values of different shapes")
    return scalar_eq(a, b)


def map_has(m: GMap, firsts: list[Term], key: Val, value: Val) -> Term:
    return OR(
        *(
            AND(g, equal(k, key), equal(v, value))
            for g, (_, k, v) in zip(firsts, m.entries, strict=True)
        )
    )


def list_equal(a: GList, b: GList) -> Term:
    pa, pb = positions(a.items), positions(b.items)
    parts = [length(a) == length(b)]
    for (ga, va), ia in zip(a.items, pa, strict=True):
        if is_false(ga):
            continue
        for (gb, vb), ib in zip(b.items, pb, strict=True):
            if is_false(gb):
                continue
            same_place = scalar_eq(ia, ib)
            if is_false(same_place):
                continue
            parts.append(z3.Implies(AND(ga, gb, same_place), equal(va, vb)))
    return AND(*parts)


def member(x: Val, coll: GList) -> Term:
    return OR(*(AND(g, equal(v, x)) for g, v in coll.items))
