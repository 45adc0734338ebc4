"""Dependency order: which definitions an expression reads, callees before callers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..nodes import Call, Expr, Macro, Member, Var, children, unparse, walk
from .program import CheckedTable


def references(node: Expr) -> set[str]:
    """Names an expression calls or reads (for dependency order)."""
    names: set[str] = set()
    for sub in walk(node):
        if isinstance(sub, (Var, Call)):
            names.add(sub.name)
    return names


def variables(node: Expr) -> set[str]:
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


def topological(
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
