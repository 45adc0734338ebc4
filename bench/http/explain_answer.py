"""What an explained answer (`"explain": true`) costs the server, in process: the whole
decision endpoint against its parts, and the answer's JSON written the old way (a Python
copy of the explanation and derivation, `to_plain`, then `json.dumps`) against the new
(`jsonio.decision_json`, one pass of the C encoder).

    .venv/bin/python bench/http/explain_answer.py [--rounds 7] [--calls 500]

CPU µs per answer, the minimum over rounds, the rows timed in turns; the two encodings
are checked to give the same text first. Each timed decision is made afresh, so the
derivation tree (built when first read) is built inside every row that reads it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import ruleengine
from bench import FACTS
from ruleengine import jsonio

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()

    from server.app import create_app
    from server.settings import Settings

    engine = ruleengine.load(ROOT / "rules" / "example")

    def decide() -> Any:
        return engine.decide("example", "quote", FACTS, explain=True)

    def old_text() -> str:
        out = {**jsonio.decision_to_json(decide()), "decision_id": "d"}
        return json.dumps(out, ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    def new_text() -> str:
        return jsonio.decision_json(decide(), decision_id="d")

    assert old_text() == new_text()
    app = create_app(engine=engine, settings=Settings(watch=False, access_log=False))
    body = json.dumps({"input": FACTS, "explain": True}).encode()
    loop = asyncio.new_event_loop()

    def endpoint() -> None:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        path = "/v1/rulesets/example/decisions/quote"
        scope = {"type": "http", "method": "POST", "path": path, "headers": [], "client": None}
        loop.run_until_complete(app(scope, receive, send))
        assert sent[0]["status"] == 200, sent

    rows: list[tuple[str, Callable[[], object]]] = [
        ("decide(explain=True), derivation not read", decide),
        ("decide + answer JSON, old: decision_to_json, json.dumps", old_text),
        ("decide + answer JSON, new: jsonio.decision_json", new_text),
        ("the decision endpoint, explained answer (new)", endpoint),
    ]
    best = {title: float("inf") for title, _ in rows}
    for _ in range(args.rounds):
        for title, work in rows:
            start = time.process_time()
            for _ in range(args.calls):
                work()
            best[title] = min(best[title], (time.process_time() - start) / args.calls * 1e6)
    print(
        f"explained quote of rules/example, CPU µs per answer, best of {args.rounds} rounds "
        f"of {args.calls}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    for title, us in best.items():
        print(f"{title:<56} {us:>8.1f}")


if __name__ == "__main__":
    main()
