"""The floor: the `options` decision written by hand in plain Python, with frozensets.

No input validation, no explanation, no version objects: the least work that
gives ruleengine's result. The version in effect is picked from `as_of` as the
engine does (2026-12 from 2026-12-01: PL joins add_seats_countries; nothing
else the options decision reads differs between the two versions).
"""

from __future__ import annotations

from typing import Any

SELF_SERVICE = frozenset(
    [
        "US",
        "CA",
        "AU",
        "JP",
        "GB",
        "IE",
        "FR",
        "DE",
        "AT",
        "CH",
        "BE",
        "NL",
        "LU",
        "ES",
        "PT",
        "IT",
        "DK",
        "SE",
        "NO",
        "FI",
        "PL",
        "CZ",
    ]
)
ADD_SEATS_2026_11 = frozenset(
    [
        "US",
        "CA",
        "GB",
        "IE",
        "FR",
        "DE",
        "AT",
        "CH",
        "BE",
        "NL",
        "LU",
        "ES",
        "PT",
        "IT",
        "DK",
        "SE",
        "NO",
        "FI",
        "CZ",
    ]
)
ADD_SEATS_2026_12 = ADD_SEATS_2026_11 | {"PL"}
SECOND_VERSION = "2026-12-01"  # effective_from of 2026-12; ISO dates compare as strings
RETIRED = frozenset({"alias-design", "softimage", "3ds-max-design", "autocad-ws"})
NO_SELF_SERVICE = frozenset({"fusion", "fusion-manage"})
_CURRENCIES = ("USD", "EUR", "GBP", "JPY")
_TERMS = {
    "maya-lt": ("monthly", "annual", "three_year"),
    "autocad-lt": ("monthly", "annual", "three_year"),
    "autocad": ("monthly", "annual", "three_year"),
    "revit": ("annual", "three_year"),
    "3ds-max": ("monthly", "annual"),
    "fusion": ("monthly", "annual"),
}
# (product, term, currency) of every price row; every product is priced in all four currencies.
PRICED = frozenset((p, t, c) for p, terms in _TERMS.items() for t in terms for c in _CURRENCIES)
# (product, currency) -> the terms priced for it.
TERMS_PRICED = {(p, c): frozenset(terms) for p, terms in _TERMS.items() for c in _CURRENCIES}
NO_TERMS: frozenset[str] = frozenset()
MESSAGES = {
    "country_unsupported": "Self-service is not available in your country.",
    "maintenance_plan": "Maintenance plans cannot be changed online.",
    "digital_river": "Subscriptions bought through Digital River cannot be changed online.",
    "reseller_purchase": "This subscription was bought from a reseller; please contact your reseller.",
    "retired_product": "This product has been retired.",
    "product_not_supported": "This product cannot be managed online.",
    "not_active": "This subscription is not active.",
    "paypal_not_alignable": "Subscriptions paid with PayPal cannot have their billing dates aligned.",
    "add_seats_region_unsupported": "Seats cannot be added online in your country.",
    "auto_renew_off": "Turn on automatic renewal to add seats.",
    "renewal_due": "The subscription is due for renewal; add seats after it renews.",
    "price_unavailable": "No price is available for this product, term and currency.",
    "no_alternative_term": "No other term is offered for this product.",
}


def _option(reasons: list[str], reseller: bool) -> dict[str, Any]:
    if not reasons:
        return {"available": True, "reasons": reasons, "remedy": None, "messages": []}
    return {
        "available": False,
        "reasons": reasons,
        "remedy": "contact_reseller" if reseller else "contact_support",
        "messages": [MESSAGES[c] for c in reasons],
    }


def options(facts: dict[str, Any]) -> dict[str, Any]:
    country = facts["account"]["country"]
    s = facts["subscription"]
    as_of = facts["as_of"]
    product, term, currency = s["product"], s["term"], s["currency"]
    channel = s["channel"]
    gate = []
    if country not in SELF_SERVICE:
        gate.append("country_unsupported")
    if s["plan"] == "maintenance":
        gate.append("maintenance_plan")
    if channel == "digital_river":
        gate.append("digital_river")
    reseller = channel == "reseller"
    if reseller:
        gate.append("reseller_purchase")
    if product in RETIRED:
        gate.append("retired_product")
    if product in NO_SELF_SERVICE:
        gate.append("product_not_supported")
    if s["status"] != "active":
        gate.append("not_active")

    align = [*gate, "paypal_not_alignable"] if s["payment_method"] == "paypal" else gate[:]
    add = gate[:]
    if country not in (ADD_SEATS_2026_12 if as_of >= SECOND_VERSION else ADD_SEATS_2026_11):
        add.append("add_seats_region_unsupported")
    if not s["auto_renew"]:
        add.append("auto_renew_off")
    if as_of >= s["renewal_date"]:
        add.append("renewal_due")
    if (product, term, currency) not in PRICED:
        add.append("price_unavailable")
    change = gate[:]
    if not TERMS_PRICED.get((product, currency), NO_TERMS) - {term}:
        change.append("no_alternative_term")
    return {
        "align_dates": _option(align, reseller),
        "add_seats": _option(add, reseller),
        "change_term": _option(change, reseller),
    }


def load() -> Any:
    return options
