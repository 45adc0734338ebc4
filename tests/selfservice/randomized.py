"""Seeded random facts for the self-service policy (valid input, edge-heavy dates).

Shared by the engine-versus-reference test; standard library only.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

PRODUCTS = (
    "maya-lt",
    "autocad-lt",
    "autocad",
    "revit",
    "3ds-max",
    "fusion",
    "fusion-manage",
    "alias-design",
    "softimage",
    "3ds-max-design",
    "autocad-ws",
    "maya",
    "inventor",
)
COUNTRIES = ("US", "CA", "AU", "JP", "GB", "FR", "DE", "CH", "NO", "PL", "CZ", "BR", "MX", "ZZ")
CURRENCIES = ("USD", "USD", "EUR", "EUR", "GBP", "JPY", "JPY", "CHF")
TERMS = ("monthly", "annual", "three_year")
AS_OF = (
    date(2026, 11, 1),
    date(2026, 11, 30),
    date(2026, 12, 1),
    date(2026, 12, 15),
    date(2026, 12, 31),
    date(2027, 1, 1),
    date(2027, 2, 28),
    date(2028, 2, 28),
    date(2028, 2, 29),
)


def a_date(rng: random.Random) -> date:
    """Around month ends, leap days and the December window, 2026-11 to 2030."""
    pick = rng.random()
    if pick < 0.4:
        year = rng.choice((2026, 2027, 2028, 2029))
        month = rng.randint(1, 12)
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        return nxt - timedelta(days=rng.choice((1, 1, 2, 3)))  # last days of a month
    if pick < 0.5:
        return rng.choice(
            (date(2028, 2, 29), date(2028, 3, 1), date(2027, 3, 31), date(2026, 12, 31))
        )
    return date(2026, 11, 1) + timedelta(days=rng.randint(0, 1300))


def subscription(rng: random.Random, sid: str | None = None) -> dict[str, Any]:
    return {
        "id": sid or f"S{rng.randint(1, 6)}",
        "product": rng.choice(PRODUCTS),
        "plan": rng.choice(("subscription",) * 6 + ("maintenance",)),
        "channel": rng.choice(("direct",) * 6 + ("reseller", "digital_river")),
        "term": rng.choice(TERMS),
        "payment_method": rng.choice(("card", "card", "paypal", "direct_debit", "invoice")),
        "seats": rng.choice((1, 1, 2, 3, 5, 7, 10, 25, 99)),
        "renewal_date": a_date(rng).isoformat(),
        "auto_renew": rng.random() < 0.85,
        "status": rng.choice(("active",) * 8 + ("expired", "suspended")),
        "currency": rng.choice(CURRENCIES),
    }


def homogeneous_group(rng: random.Random) -> list[dict[str, Any]]:
    """Members sharing term, payment method and currency (so prices are worked out)."""
    members = [subscription(rng, f"S{i}") for i in range(rng.randint(2, 5))]
    shared = {k: members[0][k] for k in ("term", "payment_method", "currency")}
    clean = rng.random() < 0.7
    for m in members:
        m.update(shared)
        if clean:
            m.update(plan="subscription", channel="direct", status="active")
            if m["payment_method"] == "paypal":
                m["payment_method"] = "card"
            if m["product"] not in ("maya-lt", "autocad-lt", "autocad", "revit", "3ds-max"):
                m["product"] = "autocad"
    return members


def facts(rng: random.Random, decision: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "as_of": (rng.choice(AS_OF) if rng.random() < 0.4 else a_date(rng)).isoformat(),
        "account": {"country": rng.choice(COUNTRIES)},
    }
    if rng.random() < 0.3:
        out["locale"] = rng.choice(("en", "fr"))
    if decision == "align_dates":
        subs = (
            homogeneous_group(rng)
            if rng.random() < 0.6
            else [subscription(rng) for _ in range(rng.randint(0, 4))]
        )
        out["subscriptions"] = subs
        roll = rng.random()
        if roll < 0.3 and subs:
            out["target_id"] = rng.choice(subs)["id"]
        elif roll < 0.4:
            out["target_id"] = "S9"
        elif roll < 0.45:
            out["target_id"] = None
        return out
    sub = subscription(rng, "S1")
    if rng.random() < 0.5:  # an eligible-looking subscription, so quotes get priced
        sub.update(plan="subscription", channel="direct", status="active", auto_renew=True)
        out["account"]["country"] = rng.choice(("US", "GB", "FR", "JP", "PL", "CH"))
        sub["renewal_date"] = (
            date.fromisoformat(out["as_of"]) + timedelta(days=rng.randint(-3, 1200))
        ).isoformat()
    out["subscription"] = sub
    if decision == "add_seats":
        out["quantity"] = rng.choice((1, 1, 2, 3, 10, 250))
    elif decision == "change_term":
        out["new_term"] = rng.choice(TERMS)
    return out
