"""compiler/probes.py: the coverage copy of a program counts every expression branch
(cases in probe_cases.yaml, on the rule set in branches/), and no other copy has probes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import ruleengine
from ruleengine import InputError, ProbedProgram

HERE = Path(__file__).resolve().parent
CASES = yaml.safe_load((HERE / "probe_cases.yaml").read_text("utf-8"))
ROOT = HERE.parents[2]


@pytest.fixture(scope="module")
def engine() -> ruleengine.Engine:
    return ruleengine.load(HERE / "branches")


def _name(site: ruleengine.BranchSite) -> str:
    return f"{site.owner} @ {site.line}:{site.column}"


def test_every_branch_site_is_found_with_its_place(engine: ruleengine.Engine) -> None:
    program = engine.ruleset("branches").versions[0].probed()
    found = sorted(
        (s.kind, s.owner, f"{Path(s.file).name}:{s.line}:{s.column}", s.text) for s in program.sites
    )
    wanted = sorted((s["kind"], s["owner"], s["at"], s["text"]) for s in CASES["sites"])
    assert found == wanted
    assert {Path(s.file).parent.name for s in program.sites} == {"2026-01"}


def _decide(engine: ruleengine.Engine, program: ProbedProgram, facts: dict[str, Any]) -> Any:
    return engine.decide_traced(
        "branches", "classify", {"as_of": "2026-03-01", **facts}, probed=lambda v: program
    )


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["name"])
def test_one_decision_counts_each_outcome_it_took(
    engine: ruleengine.Engine, case: dict[str, Any]
) -> None:
    program = engine.ruleset("branches").versions[0].probed()
    try:
        decision, _ = _decide(engine, program, case["input"])
    except InputError:
        decision = None
    else:  # the probed copy decides as production does
        plain = engine.decide("branches", "classify", {"as_of": "2026-03-01", **case["input"]})
        assert decision.result == plain.result
    counts = {_name(s): list(program.counts(i)) for i, s in enumerate(program.sites)}
    expected = {name: case["counts"].get(name, [0, 0]) for name in counts}
    assert counts == expected
    assert set(case["counts"]) <= set(counts)


def test_counts_add_up_over_decisions(engine: ruleengine.Engine) -> None:
    program = engine.ruleset("branches").versions[0].probed()
    for case in CASES["cases"][:2]:
        _decide(engine, program, case["input"])
    size = next(i for i, s in enumerate(program.sites) if s.owner == "function size")
    assert program.counts(size) == (2, 2)
    # each probed() is a new program with its own counters
    assert engine.ruleset("branches").versions[0].probed().counts(size) == (0, 0)


@pytest.mark.parametrize("ruleset", ["example", "self-service"])
def test_production_and_explain_programs_have_no_probes(ruleset: str) -> None:
    engine = ruleengine.load(ROOT / "rules" / ruleset)
    for version in engine.ruleset(ruleset).versions:
        assert version.probed().sites  # the reference rules have branches to probe
        for traced in (False, True):
            listing = version.listing(traced=traced)
            assert "_probe" not in listing
            assert "def d_" in listing


def test_a_table_gets_no_empty_list_probe() -> None:
    """Whether a table is empty never changes: only the quantifier's result is probed
    (promotions is an empty table in 2026-11 and has a row in 2026-12)."""
    ruleset = ruleengine.load(ROOT / "rules" / "self-service").ruleset("self-service")
    for version in ruleset.versions:
        sites = version.probed().sites
        promotion = [s.kind for s in sites if s.owner == "function promotion_percent"]
        assert promotion == ["first"]
