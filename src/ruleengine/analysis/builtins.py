"""The standard library and operators on symbolic values.

Exact where z3 can say it exactly: dates are day numbers (`days` subtracts),
decimals are rationals, `round_money` is half-up rounding through `to_int`
(for each number of digits the currency table can give). `add_months` is an
uninterpreted function of (date, months): sound for proofs, since both
versions share it; witnesses are re-decided by the engine, never trusted.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import z3

from ..nodes import Call, Expr, Macro
from .values import (
    AND,
    FALSE,
    ITE,
    NOT,
    OR,
    TRUE,
    GList,
    GMap,
    Opt,
    Rec,
    Table,
    Term,
    Unsupported,
    Val,
    as_opt,
    const_value,
    equal,
    first_entries,
    is_const,
    ite,
    length,
    numeric,
    payload,
    positions,
)

if TYPE_CHECKING:
    from .evaluator import Evaluator

DATE_MIN, DATE_MAX = date.min.toordinal(), date.max.toordinal()
ADD_MONTHS = z3.Function("add_months", z3.IntSort(), z3.IntSort(), z3.IntSort())


def add_months_bounds(d: Term, n: Term, r: Term) -> Term:
    """What is true of add_months(d, n) = r: n months are 28n to 31n days (clamped to the
    month's end, or saturated at the first and last date)."""
    forward = z3.And(r >= d + 28 * n, r <= d + 31 * n)
    backward = z3.And(r <= d + 28 * n, r >= d + 31 * n)
    return z3.Or(r == DATE_MIN, r == DATE_MAX, z3.If(n >= 0, forward, backward))


def lookup(table: Table, keys: list[Val]) -> Opt:
    """`table[k1, k2]`: present when some row has these keys; its cells, chosen by key."""
    if len(keys) != len(table.key):
        raise Unsupported(f"a lookup in {table.name} with {len(keys)} keys")
    cache_key = tuple(k.get_id() for k in keys)
    found = table.lookups.get(cache_key)
    if found is not None:
        return found
    matches = []
    for row in table.rows:
        matches.append(
            AND(*(equal(row.fields[c], k) for c, k in zip(table.key, keys, strict=True)))
        )
    hits = [(m, row) for m, row in zip(matches, table.rows, strict=True) if not z3.is_false(m)]
    if not hits:
        result = Opt(FALSE, table.rows[0] if table.rows else None)
    else:
        value: Val = hits[-1][1]
        for m, row in reversed(hits[:-1]):
            value = ite(m, row, value)
        result = Opt(OR(*(m for m, _ in hits)), value)
    table.lookups[cache_key] = result
    return result


def at(ev: Evaluator, items: GList, index: Val, node: Expr) -> Opt:
    """`list[i]` with a constant i: the item there, or null."""
    if not z3.is_int_value(index):
        raise Unsupported("a list index that is not a constant", node)
    ev.note_bounded(items)
    i = index.as_long()
    if i < 0:
        raise Unsupported("a negative list index", node)
    result: Val = Opt(FALSE, None)
    for (g, v), p in reversed(list(zip(items.items, positions(items.items), strict=True))):
        result = ite(AND(g, p == i), Opt(TRUE, v), result)
    return as_opt(result)


def arithmetic(op: str, a: Val, b: Val, node: Expr) -> Val:
    if isinstance(a, GList) and isinstance(b, GList) and op == "+":
        return GList(a.items + b.items, False, a.bounded or b.bounded)
    if isinstance(a, (GList, GMap, Rec, Table, Opt)) or isinstance(
        b, (GList, GMap, Rec, Table, Opt)
    ):
        raise Unsupported(f"the operator {op} on these values", node)
    if z3.is_string(a) and op == "+":
        return z3.Concat(a, b)
    if op in ("<", "<=", ">", ">="):
        if z3.is_string(a):
            return {"<": a < b, "<=": a <= b, ">": b < a, ">=": b <= a}[op]
        a, b = numeric(a, b)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    a, b = numeric(a, b)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if z3.is_int(a):
            a = z3.ToReal(a)
        if z3.is_int(b):
            b = z3.ToReal(b)
        return a / b
    if op == "%" and z3.is_int(a) and z3.is_int_value(b) and b.as_long() > 0:
        return a % b  # z3 and Python agree for a positive divisor
    if op == "%":
        raise Unsupported("% by a divisor that is not a positive constant", node)
    raise Unsupported(f"the operator {op}", node)


def leaves(t: Term) -> list[int] | None:
    """The constants an if-then-else tree of int constants can take, or None."""
    if z3.is_int_value(t):
        return [t.as_long()]
    if z3.is_app_of(t, z3.Z3_OP_ITE):
        a, b = leaves(t.arg(1)), leaves(t.arg(2))
        if a is not None and b is not None:
            return sorted(set(a + b))
    return None


def round_half_up(x: Term, digits: int) -> Term:
    scale = z3.RealVal(10 ** min(max(digits, 0), 18))
    up = z3.ToReal(z3.ToInt(x * scale + z3.RealVal("1/2"))) / scale
    down = -z3.ToReal(z3.ToInt(-x * scale + z3.RealVal("1/2"))) / scale
    return z3.If(x >= 0, up, down)


def round_money(x: Term, digits: Term, node: Expr) -> Term:
    if z3.is_int(x):
        x = z3.ToReal(x)
    options = leaves(z3.simplify(digits))
    if options is None:
        raise Unsupported("round_money to a number of digits that is not a table value", node)
    result = round_half_up(x, options[-1])
    for d in reversed(options[:-1]):
        result = z3.If(digits == d, round_half_up(x, d), result)
    return result


def text_of(ev: Evaluator, code: Term, pick: str) -> Val:
    """message(code) or remedy(code), by the version's reasons (and the locale)."""
    reasons = ev.checked.reasons
    locales = ev.checked.model.manifest.locales

    def one(reason: str) -> Val:
        r = reasons[reason]
        if pick == "remedy":
            return Opt(TRUE, z3.StringVal(r.remedy)) if r.remedy else Opt(FALSE, None)
        texts = dict(r.messages)
        result: Term = z3.StringVal(texts.get(locales[-1], reason))
        for loc in reversed(locales[:-1]):
            result = ITE(ev.locale == loc, z3.StringVal(texts.get(loc, reason)), result)
        return result

    if is_const(code):
        value = const_value(code)
        if value in reasons:
            return one(value)
        return Opt(FALSE, None) if pick == "remedy" else code
    fallback: Val = Opt(FALSE, None) if pick == "remedy" else code
    for reason in reversed(list(reasons)):
        fallback = ite(code == reason, one(reason), fallback)
    return fallback


def extremum(ev: Evaluator, name: str, values: list[Val], node: Call) -> Val:
    if len(values) == 1 and isinstance(payload(values[0]), GList):
        items = payload(values[0])
        assert isinstance(items, GList)
        ev.note_bounded(items)
        best: Val = Opt(FALSE, None)
        for g, v in items.items:
            o = as_opt(best)
            v = payload(v)
            if o.value is None:
                take = g
            else:
                old = payload(o.value)
                better = v < old if name == "min" else v > old
                take = AND(g, OR(NOT(o.present), better))
            best = ite(take, Opt(TRUE, v), best)
        return as_opt(best)
    result = payload(values[0])
    for v in values[1:]:
        v = payload(v)
        result, v = numeric(result, v)
        result = ITE(v < result if name == "min" else v > result, v, result)
    return result


def call(ev: Evaluator, node: Call, name: str, args: tuple[Expr, ...], env: dict[str, Val]) -> Val:
    values = [ev.expr(a, env) for a in args]
    if name in ("min", "max"):
        return extremum(ev, name, values, node)
    first = payload(values[0]) if values else None
    if name == "len":
        if isinstance(first, (GList, GMap)):
            if isinstance(first, GList):
                ev.note_bounded(first)
            return length(first)
        if isinstance(first, Table):
            return z3.IntVal(len(first.rows))
        if first is not None and z3.is_string(first):
            return z3.Length(first)
    if name == "sum" and isinstance(first, GList):
        ev.note_bounded(first)
        zero: Term = z3.RealVal(0) if ev.is_decimal(node) else z3.IntVal(0)
        total = zero
        for g, v in first.items:
            total = total + ITE(g, *numeric(payload(v), zero))
        return total
    if name == "distinct" and isinstance(first, GList):
        ev.note_bounded(first)
        kept = []
        for i, (g, v) in enumerate(first.items):
            earlier = [AND(g2, equal(v2, v)) for g2, v2 in first.items[:i]]
            kept.append((AND(g, NOT(OR(*earlier))), v))
        return GList(tuple(kept), False, first.bounded)
    if name == "flatten" and isinstance(first, GList):
        items: list[tuple[Term, Val]] = []
        for g, inner in first.items:
            inner = payload(inner)
            if not isinstance(inner, GList):
                raise Unsupported("flatten of something other than lists", node)
            items.extend((AND(g, g2), v) for g2, v in inner.items)
        return GList(tuple(items), False, first.bounded)
    if name in ("keys", "values") and isinstance(first, GMap):
        guards = first_entries(first)
        part = 1 if name == "keys" else 2
        return GList(tuple((g, e[part]) for g, e in zip(guards, first.entries, strict=True)))
    if name == "days":
        return payload(values[1]) - first
    if name == "add_days":  # saturates at date.min and date.max, as the engine does
        total = first + payload(values[1])
        return z3.If(total < DATE_MIN, DATE_MIN, z3.If(total > DATE_MAX, DATE_MAX, total))
    if name == "add_months":
        result = ADD_MONTHS(first, payload(values[1]))
        ev.facts.append(add_months_bounds(first, payload(values[1]), result))
        return result
    if name == "round_money":
        return round_money(first, payload(values[1]), node)
    if name == "abs" and first is not None:
        return ITE(first < 0, -first, first)
    if name in ("message", "remedy"):
        return text_of(ev, first, name)
    raise Unsupported(f"the function {name}()", node)


def iterate(ev: Evaluator, coll: Val, node: Expr) -> GList:
    coll = payload(coll)
    if isinstance(coll, Table):
        return GList(tuple((TRUE, row) for row in coll.rows))
    if isinstance(coll, GList):
        ev.note_bounded(coll)
        return coll
    raise Unsupported("a quantifier over this kind of value", node)


def macro(ev: Evaluator, node: Macro, env: dict[str, Val]) -> Val:
    items = iterate(ev, ev.expr(node.collection, env), node)
    name = node.name
    results = []
    for g, v in items.items:
        inner = {**env, node.var: v}
        with ev.under(g):
            results.append((g, v, [ev.expr(b, inner) for b in node.body]))
    if name == "any":
        return OR(*(AND(g, payload(r[0])) for g, _, r in results))
    if name == "all":
        return AND(
            *(
                z3.Implies(g, payload(r[0])) if not z3.is_true(g) else payload(r[0])
                for g, _, r in results
            )
        )
    if name == "count":
        total: Term = z3.IntVal(0)
        for g, _, r in results:
            total = total + z3.If(AND(g, payload(r[0])), 1, 0)
        return total
    if name == "sum":
        zero: Term = z3.RealVal(0) if ev.is_decimal(node) else z3.IntVal(0)
        acc = zero
        for g, _, r in results:
            acc = acc + ITE(g, *numeric(payload(r[0]), zero))
        return acc
    if name == "map":
        return GList(tuple((g, r[0]) for g, _, r in results), False, items.bounded)
    if name == "filter":
        return GList(
            tuple((AND(g, payload(r[0])), v) for g, v, r in results), items.is_set, items.bounded
        )
    if name == "first":
        found: Val = Opt(FALSE, None)
        for g, v, r in reversed(results):
            found = ite(AND(g, payload(r[0])), Opt(TRUE, v), found)
        return as_opt(found)
    if name == "to_map":
        return GMap(tuple((g, r[0], r[1]) for g, _, r in results))
    raise Unsupported(f"the quantifier {name}()", node)
