"""The static cost bound (checker/cost.py): polynomials in the input size, refused over a limit."""

from __future__ import annotations

from pathlib import Path

import pytest

import ruleengine
from ruleengine.checker import CheckedVersion, CostLimits, check_version
from ruleengine.checker.cost import add, at, biggest, times
from ruleengine.errors import RuleFileError
from ruleengine.loader import parse_document
from ruleengine.validate import validate_version

MANIFEST = 'ruleset: s\nversion: "1"\neffective_from: 2026-01-01\nlocales: [en]\n'
RULES = Path(__file__).parents[3] / "rules"


def _check(rules: str, limits: CostLimits | None = None) -> CheckedVersion:
    docs = [parse_document(rules, "rules.yaml")]
    model = validate_version(parse_document(MANIFEST, "manifest.yaml"), docs, ".")
    return check_version(model, limits)


def _decision(output: str, inputs: str = "xs: list<int>") -> str:
    name, type_ = inputs.split(": ", 1)
    return f"decisions:\n  d:\n    input:\n      {name}: {type_}\n    output:\n      v: {output}\n"


def test_polynomials() -> None:
    assert add((1, 2), (3,)) == (4, 2)
    assert biggest((1, 5), (3,)) == (3, 5)
    assert times((1, 1), (1, 1)) == (1, 2, 1)
    assert at((1, 2, 3), 10) == 321


def test_the_cost_grows_with_quantifier_nesting() -> None:
    one = _check(_decision("sum(a in xs, a)")).costs["d"]
    two = _check(_decision("sum(a in xs, sum(b in xs, a * b))")).costs["d"]
    assert len(one) == 2 and one[1] > 0  # linear
    assert len(two) == 3 and two[2] > 0  # quadratic, under the limit


def test_a_declared_max_length_bounds_the_input() -> None:
    triple = "sum(a in xs, sum(b in xs, sum(c in xs, a + b + c)))"
    with pytest.raises(RuleFileError) as caught:
        _check(_decision(triple))
    assert [d.code for d in caught.value.diagnostics] == ["cost_limit"]
    bounded = _check(_decision(triple, "xs: {type: list<int>, max_length: 50}"))
    assert len(bounded.costs["d"]) == 1  # a constant: every size is bounded


def test_the_limit_is_configurable() -> None:
    pairs = _decision("sum(a in xs, sum(b in xs, a * b))")
    with pytest.raises(RuleFileError) as caught:
        _check(pairs, CostLimits(nominal_size=1000, max_steps=100_000))
    [found] = caught.value.diagnostics
    assert (found.code, found.line, found.column) == ("cost_limit", 6, 10)
    assert "grows like 5 x n^2" in found.message


def test_the_reference_rules_are_within_the_limit() -> None:
    for ruleset in ("example", "self-service"):
        for version in sorted(p for p in (RULES / ruleset).iterdir() if p.name[:2] == "20"):
            ruleengine.load(str(version))  # raises RuleFileError over the limit
