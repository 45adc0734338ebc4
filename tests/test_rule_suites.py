"""Every regression case under rules/ runs as one pytest item: `make test` fails when a rule case fails.

Cases are collected from `rules/<ruleset>/tests/*.yaml` with the same loader as
`ruleengine test`, and each is decided by the same runner; a suite file that
cannot be read fails `test_suite_files_are_valid` with its positioned errors.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import ruleengine
from ruleengine.engine import Engine
from ruleengine.errors import Diagnostic, RuleFileError, render_diagnostics
from ruleengine.qa.runner import run_case
from ruleengine.suites import Case, SuiteSearch, find_suites, load_suites

# $RULEENGINE_TEST_RULES: another rules folder to test (tests/test_policy_as_data.py).
RULES = Path(
    os.environ.get("RULEENGINE_TEST_RULES") or Path(__file__).resolve().parent.parent / "rules"
)


def _collect() -> tuple[list[tuple[Engine, Case]], list[Diagnostic]]:
    """Each rule set with suites is loaded on its own, so one broken rule set fails only its cases."""
    by_owner: dict[Path, list[Path]] = {}
    for file, owner in find_suites(RULES).files:
        by_owner.setdefault(owner, []).append(file)
    found: list[tuple[Engine, Case]] = []
    problems: list[Diagnostic] = []
    for owner, files in sorted(by_owner.items()):
        try:
            engine = ruleengine.load(owner)
        except RuleFileError as exc:
            problems.extend(exc.diagnostics)
            continue
        versions = [v for rs in engine.rulesets.values() for v in rs.versions]
        suites, broken = load_suites(SuiteSearch(owner, tuple((f, owner) for f in files)), versions)
        problems.extend(broken)
        found.extend((engine, case) for suite in suites for case in suite.cases)
    return found, problems


CASES, PROBLEMS = _collect()


def test_suite_files_are_valid() -> None:
    assert not PROBLEMS, "\n" + render_diagnostics(PROBLEMS)


def test_rule_suites_exist() -> None:
    assert CASES, f"no regression case found under {RULES}"


@pytest.mark.parametrize(("engine", "case"), CASES, ids=[case.id for _, case in CASES])
def test_rule_case(engine: Engine, case: Case) -> None:
    outcome = run_case(engine, case)
    if outcome.status == "skipped":
        pytest.skip(outcome.headline)
    assert not outcome.failed, "\n".join([f"{case.location}: {case.name}", *outcome.details()])
