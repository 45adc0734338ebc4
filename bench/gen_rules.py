"""Generate a synthetic rule set with N rules, for timing `check` and evaluation.

    .venv/bin/python bench/gen_rules.py 1000 /tmp/rules-1000
    time .venv/bin/ruleengine check /tmp/rules-1000

Each rule tests equality or membership on one fact (a product code or a
country) and contributes a reason code, so the set also exercises rule
indexing. Every reason has an English and a French message.
"""

from __future__ import annotations

import sys
from pathlib import Path

COUNTRIES = [
    "US",
    "CA",
    "GB",
    "FR",
    "DE",
    "ES",
    "IT",
    "NL",
    "BE",
    "CH",
    "AT",
    "SE",
    "NO",
    "DK",
    "FI",
    "PL",
]


def generate(count: int, target: Path) -> None:
    version = target / "synthetic" / "v1"
    version.mkdir(parents=True, exist_ok=True)
    (version / "manifest.yaml").write_text(
        'ruleset: synthetic\nversion: "v1"\neffective_from: 2026-01-01\nlocales: [en, fr]\n',
        "utf-8",
    )
    (version / "types.yaml").write_text(
        "types:\n"
        "  Item:\n"
        "    fields:\n"
        "      product: {type: string, min_length: 1}\n"
        "      country: {type: string, pattern: '[A-Z]{2}'}\n"
        "      seats: {type: int, minimum: 1}\n",
        "utf-8",
    )
    reasons = ["reasons:"]
    rules = ["rules:", "  blockers:", "    params: {item: Item}", "    rules:"]
    for i in range(count):
        code = f"blocked_{i}"
        reasons += [
            f"  {code}:",
            "    remedy: contact_support",
            "    messages:",
            f"      en: Product p{i} cannot be sold here.",
            f"      fr: Le produit p{i} ne peut pas être vendu ici.",
        ]
        if i % 2 == 0:
            when = f'item.product == "p{i}" and item.seats > {i % 7}'
        else:
            countries = ", ".join(f'"{c}"' for c in COUNTRIES[i % 5 : i % 5 + 3])
            when = f'item.product == "p{i}" and item.country in [{countries}]'
        rules += [
            f"      - id: rule_{i}",
            f"        description: Synthetic rule {i}.",
            f"        when: '{when}'",
            f"        reason: {code}",
        ]
    (version / "reasons.yaml").write_text("\n".join(reasons) + "\n", "utf-8")
    (version / "rules.yaml").write_text("\n".join(rules) + "\n", "utf-8")
    (version / "decisions.yaml").write_text(
        "decisions:\n"
        "  check:\n"
        "    input: {item: Item}\n"
        "    let:\n"
        "      reasons: blockers(item)\n"
        "    output:\n"
        "      allowed: len(reasons) == 0\n"
        "      reasons: reasons\n"
        "      messages: map(c in reasons, message(c))\n",
        "utf-8",
    )


if __name__ == "__main__":
    generate(int(sys.argv[1]), Path(sys.argv[2]))
