"""Compiled expressions evaluate exactly as Python's int, Decimal and bool semantics say.

Each hypothesis example draws an input (ints, decimals, bools), then a batch of
expressions over it, each built together with the value Python gives it; the
batch becomes the outputs of one decision in a generated rule set that goes
through the real pipeline (load -> validate -> parse -> check -> compile).
Expressions are written with as few parentheses as the precedence rules allow,
so the parser's precedence and associativity are tested as well.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    localcontext,
)
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ruleengine
from ruleengine import runtime

from ..conftest import examples
from .conftest import BuildEngine

# Exact reference arithmetic: any rounding would raise Inexact.
EXACT = Context(prec=200, traps=[Inexact, InvalidOperation, DivisionByZero])

# Precedence levels of the grammar, loosest first.
OR, AND, NOT, CMP, SUM, PROD, UNARY, ATOM = 1, 2, 3, 4, 6, 7, 8, 9

INT_VARS = ("a", "b", "c")
DEC_VARS = ("x", "y", "z")
BOOL_VARS = ("p", "q")
# Divisors whose quotients terminate: 2**i * 5**j (* 10**k); 0 only behind a guard.
TERMINATING = ("1", "2", "4", "5", "8", "10", "16", "20", "25", "0.5", "0.25", "2.5", "1.25", "0.2")
GUARDED_DIVISORS = (0, 1, -1, 2, -2, 4, -4, 5, -5, 8, -8, 10, -10, 16, 20, -25, 50)

INPUT_SCHEMA = """\
      a: int
      b: int
      c: int
      x: decimal
      y: decimal
      z: decimal
      p: bool
      q: bool
      dv: int
"""


@dataclass(frozen=True)
class Ex:
    """An expression's text, its Python value and kind ("int", "decimal", "bool"), its precedence."""

    text: str
    value: int | Decimal | bool
    kind: str
    prec: int


def wrap(e: Ex, min_prec: int) -> str:
    return e.text if e.prec >= min_prec else f"({e.text})"


def arith(op: str, left: Ex, right: Ex) -> Ex:
    prec = SUM if op in "+-" else PROD
    text = f"{wrap(left, prec)} {op} {wrap(right, prec + 1)}"
    if left.kind == right.kind == "int":
        assert isinstance(left.value, int) and isinstance(right.value, int)
        value: int | Decimal = {
            "+": left.value + right.value,
            "-": left.value - right.value,
            "*": left.value * right.value,
        }[op]
        return Ex(text, value, "int", prec)
    with localcontext(EXACT):
        a, b = Decimal(left.value), Decimal(right.value)
        value = {"+": a + b, "-": a - b, "*": a * b}[op]
    return Ex(text, value, "decimal", prec)


def negate(e: Ex) -> Ex:
    text = "-" + wrap(e, UNARY)
    if e.kind == "int":
        assert isinstance(e.value, int)
        return Ex(text, -e.value, "int", UNARY)
    with localcontext(EXACT):
        return Ex(text, -Decimal(e.value), "decimal", UNARY)


def divide_by_literal(e: Ex, divisor: str) -> Ex:
    with localcontext(EXACT):
        value = Decimal(e.value) / Decimal(divisor)
    return Ex(f"{wrap(e, PROD)} / {divisor}", value, "decimal", PROD)


def divide_guarded(e: Ex, dv: int) -> Ex:
    """`if dv != 0 then e / dv else 0`: a decimal either way."""
    with localcontext(EXACT):
        value = Decimal(e.value) / Decimal(dv) if dv != 0 else Decimal(0)
    return Ex(f"if dv != 0 then {wrap(e, PROD)} / dv else 0", value, "decimal", 0)


def compare(op: str, left: Ex, right: Ex) -> Ex:
    a, b = left.value, right.value
    value: bool = {
        "==": a == b,
        "!=": a != b,
        "<": a < b,  # type: ignore[operator]
        "<=": a <= b,  # type: ignore[operator]
        ">": a > b,  # type: ignore[operator]
        ">=": a >= b,  # type: ignore[operator]
    }[op]
    return Ex(f"{wrap(left, SUM)} {op} {wrap(right, SUM)}", value, "bool", CMP)


def logic(op: str, left: Ex, right: Ex) -> Ex:
    prec = AND if op == "and" else OR
    value = (left.value and right.value) if op == "and" else (left.value or right.value)
    return Ex(f"{wrap(left, prec)} {op} {wrap(right, prec + 1)}", value, "bool", prec)


def invert(e: Ex) -> Ex:
    return Ex(f"not {wrap(e, NOT)}", not e.value, "bool", NOT)


# Expression trees are drawn independently of the input (so the strategies are built
# once); `render` then gives each tree its text and its Python value for an input.
Tree = tuple[Any, ...]

