"""Shared fixtures: the example rule set, loaded once, with a fixed clock; and the
hypothesis profiles.

Hypothesis profiles, chosen by the environment variable HYPOTHESIS_PROFILE:

- `ci` (the default: `make test`, CI): every property test runs its full count;
- `dev` (`make test-fast`): a tenth of the examples, for a quick development loop.

A property test states its full count through `examples(n)`, which scales it to the profile.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from hypothesis import settings

import ruleengine

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
EXAMPLE = RULES / "example"
FIXED_TODAY = date(2026, 3, 15)

CI_EXAMPLES = 100  # hypothesis' own default
settings.register_profile("ci", max_examples=CI_EXAMPLES, print_blob=True)
settings.register_profile("dev", max_examples=CI_EXAMPLES // 10)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def examples(full: int) -> int:
    """A property test's example count under the loaded profile (`full` under `ci`)."""
    return max(5, full * settings.default.max_examples // CI_EXAMPLES)


@pytest.fixture(scope="session")
def example_engine() -> ruleengine.Engine:
    """rules/example with a clock fixed at 2026-03-15 (version 2026-01 in effect)."""
    return ruleengine.load(EXAMPLE, clock=lambda: FIXED_TODAY)
