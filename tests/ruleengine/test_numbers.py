"""The one way numbers are written (numbers.py): what is refused, and the fix offered."""

from __future__ import annotations

import pytest

from ruleengine.numbers import number_fix, number_hint

CASES = [
    (".02", "0.02"),
    ("-.5", "-0.5"),
    ("5.", "5.0"),
    ("1e2", "100"),
    ("1.5e3", "1500"),
    ("1e-2", "0.01"),
    ("1_000", "1000"),
    ("1_000.5", "1000.5"),
    ("+5", "5"),
    ("007", "7"),
    ("00.5", "0.5"),
    ("0x1f", "31"),
    ("0o17", "15"),
]
WRITTEN_ONE_WAY_OR_NO_NUMBER = [
    "0",
    "12",
    "-3",
    "0.5",
    "-0.50",
    "755.00",
    "1:30",
    "2026-01-01",
    "abc",
]


@pytest.mark.parametrize(("text", "fix"), CASES)
def test_a_number_written_another_way_gets_its_fix(text: str, fix: str) -> None:
    assert number_fix(text) == fix


@pytest.mark.parametrize("text", WRITTEN_ONE_WAY_OR_NO_NUMBER)
def test_numbers_written_one_way_and_text_are_left_alone(text: str) -> None:
    assert number_fix(text) is None


def test_the_hint_names_the_yaml_habit() -> None:
    assert number_hint("010", "10") == (
        "write 10 (a leading 0 is not octal here, as it was in YAML 1.1)"
    )
    assert number_hint("0x1f", "31") == "write 31 (numbers are written in decimal)"
    assert number_hint(".5", "0.5") == "write 0.5"
