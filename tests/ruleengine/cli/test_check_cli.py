"""`ruleengine check` writes its whole report, diagnostics and summary, to stdout
(docs/rules.md): `ruleengine check > report.txt` keeps all of it, in order."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from ruleengine.cli import app

EXAMPLE = Path(__file__).resolve().parents[3] / "rules" / "example"


def test_diagnostics_and_summary_share_stdout(tmp_path: Path) -> None:
    rules = tmp_path / "example"
    shutil.copytree(EXAMPLE, rules, ignore=shutil.ignore_patterns("tests", "versions.lock"))
    rule_file = rules / "2026-01" / "rules.yaml"
    text = rule_file.read_text("utf-8")
    assert "customer.country" in text
    rule_file.write_text(text.replace("customer.country", "customer.contry", 1), "utf-8")

    result = CliRunner().invoke(app, ["check", str(rules)])

    assert result.exit_code == 1
    assert result.stderr == ""
    lines = result.stdout.rstrip("\n").splitlines()
    assert "error[unknown_field]" in lines[0]
    assert lines[-1] == "1 error in 1 file"


def test_a_clean_check_reports_on_stdout_only() -> None:
    result = CliRunner().invoke(app, ["check", str(EXAMPLE)])
    assert result.exit_code == 0, result.stdout
    assert result.stderr == ""
    assert result.stdout.startswith("ok: 1 rule set(s)")
