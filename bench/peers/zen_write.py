"""Write the ZEN encodings of the `options` decision (bench/peers/zen_options*.{zen,json}).

    .venv/bin/python bench/peers/zen_write.py

The encodings are data; this script is how they are made, so the three stay one
policy. Each is the fastest form measured for its mode (zen-engine 2.1.3; see
bench/README.md), written against ZEN's documented language: no `let`, so values are
bound once with `map([value] as name, ...)[0]`; no list `+`, so reason lists are
concatenated with `flatMap([...], #)`; a reason is added by `cond ? [[code, message]] : []`
(no pair is built for a false condition); ISO dates cannot be compared as text, so
`d(...)` dates, and the version's date only for PL (the one country the versions differ
on). The price list is an object from product to priced terms, looked up once; every
priced product is priced in the same four currencies (as in the policy's table, and as the
floor uses it). The decision table (hit policy `collect`) keeps one row per reason; its
rows are data in zen_options_table.json, and this script rewrites only its two
expression nodes.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
j = json.dumps

SELF_SERVICE = ["US", "CA", "AU", "JP", "GB", "IE", "FR", "DE", "AT", "CH", "BE", "NL", "LU"]
SELF_SERVICE += ["ES", "PT", "IT", "DK", "SE", "NO", "FI", "PL", "CZ"]
ADD_SEATS_2026_11 = ["US", "CA", "GB", "IE", "FR", "DE", "AT", "CH", "BE", "NL", "LU", "ES"]
ADD_SEATS_2026_11 += ["PT", "IT", "DK", "SE", "NO", "FI", "CZ"]
ALL_TERMS = ["monthly", "annual", "three_year"]
TERMS = {
    "maya-lt": ALL_TERMS,
    "autocad-lt": ALL_TERMS,
    "autocad": ALL_TERMS,
    "revit": ["annual", "three_year"],
    "3ds-max": ["monthly", "annual"],
    "fusion": ["monthly", "annual"],
}
CURRENCIES = '["USD", "EUR", "GBP", "JPY"]'
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
TERMS_OF_PRODUCT = (
    "({" + ", ".join(f"{j(p)}: {j(t)}" for p, t in TERMS.items()) + "})[subscription.product] ?? []"
)
PRICED = f"subscription.currency in {CURRENCIES} and subscription.term in terms"
OTHER_TERM = f"subscription.currency in {CURRENCIES} and some(terms, # != subscription.term)"
IN_ADD_SEATS = (
    f"account.country in {j(ADD_SEATS_2026_11)}"
    ' or (account.country == "PL" and d(as_of) >= d("2026-12-01"))'
)
# (code, condition), in the policy's order.
GATE = [
    ("country_unsupported", f"not (account.country in {j(SELF_SERVICE)})"),
    ("maintenance_plan", 'subscription.plan == "maintenance"'),
    ("digital_river", 'subscription.channel == "digital_river"'),
    ("reseller_purchase", 'subscription.channel == "reseller"'),
    (
        "retired_product",
        f"subscription.product in {j(['alias-design', 'softimage', '3ds-max-design', 'autocad-ws'])}",
    ),
    ("product_not_supported", 'subscription.product in ["fusion", "fusion-manage"]'),
    ("not_active", 'subscription.status != "active"'),
]
OWN = {
    "align_dates": [("paypal_not_alignable", 'subscription.payment_method == "paypal"')],
    "add_seats": [
        ("add_seats_region_unsupported", f"not ({IN_ADD_SEATS})"),
        ("auto_renew_off", "not subscription.auto_renew"),
        ("renewal_due", "d(as_of) >= d(subscription.renewal_date)"),
        ("price_unavailable", f"not ({PRICED})"),
    ],
    "change_term": [("no_alternative_term", f"not ({OTHER_TERM})")],
}
REMEDY = 'subscription.channel == "reseller" ? "contact_reseller" : "contact_support"'


def reasons(rows: list[tuple[str, str]], first: str = "") -> str:
    """[[code, message], ...] of the rows whose condition holds, after the list `first`."""
    parts = ([first] if first else []) + [
        f"{cond} ? [[{j(code)}, {j(MESSAGES[code])}]] : []" for code, cond in rows
    ]
    return "flatMap([\n    " + ",\n    ".join(parts) + "\n  ], #)"


def option(r: str) -> str:
    return (
        f"len({r}) == 0 ? {{available: true, reasons: [], remedy: null, messages: []}}"
        f" : {{available: false, reasons: map({r}, #[0]), remedy: {REMEDY}, messages: map({r}, #[1])}}"
    )


def expression() -> str:
    """The whole decision as one ZEN expression (facts in, the result object out)."""
    lists = ",\n  ".join(reasons(rows, "gate") for rows in OWN.values())
    body = ", ".join(f"{name}: {option(f'r[{i}]')}" for i, name in enumerate(OWN))
    return (
        f"map([{reasons(GATE)}] as gate, map([{TERMS_OF_PRODUCT}] as terms, map([[\n  {lists}\n]] as r,"
        f" {{{body}}})[0])[0])[0]\n"
    )


def node(id_: str, kind: str, content: Any = None) -> dict[str, Any]:
    made: dict[str, Any] = {"id": id_, "name": id_, "position": {"x": 0, "y": 0}, "type": kind}
    if content is not None:
        made["content"] = content
    return made


def expressions(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "expressions": [{"id": f"e{i}", "key": k, "value": v} for i, (k, v) in enumerate(pairs)]
    }


def edges(ids: list[str]) -> list[dict[str, str]]:
    return [
        {"id": f"{a}-{b}", "sourceId": a, "targetId": b, "type": "edge"}
        for a, b in itertools.pairwise(ids)
    ]


def graph() -> dict[str, Any]:
    """One expression node whose one expression is the whole decision (key `options`)."""
    nodes = [
        node("request", "inputNode"),
        node("options", "expressionNode", expressions([("options", expression().strip())])),
        node("response", "outputNode"),
    ]
    return {
        "contentType": "application/vnd.gorules.decision",
        "nodes": nodes,
        "edges": edges(["request", "options", "response"]),
    }


def table_graph(current: dict[str, Any]) -> dict[str, Any]:
    """The decision-table graph with its two expression nodes' expressions rewritten (rows and
    settings, such as `passThrough`, kept)."""
    by_id = {n["id"]: n for n in current["nodes"]}
    by_id["price_facts"]["content"] |= expressions(
        [
            ("terms", TERMS_OF_PRODUCT),
            ("priced", f"subscription.currency in {CURRENCIES} and subscription.term in $.terms"),
            (
                "other_term",
                f"subscription.currency in {CURRENCIES} and some($.terms, # != subscription.term)",
            ),
        ]
    )
    pick = 'filter(hits, #.option == "all" or #.option == {})'
    by_id["options"]["content"] |= expressions(
        [
            (
                name,
                f"map([{pick.format(j(name))}] as r, len(r) == 0"
                " ? {available: true, reasons: [], remedy: null, messages: []}"
                f" : {{available: false, reasons: map(r, #.code), remedy: {REMEDY},"
                " messages: map(r, #.message)})[0]",
            )
            for name in OWN
        ]
    )
    return current


def main() -> None:
    (HERE / "zen_options.zen").write_text(expression(), "utf-8")
    (HERE / "zen_options.json").write_text(json.dumps(graph(), indent=2) + "\n", "utf-8")
    table = HERE / "zen_options_table.json"
    written = table_graph(json.loads(table.read_text("utf-8")))
    table.write_text(json.dumps(written, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
