"""Health, readiness, metrics, rule-set listings, request ids and JSON log lines."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi.testclient import TestClient

import ruleengine
from server.app import create_app
from server.logs import JsonFormatter

from .conftest import FACTS, URL, errors_of, settings


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_list_rulesets_says_what_is_in_effect_today(client: TestClient) -> None:
    body = client.get("/v1/rulesets").json()
    assert body["today"] == "2026-03-15"
    [example] = body["rulesets"]
    assert example["in_effect"] == "2026-01"
    assert [(v["version"], v["in_effect"], v["decisions"]) for v in example["versions"]] == [
        ("2026-01", True, ["checkout", "quote"]),
        ("2026-07", False, ["checkout", "quote"]),
    ]
    assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", v["content_hash"]) for v in example["versions"])


def test_get_ruleset(client: TestClient) -> None:
    body = client.get("/v1/rulesets/example").json()
    assert body["name"] == "example"
    assert body["in_effect"] == "2026-01"
    assert [v["effective_from"] for v in body["versions"]] == ["2026-01-01", "2026-07-01"]
    assert body["last_reload"] is None  # served as handed in, never reloaded


def test_unknown_ruleset_is_404(client: TestClient) -> None:
    [error] = errors_of(client.get("/v1/rulesets/exmaple"), 404)
    assert (error["code"], error["path"]) == ("unknown_ruleset", "ruleset")
    assert "'exmaple'" in error["message"]


def test_metrics_count_decisions_by_outcome(client: TestClient) -> None:
    client.post(URL.format("quote"), json={"input": FACTS})
    client.post(URL.format("quote"), json={"input": {**FACTS, "as_of": "2025-01-01"}})
    client.post(URL.format("qoute"), json={"input": FACTS})
    client.post("/v1/rulesets/random-name/decisions/x", json={"input": FACTS})
    text = client.get("/metrics").text
    assert re.search(
        r'ruleengine_decisions_total\{decision="quote",outcome="ok",ruleset="example",'
        r'version="2026-01"\} [1-9]',
        text,
    )
    assert 'outcome="no_version_in_effect",ruleset="example"' in text
    assert 'decision="",outcome="unknown_decision",ruleset="example"' in text
    # names the store does not know never become label values
    assert "random-name" not in text
    assert 'decision="",outcome="unknown_ruleset",ruleset="",version=""' in text
    assert (
        'ruleengine_decision_seconds_bucket{decision="quote",le="0.001",ruleset="example"}' in text
    )
    assert (
        'ruleengine_http_request_seconds_count{method="POST",'
        'route="/v1/rulesets/{ruleset}/decisions/{decision}",status="200"}'
    ) in text


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    given = client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = client.get("/healthz", headers={"x-request-id": "no spaces\tor tabs"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    assert client.get("/nothing").headers["x-request-id"]


def test_openapi_is_served_and_404_405_use_the_envelope(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["openapi"].startswith("3.")
    errors_of(client.get("/v1/nothing"), 404)
    [error] = errors_of(client.delete("/v1/rulesets"), 405)
    assert error["code"] == "method_not_allowed"


def test_access_log_lines_are_json_with_the_request_id(
    example_engine: ruleengine.Engine,
) -> None:
    formatter = JsonFormatter()
    lines: list[dict[str, Any]] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(formatter.format(record)))

    handler = Capture()
    access = logging.getLogger("server.access")
    access.addHandler(handler)
    try:
        app = create_app(engine=example_engine, settings=settings(access_log=True))
        with TestClient(app) as logged:
            logged.post(
                URL.format("quote"), json={"input": FACTS}, headers={"x-request-id": "r-42"}
            )
    finally:
        access.removeHandler(handler)
    [line] = [entry for entry in lines if entry.get("request_id") == "r-42"]
    assert line["level"] == "info"
    assert line["message"] == "request"
    assert (line["method"], line["route"], line["status"]) == (
        "POST",
        "/v1/rulesets/{ruleset}/decisions/{decision}",
        200,
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])


def test_a_batch_counts_each_of_its_decisions(example_engine: ruleengine.Engine) -> None:
    """Decisions of a batch are counted once per batch and outcome, each of them."""
    app = create_app(engine=example_engine, settings=settings())
    bad = {"customer": {}, "order": FACTS["order"]}
    with TestClient(app) as client:
        answer = client.post(URL.format("quote") + "/batch", json={"inputs": [FACTS, bad, FACTS]})
        assert answer.status_code == 200
        text = client.get("/metrics").text
    counted = {
        outcome: float(value)
        for outcome, value in re.findall(
            r'ruleengine_decisions_total\{decision="quote",outcome="(\w+)",'
            r'ruleset="example",version="[^"]*"\} (\S+)',
            text,
        )
    }
    assert counted.pop("ok") == 2
    assert sum(counted.values()) == 1  # the bad input, under its error code
    assert text.count('ruleengine_decision_seconds_count{decision="quote"') == 1
    assert 'ruleengine_decision_seconds_count{decision="quote",ruleset="example"} 2.0' in text
