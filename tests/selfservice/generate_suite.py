"""Write the regression suite of rules/self-service from hand-picked inputs.

Every input below was chosen by hand (see each case's description for why);
every expected value comes from `reference.py`, the independent calculation of
the policy text. The engine is never asked. Run from the repository root:

    .venv/bin/python tests/selfservice/generate_suite.py

It rewrites the generated files under rules/self-service/tests/ (not
`worked_by_hand.yaml`, whose figures were worked out on paper).
`test_reference.py` checks that every case of the generated files still agrees
with the reference calculation. Cases that a later version could decide are
pinned to the version they were written for (`pinned`), so adding a version
never breaks them; hand-written suite files are governed by `ruleengine test`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
# $RULEENGINE_TEST_RULES: another rules folder to test (tests/test_policy_as_data.py).
SUITE_DIR = (
    Path(os.environ.get("RULEENGINE_TEST_RULES") or HERE.parent.parent / "rules")
    / "self-service"
    / "tests"
)


def _load_reference() -> Any:
    module = sys.modules.get("selfservice_reference")
    if module is None:
        spec = importlib.util.spec_from_file_location(
            "selfservice_reference", HERE / "reference.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return module


ref = _load_reference()

# --- building blocks ----------------------------------------------------------------

NOV = "2026-11-15"  # a day the 2026-11 version decides
DEC = "2026-12-15"  # a day the 2026-12 version decides (inside the promotion window)
US = {"country": "US"}


def sub(sid: str = "SUB-1", **changes: Any) -> dict[str, Any]:
    """A subscription that passes every gate: Maya LT, annual, USD, renewing 2027-03-31."""
    base = {
        "id": sid,
        "product": "maya-lt",
        "plan": "subscription",
        "channel": "direct",
        "term": "annual",
        "payment_method": "card",
        "seats": 1,
        "renewal_date": "2027-03-31",
        "auto_renew": True,
        "status": "active",
        "currency": "USD",
    }
    assert not set(changes) - set(base), changes
    base.update(changes)
    return base


def minus_days(day: str, n: int) -> str:
    return (date.fromisoformat(day) - timedelta(days=n)).isoformat()


Case = dict[str, Any]


def case(
    name: str,
    decision: str,
    input: dict[str, Any],
    as_of: str = NOV,
    description: str | None = None,
    version: str | None = None,
) -> Case:
    out: Case = {"name": name}
    if description:
        out["description"] = description
    out["decision"] = decision
    out["as_of"] = as_of
    if version is not None:
        out["version"] = version
    out["input"] = input
    return out


def options(name: str, subscription: dict[str, Any], country: str = "US", **kw: Any) -> Case:
    extra = {"locale": kw.pop("locale")} if "locale" in kw else {}
    return case(
        name,
        "options",
        {"account": {"country": country}, "subscription": subscription, **extra},
        **kw,
    )


def add_seats(
    name: str, subscription: dict[str, Any], quantity: int = 1, country: str = "US", **kw: Any
) -> Case:
    extra = {"locale": kw.pop("locale")} if "locale" in kw else {}
    facts = {"account": {"country": country}, "subscription": subscription, "quantity": quantity}
    return case(name, "add_seats", {**facts, **extra}, **kw)


def change_term(
    name: str, subscription: dict[str, Any], new_term: str, country: str = "US", **kw: Any
) -> Case:
    extra = {"locale": kw.pop("locale")} if "locale" in kw else {}
    facts = {"account": {"country": country}, "subscription": subscription, "new_term": new_term}
    return case(name, "change_term", {**facts, **extra}, **kw)


def align(
    name: str,
    subscriptions: list[dict[str, Any]],
    target_id: str | None = None,
    country: str = "US",
    **kw: Any,
) -> Case:
    facts: dict[str, Any] = {"account": {"country": country}, "subscriptions": subscriptions}
    if target_id is not None:
        facts["target_id"] = target_id
    if "locale" in kw:
        facts["locale"] = kw.pop("locale")
    if kw.pop("null_target", False):
        facts["target_id"] = None
    return case(name, "align_dates", facts, **kw)


def raw(name: str, decision: str, facts: dict[str, Any], **kw: Any) -> Case:
    return case(name, decision, facts, **kw)


# --- options ------------------------------------------------------------------------


def options_cases() -> list[Case]:
    return [
        options("every button is live for a direct Maya LT subscription", sub()),
        options(
            "French messages are empty when everything is available",
            sub(),
            country="FR",
            locale="fr",
        ),
        options(
            "country outside self-service is also outside add seats",
            sub(),
            country="BR",
            description="each check is independent: country_unsupported and add_seats_region_unsupported",
        ),
        options("an unknown country code is outside self-service", sub(), country="ZZ"),
        options("maintenance plan", sub(plan="maintenance")),
        options("digital river purchase", sub(channel="digital_river")),
        options("reseller purchase sends the customer to the reseller", sub(channel="reseller")),
        options(
            "reseller purchase in French",
            sub(channel="reseller", currency="EUR"),
            country="FR",
            locale="fr",
            description="EUR subscription in France, messages in French",
        ),
        options(
            "retired product softimage has no prices either",
            sub(product="softimage"),
            description="retired_product; no price row so add_seats adds price_unavailable and change_term no_alternative_term",
        ),
        options("retired product alias-design", sub(product="alias-design", term="three_year")),
        options("retired product 3ds-max-design", sub(product="3ds-max-design", term="monthly")),
        options("retired product autocad-ws", sub(product="autocad-ws")),
        options(
            "fusion is priced but not self-service",
            sub(product="fusion", term="monthly"),
            description="product_not_supported only: fusion has monthly and annual prices",
        ),
        options("fusion-manage is neither self-service nor priced", sub(product="fusion-manage")),
        options("expired subscription", sub(status="expired")),
        options("suspended subscription", sub(status="suspended")),
        options(
            "PayPal only blocks align dates",
            sub(payment_method="paypal"),
            description="paypal_not_alignable is an align_dates reason only",
        ),
        options("direct debit aligns", sub(payment_method="direct_debit")),
        options("invoice aligns", sub(payment_method="invoice")),
        options("Australia has self-service but not add seats", sub(), country="AU"),
        options(
            "Japan has self-service but not add seats",
            sub(currency="JPY"),
            country="JP",
        ),
        options(
            "Poland cannot add seats in November",
            sub(currency="EUR"),
            country="PL",
        ),
        options(
            "Poland can add seats from December",
            sub(currency="EUR"),
            country="PL",
            as_of="2026-12-01",
        ),
        options("Norway is a country, not false", sub(currency="EUR"), country="NO"),
        options("auto renew off blocks add seats only", sub(auto_renew=False)),
        options(
            "the day before renewal seats can still be added",
            sub(renewal_date="2026-11-16"),
        ),
        options(
            "renewal day: renewal due",
            sub(renewal_date="2026-11-15"),
            description="as_of == renewal_date counts as due",
        ),
        options("renewal date passed: renewal due", sub(renewal_date="2026-11-01")),
        options(
            "CHF has no prices at all",
            sub(currency="CHF"),
            country="CH",
            description="price_unavailable for add_seats and no_alternative_term for change_term",
        ),
        options(
            "revit monthly has no price row",
            sub(product="revit", term="monthly"),
            description="price_unavailable for add_seats; change_term can go to annual or three_year",
        ),
        options(
            "3ds-max three_year has no price row",
            sub(product="3ds-max", term="three_year", currency="GBP"),
            country="GB",
        ),
        options(
            "an unknown product has no prices and no alternative term",
            sub(product="maya", term="monthly"),
        ),
        options(
            "revit annual can only change to three_year, which is enough",
            sub(product="revit", currency="JPY"),
            country="JP",
        ),
        options(
            "reseller wins the remedy over other reasons",
            sub(channel="reseller", status="expired", payment_method="paypal", auto_renew=False),
            country="BR",
            description="country_unsupported, reseller_purchase, not_active + option reasons; remedy contact_reseller",
        ),
        options(
            "every gate reason but reseller at once",
            sub(
                product="softimage",
                plan="maintenance",
                channel="digital_river",
                status="suspended",
                payment_method="paypal",
                auto_renew=False,
                renewal_date="2026-11-15",
                currency="CHF",
            ),
            country="ZZ",
            description="gate order, then every option reason; remedy contact_support",
        ),
        options(
            "many reasons at once, in French",
            sub(
                product="fusion-manage",
                plan="maintenance",
                channel="reseller",
                status="expired",
                payment_method="paypal",
                auto_renew=False,
                renewal_date="2026-10-01",
            ),
            country="JP",
            locale="fr",
        ),
        options(
            "options as of 2027: 2026-12 still decides",
            sub(renewal_date="2027-06-30"),
            as_of="2027-01-01",
        ),
    ]


# --- add_seats ----------------------------------------------------------------------


def add_seats_cases() -> list[Case]:
    autocad_lt = sub(product="autocad-lt")
    return [
        add_seats(
            "Maya LT annual USD, mid-period",
            sub(),
            description="renewal price 250.00; period 2026-03-31..2027-03-31",
        ),
        add_seats("five seats added to a ten-seat subscription", sub(seats=10), quantity=5),
        add_seats(
            "EUR derived renewal price 238.50",
            sub(currency="EUR"),
            quantity=2,
            country="FR",
            description="265 x 0.90 = 238.50",
        ),
        add_seats(
            "GBP derived renewal price 207.00",
            sub(currency="GBP"),
            country="GB",
            description="230 x 0.90 = 207.00",
        ),
        add_seats(
            "EUR three_year derived renewal price 643.50",
            sub(term="three_year", currency="EUR", renewal_date="2028-06-30"),
            country="DE",
        ),
        add_seats(
            "USD listed renewal price for three_year Maya LT",
            sub(term="three_year", renewal_date="2029-01-31"),
        ),
        add_seats(
            "USD derived renewal price for autocad annual",
            sub(product="autocad", renewal_date="2027-08-31"),
            quantity=3,
            description="2030 x 0.90 = 1827.00",
        ),
        add_seats(
            "monthly renews at the new price",
            sub(product="autocad", term="monthly", renewal_date="2026-12-10"),
            description="no renewal discount for monthly terms",
        ),
        add_seats(
            "monthly: remaining days capped at the period length",
            sub(term="monthly", renewal_date="2027-03-31"),
            quantity=3,
            description="period 2027-02-28..2027-03-31 = 31 days; days to renewal 136 -> min is 31",
        ),
        add_seats(
            "monthly period ending 2027-03-31 starts on 2027-02-28",
            sub(term="monthly", renewal_date="2027-03-31"),
            as_of="2027-03-01",
            description="add_months clamps 2027-03-31 - 1 month to 2027-02-28",
        ),
        add_seats(
            "monthly period ending on leap day 2028-02-29",
            sub(term="monthly", renewal_date="2028-02-29", currency="GBP"),
            country="GB",
            as_of="2028-02-10",
            description="period 2028-01-29..2028-02-29 = 31 days",
        ),
        add_seats(
            "monthly period ending 2028-03-31 starts on leap day",
            sub(term="monthly", renewal_date="2028-03-31", currency="EUR"),
            country="IE",
            as_of="2028-03-15",
            description="period 2028-02-29..2028-03-31 = 31 days",
        ),
        add_seats(
            "annual period ending on leap day has 366 days",
            sub(renewal_date="2028-02-29"),
            as_of="2027-06-30",
            description="period 2027-02-28..2028-02-29",
        ),
        add_seats(
            "annual period ending 2027-02-28 has 365 days",
            sub(renewal_date="2027-02-28", currency="JPY", product="autocad-lt"),
            country="CA",
            as_of="2026-11-30",
            description="JPY derived 75900 x 0.90 = 68310, no decimals (November, no promotion)",
        ),
        add_seats(
            "annual period ending 2028-03-31 spans the leap day",
            sub(renewal_date="2028-03-31"),
            as_of="2027-09-30",
        ),
        add_seats(
            "three_year period ending on leap day",
            sub(term="three_year", renewal_date="2028-02-29"),
            as_of="2027-02-28",
            description="period 2025-02-28..2028-02-29 = 1096 days",
        ),
        add_seats(
            "half a cent rounds up",
            sub(term="three_year", renewal_date="2029-03-31"),
            as_of=minus_days("2029-03-31", 411),
            description="675 x 411 / 1096 = 253.125 -> 253.13 (ROUND_HALF_UP)",
        ),
        add_seats(
            "last day before renewal: one day remains",
            sub(renewal_date="2027-03-31"),
            as_of="2027-03-30",
        ),
        add_seats(
            "renewal day itself: renewal due",
            sub(renewal_date="2027-03-31"),
            as_of="2027-03-31",
        ),
        add_seats(
            "a day after renewal: renewal due",
            sub(renewal_date="2027-03-31", currency="EUR"),
            country="FR",
            as_of="2027-04-01",
            locale="fr",
        ),
        add_seats("auto renew off", sub(auto_renew=False)),
        add_seats("Australia cannot add seats", sub(), country="AU"),
        add_seats("Japan cannot add seats", sub(currency="JPY"), country="JP"),
        add_seats(
            "Poland cannot add seats in 2026-11",
            sub(currency="EUR"),
            country="PL",
        ),
        add_seats(
            "Poland can add seats in 2026-12",
            sub(currency="EUR"),
            country="PL",
            as_of="2026-12-02",
        ),
        add_seats("no CHF prices", sub(currency="CHF"), country="CH"),
        add_seats(
            "no revit monthly row", sub(product="revit", term="monthly", renewal_date="2026-12-20")
        ),
        add_seats("unknown product", sub(product="maya")),
        add_seats(
            "reseller: contact the reseller, every quote field null",
            sub(channel="reseller"),
            quantity=4,
        ),
        add_seats(
            "every add seats reason at once",
            sub(auto_renew=False, renewal_date="2026-11-15", product="maya", status="expired"),
            country="AU",
        ),
        add_seats(
            "fusion is priced but not self-service",
            sub(product="fusion"),
        ),
        add_seats(
            "promotion on its first day, autocad-lt USD annual",
            autocad_lt,
            quantity=2,
            as_of="2026-12-01",
            description="420 x 0.85 = 357.00 per seat before proration; next renewal at 420",
        ),
        add_seats(
            "promotion on its last day",
            autocad_lt,
            as_of="2026-12-31",
        ),
        add_seats(
            "no promotion the day after its window, still version 2026-12",
            autocad_lt,
            as_of="2027-01-01",
        ),
        add_seats(
            "no promotion in November",
            autocad_lt,
            as_of="2026-11-30",
        ),
        add_seats(
            "promotion on JPY autocad-lt rounds the unit price half up",
            sub(product="autocad-lt", currency="JPY", renewal_date="2027-05-31", seats=4),
            quantity=3,
            country="DE",
            as_of="2026-12-15",
            description="68310 x 0.85 = 58063.5 -> 58064",
        ),
        add_seats(
            "promotion on autocad-lt monthly EUR",
            sub(product="autocad-lt", term="monthly", currency="EUR", renewal_date="2027-01-05"),
            country="ES",
            as_of=DEC,
            description="66 x 0.85 = 56.10",
        ),
        add_seats(
            "promotion on autocad-lt three_year GBP",
            sub(product="autocad-lt", term="three_year", currency="GBP", renewal_date="2029-07-31"),
            quantity=10,
            country="GB",
            as_of=DEC,
            description="1025 x 0.90 = 922.50; x 0.85 = 784.125 -> 784.13 (ROUND_HALF_UP)",
        ),
        add_seats(
            "the promotion is for autocad-lt only",
            sub(renewal_date="2027-05-31"),
            as_of=DEC,
        ),
        add_seats(
            "JPY Maya LT annual 41580, no decimals",
            sub(currency="JPY", renewal_date="2027-10-31"),
            country="CA",
            quantity=7,
        ),
    ]


# --- change_term --------------------------------------------------------------------


def change_term_cases() -> list[Case]:
    return [
        change_term(
            "Maya LT annual to three_year, three seats",
            sub(seats=3),
            "three_year",
            description="the published example times three: 675.00, 755.00, savings 240.00",
        ),
        change_term(
            "Maya LT three_year to annual, listed renewal 250", sub(term="three_year"), "annual"
        ),
        change_term("Maya LT annual to monthly: no renewal discount", sub(seats=2), "monthly"),
        change_term(
            "Maya LT monthly to annual in GBP",
            sub(term="monthly", currency="GBP", seats=4),
            "annual",
            country="GB",
        ),
        change_term(
            "Maya LT monthly to annual in JPY",
            sub(term="monthly", currency="JPY", seats=2),
            "annual",
            country="JP",
            description="Japan has change term; 41580 with no decimals",
        ),
        change_term(
            "Maya LT monthly to three_year in EUR",
            sub(term="monthly", currency="EUR"),
            "three_year",
            country="FR",
        ),
        change_term(
            "autocad-lt three_year to annual in November: new price 460",
            sub(product="autocad-lt", term="three_year"),
            "annual",
        ),
        change_term(
            "autocad-lt three_year to annual in December: new price 470",
            sub(product="autocad-lt", term="three_year"),
            "annual",
            as_of=DEC,
        ),
        change_term(
            "autocad-lt monthly to three_year: derived USD renewal 1116.00",
            sub(product="autocad-lt", term="monthly", seats=5),
            "three_year",
        ),
        change_term(
            "autocad annual to three_year in JPY",
            sub(product="autocad", currency="JPY"),
            "three_year",
            country="JP",
        ),
        change_term(
            "revit three_year to annual in EUR",
            sub(product="revit", term="three_year", currency="EUR", seats=12),
            "annual",
            country="BE",
        ),
        change_term(
            "3ds-max monthly to annual in GBP",
            sub(product="3ds-max", term="monthly", currency="GBP"),
            "annual",
            country="GB",
        ),
        change_term("same term", sub(), "annual"),
        change_term(
            "same term in French", sub(currency="EUR"), "annual", country="FR", locale="fr"
        ),
        change_term(
            "revit has no monthly term",
            sub(product="revit"),
            "monthly",
        ),
        change_term(
            "3ds-max has no three_year term",
            sub(product="3ds-max", currency="EUR"),
            "three_year",
            country="AT",
        ),
        change_term(
            "same term and unavailable: unknown product",
            sub(product="maya"),
            "annual",
            description="both checks are independent",
        ),
        change_term(
            "same term and unavailable: CHF",
            sub(currency="CHF", term="monthly"),
            "monthly",
            country="CH",
        ),
        change_term(
            "CHF has no other term either",
            sub(currency="CHF"),
            "three_year",
            country="CH",
        ),
        change_term(
            "reseller purchase: contact the reseller",
            sub(channel="reseller"),
            "three_year",
        ),
        change_term(
            "gate reasons come before same_term",
            sub(plan="maintenance", status="expired"),
            "annual",
            country="ZZ",
        ),
        change_term(
            "retired product: every quote field null",
            sub(product="autocad-ws"),
            "three_year",
        ),
        change_term(
            "fusion monthly to annual is not self-service",
            sub(product="fusion", term="monthly"),
            "annual",
        ),
        change_term(
            "digital river, same term, unavailable",
            sub(channel="digital_river", product="fusion-manage"),
            "annual",
        ),
        change_term(
            "renewal date passed: change term does not look at it",
            sub(renewal_date="2026-11-01", auto_renew=False),
            "three_year",
            description="no renewal_due nor auto_renew_off for change_term",
        ),
        change_term(
            "Australia can change term",
            sub(currency="USD", seats=2),
            "monthly",
            country="AU",
        ),
    ]


# --- align_dates --------------------------------------------------------------------


def align_cases() -> list[Case]:
    a = sub("A-1", renewal_date="2027-01-15", seats=2)
    b = sub("B-2", renewal_date="2027-03-31")
    c = sub("C-3", renewal_date="2026-12-31", seats=5)
    return [
        align("two members, the earlier one is extended", [a, b]),
        align(
            "three members, lines in member order, the latest has no line",
            [b, c, a],
            description="members given as B (latest), C, A: lines for C then A",
        ),
        align("target given and it is the latest", [a, b, c], target_id="B-2"),
        align("target_id null counts as absent", [a, b], null_target=True),
        align(
            "two members renewing the same day: nothing to extend, total 0.00",
            [sub("A-1"), sub("B-2", seats=3)],
        ),
        align(
            "JPY group with nothing to extend: total 0",
            [sub("A-1", currency="JPY"), sub("B-2", currency="JPY")],
            country="JP",
        ),
        align(
            "JPY group: amounts without decimals",
            [
                sub("A-1", currency="JPY", renewal_date="2027-02-10", seats=3),
                sub("B-2", currency="JPY", product="autocad", renewal_date="2027-09-30"),
            ],
            country="JP",
            description="Japan may align (only add seats is excluded there)",
        ),
        align(
            "EUR group: derived renewal prices",
            [
                sub("A-1", currency="EUR", renewal_date="2027-05-31"),
                sub(
                    "B-2", currency="EUR", product="autocad-lt", renewal_date="2027-01-31", seats=4
                ),
                sub("C-3", currency="EUR", product="revit", renewal_date="2027-07-15"),
            ],
            country="DE",
        ),
        align(
            "GBP group of three_year subscriptions",
            [
                sub("A-1", currency="GBP", term="three_year", renewal_date="2028-02-29"),
                sub("B-2", currency="GBP", term="three_year", renewal_date="2029-02-28", seats=2),
            ],
            country="GB",
        ),
        align(
            "leap-day member: next period 2028-02-29..2029-02-28",
            [sub("A-1", renewal_date="2028-02-29"), sub("B-2", renewal_date="2028-06-30")],
        ),
        align(
            "extension longer than a monthly period is not capped",
            [
                sub("A-1", term="monthly", renewal_date="2028-01-31"),
                sub("B-2", term="monthly", renewal_date="2028-03-31", product="autocad"),
            ],
            description="next period 2028-01-31..2028-02-29 = 29 days, extension 60 days",
        ),
        align(
            "half a cent rounds up in an extension",
            [
                sub("A-1", term="three_year", renewal_date="2027-03-31"),
                sub("B-2", term="three_year", renewal_date="2028-05-15"),
            ],
            description="675 x 411 / 1096 = 253.125 -> 253.13",
        ),
        align(
            "as_of after every renewal date does not matter",
            [a, b],
            as_of="2027-06-01",
        ),
        align(
            "PayPal members cannot be aligned",
            [
                sub("A-1", payment_method="paypal", renewal_date="2027-01-15"),
                sub("B-2", payment_method="paypal"),
            ],
        ),
        align(
            "one PayPal member among card members",
            [a, sub("B-2", payment_method="paypal")],
            description="paypal_not_alignable and mixed_payment_methods",
        ),
        align(
            "mixed terms",
            [a, sub("B-2", term="three_year")],
        ),
        align(
            "mixed payment methods without PayPal",
            [a, sub("B-2", payment_method="invoice")],
        ),
        align(
            "mixed currencies",
            [a, sub("B-2", currency="EUR")],
        ),
        align(
            "mixed everything, in French",
            [
                a,
                sub("B-2", currency="EUR", term="monthly", payment_method="direct_debit"),
            ],
            country="FR",
            locale="fr",
        ),
        align("empty list: needs two", []),
        align("a single subscription: needs two", [a]),
        align(
            "a single subscription with a target: needs two",
            [sub("A-1", payment_method="paypal")],
            target_id="A-1",
        ),
        align(
            "duplicate ids: the first member's reasons are reported",
            [sub("A-1", renewal_date="2027-01-15"), sub("A-1", status="expired"), b],
            description="subscription_reasons keeps the first A-1 (no reasons); not_active still counts",
        ),
        align(
            "duplicate ids given twice the same subscription",
            [b, b],
        ),
        align(
            "unknown target: no target date, no price_unavailable",
            [sub("A-1", currency="CHF"), sub("B-2", currency="CHF", renewal_date="2027-06-30")],
            target_id="Z-9",
            country="CH",
            description="the CHF members are not extended, so price_unavailable is not looked for",
        ),
        align("unknown target among priced members", [a, b], target_id="X"),
        align(
            "target that is not the latest",
            [a, b],
            target_id="A-1",
            description="alignment only extends",
        ),
        align(
            "target that is not the latest, with a member in between",
            [a, b, c],
            target_id="A-1",
        ),
        align(
            "target is the earliest of a CHF group: nothing extended, no price_unavailable",
            [sub("A-1", currency="CHF", renewal_date="2027-01-15"), sub("B-2", currency="CHF")],
            target_id="A-1",
            country="CH",
        ),
        align(
            "unpriced member that must be extended",
            [
                sub("A-1", product="revit", term="monthly", renewal_date="2027-01-15"),
                sub("B-2", product="autocad", term="monthly", renewal_date="2027-02-10"),
            ],
            description="revit has no monthly row: price_unavailable on A-1 only",
        ),
        align(
            "unpriced member that need not be extended",
            [
                sub("A-1", product="autocad", term="monthly", renewal_date="2027-01-15"),
                sub("B-2", product="revit", term="monthly", renewal_date="2027-02-10"),
            ],
            description="revit monthly renews last: it is the target, so no price is needed",
        ),
        align(
            "unknown product that must be extended",
            [sub("A-1", product="maya", renewal_date="2027-01-15"), sub("B-2", product="maya")],
        ),
        align(
            "a CHF group must be extended and has no prices",
            [
                sub("A-1", currency="CHF", renewal_date="2027-01-15"),
                sub("B-2", currency="CHF", renewal_date="2027-02-15"),
                sub("C-3", currency="CHF"),
            ],
            country="CH",
        ),
        align(
            "member reasons come before group reasons, de-duplicated in policy order",
            [
                sub("A-1", payment_method="paypal", renewal_date="2027-01-15", product="maya"),
                sub("B-2", status="expired", channel="reseller", term="monthly"),
                sub("C-3", status="suspended", renewal_date="2026-12-01", product="maya"),
            ],
            description="not_active and price_unavailable appear once; reseller gives contact_reseller",
        ),
        align(
            "country outside self-service blocks every member",
            [a, b],
            country="BR",
        ),
        align(
            "retired and unsupported products",
            [
                sub("A-1", product="softimage", renewal_date="2027-01-15"),
                sub("B-2", product="fusion"),
            ],
            description="softimage must be extended and has no price; fusion is the target",
        ),
        align(
            "maintenance and digital river members",
            [sub("A-1", plan="maintenance"), sub("B-2", channel="digital_river")],
        ),
        align(
            "five members, several extended with seats",
            [
                sub("S1", renewal_date="2027-04-30", seats=3),
                sub("S2", renewal_date="2027-12-31"),
                sub("S3", renewal_date="2027-02-28", seats=10),
                sub("S4", renewal_date="2027-12-31", seats=2),
                sub("S5", renewal_date="2027-08-15", product="autocad-lt", seats=7),
            ],
            as_of=DEC,
            description="the December promotion does not apply to alignment",
        ),
    ]


# --- versions -----------------------------------------------------------------------


def version_cases() -> list[Case]:
    acl = sub(product="autocad-lt", term="three_year")
    return [
        options("2026-11 decides on its first day", sub(), as_of="2026-11-01"),
        options(
            "2026-11 decides on its last day: no add seats in Poland",
            sub(currency="EUR"),
            country="PL",
            as_of="2026-11-30",
        ),
        options(
            "2026-12 decides on its first day: Poland adds seats",
            sub(currency="EUR"),
            country="PL",
            as_of="2026-12-01",
        ),
        add_seats(
            "2026-12 still decides in 2028, without the promotion",
            sub(product="autocad-lt", renewal_date="2028-02-29"),
            country="PL",
            as_of="2028-01-15",
        ),
        add_seats(
            "pinned 2026-11 in December: Poland cannot add seats",
            sub(currency="EUR"),
            country="PL",
            as_of=DEC,
            version="2026-11",
        ),
        add_seats(
            "pinned 2026-11 in December: no promotion",
            sub(product="autocad-lt"),
            as_of=DEC,
            version="2026-11",
        ),
        add_seats(
            "pinned 2026-12 in November: Poland adds seats",
            sub(currency="EUR"),
            country="PL",
            as_of=NOV,
            version="2026-12",
        ),
        add_seats(
            "pinned 2026-12 in November: the promotion is outside its window",
            sub(product="autocad-lt"),
            as_of=NOV,
            version="2026-12",
        ),
        add_seats(
            "pinned 2026-12 in December: the promotion applies",
            sub(product="autocad-lt", currency="GBP"),
            country="GB",
            as_of="2026-12-31",
            version="2026-12",
        ),
        change_term(
            "pinned 2026-11 in December: autocad-lt annual new price 460",
            acl,
            "annual",
            as_of=DEC,
            version="2026-11",
        ),
        change_term(
            "pinned 2026-12 in November: autocad-lt annual new price 470",
            acl,
            "annual",
            as_of=NOV,
            version="2026-12",
        ),
        change_term(
            "2026-12 on the day after the promotion: new price still 470",
            acl,
            "annual",
            as_of="2027-01-01",
        ),
        change_term(
            "the price change is USD only",
            sub(product="autocad-lt", term="monthly", currency="EUR"),
            "annual",
            country="FR",
            as_of=DEC,
        ),
        change_term(
            "pinned 2026-11 before any effective date",
            sub(),
            "three_year",
            as_of="2026-10-31",
            version="2026-11",
        ),
        align(
            "align_dates under 2026-12",
            [sub("A-1", product="autocad-lt", renewal_date="2027-01-15"), sub("B-2")],
            as_of="2027-01-01",
        ),
        align(
            "align_dates pinned 2026-11 in December",
            [sub("A-1", product="autocad-lt", renewal_date="2027-01-15"), sub("B-2")],
            as_of=DEC,
            version="2026-11",
        ),
        options(
            "nothing is in effect before 2026-11-01",
            sub(),
            as_of="2026-10-31",
        ),
        change_term(
            "no version in effect for change_term in 2025",
            sub(),
            "three_year",
            as_of="2025-12-31",
        ),
        add_seats("no version in effect for add_seats", sub(), as_of="2026-01-01"),
        align("no version in effect for align_dates", [sub("A-1"), sub("B-2")], as_of="2026-10-01"),
    ]


# --- rejected input -----------------------------------------------------------------


def without(d: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in names}


def rejected_cases() -> list[Case]:
    ok = {"account": US, "subscription": sub()}
    return [
        raw("wrong plan enum", "options", {**ok, "subscription": sub(plan="basic")}),
        raw("wrong channel enum", "options", {**ok, "subscription": sub(channel="partner")}),
        raw("wrong term enum", "options", {**ok, "subscription": sub(term="biennial")}),
        raw(
            "wrong payment method", "options", {**ok, "subscription": sub(payment_method="bitcoin")}
        ),
        raw("wrong status", "options", {**ok, "subscription": sub(status="cancelled")}),
        raw("wrong new_term", "change_term", {**ok, "new_term": "weekly"}),
        raw("wrong locale", "options", {**ok, "locale": "de"}),
        raw("seats as text", "add_seats", {**ok, "subscription": sub(seats="3"), "quantity": 1}),
        raw(
            "seats written 1.0 is not an integer",
            "add_seats",
            {**ok, "subscription": sub(seats=1.0), "quantity": 1},
        ),
        raw("quantity written 2.0", "add_seats", {**ok, "quantity": 2.0}),
        raw("quantity zero", "add_seats", {**ok, "quantity": 0}),
        raw(
            "seats zero", "change_term", {**ok, "subscription": sub(seats=0), "new_term": "monthly"}
        ),
        raw("seats boolean", "options", {**ok, "subscription": sub(seats=True)}),
        raw("auto_renew as text", "options", {**ok, "subscription": sub(auto_renew="yes")}),
        raw(
            "impossible renewal date",
            "options",
            {**ok, "subscription": sub(renewal_date="2027-02-29")},
        ),
        raw(
            "renewal date not zero-padded",
            "options",
            {**ok, "subscription": sub(renewal_date="2027-3-31")},
        ),
        raw("lower-case country", "options", {**ok, "account": {"country": "us"}}),
        raw("three-letter country", "options", {**ok, "account": {"country": "USA"}}),
        raw(
            "currency missing from the currency table",
            "options",
            {**ok, "subscription": sub(currency="CAD")},
        ),
        raw(
            "lower-case currency",
            "add_seats",
            {**ok, "subscription": sub(currency="usd"), "quantity": 1},
        ),
        raw("empty id", "options", {**ok, "subscription": sub(id="")}),
        raw("empty product", "options", {**ok, "subscription": sub(product="")}),
        raw("id as a number", "options", {**ok, "subscription": sub(id=42)}),
        raw(
            "missing field: seats",
            "options",
            {**ok, "subscription": without(sub(), "seats")},
        ),
        raw(
            "missing field: renewal_date in an align_dates member",
            "align_dates",
            {"account": US, "subscriptions": [sub("A-1"), without(sub("B-2"), "renewal_date")]},
        ),
        raw("missing account", "options", {"subscription": sub()}),
        raw("missing quantity", "add_seats", ok),
        raw("missing new_term", "change_term", ok),
        raw("missing subscriptions", "align_dates", {"account": US}),
        raw("required field sent as null", "options", {**ok, "subscription": sub(seats=None)}),
        raw(
            "misspelt subscription",
            "options",
            {"account": US, "subscripton": sub()},
            description="unknown field subscripton, and subscription is missing",
        ),
        raw(
            "misspelt field inside the subscription",
            "options",
            {**ok, "subscription": {**sub(), "auto_renewal": True}},
        ),
        raw(
            "an unknown top-level field",
            "change_term",
            {**ok, "new_term": "monthly", "coupon": "X"},
        ),
        raw("subscription is not an object", "options", {**ok, "subscription": "SUB-1"}),
        raw("subscriptions is not a list", "align_dates", {"account": US, "subscriptions": sub()}),
        raw(
            "bad enum in the second align member",
            "align_dates",
            {"account": US, "subscriptions": [sub("A-1"), sub("B-2", term="weekly")]},
        ),
        raw(
            "align_dates takes subscriptions, not subscription",
            "align_dates",
            {"account": US, "subscription": sub()},
        ),
        raw(
            "empty target_id",
            "align_dates",
            {"account": US, "subscriptions": [sub("A-1"), sub("B-2")], "target_id": ""},
        ),
        raw(
            "target_id as a number",
            "align_dates",
            {"account": US, "subscriptions": [sub("A-1"), sub("B-2")], "target_id": 2},
        ),
        raw(
            "every problem is reported at once",
            "add_seats",
            {
                "account": {"country": "usa"},
                "subscription": {
                    **sub(plan="basic", seats=1.0, currency="XYZ", renewal_date="tomorrow"),
                    "colour": "red",
                },
                "quantity": -1,
            },
        ),
    ]


# --- every reason again under 2026-12 --------------------------------------------------

DECEMBER = {
    "retired product alias-design",
    "retired product 3ds-max-design",
    "retired product autocad-ws",
    "every gate reason but reseller at once",
    "reseller wins the remedy over other reasons",
    "many reasons at once, in French",
    "every add seats reason at once",
    "reseller: contact the reseller, every quote field null",
    "no CHF prices",
    "digital river, same term, unavailable",
    "same term and unavailable: CHF",
    "gate reasons come before same_term",
    "empty list: needs two",
    "duplicate ids: the first member's reasons are reported",
    "mixed everything, in French",
    "unknown target among priced members",
    "target that is not the latest",
    "unpriced member that must be extended",
    "member reasons come before group reasons, de-duplicated in policy order",
    "one PayPal member among card members",
}


def december_cases() -> list[Case]:
    """The cases that fire each reason, decided again by 2026-12 (every rule of both
    versions is seen true and false)."""
    picked = [
        c
        for make in (options_cases, add_seats_cases, change_term_cases, align_cases)
        for c in make()
        if c["name"] in DECEMBER
    ]
    assert {c["name"] for c in picked} == DECEMBER
    return [c | {"name": f"December: {c['name']}", "as_of": "2026-12-20"} for c in picked]


# --- every row of the price list -------------------------------------------------------

COUNTRY_OF = {"USD": "US", "EUR": "FR", "GBP": "GB", "JPY": "JP"}


def price_list_cases() -> list[Case]:
    """change_term to each (product, term, currency) of the price list, in both versions:
    per_seat is the row's renewal price (listed or derived), new_purchase_per_seat its new
    price."""
    out = []
    for as_of, label in (("2026-11-20", "2026-11"), ("2026-12-20", "2026-12")):
        for product, term, currency in ref.PRICES_2026_11:
            current = "annual" if term == "monthly" else "monthly"
            out.append(
                change_term(
                    f"{label} price row {product} {term} {currency}",
                    sub(f"P-{product}", product=product, term=current, currency=currency, seats=2),
                    term,
                    country=COUNTRY_OF[currency],
                    as_of=as_of,
                )
            )
    return out


# --- every country -----------------------------------------------------------------------

EURO = {"IE", "FR", "DE", "AT", "BE", "NL", "LU", "ES", "PT", "IT", "FI"}
LOCAL_CURRENCY = {"GB": "GBP", "JP": "JPY", "CH": "CHF"} | dict.fromkeys(EURO, "EUR")


def country_cases() -> list[Case]:
    """options in every self-service country and a few others, in both versions."""
    countries = [*sorted(ref.SELF_SERVICE_COUNTRIES), "BR", "MX", "ZZ"]
    return [
        options(
            f"{label} options in {country}",
            sub(f"C-{country}", currency=LOCAL_CURRENCY.get(country, "USD")),
            country=country,
            as_of=as_of,
        )
        for as_of, label in (("2026-11-25", "2026-11"), ("2026-12-05", "2026-12"))
        for country in countries
    ]


# --- the suite files -------------------------------------------------------------------

FILES = {
    "options.yaml": (
        "Decision options: which self-service buttons are live, with every gate and option reason.",
        options_cases,
    ),
    "add_seats.yaml": (
        "Decision add_seats: proration over month ends and leap years, derived renewal prices, "
        "the December promotion, and every reason that blocks adding seats.",
        add_seats_cases,
    ),
    "change_term.yaml": (
        "Decision change_term: renewal versus new-purchase prices at the next renewal; "
        "same_term and term_unavailable.",
        change_term_cases,
    ),
    "align_dates.yaml": (
        "Decision align_dates: group reasons, target dates, per-member reasons and prorated lines.",
        align_cases,
    ),
    "versions.yaml": (
        "Which version decides: effective dates, pinned versions, and no version in effect.",
        version_cases,
    ),
    "december.yaml": (
        "The cases that fire each reason, decided again by version 2026-12.",
        december_cases,
    ),
    "countries.yaml": (
        "Every country of the self-service and add-seats lists (and some outside), in both versions.",
        country_cases,
    ),
    "price_list.yaml": (
        "Every row of the price list, in both versions, through change_term.",
        price_list_cases,
    ),
    "rejected.yaml": (
        "Input that breaks the facts' types, enums or tables is refused with the path of each problem.",
        rejected_cases,
    ),
}

HEADER = """\
# GENERATED by tests/selfservice/generate_suite.py -- do not edit by hand.
# Inputs were picked by hand; expected values come from the independent
# reference calculation of the policy text (tests/selfservice/reference.py).
# Schema: schemas/suite.schema.json
"""


def expectation(c: Case) -> dict[str, Any]:
    outcome = ref.decide(c["decision"], c["input"] | {"as_of": c["as_of"]}, c.get("version"))
    if isinstance(outcome, ref.Rejected):
        errors = [
            {"code": code, "path": path} if path else {"code": code}
            for code, path in sorted(outcome.problems, key=lambda p: (p[1], p[0]))
        ]
        return {"error": errors[0] if len(errors) == 1 else errors}
    return {"version": outcome.version, "result": outcome.result}


def _published_on(label: str) -> date:
    """The day `label` was published, from rules/self-service/versions.lock."""
    lock = json.loads((SUITE_DIR.parent / "versions.lock").read_text("utf-8"))
    return date.fromisoformat(
        next(v for v in lock["versions"] if v["version"] == label)["published_on"]
    )


# A case decided on or after the day the newest version the reference knows was published
# pins the version it was written for: a later version (never backdated) may take effect
# on any later day. Earlier days are decided by the versions known here, whatever is added.
PIN_FROM = _published_on(ref.VERSIONS[-1].label)


def pinned(c: Case) -> Case:
    """The case, pinned to the version the reference decides it with when it could change."""
    if "version" in c or date.fromisoformat(c["as_of"]) < PIN_FROM:
        return c
    chosen = ref.select_version(date.fromisoformat(c["as_of"]), None)
    return case(
        c["name"], c["decision"], c["input"], c["as_of"], c.get("description"), chosen.label
    )


def build(cases: list[Case]) -> list[Case]:
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return [c | {"expect": expectation(c)} for c in map(pinned, cases)]


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # every case spells out its input


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Quote anything that looks like a number, a date or a version ("2026-11", "41580").
    style = '"' if value and all(ch in "0123456789.-:" for ch in value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render(description: str, cases: list[Case]) -> str:
    body = yaml.dump(
        {"ruleset": "self-service", "description": description, "cases": build(cases)},
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=110,
    )
    return HEADER + body


def all_files() -> dict[str, str]:
    return {name: render(description, make()) for name, (description, make) in FILES.items()}


def main() -> None:
    SUITE_DIR.mkdir(parents=True, exist_ok=True)
    total = 0
    for name, text in all_files().items():
        (SUITE_DIR / name).write_text(text, "utf-8")
        count = text.count("\n- name: ")
        total += count
        print(f"{SUITE_DIR / name}: {count} cases")
    print(f"{total} generated cases")


if __name__ == "__main__":
    main()
