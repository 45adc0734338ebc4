"""`analyze`: the logic findings of small rule sets, one mistake class per case.

Each folder under `cases/` holds one version (`v1/`) and `expect.yaml`: every
finding the analysis must report (code, file relative to the case, line,
column), what it must list as not analysed, and whether the report may say
"no problems found". An example input given for a decision-level finding must
be one the engine accepts; one given for a rule group names its parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import ruleengine
from ruleengine.analysis import analyse_version
from ruleengine.analysis.findings import CODES, Analysis
from ruleengine.analysis.program import checked_program
from ruleengine.analysis.report import render_text, to_json
from ruleengine.engine import Version, load_versions

CASES_DIR = Path(__file__).parent / "cases"
CASES = sorted(p for p in CASES_DIR.iterdir() if (p / "expect.yaml").is_file())
DECISION_LEVEL = {
    "condition_always_true",
    "condition_always_false",
    "table_gap",
    "table_gap_default",
}


def _spec(case: Path) -> dict[str, Any]:
    spec = yaml.safe_load((case / "expect.yaml").read_text("utf-8"))
    assert spec.get("note"), f"{case.name}: expect.yaml needs a note saying what is wrong"
    return spec


def _analyse(case: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Version, Analysis]:
    monkeypatch.chdir(case)
    [version] = list(load_versions("."))
    assert isinstance(version, Version), version
    return version, analyse_version(checked_program(version))


def test_cases_cover_every_finding_code() -> None:
    shown = {f["code"] for case in CASES for f in _spec(case)["findings"]}
    assert shown == set(CODES)
    assert {_spec(c).get("clean", False) for c in CASES} == {True, False}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_findings(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec(case)
    version, analysis = _analyse(case, monkeypatch)
    got = [
        {
            "code": f.code,
            "file": f.location.file,
            "line": f.location.line,
            "column": f.location.column,
        }
        for f in analysis.findings
    ]
    want = [{k: item[k] for k in ("code", "file", "line", "column")} for item in spec["findings"]]
    assert got == want
    for finding, item in zip(analysis.findings, spec["findings"], strict=True):
        if "note_line" in item:
            assert [loc.line for _, loc in finding.notes] == [item["note_line"]]
        if "message_has" in item:
            assert item["message_has"] in finding.message
        if item.get("example"):
            assert finding.example, f"{finding.code} at {finding.location} has no example"
        if finding.example and finding.code in DECISION_LEVEL:
            _decides(version, finding.example)
    missing = [
        {
            "what": n.what,
            "file": n.location.file,
            "line": n.location.line,
            "column": n.location.column,
        }
        for n in analysis.not_analysed
    ]
    assert missing == spec.get("not_analysed", [])


def _decides(version: Version, example: dict[str, Any]) -> None:
    """The example is a valid input of some decision of the version (the engine decides it)."""
    engine = ruleengine.load(".")
    accepted = []
    for name in version.decisions:
        try:
            engine.decide(version.ruleset, name, example, version=version.version)
            accepted.append(name)
        except ruleengine.RuleEngineError:
            continue
    assert accepted, f"no decision accepts the example {example}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_report_never_claims_a_clean_bill_it_has_not_earned(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _spec(case)
    _, analysis = _analyse(case, monkeypatch)
    text = render_text([analysis])
    assert ("no problems found" in text) == bool(spec.get("clean"))
    if analysis.not_analysed:
        assert "not analysed:" in text
    data = to_json([analysis])["versions"][0]
    assert [f["code"] for f in data["findings"]] == [f.code for f in analysis.findings]
    assert len(data["not_analysed"]) == len(analysis.not_analysed)


REFERENCE = yaml.safe_load((Path(__file__).parent / "reference_analysis.yaml").read_text("utf-8"))
ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("case", REFERENCE, ids=[c["version"] for c in REFERENCE])
def test_reference_policy(case: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    engine = ruleengine.load("rules")
    version = engine.ruleset(case["ruleset"]).get(case["version"])
    assert version is not None
    analysis = analyse_version(checked_program(version))
    assert analysis.not_analysed == []
    warnings = []
    for f in analysis.findings:
        if f.severity != "warning":
            continue
        line = Path(f.location.file).read_text("utf-8").splitlines()[f.location.line - 1]
        text = line[f.location.column - 1 :]
        warnings.append((f.code, Path(f.location.file).name, text))
    assert len(warnings) == len(case["warnings"])
    for (code, name, text), want in zip(warnings, case["warnings"], strict=True):
        assert (code, name) == (want["code"], want["file"])
        assert text.startswith(want["text"])
    for f in analysis.findings:  # every example input is one the engine decides
        if f.example and f.code in DECISION_LEVEL:
            accepted = 0
            for name in version.decisions:
                try:
                    engine.decide(case["ruleset"], name, f.example, version=case["version"])
                    accepted += 1
                except ruleengine.RuleEngineError:
                    pass
            assert accepted, f.example