int_leaf = st.one_of(
    st.integers(0, 1000).map(lambda n: ("int", n)),
    st.sampled_from(INT_VARS).map(lambda v: ("ivar", v)),
)
dec_leaf = st.one_of(
    st.builds(
        lambda n, k: ("dec", f"{Decimal(n).scaleb(-k):f}"),
        st.integers(0, 99_999),
        st.integers(1, 3),
    ),
    st.sampled_from(DEC_VARS).map(lambda v: ("dvar", v)),
)


def number_trees(depth: int) -> st.SearchStrategy[Tree]:
    leaves = st.one_of(int_leaf, dec_leaf)
    if depth == 0:
        return leaves
    sub = number_trees(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(st.just("arith"), st.sampled_from("+-*"), sub, sub),
        st.tuples(st.just("neg"), sub),
        st.tuples(st.just("divlit"), sub, st.sampled_from(TERMINATING)),
        st.tuples(st.just("divguard"), sub),
    )


def bool_trees(depth: int) -> st.SearchStrategy[Tree]:
    leaves = st.one_of(
        st.booleans().map(lambda b: ("bool", b)),
        st.sampled_from(BOOL_VARS).map(lambda v: ("bvar", v)),
        st.tuples(
            st.just("cmp"),
            st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
            NUMBERS_2,
            NUMBERS_2,
        ),
        st.tuples(
            st.just("bcmp"),
            st.sampled_from(["==", "!="]),
            st.sampled_from(BOOL_VARS).map(lambda v: ("bvar", v)),
            st.booleans().map(lambda b: ("bool", b)),
        ),
    )
    if depth == 0:
        return leaves
    sub = bool_trees(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(st.just("logic"), st.sampled_from(["and", "or"]), sub, sub),
        st.tuples(st.just("not"), sub),
    )


NUMBERS_2 = number_trees(2)
EXPRESSIONS = st.one_of(number_trees(3), bool_trees(2))


def render(tree: Tree, env: dict[str, Any]) -> Ex:
    match tree:
        case ("int", n):
            return Ex(str(n), n, "int", ATOM)
        case ("dec", text):
            return Ex(text, Decimal(text), "decimal", ATOM)
        case ("ivar", name):
            return Ex(name, env[name], "int", ATOM)
        case ("dvar", name):
            return Ex(name, Decimal(env[name]), "decimal", ATOM)
        case ("bool", b):
            return Ex("true" if b else "false", b, "bool", ATOM)
        case ("bvar", name):
            return Ex(name, env[name], "bool", ATOM)
        case ("arith", op, left, right):
            return arith(op, render(left, env), render(right, env))
        case ("neg", e):
            return negate(render(e, env))
        case ("divlit", e, divisor):
            return divide_by_literal(render(e, env), divisor)
        case ("divguard", e):
            return divide_guarded(render(e, env), env["dv"])
        case ("cmp" | "bcmp", op, left, right):
            return compare(op, render(left, env), render(right, env))
        case ("logic", op, left, right):
            return logic(op, render(left, env), render(right, env))
        case ("not", e):
            return invert(render(e, env))
    raise AssertionError(tree)


small_decimals = st.builds(
    lambda n, places: Decimal(n).scaleb(-places), st.integers(-(10**5), 10**5), st.integers(0, 3)
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], list[Ex]]:
    """(the input sent, expressions over it with their Python values)."""
    env: dict[str, Any] = {v: draw(st.integers(-1000, 1000)) for v in INT_VARS}
    env.update({v: draw(small_decimals) for v in DEC_VARS})
    env.update({v: draw(st.booleans()) for v in BOOL_VARS})
    env["dv"] = draw(st.sampled_from(GUARDED_DIVISORS))
    trees = draw(st.lists(EXPRESSIONS, min_size=1, max_size=12))
    exprs = [render(t, env) for t in trees]
    sent = dict(env)
    for v in DEC_VARS:  # decimals arrive as Decimal (parsed JSON) or as decimal strings
        sent[v] = draw(st.sampled_from([env[v], str(env[v])]))
    return sent, exprs


def engine_for(build: BuildEngine, exprs: list[Ex]) -> ruleengine.Engine:
    outputs = "".join(f"      o{i}: {json.dumps(e.text)}\n" for i, e in enumerate(exprs))
    return build(f"decisions:\n  calc:\n    input:\n{INPUT_SCHEMA}    output:\n{outputs}")


