"""`ruleengine bundle`: writes a checked bundle, or prints the diagnostics and writes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ruleengine.bundle import build_bundle, extract_bundle
from ruleengine.cli import app

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "rules"


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_bundle_writes_the_file_and_says_so(tmp_path: Path) -> None:
    output = tmp_path / "rules.tar.gz"
    result = run("bundle", str(RULES), "-o", str(output))
    assert result.exit_code == 0, result.output
    data = output.read_bytes()
    expected, index = build_bundle(RULES)
    assert data == expected
    assert result.stdout == (
        f"wrote {output}: 2 rule sets, 4 versions, {len(index.files)} files, {index.digest}\n"
    )
    assert extract_bundle(data, tmp_path / "out", str(output)) == index
    # The temporary file was renamed into place, not left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "rules.tar.gz"]


def test_bundle_replaces_an_existing_file(tmp_path: Path) -> None:
    output = tmp_path / "rules.tar.gz"
    output.write_bytes(b"old")
    example = tmp_path / "rules"
    shutil.copytree(RULES / "example", example / "example")
    result = run("bundle", str(example), "--output", str(output))
    assert result.exit_code == 0, result.output
    assert "1 rule set, 2 versions" in result.stdout
    assert output.read_bytes() == build_bundle(example)[0]


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(RULES / "example", rules / "example")
    rules_file = rules / "example" / "2026-01" / "rules.yaml"
    text = rules_file.read_text("utf-8")
    rules_file.write_text(text.replace("customer.email_verified", "customer.email_verifed"))
    return rules


def test_broken_rules_print_what_check_prints_and_write_nothing(
    broken: Path, tmp_path: Path
) -> None:
    output = tmp_path / "rules.tar.gz"
    result = run("bundle", str(broken), "-o", str(output))
    assert result.exit_code == 1
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rules"]
    check = run("check", str(broken))
    assert check.exit_code == 1
    assert result.stdout == check.stdout
    assert result.stderr == check.stderr
    assert "error[" in result.stdout
    assert "rules.yaml:" in result.stdout
    assert "email_verifed" in result.stdout


def test_an_unwritable_output_exits_1(tmp_path: Path) -> None:
    output = tmp_path / "no-such-folder" / "rules.tar.gz"
    result = run("bundle", str(RULES), "-o", str(output))
    assert result.exit_code == 1
    assert "cannot write" in result.stderr
    assert not output.parent.exists()


def test_the_output_is_required() -> None:
    result = run("bundle", str(RULES))
    assert result.exit_code == 2
    assert "--output" in result.output
