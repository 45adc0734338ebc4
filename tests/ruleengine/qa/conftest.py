"""Fixtures for the QA tooling tests: a private copy of rules/example to break at will."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

EXAMPLE = Path(__file__).resolve().parents[3] / "rules" / "example"


@pytest.fixture
def rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp/rules/example (both versions, no suites), with the working directory at tmp."""
    target = tmp_path / "rules" / "example"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("tests", "versions.lock"))
    (target / "tests").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path / "rules"


@pytest.fixture
def suite(rules: Path) -> Callable[[str, str], Path]:
    """Write a suite file into rules/example/tests/."""

    def write(text: str, name: str = "cases.yaml") -> Path:
        path = rules / "example" / "tests" / name
        path.write_text(text, "utf-8")
        return path

    return write


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()
