"""Index planning: which fact a rule group's rules test against literals.

A pure analysis of a group's conditions (like Jinja2's optimizer): when at least
`INDEX_MIN_RULES` rules test the same fact path with `==` or `in [literals]`, the
group becomes a dict lookup from the fact's value to the rules that can fire.
Conditions split here (`a == 1 and rest`) leave new `and` nodes whose types are
recorded in the compiler's type overlay (`CompileUnit.types`), never in the
checker's result.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ..checker import CheckedGroup
from ..nodes import Binary, Expr, ListLit, Literal, Member, SetLit, Var, unparse
from ..typesys import Type

INDEX_MIN_RULES = 8  # below this many rules on one fact, testing each rule is as fast


@dataclass(frozen=True, slots=True)
class IndexPlan:
    path: Expr  # the fact the rules test, evaluated once per call
    keys: dict[int, tuple[Any, ...]]  # rule -> the literal values it matches
    # rule -> the rest of its condition, if any. Rests joined here are new nodes whose
    # types are keyed by id() in the compiler's overlay: the plan keeps them alive as long
    # as code may be generated.
    rest: dict[int, Expr]
    by_key: dict[Any, tuple[int, ...]]  # value -> rules to evaluate, in order
    always: tuple[int, ...]  # rules not indexed: evaluated for every value


def index_test(node: Expr) -> tuple[str, Expr, tuple[Any, ...]] | None:
    """`path == literal`, `literal == path` or `path in [literals]`, else None."""
    if isinstance(node, Binary) and node.op == "==":
        for path, lit in ((node.left, node.right), (node.right, node.left)):
            if is_path(path) and isinstance(lit, Literal) and indexable(lit.value):
                return unparse(path), path, (lit.value,)
    if isinstance(node, Binary) and node.op == "in" and is_path(node.left):
        items = node.right.items if isinstance(node.right, (ListLit, SetLit)) else None
        if items and all(isinstance(i, Literal) and indexable(i.value) for i in items):
            return (
                unparse(node.left),
                node.left,
                tuple(i.value for i in items if isinstance(i, Literal)),
            )
    return None


def indexable(value: Any) -> bool:
    return value is not None and isinstance(value, (str, int, Decimal, date))


def split_condition(
    node: Expr, types: MutableMapping[int, Type]
) -> tuple[str, Expr, tuple[Any, ...], Expr | None] | None:
    """The leftmost index test of a conjunction, and what remains of the condition."""
    found = index_test(node)
    if found is not None:
        return (*found, None)
    if isinstance(node, Binary) and node.op == "and":
        left = split_condition(node.left, types)
        if left is not None:
            key, path, values, rest = left
            if rest is None:
                return key, path, values, node.right
            joined = Binary("and", rest, node.right, span=node.span)
            types[id(joined)] = types[id(node)]
            return key, path, values, joined
    return None


def plan_index(group: CheckedGroup, types: MutableMapping[int, Type]) -> IndexPlan | None:
    """Index a group's rules on the fact most of them test against literals."""
    splits = {}
    counts: dict[str, int] = {}
    for i, rule in enumerate(group.rules):
        split = split_condition(rule.when, types)
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
    return IndexPlan(
        path=path,
        keys=keys,
        rest=rest,
        by_key={value: tuple(sorted({*found, *always})) for value, found in by_key.items()},
        always=always,
    )


def is_path(node: Expr) -> bool:
    """A name or a chain of field reads: cheap and pure, fine to evaluate twice."""
    while isinstance(node, Member) and not node.safe:
        node = node.obj
    return isinstance(node, Var)
