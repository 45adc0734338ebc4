"""`ExprCompiler`: Python source for the typed expressions of one generated function.

Expressions compile to Python expressions; the standard library's calls come from
`stdlib.BUILTINS`, decimal arithmetic goes through `_ctx` (`DECIMAL_CONTEXT`).
In plain code with a statement sink, calls and quantifiers may be lowered to
statements (see `lowering`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..checker import CheckedGroup, CheckedRule
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
from ..stdlib import BUILTINS
from ..typesys import DECIMAL, INT, STRING, ListT, MapT, SetT, TableT, Type, strip
from . import lowering
from .indexing import indexable
from .unit import HIDDEN, CompileUnit


class ExprCompiler:
    """Python source for typed expressions of one generated function.

    In plain (untraced) code with a statement `sink`, it also lowers: calls of
    small helper functions and rule groups are inlined (their parameters bound
    to the argument code, or to a local computed once), and quantifier loops
    become `for` statements. Only sub-expressions that are evaluated
    unconditionally are lowered into statements (never a branch of `if`, the
    right of `and`/`or`/`??`, or a macro body): expressions are pure and
    total, so evaluating them before the statement that needs them changes
    nothing but the cost.
    """

    def __init__(self, module: CompileUnit, traced: bool, sink: list[str] | None = None):
        self.m = module
        self.types = module.types
        self.traced = traced
        self.sink = sink  # statements that must run before the expression being compiled
        self.conditional = 0  # > 0: inside a branch, lambda or loop body (no statements)
        self.env: dict[str, str] = {}  # variable -> code: inlined parameters, lets, loop vars
        # code of an input record -> its fields' locals (the record's dict is never read)
        self.fields: dict[str, dict[str, str]] = {}
        self.depth = 0  # inlining depth
        # When a list: literals are compiled as parameters _c0, _c1... and their values
        # collected here (code shared by rules that differ only in literals).
        self.literals: list[Any] | None = None
        self.inlined = 0  # expression nodes inlined so far (see lowering.INLINE_BUDGET)

    def constant(self, value: Any) -> str:
        """A constant computed at compile time: a module constant, or, when literals are
        parameters (shared rule code), one more of them."""
        if self.literals is not None:
            self.literals.append(value)
            return f"_c{len(self.literals) - 1}"
        return self.m.constant(value)

    def can_hoist(self) -> bool:
        return self.sink is not None and self.conditional == 0 and not self.traced

    def branch(self, node: Expr, want: Type | None = None) -> str:
        """Code for a sub-expression that is evaluated only sometimes (or many times)."""
        self.conditional += 1
        try:
            return self.expr(node) if want is None else self.widened(node, want)
        finally:
            self.conditional -= 1

    def bind(self, code: str) -> str:
        """A local holding code's value, computed once by a statement in the sink."""
        assert self.sink is not None
        if code.isidentifier():
            return code
        local = self.m.fresh("_i")
        self.sink.append(f"{local} = {code}")
        return local

    def var(self, name: str) -> str:
        if name == "as_of":
            return "_as_of"
        if name == "locale":
            return "_locale"
        if name in self.m.checked.tables:
            return f"t_{name}"
        return self.env.get(name) or f"v_{name}"

    def hidden(self, needs: tuple[str, ...] = HIDDEN) -> str:
        """The hidden arguments a callable takes: only the context it (transitively) uses."""
        return ", ".join([*needs, "_trace"] if self.traced else needs)

    def hidden_of(self, name: str) -> str:
        return self.hidden(self.m.needs[name])

    def type_of(self, node: Expr) -> Type:
        return self.types[id(node)]

    def expr(self, node: Expr) -> str:
        match node:
            case Literal(value=value):
                if self.literals is not None and value is not None and type(value) is not bool:
                    self.literals.append(value)
                    return f"_c{len(self.literals) - 1}"
                if value is None or isinstance(value, (bool, int, str)):
                    return repr(value)
                return self.m.constant(value)
            case Var(name=name):
                return self.var(name)
            case Member(obj=obj, name=name, safe=True):
                return f"_safe_get({self.expr(obj)}, {name!r})"
            case Member(obj=obj, name=name):
                target = self.expr(obj)
                local = self.fields.get(target, {}).get(name)
                return local if local is not None else f"{target}[{name!r}]"
            case Index(obj=obj, keys=keys):
                ot = strip(self.type_of(obj))
                target = self.expr(obj)
                parts = [self.expr(k) for k in keys]
                table = self.table_name(obj)
                if isinstance(ot, TableT):
                    key = parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ",)"
                    if table is not None:
                        return f"_read_key(_trace, {table!r}, {key}, {target}[0])"
                    return f"{target}[0].get({key})"
                if isinstance(ot, MapT):
                    if table is not None:
                        return f"_read_key(_trace, {table!r}, {parts[0]}, {target})"
                    return f"{target}.get({parts[0]})"
                return f"_at({target}, {parts[0]})"
            case Call(name=name, args=args):
                if name in self.m.checked.groups or name in self.m.functions:
                    inlined = lowering.inline(self, node)
                    if inlined is not None:
                        return inlined
                    prefix = "g_" if name in self.m.checked.groups else "f_"
                    suffix = "_t" if self.traced else ""
                    params = self.m.checked_params(name)
                    code_args = [self.widened(a, t) for a, (_, t) in zip(args, params, strict=True)]
                    return f"{prefix}{name}{suffix}({', '.join(a for a in [self.hidden_of(name), *code_args] if a)})"
                code_args = [self.expr(a) for a in args]
                builtin = BUILTINS[name]
                if name in ("min", "max") and len(args) > 1:
                    code_args = [self.widened(a, self.type_of(node)) for a in args]
                return builtin.emit(code_args, [self.type_of(a) for a in args])
            case Macro():
                return self.macro(node)
            case Unary(op=op, operand=operand):
                inner = self.expr(operand)
                if op == "not":
                    return f"(not {inner})"
                if self.type_of(node) == DECIMAL:
                    return f"_ctx.minus({inner})"
                return f"(-{inner})"
            case Binary():
                return self.binary(node)
            case IfElse(cond=cond, then=then, otherwise=otherwise):
                want = self.type_of(node)
                test = self.expr(cond)
                return f"({self.branch(then, want)} if {test} else {self.branch(otherwise, want)})"
            case ListLit(items=items):
                elem = self.type_of(node).elem  # type: ignore[union-attr]
                return "[" + ", ".join(self.widened(i, elem) for i in items) + "]"
            case SetLit(items=items):
                if all(isinstance(i, Literal) for i in items):
                    return self.constant(
                        frozenset(i.value for i in items if isinstance(i, Literal))
                    )
                return "_frozenset((" + "".join(self.expr(i) + ", " for i in items) + "))"
            case RecordLit(fields=fields):
                return "{" + ", ".join(f"{k!r}: {self.expr(v)}" for k, v in fields) + "}"
            case MapLit(entries=entries):
                return "{" + ", ".join(f"{self.expr(k)}: {self.expr(v)}" for k, v in entries) + "}"
        raise AssertionError(f"unhandled node {node!r}")  # pragma: no cover

    def widened(self, node: Expr, want: Type) -> str:
        """Code for node, converting an int to Decimal where a decimal is expected
        (the checker widens int to decimal; at run time the value must follow)."""
        have = self.type_of(node)
        if needs_widening(have, want):
            if isinstance(node, Literal) and type(node.value) is int:
                return self.constant(Decimal(node.value))  # widened once, at compile time
            return f"_widen({self.expr(node)})"
        return self.expr(node)

    def table_name(self, node: Expr) -> str | None:
        """In traced code, the table a node names (its reads are recorded for coverage)."""
        if self.traced and isinstance(node, Var) and node.name in self.m.checked.tables:
            return node.name
        return None

    def collection(self, node: Expr) -> str:
        code = self.expr(node)
        if not isinstance(strip(self.type_of(node)), TableT):
            return code
        table = self.table_name(node)
        if table is not None:
            return f"_read_rows(_trace, {table!r}, {code})"
        return f"{code}[1]"

    def macro(self, node: Macro) -> str:
        members = self.member_set(node) if node.name in ("any", "all") else None
        if members is not None:
            # any(c in xs, c in S) is "xs meets S", all(...) "S holds all of xs": one C call.
            coll = self.collection(node.collection)
            if node.name == "any":
                return f"(not {members}.isdisjoint({coll}))"
            return f"{members}.issuperset({coll})"
        if node.name in ("any", "all", "first", "count", "sum"):
            if self.can_hoist():
                return lowering.loop_statement(self, node)
            return lowering.lifted_loop(self, node)
        coll = self.collection(node.collection)
        # A comprehension has its own scope, but the body may read locals of inlined
        # code: inside inlined code the variable gets a fresh name (no capture).
        var = self.m.fresh("_b") if self.depth else f"v_{node.var}"
        saved = self.env.get(node.var)
        self.env[node.var] = var
        try:
            body = [self.branch(b) for b in node.body]
        finally:
            self.restore(node.var, saved)
        loop = f"for {var} in {coll}"
        # An empty list skips the comprehension (a function call in CPython 3.11): lists
        # of reasons and messages are mostly empty. Only for paths, cheap to read twice.
        empty = f" if {coll} else []" if cheap(coll) else ""
        match node.name:
            case "map":
                return f"([{body[0]} {loop}]{empty})" if empty else f"[{body[0]} {loop}]"
            case "filter":
                return (
                    f"([{var} {loop} if {body[0]}]{empty})"
                    if empty
                    else f"[{var} {loop} if {body[0]}]"
                )
            case "to_map":
                return f"_to_map(({body[0]}, {body[1]}) {loop})"
        raise AssertionError(node.name)  # pragma: no cover

    def member_set(self, node: Macro) -> str | None:
        """The constant set a quantifier's body tests its variable against (`c in S` with
        S a set table or literal items, `remedy(c) == "r"`), or None. Plain code only:
        traced code records the table read."""
        body = node.body[0]
        if self.traced or not isinstance(body, Binary):
            return None

        def is_var(n: Expr) -> bool:
            return isinstance(n, Var) and n.name == node.var

        if body.op == "in" and is_var(body.left):
            right = body.right
            if isinstance(right, (ListLit, SetLit)) and all(
                isinstance(i, Literal) and indexable(i.value) for i in right.items
            ):
                values = frozenset(i.value for i in right.items if isinstance(i, Literal))
                return self.constant(values)
            table = self.m.checked.tables.get(right.name) if isinstance(right, Var) else None
            if table is not None and isinstance(strip(table.type), SetT):
                return f"t_{table.name}"
            return None
        if body.op == "==":
            for call, lit in ((body.left, body.right), (body.right, body.left)):
                if (
                    isinstance(call, Call)
                    and call.name == "remedy"
                    and is_var(call.args[0])
                    and isinstance(lit, Literal)
                    and isinstance(lit.value, str)
                ):
                    codes = frozenset(
                        code for code, r in self.m.checked.reasons.items() if r.remedy == lit.value
                    )
                    return self.constant(codes)
        return None

    def restore(self, name: str, saved: str | None) -> None:
        if saved is None:
            self.env.pop(name, None)
        else:
            self.env[name] = saved

    def contribution_code(self, group: CheckedGroup, rule: CheckedRule) -> str:
        """What a fired rule adds: its reason code, or its `then` value (evaluated only
        when the rule fires)."""
        if rule.then is None:
            if self.literals is not None:
                self.literals.append(rule.definition.reason)
                return f"_c{len(self.literals) - 1}"
            return repr(rule.definition.reason)
        return self.branch(rule.then, group.item_type)

    def binary(self, node: Binary) -> str:
        op = node.op
        if op in ("==", "!=") and is_empty_test(node, self.types):
            # len(x) == 0 -> not x: same meaning for lists, sets, maps and strings, and faster.
            subject = node.left if isinstance(node.left, Call) else node.right
            assert isinstance(subject, Call)
            inner = self.expr(subject.args[0])
            return f"(not {inner})" if op == "==" else f"(not not {inner})"
        if op == "??":
            # Lazy like `or`: the default is only evaluated (and traced) when needed.
            want = self.type_of(node)
            first, default = self.widened(node.left, want), self.branch(node.right, want)
            if not cheap(first) and self.can_hoist():
                first = self.bind(first)  # computed once, into a local
            if cheap(first):
                return f"({first} if {first} is not None else {default})"
            if isinstance(node.right, Literal) or cheap(default):
                return f"_or({first}, {default})"  # a default that costs nothing to compute
            return f"_coalesce({first}, lambda: {default})"
        items = node.right.items if isinstance(node.right, ListLit) else None
        if (
            op in ("in", "not in")
            and self.literals is not None
            and items
            and all(isinstance(i, Literal) and indexable(i.value) for i in items)
        ):
            # Shared rule code: the whole literal list is one parameter (a tuple), not
            # a list built on every call from one parameter per item.
            values = tuple(i.value for i in items if isinstance(i, Literal))
            return f"({self.expr(node.left)} {op} {self.constant(values)})"
        left = self.expr(node.left)
        right = self.branch(node.right) if op in ("and", "or") else self.expr(node.right)
        if op in ("==", "!=") and (is_null(node.left) or is_null(node.right)):
            return f"({left} {'is' if op == '==' else 'is not'} {right})"
        if op in ("and", "or", "==", "!=", "<", "<=", ">", ">="):
            return f"({left} {op} {right})"
        if op in ("in", "not in"):
            rt = strip(self.type_of(node.right))
            if isinstance(rt, TableT):
                right = f"{right}[0]"
            table = self.table_name(node.right)
            if table is not None:
                test = f"_read_member(_trace, {table!r}, {left}, {right})"
                return test if op == "in" else f"(not {test})"
            return f"({left} {op} {right})"
        result = self.type_of(node)
        if op == "/":
            return f"_divide({left}, {right})"
        if result == DECIMAL:
            method = {"+": "add", "-": "subtract", "*": "multiply"}[op]
            return f"_ctx.{method}({left}, {right})"
        return f"({left} {op} {right})"


def needs_widening(have: Type, want: Type) -> bool:
    """Whether a value of type `have` may hold ints where `want` says decimal."""
    if strip(want) == DECIMAL:
        return strip(have) == INT
    if isinstance(strip(want), ListT) and isinstance(strip(have), ListT):
        return needs_widening(strip(have).elem, strip(want).elem)  # type: ignore[union-attr]
    return False


_CHEAP = re.compile(r"[A-Za-z_]\w*(\['\w+'\])*\Z")


def cheap(code: str) -> bool:
    """Code that is a local or a chain of field reads: fine to evaluate twice."""
    return _CHEAP.match(code) is not None


def is_empty_test(node: Binary, types: Mapping[int, Type]) -> bool:
    for call, other in ((node.left, node.right), (node.right, node.left)):
        if (
            isinstance(call, Call)
            and call.name == "len"
            and len(call.args) == 1
            and isinstance(other, Literal)
            and type(other.value) is int
            and other.value == 0
        ):
            arg_type = strip(types[id(call.args[0])])
            return isinstance(arg_type, (ListT, SetT, MapT)) or arg_type == STRING
    return False


def is_null(node: Expr) -> bool:
    return isinstance(node, Literal) and node.value is None
