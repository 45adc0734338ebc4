"""Generate a JSON-lines corpus for `ruleengine diff` and `ruleengine test --log`.

    .venv/bin/python bench/diff_corpus.py /tmp/ss.jsonl --ruleset self-service --lines 1000000
    /usr/bin/time -v .venv/bin/ruleengine diff self-service --from 2026-11 --to 2026-12 \\
        --inputs /tmp/ss.jsonl

`--ruleset self-service` (the figure of bench/README.md) writes decision-log
lines of the options, add_seats and change_term decisions (half, three tenths,
one fifth) on the facts of `bench/cases.py`, decided by the version in effect
on their as_of (November 2026 to February 2027). `--ruleset example` (default)
writes the web shop below.

`--format log` (default) writes decision-log lines (`../shared/DESIGN.md`):
checkout and quote decisions of a web shop, decided by the version in effect
on their as_of (January to June 2026, so version 2026-01), with the result the
engine gave; about 1% of lines carry input the rules reject (result null), to
be counted as invalid. `--format inputs` writes bare checkout inputs instead
(run diff with `--decision checkout`). Deterministic for a given `--seed`.
Write corpora to /tmp, not into the repository.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ruleengine
from ruleengine import jsonio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import options_case

ROOT = Path(__file__).resolve().parent.parent
COUNTRIES = ["US"] * 8 + ["CA", "GB", "GB", "FR", "DE", "DE", "NO", "ES", "ES", "IT", "JP"]
TIERS = ["standard"] * 6 + ["gold"] * 3 + ["platinum"]
SKUS = ["MUG-1", "TEE-4", "LAMP-2", "PEN-7", "BOOK-3", "CHAIR-5", "FIREWORKS-1", "KNIFE-9"]
CURRENCIES = {"USD": 6, "EUR": 3, "GBP": 2, "JPY": 1}


def make_input(rng: random.Random) -> dict[str, Any]:
    currency = rng.choices(list(CURRENCIES), weights=list(CURRENCIES.values()))[0]
    items = []
    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3, 4]) if rng.random() > 0.02 else 0):
        sku = rng.choice(SKUS[:6]) if rng.random() > 0.03 else rng.choice(SKUS[6:])
        price = (
            rng.randint(100, 20000) if currency == "JPY" else f"{rng.randint(99, 9999) / 100:.2f}"
        )
        items.append({"sku": sku, "quantity": rng.randint(1, 5), "unit_price": price})
    start = date(2015, 1, 1) + timedelta(days=rng.randint(0, 4000))
    facts: dict[str, Any] = {
        "customer": {
            "id": f"c-{rng.randint(1, 10**6)}",
            "country": rng.choice(COUNTRIES),
            "tier": rng.choice(TIERS),
            "email_verified": rng.random() > 0.05,
            "member_since": start.isoformat(),
        },
        "order": {"currency": currency, "items": items},
    }
    return facts


def spoil(facts: dict[str, Any], rng: random.Random) -> None:
    """Make the input invalid in one of a few realistic ways."""
    kind = rng.randrange(3)
    if kind == 0:
        facts["customer"]["tier"] = "diamond"
    elif kind == 1:
        facts["order"]["currency"] = "CHF"
    else:
        facts["customer"]["country"] = "us"


def self_service_line(engine: Any, rng: random.Random, n: int, bad: bool) -> dict[str, Any]:
    """One decision-log line of rules/self-service (an options, add_seats or change_term request)."""
    facts = options_case(rng, n)
    as_of = facts.pop("as_of")
    pick = rng.random()
    decision = "options" if pick < 0.5 else "add_seats" if pick < 0.8 else "change_term"
    if decision == "add_seats":
        facts["quantity"] = rng.choice((1, 1, 2, 5, 10))
    elif decision == "change_term":
        facts["new_term"] = rng.choice(("monthly", "annual", "three_year"))
    if bad:
        facts["subscription"]["status"] = "paused"
    result, version, content_hash = None, None, None
    try:
        made = engine.decide("self-service", decision, {**facts, "as_of": as_of})
        result = jsonio.to_plain(made.result)
        version, content_hash = made.version, made.content_hash
    except ruleengine.InputError:
        version = engine.select("self-service", date.fromisoformat(as_of)).version
    return {
        "decision_id": str(uuid.UUID(int=rng.getrandbits(128))),
        "time": f"{as_of}T{n % 24:02d}:{n % 60:02d}:00Z",
        "ruleset": "self-service",
        "decision": decision,
        "version": version,
        "content_hash": content_hash,
        "as_of": as_of,
        "locale": "en",
        "input": facts,
        "result": result,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--format", choices=["log", "inputs"], default="log")
    parser.add_argument("--invalid", type=float, default=0.01, help="share of invalid inputs")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--ruleset", choices=["example", "self-service"], default="example")
    args = parser.parse_args(argv)
    if ROOT in args.output.resolve().parents:
        sys.exit("write corpora outside the repository (e.g. /tmp)")
    rng = random.Random(args.seed)
    if args.ruleset == "self-service":
        engine = ruleengine.load(ROOT / "rules" / "self-service")
        with args.output.open("w", encoding="utf-8") as out:
            for n in range(args.lines):
                line = self_service_line(engine, rng, n, rng.random() < args.invalid)
                out.write(json.dumps(line) + "\n")
        return
    engine = ruleengine.load(ROOT / "rules" / "example")
    first = date(2026, 1, 1)
    with args.output.open("w", encoding="utf-8") as out:
        for n in range(args.lines):
            facts = make_input(rng)
            as_of = (first + timedelta(days=rng.randint(0, 180))).isoformat()
            decision = "checkout" if rng.random() < 0.6 else "quote"
            if decision == "quote" and rng.random() < 0.2:
                facts["shipping"] = "express"
            if rng.random() < args.invalid:
                spoil(facts, rng)
            if args.format == "inputs":
                facts.pop("shipping", None)
                out.write(json.dumps({**facts, "as_of": as_of}) + "\n")
                continue
            result = None
            version, content_hash, locale = "2026-01", None, "en"
            try:  # a spoiled input is logged as rejected only if the rules reject it
                made = engine.decide("example", decision, {**facts, "as_of": as_of})
                result = jsonio.to_plain(made.result)
                version, content_hash, locale = made.version, made.content_hash, made.locale
            except ruleengine.InputError:
                pass
            line = {
                "decision_id": str(uuid.UUID(int=rng.getrandbits(128))),
                "time": f"{as_of}T{n % 24:02d}:{n % 60:02d}:00Z",
                "ruleset": "example",
                "decision": decision,
                "version": version,
                "content_hash": content_hash,
                "as_of": as_of,
                "locale": locale,
                "input": facts,
                "result": result,
            }
            out.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
