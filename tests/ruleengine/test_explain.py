"""Explanations: every rule considered, where it is written, whether it fired, what it read."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import ruleengine
from ruleengine import jsonio

GOLD = {
    "id": "c-1",
    "country": "US",
    "tier": "gold",
    "email_verified": True,
    "member_since": "2025-01-01",
}
ORDER = {"currency": "USD", "items": [{"sku": "A", "quantity": 2, "unit_price": "12.50"}]}
BLOCKERS = ["country_not_served", "email_unverified", "blocked_item", "empty_order"]


def facts(**customer: Any) -> dict[str, Any]:
    return {"customer": {**GOLD, **customer}, "order": copy.deepcopy(ORDER)}


def rule_line(location: str) -> str:
    file, line = location.rsplit(":", 1)
    return Path(file).read_text("utf-8").splitlines()[int(line) - 1]


@pytest.mark.parametrize("as_of", ["2026-03-15", "2026-07-01"])
def test_checkout_lists_every_rule_of_the_group(
    example_engine: ruleengine.Engine, as_of: str
) -> None:
    data = {**facts(country="ES", email_verified=False), "as_of": as_of}
    decision = example_engine.decide("example", "checkout", data, explain=True)
    assert decision.explanation is not None
    entries = list(decision.explanation)
    assert [(e.group, e.rule) for e in entries] == [("checkout_blockers", r) for r in BLOCKERS]
    fired = {e.rule: e.fired for e in entries}
    spain_served = as_of >= "2026-07-01"
    assert fired == {
        "country_not_served": not spain_served,
        "email_unverified": True,
        "blocked_item": False,
        "empty_order": False,
    }
    version = decision.version
    for entry in entries:
        file, line = entry.location.rsplit(":", 1)
        assert file.endswith(f"rules/example/{version}/rules.yaml"), entry.location
        assert line.isdigit()
        assert rule_line(entry.location).strip() == f"- id: {entry.rule}"


def test_values_read(example_engine: ruleengine.Engine) -> None:
    decision = example_engine.decide(
        "example", "checkout", facts(country="ES", email_verified=False), explain=True
    )
    assert decision.explanation is not None
    values = {e.rule: e.values for e in decision.explanation}
    assert values["country_not_served"]["customer.country"] == "ES"
    assert values["email_unverified"]["customer.email_verified"] is False
    assert values["blocked_item"]["order.items"][0]["sku"] == "A"


def test_first_hit_group_stops_at_the_rule_that_fired(example_engine: ruleengine.Engine) -> None:
    decision = example_engine.decide("example", "quote", facts(), explain=True)
    assert decision.explanation is not None
    entries = [e for e in decision.explanation if e.group == "shipping_method"]
    assert [(e.rule, e.fired) for e in entries] == [("standard_available", True)]
    assert entries[0].values["order.currency"] == "USD"
    assert rule_line(entries[0].location).strip() == "- id: standard_available"


def test_chosen_shipping_method_skips_the_group(example_engine: ruleengine.Engine) -> None:
    data = {**facts(), "shipping": "express"}
    decision = example_engine.decide("example", "quote", data, explain=True)
    assert decision.explanation is not None
    assert [e for e in decision.explanation if e.group == "shipping_method"] == []


def test_explain_off_gives_none(example_engine: ruleengine.Engine) -> None:
    assert example_engine.decide("example", "checkout", facts()).explanation is None
    assert example_engine.decide("example", "checkout", facts(), explain=False).explanation is None


@pytest.mark.parametrize("decision", ["quote", "checkout"])
@pytest.mark.parametrize(
    "customer",
    [
        {},
        {"country": "ES", "email_verified": False},
        {"tier": "platinum"},
        {"member_since": "2020-02-02"},
    ],
)
@pytest.mark.parametrize("as_of", ["2026-03-15", "2026-07-01"])
def test_results_identical_with_and_without_explain(
    example_engine: ruleengine.Engine, decision: str, customer: dict[str, Any], as_of: str
) -> None:
    data = {**facts(**customer), "as_of": as_of}
    plain = example_engine.decide("example", decision, data)
    explained = example_engine.decide("example", decision, data, explain=True)
    assert explained.result == plain.result
    assert jsonio.to_plain(explained.result) == jsonio.to_plain(plain.result)
    assert (explained.version, explained.content_hash, explained.as_of, explained.locale) == (
        plain.version,
        plain.content_hash,
        plain.as_of,
        plain.locale,
    )


def test_explanation_is_json_ready(example_engine: ruleengine.Engine) -> None:
    decision = example_engine.decide("example", "checkout", facts(), explain=True)
    wire = jsonio.decision_to_json(decision)
    assert [e["rule"] for e in wire["explanation"]] == BLOCKERS
    first = wire["explanation"][2]
    assert set(first) == {"group", "rule", "location", "fired", "values"}
    assert first["values"]["order.items"][0]["unit_price"] == "12.50"
    jsonio.dumps(wire)  # serializable as is


def test_explanation_is_per_decision(example_engine: ruleengine.Engine) -> None:
    one = example_engine.decide("example", "checkout", facts(), explain=True)
    two = example_engine.decide("example", "checkout", facts(), explain=True)
    assert one.explanation is not None and two.explanation is not None
    assert len(one.explanation) == len(two.explanation) == 4
