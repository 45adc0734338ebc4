"""Input field patterns are a safe subset of `re` (ruleengine.patterns; issue 12)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ruleengine.errors import RuleFileError
from ruleengine.loader import parse_document
from ruleengine.patterns import MAX_NESTING, pattern_problem
from ruleengine.validate import validate_version

CASES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "pattern_cases.yaml").read_text("utf-8")
)
MANIFEST = "ruleset: s\nversion: '1'\neffective_from: 2026-01-01\n"


@pytest.mark.parametrize("pattern", CASES["accepted"])
def test_safe_patterns_are_accepted(pattern: str) -> None:
    assert pattern_problem(pattern) is None
    re.compile(pattern)


@pytest.mark.parametrize("case", CASES["refused"], ids=lambda c: c["pattern"])
def test_unsafe_patterns_are_refused(case: dict[str, str]) -> None:
    problem = pattern_problem(case["pattern"])
    assert problem is not None
    assert (problem.code, problem.message[: len(case["message"])]) == (
        case["code"],
        case["message"],
    )


def test_a_thousand_nested_groups_is_an_error_not_a_traceback() -> None:
    problem = pattern_problem("(" * 1000 + "a" + ")" * 1000)
    assert problem is not None and problem.code == "unsafe_pattern"
    assert problem.message == f"groups nested 1000 deep (at most {MAX_NESTING})"
    # Parentheses inside a character class or escaped are not groups.
    assert pattern_problem("[(]" * 50 + r"\(" * 50) is None


def _problems(pattern: str) -> list[tuple[str, int, int, str]]:
    rules = f"types:\n  T:\n    fields:\n      code: {{type: string, pattern: '{pattern}'}}\n"
    docs = [parse_document(rules, "v/rules.yaml")]
    model = validate_version(parse_document(MANIFEST, "v/manifest.yaml"), docs, "v")
    found = RuleFileError(model.problems).diagnostics
    return [(d.code, d.line, d.column, d.message) for d in found]


def test_check_reports_the_pattern_with_its_position() -> None:
    [(code, line, column, message)] = _problems("a{4294967296}")
    assert (code, line, column) == ("unsafe_pattern", 4, 37)
    assert message.startswith("the pattern cannot be compiled")
    [(code, line, column, _m)] = _problems("(a+)+")
    assert (code, line, column) == ("unsafe_pattern", 4, 37)
