"""Phase 5, compile: a checked version -> Python callables, generated as source.

Like Jinja2's code generator, this emits one Python module per version:
input validators (straight-line code per decision, no schema walking at
request time), one function per helper, rule group and decision, and a
second, traced copy of the rule groups and decisions for explanations, so
that with explain off no tracing code runs at all. The module is executed
with `runtime.NAMESPACE` as its only globals: no builtins, imports or
attribute access beyond what the generator writes.

The hot path of a decision is one function, `p_<decision>`: the fast input
check, then the decision with small helpers and unindexed rule groups
inlined, quantifiers lowered to `for` statements, and input record fields
read from the check's locals (see `_ExprCompiler`). The plain `d_<decision>`
(after the collecting validator) and the traced copy keep calls as written.

Public entry: `compile_version(checked)`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import FunctionType
from typing import Any

from . import runtime
from .check import (
    CheckedDecision,
    CheckedGroup,
    CheckedRule,
    CheckedVersion,
    InputField,
    RecordSchema,
    fact_reads,
)
from .errors import InputError, InputProblem, did_you_mean
from .nodes import (
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
    children,
    unparse,
    walk,
)
from .stdlib import BUILTINS
from .typesys import (
    BOOL,
    DATE,
    DECIMAL,
    INT,
    STRING,
    ListT,
    MapT,
    OptT,
    Prim,
    RecordT,
    SetT,
    TableT,
    Type,
    strip,
)

# Bounds on numbers accepted as input: they keep every computation exact and finite.
MAX_INT = 2**63 - 1
MAX_DECIMAL_DIGITS = 30
HIDDEN = ("_as_of", "_locale", "_messages")  # the context a decision passes down
_MAX_INT_DECIMAL = 10**MAX_DECIMAL_DIGITS
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One rule considered while deciding: which, where, whether it fired, what it read."""

    group: str
    rule: str
    location: str
    fired: bool
    values: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "rule": self.rule,
            "location": self.location,
            "fired": self.fired,
            "values": self.values,
        }


@dataclass(frozen=True, slots=True)
class CompiledDecision:
    """A decision's compiled code. `check_fast` returns (input, locale) for plainly valid
    input, else FAIL; `validate` is the authority: it returns the same or raises
    `InputError` listing every problem."""

    name: str
    decide_fast: Callable[[Any, date], Any]  # (input, as_of) -> (result, locale) or FAIL
    check_fast: Callable[[Any], Any]
    validate: Callable[[Any], tuple[dict[str, Any], str]]
    run: Callable[[dict[str, Any], date, str], dict[str, Any]]
    run_traced: Callable[[dict[str, Any], date, str, list[Any]], dict[str, Any]]
    checked: CheckedDecision


@dataclass(frozen=True, slots=True)
class CompiledVersion:
    checked: CheckedVersion
    decisions: dict[str, CompiledDecision]
    source: str = field(repr=False)


# --- input validation helpers (called by generated validators) ---------------


def describe_value(value: Any) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean " + ("true" if value else "false")
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, Decimal):
        return f"number {value}"
    if isinstance(value, float):
        return f"float {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, date):
        return f"date {value.isoformat()}"
    return type(value).__name__


_NO_VALUE = object()


def _problem(
    code: str, path: str, message: str, expected: str | None, value: Any = _NO_VALUE
) -> InputProblem:
    got = None if value is _NO_VALUE else describe_value(value)
    return InputProblem(code, path, message, expected, got)


def _to_decimal(value: Any) -> Decimal | None:
    """Accept Decimal, int or a decimal string; never a binary float."""
    if type(value) is Decimal:
        result = value
    elif type(value) is int:
        result = Decimal(value)
    elif type(value) is str and 0 < len(value) <= 64:
        try:
            result = Decimal(value.strip())
        except ArithmeticError:
            return None
    else:
        return None
    if not result.is_finite() or result.adjusted() >= MAX_DECIMAL_DIGITS:
        return None
    return result


def to_date(value: Any) -> date | None:
    """A `datetime.date`, or a strict `YYYY-MM-DD` string as a date; else None."""
    if type(value) is date:
        return value
    if type(value) is not str:
        return None
    # Dates repeat across requests (as_of, renewal dates): parse each text once.
    found = _DATE_CACHE.get(value)
    if found is not None:
        return found
    if not _ISO_DATE.match(value):
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return None
    if len(_DATE_CACHE) >= 10_000:
        _DATE_CACHE.clear()
    _DATE_CACHE[value] = parsed
    return parsed


def _unknown_fields(
    data: dict[str, Any], known: tuple[str, ...], path: str, errs: list[InputProblem]
) -> None:
    for key in data:
        if key not in known:
            shown = key if isinstance(key, str) else repr(key)
            suggestion = did_you_mean(str(key), known)
            message = f"unknown field {shown!r}" + (
                f"; did you mean {suggestion!r}?" if suggestion else ""
            )
            errs.append(
                InputProblem(
                    "unknown_field", f"{path}.{shown}", message, "one of: " + ", ".join(known), None
                )
            )


def _raise_input(errs: list[InputProblem]) -> None:
    raise InputError(errs)


@dataclass(frozen=True, slots=True)
class GroupCall:
    """Traced code entered rule group `group` (its rules follow, unless an index skipped them)."""

    group: str


@dataclass(frozen=True, slots=True)
class TableRead:
    """Traced code read the row or item `key` of `table` (for coverage of table rows)."""

    table: str
    key: Any


def validation_reads(
    fields: tuple[InputField, ...], records: dict[str, RecordSchema], data: Any
) -> list[TableRead]:
    """The table items that validated input was checked against (`in_table` fields):
    validation reads them too, so coverage counts them."""
    reads: list[TableRead] = []

    def visit(t: Type, field: InputField | None, value: Any) -> None:
        if value is None:
            return
        t = strip(t)
        if field is not None and field.spec.in_table and isinstance(t, Prim):
            reads.append(TableRead(field.spec.in_table, value))
        elif isinstance(t, RecordT) and t.name in records and type(value) is dict:
            for f in records[t.name].fields:
                visit(f.type, f, value.get(f.spec.name))
        elif isinstance(t, (ListT, SetT)) and isinstance(value, (list, frozenset)):
            for item in value:
                visit(t.elem, None, item)

    for f in fields:
        if type(data) is dict:
            visit(f.type, f, data.get(f.spec.name))
    return reads


def _read_key(trace: list[Any], table: str, key: Any, index: dict[Any, Any]) -> Any:
    found = index.get(key)
    if found is not None:
        trace.append(TableRead(table, key))
    return found


def _read_member(trace: list[Any], table: str, key: Any, members: Any) -> bool:
    if key in members:
        trace.append(TableRead(table, key))
        return True
    return False


def _read_rows(trace: list[Any], table: str, value: tuple[dict[Any, Any], Any]) -> Any:
    trace.extend(TableRead(table, key) for key in value[0])
    return value[1]


def _read(thunk: Callable[[], Any]) -> Any:
    """Evaluate a value for an explanation; a path that is not there reads as null."""
    try:
        return thunk()
    except (KeyError, TypeError, IndexError):
        return None


def _copy_plain(value: Any) -> Any:
    """A copy of plain data (dicts, lists; scalars and frozensets are shared, being immutable)."""
    if type(value) is dict:
        return {k: _copy_plain(v) for k, v in value.items()}
    if type(value) is list:
        return [_copy_plain(v) for v in value]
    return value


def _widen(value: Any) -> Any:
    """int -> Decimal, also inside lists (None and Decimals pass through)."""
    if type(value) is int:
        return Decimal(value)
    if type(value) is list:
        return [_widen(v) for v in value]
    return value


_NO = object()  # an indexed rule that did not fire
_FAIL = FAIL = object()  # what a fast validator returns for input it cannot vouch for
_DATE_CACHE: dict[str, date] = {}


