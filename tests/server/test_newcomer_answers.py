"""Answers a newcomer meets first (issue 16, rough edges): a disabled admin route says
how to enable it; envelope mistakes get a did-you-mean or a hint to wrap the facts;
the admin route is documented under `admin` with its bearer scheme; /metrics has no
`_created` series."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

import ruleengine
from server.app import create_app

from .conftest import FACTS, URL, errors_of, settings


@pytest.fixture(scope="module")
def admin(example_engine: ruleengine.Engine) -> Iterator[TestClient]:
    app = create_app(engine=example_engine, settings=settings(admin_token="t0ken"))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def by_path(errors: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["path"]: e for e in errors}


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_disabled_admin_route_says_how_to_enable_it(client: TestClient, method: str) -> None:
    [error] = errors_of(client.request(method, "/v1/admin/reload"), 404)
    assert error["code"] == "not_found"
    assert "disabled" in error["message"]
    assert "RULEENGINE_ADMIN_TOKEN" in error["message"]


def test_disabled_admin_route_is_not_in_openapi(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert not [p for p in doc["paths"] if p.startswith("/v1/admin")]
    assert "adminToken" not in doc["components"].get("securitySchemes", {})


def test_admin_route_is_documented_under_admin_with_bearer(admin: TestClient) -> None:
    doc = admin.get("/openapi.json").json()
    operation = doc["paths"]["/v1/admin/reload"]["post"]
    assert operation["tags"] == ["admin"]
    assert operation["security"] == [{"adminToken": []}]
    assert doc["components"]["securitySchemes"]["adminToken"] == {
        "type": "http",
        "scheme": "bearer",
    }


def test_enabled_admin_route_still_wants_the_token(admin: TestClient) -> None:
    [error] = errors_of(admin.post("/v1/admin/reload"), 401)
    assert error["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("field", "meant"), [("inptu", "input"), ("Input", "input"), ("verison", "version")]
)
def test_misspelt_envelope_field_gets_did_you_mean(
    client: TestClient, field: str, meant: str
) -> None:
    body = {"input": FACTS, field: FACTS} if meant != "input" else {field: FACTS}
    if meant == "version":
        body[field] = "2026-01"
    errors = by_path(errors_of(client.post(URL.format("quote"), json=body), 422))
    assert errors[field]["code"] == "unknown_field"
    assert errors[field]["message"].endswith(f"did you mean {meant!r}?")
    if meant == "input":
        assert errors["input"]["code"] == "required"
        assert "wrap" not in errors["input"]["message"]


def test_bare_facts_get_a_hint_to_wrap_them(client: TestClient) -> None:
    errors = by_path(errors_of(client.post(URL.format("quote"), json=FACTS), 422))
    assert {errors["customer"]["code"], errors["order"]["code"]} == {"unknown_field"}
    assert "did you mean" not in errors["customer"]["message"]
    assert errors["input"]["code"] == "required"
    assert '{"input": {...}}' in errors["input"]["message"]


def test_bare_batch_gets_a_hint_to_wrap_it(client: TestClient) -> None:
    batch = URL.format("quote") + "/batch"
    [error] = errors_of(client.post(batch, json=[FACTS]), 422)
    assert error["code"] == "type"
    assert '{"inputs": [...]}' in error["message"]
    errors = by_path(errors_of(client.post(batch, json=FACTS), 422))
    assert '{"inputs": [{...}, ...]}' in errors["inputs"]["message"]


def test_metrics_have_no_created_series(client: TestClient) -> None:
    assert client.post(URL.format("quote"), json={"input": FACTS}).status_code == 200
    text = client.get("/metrics").text
    assert "ruleengine_decisions_total" in text
    assert "_created" not in text
