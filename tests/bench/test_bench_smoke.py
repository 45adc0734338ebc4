"""Smoke run of the benchmark's agreement check: ruleengine against the hand-written floor.

Correctness only (no timing, no peer engines): the `options` decision of
rules/self-service on 200 random cases from the benchmark's own generator.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import harness  # noqa: E402
from cases import fresh, options_cases  # noqa: E402
from peers import floor, ruleengine_adapter  # noqa: E402

CASES = options_cases(200, seed=7)


@pytest.fixture(scope="module")
def engine() -> Any:
    return ruleengine_adapter.engine()


@pytest.fixture(scope="module")
def expected(engine: Any) -> list[Any]:
    return [engine.decide("self-service", "options", fresh(c)).result for c in CASES]


def test_floor_agrees_with_ruleengine(expected: list[Any]) -> None:
    wrong, examples = harness.disagreements(floor.load(), expected, CASES)
    assert wrong == 0, examples


def test_explain_gives_the_same_result(engine: Any, expected: list[Any]) -> None:
    def explained(facts: dict[str, Any]) -> Any:
        return engine.decide("self-service", "options", facts, explain=True).result

    assert harness.disagreements(explained, expected, CASES) == (0, [])


def test_cases_reach_every_reason(expected: list[Any]) -> None:
    """The generator reaches every reason code of the options decision (else the check is weak)."""
    seen = {code for result in expected for option in result.values() for code in option["reasons"]}
    assert seen == set(floor.MESSAGES)


def test_timing_passes_decide_fresh_copies_within_their_bounds() -> None:
    # time_passes: at least one pass, at most `most`, every pass over new copies (the
    # engine never sees a dict twice), until the CPU budget is spent.
    seen: list[int] = []

    def decide(facts: dict[str, Any]) -> Any:
        seen.append(id(facts))
        return floor.options(facts)

    one = harness.time_passes(decide, CASES, 50, budget=0.0)
    assert len(one) == 1 and len(seen) == 50
    seen.clear()
    many = harness.time_passes(decide, CASES, 50, budget=60.0, most=4)
    assert len(many) == 4 and len(seen) == 200
    assert all(cpu >= 0 and wall > 0 for cpu, wall in many)
    assert all(len(set(seen[i : i + 50])) == 50 for i in range(0, 200, 50))
    assert not set(seen) & {id(c) for c in CASES}  # copies, never the cases themselves