HELPERS: dict[str, Any] = {
    "_FAIL": _FAIL,
    "_problem": _problem,
    "_to_decimal": _to_decimal,
    "_to_date": to_date,
    "_DATES": _DATE_CACHE,
    "_unknown_fields": _unknown_fields,
    "_raise_input": _raise_input,
    "_read": _read,
    "_read_key": _read_key,
    "_read_member": _read_member,
    "_read_rows": _read_rows,
    "_TraceEntry": TraceEntry,
    "_GroupCall": GroupCall,
    "_ctx": runtime.DECIMAL_CONTEXT,
    "_MISSING": object(),
    "_coalesce": lambda value, default: value if value is not None else default(),
    "_or": lambda value, default: value if value is not None else default,
    "_safe_get": lambda record, name: None if record is None else record[name],
    "_copy_plain": _copy_plain,
    "_widen": _widen,
    "_NO": _NO,
    "_MAX_DEC": Decimal(10) ** MAX_DECIMAL_DIGITS,
    # The few builtins generated code itself uses; expressions cannot name them.
    "type": type,
    "dict": dict,
    "list": list,
    "str": str,
    "int": int,
    "len": len,
    "enumerate": enumerate,
    "KeyError": KeyError,
    "bool": bool,
}


# --- the generator -------------------------------------------------------------


class _Module:
    """Accumulates generated source and the constants it refers to."""

    def __init__(self, checked: CheckedVersion):
        self.checked = checked
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self._constant_ids: dict[tuple[type, Any], str] = {}
        # Rule indexes, filled with the rule functions once the module has run:
        # name -> ({key: (function names...)}, (function names for any other key)).
        self.late_indexes: dict[str, tuple[dict[Any, tuple[str, ...]], tuple[str, ...]]] = {}
        self.lifted: list[str] = []  # loop functions lifted out of expressions
        self.lifted_by_text: dict[str, str] = {}  # a loop's code (unnamed) -> its function
        self.functions = {f.name: f for f in checked.functions}
        self.temps = 0
        self.plans: dict[str, _IndexPlan | None] = {}
        # Rules of an indexed group that differ only in literals share one code object:
        # (parameters, body) -> shape function; and rule function -> (shape, its literals).
        self.shapes: dict[tuple[str, str], str] = {}
        self.instances: dict[str, tuple[str, tuple[Any, ...]]] = {}
        # The hidden context each function and rule group takes (see needs_of).
        self.needs: dict[str, tuple[str, ...]] = {}
        for name in checked.call_order:
            fn = self.functions.get(name)
            if fn is not None:
                self.needs[name] = self.needs_of([fn.body, *(n for _, n, _ in fn.lets)])
            elif name in checked.groups:
                group = checked.groups[name]
                nodes = [r.when for r in group.rules] + [
                    r.then for r in group.rules if r.then is not None
                ]
                nodes += [group.default] if group.default is not None else []
                self.needs[name] = self.needs_of(nodes)
        self.loop_counter = 0

    def plan_of(self, group: CheckedGroup) -> _IndexPlan | None:
        """The group's rule index (planned once), or None if its rules are tested in turn."""
        if group.name not in self.plans:
            self.plans[group.name] = _plan_index(group, self.checked.types)
        return self.plans[group.name]

    def fresh(self, prefix: str) -> str:
        """A new local name for generated code (inlined values, loop variables)."""
        self.temps += 1
        return f"{prefix}{self.temps}"

    def constant(self, value: Any, prefix: str = "_k") -> str:
        try:
            # Decimals by their text: 0.1 and 0.10 are equal but print differently.
            key = (type(value), str(value) if isinstance(value, Decimal) else value)
            hash(key)
        except TypeError:
            key = (type(value), id(value))
        name = self._constant_ids.get(key)
        if name is None:
            name = f"{prefix}{len(self.constants)}"
            self.constants[name] = value
            self._constant_ids[key] = name
        return name

    def needs_of(self, nodes: Iterable[Expr]) -> tuple[str, ...]:
        """Which of as_of, locale and the messages some expressions use, directly or by calls."""
        found: set[str] = set()
        for node in nodes:
            for sub in walk(node):
                if isinstance(sub, Var) and sub.name in ("as_of", "locale"):
                    found.add("_" + sub.name)
                elif isinstance(sub, Call):
                    if sub.name == "message":
                        found.add("_messages")
                    found.update(self.needs.get(sub.name, ()))
        return tuple(h for h in HIDDEN if h in found)

    def checked_params(self, name: str) -> tuple[tuple[str, Type], ...]:
        group = self.checked.groups.get(name)
        if group is not None:
            return group.params
        return self.functions[name].params

    def emit(self, line: str, indent: int = 0) -> None:
        self.lines.append("    " * indent + line)


