"""Rule indexing: a group whose rules test one fact against literals dispatches
through a dict, and decides exactly as testing every rule in order would."""

from __future__ import annotations

import random

import pytest

import ruleengine
from ruleengine import compile as compile_module

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
    monkeypatch.setattr(compile_module, "INDEX_MIN_RULES", 10**9)
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
