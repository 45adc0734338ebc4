"""The decision log: one JSON line per decision (DESIGN.md's fields), written off the
request path, enough to reproduce every logged answer."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient

import ruleengine
from ruleengine import jsonio
from server.app import create_app

from .conftest import FACTS, URL, settings

FIELDS = [
    "decision_id",
    "time",
    "ruleset",
    "decision",
    "version",
    "content_hash",
    "as_of",
    "locale",
    "input",
    "result",
]


def test_every_decision_is_logged_and_reproducible(
    example_engine: ruleengine.Engine, tmp_path: Path
) -> None:
    log = tmp_path / "logs" / "decisions.jsonl"
    app = create_app(engine=example_engine, settings=settings(decision_log=log))
    july = {**FACTS, "as_of": "2026-07-01", "locale": "fr"}
    text = json.dumps({"input": FACTS}).replace('"16.78"', "16.78")  # a JSON number
    with TestClient(app) as client:
        answers = [
            client.post(URL.format("quote"), content=text).json(),
            client.post(URL.format("checkout"), json={"input": july, "explain": True}).json(),
        ]
        batch = client.post(
            URL.format("quote") + "/batch",
            json={"inputs": [july, {"bad": 1}], "version": "2026-01"},
        ).json()
        answers.append(batch["results"][0])
        assert client.post(URL.format("quote"), json={"input": {}}).status_code == 422
    # leaving the client ran the app's shutdown, which drains the log
    raw = log.read_text("utf-8").splitlines()
    lines = [jsonio.loads(line) for line in raw]
    assert [list(line) for line in lines] == [FIELDS] * 3
    assert [line["decision_id"] for line in lines] == [a["decision_id"] for a in answers]
    for line, answer in zip(lines, answers, strict=True):
        for key in ("ruleset", "decision", "version", "content_hash", "as_of", "locale", "result"):
            assert line[key] == answer[key]
        assert line["time"].endswith("Z")
        again = example_engine.decide(
            line["ruleset"],
            line["decision"],
            {**line["input"], "as_of": line["as_of"]},
            version=line["version"],
        )
        assert jsonio.to_plain(again.result) == line["result"]
    # The input as received: a JSON number stays a number, with its exact digits, and a
    # decimal string stays a string.
    assert '"unit_price": 16.78' in raw[0]
    assert lines[0]["input"]["order"]["items"][0]["unit_price"] == Decimal("16.78")
    assert lines[1]["input"]["order"]["items"][0]["unit_price"] == "16.78"
    assert (lines[2]["version"], lines[2]["as_of"]) == ("2026-01", "2026-07-01")
