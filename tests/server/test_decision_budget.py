"""Over budget over HTTP (issue 12): a decision whose input is too large for its cost
bound is a 422 naming the path; one whose rules build an int past the runtime cap is a
500 carrying the request id (body, header and log line), answered at once."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient

import ruleengine
from server.app import create_app
from server.logs import JsonFormatter

from .conftest import captured_logs, errors_of, settings

MANIFEST = 'ruleset: s\nversion: "1"\neffective_from: 2026-01-01\nlocales: [en]\n'
RULES = """decisions:
  power:
    input:
      x: int
    let:
      a: x * x
      b: a * a
      c: b * b
      d: c * c
      e: d * d
      f: e * e
      g: f * f
      h: g * g
      i: h * h
      j: i * i
    output:
      v: j
  pairs:
    input:
      xs: list<int>
    output:
      v: sum(a in xs, sum(b in xs, a * b))
"""


def _request_id(record: logging.LogRecord) -> str:
    return str(json.loads(JsonFormatter().format(record)).get("request_id"))


def _client(tmp_path: Path) -> TestClient:
    version = tmp_path / "s" / "v1"
    version.mkdir(parents=True)
    (version / "manifest.yaml").write_text(MANIFEST)
    (version / "rules.yaml").write_text(RULES)
    engine = ruleengine.load(tmp_path, clock=lambda: date(2026, 3, 15))
    return TestClient(create_app(engine=engine, settings=settings()), raise_server_exceptions=False)


def test_an_int_past_the_cap_is_a_500_with_the_request_id(tmp_path: Path) -> None:
    with captured_logs("server.errors") as records, _client(tmp_path) as client:
        small = client.post("/v1/rulesets/s/decisions/power", json={"input": {"x": 2}})
        over = client.post(
            "/v1/rulesets/s/decisions/power",
            json={"input": {"x": 9999999999}},
            headers={"X-Request-ID": "big-int-1"},
        )
    assert small.status_code == 200 and small.json()["result"]["v"] == 2**1024
    [error] = errors_of(over, 500)
    assert error["code"] == "decision_budget_exceeded"
    assert over.headers["X-Request-ID"] == "big-int-1"
    assert "big-int-1" in error["message"]
    [record] = records
    assert _request_id(record) == "big-int-1"
    assert "decision_budget_exceeded" in record.getMessage()
    assert record.exc_info is None  # one line, no traceback: the rules' doing, not a bug


def test_a_batch_refuses_only_the_input_over_the_int_cap(tmp_path: Path) -> None:
    with captured_logs("server.errors") as records, _client(tmp_path) as client:
        answer = client.post(
            "/v1/rulesets/s/decisions/power/batch",
            json={"inputs": [{"x": 2}, {"x": 9999999999}, {"x": 1}]},
            headers={"X-Request-ID": "big-int-2"},
        )
    assert answer.status_code == 200
    first, over, last = answer.json()["results"]
    assert (first["result"]["v"], last["result"]["v"]) == (2**1024, 1)
    [error] = over["errors"]
    assert (error["code"], error["path"]) == ("decision_budget_exceeded", "inputs[1]")
    assert "big-int-2" in error["message"]
    [record] = records
    assert _request_id(record) == "big-int-2"


def test_an_input_too_large_for_the_bound_is_a_422(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        fine = client.post("/v1/rulesets/s/decisions/pairs", json={"input": {"xs": [1] * 400}})
        over = client.post("/v1/rulesets/s/decisions/pairs", json={"input": {"xs": [1] * 5000}})
    assert fine.status_code == 200 and fine.json()["result"]["v"] == 160_000
    [error] = errors_of(over, 422)
    assert (error["code"], error["path"]) == ("decision_budget_exceeded", "input.xs")


def test_any_route_answers_an_over_budget_decision_as_such(tmp_path: Path) -> None:
    """Routes other than the decision endpoints (the playground's draft decisions) get
    the same answer from the app's error handler, not a bare `internal_error`."""
    with captured_logs("server.errors") as records, _client(tmp_path) as client:

        @client.app.get("/over-budget")  # type: ignore[attr-defined]
        def over() -> None:
            raise ruleengine.DecisionBudgetError("rules.yaml:7:10: an int of 4,001 digits")

        answer = client.get("/over-budget", headers={"X-Request-ID": "big-int-3"})
    [error] = errors_of(answer, 500)
    assert error["code"] == "decision_budget_exceeded"
    assert "rules.yaml:7:10" in error["message"] and "big-int-3" in error["message"]
    assert answer.headers["X-Request-ID"] == "big-int-3"
    [record] = records
    assert _request_id(record) == "big-int-3" and record.exc_info is None
