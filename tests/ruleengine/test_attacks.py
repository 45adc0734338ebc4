"""Issue 12's attack round at run time (attack_cases.yaml): rule files `check` accepts,
decided on inputs that end within budget or with a clear error, never a hang or a 500
from an answer that cannot be written (an int over 4,300 digits)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import ruleengine
from ruleengine import DecisionBudgetError, InputError

MANIFEST = 'ruleset: s\nversion: "1"\neffective_from: 2026-01-01\nlocales: [en]\n'
CASES = yaml.safe_load((Path(__file__).parent / "attack_cases.yaml").read_text("utf-8"))["cases"]
RUNS = [(case, run) for case in CASES for run in case["decide"]]


def _input(spec: dict[str, Any]) -> dict[str, Any]:
    """The input of a run: `{repeat: v, times: n}` stands for v repeated n times,
    `{distinct_lists: n}` for [[0], [1], ... [n - 1]]."""
    out: dict[str, Any] = {"as_of": "2026-02-01"}
    for name, value in spec.items():
        if isinstance(value, dict) and set(value) == {"distinct_lists"}:
            value = [[i] for i in range(value["distinct_lists"])]
        if isinstance(value, dict) and set(value) == {"repeat", "times"}:
            value = (
                value["repeat"] * value["times"]
                if isinstance(value["repeat"], str)
                else ([value["repeat"]] * value["times"])
            )
        out[name] = value
    return out


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ruleengine.Engine]:
    found = {}
    for case in CASES:
        root = tmp_path_factory.mktemp("attack")
        version = root / "s" / "v1"
        version.mkdir(parents=True)
        (version / "manifest.yaml").write_text(MANIFEST)
        (version / "rules.yaml").write_text(case["rules"])
        found[case["name"]] = ruleengine.load(str(root))  # check accepts it
    return found


@pytest.mark.parametrize(
    ("case", "run"), RUNS, ids=[f"{c['name']}: {r['input']}"[:80] for c, r in RUNS]
)
def test_an_attack_ends_within_budget(
    case: dict[str, Any], run: dict[str, Any], engines: dict[str, ruleengine.Engine]
) -> None:
    engine, expect = engines[case["name"]], run["expect"]
    facts = _input(run["input"])
    if "input_error" in expect:
        with pytest.raises(InputError) as refused:
            engine.decide("s", "d", facts)
        [problem] = refused.value.problems
        assert (problem.code, problem.path) == (
            "decision_budget_exceeded",
            expect["input_error"]["path"],
        )
    elif "budget_error" in expect:
        with pytest.raises(DecisionBudgetError) as over:
            engine.decide("s", "d", facts)
        assert over.value.code == "decision_budget_exceeded"
        assert over.value.location is not None
        assert over.value.location.endswith(expect["budget_error"]["at"])
        assert over.value.what == expect["budget_error"]["what"]
        assert "ints may have at most 4,000" in str(over.value)
    else:
        result = engine.decide("s", "d", facts).result
        if "result" in expect:
            assert result == expect["result"]
        for name, digits in expect.get("digits", {}).items():
            assert len(str(abs(result[name]))) == digits


def test_the_explained_decision_has_the_same_budget(engines: dict[str, ruleengine.Engine]) -> None:
    engine = engines["int squared ten times"]
    with pytest.raises(DecisionBudgetError):
        engine.decide("s", "d", _input({"x": 9999999999}), explain=True)
    assert engine.decide("s", "d", _input({"x": 2}), explain=True).result["v"] == 2**1024
