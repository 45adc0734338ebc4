"""An independent calculation of the self-service policy (../shared/policy/self-service.md).

Written from the policy text alone, with the standard library only (exact
rational arithmetic with `fractions.Fraction`, `datetime`, `calendar`): it does
not read the rule files and does not use the engine. It is the source of the
expected values of the regression suite under `rules/self-service/tests/`, and
the oracle the engine is compared with on random inputs.

The one thing the policy does not give is the wording of the messages ("every
reason code carries an English and a French message in the rule files"); the
catalogue below is the wording the policy owners signed off, kept here so that
a changed message is a visible regression.

Public entry: `decide(decision, facts, version=None)`, which returns either
`Decided(version, result)` or `Rejected(problems)`. Results are plain JSON
data: money as decimal strings with exactly the currency's minor-unit digits
("675.00", "41580"), dates as "YYYY-MM-DD".
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

# --- section 2: reference data ---------------------------------------------------

SELF_SERVICE_COUNTRIES = frozenset(
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
ADD_SEATS_COUNTRIES_2026_11 = frozenset(
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
RETIRED_PRODUCTS = frozenset({"alias-design", "softimage", "3ds-max-design", "autocad-ws"})
PRODUCTS_WITHOUT_SELF_SERVICE = frozenset({"fusion", "fusion-manage"})
RENEWAL_DISCOUNT = Fraction(10, 100)
MINOR_UNITS = {"USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "JPY": 0}
TERM_MONTHS = {"monthly": 1, "annual": 12, "three_year": 36}
TERMS = ("monthly", "annual", "three_year")

# The price table of section 2, column for column:
# product, term, USD new, USD renewal, EUR new, EUR renewal, GBP new, JPY new.
_PRICE_TABLE = """
maya-lt     monthly     40    -    38    -    33    6600
maya-lt     annual      280   250  265   -    230   46200
maya-lt     three_year  755   675  715   -    620   124700
autocad-lt  monthly     70    -    66    -    58    11500
autocad-lt  annual      460   420  435   -    380   75900
autocad-lt  three_year  1240  -    1175  -    1025  204900
autocad     monthly     255   -    245   -    210   42000
autocad     annual      2030  -    1925  -    1680  335000
autocad     three_year  5480  -    5195  -    4535  904500
revit       annual      3055  -    2895  -    2530  504000
revit       three_year  8250  -    7820  -    6830  1361000
3ds-max     monthly     255   -    245   -    210   42000
3ds-max     annual      2010  -    1905  -    1665  331500
fusion      monthly     85    -    80    -    70    14000
fusion      annual      680   -    645   -    560   112000
"""


def _parse_price_table() -> dict[tuple[str, str, str], tuple[int, int | None]]:
    prices: dict[tuple[str, str, str], tuple[int, int | None]] = {}
    for line in _PRICE_TABLE.strip().splitlines():
        product, term, usd, usd_r, eur, eur_r, gbp, jpy = line.split()
        cells = {"USD": (usd, usd_r), "EUR": (eur, eur_r), "GBP": (gbp, "-"), "JPY": (jpy, "-")}
        for currency, (new, renewal) in cells.items():
            prices[product, term, currency] = (int(new), None if renewal == "-" else int(renewal))
    return prices


PRICES_2026_11 = _parse_price_table()
PRODUCTS = tuple(dict.fromkeys(product for product, _, _ in PRICES_2026_11))


@dataclass(frozen=True)
class PolicyVersion:
    label: str
    effective_from: date
    add_seats_countries: frozenset[str]
    prices: dict[tuple[str, str, str], tuple[int, int | None]]
    # (product, percent off, first day, last day)
    promotions: tuple[tuple[str, Fraction, date, date], ...]


# --- section 6: versions -----------------------------------------------------------

V2026_11 = PolicyVersion(
    "2026-11", date(2026, 11, 1), ADD_SEATS_COUNTRIES_2026_11, PRICES_2026_11, ()
)
V2026_12 = PolicyVersion(
    "2026-12",
    date(2026, 12, 1),
    ADD_SEATS_COUNTRIES_2026_11 | {"PL"},
    {**PRICES_2026_11, ("autocad-lt", "annual", "USD"): (470, 420)},
    (("autocad-lt", Fraction(15, 100), date(2026, 12, 1), date(2026, 12, 31)),),
)
VERSIONS = (V2026_11, V2026_12)

# --- section 8: reason codes, in order, with remedies ------------------------------

REASON_ORDER = (
    "country_unsupported",
    "maintenance_plan",
    "digital_river",
    "reseller_purchase",
    "retired_product",
    "product_not_supported",
    "not_active",
    "paypal_not_alignable",
    "add_seats_region_unsupported",
    "auto_renew_off",
    "renewal_due",
    "price_unavailable",
    "no_alternative_term",
    "same_term",
    "term_unavailable",
    "needs_two",
    "duplicate_subscription",
    "mixed_terms",
    "mixed_payment_methods",
    "mixed_currencies",
    "unknown_target",
    "target_not_latest",
)


def remedy_of(code: str) -> str:
    return "contact_reseller" if code == "reseller_purchase" else "contact_support"


MESSAGES: dict[str, dict[str, str]] = {
    "en": {
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
        "same_term": "The subscription already has this term.",
        "term_unavailable": "This term is not offered for this product and currency.",
        "needs_two": "Choose at least two subscriptions to align.",
        "duplicate_subscription": "The same subscription was chosen twice.",
        "mixed_terms": "Only subscriptions with the same term can be aligned.",
        "mixed_payment_methods": "Only subscriptions paid the same way can be aligned.",
        "mixed_currencies": "Only subscriptions billed in the same currency can be aligned.",
        "unknown_target": "The chosen target subscription is not among those to align.",
        "target_not_latest": "Alignment only extends subscriptions; pick the one that renews last.",
    },
    "fr": {
        "country_unsupported": "Le libre-service n'est pas disponible dans votre pays.",
        "maintenance_plan": "Les plans de maintenance ne peuvent pas être modifiés en ligne.",
        "digital_river": "Les abonnements achetés via Digital River ne peuvent pas être modifiés en ligne.",
        "reseller_purchase": "Cet abonnement a été acheté auprès d'un revendeur ; veuillez contacter votre revendeur.",
        "retired_product": "Ce produit a été retiré.",
        "product_not_supported": "Ce produit ne peut pas être géré en ligne.",
        "not_active": "Cet abonnement n'est pas actif.",
        "paypal_not_alignable": "Les dates de facturation des abonnements payés par PayPal ne peuvent pas être alignées.",
        "add_seats_region_unsupported": "Il n'est pas possible d'ajouter des postes en ligne dans votre pays.",
        "auto_renew_off": "Activez le renouvellement automatique pour ajouter des postes.",
        "renewal_due": "L'abonnement arrive à échéance ; ajoutez des postes après son renouvellement.",
        "price_unavailable": "Aucun prix n'est disponible pour ce produit, cette durée et cette devise.",
        "no_alternative_term": "Aucune autre durée n'est proposée pour ce produit.",
        "same_term": "L'abonnement a déjà cette durée.",
        "term_unavailable": "Cette durée n'est pas proposée pour ce produit et cette devise.",
        "needs_two": "Choisissez au moins deux abonnements à aligner.",
        "duplicate_subscription": "Le même abonnement a été choisi deux fois.",
        "mixed_terms": "Seuls les abonnements de même durée peuvent être alignés.",
        "mixed_payment_methods": "Seuls les abonnements payés de la même façon peuvent être alignés.",
        "mixed_currencies": "Seuls les abonnements facturés dans la même devise peuvent être alignés.",
        "unknown_target": "L'abonnement cible choisi ne fait pas partie de ceux à aligner.",
        "target_not_latest": "L'alignement ne fait que prolonger les abonnements ; choisissez celui qui est renouvelé en dernier.",
    },
}

# --- section 4: dates and money ------------------------------------------------------


def add_months(d: date, n: int) -> date:
    """Calendar months, the day clamped to the end of the target month."""
    index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last))


def days(a: date, b: date) -> int:
    return (b - a).days


def round_money(x: Fraction, digits: int) -> Fraction:
    """Quantize an exact value to `digits` decimals, ROUND_HALF_UP (halves away from zero)."""
    scaled = x * 10**digits
    sign = -1 if scaled < 0 else 1
    magnitude = abs(scaled)
    units = magnitude.numerator * 2 + magnitude.denominator  # floor(|x| + 1/2), exactly
    units //= 2 * magnitude.denominator
    return Fraction(sign * units, 10**digits)


def money_text(x: Fraction, digits: int) -> str:
    """An exact amount with exactly `digits` decimals, as JSON shows money."""
    scaled = x * 10**digits
    if scaled.denominator != 1:
        raise ValueError(f"{x} has more than {digits} decimals")
    units = scaled.numerator
    sign = "-" if units < 0 else ""
    text = str(abs(units)).rjust(digits + 1, "0")
    return sign + (text if digits == 0 else f"{text[:-digits]}.{text[-digits:]}")


def unit_price(
    v: PolicyVersion, product: str, term: str, currency: str, kind: str
) -> Fraction | None:
    """Section 4; None stands for price_unavailable (no row)."""
    row = v.prices.get((product, term, currency))
    if row is None:
        return None
    new, renewal = row
    if kind == "new" or term == "monthly":
        return Fraction(new)
    if renewal is not None:
        return Fraction(renewal)
    return round_money(Fraction(new) * (1 - RENEWAL_DISCOUNT), MINOR_UNITS[currency])


# --- input validation (section 1, section 7) ---------------------------------------

ENUMS = {
    "plan": ("subscription", "maintenance"),
    "channel": ("direct", "reseller", "digital_river"),
    "term": ("monthly", "annual", "three_year"),
    "payment_method": ("card", "paypal", "direct_debit", "invoice"),
    "status": ("active", "expired", "suspended"),
}
SUBSCRIPTION_FIELDS = (
    "id",
    "product",
    "plan",
    "channel",
    "term",
    "payment_method",
    "seats",
    "renewal_date",
    "auto_renew",
    "status",
    "currency",
)
LOCALES = ("en", "fr")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value: Any) -> date | None:
    if type(value) is not str or not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


Problem = tuple[str, str]  # (code, path)


def _check_int(value: Any, path: str, minimum: int, out: list[Problem]) -> None:
    if type(value) is not int:
        out.append(("type", path))
    elif value < minimum:
        out.append(("minimum", path))


def _check_string(value: Any, path: str, out: list[Problem]) -> bool:
    if type(value) is not str:
        out.append(("type", path))
        return False
    return True


def _check_fields(
    value: dict[str, Any], path: str, declared: tuple[str, ...], required: tuple[str, ...]
) -> list[Problem]:
    out: list[Problem] = []
    for name in required:
        if value.get(name) is None:
            out.append(("required", f"{path}.{name}"))
    out.extend(("unknown_field", f"{path}.{name}") for name in value if name not in declared)
    return out


def validate_subscription(value: Any, path: str) -> list[Problem]:
    if value is None:
        return [("required", path)]
    if type(value) is not dict:
        return [("type", path)]
    out = _check_fields(value, path, SUBSCRIPTION_FIELDS, SUBSCRIPTION_FIELDS)
    for name in SUBSCRIPTION_FIELDS:
        field = value.get(name)
        fpath = f"{path}.{name}"
        if field is None:
            continue
        if name in ENUMS:
            if _check_string(field, fpath, out) and field not in ENUMS[name]:
                out.append(("enum", fpath))
        elif name in ("id", "product"):
            if _check_string(field, fpath, out) and field == "":
                out.append(("min_length", fpath))
        elif name == "currency":
            if _check_string(field, fpath, out) and field not in MINOR_UNITS:
                out.append(("not_in_table", fpath))
        elif name == "seats":
            _check_int(field, fpath, 1, out)
        elif name == "renewal_date":
            if parse_date(field) is None:
                out.append(("type", fpath))
        elif name == "auto_renew" and type(field) is not bool:
            out.append(("type", fpath))
    return out


def validate_account(value: Any, path: str) -> list[Problem]:
    if value is None:
        return [("required", path)]
    if type(value) is not dict:
        return [("type", path)]
    out = _check_fields(value, path, ("country",), ("country",))
    country = value.get("country")
    if (
        country is not None
        and _check_string(country, f"{path}.country", out)
        and not re.fullmatch(r"[A-Z]{2}", country)
    ):
        out.append(("pattern", f"{path}.country"))
    return out


DECISION_INPUTS = {
    "options": ("account", "subscription"),
    "add_seats": ("account", "subscription", "quantity"),
    "change_term": ("account", "subscription", "new_term"),
    "align_dates": ("account", "subscriptions", "target_id"),
}


def validate(decision: str, facts: Any) -> list[Problem]:
    """Every problem of the facts, as (code, path); empty when they may be decided."""
    if type(facts) is not dict:
        return [("type", "input")]
    declared = (*DECISION_INPUTS[decision], "as_of", "locale")
    required = tuple(n for n in DECISION_INPUTS[decision] if n != "target_id")
    out = _check_fields(facts, "input", declared, ())
    if facts.get("as_of") is not None and parse_date(facts["as_of"]) is None:
        out.append(("type", "input.as_of"))
    locale = facts.get("locale")
    if locale is not None and not isinstance(locale, str):  # like any enum field: a type problem
        out.append(("type", "input.locale"))
    elif locale is not None and locale not in LOCALES:
        out.append(("enum", "input.locale"))
    for name in required:
        value = facts.get(name)
        path = f"input.{name}"
        if name == "account":
            out.extend(validate_account(value, path))
        elif name == "subscription":
            out.extend(validate_subscription(value, path))
        elif value is None:
            out.append(("required", path))
        elif name == "quantity":
            _check_int(value, path, 1, out)
        elif name == "new_term":
            if _check_string(value, path, out) and value not in TERMS:
                out.append(("enum", path))
        elif name == "subscriptions":
            if type(value) is not list:
                out.append(("type", path))
            else:
                for i, item in enumerate(value):
                    item_path = f"{path}[{i}]"
                    if item is None:
                        out.append(("type", item_path))
                    else:
                        out.extend(validate_subscription(item, item_path))
    target_id = facts.get("target_id") if decision == "align_dates" else None
    if (
        target_id is not None
        and _check_string(target_id, "input.target_id", out)
        and target_id == ""
    ):
        out.append(("min_length", "input.target_id"))
    return out


# --- sections 3, 5, 7: the decisions --------------------------------------------------


def gate_reasons(country: str, sub: dict[str, Any]) -> list[str]:
    checks = [
        ("country_unsupported", country not in SELF_SERVICE_COUNTRIES),
        ("maintenance_plan", sub["plan"] == "maintenance"),
        ("digital_river", sub["channel"] == "digital_river"),
        ("reseller_purchase", sub["channel"] == "reseller"),
        ("retired_product", sub["product"] in RETIRED_PRODUCTS),
        ("product_not_supported", sub["product"] in PRODUCTS_WITHOUT_SELF_SERVICE),
        ("not_active", sub["status"] != "active"),
    ]
    return [code for code, applies in checks if applies]


def align_option_reasons(country: str, sub: dict[str, Any]) -> list[str]:
    paypal = ["paypal_not_alignable"] if sub["payment_method"] == "paypal" else []
    return gate_reasons(country, sub) + paypal


def add_seats_option_reasons(
    v: PolicyVersion, country: str, sub: dict[str, Any], as_of: date
) -> list[str]:
    checks = [
        ("add_seats_region_unsupported", country not in v.add_seats_countries),
        ("auto_renew_off", not sub["auto_renew"]),
        ("renewal_due", as_of >= parse_date(sub["renewal_date"])),  # type: ignore[operator]
        ("price_unavailable", (sub["product"], sub["term"], sub["currency"]) not in v.prices),
    ]
    return gate_reasons(country, sub) + [code for code, applies in checks if applies]


def change_term_option_reasons(v: PolicyVersion, country: str, sub: dict[str, Any]) -> list[str]:
    alternatives = [
        t for t in TERMS if t != sub["term"] and (sub["product"], t, sub["currency"]) in v.prices
    ]
    return gate_reasons(country, sub) + ([] if alternatives else ["no_alternative_term"])


def remedy_for(reasons: list[str]) -> str | None:
    if not reasons:
        return None
    remedies = {remedy_of(code) for code in reasons}
    return "contact_reseller" if "contact_reseller" in remedies else "contact_support"


def explained(reasons: list[str], locale: str) -> dict[str, Any]:
    return {
        "reasons": list(reasons),
        "remedy": remedy_for(reasons),
        "messages": [MESSAGES[locale][code] for code in reasons],
    }


def decide_options(v: PolicyVersion, facts: dict[str, Any], as_of: date, locale: str) -> dict:
    country = facts["account"]["country"]
    sub = facts["subscription"]
    out = {}
    for name, reasons in (
        ("align_dates", align_option_reasons(country, sub)),
        ("add_seats", add_seats_option_reasons(v, country, sub, as_of)),
        ("change_term", change_term_option_reasons(v, country, sub)),
    ):
        out[name] = {"available": not reasons, **explained(reasons, locale)}
    return out


def promotion_percent(v: PolicyVersion, product: str, as_of: date) -> Fraction | None:
    for promo_product, percent, first_day, last_day in v.promotions:
        if promo_product == product and first_day <= as_of <= last_day:
            return percent
    return None


ADD_SEATS_QUOTE = (
    "currency",
    "unit_price",
    "prorated_unit_price",
    "quantity",
    "total",
    "remaining_days",
    "period_days",
    "renews_on",
    "next_renewal_total",
)


def decide_add_seats(v: PolicyVersion, facts: dict[str, Any], as_of: date, locale: str) -> dict:
    sub = facts["subscription"]
    quantity = facts["quantity"]
    reasons = add_seats_option_reasons(v, facts["account"]["country"], sub, as_of)
    result: dict[str, Any] = {"eligible": not reasons, **explained(reasons, locale)}
    if reasons:
        return result | dict.fromkeys(ADD_SEATS_QUOTE)
    currency = sub["currency"]
    digits = MINOR_UNITS[currency]
    renewal_date = parse_date(sub["renewal_date"])
    assert renewal_date is not None
    period_start = add_months(renewal_date, -TERM_MONTHS[sub["term"]])
    period_days = days(period_start, renewal_date)
    remaining_days = min(days(as_of, renewal_date), period_days)
    renewal = unit_price(v, sub["product"], sub["term"], currency, "renewal")
    assert renewal is not None  # price_unavailable would have made it ineligible
    percent = promotion_percent(v, sub["product"], as_of)
    unit = renewal if percent is None else round_money(renewal * (1 - percent), digits)
    prorated = round_money(unit * remaining_days / period_days, digits)
    return result | {
        "currency": currency,
        "unit_price": money_text(unit, digits),
        "prorated_unit_price": money_text(prorated, digits),
        "quantity": quantity,
        "total": money_text(prorated * quantity, digits),
        "remaining_days": remaining_days,
        "period_days": period_days,
        "renews_on": renewal_date.isoformat(),
        "next_renewal_total": money_text(renewal * (sub["seats"] + quantity), digits),
    }


CHANGE_TERM_QUOTE = (
    "currency",
    "effective_date",
    "per_seat",
    "seats",
    "total",
    "new_purchase_per_seat",
    "savings",
)


def decide_change_term(v: PolicyVersion, facts: dict[str, Any], as_of: date, locale: str) -> dict:
    sub = facts["subscription"]
    new_term = facts["new_term"]
    currency = sub["currency"]
    reasons = gate_reasons(facts["account"]["country"], sub)
    if new_term == sub["term"]:
        reasons.append("same_term")
    if (sub["product"], new_term, currency) not in v.prices:
        reasons.append("term_unavailable")
    result: dict[str, Any] = {"eligible": not reasons, **explained(reasons, locale)}
    if reasons:
        return result | dict.fromkeys(CHANGE_TERM_QUOTE)
    digits = MINOR_UNITS[currency]
    per_seat = unit_price(v, sub["product"], new_term, currency, "renewal")
    new_price = unit_price(v, sub["product"], new_term, currency, "new")
    assert per_seat is not None and new_price is not None
    seats = sub["seats"]
    return result | {
        "currency": currency,
        "effective_date": sub["renewal_date"],
        "per_seat": money_text(per_seat, digits),
        "seats": seats,
        "total": money_text(per_seat * seats, digits),
        "new_purchase_per_seat": money_text(new_price, digits),
        "savings": money_text((new_price - per_seat) * seats, digits),
    }


ALIGN_QUOTE = ("currency", "target_date", "lines", "total")


def decide_align_dates(v: PolicyVersion, facts: dict[str, Any], as_of: date, locale: str) -> dict:
    country = facts["account"]["country"]
    subs: list[dict[str, Any]] = facts["subscriptions"]
    target_id = facts.get("target_id")
    renewals = [parse_date(s["renewal_date"]) for s in subs]
    ids = [s["id"] for s in subs]

    unknown_target = target_id is not None and target_id not in ids
    target_date: date | None
    if target_id is None:
        target_date = max(renewals) if renewals else None  # type: ignore[type-var]
    elif unknown_target:
        target_date = None
    else:
        target_date = renewals[ids.index(target_id)]

    group: list[str] = []
    if len(subs) < 2:
        group.append("needs_two")
    if len(set(ids)) < len(ids):
        group.append("duplicate_subscription")
    for code, key in (
        ("mixed_terms", "term"),
        ("mixed_payment_methods", "payment_method"),
        ("mixed_currencies", "currency"),
    ):
        if len({s[key] for s in subs}) > 1:
            group.append(code)
    if unknown_target:
        group.append("unknown_target")
    if (
        target_id is not None and target_date is not None and any(r > target_date for r in renewals)  # type: ignore[operator]
    ):
        group.append("target_not_latest")

    member_reasons: list[list[str]] = []
    for s, renewal in zip(subs, renewals, strict=True):
        own = align_option_reasons(country, s)
        extended = target_date is not None and renewal < target_date  # type: ignore[operator]
        if extended and (s["product"], s["term"], s["currency"]) not in v.prices:
            own.append("price_unavailable")
        member_reasons.append(own)
    seen = {code for own in member_reasons for code in own}
    reasons = [code for code in REASON_ORDER if code in seen] + group

    subscription_reasons: dict[str, list[str]] = {}
    for sid, own in zip(ids, member_reasons, strict=True):
        subscription_reasons.setdefault(sid, own)

    ex = explained(reasons, locale)
    result: dict[str, Any] = {
        "eligible": not reasons,
        "reasons": ex["reasons"],
        "subscription_reasons": subscription_reasons,
        "remedy": ex["remedy"],
        "messages": ex["messages"],
    }
    if reasons:
        return result | dict.fromkeys(ALIGN_QUOTE)
    assert target_date is not None
    currency = subs[0]["currency"]
    digits = MINOR_UNITS[currency]
    lines = []
    amounts = Fraction(0)
    for s, renewal in zip(subs, renewals, strict=True):
        assert renewal is not None
        if not renewal < target_date:
            continue
        ext_days = days(renewal, target_date)
        next_period_days = days(renewal, add_months(renewal, TERM_MONTHS[s["term"]]))
        unit = unit_price(v, s["product"], s["term"], s["currency"], "renewal")
        assert unit is not None
        prorated = round_money(unit * ext_days / next_period_days, digits)
        amount = prorated * s["seats"]
        amounts += amount
        lines.append(
            {
                "subscription_id": s["id"],
                "from": renewal.isoformat(),
                "to": target_date.isoformat(),
                "ext_days": ext_days,
                "next_period_days": next_period_days,
                "prorated_unit_price": money_text(prorated, digits),
                "seats": s["seats"],
                "amount": money_text(amount, digits),
            }
        )
    return result | {
        "currency": currency,
        "target_date": target_date.isoformat(),
        "lines": lines,
        "total": money_text(round_money(amounts, digits), digits),
    }


DECIDERS = {
    "options": decide_options,
    "add_seats": decide_add_seats,
    "change_term": decide_change_term,
    "align_dates": decide_align_dates,
}


@dataclass(frozen=True)
class Decided:
    version: str
    result: dict[str, Any]


@dataclass(frozen=True)
class Rejected:
    problems: list[Problem]  # (code, path); path "" when the request as a whole is refused


def select_version(as_of: date, pinned: str | None) -> PolicyVersion | None:
    if pinned is not None:
        return next((v for v in VERSIONS if v.label == pinned), None)
    in_effect = [v for v in VERSIONS if v.effective_from <= as_of]
    return max(in_effect, key=lambda v: v.effective_from) if in_effect else None


def decide(
    decision: str, facts: Any, version: str | None = None, today: date | None = None
) -> Decided | Rejected:
    """Decide one request as the policy says: the result, or why the request is refused."""
    raw_as_of = facts.get("as_of") if type(facts) is dict else None
    as_of = parse_date(raw_as_of) if raw_as_of is not None else today
    if as_of is not None:
        chosen = select_version(as_of, version)
        if chosen is None:
            return Rejected(
                [("unknown_version", "")] if version is not None else [("no_version_in_effect", "")]
            )
    problems = validate(decision, facts)
    if problems or as_of is None:
        return Rejected(problems or [("required", "input.as_of")])
    locale = facts.get("locale") or "en"
    return Decided(chosen.label, DECIDERS[decision](chosen, facts, as_of, locale))
