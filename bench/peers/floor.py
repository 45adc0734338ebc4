"""The floor: the `options` decision written by hand in plain Python, with frozensets.

No input validation, no explanation, no version objects: the least work that
gives ruleengine's result, written as a Python programmer would for speed: frozensets
and tuple keys built once (the price rows; the rows whose product has another priced
term), exclusive tests as elif, messages by `map` (no comprehension frame), a fresh
result each call. The version in effect is picked from `as_of` as the
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
# (product, term, currency) rows for which another term of the product is priced in that
# currency: change_term's one lookup (terms outside the price list have no other term either).
OTHER_TERM = frozenset(
    (p, t, c)
    for p, terms in _TERMS.items()
    for t in ("monthly", "annual", "three_year")
    for c in _CURRENCIES
    if set(terms) - {t}
)
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


_message = MESSAGES.__getitem__


def _option(reasons: list[str], remedy: str) -> dict[str, Any]:
    if reasons:
        messages = list(map(_message, reasons))
        return {"available": False, "reasons": reasons, "remedy": remedy, "messages": messages}
    return {"available": True, "reasons": reasons, "remedy": None, "messages": []}


def options(facts: dict[str, Any]) -> dict[str, Any]:
    s = facts["subscription"]
    country = facts["account"]["country"]
    as_of = facts["as_of"]
    product = s["product"]
    channel = s["channel"]
    gate = []
    if country not in SELF_SERVICE:
        gate.append("country_unsupported")
    if s["plan"] == "maintenance":
        gate.append("maintenance_plan")
    if channel == "digital_river":  # one channel: at most one of the two
        gate.append("digital_river")
    elif channel == "reseller":
        gate.append("reseller_purchase")
    if product in RETIRED:  # disjoint product sets: at most one of the two
        gate.append("retired_product")
    elif product in NO_SELF_SERVICE:
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
    row = (product, s["term"], s["currency"])
    if row not in PRICED:
        add.append("price_unavailable")
    change = gate[:] if row in OTHER_TERM else [*gate, "no_alternative_term"]
    # Only the gate's reseller_purchase makes the remedy contact_reseller.
    remedy = "contact_reseller" if channel == "reseller" else "contact_support"
    return {
        "align_dates": _option(align, remedy),
        "add_seats": _option(add, remedy),
        "change_term": _option(change, remedy),
    }


def load() -> Any:
    return options
