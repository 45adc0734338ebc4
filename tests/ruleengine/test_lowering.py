"""Plain compiled code inlines helpers and rule groups, lowers quantifiers to `for`
statements, fuses the input check with the decision and reads input record fields
from locals. None of that may change an answer: each case here is decided by the
plain code, by the traced code (which does none of it), and compared with the
value worked out by hand."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ruleengine
from ruleengine.runtime.inputs import FAIL

from ..conftest import examples
from .conftest import BuildEngine
from .test_evaluate import (
    BOOL_VARS,
    DEC_VARS,
    EXACT,
    GUARDED_DIVISORS,
    INPUT_SCHEMA,
    INT_VARS,
    Ex,
    Tree,
    arith,
    compare,
    dec_leaf,
    divide_guarded,
    int_leaf,
    logic,
    render,
    same,
    small_decimals,
)

TYPES = """\
types:
  Item:
    fields:
      sku: string
      term: string
      seats: int
      tags: {type: list<string>}
"""

TABLES = """\
tables:
  terms:
    type: list<string>
    value: [monthly, annual, three_year]
  five:
    type: list<int>
    value: [1, 2, 3, 4, 5]
  no_terms:
    type: list<string>
    value: []
"""

FUNCTIONS = """\
functions:
  shifted:
    description: A macro variable named like a caller's local (capture must not happen).
    params: {xs: list<int>, c: int}
    expr: map(c2 in xs, c2 + c)
  capture:
    params: {xs: list<int>, y: int}
    expr: map(c in xs, c + y)
  twice:
    description: The parameter is read twice; the argument must be computed once.
    params: {n: int}
    expr: n + n
  padded:
    params: {n: int}
    let:
      m: n * 10
      k: m + 1
    expr: k + m
  in_loop:
    description: The parameter is read inside a loop body.
    params: {xs: list<int>, limit: int}
    expr: count(x in xs, x < limit)
  offered:
    description: A loop variable named like the caller's input `term`.
    params: {item: Item}
    expr: any(term in terms, term != item.term and term == "annual")
  other_terms:
    params: {item: Item}
    expr: filter(term in terms, term != item.term)
"""

RULES = """\
rules:
  flags:
    params: {item: Item}
    rules:
      - id: many
        when: item.seats > 10
        then: '"many"'
      - id: tagged
        when: any(t in item.tags, t == "vip")
        then: '"vip"'
      - id: other_term
        when: 'any(term in terms, term != item.term and term == "annual")'
        then: '"annual_offered"'
  size:
    params: {n: int}
    hit: first
    default: '"small"'
    rules:
      - id: huge
        when: n >= 100
        then: '"huge"'
      - id: big
        when: twice(n) >= 20
        then: '"big"'
  maybe:
    params: {n: int}
    hit: first
    rules:
      - id: odd
        when: n % 2 == 1
        then: n
"""

DECISIONS = """\
decisions:
  d:
    input:
      item: Item
      term: string
      c: int
    let:
      c2: c + 1
      flagged: flags(item)
    output:
      flagged: flagged
      shifted: shifted([1, 2], c)
      captured: capture([1, 2], c)
      twice_sum: twice(sum(x in [c, c2], x))
      padded: padded(c)
      conditional: 'if c > 5 then padded(c) else twice(c)'
      counted: in_loop([1, 2, 3, 4], c + 1)
      any_term: offered(item)
      term_kept: term
      others: other_terms(item)
      size: size(item.seats)
      size_of_sum: size(sum(x in [item.seats, c], x))
      maybe: maybe(item.seats)
      whole: item
      nested_flags: len(flags(item)) + len(flags(item))
      all_known: all(t in item.tags, t in ["a", "x", "vip"])
      any_listed: any(t in item.tags, t in ["x", "y"])
      all_other_terms: all(t in terms, t != term)
      none_of_no_terms: any(t in no_terms, t == term)
      all_of_no_terms: all(t in no_terms, t == term)
      five_has_c: any(n in five, n == c)
