"""The expression AST: a closed set of frozen dataclasses.

Every node carries `span`, the start and end offsets of its text inside the
expression it was parsed from; spans are ignored by equality so that tests of
the tree's shape do not depend on positions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


NO_SPAN = Span(0, 0)


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Literal:
    value: int | Decimal | str | bool | date | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Var:
    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Member:
    """`a.b`; with `safe`, `a?.b`: null when `a` is null."""

    obj: Expr
    name: str
    safe: bool = False
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Index:
    """`table[key]`, `table[k1, k2]` (composite keys), `list[i]`, `map[key]`."""

    obj: Expr
    keys: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Macro:
    """`any(x in xs, body)`, `to_map(x in xs, key, value)`: a bound variable over a list."""

    name: str
    var: str
    collection: Expr
    body: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" or "not"
    operand: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic (+ - * / %), comparison, `and`, `or`, `in`, `not in`, `??`."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class IfElse:
    cond: Expr
    then: Expr
    otherwise: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ListLit:
    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class SetLit:
    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class RecordLit:
    fields: tuple[tuple[str, Expr], ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class MapLit:
    entries: tuple[tuple[Expr, Expr], ...]
    span: Span = _span()


Expr = (
    Literal
    | Var
    | Member
    | Index
    | Call
    | Macro
    | Unary
    | Binary
    | IfElse
    | ListLit
    | SetLit
    | RecordLit
    | MapLit
)


_CHILDREN: dict[type, Callable[[Any], tuple[Expr, ...]]] = {
    Literal: lambda n: (),
    Var: lambda n: (),
    Member: lambda n: (n.obj,),
    Index: lambda n: (n.obj, *n.keys),
    Call: lambda n: n.args,
    Macro: lambda n: (n.collection, *n.body),
    Unary: lambda n: (n.operand,),
    Binary: lambda n: (n.left, n.right),
    IfElse: lambda n: (n.cond, n.then, n.otherwise),
    ListLit: lambda n: n.items,
    SetLit: lambda n: n.items,
    RecordLit: lambda n: tuple(value for _, value in n.fields),
    MapLit: lambda n: tuple(part for entry in n.entries for part in entry),
}


def children(node: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of a node, in source order."""
    found = _CHILDREN.get(type(node))
    if found is None:
        raise TypeError(f"not an expression node: {node!r}")
    return found(node)


def walk(node: Expr) -> Iterator[Expr]:
    """Every node of a tree, parents before children."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def unparse(node: Expr) -> str:
    """Canonical source text of an expression (used in messages and as a narrowing key)."""
    match node:
        case Literal(value=value):
            if value is None:
                return "null"
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, str):
                return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
            if isinstance(value, date):
                return f'date("{value.isoformat()}")'
            return str(value)
        case Var(name=name):
            return name
        case Member(obj=obj, name=name, safe=safe):
            return f"{unparse(obj)}{'?.' if safe else '.'}{name}"
        case Index(obj=obj, keys=keys):
            return f"{unparse(obj)}[{', '.join(unparse(k) for k in keys)}]"
        case Call(name=name, args=args):
            return f"{name}({', '.join(unparse(a) for a in args)})"
        case Macro(name=name, var=var, collection=coll, body=body):
            rest = ", ".join(unparse(b) for b in body)
            return f"{name}({var} in {unparse(coll)}, {rest})"
        case Unary(op=op, operand=operand):
            return f"not {unparse(operand)}" if op == "not" else f"-{unparse(operand)}"
        case Binary(op=op, left=left, right=right):
            return f"({unparse(left)} {op} {unparse(right)})"
        case IfElse(cond=c, then=t, otherwise=o):
            return f"(if {unparse(c)} then {unparse(t)} else {unparse(o)})"
        case ListLit(items=items):
            return "[" + ", ".join(unparse(i) for i in items) + "]"
        case SetLit(items=items):
            return "{" + ", ".join(unparse(i) for i in items) + "}"
        case RecordLit(fields=fields):
            return "{" + ", ".join(f"{k}: {unparse(v)}" for k, v in fields) + "}"
        case MapLit(entries=entries):
            return "{" + ", ".join(f"[{unparse(k)}]: {unparse(v)}" for k, v in entries) + "}"
    raise TypeError(f"not an expression node: {node!r}")
