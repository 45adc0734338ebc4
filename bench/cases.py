"""Seeded random facts for the `options` decision of rules/self-service, and fresh copies of them.

Valid input only (every engine but ruleengine skips validation), spread over
the cases the policy distinguishes: supported and unsupported countries
(including PL, which joins add_seats in 2026-12), plans, channels, products
(priced, retired, without self-service, unknown), terms, payment methods,
statuses, currencies (CHF has no prices), auto_renew, and renewal dates
before, on and after `as_of`; `as_of` spans both versions (2026-11, 2026-12).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

COUNTRIES = (
    ("US",) * 6
    + ("CA", "AU", "JP", "GB", "IE", "FR", "DE", "AT", "CH", "BE", "NL", "LU", "ES", "PT")
    + ("IT", "DK", "SE", "NO", "FI", "PL", "PL", "CZ")
    + ("BR", "MX", "CN", "IN", "ZA", "KR", "ZZ")  # not self-service
)
PRODUCTS = (
    ("maya-lt", "autocad-lt", "autocad", "revit", "3ds-max") * 3
    + ("fusion", "fusion-manage")  # no self-service
    + ("alias-design", "softimage", "3ds-max-design", "autocad-ws")  # retired
    + ("maya", "inventor", "p-404")  # unknown: no prices
)
PLANS = ("subscription",) * 6 + ("maintenance",)
CHANNELS = ("direct",) * 6 + ("reseller", "digital_river")
TERMS = ("monthly", "annual", "three_year")
PAYMENT_METHODS = ("card", "card", "paypal", "direct_debit", "invoice")
STATUSES = ("active",) * 7 + ("expired", "suspended")
CURRENCIES = ("USD", "USD", "USD", "EUR", "EUR", "GBP", "JPY", "CHF")
FIRST_AS_OF = date(2026, 11, 1)  # effective_from of the first version


def options_case(rng: random.Random, n: int) -> dict[str, Any]:
    as_of = FIRST_AS_OF + timedelta(days=rng.randint(0, 120))
    pick = rng.random()
    if pick < 0.1:
        renewal = as_of  # renewal_due: as_of >= renewal_date, on the boundary
    elif pick < 0.35:
        renewal = as_of - timedelta(days=rng.randint(1, 400))
    else:
        renewal = as_of + timedelta(days=rng.randint(1, 1100))
    return {
        "as_of": as_of.isoformat(),
        "account": {"country": rng.choice(COUNTRIES)},
        "subscription": {
            "id": f"S{n}",
            "product": rng.choice(PRODUCTS),
            "plan": rng.choice(PLANS),
            "channel": rng.choice(CHANNELS),
            "term": rng.choice(TERMS),
            "payment_method": rng.choice(PAYMENT_METHODS),
            "seats": rng.choice((1, 1, 2, 3, 5, 10, 25)),
            "renewal_date": renewal.isoformat(),
            "auto_renew": rng.random() < 0.8,
            "status": rng.choice(STATUSES),
            "currency": rng.choice(CURRENCIES),
        },
    }


def options_cases(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [options_case(rng, n) for n in range(count)]


def fresh(value: Any) -> Any:
    """A new copy of every dict and list in value (strings and numbers are shared: immutable)."""
    if type(value) is dict:
        return {k: fresh(v) for k, v in value.items()}
    if type(value) is list:
        return [fresh(v) for v in value]
    return value
