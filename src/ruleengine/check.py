"""Phase 4, check: the rule-set model -> a typed, checked program.

Parses every expression (phase 3), resolves the types of decision inputs,
tables and helper parameters, and type-checks every expression. Optional
values must be handled before use (narrowing through `x != null`, `??`);
division needs a divisor known to be non-zero (a non-zero literal, or
narrowed by `d != 0` / `d > 0`). Every problem is collected, sorted by
position and raised once.

Public entry: `check_version(model)`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .errors import Diagnostic, RuleFileError, did_you_mean
from .model import (
    Binding,
    DecisionDef,
    ExprSource,
    FieldSpec,
    FunctionDef,
    Location,
    ParamSpec,
    ReasonDef,
    RuleDef,
    RuleGroupDef,
    TableDef,
    VersionModel,
)
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
from .parse import TypeSyntax, parse_expression, parse_type
from .stdlib import BUILTINS, MACROS, RESERVED_NAMES
from .typesys import (
    BOOL,
    DATE,
    DECIMAL,
    INT,
    NEVER,
    NULL,
    SCALARS,
    STRING,
    ListT,
    MapT,
    OptT,
    Prim,
    RecordT,
    SetT,
    TableT,
    Type,
    assignable,
    comparable,
    is_numeric,
    is_optional,
    is_ordered,
    optional,
    strip,
    unify,
)

# Stands for the type of an expression that already has an error: it fits
# everywhere, so one mistake is reported once, not at every use.
ERROR = Prim("error")
HASHABLE = (INT, DECIMAL, STRING, BOOL, DATE)


# --- the checked program ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class InputField:
    spec: FieldSpec
    type: Type  # the field's type, OptT when optional
    allowed: frozenset[Any] | None = None  # in_table: the keys it must be one of


@dataclass(frozen=True, slots=True)
class RecordSchema:
    """A named record type with the constraints of its fields (for validation)."""

    name: str
    fields: tuple[InputField, ...]


@dataclass(frozen=True, slots=True)
class CheckedTable:
    name: str
    type: Type
    value: Any  # runtime value: constant, frozenset, dict, or (index, rows) for rows
    definition: TableDef


@dataclass(frozen=True, slots=True)
class CheckedFunction:
    name: str
    params: tuple[tuple[str, Type], ...]
    body: Expr
    type: Type
    definition: FunctionDef
    lets: tuple[tuple[str, Expr, Type], ...] = ()  # in evaluation order


@dataclass(frozen=True, slots=True)
class CheckedRule:
    definition: RuleDef
    when: Expr
    then: Expr | None  # None: the rule contributes its reason code


@dataclass(frozen=True, slots=True)
class CheckedGroup:
    name: str
    params: tuple[tuple[str, Type], ...]
    rules: tuple[CheckedRule, ...]
    hit: str
    default: Expr | None
    type: Type
    item_type: Type
    definition: RuleGroupDef


@dataclass(frozen=True, slots=True)
class CheckedDecision:
    name: str
    inputs: tuple[InputField, ...]
    lets: tuple[tuple[str, Expr, Type], ...]  # in evaluation order
    outputs: tuple[tuple[str, Expr, Type], ...]
    result_type: RecordT
    definition: DecisionDef


@dataclass(frozen=True, slots=True)
class CheckedVersion:
    model: VersionModel
    records: dict[str, RecordSchema]
    tables: dict[str, CheckedTable]
    functions: tuple[CheckedFunction, ...]  # callees before callers
    groups: dict[str, CheckedGroup]
    decisions: dict[str, CheckedDecision]
    reasons: dict[str, ReasonDef]
    # The type of every checked node, keyed by id(node); nodes stay alive in the fields above.
    types: dict[int, Type] = field(repr=False)
    call_order: tuple[str, ...] = ()  # functions and groups, callees first


# --- checking ----------------------------------------------------------------

Facts = frozenset[tuple[str, str]]  # (unparsed expression, "nonnull" | "nonzero")
NO_FACTS: Facts = frozenset()


@dataclass
class _Scope:
    """Names visible to an expression: locals (innermost last), then globals."""

    names: dict[str, Type]
    kinds: dict[str, str]

    def child(self, name: str, t: Type, kind: str) -> _Scope:
        return _Scope({**self.names, name: t}, {**self.kinds, name: kind})


class _Checker:
    def __init__(self, model: VersionModel):
        self.model = model
        self.diagnostics: list[Diagnostic] = []
        self.types: dict[int, Type] = {}
        self.record_types: dict[str, RecordT] = {}
        self.records: dict[str, RecordSchema] = {}
        self.tables: dict[str, CheckedTable] = {}
        self.callables: dict[str, tuple[tuple[tuple[str, Type], ...], Type]] = {}
        self.reasons = {r.code: r for r in model.reasons}
        self.source: ExprSource | None = None

    # -- diagnostics

    def at(self, location: Location, code: str, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(
            Diagnostic(code, message, location.file, location.line, location.column, hint)
        )

    def err(self, node: Expr, code: str, message: str, hint: str | None = None) -> Type:
        assert self.source is not None
        self.diagnostics.append(
            self.source.diagnostic(code, message, node.span.start, node.span.end, hint)
        )
        return ERROR

    # -- types written in rule files

    def resolve_type(self, text: str, location: Location, stack: tuple[str, ...] = ()) -> Type:
        source = ExprSource.from_text(text, location.file, location.line, location.column)
        try:
            syntax = parse_type(source)
        except RuleFileError as exc:
            self.diagnostics.extend(exc.diagnostics)
            return ERROR
        return self._type_from_syntax(syntax, location, stack)

    def _type_from_syntax(
        self, syntax: TypeSyntax, location: Location, stack: tuple[str, ...]
    ) -> Type:
        name, args, is_opt = syntax
        arity = {"list": 1, "set": 1, "map": 2}
        if name in arity:
            if len(args) != arity[name]:
                self.at(
                    location,
                    "bad_type",
                    f"{name}<...> takes {arity[name]} type argument(s), got {len(args)}",
                )
                return ERROR
            inner = [self._type_from_syntax(a, location, stack) for a in args]
            if name == "list":
                result: Type = ListT(inner[0])
            elif name == "set":
                result = SetT(inner[0])
            else:
                result = MapT(inner[0], inner[1])
        elif args:
            self.at(location, "bad_type", f"{name} takes no type arguments")
            return ERROR
        elif name in SCALARS:
            result = SCALARS[name]
        elif name in self.record_types:
            result = self.record_types[name]
        elif name in {t.name for t in self.model.types}:
            if name in stack:
                self.at(
                    location,
                    "bad_type",
                    f"type {name!r} refers to itself ({' -> '.join((*stack, name))})",
                    "record types cannot be recursive",
                )
                return ERROR
            result = self.build_record(name, (*stack, name))
        else:
            known = [*SCALARS, "list", "set", "map", *(t.name for t in self.model.types)]
            self.at(location, "unknown_type", f"unknown type {name!r}", _hint(name, known))
            return ERROR
        return OptT(result) if is_opt else result

    def build_record(self, name: str, stack: tuple[str, ...] = ()) -> Type:
        if name in self.record_types:
            return self.record_types[name]
        definition = next(t for t in self.model.types if t.name == name)
        fields = self.input_fields(definition.fields, stack or (name,))
        record = RecordT(tuple((f.spec.name, f.type) for f in fields), name)
        self.record_types[name] = record
        self.records[name] = RecordSchema(name, fields)
        return record

    def input_fields(
        self, specs: Sequence[FieldSpec], stack: tuple[str, ...] = ()
    ) -> tuple[InputField, ...]:
        fields = []
        for spec in specs:
            base = self.resolve_type(spec.type_text, spec.type_location, stack)
            loc = spec.location or spec.type_location
            if spec.enum is not None:
                if base != STRING:
                    self.at(
                        loc, "bad_type", f"field {spec.name!r}: enum needs type string, not {base}"
                    )
                else:
                    base = Prim("string", frozenset(spec.enum))
            if (spec.minimum is not None or spec.maximum is not None) and strip(base) not in (
                INT,
                DECIMAL,
                ERROR,
            ):
                self.at(
                    loc,
                    "bad_type",
                    f"field {spec.name!r}: minimum/maximum need int or decimal, not {base}",
                )
            for bound in (spec.minimum, spec.maximum):
                if bound is not None and (
                    isinstance(bound, bool) or not isinstance(bound, (int, Decimal))
                ):
                    self.at(
                        loc, "bad_type", f"field {spec.name!r}: bound {bound!r} is not a number"
                    )
            if spec.pattern and base not in (STRING, ERROR):
                self.at(
                    loc, "bad_type", f"field {spec.name!r}: a pattern needs a string, not {base}"
                )
            elif (
                (spec.min_length is not None or spec.max_length is not None)
                and base not in (STRING, ERROR)
                and not isinstance(base, (ListT, SetT))
            ):
                self.at(
                    loc,
                    "bad_type",
                    f"field {spec.name!r}: length constraints need a string or a list, not {base}",
                )
            allowed = None
            if spec.in_table is not None:
                if base not in (STRING, INT, ERROR):
                    self.at(
                        loc,
                        "bad_type",
                        f"field {spec.name!r}: in_table needs a string or int field, not {base}",
                    )
                else:
                    allowed = self.table_keys(spec.in_table, loc)
                    if (
                        allowed is not None
                        and base != ERROR
                        and any(type(k) is not (str if base == STRING else int) for k in allowed)
                    ):
                        self.at(
                            loc,
                            "bad_type",
                            f"field {spec.name!r} is {base}, but table {spec.in_table!r} "
                            "holds keys of another type",
                        )
                        allowed = None
            fields.append(
                InputField(spec, OptT(base) if spec.optional and base != ERROR else base, allowed)
            )
        return tuple(fields)

    def table_keys(self, name: str, location: Location) -> frozenset[Any] | None:
        table = self.tables.get(name)
        if table is None:
            self.at(
                location, "unknown_name", f"unknown table {name!r}", _hint(name, list(self.tables))
            )
            return None
        value = table.value
        if isinstance(value, frozenset):
            return value
        if isinstance(value, dict):
            return frozenset(value)
        if isinstance(table.type, TableT) and len(table.type.keys) == 1:
            return frozenset(value[0])
        self.at(
            location,
            "bad_type",
            f"in_table needs a set, a map or a table with one key column; {name!r} is not",
        )
        return None

    # -- tables

    def check_table(self, table: TableDef) -> None:
        loc = table.location
        if table.kind == "rows":
            columns = self.input_fields(table.columns)
            row_type = RecordT(tuple((c.spec.name, c.type) for c in columns), None)
            key_types = []
            for key in table.key:
                col = next(c for c in columns if c.spec.name == key)
                if is_optional(col.type):
                    self.at(
                        loc,
                        "bad_table",
                        f"key column {key!r} of table {table.name!r} cannot be optional",
                    )
                key_types.append(strip(col.type))
            index: dict[Any, Any] = {}
            rows = []
            for row, row_loc in table.rows:
                converted = {}
                for col in columns:
                    converted[col.spec.name] = self.cell(
                        row.get(col.spec.name),
                        col.type,
                        row_loc,
                        f"column {col.spec.name!r} of table {table.name!r}",
                    )
                row_key = tuple(converted[k] for k in table.key)
                key_value = row_key[0] if len(row_key) == 1 else row_key
                if key_value in index:
                    self.at(
                        row_loc,
                        "bad_table",
                        f"table {table.name!r} has two rows with key "
                        f"{', '.join(str(k) for k in row_key)}",
                        "each key may appear in one row",
                    )
                index[key_value] = converted
                rows.append(converted)
            self.tables[table.name] = CheckedTable(
                table.name,
                TableT(table.name, tuple(key_types), row_type),
                (index, tuple(rows)),
                table,
            )
            return
        declared = self.resolve_type(table.type_text, loc) if table.type_text else None
        if table.kind == "value":
            t = declared or _infer(table.value)
            if t is None:
                self.at(
                    loc, "bad_table", f"cannot tell the type of table {table.name!r}; add `type:`"
                )
                return
            value = self.cell(table.value, t, loc, f"table {table.name!r}")
            self.tables[table.name] = CheckedTable(table.name, t, value, table)
            return
        items = table.value if table.kind == "set" else list(table.value.values())
        elem = declared
        if elem is None:
            inferred: Type | None = NEVER
            for item in items:
                it = _infer(item)
                inferred = unify(inferred, it) if inferred is not None and it is not None else None
            elem = inferred
        if elem is None or (table.kind == "set" and strip(elem) not in HASHABLE and elem != NEVER):
            self.at(
                loc,
                "bad_table",
                f"the items of table {table.name!r} are not all of one scalar type",
                "declare `type:` (int, decimal, string, date) or make the items alike",
            )
            return
        locs = table.item_locations
        if table.kind == "set":
            values = [
                self.cell(v, elem, locs[i], f"item {i + 1} of table {table.name!r}")
                for i, v in enumerate(items)
            ]
            self.tables[table.name] = CheckedTable(table.name, SetT(elem), frozenset(values), table)
        else:
            mapping = {
                k: self.cell(v, elem, locs[i], f"entry {k!r} of table {table.name!r}")
                for i, (k, v) in enumerate(table.value.items())
            }
            self.tables[table.name] = CheckedTable(table.name, MapT(STRING, elem), mapping, table)

    def cell(self, value: Any, t: Type, location: Location, what: str) -> Any:
        """Convert a value from a rule file to type t (exact decimals, dates), or report it."""
        converted, problem = convert_value(value, t)
        if problem:
            self.at(location, "bad_table", f"{what}: {problem}")
        return converted

    # -- expressions

    def parse(self, source: ExprSource) -> Expr | None:
        try:
            return parse_expression(source)
        except RuleFileError as exc:
            self.diagnostics.extend(exc.diagnostics)
            return None

    def expr(
        self, source: ExprSource, scope: _Scope, facts: Facts = NO_FACTS
    ) -> tuple[Expr | None, Type]:
        node = self.parse(source)
        if node is None:
            return None, ERROR
        self.source = source
        return node, self.check(node, scope, facts)

    def check(self, node: Expr, scope: _Scope, facts: Facts) -> Type:
        t = self._check(node, scope, facts)
        if (
            facts
            and isinstance(t, OptT)
            and isinstance(node, (Var, Member, Index, Call))
            and (unparse(node), "nonnull") in facts
        ):
            t = t.inner
        self.types[id(node)] = t
        return t

    def _check(self, node: Expr, scope: _Scope, facts: Facts) -> Type:
        match node:
            case Literal(value=value):
                return _literal_type(value)
            case Var(name=name):
                return self.var(node, name, scope)
            case Member(obj=obj, name=name, safe=True):
                t = self.check(obj, scope, facts)
                if t == ERROR:
                    return ERROR
                if not is_optional(t):
                    return self.err(
                        node,
                        "type_mismatch",
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
            case Unary(op=op, operand=operand):
                t = self.check(operand, scope, facts)
                if t == ERROR:
                    return ERROR
                if op == "not":
                    return (
                        BOOL
                        if t == BOOL
                        else self.err(node, "type_mismatch", f"`not` needs a bool, got {t}")
                    )
                if is_numeric(t):
                    return t
                return self.err(node, "type_mismatch", f"`-` needs a number, got {t}")
            case Binary():
                return self.binary(node, scope, facts)
            case IfElse(cond=cond, then=then, otherwise=otherwise):
                ct = self.check(cond, scope, facts)
                if ct not in (BOOL, ERROR):
                    self.err(
                        cond,
                        "type_mismatch",
                        f"the condition of `if` must be a bool, got {ct}",
                        "compare it with something, e.g. `x != null`" if is_optional(ct) else None,
                    )
                tt = self.check(then, scope, facts | derive_facts(cond, True))
                et = self.check(otherwise, scope, facts | derive_facts(cond, False))
                if ERROR in (tt, et):
                    return ERROR
                joined = unify(tt, et)
                if joined is None:
                    return self.err(
                        node,
                        "type_mismatch",
                        f"the branches of `if` have different types: {tt} and {et}",
                    )
                return joined
            case ListLit(items=items):
                return ListT(self.join_items(node, items, scope, facts, "list"))
            case SetLit(items=items):
                elem = self.join_items(node, items, scope, facts, "set")
                if elem not in (*HASHABLE, ERROR, NEVER):
                    return self.err(
                        node,
                        "type_mismatch",
                        f"set items must be int, decimal, string, bool or date, not {elem}",
                    )
                return SetT(elem)
            case RecordLit(fields=fields):
                return RecordT(
                    tuple((name, self.check(value, scope, facts)) for name, value in fields)
                )
            case MapLit(entries=entries):
                kt = self.join_items(node, [k for k, _ in entries], scope, facts, "map key")
                vt = self.join_items(node, [v for _, v in entries], scope, facts, "map value")
                if strip(kt) not in (*HASHABLE, ERROR) or is_optional(kt):
                    return self.err(
                        node,
                        "type_mismatch",
                        f"map keys must be int, decimal, string, bool or date, not {kt}",
                    )
                return MapT(kt, vt)
        raise AssertionError(f"unhandled node {node!r}")  # pragma: no cover

    def join_items(
        self, node: Expr, items: Iterable[Expr], scope: _Scope, facts: Facts, what: str
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
                    item, "type_mismatch", f"{what} items must share one type: {result} and {t}"
                )
                result = ERROR
            else:
                result = joined
        return result

    def var(self, node: Var, name: str, scope: _Scope) -> Type:
        if name in scope.names:
            return scope.names[name]
        if name in self.tables:
            return self.tables[name].type
        if name in self.callables or name in BUILTINS:
            return self.err(node, "type_mismatch", f"{name!r} is a function; call it: {name}(...)")
        known = [*scope.names, *self.tables]
        return self.err(node, "unknown_name", f"unknown name {name!r}", _hint(name, known))

    def member(self, node: Member, t: Type, name: str, obj: Expr) -> Type:
        if t == ERROR:
            return ERROR
        if isinstance(t, OptT) and isinstance(t.inner, RecordT):
            return self.err(
                node,
                "optional_value",
                f"`{unparse(obj)}` may be null; check it before reading `.{name}`",
                f"write `{unparse(obj)}?.{name}` (null when it is null), or check `{unparse(obj)} != null` first",
            )
        if not isinstance(t, RecordT):
            return self.err(node, "type_mismatch", f"{t} has no fields; cannot read `.{name}`")
        ft = t.field_type(name)
        if ft is None:
            return self.err(
                node,
                "unknown_field",
                f"{t} has no field {name!r}",
                _hint(name, t.field_names) or f"its fields: {', '.join(t.field_names)}",
            )
        return ft

    def index(
        self, node: Index, obj: Expr, keys: tuple[Expr, ...], scope: _Scope, facts: Facts
    ) -> Type:
        t = self.check(obj, scope, facts)
        key_types = [self.check(k, scope, facts) for k in keys]
        if t == ERROR or ERROR in key_types:
            return ERROR
        if isinstance(t, TableT):
            if len(keys) != len(t.keys):
                return self.err(
                    node,
                    "arity",
                    f"table {t.name!r} is keyed by {len(t.keys)} column(s), got {len(keys)} key(s)",
                )
            for key, want, got in zip(keys, t.keys, key_types, strict=True):
                self.need(key, got, want, "table key")
            return OptT(t.row)
        if len(keys) != 1:
            return self.err(node, "arity", f"{t} takes one key, got {len(keys)}")
        if isinstance(t, MapT):
            self.need(keys[0], key_types[0], t.key, "map key")
            return optional(t.value)
        if isinstance(t, ListT):
            self.need(keys[0], key_types[0], INT, "list index")
            return optional(t.elem)
        return self.err(node, "type_mismatch", f"cannot look up a key in {t}")

    def need(self, node: Expr, got: Type, want: Type, what: str) -> bool:
        if got == ERROR or want == ERROR or assignable(got, want):
            return True
        if is_optional(got) and assignable(strip(got), want):
            self.err(
                node,
                "optional_value",
                f"{what} `{unparse(node)}` may be null",
                "handle null first: `x ?? default` or `if x != null then ... else ...`",
            )
        else:
            self.err(node, "type_mismatch", f"{what} must be {want}, got {got}")
        return False

    def call(self, node: Call, scope: _Scope, facts: Facts) -> Type:
        name = node.name
        if name in MACROS and name not in BUILTINS and name not in self.callables:
            # `any(x in xs)`: a variable-binding function without its body; its arguments
            # would only give follow-on errors (`x` is unknown).
            return self.err(node, "arity", f"{name}() binds a variable: {MACROS[name][1]}")
        arg_types = [self.check(a, scope, facts) for a in node.args]
        if name in self.callables:
            params, result = self.callables[name]
            if len(node.args) != len(params):
                return self.err(
                    node,
                    "arity",
                    f"{name}() takes {len(params)} argument(s), got {len(node.args)}",
                    f"{name}({', '.join(p for p, _ in params)})",
                )
            for arg, (pname, ptype), at in zip(node.args, params, arg_types, strict=True):
                self.need(arg, at, ptype, f"argument `{pname}` of {name}()")
            return result
        builtin = BUILTINS.get(name)
        if builtin is None:
            if name in MACROS:
                return self.err(node, "arity", f"{name}() binds a variable: {MACROS[name][1]}")
            if name in scope.names or name in self.tables:
                return self.err(node, "type_mismatch", f"{name!r} is not a function")
            known = [*BUILTINS, *self.callables]
            return self.err(
                node, "unknown_function", f"unknown function {name!r}", _hint(name, known)
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
                "arity",
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
                    "optional_value",
                    f"argument `{unparse(arg)}` of {name}() may be null",
                    "handle null first: `x ?? default` or `if x != null then ... else ...`",
                )
            return self.err(node, "type_mismatch", typed, builtin.signature)
        return typed

    def macro(self, node: Macro, scope: _Scope, facts: Facts) -> Type:
        arity, signature, _ = MACROS.get(node.name, (None, "", ""))
        coll = self.check(node.collection, scope, facts)
        if arity is None:
            return self.err(
                node,
                "unknown_function",
                f"{node.name}() does not bind a variable",
                "functions that do: " + ", ".join(MACROS),
            )
        if len(node.body) != arity:
            return self.err(
                node,
                "arity",
                f"{node.name}() takes {arity} expression(s) after the colon, got {len(node.body)}",
                signature,
            )
        if node.var in scope.names or node.var in self.tables or node.var in RESERVED_NAMES:
            return self.err(
                node,
                "duplicate_name",
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
                "type_mismatch",
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
                    "type_mismatch",
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
                return self.err(node.body[0], "type_mismatch", f"sum() adds numbers, got {bt}")
            return bt
        kt, vt = body_types
        if strip(kt) not in HASHABLE or is_optional(kt):
            return self.err(
                node.body[0],
                "type_mismatch",
                f"map keys must be int, decimal, string, bool or date, not {kt}",
            )
        return MapT(kt, vt)

    def binary(self, node: Binary, scope: _Scope, facts: Facts) -> Type:
        op = node.op
        lt = self.check(node.left, scope, facts)
        if op == "and":
            rt = self.check(node.right, scope, facts | derive_facts(node.left, True))
        elif op == "or":
            rt = self.check(node.right, scope, facts | derive_facts(node.left, False))
        else:
            rt = self.check(node.right, scope, facts)
        if ERROR in (lt, rt):
            return ERROR
        if op in ("and", "or"):
            for side, t in ((node.left, lt), (node.right, rt)):
                if t != BOOL:
                    self.err(side, "type_mismatch", f"`{op}` needs bools, got {t}")
            return BOOL
        if op in ("==", "!="):
            if not comparable(lt, rt):
                return self.err(
                    node,
                    "type_mismatch",
                    f"cannot compare {lt} with {rt}: they are never equal",
                    _compare_hint(lt, rt),
                )
            self.enum_literal(node.left, lt, node.right)
            self.enum_literal(node.right, rt, node.left)
            return BOOL
        if op in ("<", "<=", ">", ">="):
            for side, t in ((node.left, lt), (node.right, rt)):
                if is_optional(t):
                    self.err(
                        side,
                        "optional_value",
                        f"`{unparse(side)}` may be null; it cannot be ordered",
                        "handle null first: `x ?? default` or `if x != null then ... else ...`",
                    )
                    return BOOL
            if not (is_ordered(lt) and is_ordered(rt) and unify(lt, rt) is not None):
                return self.err(node, "type_mismatch", f"cannot order {lt} and {rt} with `{op}`")
            return BOOL
        if op in ("in", "not in"):
            return self.membership(node, lt, rt)
        if op == "??":
            joined = unify(strip(lt), rt)
            if joined is None:
                return self.err(
                    node,
                    "type_mismatch",
                    f"`??` needs a default of the same type: {strip(lt)} and {rt}",
                )
            return joined
        return self.arithmetic(node, lt, rt, facts)

    def membership(self, node: Binary, lt: Type, rt: Type) -> Type:
        if isinstance(rt, (ListT, SetT)):
            want = rt.elem
        elif isinstance(rt, MapT):
            want = rt.key
        elif isinstance(rt, TableT):
            if len(rt.keys) != 1:
                return self.err(
                    node.right,
                    "type_mismatch",
                    f"table {rt.name!r} has a {len(rt.keys)}-column key; test `{rt.name}[...] != null` instead",
                )
            want = rt.keys[0]
        elif rt == STRING:
            want = STRING
        else:
            return self.err(
                node.right,
                "type_mismatch",
                f"`{node.op}` needs a list, set, map, table or string on its right, got {rt}",
            )
        if not comparable(lt, want):
            return self.err(
                node,
                "type_mismatch",
                f"{lt} is never in a collection of {want}",
                _compare_hint(lt, want),
            )
        if isinstance(node.right, (ListLit, SetLit)):
            for item in node.right.items:
                self.enum_literal(node.left, lt, item)
        return BOOL

    def enum_literal(self, side: Expr, t: Type, other: Expr) -> None:
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
                "not_in_enum",
                f"{other.value!r} is never a value of `{unparse(side)}` "
                f"(one of: {', '.join(sorted(enum))})",
                _hint(other.value, sorted(enum)),
            )

    def arithmetic(self, node: Binary, lt: Type, rt: Type, facts: Facts) -> Type:
        op = node.op
        if _has_error(lt) or _has_error(rt):
            return ERROR  # already reported where it arose
        for side, t in ((node.left, lt), (node.right, rt)):
            if is_optional(t) and t != NULL:
                self.err(
                    side,
                    "optional_value",
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
                    return self.err(node, "type_mismatch", f"cannot join {lt} and {rt}")
                return joined
        if not (is_numeric(lt) and is_numeric(rt)):
            return self.err(node, "type_mismatch", f"`{op}` needs numbers, got {lt} and {rt}")
        if op == "%":
            if lt != INT or rt != INT:
                return self.err(node, "type_mismatch", f"`%` needs ints, got {lt} and {rt}")
            self.nonzero(node.right, facts)
            return INT
        if op == "/":
            self.nonzero(node.right, facts)
            return DECIMAL
        return INT if lt == INT and rt == INT else DECIMAL

    def nonzero(self, divisor: Expr, facts: Facts) -> None:
        if isinstance(divisor, Literal):
            if divisor.value == 0:
                self.err(divisor, "division_by_zero", "division by zero")
            return
        if (unparse(divisor), "nonzero") in facts:
            return
        self.err(
            divisor,
            "division_by_zero",
            f"`{unparse(divisor)}` may be zero",
            f"guard the division: `if {unparse(divisor)} != 0 then ... else ...`",
        )


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


def _hint(name: str, known: Iterable[str]) -> str | None:
    suggestion = did_you_mean(name, list(known))
    return f"did you mean `{suggestion}`?" if suggestion else None


def _compare_hint(a: Type, b: Type) -> str | None:
    if STRING in (strip(a), strip(b)) and {strip(a), strip(b)} & {INT, DECIMAL}:
        return "numbers are written without quotes"
    return None


def _literal_type(value: Any) -> Type:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, Decimal):
        return DECIMAL
    if isinstance(value, date):
        return DATE
    return STRING


def _infer(value: Any) -> Type | None:
    if value is None or isinstance(value, (list, dict)):
        return None
    return _literal_type(value)


def convert_value(value: Any, t: Type) -> tuple[Any, str | None]:
    """Convert plain data from a rule file to a runtime value of type t."""
    if t == ERROR:
        return value, None
    if value is None:
        return None, None if is_optional(t) else f"a value of type {t} is required"
    t = strip(t)
    if t == INT:
        if isinstance(value, int) and not isinstance(value, bool):
            return value, None
    elif t == DECIMAL:
        if isinstance(value, Decimal):
            return value, None
        if isinstance(value, int) and not isinstance(value, bool):
            return Decimal(value), None
    elif t == STRING or (isinstance(t, Prim) and t.name == "string"):
        if isinstance(value, str):
            if isinstance(t, Prim) and t.enum and value not in t.enum:
                return value, f"{value!r} is not one of {', '.join(sorted(t.enum))}"
            return value, None
    elif t == BOOL:
        if isinstance(value, bool):
            return value, None
    elif t == DATE:
        if isinstance(value, date):
            return value, None
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                return date.fromisoformat(value), None
            except ValueError:
                pass
        return value, f"{value!r} is not a valid date (YYYY-MM-DD)"
    elif isinstance(t, ListT) and isinstance(value, list):
        out = []
        for item in value:
            converted, problem = convert_value(item, t.elem)
            if problem:
                return value, problem
            out.append(converted)
        return out, None
    shown = "a number" if isinstance(value, Decimal) else repr(value)
    return value, f"expected {t}, got {shown}"


def derive_facts(cond: Expr, truth: bool) -> Facts:
    """What a condition being `truth` tells about expressions (not null, not zero)."""
    match cond:
        case Unary(op="not", operand=operand):
            return derive_facts(operand, not truth)
        case Binary(op="and", left=left, right=right) if truth:
            return derive_facts(left, True) | derive_facts(right, True)
        case Binary(op="or", left=left, right=right) if not truth:
            return derive_facts(left, False) | derive_facts(right, False)
        case Binary(op=op, left=left, right=right) if op in ("==", "!=", "<", "<=", ">", ">="):
            facts: set[tuple[str, str]] = set()
            for side, other, flipped in ((left, right, False), (right, left, True)):
                if not isinstance(other, Literal) or isinstance(side, Literal):
                    continue
                value = other.value
                effective = _flip(op) if flipped else op
                if value is None:
                    if (effective == "!=" and truth) or (effective == "==" and not truth):
                        facts.add((unparse(side), "nonnull"))
                elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                    if _excludes_zero(effective, value, truth):
                        facts.add((unparse(side), "nonzero"))
                        facts.add((unparse(side), "nonnull"))
                    elif effective not in ("==", "!=") or truth == (effective == "=="):
                        facts.add((unparse(side), "nonnull"))
            if op in ("<", "<=", ">", ">="):
                facts.add((unparse(left), "nonnull"))
                facts.add((unparse(right), "nonnull"))
            return frozenset(facts)
    return NO_FACTS


def _flip(op: str) -> str:
    return {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)


def _excludes_zero(op: str, value: int | Decimal, truth: bool) -> bool:
    """Whether `x op value` being `truth` rules out x == 0."""
    if not truth:
        op = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}[op]
    return {
        "==": value != 0,
        "!=": value == 0,
        ">": value >= 0,
        ">=": value > 0,
        "<": value <= 0,
        "<=": value < 0,
    }[op]


def _references(node: Expr) -> set[str]:
    """Names an expression calls or reads (for dependency order)."""
    names: set[str] = set()
    for sub in walk(node):
        if isinstance(sub, (Var, Call)):
            names.add(sub.name)
    return names


def _variables(node: Expr) -> set[str]:
    """Names an expression reads as values (a call `f(x)` reads x, not f)."""
    return {sub.name for sub in walk(node) if isinstance(sub, Var)}


def fact_reads(node: Expr, tables: Mapping[str, CheckedTable]) -> tuple[Expr, ...]:
    """The maximal fact paths (a, a.b.c) a condition reads, for explanations (worked out
    when the traced program is generated, not for every rule at load time)."""
    found: dict[str, Expr] = {}
    bound: set[str] = set()
    for sub in walk(node):
        if isinstance(sub, Macro):
            bound.add(sub.var)

    def visit(n: Expr) -> None:
        if isinstance(n, (Var, Member)):
            root: Expr = n
            while isinstance(root, Member):
                root = root.obj
            if isinstance(root, Var) and root.name not in tables and root.name not in bound:
                found.setdefault(unparse(n), n)
                return
        for child in children(n):
            visit(child)

    visit(node)
    return tuple(found.values())


def _topological(
    names: Sequence[str], deps: dict[str, set[str]]
) -> tuple[list[str], list[list[str]]]:
    """Order names so dependencies come first; also return the cycles found."""
    order: list[str] = []
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycles.append([*path[path.index(name) :], name])
            return
        state[name] = 1
        for dep in sorted(deps.get(name, ())):
            if dep in deps:
                visit(dep, [*path, name])
        state[name] = 2
        order.append(name)

    for name in names:
        visit(name, [])
    return order, cycles


def check_version(model: VersionModel) -> CheckedVersion:
    """Type-check one version; raise `RuleFileError` listing every problem."""
    c = _Checker(model)
    locales = model.manifest.locales

    # Record types, then tables (input_fields may name tables via in_table).
    for table in model.tables:
        c.check_table(table)
    for typedef in model.types:
        c.build_record(typedef.name, (typedef.name,))

    # Reasons: a message in every declared locale.
    for reason in model.reasons:
        have = dict(reason.messages)
        for locale in locales:
            if locale not in have:
                c.at(
                    reason.location,
                    "missing_message",
                    f"reason {reason.code!r} has no {locale!r} message",
                    f"add messages.{locale} (the version declares locales: {', '.join(locales)})",
                )
        for locale in have:
            if locale not in locales:
                c.at(
                    reason.location,
                    "unknown_locale",
                    f"reason {reason.code!r} has a message in {locale!r}, "
                    f"which is not among the version's locales ({', '.join(locales)})",
                    "add it to `locales` in manifest.yaml or remove the message",
                )

    base_names: dict[str, Type] = {"as_of": DATE, "locale": STRING}
    base_kinds = {"as_of": "reserved", "locale": "reserved"}

    def param_scope(
        params: Sequence[ParamSpec], owner: str
    ) -> tuple[_Scope, tuple[tuple[str, Type], ...]]:
        names = dict(base_names)
        kinds = dict(base_kinds)
        typed = []
        for p in params:
            t = c.resolve_type(p.type_text, p.type_location)
            if p.name in RESERVED_NAMES or p.name in c.tables:
                c.at(
                    p.type_location,
                    "duplicate_name",
                    f"parameter {p.name!r} of {owner} hides a "
                    f"{'reserved name' if p.name in RESERVED_NAMES else 'table'}; rename it",
                )
            names[p.name] = t
            kinds[p.name] = "param"
            typed.append((p.name, t))
        return _Scope(names, kinds), tuple(typed)

    # Functions and rule groups, callees first; recursion is an error.
    defs: dict[str, FunctionDef | RuleGroupDef] = {f.name: f for f in model.functions}
    defs.update({g.name: g for g in model.groups})
    for name, d in defs.items():
        if name in RESERVED_NAMES:
            c.at(
                d.location,
                "duplicate_name",
                f"{name!r} is a reserved name (a built-in function or input)",
            )
        elif name in c.tables:
            c.at(d.location, "duplicate_name", f"{name!r} is already a table")
    parsed: dict[int, Expr | None] = {}

    def parsed_expr(source: ExprSource) -> Expr | None:
        key = id(source)
        if key not in parsed:
            parsed[key] = c.parse(source)
        return parsed[key]

    def check_lets(
        bindings: Sequence[Binding], scope: _Scope, local_kind: str
    ) -> tuple[list[tuple[str, Expr, Type]], _Scope]:
        """Check `let` bindings in dependency order; return them and the scope they make."""
        sources = {b.name: b for b in bindings}
        for b in bindings:
            clash = (
                local_kind
                if b.name in scope.names
                else "a table"
                if b.name in c.tables
                else "a function"
                if b.name in c.callables or b.name in defs or b.name in RESERVED_NAMES
                else None
            )
            if clash:
                c.at(b.location, "duplicate_name", f"let {b.name!r} has the name of {clash}")
        let_deps = {}
        for b in bindings:
            node = parsed_expr(b.expr)
            let_deps[b.name] = (_variables(node) & set(sources)) if node is not None else set()
        order, let_cycles = _topological([b.name for b in bindings], let_deps)
        in_let_cycle: set[str] = set()
        for cycle in let_cycles:
            in_let_cycle.update(cycle)
            c.at(
                sources[cycle[0]].location,
                "recursion",
                f"let bindings depend on each other: {' -> '.join(cycle)}",
            )
        for name in sorted(in_let_cycle):  # known but untyped: no follow-on errors
            scope = scope.child(name, ERROR, "let")
        checked = []
        for name in order:
            b = sources[name]
            node = parsed_expr(b.expr)
            if name in in_let_cycle:
                continue
            if node is None:
                scope = scope.child(name, ERROR, "let")
                continue
            c.source = b.expr
            t = c.check(node, scope, NO_FACTS)
            if isinstance(t, TableT):
                t = c.err(
                    node,
                    "type_mismatch",
                    "a table cannot be bound to a name; look rows up where needed",
                )
            scope = scope.child(name, t, "let")
            checked.append((name, node, t))
        return checked, scope

    deps: dict[str, set[str]] = {}
    for name, d in defs.items():
        sources = (
            [d.body, *(b.expr for b in d.let)]
            if isinstance(d, FunctionDef)
            else [
                *(r.when for r in d.rules),
                *(r.then for r in d.rules if r.then),
                *([d.default] if d.default else []),
            ]
        )
        refs: set[str] = set()
        for source in sources:
            node = parsed_expr(source)
            if node is not None:
                refs |= _references(node)
        deps[name] = refs & set(defs)
    order, cycles = _topological(list(defs), deps)
    in_cycle: set[str] = set()
    for cycle in cycles:
        in_cycle.update(cycle)
        first = defs[cycle[0]]
        c.at(
            first.location,
            "recursion",
            f"{' -> '.join(cycle)}: functions and rule groups may not call themselves",
            "expressions must terminate; unroll the recursion into separate helpers",
        )

    # Members of a cycle are known, with their parameters, before any body is checked:
    # a call to one is checked against its parameters and has no type (no follow-on errors).
    for name in sorted(in_cycle):
        _, cycle_params = param_scope(defs[name].params, name)
        c.callables[name] = (cycle_params, ERROR)

    functions: list[CheckedFunction] = []
    groups: dict[str, CheckedGroup] = {}
    rule_ids: dict[str, Location] = {}
    for name in order:
        d = defs[name]
        if isinstance(d, FunctionDef):
            scope, params = param_scope(d.params, f"function {name!r}")
            if name in in_cycle:
                c.callables[name] = (params, ERROR)
                continue
            lets, scope = check_lets(d.let, scope, "a parameter")
            node = parsed_expr(d.body)
            if node is None:
                c.callables[name] = (params, ERROR)
                continue
            c.source = d.body
            t = c.check(node, scope, NO_FACTS)
            c.callables[name] = (params, t)
            functions.append(CheckedFunction(name, params, node, t, d, tuple(lets)))
            continue
        scope, params = param_scope(d.params, f"rule group {name!r}")
        checked_rules = []
        item_type: Type = NEVER
        for rule in d.rules:
            if rule.id in rule_ids:
                c.at(
                    rule.location,
                    "duplicate_rule_id",
                    f"rule id {rule.id!r} is already used at {rule_ids[rule.id]}",
                    "rule ids name rules in explanations and coverage; make them unique",
                )
            else:
                rule_ids[rule.id] = rule.location
            when = parsed_expr(rule.when)
            then = parsed_expr(rule.then) if rule.then else None
            if when is None or (rule.then and then is None):
                continue
            c.source = rule.when
            wt = c.check(when, scope, NO_FACTS)
            if wt not in (BOOL, ERROR):
                c.err(
                    when,
                    "type_mismatch",
                    f"`when` must be a bool, got {wt}",
                    "compare it: `x != null`" if is_optional(wt) else None,
                )
            if rule.reason is not None:
                contributed: Type = STRING
                if rule.reason not in c.reasons:
                    loc = rule.reason_location or rule.location
                    c.at(
                        loc,
                        "unknown_reason",
                        f"unknown reason code {rule.reason!r}",
                        _hint(rule.reason, list(c.reasons))
                        or "declare it under `reasons:` with its messages",
                    )
            else:
                assert rule.then is not None and then is not None
                c.source = rule.then
                contributed = c.check(then, scope, derive_facts(when, True))
            if contributed != ERROR and item_type != ERROR:
                joined = unify(item_type, contributed)
                if joined is None:
                    c.at(
                        rule.location,
                        "type_mismatch",
                        f"rule {rule.id!r} gives {contributed}, "
                        f"but earlier rules of {name!r} give {item_type}",
                    )
                    item_type = ERROR
                else:
                    item_type = joined
            else:
                item_type = ERROR
            checked_rules.append(CheckedRule(rule, when, then))
        default = parsed_expr(d.default) if d.default else None
        if d.hit == "collect":
            if d.default is not None:
                c.at(
                    d.location,
                    "bad_rule_group",
                    f"rule group {name!r} collects every fired rule; "
                    "`default` only goes with `hit: first`",
                )
            result: Type = ListT(item_type) if item_type != ERROR else ERROR
        else:
            result = optional(item_type) if item_type not in (ERROR, NEVER) else item_type
            if default is not None and d.default is not None:
                c.source = d.default
                dt = c.check(default, scope, NO_FACTS)
                joined = unify(item_type, dt) if ERROR not in (dt, item_type) else ERROR
                if joined is None:
                    c.at(
                        d.location,
                        "type_mismatch",
                        f"the default of {name!r} ({dt}) does not fit its rules ({item_type})",
                    )
                    joined = ERROR
                result = joined
        if name not in in_cycle:
            c.callables[name] = (params, result)
        groups[name] = CheckedGroup(
            name, params, tuple(checked_rules), d.hit, default, result, item_type, d
        )

    # Decisions.
    decisions: dict[str, CheckedDecision] = {}
    for decision in model.decisions:
        inputs = c.input_fields(decision.input)
        names = dict(base_names)
        kinds = dict(base_kinds)
        for f in inputs:
            if f.spec.name in ("as_of", "locale"):
                c.at(
                    f.spec.location or decision.location,
                    "duplicate_name",
                    f"{f.spec.name!r} is a reserved input of every decision; do not declare it",
                )
                continue
            if f.spec.name in c.tables:
                c.at(
                    f.spec.location or decision.location,
                    "duplicate_name",
                    f"input {f.spec.name!r} has the name of a table",
                    "rename the input field or the table",
                )
            names[f.spec.name] = f.type
            kinds[f.spec.name] = "input"
        lets, scope = check_lets(decision.let, _Scope(names, kinds), "an input")
        outputs = []
        for b in decision.output:
            node = parsed_expr(b.expr)
            if node is None:
                continue
            c.source = b.expr
            t = c.check(node, scope, NO_FACTS)
            if isinstance(t, TableT):
                t = c.err(
                    node, "type_mismatch", "a table cannot be an output; output values read from it"
                )
            outputs.append((b.name, node, t))
        result_type = RecordT(tuple((n, t) for n, _, t in outputs), f"{decision.name}_result")
        decisions[decision.name] = CheckedDecision(
            decision.name, inputs, tuple(lets), tuple(outputs), result_type, decision
        )

    if c.diagnostics:
        raise RuleFileError(c.diagnostics)
    return CheckedVersion(
        model=model,
        records=c.records,
        tables=c.tables,
        functions=tuple(functions),
        groups=groups,
        decisions=decisions,
        reasons=c.reasons,
        types=c.types,
        call_order=tuple(order),
    )