class _ExprCompiler:
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

    def __init__(self, module: _Module, traced: bool, sink: list[str] | None = None):
        self.m = module
        self.types = module.checked.types
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
        self.inlined = 0  # expression nodes inlined so far (see INLINE_BUDGET)

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
                    inlined = self.inline(node)
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
        if _needs_widening(have, want):
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
                return self.loop_statement(node)
            return self.lifted_loop(node)
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
        empty = f" if {coll} else []" if _cheap(coll) else ""
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
                isinstance(i, Literal) and _indexable(i.value) for i in right.items
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

    def loop_statement(self, node: Macro) -> str:
        """A quantifier or fold as a `for` statement in the sink; its value in a local."""
        assert self.sink is not None
        coll = self.collection(node.collection)
        var, result = self.m.fresh("_b"), self.m.fresh("_i")
        saved = self.env.get(node.var)
        self.env[node.var] = var
        try:
            body = self.branch(node.body[0])
        finally:
            self.restore(node.var, saved)
        decimal = self.type_of(node) == DECIMAL
        lines = _loop_lines(node.name, decimal, var, coll, body, result)
        self.sink.extend(lines)
        return result

    def lifted_loop(self, node: Macro) -> str:
        """A quantifier or fold as a module-level function with a plain loop that stops
        early: cheaper than a generator expression fed to any()/all()/sum()."""
        m = self.m
        bound = {sub.var for sub in walk(node.body[0]) if isinstance(sub, Macro)} | {node.var}
        free = sorted(
            {
                sub.name
                for sub in walk(node.body[0])
                if isinstance(sub, Var)
                and sub.name not in bound
                and sub.name not in m.checked.tables
                and sub.name not in ("as_of", "locale")
            }
        )
        needs = self.m.needs_of([node.body[0]])
        # The body is compiled as the lifted function's own: its parameters are the free
        # variables, under their plain names.
        inner = _ExprCompiler(m, self.traced)
        inner.env = {n: f"v_{n}" for n in [*free, node.var]}
        inner.depth = self.depth
        body = inner.branch(node.body[0])
        var = f"v_{node.var}"
        params = ", ".join(
            a for a in [self.hidden(needs), *(f"v_{n}" for n in free), "_items"] if a
        )
        decimal = self.type_of(node) == DECIMAL
        loop = _loop_lines(node.name, decimal, var, "_items", body, "_n")
        lines = [f"def {{name}}({params}):", *("    " + line for line in loop), "    return _n"]
        # Inlined helpers repeat the same loop: one function serves every copy.
        text = "\n".join(lines)
        name = m.lifted_by_text.get(text)
        if name is None:
            m.loop_counter += 1
            name = f"_loop{m.loop_counter}{'_t' if self.traced else ''}"
            m.lifted_by_text[text] = name
            m.lifted.extend([lines[0].replace("{name}", name), *lines[1:], ""])
        args = ", ".join(
            a
            for a in [
                self.hidden(needs),
                *(self.var(n) for n in free),
                self.collection(node.collection),
            ]
            if a
        )
        return f"{name}({args})"

    # Inlining limits: beyond them a call stays a call (code size, compile time).
    INLINE_MAX_NODES = 80  # a helper's size
    INLINE_MAX_RULES = 12  # a rule group's size
    INLINE_MAX_DEPTH = 3  # calls inlined into inlined code
    INLINE_BUDGET = 2000  # expression nodes inlined into one generated function

    def inline(self, node: Call) -> str | None:
        """The code of a helper function or rule group call, inlined; None to keep the call."""
        if self.traced or self.depth >= self.INLINE_MAX_DEPTH:
            return None
        fn = self.m.functions.get(node.name)
        if fn is not None:
            return self.inline_function(node, fn)
        group = self.m.checked.groups.get(node.name)
        if group is None or not self.can_hoist() or len(group.rules) > self.INLINE_MAX_RULES:
            return None
        if self.m.plan_of(group) is not None:
            return None  # an indexed group is a dict lookup: it stays a function
        size = sum(
            1
            for rule in group.rules
            for part in (rule.when, rule.then)
            if part is not None
            for _ in walk(part)
        )
        if not self.spend(size):
            return None
        return self.inline_group(node, group)

    def spend(self, size: int) -> bool:
        """Take size from the function's inlining budget; False (nothing taken) if short."""
        if self.inlined + size > self.INLINE_BUDGET:
            return False
        self.inlined += size
        return True

    def inline_function(self, node: Call, fn: Any) -> str | None:
        bodies = [fn.body, *(n for _, n, _ in fn.lets)]
        size = sum(1 for b in bodies for _ in walk(b))
        if size > self.INLINE_MAX_NODES:
            return None
        hoist = self.can_hoist()
        if fn.lets and not hoist:
            return None
        uses = _reads_per_name(bodies)
        simple = [_is_path(a) or isinstance(a, Literal) for a in node.args]
        # A complex argument read more than once is computed once, into a local.
        if not hoist and any(
            not ok and uses.get(p, 0) > 1 for ok, (p, _) in zip(simple, fn.params, strict=True)
        ):
            return None
        if not self.spend(size):
            return None
        env: dict[str, str] = {}
        for arg, ok, (param, want) in zip(node.args, simple, fn.params, strict=True):
            code = self.widened(arg, want)
            env[param] = code if ok or uses.get(param, 0) <= 1 else self.bind(code)
        return self.in_scope(env, fn.lets, fn.body)

    def in_scope(
        self, env: dict[str, str], lets: tuple[tuple[str, Expr, Type], ...], body: Expr
    ) -> str:
        """Compile body (after its lets, into locals) with only env's names in scope."""
        saved = self.env, self.depth
        self.env, self.depth = env, self.depth + 1
        try:
            for local, node, _ in lets:
                env[local] = self.bind(self.expr(node))
            return self.expr(body)
        finally:
            self.env, self.depth = saved

    def inline_group(self, node: Call, group: CheckedGroup) -> str:
        """A rule group's rules as `if` statements in the sink; its result in a local."""
        assert self.sink is not None
        env = {
            param: self.bind(self.widened(arg, want))
            for arg, (param, want) in zip(node.args, group.params, strict=True)
        }
        saved = self.env, self.depth
        self.env, self.depth = env, self.depth + 1
        result = self.m.fresh("_i")
        sink = self.sink
        try:
            if group.hit == "collect":
                sink.append(f"{result} = []")
                for rule in group.rules:
                    cond = self.expr(rule.when)  # every condition is evaluated: may hoist
                    contribution = self.contribution_code(group, rule)
                    sink += [f"if {cond}:", f"    {result}.append({contribution})"]
            else:
                for i, rule in enumerate(group.rules):
                    cond = self.expr(rule.when) if i == 0 else self.branch(rule.when)
                    contribution = self.contribution_code(group, rule)
                    sink += [
                        f"{'if' if i == 0 else 'elif'} {cond}:",
                        f"    {result} = {contribution}",
                    ]
                default = (
                    self.branch(group.default, group.type) if group.default is not None else "None"
                )
                if group.rules:
                    sink += ["else:", f"    {result} = {default}"]
                else:
                    sink.append(f"{result} = {default}")
        finally:
            self.env, self.depth = saved
        return result

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
        if op in ("==", "!=") and _is_empty_test(node, self.types):
            # len(x) == 0 -> not x: same meaning for lists, sets, maps and strings, and faster.
            subject = node.left if isinstance(node.left, Call) else node.right
            assert isinstance(subject, Call)
            inner = self.expr(subject.args[0])
            return f"(not {inner})" if op == "==" else f"(not not {inner})"
        if op == "??":
            # Lazy like `or`: the default is only evaluated (and traced) when needed.
            want = self.type_of(node)
            first, default = self.widened(node.left, want), self.branch(node.right, want)
            if not _cheap(first) and self.can_hoist():
                first = self.bind(first)  # computed once, into a local
            if _cheap(first):
                return f"({first} if {first} is not None else {default})"
            if isinstance(node.right, Literal) or _cheap(default):
                return f"_or({first}, {default})"  # a default that costs nothing to compute
            return f"_coalesce({first}, lambda: {default})"
        items = node.right.items if isinstance(node.right, ListLit) else None
        if (
            op in ("in", "not in")
            and self.literals is not None
            and items
            and all(isinstance(i, Literal) and _indexable(i.value) for i in items)
        ):
            # Shared rule code: the whole literal list is one parameter (a tuple), not
            # a list built on every call from one parameter per item.
            values = tuple(i.value for i in items if isinstance(i, Literal))
            return f"({self.expr(node.left)} {op} {self.constant(values)})"
        left = self.expr(node.left)
        right = self.branch(node.right) if op in ("and", "or") else self.expr(node.right)
        if op in ("==", "!=") and (_is_null(node.left) or _is_null(node.right)):
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


def _loop_lines(kind: str, decimal: bool, var: str, coll: str, body: str, result: str) -> list[str]:
    """A quantifier or fold as statements leaving its value in `result`; any, all and
    first stop at the first item that decides."""
    start = {"any": "False", "all": "True", "first": "None"}.get(kind)
    if start is None:  # count, sum
        start = "_Decimal(0)" if decimal and kind == "sum" else "0"
    lines = [f"{result} = {start}", f"for {var} in {coll}:"]
    if kind == "any":
        lines += [f"    if {body}:", f"        {result} = True", "        break"]
    elif kind == "all":
        lines += [f"    if not ({body}):", f"        {result} = False", "        break"]
    elif kind == "first":
        lines += [f"    if {body}:", f"        {result} = {var}", "        break"]
    elif kind == "count":
        lines += [f"    if {body}:", f"        {result} += 1"]
    elif decimal:
        lines += [f"    {result} = _ctx.add({result}, {body})"]
    else:
        lines += [f"    {result} += {body}"]
    return lines


def _reads_per_name(nodes: Iterable[Expr]) -> dict[str, int]:
    """How often each name is read; a read inside a macro body (a loop) counts twice, so
    an inlined argument read there is computed once, not on every iteration."""
    counts: dict[str, int] = {}

    def visit(node: Expr, weight: int) -> None:
        if isinstance(node, Var):
            counts[node.name] = counts.get(node.name, 0) + weight
        elif isinstance(node, Macro):
            visit(node.collection, weight)
            for body in node.body:
                visit(body, 2)
        else:
            for child in children(node):
                visit(child, weight)

    for node in nodes:
        visit(node, 1)
    return counts


def _needs_widening(have: Type, want: Type) -> bool:
    """Whether a value of type `have` may hold ints where `want` says decimal."""
    if strip(want) == DECIMAL:
        return strip(have) == INT
    if isinstance(strip(want), ListT) and isinstance(strip(have), ListT):
        return _needs_widening(strip(have).elem, strip(want).elem)  # type: ignore[union-attr]
    return False


INDEX_MIN_RULES = 8  # below this many rules on one fact, testing each rule is as fast


@dataclass(frozen=True, slots=True)
class _IndexPlan:
    path: Expr  # the fact the rules test, evaluated once per call
    keys: dict[int, tuple[Any, ...]]  # rule -> the literal values it matches
    # rule -> the rest of its condition, if any. Rests joined here are new nodes whose
    # types are keyed by id(): the plan keeps them alive as long as code may be generated.
    rest: dict[int, Expr]
    by_key: dict[Any, tuple[int, ...]]  # value -> rules to evaluate, in order
    always: tuple[int, ...]  # rules not indexed: evaluated for every value


def _index_test(node: Expr) -> tuple[str, Expr, tuple[Any, ...]] | None:
    """`path == literal`, `literal == path` or `path in [literals]`, else None."""
    if isinstance(node, Binary) and node.op == "==":
        for path, lit in ((node.left, node.right), (node.right, node.left)):
            if _is_path(path) and isinstance(lit, Literal) and _indexable(lit.value):
                return unparse(path), path, (lit.value,)
    if isinstance(node, Binary) and node.op == "in" and _is_path(node.left):
        items = node.right.items if isinstance(node.right, (ListLit, SetLit)) else None
        if items and all(isinstance(i, Literal) and _indexable(i.value) for i in items):
            return (
                unparse(node.left),
                node.left,
                tuple(i.value for i in items if isinstance(i, Literal)),
            )
    return None


