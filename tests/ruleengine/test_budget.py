"""The runtime budget (runtime/budget.py): inputs too large for a decision's cost bound."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import ruleengine
from ruleengine.errors import InputError, InputProblem
from ruleengine.runtime.budget import UNREACHABLE, largest, largest_size, max_input_size

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
  named:
    input:
      xs: list<int>
      who: Person
      tags: {type: "map<string, int>", optional: true}
    output:
      v: sum(a in xs, sum(b in xs, a * b))
      name: who.name
types:
  Person:
    fields:
      name: {type: string, min_length: 1}
      born: date
"""


def test_max_input_size_inverts_the_cost_bound() -> None:
    assert max_input_size((7,)) is None  # constant: any input
    assert max_input_size((1, 5)) is None  # linear: beyond any request body
    assert max_input_size((0, 0, 1), 100) == 10
    assert max_input_size((1, 1, 1), 100) == 9  # 1 + 9 + 81 = 91; 1 + 10 + 100 = 111
    assert max_input_size((0, 1), UNREACHABLE * 2) is None


def test_largest_names_the_longest_value() -> None:
    assert largest({"a": [1, 2, {"b": "xxxxx"}], "c": "yy"}) == (5, "input.a[2].b")


@pytest.mark.parametrize(
    "value", [{"a": [1, 2, {"b": "xxxxx"}], "c": "yy"}, [[1] * 7, {"k": "abc"}], "four", 12, {}]
)
def test_largest_size_is_the_size_largest_finds(value: Any) -> None:
    """The server's inline-or-thread choice measures with `largest_size` (no paths)."""
    assert largest_size(value) == largest(value)[0]


def load(tmp_path: Path) -> ruleengine.Engine:
    version = tmp_path / "s" / "v1"
    version.mkdir(parents=True)
    (version / "manifest.yaml").write_text(MANIFEST)
    (version / "rules.yaml").write_text(RULES)
    return ruleengine.load(str(tmp_path))


def refusal(engine: ruleengine.Engine, decision: str, facts: dict[str, Any]) -> InputProblem:
    with pytest.raises(InputError) as caught:
        engine.decide("s", decision, facts)
    [problem] = caught.value.problems
    return problem


def test_an_input_too_large_for_the_bound_is_refused(tmp_path: Path) -> None:
    engine = load(tmp_path)
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


def named(name: str = "Ann", **changes: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "as_of": "2026-02-01",
        "xs": [1, 2],
        "who": {"name": name, "born": "1990-05-01"},
    }
    return facts | changes


def test_the_fast_path_refuses_what_the_budget_refuses(tmp_path: Path) -> None:
    """Plainly valid input is checked and decided by one generated function, which also
    keeps every text, list and map within the decision's limit: a value one over it,
    anywhere, is still refused as decision_budget_exceeded at its path."""
    engine = load(tmp_path)
    problem = refusal(engine, "named", named("x" * 100_000))
    assert (problem.code, problem.path) == ("decision_budget_exceeded", "input.who.name")
    found = re.search(r"at most ([\d,]+)", problem.message)
    assert found is not None
    limit = int(found.group(1).replace(",", ""))
    assert 1000 < limit < 100_000
    # At the limit: decided. One over, in a record's text, a list or a map: refused.
    assert engine.decide("s", "named", named("x" * limit)).result["name"] == "x" * limit
    assert refusal(engine, "named", named("x" * (limit + 1))).path == "input.who.name"
    assert refusal(engine, "named", named(xs=[0] * (limit + 1))).path == "input.xs"
    many = {f"k{i}": i for i in range(limit + 1)}
    assert refusal(engine, "named", named(tags=many)).path == "input.tags"
    fewer = {f"k{i}": i for i in range(limit)}
    assert engine.decide("s", "named", named(tags=fewer)).result["v"] == 9


def test_the_budget_is_checked_before_the_rest_of_the_input(tmp_path: Path) -> None:
    """An over-long value in an input that is also invalid elsewhere (or has unknown
    fields, which the fast path declines) is refused for its size alone, as before the
    fast path checked sizes."""
    engine = load(tmp_path)
    long = "x" * 100_000
    for facts in (
        named(long, xs="not a list"),
        named(long, extra=1),
        named(xs=[1], who={"name": "Ann", "born": "1990-05-01", "note": long}),
    ):
        assert refusal(engine, "named", facts).code == "decision_budget_exceeded"
    # Without the over-long value the same mistakes are input errors as usual.
    assert refusal(engine, "named", named(xs="not a list")).code == "type"


def test_the_runtime_budget_is_the_one_the_version_was_checked_with(tmp_path: Path) -> None:
    """`check --cost-limit` / `RULEENGINE_COST_LIMIT` govern the run time too: a lower step
    budget refuses, on the fast path and the slow one, an input the default budget decides."""
    default = load(tmp_path)
    lower = ruleengine.load(
        str(tmp_path), limits=ruleengine.Limits(max_steps=1_000_000, nominal_size=100)
    )
    facts = {"as_of": "2026-02-01", "xs": [1] * 2000}
    assert default.decide("s", "pairs", facts).result == {"v": 4_000_000}
    for decision, extra in (("pairs", {}), ("named", {"who": {"name": "x", "born": 1}})):
        with pytest.raises(InputError) as refused:
            lower.decide("s", decision, {**facts, **extra})
        [problem] = refused.value.problems
        assert (problem.code, problem.path) == ("decision_budget_exceeded", "input.xs")
        assert "1,000,000" in problem.message
