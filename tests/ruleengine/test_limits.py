"""Limits per version (limits.py, the loader's byte count) and the configurable cost
bound: limit_cases.yaml sets each limit on the worked example and names the place
that crosses it; `Limits.from_environment` is how `serve` hands them to workers."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

import ruleengine
from ruleengine import Limits, RuleFileError

VERSION = Path(__file__).resolve().parents[2] / "rules" / "example" / "2026-01"
CASES = yaml.safe_load((Path(__file__).parent / "limit_cases.yaml").read_text("utf-8"))["cases"]


@pytest.fixture(scope="module")
def version(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's 2026-01 version alone (no lock: a version of its own)."""
    target = tmp_path_factory.mktemp("limits") / "example" / "2026-01"
    shutil.copytree(VERSION, target)
    return target


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_a_limit_is_reported_where_it_is_crossed(case: dict[str, Any], version: Path) -> None:
    limits = Limits(**case["limits"])
    expect = case["expect"]
    if expect is None:
        assert ruleengine.load(version, limits=limits).ruleset("example")
        return
    with pytest.raises(RuleFileError) as refused:
        ruleengine.load(version, limits=limits)
    found = refused.value.diagnostics[0]
    assert (found.code, Path(found.file).name, found.line, found.column) == (
        expect["code"],
        expect["file"],
        expect["line"],
        expect["column"],
    )
    assert expect.get("message", "") in found.message
    assert {d.code for d in refused.value.diagnostics} == {expect["code"]}


def test_the_defaults_let_the_reference_rules_load() -> None:
    limits = Limits()
    assert (limits.max_steps, limits.nominal_size) == (100_000_000, 1000)
    assert limits.max_version_bytes == 8 * 1024 * 1024
    assert (limits.max_version_rows, limits.max_version_rules) == (50_000, 20_000)
    assert ruleengine.load(VERSION.parent, limits=limits).ruleset("example")


def test_the_environment_sets_the_limits_of_every_load(
    monkeypatch: pytest.MonkeyPatch, version: Path
) -> None:
    monkeypatch.setenv("RULEENGINE_MAX_VERSION_RULES", "3")
    with pytest.raises(RuleFileError) as refused:
        ruleengine.load(version)  # no limits given: the environment's
    assert refused.value.diagnostics[0].code == "version_too_large"
    assert ruleengine.load(version, limits=Limits()).ruleset("example")  # given: those


def test_limits_from_the_environment() -> None:
    env = {"RULEENGINE_COST_LIMIT": "1_000", "RULEENGINE_MAX_VERSION_ROWS": " "}
    assert Limits.from_environment(env) == Limits(max_steps=1000)
    assert Limits.from_environment({}) == Limits()
    assert Limits(max_steps=5, max_version_rows=9).to_environment() == {
        "RULEENGINE_COST_LIMIT": "5",
        "RULEENGINE_MAX_VERSION_ROWS": "9",
    }
    with pytest.raises(ValueError, match="RULEENGINE_MAX_VERSION_BYTES='8MB' is not a whole"):
        Limits.from_environment({"RULEENGINE_MAX_VERSION_BYTES": "8MB"})
    with pytest.raises(ValueError, match="RULEENGINE_COST_NOMINAL_SIZE='0' must be at least 1"):
        Limits.from_environment({"RULEENGINE_COST_NOMINAL_SIZE": "0"})
    with pytest.raises(ValueError, match="max_version_rules must be a positive number"):
        Limits(max_version_rules=0)


def test_a_cached_checked_version_is_reused_only_under_the_same_limits(
    tmp_path: Path, version: Path
) -> None:
    cache = tmp_path / "cache"
    assert ruleengine.load(version, limits=Limits(), compiled_cache=cache).ruleset("example")
    assert list(cache.glob("*.pickle"))  # written
    with pytest.raises(RuleFileError) as refused:
        ruleengine.load(version, limits=Limits(max_version_rules=3), compiled_cache=cache)
    assert refused.value.diagnostics[0].code == "version_too_large"
    with pytest.raises(RuleFileError) as refused:
        ruleengine.load(version, limits=Limits(max_steps=1000), compiled_cache=cache)
    assert refused.value.diagnostics[0].code == "cost_limit"
