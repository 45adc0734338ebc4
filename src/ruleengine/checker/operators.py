"""Operators: comparison, membership, arithmetic, `and`/`or`, `??`.

A mixin of `ExprChecker` (exprs.py), which provides `check` and `err`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Code, Note
from ..nodes import Binary, Expr, ListLit, Literal, Member, SetLit, Var, unparse
from ..typesys import (
    BOOL,
    DECIMAL,
    ERROR,
    INT,
    NULL,
    STRING,
    ListT,
    MapT,
    OptT,
    Prim,
    RecordT,
    SetT,
    TableT,
    Type,
    comparable,
    is_numeric,
    is_optional,
    is_ordered,
    strip,
    unify,
)
from .literals import constraints_of, likely_meant, never_fits
from .narrowing import Narrowing, narrow
from .state import CheckState, Scope, hint, note


class OperatorTyping:
    if TYPE_CHECKING:

        def check(self, node: Expr, scope: Scope, facts: Narrowing) -> Type: ...

        state: CheckState

        def err(
            self,
            node: Expr,
            code: Code,
            message: str,
            hint: str | None = None,
            notes: tuple[Note, ...] = (),
        ) -> Type: ...

    def binary(self, node: Binary, scope: Scope, facts: Narrowing) -> Type:
        op = node.op
        lt = self.check(node.left, scope, facts)
        if op == "and":
            rt = self.check(node.right, scope, facts | narrow(node.left, True))
        elif op == "or":
            rt = self.check(node.right, scope, facts | narrow(node.left, False))
        else:
            rt = self.check(node.right, scope, facts)
        if ERROR in (lt, rt):
            return ERROR
        if op in ("and", "or"):
            for side, t in ((node.left, lt), (node.right, rt)):
                if t != BOOL:
                    self.err(side, Code.TYPE_MISMATCH, f"`{op}` needs bools, got {t}")
            return BOOL
        if op in ("==", "!="):
            if not comparable(lt, rt):
                return self.err(
                    node,
                    Code.TYPE_MISMATCH,
                    f"cannot compare {lt} with {rt}: they are never equal",
                    compare_hint(lt, rt),
                )
            self.enum_literal(node.left, lt, node.right, scope)
            self.enum_literal(node.right, rt, node.left, scope)
            return BOOL
        if op in ("<", "<=", ">", ">="):
            for side, t in ((node.left, lt), (node.right, rt)):
                if is_optional(t):
                    self.err(
                        side,
                        Code.OPTIONAL_VALUE,
                        f"`{unparse(side)}` may be null; it cannot be ordered",
                        "handle null first: `x ?? default` or `if x != null then ... else ...`",
                    )
                    return BOOL
            if not (is_ordered(lt) and is_ordered(rt) and unify(lt, rt) is not None):
                return self.err(node, Code.TYPE_MISMATCH, f"cannot order {lt} and {rt} with `{op}`")
            return BOOL
        if op in ("in", "not in"):
            return self.membership(node, lt, rt, scope)
        if op == "??":
            joined = unify(strip(lt), rt)
            if joined is None:
                return self.err(
                    node,
                    Code.TYPE_MISMATCH,
                    f"`??` needs a default of the same type: {strip(lt)} and {rt}",
                )
            return joined
        return self.arithmetic(node, lt, rt, facts)

    def membership(self, node: Binary, lt: Type, rt: Type, scope: Scope) -> Type:
        if isinstance(rt, (ListT, SetT)):
            want = rt.elem
        elif isinstance(rt, MapT):
            want = rt.key
        elif isinstance(rt, TableT):
            if len(rt.keys) != 1:
                return self.err(
                    node.right,
                    Code.TYPE_MISMATCH,
                    f"table {rt.name!r} has a {len(rt.keys)}-column key; test `{rt.name}[...] != null` instead",
                )
            want = rt.keys[0]
        elif rt == STRING:
            want = STRING
        else:
            return self.err(
                node.right,
                Code.TYPE_MISMATCH,
                f"`{node.op}` needs a list, set, map, table or string on its right, got {rt}",
            )
        if not comparable(lt, want):
            return self.err(
                node,
                Code.TYPE_MISMATCH,
                f"{lt} is never in a collection of {want}",
                compare_hint(lt, want),
            )
        if isinstance(node.right, (ListLit, SetLit)):
            for item in node.right.items:
                self.enum_literal(node.left, lt, item, scope)
        elif isinstance(node.right, Var) and isinstance(rt, SetT):
            self.table_items_fit(node.left, lt, node.right.name, scope)
        return BOOL

    def table_items_fit(self, side: Expr, t: Type, table: str, scope: Scope) -> None:
        """`field in some_set_table`: every item the field's declaration never allows."""
        rules = constraints_of(t)
        checked = self.state.tables.get(table)
        if rules is None or checked is None or not _is_field(side, scope):
            return
        definition = checked.definition
        for i, item in enumerate(definition.value if definition.kind == "set" else ()):
            why = never_fits(item, rules)
            if why is not None and i < len(definition.item_locations):
                self.state.at(
                    definition.item_locations[i],
                    Code.LITERAL_NEVER_MATCHES,
                    f"{item!r} in table {table!r} never matches `{unparse(side)}`: {why}",
                    likely_meant(item, rules),
                    note(f"`{unparse(side)}` is declared here", rules.declared_at),
                )

    def enum_literal(self, side: Expr, t: Type, other: Expr, scope: Scope) -> None:
        rules = constraints_of(t)
        if rules is not None and isinstance(other, Literal) and _is_field(side, scope):
            why = never_fits(other.value, rules)
            if why is not None:
                self.err(
                    other,
                    Code.LITERAL_NEVER_MATCHES,
                    f"{other.value!r} never matches `{unparse(side)}`: {why}",
                    likely_meant(other.value, rules),
                    note(f"`{unparse(side)}` is declared here", rules.declared_at),
                )
                return
        base = strip(t)
        enum = base.enum if isinstance(base, Prim) else None
        if (
            enum
            and isinstance(other, Literal)
            and isinstance(other.value, str)
            and other.value not in enum
        ):
            self.err(
                other,
                Code.NOT_IN_ENUM,
                f"{other.value!r} is never a value of `{unparse(side)}` "
                f"(one of: {', '.join(sorted(enum))})",
                hint(other.value, sorted(enum)),
            )

    def arithmetic(self, node: Binary, lt: Type, rt: Type, facts: Narrowing) -> Type:
        op = node.op
        if _has_error(lt) or _has_error(rt):
            return ERROR  # already reported where it arose
        for side, t in ((node.left, lt), (node.right, rt)):
            if is_optional(t) and t != NULL:
                self.err(
                    side,
                    Code.OPTIONAL_VALUE,
                    f"`{unparse(side)}` may be null; it cannot be used in `{op}`",
                    "handle null first: `x ?? default` or `if x != null then ... else ...`",
                )
                return ERROR
        if op == "+":
            if lt == STRING and rt == STRING:
                return STRING
            if isinstance(lt, ListT) and isinstance(rt, ListT):
                joined = unify(lt, rt)
                if joined is None:
                    return self.err(node, Code.TYPE_MISMATCH, f"cannot join {lt} and {rt}")
                return joined
        if not (is_numeric(lt) and is_numeric(rt)):
            return self.err(node, Code.TYPE_MISMATCH, f"`{op}` needs numbers, got {lt} and {rt}")
        if op == "%":
            if lt != INT or rt != INT:
                return self.err(node, Code.TYPE_MISMATCH, f"`%` needs ints, got {lt} and {rt}")
            self.nonzero(node.right, facts)
            return INT
        if op == "/":
            self.nonzero(node.right, facts)
            return DECIMAL
        return INT if lt == INT and rt == INT else DECIMAL

    def nonzero(self, divisor: Expr, facts: Narrowing) -> None:
        if isinstance(divisor, Literal):
            if divisor.value == 0:
                self.err(divisor, Code.DIVISION_BY_ZERO, "division by zero")
            return
        if (unparse(divisor), "nonzero") in facts:
            return
        self.err(
            divisor,
            Code.DIVISION_BY_ZERO,
            f"`{unparse(divisor)}` may be zero",
            f"guard the division: `if {unparse(divisor)} != 0 then ... else ...`",
        )


def compare_hint(a: Type, b: Type) -> str | None:
    if STRING in (strip(a), strip(b)) and {strip(a), strip(b)} & {INT, DECIMAL}:
        return "numbers are written without quotes"
    return None


def _has_error(t: Type) -> bool:
    if t == ERROR:
        return True
    if isinstance(t, (ListT, SetT)):
        return _has_error(t.elem)
    if isinstance(t, OptT):
        return _has_error(t.inner)
    if isinstance(t, MapT):
        return _has_error(t.key) or _has_error(t.value)
    if isinstance(t, RecordT):
        return any(_has_error(ft) for _, ft in t.fields)
    return False


def _is_field(node: Expr, scope: Scope) -> bool:
    """A read of a declared field: `order.country`, or a decision input."""
    if isinstance(node, Member):
        return True
    return isinstance(node, Var) and scope.kinds.get(node.name) == "input"