def _indexable(value: Any) -> bool:
    return value is not None and isinstance(value, (str, int, Decimal, date))


def _split_condition(
    node: Expr, types: dict[int, Type]
) -> tuple[str, Expr, tuple[Any, ...], Expr | None] | None:
    """The leftmost index test of a conjunction, and what remains of the condition."""
    found = _index_test(node)
    if found is not None:
        return (*found, None)
    if isinstance(node, Binary) and node.op == "and":
        left = _split_condition(node.left, types)
        if left is not None:
            key, path, values, rest = left
            if rest is None:
                return key, path, values, node.right
            joined = Binary("and", rest, node.right, span=node.span)
            types[id(joined)] = types[id(node)]
            return key, path, values, joined
    return None


def _plan_index(group: CheckedGroup, types: dict[int, Type]) -> _IndexPlan | None:
    """Index a group's rules on the fact most of them test against literals."""
    splits = {}
    counts: dict[str, int] = {}
    for i, rule in enumerate(group.rules):
        split = _split_condition(rule.when, types)
        if split is not None:
            splits[i] = split
            counts[split[0]] = counts.get(split[0], 0) + 1
    if not counts:
        return None
    best = max(counts, key=lambda k: counts[k])
    if counts[best] < INDEX_MIN_RULES:
        return None
    keys: dict[int, tuple[Any, ...]] = {}
    rest: dict[int, Expr] = {}
    path: Expr | None = None
    for i, (key, node, values, remainder) in splits.items():
        if key == best:
            path = node
            keys[i] = values
            if remainder is not None:
                rest[i] = remainder
    always = tuple(i for i in range(len(group.rules)) if i not in keys)
    by_key: dict[Any, list[int]] = {}
    for i, values in keys.items():
        for value in values:
            by_key.setdefault(value, [])
            if i not in by_key[value]:
                by_key[value].append(i)
    assert path is not None
    return _IndexPlan(
        path=path,
        keys=keys,
        rest=rest,
        by_key={value: tuple(sorted({*found, *always})) for value, found in by_key.items()},
        always=always,
    )


def _is_path(node: Expr) -> bool:
    """A name or a chain of field reads: cheap and pure, fine to evaluate twice."""
    while isinstance(node, Member) and not node.safe:
        node = node.obj
    return isinstance(node, Var)


_CHEAP = re.compile(r"[A-Za-z_]\w*(\['\w+'\])*\Z")


def _cheap(code: str) -> bool:
    """Code that is a local or a chain of field reads: fine to evaluate twice."""
    return _CHEAP.match(code) is not None


def _is_empty_test(node: Binary, types: dict[int, Type]) -> bool:
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


def _is_null(node: Expr) -> bool:
    return isinstance(node, Literal) and node.value is None


