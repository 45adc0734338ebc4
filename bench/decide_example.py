"""Time per decision of rules/example, against hand-written Python for the same policy.

    .venv/bin/python bench/decide_example.py

Prints µs per decision (median of 5 repeats) for ruleengine's decide() with
explain off and on, and for a hand-written plain-Python `checkout` (no input
validation: the floor), and the ratio to the floor. Machines here are shared
and noisy: read the ratios, not the absolute times.
"""

from __future__ import annotations

import statistics
import sys
import timeit
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import ruleengine

ROOT = Path(__file__).resolve().parent.parent

SHIPPING = frozenset({"US", "CA", "GB", "FR", "DE", "NO"})
BLOCKED = frozenset({"FIREWORKS-1", "KNIFE-9"})
REMEDY = {
    "country_not_served": "contact_support",
    "email_unverified": "verify_email",
    "blocked_item": "contact_support",
    "empty_order": None,
}
MESSAGES = {
    "country_not_served": "We do not ship to your country yet.",
    "email_unverified": "Please verify your email address first.",
    "blocked_item": "An item in your cart cannot be sold online.",
    "empty_order": "Your cart is empty.",
}


def checkout_by_hand(facts: dict[str, Any]) -> dict[str, Any]:
    customer = facts["customer"]
    items = facts["order"]["items"]
    reasons = []
    if customer["country"] not in SHIPPING:
        reasons.append("country_not_served")
    if not customer["email_verified"]:
        reasons.append("email_unverified")
    if any(item["sku"] in BLOCKED for item in items):
        reasons.append("blocked_item")
    if len(items) == 0:
        reasons.append("empty_order")
    if not reasons:
        remedy = None
    elif any(REMEDY[c] == "verify_email" for c in reasons):
        remedy = "verify_email"
    else:
        remedy = "contact_support"
    return {
        "allowed": not reasons,
        "reasons": reasons,
        "remedy": remedy,
        "messages": [MESSAGES[c] for c in reasons],
    }


FACTS = {
    "as_of": "2026-03-01",
    "customer": {
        "id": "c1",
        "country": "US",
        "tier": "gold",
        "email_verified": True,
        "member_since": "2020-01-01",
    },
    "order": {
        "currency": "USD",
        "items": [
            {"sku": "A", "quantity": 2, "unit_price": Decimal("19.99")},
            {"sku": "B", "quantity": 1, "unit_price": Decimal(5)},
        ],
    },
}


def measure(fn: Any, number: int) -> float:
    runs = timeit.repeat(fn, number=number, repeat=5)
    return statistics.median(runs) / number * 1e6


def main() -> None:
    number = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    engine = ruleengine.load(ROOT / "rules" / "example", clock=lambda: date(2026, 3, 15))
    expected = engine.decide("example", "checkout", FACTS).result
    assert checkout_by_hand(FACTS) == expected, (checkout_by_hand(FACTS), expected)
    rows = [
        ("hand-written Python (floor)", measure(lambda: checkout_by_hand(FACTS), number)),
        ("decide(checkout)", measure(lambda: engine.decide("example", "checkout", FACTS), number)),
        (
            "decide(checkout, explain=True)",
            measure(lambda: engine.decide("example", "checkout", FACTS, explain=True), number),
        ),
        ("decide(quote)", measure(lambda: engine.decide("example", "quote", FACTS), number)),
        (
            "decide(quote, explain=True)",
            measure(lambda: engine.decide("example", "quote", FACTS, explain=True), number),
        ),
    ]
    floor = rows[0][1]
    print(f"{'what':36} {'µs/decision':>12} {'x floor':>8}")
    for name, micros in rows:
        print(f"{name:36} {micros:12.2f} {micros / floor:8.1f}")


if __name__ == "__main__":
    main()
