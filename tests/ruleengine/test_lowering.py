"""Plain compiled code inlines helpers and rule groups, lowers quantifiers to `for`
statements, fuses the input check with the decision and reads input record fields
from locals. None of that may change an answer: each case here is decided by the
plain code, by the traced code (which does none of it), and compared with the
value worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest

import ruleengine

from .conftest import BuildEngine

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
    from ruleengine import compile as compile_module

    monkeypatch.setattr(compile_module._ExprCompiler, "INLINE_BUDGET", 10)
    engine = build_engine(DECISIONS, types=TYPES, tables=TABLES, functions=FUNCTIONS, rules=RULES)
    source = engine.rulesets["t"].versions[0].compiled.source
    fused = source[source.index("def p_d(") :]
    fused = fused[: fused.index("\n\n")]
    assert "g_flags(" in fused and "g_size(" in fused
    for item, term, c in CASES:
        facts = {"item": item, "term": term, "c": c}
        assert engine.decide("t", "d", facts).result == _expected(item, term, c)