def same(actual: Any, expected: Ex) -> bool:
    kinds = {"int": int, "decimal": Decimal, "bool": bool}
    return type(actual) is kinds[expected.kind] and actual == expected.value


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_expressions_evaluate_as_python(
    build_engine: BuildEngine, case: tuple[dict[str, Any], list[Ex]]
) -> None:
    sent, exprs = case
    engine = engine_for(build_engine, exprs)
    result = engine.decide("t", "calc", sent).result
    assert list(result) == [f"o{i}" for i in range(len(exprs))]
    wrong = [
        (e.text, e.kind, e.value, result[f"o{i}"])
        for i, e in enumerate(exprs)
        if not same(result[f"o{i}"], e)
    ]
    assert wrong == []


# --- hand-picked cases: precedence, division, widening -----------------------------

FIXED_INPUT = {
    "a": 7,
    "b": -3,
    "c": 0,
    "x": "2.50",
    "y": "-0.1",
    "z": "1.5",
    "p": True,
    "q": False,
    "dv": 0,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("10 - (4 - 3)", 9),
        ("-a * 2", -14),
        ("a - -b", 4),
        ("0.1 + 0.2", Decimal("0.3")),
        ("0.1 + 0.2 == 0.3", True),
        ("x * 3", Decimal("7.50")),
        ("a + x", Decimal("9.50")),
        ("a == 7.0", True),
        ("x / 4", Decimal("0.625")),
        ("a / 2", Decimal("3.5")),
        ("1 / 3", Decimal("0." + "3" * 60)),
        ("2 / 3", Decimal("0." + "6" * 59 + "7")),
        ("not p or q", False),
        ("not (p or q)", False),
        ("p and not q", True),
        ("q or p and q", False),
        ("not a < 0", True),
        ("a > b and b < c", True),
        ("y < z", True),
    ],
)
def test_fixed_expressions(build_engine: BuildEngine, text: str, expected: Any) -> None:
    engine = engine_for(build_engine, [Ex(text, expected, "", 0)])
    got = engine.decide("t", "calc", FIXED_INPUT).result["o0"]
    assert got == expected
    assert type(got) is type(expected)


@pytest.mark.parametrize(
    "text",
    [
        "if dv != 0 then a / dv else 0",
        "if p then 0 else x",
        "if q then x else 1",
        "max(x, 3)",
        "min(z, 0)",
    ],
)
def test_decimal_typed_expressions_yield_decimals(build_engine: BuildEngine, text: str) -> None:
    """An expression the checker types as decimal gives a Decimal, even from an int branch."""
    engine = engine_for(build_engine, [Ex(text, 0, "decimal", 0)])
    got = engine.decide("t", "calc", FIXED_INPUT).result["o0"]
    assert type(got) is Decimal, f"{text} gave {got!r}"


# --- round_money, add_months and days through the language -------------------------

STDLIB_DECISION = """\
decisions:
  lib:
    input:
      x: decimal
      digits: int
      d: date
      e: date
      n: int
    output:
      rounded: round_money(x, digits)
      shifted: add_months(d, n)
      between: days(d, e)
"""


@pytest.fixture(scope="module")
def stdlib_engine(build_engine: BuildEngine) -> ruleengine.Engine:
    return build_engine(STDLIB_DECISION)


@settings(max_examples=examples(300), deadline=None)
@given(
    x=st.builds(
        lambda n, k: Decimal(n).scaleb(-k), st.integers(-(10**12), 10**12), st.integers(0, 6)
    ),
    digits=st.integers(0, 4),
    d=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    e=st.dates(min_value=date(2000, 1, 1), max_value=date(2050, 12, 31)),
    n=st.integers(-40, 40),
)
def test_stdlib_through_the_language(
    stdlib_engine: ruleengine.Engine, x: Decimal, digits: int, d: date, e: date, n: int
) -> None:
    facts = {"x": str(x), "digits": digits, "d": d.isoformat(), "e": e.isoformat(), "n": n}
    result = stdlib_engine.decide("t", "lib", facts).result
    assert result["rounded"] == x.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    assert result["rounded"].as_tuple().exponent == -digits
    assert result["shifted"] == runtime.add_months(d, n)
    assert result["between"] == (e - d).days


@pytest.mark.parametrize(
    ("x", "digits", "text"),
    [
        ("0.125", 2, "0.13"),
        ("-0.125", 2, "-0.13"),
        ("2.5", 0, "3"),
        ("-2.5", 0, "-3"),
        ("46.8249", 2, "46.82"),
        ("1", 3, "1.000"),
    ],
)
def test_round_money_ties_through_the_language(
    stdlib_engine: ruleengine.Engine, x: str, digits: int, text: str
) -> None:
    facts = {"x": x, "digits": digits, "d": "2024-02-29", "e": "2025-02-28", "n": 12}
    result = stdlib_engine.decide("t", "lib", facts).result
    assert str(result["rounded"]) == text
    assert result["shifted"] == date(2025, 2, 28)
    assert result["between"] == 365
    assert date(2024, 2, 29) + timedelta(days=365) == date(2025, 2, 28)
