"""`ruleengine analyze` and `ruleengine diff --symbolic` on the command line: positioned
findings, JSON, exit codes, and bad input answered with a message, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ruleengine.cli import app

ROOT = Path(__file__).resolve().parents[3]
CASES = ROOT / "tests" / "ruleengine" / "analysis" / "cases"
BROKEN = ROOT / "tests" / "ruleengine" / "broken" / "type_mismatch_compare"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_findings_are_printed_at_their_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES / "shadowed_and_overlap")
    code, out, _ = _run("analyze", ".")
    assert code == 1  # warnings
    assert out.startswith("v1/rules.yaml:17:15: warning[rule_shadowed]: rule 'platinum'")
    assert "  17 |         when: order.total >= 200" in out
    assert "note: rule 'gold' is here: v1/rules.yaml:13:9" in out
    assert 'example input: {"order": {"total": ' in out


def test_json_report(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES / "table_gaps")
    code, out, _ = _run("analyze", ".", "--format", "json")
    assert code == 1
    data = json.loads(out)
    [version] = data["versions"]
    assert [(f["code"], f["line"], f["column"]) for f in version["findings"]] == [
        ("table_gap_default", 25, 12),
        ("table_gap", 26, 15),
    ]
    assert data["errors"] == []


def test_notes_only_exit_zero_and_clean_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES / "clean")
    code, out, _ = _run("analyze", ".")
    assert code == 0
    assert out.startswith("clean 1: no problems found; analysed 1 rule(s)")


def test_not_analysed_is_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES / "not_analysed")
    code, out, _ = _run("analyze", ".")
    assert code == 0
    assert "no problems" not in out
    assert "not analysed: rule lower_case (v1/rules.yaml:13:15): the function lower()" in out


def test_broken_rules_give_positioned_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(BROKEN / "v1", tmp_path / "v1")
    shutil.copytree(CASES / "clean" / "v1", tmp_path / "clean")
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("analyze", ".")
    assert code == 1
    assert "v1/rules.yaml:33:16: error[type_mismatch]" in err
    assert "Traceback" not in out + err
    assert "clean 1: no problems found" in out  # the good version is still analysed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "no/such/folder"], "no/such/folder: no such file or folder"),
        (["analyze", "rules", "--ruleset", "self-servce"], "did you mean 'self-service'?"),
        (["analyze", "rules", "--ruleset", "example", "--version", "2027"], "unknown version"),
        (["analyze", "rules", "--format", "xml"], "--format 'xml': expected text or json"),
        (["diff", "example", "--from", "2026-01", "--to", "2099", "--symbolic"], "unknown version"),
        (["diff", "example", "--from", "2026-01", "--to", "2026-07"], "--inputs is required"),
    ],
)
def test_usage_errors(args: list[str], message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = _run(*args)
    assert code == 2
    assert message in err
    assert "Traceback" not in out + err


def test_symbolic_diff_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = _run(
        "diff",
        "example",
        "--from",
        "2026-01",
        "--to",
        "2026-07",
        "--symbolic",
        "--decision",
        "checkout",
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    [decision] = data["decisions"]
    assert decision["decision"] == "checkout"
    assert {f["field"]: f["status"] for f in decision["fields"]} == {
        "allowed": "differs",
        "reasons": "differs",
        "remedy": "differs",
        "messages": "differs",
    }
    assert decision["fields"][0]["witnesses"][0]["input"]["customer"]["country"] == "ES"