class _Generator:
    def __init__(self, checked: CheckedVersion):
        self.checked = checked
        self.m = _Module(checked)
        # dict display of a record checked by fast_record -> its fields' value code
        self.record_values: dict[str, dict[str, str]] = {}

    def generate(self) -> _Module:
        m = self.m
        for name, table in self.checked.tables.items():
            m.constants[f"t_{name}"] = table.value
        m.constants["_remedies"] = {code: r.remedy for code, r in self.checked.reasons.items()}
        m.constants["_MESSAGES"] = {
            locale: {
                code: dict(r.messages).get(locale, code) for code, r in self.checked.reasons.items()
            }
            for locale in self.checked.model.manifest.locales
        }
        self.callables(traced=False)
        for record in self.checked.records.values():
            self.record_validator(record)
        for decision in self.checked.decisions.values():
            self.input_validator(decision)
            self.fused_decision(decision)
        m.lines.extend(m.lifted)
        m.lifted.clear()
        return m

    def callables(self, traced: bool) -> None:
        """Functions, rule groups (callees first) and decisions, plain or traced."""
        m = self.m
        for name in self.checked.call_order:
            fn = next((f for f in self.checked.functions if f.name == name), None)
            if fn is not None:
                self.function(fn.name, fn.params, fn.lets, fn.body, traced)
            elif name in self.checked.groups:
                self.group(self.checked.groups[name], traced)
        for decision in self.checked.decisions.values():
            self.decision(decision, traced=traced)
        m.lines.extend(m.lifted)
        m.lifted.clear()

    def traced_source(self) -> str:
        """The traced copy, as a module of its own (generated and compiled on first use)."""
        m = self.m
        saved, m.lines = m.lines, []
        try:
            self.callables(traced=True)
            return "\n".join(m.lines) + "\n"
        finally:
            m.lines = saved

    def function(
        self,
        name: str,
        params: tuple[tuple[str, Type], ...],
        lets: tuple[tuple[str, Expr, Type], ...],
        body: Expr,
        traced: bool,
    ) -> None:
        ec = _ExprCompiler(self.m, traced)
        args = ", ".join(a for a in [ec.hidden_of(name), *(f"v_{p}" for p, _ in params)] if a)
        suffix = "_t" if traced else ""
        self.m.emit(f"def f_{name}{suffix}({args}):")
        for local, node, _ in lets:
            self.m.emit(f"v_{local} = {self.lowered(ec, node, 1)}", 1)
        self.m.emit(f"return {self.lowered(ec, body, 1)}", 1)
        self.m.emit("")

    def lowered(self, ec: _ExprCompiler, node: Expr, indent: int, want: Type | None = None) -> str:
        """Code for node as part of one statement: the statements it was lowered to (plain
        code only) are emitted first, at `indent`."""
        if ec.traced:
            return ec.expr(node) if want is None else ec.widened(node, want)
        ec.sink = []
        try:
            code = ec.expr(node) if want is None else ec.widened(node, want)
        finally:
            lines, ec.sink = ec.sink, None
        for line in lines:
            self.m.emit(line, indent)
        return code

    def group(self, group: CheckedGroup, traced: bool) -> None:
        index = self.m.plan_of(group)
        if index is not None:
            self.indexed_group(group, index, traced)
            return
        m = self.m
        ec = _ExprCompiler(m, traced)
        args = ", ".join(
            a for a in [ec.hidden_of(group.name), *(f"v_{p}" for p, _ in group.params)] if a
        )
        suffix = "_t" if traced else ""
        m.emit(f"def g_{group.name}{suffix}({args}):")
        if traced:
            m.emit(f"_trace.append(_GroupCall({group.name!r}))", 1)
        collect = group.hit == "collect"
        if collect:
            m.emit("_r = []", 1)
        for rule in group.rules:
            # Rules run in order, each `if` reached only when the ones before did not
            # return: a condition's statements go right before its `if`.
            contribution = ec.contribution_code(group, rule)  # only when its rule fires
            cond = self.lowered(ec, rule.when, 1)
            action = f"_r.append({contribution})" if collect else f"return {contribution}"
            if traced:
                self.trace_rule(ec, group, rule, cond)
                m.emit("if _w:", 1)
            else:
                m.emit(f"if {cond}:", 1)
            m.emit(action, 2)
        if collect:
            m.emit("return _r", 1)
        else:
            default = (
                self.lowered(ec, group.default, 1, group.type)
                if group.default is not None
                else "None"
            )
            m.emit(f"return {default}", 1)
        m.emit("")

    def trace_rule(
        self, ec: _ExprCompiler, group: CheckedGroup, rule: CheckedRule, cond: str
    ) -> None:
        """Evaluate a rule's condition into `_w` and record it, with the facts it read."""
        reads = fact_reads(rule.when, self.checked.tables)
        values = ", ".join(f"{unparse(r)!r}: _read(lambda: {ec.expr(r)})" for r in reads)
        loc = f"{rule.definition.location.file}:{rule.definition.location.line}"
        self.m.emit(f"_w = bool({cond})", 1)
        self.m.emit(
            f"_trace.append(_TraceEntry({group.name!r}, {rule.definition.id!r}, {loc!r}, _w, {{{values}}}))",
            1,
        )

    def indexed_group(self, group: CheckedGroup, index: _IndexPlan, traced: bool) -> None:
        """A group whose rules mostly test one fact against literals: look the fact up in a
        dict of candidate rules instead of testing every rule (cost flat in the rule count)."""
        m = self.m
        ec = _ExprCompiler(m, traced)
        params = ", ".join(
            a for a in [ec.hidden_of(group.name), *(f"v_{p}" for p, _ in group.params)] if a
        )
        suffix = "_t" if traced else ""
        for i, rule in enumerate(group.rules):
            cond_node = (
                index.rest.get(i, rule.when) if i in index.rest or i not in index.keys else None
            )
            if not traced:
                self.shared_rule(ec, group, rule, cond_node, params, f"gr_{group.name}_{i}")
                continue
            contribution = ec.contribution_code(group, rule)
            m.emit(f"def gr_{group.name}_{i}{suffix}({params}):")
            cond = "True" if cond_node is None else ec.expr(cond_node)
            self.trace_rule(ec, group, rule, cond)
            m.emit(f"return {contribution} if _w else _NO", 1)
            m.emit("")
        table = f"_IX_{group.name}{suffix}"
        m.late_indexes[table] = (
            {
                key: tuple(f"gr_{group.name}_{i}{suffix}" for i in rules)
                for key, rules in index.by_key.items()
            },
            tuple(f"gr_{group.name}_{i}{suffix}" for i in index.always),
        )
        m.emit(f"def g_{group.name}{suffix}({params}):")
        if traced:
            m.emit(f"_trace.append(_GroupCall({group.name!r}))", 1)
        key = ec.expr(index.path)
        call_args = params
        if group.hit == "collect":
            m.emit("_r = []", 1)
            m.emit(f"for _rule in {table}[0].get({key}, {table}[1]):", 1)
            m.emit(f"_v = _rule({call_args})", 2)
            m.emit("if _v is not _NO:", 2)
            m.emit("_r.append(_v)", 3)
            m.emit("return _r", 1)
        else:
            m.emit(f"for _rule in {table}[0].get({key}, {table}[1]):", 1)
            m.emit(f"_v = _rule({call_args})", 2)
            m.emit("if _v is not _NO:", 2)
            m.emit("return _v", 3)
            default = ec.widened(group.default, group.type) if group.default is not None else "None"
            m.emit(f"return {default}", 1)
        m.emit("")

    def shared_rule(
        self,
        ec: _ExprCompiler,
        group: CheckedGroup,
        rule: CheckedRule,
        cond_node: Expr | None,
        params: str,
        name: str,
    ) -> None:
        """One indexed rule as an instance of a shape: a function whose literals are
        parameters with defaults. 10,000 rules written from two patterns compile two
        functions, not 10,000 (the rule functions are made from their code objects)."""
        m = self.m
        ec.literals = []
        try:
            contribution = ec.contribution_code(group, rule)
            cond = "True" if cond_node is None else ec.expr(cond_node)
        finally:
            literals, ec.literals = ec.literals, None
        slots = [f"_c{j}=None" for j in range(len(literals))]
        signature = ", ".join(a for a in [params, *slots] if a)
        body = f"return {contribution} if {cond} else _NO"
        shape = m.shapes.get((signature, body))
        if shape is None:
            shape = m.shapes[(signature, body)] = f"_shape{len(m.shapes)}"
            m.emit(f"def {shape}({signature}):")
            m.emit(body, 1)
            m.emit("")
        m.instances[name] = (shape, tuple(literals))

    def decision(self, decision: CheckedDecision, traced: bool) -> None:
        m = self.m
        ec = _ExprCompiler(m, traced)
        suffix = "_t" if traced else ""
        extra = ", _trace" if traced else ""
        m.emit(f"def d_{decision.name}{suffix}(_inp, _as_of, _locale{extra}):")
        m.emit("_messages = _MESSAGES[_locale]", 1)
        for f in decision.inputs:
            if f.spec.name not in ("as_of", "locale"):
                m.emit(f"v_{f.spec.name} = _inp[{f.spec.name!r}]", 1)
        self.decision_body(decision, ec)
        m.emit("")

    def decision_body(self, decision: CheckedDecision, ec: _ExprCompiler, tail: str = "") -> None:
        """The lets and the result of a decision, its inputs bound to v_<name>."""
        m = self.m
        for name, node, _ in decision.lets:
            m.emit(f"v_{name} = {self.lowered(ec, node, 1)}", 1)
        # A result must never share a list or record with the version's tables (a
        # caller mutating it would change them): outputs that may hold table data are
        # copied on the way out. Everything else is built fresh by each decision.
        lets = {name: node for name, node, _ in decision.lets}
        outputs = []
        for name, node, t in decision.outputs:
            code = self.lowered(ec, node, 1)
            outputs.append(f"{name!r}: {_fresh(code, t) if self.may_share(node, lets) else code}")
        m.emit(f"return {{{', '.join(outputs)}}}{tail}", 1)

    def fused_decision(self, decision: CheckedDecision) -> None:
        """`p_<name>(x, as_of)`: the fast input check and the decision in one function,
        returning (result, locale), or _FAIL for input the fast check cannot vouch for.
        Fields of input records are read from the check's locals; a record's dict is
        built only if the decision uses the record as a whole."""
        m = self.m
        locales = self.checked.model.manifest.locales
        m.emit(f"def p_{decision.name}(x, _as_of):")
        inputs = tuple(f for f in decision.inputs if f.spec.name not in ("as_of", "locale"))
        self.record_values = {}
        display = self.fast_record(inputs, "x", 1, extra_known=("as_of", "locale"))
        values = self.record_values[display]
        m.emit("_locale = x.get('locale')", 1)
        m.emit("if _locale is None:", 1)
        m.emit(f"_locale = {locales[0]!r}", 2)
        m.emit(
            f"elif type(_locale) is not str or _locale not in {m.constant(frozenset(locales))}:", 1
        )
        m.emit("return _FAIL", 2)
        ec = _ExprCompiler(m, traced=False)
        binds: list[tuple[str, str]] = []
        for f in inputs:
            value = values[f.spec.name]
            fields = self.record_values.get(value)
            if fields is not None and not isinstance(f.type, OptT):
                locals_ = {}
                for name, code in fields.items():
                    if not code.isidentifier():
                        local = self.temp()
                        m.emit(f"{local} = {code}", 1)
                        code = local
                    locals_[name] = code
                ec.fields[f"v_{f.spec.name}"] = locals_
                value = "{" + ", ".join(f"{k!r}: {v}" for k, v in locals_.items()) + "}"
            binds.append((f"v_{f.spec.name}", value))
        saved, m.lines = m.lines, []
        try:
            self.decision_body(decision, ec, tail=", _locale")
        finally:
            body, m.lines = m.lines, saved
        text = "\n".join(body)
        if "_messages" in text:
            m.emit("_messages = _MESSAGES[_locale]", 1)
        for name, value in binds:
            if re.search(rf"\b{name}\b", text):
                m.emit(f"{name} = {value}", 1)
        m.lines.extend(body)
        m.emit("")

    def may_share(self, node: Expr, lets: dict[str, Expr], seen: set[str] | None = None) -> bool:
        """Whether a value may contain a mutable container from a table (lists, maps, rows)."""
        seen = set() if seen is None else seen
        checked = self.checked
        stack = [node]
        while stack:
            sub = stack.pop()
            t = checked.types.get(id(sub))
            if t is not None and isinstance(strip(t), (Prim, SetT)):
                continue  # a scalar or a frozenset: no table container can come through it
            stack.extend(children(sub))
            if isinstance(sub, Var):
                table = checked.tables.get(sub.name)
                if table is not None and not isinstance(table.type, (Prim, SetT)):
                    return True
                if sub.name in lets and sub.name not in seen:
                    seen.add(sub.name)
                    if self.may_share(lets[sub.name], lets, seen):
                        return True
            elif isinstance(sub, Call) and f"call:{sub.name}" not in seen:
                seen.add(f"call:{sub.name}")
                bodies: list[Expr] = []
                fn = self.m.functions.get(sub.name)
                if fn is not None:
                    bodies = [fn.body, *(n for _, n, _ in fn.lets)]
                elif sub.name in checked.groups:
                    group = checked.groups[sub.name]
                    bodies = [r.then for r in group.rules if r.then is not None]
                    bodies += [group.default] if group.default is not None else []
                if any(self.may_share(body, {}, seen) for body in bodies):
                    return True
        return False

    # -- validators

    def value_check(
        self, t: Type, f: InputField | None, var: str, path: str, out: str, indent: int
    ) -> None:
        """Emit code that checks `var` against t and assigns the converted value to `out`."""
        m = self.m
        spec = f.spec if f else None
        t = strip(t)
        desc = _type_desc(t, spec)
        bad = f"errs.append(_problem('type', {path}, {('expected ' + desc)!r}, {desc!r}, {var}))"
        if t in (INT, DECIMAL):
            lo = spec.minimum if spec and spec.minimum is not None else None
            hi = spec.maximum if spec and spec.maximum is not None else None
            if t == INT:
                m.emit(f"if type({var}) is int and {-MAX_INT} <= {var} <= {MAX_INT}:", indent)
            else:
                # Fast path for the common case (a finite Decimal in range); else convert.
                m.emit(
                    f"if not (type({var}) is _Decimal and {var}.is_finite() and -_MAX_DEC < {var} < _MAX_DEC):",
                    indent,
                )
                m.emit(f"_d = _to_decimal({var})", indent + 1)
                m.emit(f"{var} = {var} if _d is None else _d", indent + 1)
                m.emit(
                    f"if type({var}) is _Decimal and {var}.is_finite() and -_MAX_DEC < {var} < _MAX_DEC:",
                    indent,
                )
            if lo is not None:
                m.emit(f"if {var} < {m.constant(lo)}:", indent + 1)
                m.emit(
                    f"errs.append(_problem('minimum', {path}, {f'must be at least {lo}'!r}, {f'>= {lo}'!r}, {var}))",
                    indent + 2,
                )
            if hi is not None:
                m.emit(f"if {var} > {m.constant(hi)}:", indent + 1)
                m.emit(
                    f"errs.append(_problem('maximum', {path}, {f'must be at most {hi}'!r}, {f'<= {hi}'!r}, {var}))",
                    indent + 2,
                )
            if f is not None and f.allowed is not None and spec is not None and spec.in_table:
                listed = ", ".join(str(k) for k in sorted(f.allowed))
                m.emit(f"if {var} not in {m.constant(f.allowed)}:", indent + 1)
                m.emit(
                    f"errs.append(_problem('not_in_table', {path}, {f'is not in table {spec.in_table}'!r}, {f'one of: {listed}'!r}, {var}))",
                    indent + 2,
                )
            m.emit(f"{out} = {var}", indent + 1)
            m.emit("else:", indent)
            if t == INT:
                m.emit(
                    f"errs.append(_problem('type', {path}, 'expected an integer' if type({var}) is not int else 'integer out of range', 'integer', {var}))",
                    indent + 1,
                )
            else:
                m.emit(
                    f"errs.append(_problem('type', {path}, 'expected a decimal number (a JSON number or a decimal string; never a float)', 'decimal', {var}))",
                    indent + 1,
                )
            return
        if t == BOOL:
            m.emit(f"if {var} is True or {var} is False:", indent)
            m.emit(f"{out} = {var}", indent + 1)
            m.emit("else:", indent)
            m.emit(bad, indent + 1)
            return
        if t == DATE:
            m.emit(f"_dt = {var} if type({var}) is _date else _to_date({var})", indent)
            m.emit("if _dt is not None:", indent)
            m.emit(f"{out} = _dt", indent + 1)
            m.emit("else:", indent)
            m.emit(
                f"errs.append(_problem('type', {path}, 'expected a date (YYYY-MM-DD)', 'date', {var}))",
                indent + 1,
            )
            return
        if isinstance(t, Prim) and t.name == "string":
            m.emit(f"if type({var}) is str:", indent)
            checks = []
            if t.enum:
                ordered = tuple(spec.enum) if spec and spec.enum else tuple(sorted(t.enum))
                enum_const = m.constant(frozenset(ordered))
                expected = "one of: " + ", ".join(ordered)
                checks.append(
                    (f"{var} not in {enum_const}", "enum", f"must be {expected}", expected)
                )
            if spec and spec.min_length is not None:
                checks.append(
                    (
                        f"len({var}) < {spec.min_length}",
                        "min_length",
                        "must not be empty"
                        if spec.min_length == 1
                        else f"must have at least {spec.min_length} characters",
                        f"at least {spec.min_length} characters",
                    )
                )
            if spec and spec.max_length is not None:
                checks.append(
                    (
                        f"len({var}) > {spec.max_length}",
                        "max_length",
                        f"must have at most {spec.max_length} characters",
                        f"at most {spec.max_length} characters",
                    )
                )
            if spec and spec.pattern is not None:
                pattern = m.constant(re.compile(spec.pattern))
                checks.append(
                    (
                        f"{pattern}.fullmatch({var}) is None",
                        "pattern",
                        f"must match {spec.pattern}",
                        f"matching {spec.pattern}",
                    )
                )
            if f and f.allowed is not None and spec and spec.in_table:
                keys = m.constant(f.allowed)
                listed = ", ".join(sorted(str(k) for k in f.allowed))
                checks.append(
                    (
                        f"{var} not in {keys}",
                        "not_in_table",
                        f"is not in table {spec.in_table}",
                        f"one of: {listed}",
                    )
                )
            if checks:
                m.emit("_ok = True", indent + 1)
            for cond, code, message, expected in checks:
                m.emit(f"if _ok and {cond}:", indent + 1)
                m.emit(
                    f"errs.append(_problem({code!r}, {path}, {message!r}, {expected!r}, {var}))",
                    indent + 2,
                )
                m.emit("_ok = False", indent + 2)
            m.emit(f"{out} = {var}", indent + 1)
            m.emit("else:", indent)
            m.emit(bad, indent + 1)
            return
        if isinstance(t, RecordT):
            assert t.name is not None
            m.emit(f"{out} = vr_{t.name}({var}, {path}, errs)", indent)
            return
        if isinstance(t, (ListT, SetT)):
            item = f"_i{indent}"
            idx = f"_n{indent}"
            acc = f"_l{indent}"
            m.emit(f"if type({var}) is list:", indent)
            if f and f.spec.min_length is not None:
                m.emit(f"if len({var}) < {f.spec.min_length}:", indent + 1)
                m.emit(
                    f"errs.append(_problem('min_items', {path}, 'must have at least {f.spec.min_length} item(s)', 'at least {f.spec.min_length} item(s)', {var}))",
                    indent + 2,
                )
            if f and f.spec.max_length is not None:
                m.emit(f"if len({var}) > {f.spec.max_length}:", indent + 1)
                m.emit(
                    f"errs.append(_problem('max_items', {path}, 'must have at most {f.spec.max_length} item(s)', 'at most {f.spec.max_length} item(s)', {var}))",
                    indent + 2,
                )
            m.emit(f"{acc} = []", indent + 1)
            m.emit(f"for {idx}, {item} in enumerate({var}):", indent + 1)
            m.emit("_v = None", indent + 2)
            self.value_check(
                t.elem, None, item, f"({path}) + '[' + _str({idx}) + ']'", "_v", indent + 2
            )
            m.emit(f"{acc}.append(_v)", indent + 2)
            m.emit(
                f"{out} = {acc}" if isinstance(t, ListT) else f"{out} = _frozenset({acc})",
                indent + 1,
            )
            m.emit("else:", indent)
            m.emit(bad, indent + 1)
            return
        if isinstance(t, MapT):
            item = f"_i{indent}"
            key = f"_k{indent}"
            acc = f"_m{indent}"
            m.emit(f"if type({var}) is dict:", indent)
            m.emit(f"{acc} = {{}}", indent + 1)
            m.emit(f"for {key}, {item} in {var}.items():", indent + 1)
            m.emit("_v = None", indent + 2)
            self.value_check(t.value, None, item, f"({path}) + '.' + _str({key})", "_v", indent + 2)
            m.emit(f"{acc}[{key}] = _v", indent + 2)
            m.emit(f"{out} = {acc}", indent + 1)
            m.emit("else:", indent)
            m.emit(bad, indent + 1)
            return
        raise AssertionError(f"cannot validate {t}")  # pragma: no cover

    def fields_check(
        self, fields: tuple[InputField, ...], indent: int, extra_known: tuple[str, ...] = ()
    ) -> None:
        m = self.m
        known = tuple(f.spec.name for f in fields) + extra_known
        m.emit("out = {}", indent)
        for f in fields:
            name = f.spec.name
            path = f"path + {'.' + name!r}"
            m.emit(f"v = x.get({name!r}, _MISSING)", indent)
            m.emit("if v is _MISSING or v is None:", indent)
            if isinstance(f.type, OptT):
                m.emit(f"out[{name!r}] = None", indent + 1)
            else:
                desc = _type_desc(strip(f.type), f.spec)
                m.emit(
                    f"errs.append(_problem('required', {path}, 'missing required field' if v is _MISSING else 'must not be null', {desc!r}))",
                    indent + 1,
                )
            m.emit("else:", indent)
            self.value_check(f.type, f, "v", path, f"out[{name!r}]", indent + 1)
        m.emit(f"if not {m.constant(frozenset(known))}.issuperset(x):", indent)
        m.emit(f"_unknown_fields(x, {known!r}, path, errs)", indent + 1)

    # -- fast validators: straight-line checks inlined into one function per
    # decision, no error collection. They are conservative: when one returns
    # _FAIL, the collecting validator (the authority) runs and lists every problem.

    def fast_scalar(self, t: Type, spec: Any, var: str) -> tuple[str, str] | None:
        """(condition, converted value) for a scalar `var`, or None if t is not a scalar."""
        m = self.m
        if t == INT:
            lo = spec.minimum if spec is not None and spec.minimum is not None else -MAX_INT
            hi = spec.maximum if spec is not None and spec.maximum is not None else MAX_INT
            bounds = [
                lo if type(lo) is int else m.constant(lo),
                hi if type(hi) is int else m.constant(hi),
            ]
            cond = f"type({var}) is int and {bounds[0]} <= {var} <= {bounds[1]}"
            allowed = getattr(spec, "_allowed", None)
            if allowed is not None:
                cond += f" and {var} in {m.constant(allowed)}"
            return cond, var
        if t == DECIMAL:
            # Decimals, ints, and decimal strings (the wire format of money) all stay fast.
            cond = (
                f"((type({var}) is _Decimal and {var}.is_finite() and {var}.adjusted() < {MAX_DECIMAL_DIGITS})"
                f" or (type({var}) is int and {-_MAX_INT_DECIMAL} < {var} < {_MAX_INT_DECIMAL})"
                f" or (type({var}) is str and ({var} := _to_decimal({var})) is not None))"
            )
            for op, bound in (
                (">=", spec.minimum if spec else None),
                ("<=", spec.maximum if spec else None),
            ):
                if bound is not None:
                    literal = bound if type(bound) is int else m.constant(bound)
                    cond += f" and {var} {op} {literal}"
            return cond, f"(_Decimal({var}) if type({var}) is int else {var})"
        if t == BOOL:
            return f"{var} is True or {var} is False", var
        if t == DATE:
            # A date text seen before is a dict lookup away; else to_date parses it.
            return (
                f"type({var}) is _date or (type({var}) is str"
                f" and ({var} := _DATES.get({var}) or _to_date({var})) is not None)",
                var,
            )
        if isinstance(t, Prim) and t.name == "string":
            parts = [f"type({var}) is str"]
            if t.enum:
                parts.append(f"{var} in {m.constant(frozenset(t.enum))}")
            if spec is not None:
                if spec.min_length == 1:
                    parts.append(var)  # non-empty: truthiness is cheaper than len()
                elif spec.min_length is not None:
                    parts.append(f"len({var}) >= {spec.min_length}")
                if spec.max_length is not None:
                    parts.append(f"len({var}) <= {spec.max_length}")
                if spec.pattern is not None:
                    memo = _PatternMemo(spec.pattern)
                    seen, check = m.constant(memo.matched), m.constant(memo)
                    parts.append(f"({var} in {seen} or {check}.check({var}))")
            allowed = getattr(spec, "_allowed", None)
            if allowed is not None:
                parts.append(f"{var} in {m.constant(allowed)}")
            return " and ".join(parts), var
        return None

    def temp(self) -> str:
        return self.m.fresh("_t")

    def fast_value(self, t: Type, spec: Any, var: str, indent: int) -> str:
        """Emit statements that check `var` (returning _FAIL if it is not plainly valid);
        return the expression of its converted value."""
        m = self.m
        if isinstance(t, OptT):
            scalar = self.fast_scalar(t.inner, spec, var)
            if scalar is not None:
                cond, value = scalar
                m.emit(f"if not ({var} is None or ({cond})):", indent)
                m.emit("return _FAIL", indent + 1)
                return value
            result = self.temp()
            m.emit(f"if {var} is None:", indent)
            m.emit(f"{result} = None", indent + 1)
            m.emit("else:", indent)
            value = self.fast_value(t.inner, spec, var, indent + 1)
            m.emit(f"{result} = {value}", indent + 1)
            return result
        scalar = self.fast_scalar(t, spec, var)
        if scalar is not None:
            cond, value = scalar
            m.emit(f"if not ({cond}):", indent)
            m.emit("return _FAIL", indent + 1)
            return value
        if isinstance(t, RecordT) and t.name:
            return self.fast_record(self.checked.records[t.name].fields, var, indent)
        if isinstance(t, (ListT, SetT)):
            items = self.temp()
            item = self.temp()
            m.emit(f"if type({var}) is not list:", indent)
            m.emit("return _FAIL", indent + 1)
            if spec is not None and spec.min_length is not None:
                m.emit(f"if len({var}) < {spec.min_length}:", indent)
                m.emit("return _FAIL", indent + 1)
            if spec is not None and spec.max_length is not None:
                m.emit(f"if len({var}) > {spec.max_length}:", indent)
                m.emit("return _FAIL", indent + 1)
            m.emit(f"{items} = []", indent)
            m.emit(f"for {item} in {var}:", indent)
            value = self.fast_value(t.elem, None, item, indent + 1)
            m.emit(f"{items}.append({value})", indent + 1)
            return items if isinstance(t, ListT) else f"_frozenset({items})"
        if isinstance(t, MapT) and strip(t.key) == STRING:
            items, key, item = self.temp(), self.temp(), self.temp()
            m.emit(f"if type({var}) is not dict:", indent)
            m.emit("return _FAIL", indent + 1)
            m.emit(f"{items} = {{}}", indent)
            m.emit(f"for {key}, {item} in {var}.items():", indent)
            m.emit(f"if type({key}) is not str:", indent + 1)
            m.emit("return _FAIL", indent + 2)
            value = self.fast_value(t.value, None, item, indent + 1)
            m.emit(f"{items}[{key}] = {value}", indent + 1)
            return items
        m.emit("return _FAIL", indent)  # other maps: the collecting validator handles them
        return "None"

    def fast_record(
        self,
        fields: tuple[InputField, ...],
        var: str,
        indent: int,
        extra_known: tuple[str, ...] = (),
    ) -> str:
        """Emit checks of a record held in `var`; return the dict expression of the result."""
        m = self.m
        required = [f for f in fields if not isinstance(f.type, OptT)]
        optional_names = [f.spec.name for f in fields if isinstance(f.type, OptT)] + list(
            extra_known
        )
        m.emit(f"if type({var}) is not dict:", indent)
        m.emit("return _FAIL", indent + 1)
        names = {f.spec.name: self.temp() for f in fields}
        if required:
            m.emit("try:", indent)
            for f in required:
                m.emit(f"{names[f.spec.name]} = {var}[{f.spec.name!r}]", indent + 1)
            m.emit("except KeyError:", indent)
            m.emit("return _FAIL", indent + 1)
        # Every key is known: the required ones plus whichever optional ones are there.
        count = " + ".join([str(len(required)), *(f"({n!r} in {var})" for n in optional_names)])
        m.emit(f"if len({var}) != {count}:", indent)
        m.emit("return _FAIL", indent + 1)
        values = []
        fields_seen: dict[str, str] = {}
        for f in fields:
            local = names[f.spec.name]
            if isinstance(f.type, OptT):
                m.emit(f"{local} = {var}.get({f.spec.name!r})", indent)
            spec = f.spec if f.allowed is None else _SpecWithAllowed(f.spec, f.allowed)
            value = self.fast_value(f.type, spec, local, indent)
            values.append(f"{f.spec.name!r}: {value}")
            fields_seen[f.spec.name] = value
        display = "{" + ", ".join(values) + "}"
        self.record_values[display] = fields_seen
        return display

    def input_fast(self, decision: CheckedDecision) -> None:
        m = self.m
        locales = self.checked.model.manifest.locales
        m.emit(f"def vf_in_{decision.name}(x):")
        fields = tuple(f for f in decision.inputs if f.spec.name not in ("as_of", "locale"))
        result = self.fast_record(fields, "x", 1, extra_known=("as_of", "locale"))
        m.emit("loc = x.get('locale')", 1)
        m.emit("if loc is None:", 1)
        m.emit(f"return {result}, {locales[0]!r}", 2)
        m.emit(f"if type(loc) is str and loc in {m.constant(frozenset(locales))}:", 1)
        m.emit(f"return {result}, loc", 2)
        m.emit("return _FAIL", 1)
        m.emit("")

    def record_validator(self, record: RecordSchema) -> None:
        m = self.m
        m.emit(f"def vr_{record.name}(x, path, errs):")
        m.emit("if type(x) is not dict:", 1)
        m.emit(
            f"errs.append(_problem('type', path, 'expected an object ({record.name})', 'object', x))",
            2,
        )
        m.emit("return None", 2)
        self.fields_check(record.fields, 1)
        m.emit("return out", 1)
        m.emit("")

    def input_validator(self, decision: CheckedDecision) -> None:
        m = self.m
        locales = self.checked.model.manifest.locales
        self.input_fast(decision)
        m.emit(f"def vi_{decision.name}(x):")
        m.emit("errs = []", 1)
        m.emit("path = 'input'", 1)
        m.emit("if type(x) is not dict:", 1)
        m.emit("_raise_input([_problem('type', 'input', 'expected an object', 'object', x)])", 2)
        fields = tuple(f for f in decision.inputs if f.spec.name not in ("as_of", "locale"))
        self.fields_check(fields, 1, extra_known=("as_of", "locale"))
        # The reserved inputs: as_of was checked by Engine.decide to pick the version.
        m.emit("v = x.get('locale')", 1)
        m.emit("if v is None:", 1)
        m.emit(f"_loc = {locales[0]!r}", 2)
        m.emit(f"elif type(v) is str and v in {m.constant(frozenset(locales))}:", 1)
        m.emit("_loc = v", 2)
        m.emit("else:", 1)
        expected = "one of: " + ", ".join(locales)
        # Like a declared enum field: a string not listed is `enum`, anything else `type`.
        m.emit("if type(v) is str:", 2)
        m.emit(
            f"errs.append(_problem('enum', 'input.locale', {('must be ' + expected)!r}, {expected!r}, v))",
            3,
        )
        m.emit("else:", 2)
        m.emit(
            f"errs.append(_problem('type', 'input.locale', {('expected ' + expected)!r}, {expected!r}, v))",
            3,
        )
        m.emit("_loc = None", 2)
        m.emit("if errs:", 1)
        m.emit("_raise_input(errs)", 2)
        m.emit("return out, _loc", 1)
        m.emit("")


