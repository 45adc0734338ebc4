"""The limit options of `check` and `serve` (cli/limits.py): `check` refuses at the
place that crosses a limit; `serve` hands the limits to its workers' environment."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ruleengine import Limits
from ruleengine.cli import app

VERSION = Path(__file__).resolve().parents[3] / "rules" / "example" / "2026-01"


@pytest.fixture
def version(tmp_path: Path) -> Path:
    target = tmp_path / "example" / "2026-01"
    shutil.copytree(VERSION, target)
    return target


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--cost-limit", "1000"], "decisions.yaml:14:35: error[cost_limit]"),
        (["--cost-limit", "5000", "--cost-nominal-size", "10"], None),
        (["--max-version-rows", "14"], "tables.yaml:16:9: error[version_too_large]"),
        (["--max-version-rules", "3"], "rules.yaml:27:9: error[version_too_large]"),
        (["--max-version-bytes", "3000"], "rules.yaml:15:90: error[version_too_large]"),
    ],
)
def test_check_takes_the_limits(version: Path, options: list[str], expected: str | None) -> None:
    result = CliRunner().invoke(app, ["check", str(version), *options])
    if expected is None:
        assert result.exit_code == 0, result.stdout
        assert result.stdout.startswith("ok: 1 rule set(s)")
    else:
        assert result.exit_code == 1
        assert expected in result.stdout.splitlines()[0]


def test_check_reads_the_environment_under_its_options(
    version: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RULEENGINE_MAX_VERSION_RULES", "3")
    refused = CliRunner().invoke(app, ["check", str(version)])
    assert refused.exit_code == 1 and "error[version_too_large]" in refused.stdout
    assert (
        CliRunner().invoke(app, ["check", str(version), "--max-version-rules", "5"]).exit_code == 0
    )
    monkeypatch.setenv("RULEENGINE_MAX_VERSION_RULES", "many")
    bad = CliRunner().invoke(app, ["check", str(version)])
    assert bad.exit_code == 2
    assert "RULEENGINE_MAX_VERSION_RULES='many' is not a whole number" in bad.output


def test_serve_hands_the_limits_to_every_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from ruleengine.cli import serve

    names = list(Limits.ENVIRONMENT.values())
    for name in (*names, "RULEENGINE_RULES", "RULEENGINE_WATCH", "RULEENGINE_LOG_LEVEL"):
        monkeypatch.setenv(name, "")  # restored after the test
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: seen.update(os.environ))
    serve.command(cost_limit=1000, max_version_rows=14)
    assert Limits.from_environment(seen) == Limits(max_steps=1000, max_version_rows=14)
