"""The emitters refuse what they cannot write safely: `ident()` only identifiers,
`lit()` only values whose repr is plain Python syntax."""

from __future__ import annotations

import ast
from datetime import date
from decimal import Decimal

import pytest

from ruleengine.compiler.emit import Code, ModuleWriter, UnsafeSource, ident, lit


@pytest.mark.parametrize(
    "parts",
    [("v_", "plan"), ("g_", "gate", "_t"), ("_IX_", "Pick9"), ("_k", "12")],
)
def test_ident_accepts_identifiers(parts: tuple[str, ...]) -> None:
    assert ident(*parts) == "".join(parts)


@pytest.mark.parametrize(
    "parts",
    [
        ("v_", "a b"),
        ("v_", "x)\nimport os\n("),
        ("", "9lives"),
        ("", ""),
        ("v_", "é"),  # Python accepts it, the identifier grammar of rule files does not
        ("", "lambda"),
        ("v_", "a'"),
        ("t_", "x.y"),
    ],
)
def test_ident_refuses_anything_else(parts: tuple[str, ...]) -> None:
    with pytest.raises(UnsafeSource):
        ident(*parts)


class _Sneaky(str):
    def __repr__(self) -> str:
        return "__import__('os')"


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -(2**70), 'it\'s "quoted"\n\\', "'); import os; ('", ("a", 1, None)],
)
def test_lit_writes_a_literal_that_reads_back_as_the_value(value: object) -> None:
    text = lit(value)
    assert ast.literal_eval(text) == value
    tree = ast.parse(text, mode="eval")
    assert not any(isinstance(n, (ast.Name, ast.Call, ast.Attribute)) for n in ast.walk(tree))


@pytest.mark.parametrize(
    "value",
    [
        Decimal("1.5"),
        date(2026, 1, 1),
        1.5,
        frozenset({"a"}),
        ["a"],
        {"a": 1},
        _Sneaky("x"),
        ("a", Decimal(1)),
    ],
)
def test_lit_refuses_values_without_a_safe_repr(value: object) -> None:
    with pytest.raises(UnsafeSource):
        lit(value)


def test_other_values_become_named_constants() -> None:
    m = ModuleWriter()
    name = m.literal(Decimal("0.10"))
    assert name == ident(name) and m.constants[name] == Decimal("0.10")
    assert m.literal(Decimal("0.10")) == name  # one constant per value (by its text)
    assert m.literal(Decimal("0.1")) != name  # equal, but printed differently
    assert m.literal("text") == "'text'"


def test_code_cost() -> None:
    assert Code("v_x", cost=0).cheap and Code("v_x", cost=0).is_name
    assert Code("v_x['a']", cost=1).cheap and not Code("v_x['a']", cost=1).is_name
    assert not Code("f(v_x)").cheap
