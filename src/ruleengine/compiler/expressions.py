"""`ExprCompiler`: Python code for the typed expressions of one generated function.

Each expression compiles to a `Code` value: the Python expression's text plus what
the generator needs to know about it (the names it reads, its cost), so nothing
is ever decided by reading generated text back. Calls of the standard library
come from `stdlib.BUILTINS`; decimal arithmetic goes through `_ctx`
(`DECIMAL_CONTEXT`). In plain code with a statement sink, calls and quantifiers
may be lowered to statements (see `lowering`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..checker import CheckedGroup, CheckedRule
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
from ..stdlib import BUILTINS
from ..typesys import DECIMAL, INT, STRING, ListT, MapT, SetT, TableT, Type, strip
from . import lowering
from .emit import NAME, PATH, Code, Mark, Origin, ident, lit, name_code, reads_of
from .indexing import indexable
from .sites import call_site, traced_call
from .unit import HIDDEN, CompileUnit

_COMPARISONS = ("and", "or", "==", "!=", "<", "<=", ">", ">=")
_DECIMAL_METHODS = {"+": "add", "-": "subtract", "*": "multiply"}


class ExprCompiler:
    """Python code for typed expressions of one generated function.

    In plain (untraced) code with a statement `sink`, it also lowers: calls of
    small helper functions and rule groups are inlined (their parameters bound
    to the argument code, or to a local computed once), and quantifier loops
    become `for` statements. Only sub-expressions that are evaluated
    unconditionally are lowered into statements (never a branch of `if`, the
    right of `and`/`or`/`??`, or a macro body): expressions are pure and
    total, so evaluating them before the statement that needs them changes
    nothing but the cost.
    """

    def __init__(self, module: CompileUnit, traced: bool, sink: list[Code | Mark] | None = None):
        self.m = module
        self.types = module.types
        self.traced = traced
        # Statements (one Code a line) that must run before the expression being compiled,
        # and marks of where the lines after them come from (inlined rules).
        self.sink = sink
        self.conditional = 0  # > 0: inside a branch, lambda or loop body (no statements)
        self.env: dict[str, Code] = {}  # variable -> code: inlined parameters, lets, loop vars
        # input variable -> its fields' locals (set by the fused decision: the record's
        # dict is never built unless the record is used as a whole)
        self.fields: dict[str, Mapping[str, Code]] = {}
        self.depth = 0  # inlining depth
        # When a list: literals are compiled as parameters _c0, _c1... and their values
        # collected here (code shared by rules that differ only in literals).
        self.literals: list[Any] | None = None
        self.inlined = 0  # expression nodes inlined so far (see lowering.INLINE_BUDGET)
        self.source: ExprSource | None = None  # traced code: the expression being compiled

    # -- names, constants, scope

    def constant(self, value: Any) -> Code:
        """A constant computed at compile time: a module constant, or, when literals are
        parameters (shared rule code), one more of them."""
        if self.literals is not None:
            self.literals.append(value)
            return Code(ident("_c", str(len(self.literals) - 1)), cost=NAME)
        return Code(self.m.constant(value), cost=NAME)

    def literal(self, value: Any) -> Code:
        if self.literals is not None and value is not None and type(value) is not bool:
            return self.constant(value)
        return Code(self.m.literal(value), cost=NAME)

    def can_hoist(self) -> bool:
        return self.sink is not None and self.conditional == 0 and not self.traced

    def branch(self, node: Expr, want: Type | None = None) -> Code:
        """Code for a sub-expression that is evaluated only sometimes (or many times)."""
        self.conditional += 1
        try:
            return self.expr(node) if want is None else self.widened(node, want)
        finally:
            self.conditional -= 1

    def statement(self, text: str, reads: frozenset[str] = frozenset()) -> None:
        """Add one line to the sink (indented relative to the statement being built)."""
        assert self.sink is not None
        self.sink.append(Code(text, reads))

    def mark(self, origin: Origin | None, comment: bool = True) -> None:
        """The sink's lines from here on come from origin (see `ModuleWriter.mark`)."""
        assert self.sink is not None
        self.sink.append(Mark(origin, comment))

    def bind(self, code: Code) -> Code:
        """A local holding code's value, computed once by a statement in the sink."""
        if code.is_name:
            return code
        local = self.m.fresh("_i")
        self.statement(f"{local} = {code.text}", code.reads)
        return name_code(local)

    def var(self, name: str) -> Code:
        if name == "as_of":
            return name_code("_as_of")
        if name == "locale":
            return name_code("_locale")
        if name in self.m.checked.tables:
            return Code(ident("t_", name), cost=NAME)
        found = self.env.get(name)
        if found is not None:
            return found
        local = ident("v_", name)
        return Code(local, frozenset({local}), NAME, self.fields.get(name))

    def restore(self, name: str, saved: Code | None) -> None:
        if saved is None:
            self.env.pop(name, None)
        else:
            self.env[name] = saved

    def hidden(self, needs: tuple[str, ...] = HIDDEN) -> list[str]:
        """The hidden arguments a callable takes: only the context it (transitively) uses."""
        return [*needs, "_trace"] if self.traced else list(needs)

    def hidden_of(self, name: str) -> list[str]:
        return self.hidden(self.m.needs[name])

    def call(self, function: str, args: list[Code], hidden: list[str] | None = None) -> Code:
        """`function(hidden..., args...)`."""
        names = hidden or []
        text = ", ".join([*names, *(a.text for a in args)])
        return Code(f"{function}({text})", reads_of(args) | frozenset(names))

    def type_of(self, node: Expr) -> Type:
        return self.types[id(node)]

    # -- expressions

    def expr(self, node: Expr) -> Code:
        match node:
            case Literal(value=value):
                return self.literal(value)
            case Var(name=name):
                return self.var(name)
            case Member(obj=obj, name=name, safe=True):
                target = self.expr(obj)
                return Code(f"_safe_get({target.text}, {lit(name)})", target.reads)
            case Member(obj=obj, name=name):
                target = self.expr(obj)
                if target.fields is not None and name in target.fields:
                    return target.fields[name]
                cost = PATH if target.cheap else target.cost
                return Code(f"{target.text}[{lit(name)}]", target.reads, cost)
            case Index():
                return self.index(node)
            case Call():
                return self.call_of(node)
            case Macro():
                return self.macro(node)
            case Unary(op=op, operand=operand):
                inner = self.expr(operand)
                if op == "not":
                    return Code(f"(not {inner.text})", inner.reads)
                if self.type_of(node) == DECIMAL:
                    return Code(f"_ctx.minus({inner.text})", inner.reads)
                return Code(f"(-{inner.text})", inner.reads)
            case Binary():
                return self.binary(node)
            case IfElse(cond=cond, then=then, otherwise=otherwise):
                want = self.type_of(node)
                parts = [self.expr(cond), self.branch(then, want), self.branch(otherwise, want)]
                if self.m.probes is not None:  # coverage's copy only (see `probes`)
                    parts[0] = self.m.probes.if_else(node, parts[0])
                text = f"({parts[1].text} if {parts[0].text} else {parts[2].text})"
                return Code(text, reads_of(parts))
            case ListLit() | SetLit() | RecordLit() | MapLit():
                return self.display(node)
        raise AssertionError(f"unhandled node {node!r}")  # pragma: no cover

    def display(self, node: ListLit | SetLit | RecordLit | MapLit) -> Code:
        """A list, set, record or map written out."""
        match node:
            case ListLit(items=items):
                elem = self.type_of(node).elem  # type: ignore[union-attr]
                parts = [self.widened(i, elem) for i in items]
                return Code("[" + ", ".join(p.text for p in parts) + "]", reads_of(parts))
            case SetLit(items=items):
                if all(isinstance(i, Literal) for i in items):
                    return self.constant(
                        frozenset(i.value for i in items if isinstance(i, Literal))
                    )
                parts = [self.expr(i) for i in items]
                text = "_frozenset((" + "".join(p.text + ", " for p in parts) + "))"
                return Code(text, reads_of(parts))
            case RecordLit(fields=fields):
                values = [self.expr(v) for _, v in fields]
                pairs = [f"{lit(k)}: {v.text}" for (k, _), v in zip(fields, values, strict=True)]
                return Code("{" + ", ".join(pairs) + "}", reads_of(values))
            case MapLit(entries=entries):
                keys = [self.expr(k) for k, _ in entries]
                values = [self.expr(v) for _, v in entries]
                pairs = [f"{k.text}: {v.text}" for k, v in zip(keys, values, strict=True)]
                return Code("{" + ", ".join(pairs) + "}", reads_of([*keys, *values]))
        raise AssertionError(f"unhandled node {node!r}")  # pragma: no cover

    def index(self, node: Index) -> Code:
        """`x[k]`: a table row or map entry (null when absent), or a list item."""
        ot = strip(self.type_of(node.obj))
        target = self.expr(node.obj)
        parts = [self.expr(k) for k in node.keys]
        reads = reads_of([target, *parts])
        table = self.table_name(node.obj)
        if isinstance(ot, TableT):
            key = (
                parts[0].text if len(parts) == 1 else "(" + ", ".join(p.text for p in parts) + ",)"
            )
            if table is not None:
                return Code(f"_read_key(_trace, {lit(table)}, {key}, {target.text}[0])", reads)
            return Code(f"{self.row_index(node.obj, target)}.get({key})", reads)
        if isinstance(ot, MapT):
            if table is not None:
                text = f"_read_key(_trace, {lit(table)}, {parts[0].text}, {target.text})"
                return Code(text, reads)
            return Code(f"{target.text}.get({parts[0].text})", reads)
        return Code(f"_at({target.text}, {parts[0].text})", reads)

    def call_of(self, node: Call) -> Code:
        """A call of a helper function, a rule group or a builtin."""
        name, args = node.name, node.args
        if name in self.m.checked.groups or name in self.m.functions:
            inlined = lowering.inline(self, node)
            if inlined is not None:
                return inlined
            prefix = "g_" if name in self.m.checked.groups else "f_"
            params = self.m.checked_params(name)
            code_args = [self.widened(a, t) for a, (_, t) in zip(args, params, strict=True)]
            callee = ident(prefix, name, "_t" if self.traced else "")
            return self.call(callee, code_args, self.hidden_of(name))
        builtin = BUILTINS[name]
        if name in ("min", "max") and len(args) > 1:
            code_args = [self.widened(a, self.type_of(node)) for a in args]
        else:
            code_args = [self.expr(a) for a in args]
        types = [self.type_of(a) for a in args]
        if self.traced and name in TRACED_BUILTINS:
            names = [f"_a{i}" for i in range(len(args))]
            site = self.m.constant(call_site(name, node, self.source))
            fn = traced_call(self.m, names, builtin.emit(names, types))
            text = "".join(f", {a.text}" for a in code_args)
            text = f"_called(_trace, {site}, len(_trace), {fn}{text})"
            return Code(text, reads_of(code_args) | builtin.reads)
        text = builtin.emit([a.text for a in code_args], types)
        return Code(text, reads_of(code_args) | builtin.reads)

    def widened(self, node: Expr, want: Type) -> Code:
        """Code for node, converting an int to Decimal where a decimal is expected
        (the checker widens int to decimal; at run time the value must follow)."""
        have = self.type_of(node)
        if needs_widening(have, want):
            if isinstance(node, Literal) and type(node.value) is int:
                return self.constant(Decimal(node.value))  # widened once, at compile time
            inner = self.expr(node)
            return Code(f"_widen({inner.text})", inner.reads)
        return self.expr(node)

    def row_index(self, node: Expr, code: Code) -> str:
        """A rows table's key index (`t[0]`): for a named table, a module constant
        holding it, so plain code reads no tuple item per lookup."""
        if isinstance(node, Var) and node.name in self.m.checked.tables:
            return self.m.constant(self.m.checked.tables[node.name].value[0])
        return f"{code.text}[0]"

    def table_name(self, node: Expr) -> str | None:
        """In traced code, the table a node names (its reads are recorded for coverage)."""
        if self.traced and isinstance(node, Var) and node.name in self.m.checked.tables:
            return node.name
        return None

    def collection(self, node: Expr, macro: Macro | None = None) -> Code:
        """The list a macro runs over (a table's rows for a table)."""
        code = self.expr(node)
        if isinstance(strip(self.type_of(node)), TableT):
            table = self.table_name(node)
            if table is not None:
                code = Code(f"_read_rows(_trace, {lit(table)}, {code.text})", code.reads)
            else:
                code = Code(f"{code.text}[1]", code.reads)
        if macro is not None and self.m.probes is not None:  # coverage's copy only
            return self.m.probes.collection(macro, code)
        return code

    def macro(self, node: Macro) -> Code:
        code = self.quantifier(node)
        if self.m.probes is not None:  # coverage's copy only: did any/all hold, first find?
            return self.m.probes.result(node, code)
        return code

    def quantifier(self, node: Macro) -> Code:
        members = self.member_set(node) if node.name in ("any", "all") else None
        if members is not None:
            # any(c in xs, c in S) is "xs meets S", all(...) "S holds all of xs": one C call.
            coll = self.collection(node.collection, node)
            one = self.m.constants.get(members.text) if self.literals is None else None
            if node.name == "any" and type(one) is frozenset and len(one) == 1:
                (value,) = one  # one member: `v in xs`, no method call
                if type(value) is str:
                    return Code(f"({lit(value)} in {coll.text})", coll.reads)
            if node.name == "any":
                return Code(f"(not {members.text}.isdisjoint({coll.text}))", coll.reads)
            return Code(f"{members.text}.issuperset({coll.text})", coll.reads)
        if node.name in ("any", "all", "first", "count", "sum"):
            if self.can_hoist():
                return lowering.loop_statement(self, node)
            return lowering.lifted_loop(self, node)
        return self.comprehension(node)

    def comprehension(self, node: Macro) -> Code:
        """map, filter and to_map as comprehensions."""
        coll = self.collection(node.collection, node)
        if self.is_message_map(node):
            # map(c in reasons, message(c)): the messages by a C loop, no comprehension
            # frame (_message is the locale's bound lookup, see generate.py).
            text = f"[*_map(_message, {coll.text})]"
            reads = coll.reads | {"_message"}
            return Code(f"({text} if {coll.text} else [])" if coll.cheap else text, reads)
        # A comprehension has its own scope, but the body may read locals of inlined
        # code: inside inlined code the variable gets a fresh name (no capture).
        var = self.m.fresh("_b") if self.depth else ident("v_", node.var)
        saved = self.env.get(node.var)
        self.env[node.var] = Code(var, cost=NAME)
        try:
            body = [self.branch(b) for b in node.body]
        finally:
            self.restore(node.var, saved)
        reads = reads_of([coll, *body])
        loop = f"for {var} in {coll.text}"
        # An empty list skips the comprehension (a function call in CPython 3.11): lists
        # of reasons and messages are mostly empty. Only for paths, cheap to read twice.
        empty = f" if {coll.text} else []" if coll.cheap else ""
        match node.name:
            case "map":
                text = f"[{body[0].text} {loop}]"
            case "filter":
                text = f"[{var} {loop} if {body[0].text}]"
            case "to_map":
                return Code(f"_to_map(({body[0].text}, {body[1].text}) {loop})", reads)
            case _:  # pragma: no cover
                raise AssertionError(node.name)
        return Code(f"({text}{empty})" if empty else text, reads)

    def is_message_map(self, node: Macro) -> bool:
        """Whether a macro is `map(c in xs, message(c))` in plain code."""
        body = node.body[0] if len(node.body) == 1 else None
        return (
            not self.traced
            and node.name == "map"
            and isinstance(body, Call)
            and body.name == "message"
            and body.name not in self.m.functions
            and len(body.args) == 1
            and isinstance(body.args[0], Var)
            and body.args[0].name == node.var
        )

    def member_set(self, node: Macro) -> Code | None:
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
                return Code(ident("t_", table.name), cost=NAME)
            return None
        if body.op == "==":
            for call, other in ((body.left, body.right), (body.right, body.left)):
                if (
                    isinstance(call, Call)
                    and call.name == "remedy"
                    and is_var(call.args[0])
                    and isinstance(other, Literal)
                    and isinstance(other.value, str)
                ):
                    reasons = self.m.checked.reasons.items()
                    return self.constant(
                        frozenset(code for code, r in reasons if r.remedy == other.value)
                    )
        return None

    def contribution_code(self, group: CheckedGroup, rule: CheckedRule) -> Code:
        """What a fired rule adds: its reason code, or its `then` value (evaluated only
        when the rule fires)."""
        if rule.then is None:
            return self.literal(rule.definition.reason)
        return self.branch(rule.then, group.item_type)

    # -- operators

    def binary(self, node: Binary) -> Code:
        op = node.op
        if op in ("==", "!=") and is_empty_test(node, self.types):
            # len(x) == 0 -> not x: same meaning for lists, sets, maps and strings, and faster.
            subject = node.left if isinstance(node.left, Call) else node.right
            assert isinstance(subject, Call)
            inner = self.expr(subject.args[0])
            text = f"(not {inner.text})" if op == "==" else f"(not not {inner.text})"
            return Code(text, inner.reads)
        if op in ("==", "!=") and not self.traced:
            present = self.row_presence(node)
            if present is not None:
                return present
        if op == "??":
            return self.coalesce(node)
        items = node.right.items if isinstance(node.right, ListLit) else None
        if (
            op in ("in", "not in")
            and self.literals is not None
            and items
            and all(isinstance(i, Literal) and indexable(i.value) for i in items)
        ):
            # Shared rule code: the whole literal list is one parameter (a tuple), not
            # a list built on every call from one parameter per item.
            left = self.expr(node.left)
            values = self.constant(tuple(i.value for i in items if isinstance(i, Literal)))
            return Code(f"({left.text} {op} {values.text})", left.reads)
        left = self.expr(node.left)
        if op == "+" and left.is_name and isinstance(node.right, Call):
            # list + a collect group's list: the group's list starts as a copy of left
            onto = lowering.inline(self, node.right, left)
            if onto is not None:
                return onto
        right = self.branch(node.right) if op in ("and", "or") else self.expr(node.right)
        reads = left.reads | right.reads
        if op in ("==", "!=") and (is_null(node.left) or is_null(node.right)):
            return Code(f"({left.text} {'is' if op == '==' else 'is not'} {right.text})", reads)
        if op in _COMPARISONS:
            return Code(f"({left.text} {op} {right.text})", reads)
        if op in ("in", "not in"):
            return self.membership(node, left, right)
        if op == "/":
            return Code(f"_divide({left.text}, {right.text})", reads)
        if self.type_of(node) == DECIMAL:
            method = _DECIMAL_METHODS[op]
            return Code(f"_ctx.{method}({left.text}, {right.text})", reads)
        if op == "*":  # ints: the runtime cap on their digits (runtime/stdlib_impl.py)
            return Code(f"_mul({left.text}, {right.text})", reads)
        return Code(f"({left.text} {op} {right.text})", reads)

    def row_presence(self, node: Binary) -> Code | None:
        """`t[k] == null` (`!= null`) with t a rows table, in plain code: `k not in` (`in`)
        its key index, no method call (an indexed row is a record, never null)."""
        subject = node.left if is_null(node.right) else node.right if is_null(node.left) else None
        if not isinstance(subject, Index) or not isinstance(
            strip(self.type_of(subject.obj)), TableT
        ):
            return None
        target = self.expr(subject.obj)
        parts = [self.expr(k) for k in subject.keys]
        key = parts[0].text if len(parts) == 1 else "(" + ", ".join(p.text for p in parts) + ",)"
        test = "not in" if node.op == "==" else "in"
        index = self.row_index(subject.obj, target)
        return Code(f"({key} {test} {index})", reads_of([target, *parts]))

    def coalesce(self, node: Binary) -> Code:
        """`a ?? b`: lazy like `or`, the default is only evaluated (and traced) when needed."""
        want = self.type_of(node)
        first, default = self.widened(node.left, want), self.branch(node.right, want)
        probed = None if self.m.probes is None else self.m.probes.coalesce(node, first, default)
        if probed is not None:  # coverage's copy only (see `probes`)
            return probed
        if not first.cheap and self.can_hoist():
            first = self.bind(first)  # computed once, into a local
        reads = first.reads | default.reads
        if first.cheap:
            return Code(f"({first.text} if {first.text} is not None else {default.text})", reads)
        if isinstance(node.right, Literal) or default.cheap:
            return Code(f"_or({first.text}, {default.text})", reads)  # costs nothing to compute
        return Code(f"_coalesce({first.text}, lambda: {default.text})", reads)

    def membership(self, node: Binary, left: Code, right: Code) -> Code:
        """`x in c`, `x not in c`: a set, list, map or table's keys."""
        reads = left.reads | right.reads
        members = right.text
        table = self.table_name(node.right)
        if isinstance(strip(self.type_of(node.right)), TableT):
            members = f"{members}[0]" if table is not None else self.row_index(node.right, right)
        if table is not None:
            test = f"_read_member(_trace, {lit(table)}, {left.text}, {members})"
            return Code(test if node.op == "in" else f"(not {test})", reads)
        return Code(f"({left.text} {node.op} {members})", reads)


# Builtins whose calls an explanation shows, with their arguments and result.
TRACED_BUILTINS = frozenset({"round_money", "days", "add_months", "min", "max", "round"})


def needs_widening(have: Type, want: Type) -> bool:
    """Whether a value of type `have` may hold ints where `want` says decimal."""
    if strip(want) == DECIMAL:
        return strip(have) == INT
    if isinstance(strip(want), ListT) and isinstance(strip(have), ListT):
        return needs_widening(strip(have).elem, strip(want).elem)  # type: ignore[union-attr]
    return False


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