"""


@pytest.fixture(scope="module")
def engine(build_engine: BuildEngine) -> ruleengine.Engine:
    return build_engine(DECISIONS, types=TYPES, tables=TABLES, functions=FUNCTIONS, rules=RULES)


def _expected(item: dict[str, Any], term: str, c: int) -> dict[str, Any]:
    flagged = []
    if item["seats"] > 10:
        flagged.append("many")
    if "vip" in item["tags"]:
        flagged.append("vip")
    if item["term"] != "annual":
        flagged.append("annual_offered")

    def size(n: int) -> str:
        return "huge" if n >= 100 else "big" if n + n >= 20 else "small"

    def padded(n: int) -> int:
        return (n * 10 + 1) + n * 10

    return {
        "flagged": flagged,
        "shifted": [1 + c, 2 + c],
        "captured": [1 + c, 2 + c],
        "twice_sum": 2 * (c + c + 1),
        "padded": padded(c),
        "conditional": padded(c) if c > 5 else 2 * c,
        "counted": sum(1 for x in [1, 2, 3, 4] if x < c + 1),
        "any_term": item["term"] != "annual",
        "term_kept": term,
        "others": [t for t in ["monthly", "annual", "three_year"] if t != item["term"]],
        "size": size(item["seats"]),
        "size_of_sum": size(item["seats"] + c),
        "maybe": item["seats"] if item["seats"] % 2 == 1 else None,
        "whole": item,
        "nested_flags": 2 * len(flagged),
        "all_known": all(t in ("a", "x", "vip") for t in item["tags"]),
        "any_listed": any(t in ("x", "y") for t in item["tags"]),
        "all_other_terms": term not in ("monthly", "annual", "three_year"),
        "none_of_no_terms": False,
        "all_of_no_terms": True,
        "five_has_c": c in (1, 2, 3, 4, 5),
    }


CASES = [
    ({"sku": "A", "term": "annual", "seats": 1, "tags": []}, "weekly", 0),
    ({"sku": "B", "term": "monthly", "seats": 11, "tags": ["vip"]}, "monthly", 7),
    ({"sku": "C", "term": "three_year", "seats": 150, "tags": ["x", "vip"]}, "annual", -3),
    ({"sku": "D", "term": "annual", "seats": 10, "tags": ["x"]}, "three_year", 5),
]


@pytest.mark.parametrize(("item", "term", "c"), CASES)
def test_lowered_code_decides_as_written(
    engine: ruleengine.Engine, item: dict[str, Any], term: str, c: int
) -> None:
    facts = {"item": item, "term": term, "c": c}
    want = _expected(item, term, c)
    assert engine.decide("t", "d", facts).result == want
    assert engine.decide("t", "d", facts, explain=True).result == want


def test_the_lowering_really_happens(engine: ruleengine.Engine) -> None:
    source = engine.rulesets["t"].versions[0].compiled.source
    fused = source[source.index("def p_d(") :]
    fused = fused[: fused.index("\n\n")]
    # Helpers and (unindexed) groups are inlined; quantifiers are loops.
    for call in ("f_twice(", "f_capture(", "f_offered(", "g_flags(", "g_size("):
        assert call not in fused, call
    assert "for _b" in fused
    assert ".issuperset(_t" in fused and ".isdisjoint(_t" in fused
    # any/all over a constant list of up to four scalars is unrolled; longer ones loop.
    assert re.search(r"^\s+for \w+ in t_terms:", fused, re.MULTILINE) is None
    assert re.search(r"^\s+for \w+ in t_no_terms:", fused, re.MULTILINE) is None
    assert re.search(r"^\s+for \w+ in t_five:", fused, re.MULTILINE) is not None
    assert "('monthly' != " in fused
    # Inside a conditional branch a helper with `let` stays a call (its lets would run
    # unconditionally otherwise); outside one it is inlined.
    assert fused.count("f_padded(") == 1


def test_a_result_never_shares_the_input(engine: ruleengine.Engine) -> None:
    item = {"sku": "A", "term": "annual", "seats": 1, "tags": ["a"]}
    result = engine.decide("t", "d", {"item": item, "term": "x", "c": 1}).result
    assert result["whole"] == item
    assert result["whole"] is not item
    assert result["whole"]["tags"] is not item["tags"]


def test_input_the_fast_check_declines_still_decides(engine: ruleengine.Engine) -> None:
    # A date object for as_of and a null locale are fine for the fused check; an int
    # given as a bool is not valid at all: every path must agree with the validator.
    item = {"sku": "A", "term": "annual", "seats": 3, "tags": []}
    facts = {"item": item, "term": "annual", "c": 2, "locale": None}
    assert engine.decide("t", "d", facts).result == _expected(item, "annual", 2)
    with pytest.raises(ruleengine.InputError) as caught:
        engine.decide("t", "d", {**facts, "c": True})
    assert [p.path for p in caught.value.problems] == ["input.c"]


def test_inlining_stops_at_its_budget(
    build_engine: BuildEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A generated function inlines a bounded amount of code (many call sites of large
    # groups would otherwise grow it without limit); past the budget calls stay calls.
    from ruleengine.compiler import lowering

    monkeypatch.setattr(lowering, "INLINE_BUDGET", 10)
    engine = build_engine(DECISIONS, types=TYPES, tables=TABLES, functions=FUNCTIONS, rules=RULES)
    source = engine.rulesets["t"].versions[0].compiled.source
    fused = source[source.index("def p_d(") :]
    fused = fused[: fused.index("\n\n")]
    assert "g_flags(" in fused and "g_size(" in fused
    for item, term, c in CASES:
        facts = {"item": item, "term": term, "c": c}
        assert engine.decide("t", "d", facts).result == _expected(item, term, c)


# --- random expressions through inlined helpers and groups ---------------------------
# The expression trees of test_evaluate, with nodes that call helper functions (a
# parameter read twice, a let, a conditional) and rule groups (first hit, collect):
# in plain code these are inlined, in traced code they stay calls. Both must give
# Python's exact value.

HELPERS = """\
functions:
  dbl:
    params: {v: decimal}
    expr: v + v
  via_let:
    params: {v: decimal}
    let:
      w: v * 2
    expr: w - v
  pick:
    params: {p: bool, a: decimal, b: decimal}
    expr: if p then a else b
  both:
    params: {p: bool, q: bool}
    expr: p and not q or q and not p
