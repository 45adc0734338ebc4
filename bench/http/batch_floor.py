"""The least a batched `quote` decision can cost in Python, against what the batch path
costs: how far issue 15's "batch of 100 >= 20x single" can go.

    .venv/bin/python bench/http/batch_floor.py [--rounds 15] [--single-us 104.5]

Per input, in one process, CPU time, the median of `--rounds` rounds of 100 inputs (the
batch body of bench/http, each input its own JSON text):

- `floor`: the leanest honest Python for one batched decision: `json.loads` of the
  input's text (decimals exact), `quote` of rules/example written by hand (no input
  check, the tables as dicts), `json.dumps` of the result (decimals as strings);
- `decide()`: `Engine.decide` of the same input, already parsed (input check included);
- `decide() + JSON in and out`: what a batched decision needs at the least with the
  engine;
- `the batch path`: the server's own code for one batch of 100 (the decision endpoint's
  ASGI call, in process: parse, cost-bound check, decide, ids, metrics, answer), per
  decision.

With `--single-us` (the server CPU per single request from bench/http/bench.py or
sample_server.py, same machine) it prints the ratio each of these would allow at best:
single / per-decision cost. The hand-written decision is checked against the engine's
answer on every input first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import ruleengine
from bench import FACTS
from ruleengine import jsonio

ROOT = Path(__file__).resolve().parents[2]

# rules/example/2026-07/tables.yaml, by hand
MINOR_UNITS = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "CHF": 2}
QUANTS = {d: Decimal(1).scaleb(-d) for d in range(0, 10)}
TIER_PERCENT = {"gold": Decimal("0.05"), "platinum": Decimal("0.12")}
FEES = {
    ("USD", "standard"): Decimal("4.99"),
    ("USD", "express"): Decimal("14.99"),
    ("EUR", "standard"): Decimal("4.50"),
    ("GBP", "standard"): Decimal("3.95"),
    ("JPY", "standard"): Decimal("600"),
    ("CHF", "express"): Decimal("18.50"),
}
FREE_SHIPPING_FROM = Decimal("50.00")
LOYALTY_DAYS = 3 * 365
LOYALTY_BONUS = Decimal("0.02")
ZERO = Decimal(0)


def quote(facts: dict[str, Any]) -> dict[str, Any]:
    """rules/example 2026-07 `quote`, by hand (inputs assumed valid)."""
    customer, order = facts["customer"], facts["order"]
    currency = order["currency"]
    quant = QUANTS[MINOR_UNITS.get(currency, 2)]
    items = order["items"]
    prices = [Decimal(i["unit_price"]) * i["quantity"] for i in items]
    total = sum(prices, ZERO)
    rate = TIER_PERCENT.get(customer["tier"], ZERO)
    loyal = date.fromisoformat(facts["as_of"]) - date.fromisoformat(customer["member_since"])
    if loyal.days >= LOYALTY_DAYS:
        rate += LOYALTY_BONUS
    discount = (total * rate).quantize(quant, ROUND_HALF_UP)
    method = facts.get("shipping") or ("standard" if (currency, "standard") in FEES else "express")
    if method == "standard" and total >= FREE_SHIPPING_FROM:
        fee = ZERO
    else:
        fee = FEES.get((currency, method), ZERO)
    count = sum(i["quantity"] for i in items)
    return {
        "currency": currency,
        "lines": [
            {"sku": i["sku"], "quantity": i["quantity"], "amount": p.quantize(quant, ROUND_HALF_UP)}
            for i, p in zip(items, prices, strict=True)
        ],
        "subtotal": total.quantize(quant, ROUND_HALF_UP),
        "discount": discount,
        "shipping_method": method,
        "shipping_fee": fee.quantize(quant, ROUND_HALF_UP),
        "total": (total - discount + fee).quantize(quant, ROUND_HALF_UP),
        "average_item_price": (
            ((total - discount) / count).quantize(quant, ROUND_HALF_UP) if count > 0 else None
        ),
    }


def _decimal_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


_ENCODE = json.JSONEncoder(separators=(",", ":"), default=_decimal_text).encode


def _inputs() -> list[str]:
    """100 inputs' texts: the bench body's facts with quantities and tiers varied."""
    texts = []
    for n in range(100):
        facts = json.loads(json.dumps(FACTS))
        facts["order"]["items"][0]["quantity"] = 1 + n % 7
        facts["customer"]["tier"] = ("standard", "gold", "platinum")[n % 3]
        texts.append(json.dumps(facts))
    return texts


def _per_input(work: Callable[[], None], n: int, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.process_time()
        work()
        times.append((time.process_time() - start) / n * 1e6)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--single-us", type=float, help="server CPU µs per single request")
    args = parser.parse_args()

    engine = ruleengine.load(ROOT / "rules" / "example")
    texts = _inputs()
    parsed = [jsonio.loads(t) for t in texts]
    for facts in parsed:  # the hand-written decision agrees with the engine
        made = engine.decide("example", "quote", facts).result
        assert jsonio.to_plain(made) == jsonio.to_plain(quote(facts)), facts

    def floor() -> None:
        for text in texts:
            _ENCODE(quote(json.loads(text, parse_float=Decimal)))

    def decide_only() -> None:
        for facts in parsed:
            engine.decide("example", "quote", facts)

    def decide_with_json() -> None:
        for text in texts:
            jsonio.plain_json(engine.decide("example", "quote", jsonio.loads(text)).result)

    batch_path = _batch_path(engine, texts)
    for work in (floor, decide_only, decide_with_json, batch_path):  # warm up
        work()
    rows = [
        ("floor: json.loads + hand-written quote + json.dumps", floor),
        ("decide() alone (input already parsed)", decide_only),
        ("decide() + JSON in and out", decide_with_json),
        ("the batch path (decision endpoint, in process)", batch_path),
    ]
    figures = {title: 0.0 for title, _ in rows}
    for _ in range(args.rounds):  # the rows in turns, so a busy spell slows them alike
        for title, work in rows:
            figures[title] += _per_input(work, len(texts), 1) / args.rounds

    print(
        f"quote of rules/example, CPU µs per decision, mean of {args.rounds} rounds of "
        f"{len(texts)} inputs in turns, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    header = f"{'':<54} {'µs/decision':>11}"
    if args.single_us:
        header += f" {'single / this':>14}"
    print(header)
    for title, us in figures.items():
        line = f"{title:<54} {us:>11.2f}"
        if args.single_us:
            line += f" {args.single_us / us:>13.1f}x"
        print(line)


def _batch_path(engine: ruleengine.Engine, texts: list[str]) -> Callable[[], None]:
    """One batch of the inputs through the decision endpoint's ASGI app, in process."""
    from server.app import create_app
    from server.settings import Settings

    app = create_app(engine=engine, settings=Settings(watch=False, access_log=False))
    body = ('{"inputs":[' + ",".join(texts) + "]}").encode()
    path = "/v1/rulesets/example/decisions/quote/batch"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    loop = asyncio.new_event_loop()

    def run() -> None:
        sent.clear()
        loop.run_until_complete(app(dict(scope), receive, send))
        assert sent[0]["status"] == 200, sent

    return run


if __name__ == "__main__":
    main()
