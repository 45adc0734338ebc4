"""Shared fixtures: the example rule set, loaded once, with a fixed clock."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import ruleengine

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
EXAMPLE = RULES / "example"
FIXED_TODAY = date(2026, 3, 15)


@pytest.fixture(scope="session")
def example_engine() -> ruleengine.Engine:
    """rules/example with a clock fixed at 2026-03-15 (version 2026-01 in effect)."""
    return ruleengine.load(EXAMPLE, clock=lambda: FIXED_TODAY)