class _SpecWithAllowed:
    """A field spec plus the table keys its value must be one of (in_table)."""

    def __init__(self, spec: Any, allowed: frozenset[Any]):
        self._spec = spec
        self._allowed = allowed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._spec, name)


class _PatternMemo:
    """Strings already seen to match a pattern: a set lookup instead of a regex on the hot
    path (country codes, currencies: few distinct values). Bounded; thread-safe enough, as
    adding to a set is atomic and a lost addition only costs a regex match."""

    __slots__ = ("_regex", "matched")
    LIMIT = 4096

    def __init__(self, pattern: str):
        self._regex = re.compile(pattern)
        self.matched: set[str] = set()

    def check(self, value: str) -> bool:
        if self._regex.fullmatch(value) is None:
            return False
        if len(self.matched) < self.LIMIT:
            self.matched.add(value)
        return True


def _fresh(code: str, t: Type) -> str:
    if (
        isinstance(t, Prim)
        or (isinstance(t, OptT) and isinstance(t.inner, Prim))
        or isinstance(t, SetT)
    ):
        return code
    if isinstance(t, ListT) and isinstance(strip(t.elem), Prim):
        return f"_list({code})"
    return f"_copy_plain({code})"


def _type_desc(t: Type, spec: Any = None) -> str:
    t = strip(t)
    if isinstance(t, Prim):
        if t.name == "string" and spec is not None and spec.enum:
            return "one of: " + ", ".join(spec.enum)
        return {
            "int": "integer",
            "decimal": "decimal",
            "string": "string",
            "bool": "boolean",
            "date": "date (YYYY-MM-DD)",
        }.get(t.name, t.name)
    if isinstance(t, RecordT):
        return f"object ({t.name})" if t.name else "object"
    if isinstance(t, ListT):
        return f"array of {_type_desc(t.elem)}"
    if isinstance(t, SetT):
        return f"array of distinct {_type_desc(t.elem)}"
    if isinstance(t, MapT):
        return f"object of {_type_desc(t.value)}"
    return str(t)


