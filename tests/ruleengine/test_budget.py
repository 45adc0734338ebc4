"""The runtime budget (runtime/budget.py): inputs too large for a decision's cost bound."""

from __future__ import annotations

from pathlib import Path

import pytest

import ruleengine
from ruleengine.errors import InputError
from ruleengine.runtime.budget import UNREACHABLE, largest, max_input_size

MANIFEST = 'ruleset: s\nversion: "1"\neffective_from: 2026-01-01\nlocales: [en]\n'
RULES = """decisions:
  pairs:
    input:
      xs: list<int>
    output:
      v: sum(a in xs, sum(b in xs, a * b))
  total:
    input:
      xs: list<int>
    output:
      v: sum(a in xs, a)
"""


def test_max_input_size_inverts_the_cost_bound() -> None:
    assert max_input_size((7,)) is None  # constant: any input
    assert max_input_size((1, 5)) is None  # linear: beyond any request body
    assert max_input_size((0, 0, 1), 100) == 10
    assert max_input_size((1, 1, 1), 100) == 9  # 1 + 9 + 81 = 91; 1 + 10 + 100 = 111
    assert max_input_size((0, 1), UNREACHABLE * 2) is None


def test_largest_names_the_longest_value() -> None:
    assert largest({"a": [1, 2, {"b": "xxxxx"}], "c": "yy"}) == (5, "input.a[2].b")


def test_an_input_too_large_for_the_bound_is_refused(tmp_path: Path) -> None:
    version = tmp_path / "s" / "v1"
    version.mkdir(parents=True)
    (version / "manifest.yaml").write_text(MANIFEST)
    (version / "rules.yaml").write_text(RULES)
    engine = ruleengine.load(str(tmp_path))
    # pairs costs 5 n^2 + ... steps: at most 4,471 items within 100,000,000 steps.
    small = engine.decide("s", "pairs", {"as_of": "2026-02-01", "xs": [1, 2, 3]})
    assert small.result["v"] == 36
    with pytest.raises(InputError) as caught:
        engine.decide("s", "pairs", {"as_of": "2026-02-01", "xs": [1] * 5000})
    [problem] = caught.value.problems
    assert (problem.code, problem.path) == ("decision_budget_exceeded", "input.xs")
    assert "5,000 items" in problem.message and "at most 4,471" in problem.message
    # A linear decision takes the same list.
    assert engine.decide("s", "total", {"as_of": "2026-02-01", "xs": [1] * 5000}).result == {
        "v": 5000
    }
