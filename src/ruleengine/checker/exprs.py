"""Expression typing: every node gets a type, every misuse a positioned diagnostic.

Optional values must be handled before use (narrowing through `x != null`,
`??`); division needs a divisor known to be non-zero (a non-zero literal, or
narrowed by `d != 0` / `d > 0`). A node whose type is `ERROR` has been
reported; expressions built on it stay quiet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from ..errors import Code, Note, RuleFileError
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
    unparse,
)
from ..parse import parse_expression
from ..stdlib import BUILTINS, MACROS, RESERVED_NAMES
from ..typesys import (
    BOOL,
    ERROR,
    HASHABLE,
    INT,
    NEVER,
    NULL,
    ListT,
    MapT,
    OptT,
    RecordT,
    SetT,
    TableT,
    Type,
    assignable,
    is_numeric,
    is_optional,
    optional,
    strip,
    unify,
)
from .narrowing import NO_NARROWING, Narrowing, narrow
from .operators import OperatorTyping
from .state import CheckState, Scope, hint
from .tables import literal_type


class ExprChecker(OperatorTyping):
    """Types expressions against a scope; `source` is the expression being checked."""

    def __init__(self, state: CheckState):
        self.state = state
        self.source: ExprSource | None = None

    def err(
        self,
        node: Expr,
        code: Code,
        message: str,
        hint: str | None = None,
        notes: tuple[Note, ...] = (),
    ) -> Type:
        assert self.source is not None
        found = self.source.diagnostic(code, message, node.span.start, node.span.end, hint)
        self.state.diagnostics.append(replace(found, notes=notes) if notes else found)
        return ERROR

    def parse(self, source: ExprSource) -> Expr | None:
        try:
            return parse_expression(source)
        except RuleFileError as exc:
            self.state.diagnostics.extend(exc.diagnostics)
            return None

    def expr(
        self, source: ExprSource, scope: Scope, facts: Narrowing = NO_NARROWING
    ) -> tuple[Expr | None, Type]:
        node = self.parse(source)
        if node is None:
            return None, ERROR
        self.source = source
        return node, self.check(node, scope, facts)

    def check(self, node: Expr, scope: Scope, facts: Narrowing) -> Type:
        t = self._check(node, scope, facts)
        if (
            facts
            and isinstance(t, OptT)
            and isinstance(node, (Var, Member, Index, Call))
            and (unparse(node), "nonnull") in facts
        ):
            t = t.inner
        self.state.types[id(node)] = t
        return t

    def _check(self, node: Expr, scope: Scope, facts: Narrowing) -> Type:
        match node:
            case Literal(value=value):
                return literal_type(value)
            case Var(name=name):
                return self.var(node, name, scope)
            case Member(obj=obj, name=name, safe=True):
                t = self.check(obj, scope, facts)
                if t == ERROR:
                    return ERROR
                if not is_optional(t):
                    return self.err(
                        node,
                        Code.TYPE_MISMATCH,
                        f"`{unparse(obj)}` is never null; write `.{name}`, not `?.{name}`",
                    )
                return optional(self.member(node, strip(t), name, obj))
            case Member(obj=obj, name=name):
                return self.member(node, self.check(obj, scope, facts), name, obj)
            case Index(obj=obj, keys=keys):
                return self.index(node, obj, keys, scope, facts)
            case Call():
                return self.call(node, scope, facts)
            case Macro():
                return self.macro(node, scope, facts)
            case Unary():
                return self.unary(node, scope, facts)
            case Binary():
                return self.binary(node, scope, facts)
            case IfElse():
                return self.if_else(node, scope, facts)
            case ListLit(items=items):
                return ListT(self.join_items(node, items, scope, facts, "list"))
            case SetLit(items=items):
                return self.set_literal(node, items, scope, facts)
            case RecordLit(fields=fields):
                return RecordT(
                    tuple((name, self.check(value, scope, facts)) for name, value in fields)
                )
            case MapLit(entries=entries):
                return self.map_literal(node, entries, scope, facts)
        raise AssertionError(f"unhandled node {node!r}")  # pragma: no cover

    def unary(self, node: Unary, scope: Scope, facts: Narrowing) -> Type:
        op, operand = node.op, node.operand
        t = self.check(operand, scope, facts)
        if t == ERROR:
            return ERROR
        if op == "not":
            return (
                BOOL
                if t == BOOL
                else self.err(node, Code.TYPE_MISMATCH, f"`not` needs a bool, got {t}")
            )
        if is_numeric(t):
            return t
        return self.err(node, Code.TYPE_MISMATCH, f"`-` needs a number, got {t}")

    def if_else(self, node: IfElse, scope: Scope, facts: Narrowing) -> Type:
        cond, then, otherwise = node.cond, node.then, node.otherwise
        ct = self.check(cond, scope, facts)
        if ct not in (BOOL, ERROR):
            self.err(
                cond,
                Code.TYPE_MISMATCH,
                f"the condition of `if` must be a bool, got {ct}",
                "compare it with something, e.g. `x != null`" if is_optional(ct) else None,
            )
        tt = self.check(then, scope, facts | narrow(cond, True))
        et = self.check(otherwise, scope, facts | narrow(cond, False))
        if ERROR in (tt, et):
            return ERROR
        joined = unify(tt, et)
        if joined is None:
            return self.err(
                node,
                Code.TYPE_MISMATCH,
                f"the branches of `if` have different types: {tt} and {et}",
            )
        return joined

    def set_literal(
        self, node: SetLit, items: tuple[Expr, ...], scope: Scope, facts: Narrowing
    ) -> Type:
        elem = self.join_items(node, items, scope, facts, "set")
        if elem not in (*HASHABLE, ERROR, NEVER):
            return self.err(
                node,
                Code.TYPE_MISMATCH,
                f"set items must be int, decimal, string, bool or date, not {elem}",
            )
        return SetT(elem)

    def map_literal(
        self,
        node: MapLit,
        entries: tuple[tuple[Expr, Expr], ...],
        scope: Scope,
        facts: Narrowing,
    ) -> Type:
        kt = self.join_items(node, [k for k, _ in entries], scope, facts, "map key")
        vt = self.join_items(node, [v for _, v in entries], scope, facts, "map value")
        if strip(kt) not in (*HASHABLE, ERROR) or is_optional(kt):
            return self.err(
                node,
                Code.TYPE_MISMATCH,
                f"map keys must be int, decimal, string, bool or date, not {kt}",
            )
        return MapT(kt, vt)

    def join_items(
        self, node: Expr, items: Iterable[Expr], scope: Scope, facts: Narrowing, what: str
    ) -> Type:
        result: Type = NEVER
        for item in items:
            t = self.check(item, scope, facts)
            if t == ERROR or result == ERROR:
                result = ERROR
                continue
            joined = unify(result, t)
            if joined is None:
                self.err(
                    item, Code.TYPE_MISMATCH, f"{what} items must share one type: {result} and {t}"
                )
                result = ERROR
            else:
                result = joined
        return result

    def var(self, node: Var, name: str, scope: Scope) -> Type:
        if name in scope.names:
            return scope.names[name]
        if name in self.state.tables:
            return self.state.tables[name].type
        if self.state.is_broken("value", name):
            return ERROR  # reported where it is defined
        if name in self.state.callables or name in BUILTINS:
            return self.err(
                node, Code.TYPE_MISMATCH, f"{name!r} is a function; call it: {name}(...)"
            )
        known = [*scope.names, *self.state.tables]
        return self.err(
            node,
            Code.UNKNOWN_NAME,
            f"unknown name {name!r}",
            hint(name, known) or _quote_hint(name, self.source),
        )

    def member(self, node: Member, t: Type, name: str, obj: Expr) -> Type:
        if t == ERROR:
            return ERROR
        if isinstance(t, OptT) and isinstance(t.inner, RecordT):
            return self.err(
                node,
                Code.OPTIONAL_VALUE,
                f"`{unparse(obj)}` may be null; check it before reading `.{name}`",
                f"write `{unparse(obj)}?.{name}` (null when it is null), or check `{unparse(obj)} != null` first",
            )
        if not isinstance(t, RecordT):
            return self.err(node, Code.TYPE_MISMATCH, f"{t} has no fields; cannot read `.{name}`")
        ft = t.field_type(name)
        if ft is None:
            return self.err(
                node,
                Code.UNKNOWN_FIELD,
                f"{t} has no field {name!r}",
                hint(name, t.field_names) or f"its fields: {', '.join(t.field_names)}",
            )
        return ft

    def index(
        self, node: Index, obj: Expr, keys: tuple[Expr, ...], scope: Scope, facts: Narrowing
    ) -> Type:
        t = self.check(obj, scope, facts)
        key_types = [self.check(k, scope, facts) for k in keys]
        if t == ERROR or ERROR in key_types:
            return ERROR
        if isinstance(t, TableT):
            if len(keys) != len(t.keys):
                return self.err(
                    node,
                    Code.ARITY,
                    f"table {t.name!r} is keyed by {len(t.keys)} column(s), got {len(keys)} key(s)",
                )
            for key, want, got in zip(keys, t.keys, key_types, strict=True):
                self.need(key, got, want, "table key")
            return OptT(t.row)
        if len(keys) != 1:
            return self.err(node, Code.ARITY, f"{t} takes one key, got {len(keys)}")
        if isinstance(t, MapT):
            self.need(keys[0], key_types[0], t.key, "map key")
            return optional(t.value)
        if isinstance(t, ListT):
            self.need(keys[0], key_types[0], INT, "list index")
            return optional(t.elem)
        return self.err(node, Code.TYPE_MISMATCH, f"cannot look up a key in {t}")

    def need(self, node: Expr, got: Type, want: Type, what: str) -> bool:
        if got == ERROR or want == ERROR or assignable(got, want):
            return True
        if is_optional(got) and assignable(strip(got), want):
            self.err(
                node,
                Code.OPTIONAL_VALUE,
                f"{what} `{unparse(node)}` may be null",
                "handle null first: `x ?? default` or `if x != null then ... else ...`",
            )
        else:
            self.err(node, Code.TYPE_MISMATCH, f"{what} must be {want}, got {got}")
        return False

    def call(self, node: Call, scope: Scope, facts: Narrowing) -> Type:
        name = node.name
        if name in MACROS and name not in BUILTINS and name not in self.state.callables:
            # `any(x in xs)`: a variable-binding function without its body; its arguments
            # would only give follow-on errors (`x` is unknown).
            return self.err(node, Code.ARITY, f"{name}() binds a variable: {MACROS[name][1]}")
        arg_types = [self.check(a, scope, facts) for a in node.args]
        if name not in self.state.callables and self.state.is_broken("value", name):
            return ERROR  # reported where it is defined
        if name in self.state.callables:
            params, result = self.state.callables[name]
            if len(node.args) != len(params):
                return self.err(
                    node,
                    Code.ARITY,
                    f"{name}() takes {len(params)} argument(s), got {len(node.args)}",
                    f"{name}({', '.join(p for p, _ in params)})",
                )
            for arg, (pname, ptype), at in zip(node.args, params, arg_types, strict=True):
                self.need(arg, at, ptype, f"argument `{pname}` of {name}()")
            return result
        builtin = BUILTINS.get(name)
        if builtin is None:
            if name in MACROS:
                return self.err(node, Code.ARITY, f"{name}() binds a variable: {MACROS[name][1]}")
            if name in scope.names or name in self.state.tables:
                return self.err(node, Code.TYPE_MISMATCH, f"{name!r} is not a function")
            known = [*BUILTINS, *self.state.callables]
            return self.err(
                node, Code.UNKNOWN_FUNCTION, f"unknown function {name!r}", hint(name, known)
            )
        count = len(node.args)
        if count < builtin.min_args or (builtin.max_args is not None and count > builtin.max_args):
            expected = (
                str(builtin.min_args)
                if builtin.min_args == builtin.max_args
                else f"{builtin.min_args} or more"
                if builtin.max_args is None
                else f"{builtin.min_args} to {builtin.max_args}"
            )
            return self.err(
                node,
                Code.ARITY,
                f"{name}() takes {expected} argument(s), got {count}",
                builtin.signature,
            )
        if ERROR in arg_types:
            return ERROR
        typed = builtin.typer(arg_types)
        if isinstance(typed, str):
            # A function that would take the value were it not null: say so (`len(coupon)`).
            optional_args = [
                (a, t)
                for a, t in zip(node.args, arg_types, strict=True)
                if is_optional(t) and t != NULL
            ]
            if optional_args and not isinstance(builtin.typer([strip(t) for t in arg_types]), str):
                arg = optional_args[0][0]
                return self.err(
                    arg,
                    Code.OPTIONAL_VALUE,
                    f"argument `{unparse(arg)}` of {name}() may be null",
                    "handle null first: `x ?? default` or `if x != null then ... else ...`",
                )
            return self.err(node, Code.TYPE_MISMATCH, typed, builtin.signature)
        return typed

    def macro(self, node: Macro, scope: Scope, facts: Narrowing) -> Type:
        arity, signature, _ = MACROS.get(node.name, (None, "", ""))
        coll = self.check(node.collection, scope, facts)
        if arity is None:
            return self.err(
                node,
                Code.UNKNOWN_FUNCTION,
                f"{node.name}() does not bind a variable",
                "functions that do: " + ", ".join(MACROS),
            )
        if len(node.body) != arity:
            return self.err(
                node,
                Code.ARITY,
                f"{node.name}() takes {arity} expression(s) after the colon, got {len(node.body)}",
                signature,
            )
        if node.var in scope.names or node.var in self.state.tables or node.var in RESERVED_NAMES:
            return self.err(
                node,
                Code.DUPLICATE_NAME,
                f"{node.var!r} is already a name here; pick another variable name",
            )
        if coll == ERROR:
            return ERROR
        if isinstance(coll, ListT):
            elem = coll.elem
        elif isinstance(coll, TableT):
            elem = coll.row
        else:
            hint = "sets have no order; iterate a list" if isinstance(coll, SetT) else None
            return self.err(
                node.collection,
                Code.TYPE_MISMATCH,
                f"{node.name}() iterates a list or a table, got {coll}",
                hint,
            )
        inner = scope.child(node.var, elem, "bound")
        body_types = [self.check(b, inner, facts) for b in node.body]
        if ERROR in body_types:
            return ERROR
        bt = body_types[0]
        if node.name in ("any", "all", "filter", "first", "count"):
            if bt != BOOL:
                return self.err(
                    node.body[0],
                    Code.TYPE_MISMATCH,
                    f"the condition of {node.name}() must be a bool, got {bt}",
                )
            results: dict[str, Type] = {
                "any": BOOL,
                "all": BOOL,
                "count": INT,
                "filter": ListT(elem),
                "first": optional(elem),
            }
            return results[node.name]
        if node.name == "map":
            return ListT(bt)
        if node.name == "sum":
            if not is_numeric(bt):
                return self.err(node.body[0], Code.TYPE_MISMATCH, f"sum() adds numbers, got {bt}")
            return bt
        kt, vt = body_types
        if strip(kt) not in HASHABLE or is_optional(kt):
            return self.err(
                node.body[0],
                Code.TYPE_MISMATCH,
                f"map keys must be int, decimal, string, bool or date, not {kt}",
            )
        return MapT(kt, vt)


def _quote_hint(name: str, source: ExprSource | None) -> str:
    """For a name that is no name: how to write it as text, inside YAML."""
    if source is not None and source.text.strip() == name:
        return f"""to give the text {name}, quote it twice: '"{name}"' (YAML takes one pair)"""
    return f'to compare with the text {name}, quote it: "{name}"'
