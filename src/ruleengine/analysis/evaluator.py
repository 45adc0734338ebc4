"""The typed AST -> symbolic values (z3 terms), for one version.

`Evaluator.expr` follows the engine's semantics node by node. Helpers and rule
groups are inlined at each call. What it cannot translate raises `Unsupported`
naming the construct, so callers report "not analysed" / "not proved" instead
of a result. Hooks let the analysis see each `if` condition and each table
lookup with the path condition under which it is evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import z3

from ..model import ExprSource
from ..nodes import (
    Binary,
    Call,
    Expr,
    IfElse,
    Index,
    ListLit,
    Literal,
    Macro,
    MapLit,
    Member,
    RecordLit,
    SetLit,
    Unary,
    Var,
)
from ..typesys import DECIMAL, strip
from . import builtins
from .constants import placeholder, scalar, table_value
from .program import CheckedGroup, CheckedVersion
from .values import (
    AND,
    FALSE,
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
    equal,
    ite,
    member,
    payload,
)


@dataclass(frozen=True, slots=True)
class Seen:
    """A condition or lookup met during evaluation, with where it is and when it runs."""

    node: Expr
    source: ExprSource | None
    guard: Term
    term: Term  # the condition, or whether the lookup finds a row
    keys: tuple[Val, ...] = ()
    table: str | None = None
    own_keys: tuple[tuple[Term, ...], ...] = ()  # per key: the values the table has


def _unique(terms: list[Term]) -> tuple[Term, ...]:
    return tuple({t.get_id(): t for t in terms}.values())


Hook = Callable[[Seen], None]


class Evaluator:
    """Evaluates expressions of one checked version to symbolic values."""

    def __init__(
        self,
        checked: CheckedVersion,
        as_of: Term,
        locale: Term,
        hook: Hook | None = None,
        facts: list[Term] | None = None,
    ):
        self.checked = checked
        # True facts about the uninterpreted functions used (add_months bounds), for the solver.
        self.facts: list[Term] = facts if facts is not None else []
        self.as_of = as_of
        self.locale = locale
        self.hook = hook
        self.guard: Term = TRUE
        self.source: ExprSource | None = None
        self.bounded = False  # an input list's bound was relied on
        self._tables: dict[str, Val] = {}
        self._functions = {f.name: f for f in checked.functions}

    # -- context ---------------------------------------------------------------

    @contextmanager
    def under(self, condition: Term) -> Iterator[None]:
        saved = self.guard
        self.guard = AND(saved, condition)
        try:
            yield
        finally:
            self.guard = saved

    @contextmanager
    def reading(self, source: ExprSource | None) -> Iterator[None]:
        saved = self.source
        self.source = source
        try:
            yield
        finally:
            self.source = saved

    def table(self, name: str) -> Val:
        found = self._tables.get(name)
        if found is None:
            found = self._tables[name] = table_value(self.checked.tables[name])
        return found

    def is_decimal(self, node: Expr) -> bool:
        t = self.checked.types.get(id(node))
        return t is not None and strip(t) == DECIMAL

    # -- expressions -----------------------------------------------------------

    def expr(self, node: Expr, env: dict[str, Val]) -> Val:
        value = self.translate(node, env)
        if isinstance(value, Opt) and value.value is None:
            t = self.checked.types.get(id(node))
            stand_in = placeholder(t) if t is not None else None
            if stand_in is not None:
                return Opt(value.present, stand_in)
        return value

    def translate(self, node: Expr, env: dict[str, Val]) -> Val:
        match node:
            case Literal(value=value):
                return scalar(value, self.checked.types.get(id(node)))
            case Var(name=name):
                return self.var(name, env, node)
            case Member(obj=obj, name=name, safe=safe):
                return self.member(self.expr(obj, env), name, safe, node)
            case Index(obj=obj, keys=keys):
                target = self.expr(obj, env)
                return self.index(target, [self.expr(k, env) for k in keys], node)
            case Call(name=name, args=args):
                return self.call(node, name, args, env)
            case Macro():
                return builtins.macro(self, node, env)
            case Unary(op=op, operand=operand):
                inner = payload(self.expr(operand, env))
                return NOT(inner) if op == "not" else -inner
            case Binary():
                return self.binary(node, env)
            case IfElse(cond=cond, then=then, otherwise=otherwise):
                c = self.truth(cond, env)
                self.seen(node, c)
                with self.under(c):
                    a = self.expr(then, env)
                with self.under(NOT(c)):
                    b = self.expr(otherwise, env)
                return self.widen(ite(c, a, b), node)
            case ListLit(items=items):
                return GList(tuple((TRUE, self.widen(self.expr(i, env), node)) for i in items))
            case SetLit(items=items):
                return GList(tuple((TRUE, self.expr(i, env)) for i in items), True)
            case RecordLit(fields=fields):
                return Rec({k: self.expr(v, env) for k, v in fields})
            case MapLit(entries=entries):
                return GMap(tuple((TRUE, self.expr(k, env), self.expr(v, env)) for k, v in entries))
        raise Unsupported(f"the expression {type(node).__name__}", node)

    def widen(self, value: Val, node: Expr) -> Val:
        """An int where the checker says decimal becomes a Real (as the engine widens)."""
        if (
            self.is_decimal(node)
            and not isinstance(value, (Opt, Rec, GList, GMap, Table))
            and z3.is_int(value)
        ):
            return z3.ToReal(value)
        return value

    def truth(self, node: Expr, env: dict[str, Val]) -> Term:
        value = payload(self.expr(node, env))
        if not z3.is_bool(value):
            raise Unsupported("a condition that is not a bool", node)
        return value

    def seen(self, node: Expr, term: Term, **more: Any) -> None:
        if self.hook is not None:
            self.hook(Seen(node, self.source, self.guard, term, **more))

    def var(self, name: str, env: dict[str, Val], node: Expr) -> Val:
        if name in env:
            return env[name]
        if name in self.checked.tables:
            return self.table(name)
        if name == "as_of":
            return self.as_of
        if name == "locale":
            return self.locale
        raise Unsupported(f"the name {name!r}", node)

    def member(self, obj: Val, name: str, safe: bool, node: Expr) -> Val:
        if safe:
            o = as_opt(obj)
            if o.value is None:
                return Opt(FALSE, None)
            inner = payload(o.value)
            if not isinstance(inner, Rec):
                raise Unsupported("`?.` on something other than a record", node)
            return as_opt(Opt(o.present, inner.fields[name]))
        record = payload(obj)
        if not isinstance(record, Rec) or name not in record.fields:
            raise Unsupported(f"the field access .{name}", node)
        return record.fields[name]

    def index(self, target: Val, keys: list[Val], node: Expr) -> Val:
        target = payload(target)
        if isinstance(target, Table):
            found = builtins.lookup(target, [payload(k) for k in keys])
            own = tuple(_unique([r.fields[c] for r in target.rows]) for c in target.key)
            self.seen(node, found.present, keys=tuple(keys), table=target.name, own_keys=own)
            return found
        if isinstance(target, GMap):
            key = payload(keys[0])
            hits = [(AND(g, equal(k, key)), v) for g, k, v in target.entries]
            result: Val = Opt(FALSE, None)
            for hit, value in reversed(hits):
                result = ite(hit, Opt(TRUE, value), result)
            name = node.obj.name if isinstance(node, Index) and isinstance(node.obj, Var) else "map"
            own_map = (_unique([k for _, k, _ in target.entries]),)
            self.seen(node, as_opt(result).present, keys=(key,), table=name, own_keys=own_map)
            return as_opt(result)
        if isinstance(target, GList):
            return builtins.at(self, target, payload(keys[0]), node)
        raise Unsupported("indexing this kind of value", node)

    def call(self, node: Call, name: str, args: tuple[Expr, ...], env: dict[str, Val]) -> Val:
        if name in self.checked.groups:
            values = [self.expr(a, env) for a in args]
            return self.group(self.checked.groups[name], values)
        function = self._functions.get(name)
        if function is not None:
            inner = dict(
                zip((p for p, _ in function.params), (self.expr(a, env) for a in args), strict=True)
            )
            with self.reading(function.definition.body):
                lets = {b.name: b for b in function.definition.let}
                for let_name, let_node, _ in function.lets:
                    with self.reading(lets[let_name].expr):
                        inner[let_name] = self.expr(let_node, inner)
                return self.widen(self.expr(function.body, inner), node)
        return self.widen(builtins.call(self, node, name, args, env), node)

    def group(self, group: CheckedGroup, args: list[Val]) -> Val:
        env = dict(zip((p for p, _ in group.params), args, strict=True))
        fired: list[tuple[Term, Val]] = []
        for rule in group.rules:
            with self.reading(rule.definition.when):
                cond = self.truth(rule.when, env)
            if rule.then is None:
                contribution: Val = z3.StringVal(rule.definition.reason or "")
            else:
                with self.under(cond), self.reading(rule.definition.then):
                    contribution = self.expr(rule.then, env)
            fired.append((cond, contribution))
        if group.hit == "collect":
            return GList(tuple(fired))
        result: Val = Opt(FALSE, None)
        if group.default is not None:
            with (
                self.under(NOT(OR(*(c for c, _ in fired)))),
                self.reading(group.definition.default),
            ):
                result = self.expr(group.default, env)
        for cond, contribution in reversed(fired):
            result = ite(cond, contribution, result)
        return result

    # -- operators -------------------------------------------------------------

    def binary(self, node: Binary, env: dict[str, Val]) -> Val:
        op = node.op
        if op in ("and", "or"):
            left = self.truth(node.left, env)
            with self.under(left if op == "and" else NOT(left)):
                right = self.truth(node.right, env)
            return AND(left, right) if op == "and" else OR(left, right)
        if op == "??":
            first = as_opt(self.expr(node.left, env))
            with self.under(NOT(first.present)):
                default = self.expr(node.right, env)
            if first.value is None:
                return self.widen(default, node)
            return self.widen(ite(first.present, first.value, default), node)
        left, right = self.expr(node.left, env), self.expr(node.right, env)
        if op == "==":
            return equal(left, right)
        if op == "!=":
            return NOT(equal(left, right))
        if op in ("in", "not in"):
            found = self.contains(payload(right), payload(left), node)
            return found if op == "in" else NOT(found)
        return builtins.arithmetic(op, payload(left), payload(right), node)

    def contains(self, coll: Val, item: Val, node: Expr) -> Term:
        if isinstance(coll, GList):
            self.note_bounded(coll)
            return member(item, coll)
        if isinstance(coll, Table):
            found = builtins.lookup(coll, [item])
            return found.present
        if isinstance(coll, GMap):
            return OR(*(AND(g, equal(k, item)) for g, k, _ in coll.entries))
        if z3.is_string(coll) and z3.is_string(item):
            return z3.Contains(coll, item)
        raise Unsupported("`in` on this kind of value", node)

    def note_bounded(self, value: Val) -> None:
        if isinstance(value, GList) and value.bounded:
            self.bounded = True
