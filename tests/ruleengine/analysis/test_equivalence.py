"""`diff --symbolic`: per decision and output field, a proof of equivalence or a witness.

The expected differences are data (`symbolic_cases.yaml`). Every witness is
decided here again with the engine, under both versions: it must be a valid
input for both, and the two answers must really differ on the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import ruleengine
from ruleengine.analysis import symbolic_diff
from ruleengine.analysis.diff_report import render_text, to_json
from ruleengine.analysis.equivalence import DIFFERS, EQUIVALENT, NOT_PROVED, SymbolicDiff
from ruleengine.analysis.program import checked_program

ROOT = Path(__file__).resolve().parents[3]
CASES = yaml.safe_load((Path(__file__).parent / "symbolic_cases.yaml").read_text("utf-8"))
_CACHE: dict[tuple[str, str, str], tuple[ruleengine.Engine, SymbolicDiff]] = {}


def _diff(ruleset: str, old: str, new: str, rules: Path = ROOT / "rules") -> Any:
    key = (str(rules), old, new)
    if key not in _CACHE:
        engine = ruleengine.load(rules)
        versions = engine.ruleset(ruleset)

        def side(label: str) -> Any:
            return lambda name, data: engine.decide(ruleset, name, data, version=label).result

        result = symbolic_diff(
            ruleset,
            old,
            new,
            checked_program(versions.get(old)),  # type: ignore[arg-type]
            checked_program(versions.get(new)),  # type: ignore[arg-type]
            side(old),
            side(new),
        )
        _CACHE[key] = (engine, result)
    return _CACHE[key]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['from']}-{c['to']}" for c in CASES])
def test_fields_that_differ_and_the_rest_proved_equivalent(case: dict[str, Any]) -> None:
    _, result = _diff(case["ruleset"], case["from"], case["to"])
    differs = {d.name: [f.field for f in d.fields if f.status == DIFFERS] for d in result.decisions}
    assert differs == case["differs"]
    for d in result.decisions:
        for f in d.fields:
            assert f.status in (DIFFERS, EQUIVALENT), (d.name, f.field, f.reason)
            if f.status == DIFFERS:
                assert f.witnesses, (d.name, f.field)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['from']}-{c['to']}" for c in CASES])
def test_every_witness_is_valid_and_decided_differently(case: dict[str, Any]) -> None:
    engine, result = _diff(case["ruleset"], case["from"], case["to"])
    for d in result.decisions:
        for f in d.fields:
            for w in f.witnesses:
                old = engine.decide(case["ruleset"], d.name, w.input, version=case["from"])
                new = engine.decide(case["ruleset"], d.name, w.input, version=case["to"])
                assert old.result[f.field] != new.result[f.field], (d.name, f.field, w.input)
                assert (old.result[f.field], new.result[f.field]) == (w.old, w.new)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['from']}-{c['to']}" for c in CASES])
def test_a_change_with_a_second_cause_gets_its_own_witness(case: dict[str, Any]) -> None:
    _, result = _diff(case["ruleset"], case["from"], case["to"])
    fields = {(d.name, f.field): f for d in result.decisions for f in d.fields}
    for decision, wanted in (case.get("separate_cause") or {}).items():
        for field_name, unchanged in wanted.items():
            witnesses = fields[(decision, field_name)].witnesses
            assert any(unchanged not in w.also for w in witnesses), (decision, field_name)


def test_report_says_proved_or_differs_for_every_decision() -> None:
    _, result = _diff("self-service", "2026-11", "2026-12")
    text = render_text(result)
    assert "align_dates: equivalent (proved for input lists up to 3 items)" in text
    assert "  per_seat: equivalent (proved)" in text
    assert "  new_purchase_per_seat: differs" in text
    assert text.rstrip().endswith("4 decision(s): 3 differ, 1 equivalent (proved), 0 not proved")
    data = to_json(result)
    assert [d["status"] for d in data["decisions"]] == [DIFFERS, DIFFERS, DIFFERS, EQUIVALENT]


def test_what_cannot_be_translated_is_not_proved(tmp_path: Path) -> None:
    """lower() has no z3 translation: a changed rule using it is never called equivalent."""
    case = Path(__file__).parent / "cases" / "not_analysed" / "v1"
    for label, where in (("1", "2026-01-01"), ("2", "2026-02-01")):
        target = tmp_path / "not_analysed" / label
        target.mkdir(parents=True)
        text = (case / "rules.yaml").read_text("utf-8")
        if label == "2":
            text = text.replace("== order.country", '== "us"')
        (target / "rules.yaml").write_text(text, "utf-8")
        manifest = (case / "manifest.yaml").read_text("utf-8")
        manifest = manifest.replace('version: "1"', f'version: "{label}"')
        manifest = manifest.replace("effective_from: 2026-01-01", f"effective_from: {where}")
        (target / "manifest.yaml").write_text(manifest, "utf-8")
    _, result = _diff("not_analysed", "1", "2", tmp_path)
    [decision] = result.decisions
    assert decision.status == NOT_PROVED
    assert [(f.field, f.status) for f in decision.fields] == [("reasons", NOT_PROVED)]
    assert "lower()" in (decision.fields[0].reason or "")
