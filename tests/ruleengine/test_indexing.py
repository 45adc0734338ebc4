"""Rule indexing: a group whose rules test one fact against literals dispatches
through a dict, and decides exactly as testing every rule in order would."""

from __future__ import annotations

import random

import pytest

import ruleengine
from ruleengine.compiler import compile_version, indexing

from .conftest import BuildEngine

PRODUCTS = [f"p{i}" for i in range(12)]
COUNTRIES = ["US", "CA", "GB", "FR", "DE"]


def _rules(seed: int, count: int) -> str:
    """Rules keyed on item.product (equality, membership, with and without a rest),
    mixed with rules the index cannot use, so order across both kinds matters."""
    rng = random.Random(seed)
    lines = [
        "rules:",
        "  pick:",
        "    params: {item: Item}",
        f"    hit: {'collect' if seed % 2 else 'first'}",
    ]
    if seed % 2 == 0:
        lines.append("    default: '\"none\"'")
    lines.append("    rules:")
    for i in range(count):
        kind = rng.randrange(5)
        product = rng.choice(PRODUCTS)
        if kind == 0:
            when = f'item.product == "{product}"'
        elif kind == 1:
            when = f'"{product}" == item.product and item.seats > {rng.randrange(5)}'
        elif kind == 2:
            others = ", ".join(f'"{p}"' for p in rng.sample(PRODUCTS, 3))
            when = f"item.product in [{others}]"
        elif kind == 3:
            when = f'item.country == "{rng.choice(COUNTRIES)}"'  # another fact: never indexed
        else:
            when = f"item.seats >= {rng.randrange(8)}"
        lines += [f"      - id: r{i}", f"        when: '{when}'", f"        then: '\"r{i}\"'"]
    return "\n".join(lines) + "\n"


TYPES = "types:\n  Item:\n    fields: {product: string, country: string, seats: int}\n"
DECISION = "decisions:\n  d:\n    input: {item: Item}\n    output:\n      picked: pick(item)\n"


def _inputs(seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    return [
        {
            "as_of": "2026-01-01",
            "item": {
                "product": rng.choice([*PRODUCTS, "unknown"]),
                "country": rng.choice(COUNTRIES),
                "seats": rng.randrange(10),
            },
        }
        for _ in range(150)
    ]


@pytest.mark.parametrize("seed", range(8))
def test_indexed_groups_decide_like_testing_every_rule(
    build_engine: BuildEngine, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rules = _rules(seed, 40)
    indexed = build_engine(DECISION, types=TYPES, rules=rules)
    source = indexed.rulesets["t"].versions[0].compiled.source
    assert "_IX_pick" in source  # the index is really used
    monkeypatch.setattr(indexing, "INDEX_MIN_RULES", 10**9)
    plain = build_engine(DECISION, types=TYPES, rules=rules)
    assert "_IX_pick" not in plain.rulesets["t"].versions[0].compiled.source
    for facts in _inputs(seed):
        want = plain.decide("t", "d", facts).result
        assert indexed.decide("t", "d", facts).result == want, facts
        assert indexed.decide("t", "d", facts, explain=True).result == want, facts


def test_explanation_lists_only_the_candidate_rules(build_engine: BuildEngine) -> None:
    rules = ["rules:", "  pick:", "    params: {item: Item}", "    rules:"]
    for i, product in enumerate(PRODUCTS):
        rules += [
            f"      - id: r{i}",
            f"        when: 'item.product == \"{product}\"'",
            f"        then: '{i}'",
        ]
    rules += ["      - id: big", "        when: item.seats > 5", "        then: '100'"]
    engine = build_engine(DECISION, types=TYPES, rules="\n".join(rules) + "\n")
    decision = engine.decide(
        "t", "d", {"item": {"product": "p3", "country": "US", "seats": 9}}, explain=True
    )
    assert decision.result == {"picked": [3, 100]}
    assert decision.explanation is not None
    assert [(e.rule, e.fired) for e in decision.explanation] == [("r3", True), ("big", True)]


def test_small_groups_are_not_indexed(example_engine: ruleengine.Engine) -> None:
    for version in example_engine.rulesets["example"].versions:
        assert "_IX_" not in version.compiled.source


SHARED_TYPES = "types:\n  Line:\n    fields: {product: string, price: decimal, day: date, tags: list<string>}\n"
SHARED_DECISION = "decisions:\n  d:\n    input: {line: Line}\n    output:\n      hits: pick(line)\n"


def _shared_rules(count: int) -> str:
    """Rules of three patterns that differ only in their literals (decimal, date, string,
    list, then-values): they share code objects, and must still decide one by one."""
    lines = ["rules:", "  pick:", "    params: {line: Line}", "    rules:"]
    for i in range(count):
        kind = i % 3
        if kind == 0:
            when = f'line.product == "p{i}" and line.price > {i}.5'
            then = f"line.price * {i % 7}"
        elif kind == 1:
            when = f'line.product == "p{i}" and line.day >= date("2026-0{1 + i % 9}-1{i % 10}")'
            then = f"{i}.25"
        else:
            when = f'line.product == "p{i}" and any(t in line.tags, t in ["a{i}", "b"])'
            then = f"{i % 5}"
        lines += [f"      - id: r{i}", f"        when: '{when}'", f"        then: '{then}'"]
    return "\n".join(lines) + "\n"


def test_rules_differing_in_literals_share_code_and_decide_alike(
    build_engine: BuildEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = _shared_rules(60)
    shared = build_engine(SHARED_DECISION, types=SHARED_TYPES, rules=rules)
    source = shared.rulesets["t"].versions[0].compiled.source
    assert source.count("def _shape") <= 4 and "def gr_pick_" not in source
    monkeypatch.setattr(indexing, "INDEX_MIN_RULES", 10**9)
    plain = build_engine(SHARED_DECISION, types=SHARED_TYPES, rules=rules)
    rng = random.Random(3)
    for _ in range(300):
        facts = {
            "as_of": "2026-01-01",
            "line": {
                "product": f"p{rng.randrange(70)}",
                "price": f"{rng.randrange(80)}.{rng.randrange(10)}",
                "day": f"2026-0{rng.randrange(1, 10)}-{rng.randrange(10, 29)}",
                "tags": rng.sample(["a1", "a5", "b", "c", f"a{rng.randrange(60)}"], 2),
            },
        }
        want = plain.decide("t", "d", facts).result
        assert shared.decide("t", "d", facts).result == want, facts
        assert shared.decide("t", "d", facts, explain=True).result == want, facts


def test_compiling_leaves_the_checked_program_as_it_was(build_engine: BuildEngine) -> None:
    # Index plans split conditions (`a == 1 and b and c` -> key 1, rest `b and c`): the
    # rest is a new node, whose type goes to the compiler's own overlay, never into the
    # checker's result.
    lines = ["rules:", "  pick:", "    params: {item: Item}", "    rules:"]
    for i, product in enumerate(PRODUCTS * 2):
        when = f'item.product == "{product}" and item.seats > {i} and item.country != "X"'
        lines += [f"      - id: r{i}", f"        when: '{when}'", f"        then: '\"r{i}\"'"]
    engine = build_engine(DECISION, types=TYPES, rules="\n".join(lines) + "\n")
    checked = engine.rulesets["t"].versions[0].compiled.checked
    before = dict(checked.types)
    again = compile_version(checked)
    assert "_IX_pick" in again.source
    # the rest, joined from the two conditions after the key test, is what each rule tests
    assert "if ((v_item['seats'] > _c1) and (v_item['country'] != _c2)) else _NO" in again.source
    assert checked.types == before
