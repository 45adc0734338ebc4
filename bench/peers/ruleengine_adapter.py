"""ruleengine through its public Python API, with its defaults.

`engine.decide("self-service", "options", facts).result`: the version in effect
on `as_of` is picked, the input is validated (on by default, complete), and the
compiled decision runs. Nothing is cached across calls by the harness.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ruleengine

from . import ROOT

RULES = ROOT / "rules" / "self-service"


def engine() -> ruleengine.Engine:
    # The clock only matters without as_of; every benchmark case carries one.
    return ruleengine.load(RULES, clock=lambda: date(2026, 11, 26))


def load() -> Any:
    decide = engine().decide

    def options(facts: dict[str, Any]) -> dict[str, Any]:
        return decide("self-service", "options", facts).result

    return options


def load_explain() -> Any:
    decide = engine().decide

    def options(facts: dict[str, Any]) -> dict[str, Any]:
        return decide("self-service", "options", facts, explain=True).result

    return options
