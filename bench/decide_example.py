"""Time per decision of rules/example, against hand-written Python for the same policy.

    .venv/bin/python bench/decide_example.py

Prints CPU µs per decision (the minimum over 9 interleaved rounds) for ruleengine's decide() with
explain off and on, and for a hand-written plain-Python `checkout` (no input
validation: the floor), and the ratio to the floor. Machines here are shared
and noisy: read the ratios, not the absolute times.
"""

from __future__ import annotations

import sys
import time
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


def measure_all(fns: list[tuple[str, Any]], number: int, rounds: int = 9) -> dict[str, float]:
    """CPU µs per call, the minimum over rounds that interleave the candidates, so a
    noisy neighbour slows every candidate alike instead of one of them."""
    best = {name: float("inf") for name, _ in fns}
    for _ in range(rounds):
        for name, fn in fns:
            start = time.process_time()
            for _ in range(number):
                fn()
            best[name] = min(best[name], (time.process_time() - start) / number * 1e6)
    return best


def main() -> None:
    number = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    engine = ruleengine.load(ROOT / "rules" / "example", clock=lambda: date(2026, 3, 15))
    expected = engine.decide("example", "checkout", FACTS).result
    assert checkout_by_hand(FACTS) == expected, (checkout_by_hand(FACTS), expected)
    best = measure_all(
        [
            ("hand-written Python (floor)", lambda: checkout_by_hand(FACTS)),
            ("decide(checkout)", lambda: engine.decide("example", "checkout", FACTS)),
            (
                "decide(checkout, explain=True)",
                lambda: engine.decide("example", "checkout", FACTS, explain=True),
            ),
            ("decide(quote)", lambda: engine.decide("example", "quote", FACTS)),
            (
                "decide(quote, explain=True)",
                lambda: engine.decide("example", "quote", FACTS, explain=True),
            ),
        ],
        number,
    )
    rows = list(best.items())
    floor = rows[0][1]
    print(f"{'what':36} {'µs/decision':>12} {'x floor':>8}")
    for name, micros in rows:
        print(f"{name:36} {micros:12.2f} {micros / floor:8.1f}")


if __name__ == "__main__":
    main()