def _execute(source: str, filename: str, namespace: dict[str, Any], module: _Module) -> None:
    code = compile(source, filename, "exec")
    exec(code, namespace)  # our own generated source, built from checked nodes only
    for name, (shape, literals) in module.instances.items():
        if name not in namespace and shape in namespace:
            made = namespace[shape]
            namespace[name] = FunctionType(made.__code__, namespace, name, literals)
    for name, (by_key, always) in module.late_indexes.items():
        if name in namespace or not all(f in namespace for f in always):
            continue  # installed already, or belongs to the other module
        if not all(f in namespace for fns in by_key.values() for f in fns):
            continue
        namespace[name] = (
            {key: tuple(namespace[f] for f in fns) for key, fns in by_key.items()},
            tuple(namespace[f] for f in always),
        )


class _TracedModule:
    """The traced copy of a version's code, compiled the first time an explanation is asked
    for: most processes never explain, and a large rule set compiles in half the time."""

    def __init__(self, generator: _Generator, filename: str, namespace: dict[str, Any]):
        self._generator = generator
        self._filename = filename
        self._namespace = namespace
        self._lock = threading.Lock()
        self._ready = False

    def function(self, name: str) -> Callable[..., Any]:
        if not self._ready:
            with self._lock:
                if not self._ready:
                    module = self._generator.m
                    source = self._generator.traced_source()
                    for key, value in module.constants.items():
                        self._namespace.setdefault(key, value)  # constants the traced code added
                    _execute(source, self._filename, self._namespace, module)
                    self._ready = True
        return self._namespace[name]

    def runner(self, decision: str) -> Callable[..., dict[str, Any]]:
        name = f"d_{decision}_t"

        def run_traced(
            data: dict[str, Any], as_of: date, locale: str, trace: list[Any]
        ) -> dict[str, Any]:
            return self.function(name)(data, as_of, locale, trace)

        return run_traced


def compile_version(checked: CheckedVersion) -> CompiledVersion:
    """Generate, compile and execute the module of a checked version."""
    generator = _Generator(checked)
    module = generator.generate()
    source = "\n".join(module.lines) + "\n"
    namespace: dict[str, Any] = {**runtime.NAMESPACE, **HELPERS, **module.constants}
    filename = f"<ruleengine {checked.model.manifest.ruleset}@{checked.model.manifest.version}>"
    _execute(source, filename, namespace, module)
    traced = _TracedModule(generator, filename + " (traced)", namespace)
    decisions = {
        name: CompiledDecision(
            name=name,
            decide_fast=namespace[f"p_{name}"],
            check_fast=namespace[f"vf_in_{name}"],
            validate=namespace[f"vi_{name}"],
            run=namespace[f"d_{name}"],
            run_traced=traced.runner(name),
            checked=decision,
        )
        for name, decision in checked.decisions.items()
    }
    return CompiledVersion(checked=checked, decisions=decisions, source=source)