"""

GROUPS = """\
rules:
  sign:
    params: {v: decimal}
    hit: first
    default: '0'
    rules:
      - {id: positive, when: v > 0, then: '1'}
      - {id: negative, when: v < 0, then: '-1'}
  marks:
    params: {v: decimal}
    rules:
      - {id: big, when: v > 100, then: '"big"'}
      - {id: small, when: v < -5 or v == 0, then: '"small"'}
      - {id: any_mark, when: 'any(k in [1, 2, 3], v == k)', then: '"listed"'}
"""


def _lowering_numbers(depth: int) -> st.SearchStrategy[Tree]:
    leaves = st.one_of(int_leaf, dec_leaf)
    if depth == 0:
        return leaves
    sub = _lowering_numbers(depth - 1)
    flag = _lowering_bools(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(st.just("arith"), st.sampled_from("+-*"), sub, sub),
        st.tuples(st.just("divguard"), sub),
        st.tuples(st.just("dbl"), sub),
        st.tuples(st.just("via_let"), sub),
        st.tuples(st.just("pick"), flag, sub, sub),
        st.tuples(st.just("sign"), sub),
        st.tuples(st.just("marks"), sub),
    )


def _lowering_bools(depth: int) -> st.SearchStrategy[Tree]:
    leaves = st.one_of(
        st.sampled_from(BOOL_VARS).map(lambda v: ("bvar", v)),
        st.tuples(st.just("cmp"), st.sampled_from(["<", "=="]), int_leaf, dec_leaf),
    )
    if depth == 0:
        return leaves
    sub = _lowering_bools(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(st.just("logic"), st.sampled_from(["and", "or"]), sub, sub),
        st.tuples(st.just("both"), sub, sub),
    )


def _dec(e: Ex) -> Decimal:
    return Decimal(e.value)


def _render(tree: Tree, env: dict[str, Any]) -> Ex:
    match tree:
        case ("arith", op, left, right):
            return arith(op, _render(left, env), _render(right, env))
        case ("divguard", e):
            return divide_guarded(_render(e, env), env["dv"])
        case ("cmp", op, left, right):
            return compare(op, _render(left, env), _render(right, env))
        case ("logic", op, left, right):
            return logic(op, _render(left, env), _render(right, env))
        case ("dbl", e):
            inner = _render(e, env)
            with localcontext(EXACT):
                return Ex(f"dbl({inner.text})", _dec(inner) * 2, "decimal", 9)
        case ("via_let", e):
            inner = _render(e, env)
            return Ex(f"via_let({inner.text})", _dec(inner), "decimal", 9)
        case ("pick", flag, a, b):
            f, x, y = _render(flag, env), _render(a, env), _render(b, env)
            chosen = _dec(x) if f.value else _dec(y)
            return Ex(f"pick({f.text}, {x.text}, {y.text})", chosen, "decimal", 9)
        case ("sign", e):
            inner = _render(e, env)
            v = _dec(inner)
            return Ex(f"sign({inner.text})", (v > 0) - (v < 0), "int", 9)
        case ("marks", e):
            inner = _render(e, env)
            v = _dec(inner)
            count = (v > 100) + (v < -5 or v == 0) + (v in (1, 2, 3))
            return Ex(f"len(marks({inner.text}))", int(count), "int", 9)
        case ("both", p, q):
            a, b = _render(p, env), _render(q, env)
            value = bool(a.value) != bool(b.value)
            return Ex(f"both({a.text}, {b.text})", value, "bool", 9)
    return render(tree, env)


@st.composite
def _lowering_cases(draw: st.DrawFn) -> tuple[dict[str, Any], list[Ex]]:
    env: dict[str, Any] = {v: draw(st.integers(-200, 200)) for v in INT_VARS}
    env.update({v: draw(small_decimals) for v in DEC_VARS})
    env.update({v: draw(st.booleans()) for v in BOOL_VARS})
    env["dv"] = draw(st.sampled_from(GUARDED_DIVISORS))
    trees = draw(
        st.lists(st.one_of(_lowering_numbers(3), _lowering_bools(2)), min_size=1, max_size=8)
    )
    return env, [_render(t, env) for t in trees]


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_lowering_cases())
def test_inlined_helpers_and_groups_evaluate_as_python(
    build_engine: BuildEngine, case: tuple[dict[str, Any], list[Ex]]
) -> None:
    sent, exprs = case
    outputs = "".join(f"      o{i}: {json.dumps(e.text)}\n" for i, e in enumerate(exprs))
    engine = build_engine(
        f"decisions:\n  calc:\n    input:\n{INPUT_SCHEMA}    output:\n{outputs}",
        functions=HELPERS,
        rules=GROUPS,
    )
    plain = engine.decide("t", "calc", sent).result
    traced = engine.decide("t", "calc", sent, explain=True).result
    wrong = [
        (e.text, e.value, plain[f"o{i}"])
        for i, e in enumerate(exprs)
        if not same(plain[f"o{i}"], e)
    ]
    assert wrong == []
    assert plain == traced


def test_map_inputs_take_the_fast_path(build_engine: BuildEngine) -> None:
    engine = build_engine(
        "decisions:\n"
        "  d:\n"
        "    input:\n"
        "      counts: {type: 'map<string, int>'}\n"
        "      prices: {type: 'map<string, decimal>', optional: true}\n"
        "    output:\n"
        "      total: sum(k in keys(counts), counts[k] ?? 0)\n"
        "      price_a: 'if prices != null then prices[\"a\"] ?? 0 else 0'\n"
    )
    compiled = engine.rulesets["t"].versions[0].compiled.decisions["d"]
    facts = {"counts": {"a": 2, "b": 5}, "prices": {"a": "1.50"}}
    assert compiled.decide_fast(facts, date(2026, 1, 1)) is not FAIL  # no detour
    result = engine.decide("t", "d", facts).result
    assert result == {"total": 7, "price_a": Decimal("1.50")}
    assert result["price_a"].as_tuple().exponent == -2
    assert engine.decide("t", "d", {"counts": {}}).result == {"total": 0, "price_a": 0}
    with pytest.raises(ruleengine.InputError) as caught:
        engine.decide("t", "d", {"counts": {"a": "x", "b": 1.5}})
    assert sorted(p.path for p in caught.value.problems) == ["input.counts.a", "input.counts.b"]


def test_messages_of_codes_are_one_map_call(build_engine: BuildEngine) -> None:
    # map(c in codes, message(c)) is `[*_map(_message, codes)]` in plain code: a code
    # with a message reads as it, any other as itself, as message(c) alone and the
    # traced program (which keeps the comprehension) say; each call gets a new list.
    engine = build_engine(
        "decisions:\n"
        "  d:\n"
        "    input:\n"
        "      codes: {type: list<string>}\n"
        "    output:\n"
        "      messages: map(c in codes, message(c))\n"
        "      more: map(c in codes + ['known'], message(c))\n"
        "      first: 'if len(codes) > 0 then message(codes[0] ?? \"\") else null'\n",
        reasons="reasons:\n  known:\n    messages: {en: The known message.}\n",
    )
    fused = engine.rulesets["t"].versions[0].listing(decision="d")
    assert fused.count("[*_map(_message, ") == 4  # two outputs, in d_d and in p_d
    assert re.search(r"\[_message\(\w+\) for ", fused) is None
    for codes, messages in [
        ([], []),
        (["known"], ["The known message."]),
        (["other", "known", "other"], ["other", "The known message.", "other"]),
    ]:
        want = {
            "messages": messages,
            "more": [*messages, "The known message."],
            "first": messages[0] if messages else None,
        }
        plain = engine.decide("t", "d", {"codes": codes})
        assert plain.result == want
        assert engine.decide("t", "d", {"codes": codes}, explain=True).result == want
        again = engine.decide("t", "d", {"codes": codes}).result
        assert plain.result["messages"] is not again["messages"]


def test_a_row_tested_for_null_is_a_key_lookup(build_engine: BuildEngine) -> None:
    # `t[k] == null` / `!= null` on a rows table is `k not in` / `in` its key index in
    # plain code (one key or several, either side of the test); the traced program reads
    # the row as written, and both agree with the table.
    engine = build_engine(
        "decisions:\n"
        "  d:\n"
        "    input:\n"
        "      sku: string\n"
        "      size: int\n"
        "    output:\n"
        "      priced: prices[sku, size] != null\n"
        "      unpriced: null == prices[sku, size]\n"
        "      named: names[sku] == null\n"
        "      others: filter(n in [1, 2, 3], n != size and prices[sku, n] != null)\n",
        tables="tables:\n"
        "  prices:\n"
        "    key: [sku, size]\n"
        "    columns: {sku: string, size: int, price: decimal?}\n"
        "    rows:\n"
        "      - [a, 1, null]\n"
        "      - [a, 3, 2.5]\n"
        "      - [b, 2, 1]\n"
        "  names:\n"
        "    key: sku\n"
        "    columns: {sku: string, name: string?}\n"
        "    rows:\n"
        "      - [a, null]\n",
    )
    fused = engine.rulesets["t"].versions[0].listing(decision="d")
    fused = fused[fused.index("def p_d(") :]
    assert re.search(r"_k\d+\.get\(", fused) is None
    assert re.search(r"\(\(\w+, \w+,\) in _k\d+\)", fused)
    assert re.search(r"\(\w+ not in _k\d+\)", fused)
    rows = {("a", 1), ("a", 3), ("b", 2)}
    for sku in ("a", "b", "c"):
        for size in (1, 2, 3):
            want = {
                "priced": (sku, size) in rows,
                "unpriced": (sku, size) not in rows,
                "named": sku != "a",
                "others": [n for n in (1, 2, 3) if n != size and (sku, n) in rows],
            }
            facts = {"sku": sku, "size": size}
            assert engine.decide("t", "d", facts).result == want
            assert engine.decide("t", "d", facts, explain=True).result == want
