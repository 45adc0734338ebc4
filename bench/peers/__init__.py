"""The engines the benchmark compares, each behind the same tiny adapter interface.

An adapter module has `load() -> decide`, where `decide(facts) -> result dict`
answers the `options` decision of rules/self-service with exactly the result
ruleengine gives (`{align_dates: OPT, add_seats: OPT, change_term: OPT}`).
`load()` does everything done once (reading and compiling the policy); it is
what "compile/load" times. The timed region is the `decide(facts)` call: facts
dict in, result dict out, with every conversion the peer needs.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
Decide = Callable[[dict[str, Any]], dict[str, Any]]

# name shown in the table -> (adapter module, attribute of its load function, what it needs)
ENGINES: dict[str, tuple[str, str, str]] = {
    "hand-written Python (floor)": ("peers.floor", "load", ""),
    "ruleengine decide()": ("peers.ruleengine_adapter", "load", "ruleengine"),
    "ruleengine decide(explain=True)": ("peers.ruleengine_adapter", "load_explain", "ruleengine"),
    "zen-engine, one expression node": ("peers.zen_adapter", "load_expression", "zen"),
    "zen-engine, decision table (collect)": ("peers.zen_adapter", "load_tables", "zen"),
    "zen-engine, compiled expression": ("peers.zen_adapter", "load_compiled", "zen"),
    "CEL (common-expression-language, Rust)": ("peers.cel_adapter", "load", "cel"),
    "OPA Go (opa-golib-python-bindings)": ("peers.rego_adapter", "load_opa_go", "opa_bindings"),
    "OPA rego-cpp (regopy)": ("peers.rego_adapter", "load_regopy", "regopy"),
}
# One valid case, for adapters that compile lazily (they decide it once at load time).
SAMPLE: dict[str, Any] = {
    "as_of": "2026-11-26",
    "account": {"country": "US"},
    "subscription": {
        "id": "S1",
        "product": "maya-lt",
        "plan": "subscription",
        "channel": "direct",
        "term": "annual",
        "payment_method": "card",
        "seats": 1,
        "renewal_date": "2027-03-01",
        "auto_renew": True,
        "status": "active",
        "currency": "USD",
    },
}
REFERENCE = "ruleengine decide()"
FLOOR = "hand-written Python (floor)"


def available(name: str) -> bool:
    """Whether the package an engine needs is importable (peers are the `bench` extra)."""
    needs = ENGINES[name][2]
    return not needs or importlib.util.find_spec(needs) is not None


def load(name: str) -> Decide:
    module, attribute, _ = ENGINES[name]
    loader: Callable[[], Decide] = getattr(importlib.import_module(module), attribute)
    return loader()
