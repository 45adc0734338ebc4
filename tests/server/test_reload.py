"""Reloads in process: a good reload swaps every version at once, a bad one changes
nothing and is reported (rule-set listing, admin answer, metrics, log); the OpenAPI
document follows the rules; admin routes need the bearer token, or do not exist."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.app import create_app

from .conftest import FACTS, URL, captured_logs, errors_of, load_copy, settings

TOKEN = "s3cret-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def admin(example_copy: Path) -> Iterator[TestClient]:
    app = create_app(engine=load_copy(example_copy), settings=settings(admin_token=TOKEN))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")


def quote(client: TestClient) -> dict[str, object]:
    response = client.post(URL.format("quote"), json={"input": FACTS})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_admin_routes_do_not_exist_without_a_token(client: TestClient) -> None:
    [error] = errors_of(client.post("/v1/admin/reload", headers=AUTH), 404)
    assert error["code"] == "not_found"


def test_wrong_or_missing_token_is_401_and_logged(admin: TestClient) -> None:
    with captured_logs("server.admin") as refused:
        for headers in ({}, {"authorization": "Bearer nope"}, {"authorization": TOKEN}):
            response = admin.post("/v1/admin/reload", headers=headers)
            [error] = errors_of(response, 401)
            assert error["code"] == "unauthorized"
            assert response.headers["www-authenticate"] == "Bearer"
    assert [r.levelno for r in refused] == [logging.WARNING] * 3
    assert all(TOKEN not in r.getMessage() for r in refused)


def test_good_reload_swaps_versions(admin: TestClient, example_copy: Path) -> None:
    before = quote(admin)
    edit(example_copy / "2026-01" / "tables.yaml", "[gold, 0.05]", "[gold, 0.06]")
    response = admin.post("/v1/admin/reload", headers=AUTH)
    assert response.status_code == 200, response.text
    reload = response.json()["reload"]
    assert (reload["ok"], reload["trigger"], reload["errors"]) == (True, "admin", [])
    after = quote(admin)
    assert after["content_hash"] != before["content_hash"]
    assert after["result"]["discount"] == "4.03"  # type: ignore[index]  # 50.34 * (6% + 2% loyalty)
    listed = admin.get("/v1/rulesets/example").json()
    assert listed["versions"][0]["content_hash"] == after["content_hash"]
    assert listed["last_reload"]["ok"] is True


def test_failed_reload_keeps_every_running_version(admin: TestClient, example_copy: Path) -> None:
    before = quote(admin)
    hashes = [v["content_hash"] for v in admin.get("/v1/rulesets/example").json()["versions"]]
    # one version valid and changed, the other broken: nothing at all may change
    edit(example_copy / "2026-07" / "tables.yaml", "[gold, 0.05]", "[gold, 0.07]")
    edit(example_copy / "2026-01" / "rules.yaml", "when:", "when: customer.tierr ==")
    response = admin.post("/v1/admin/reload", headers=AUTH)
    errors = errors_of(response, 422)
    assert any("rules.yaml:" in e["path"] for e in errors)
    after = quote(admin)
    assert (after["content_hash"], after["result"]) == (before["content_hash"], before["result"])
    listed = admin.get("/v1/rulesets/example").json()
    assert [v["content_hash"] for v in listed["versions"]] == hashes
    last = listed["last_reload"]
    assert (last["ok"], last["trigger"]) == (False, "admin")
    assert last["errors"] and all(e["file"].endswith(".yaml") for e in last["errors"])
    assert any(e["file"].endswith("2026-01/rules.yaml") and e["line"] > 0 for e in last["errors"])
    assert 'ruleengine_reloads_total{result="failed",trigger="admin"} 1.0' in (
        admin.get("/metrics").text
    )
    assert admin.get("/readyz").json()["status"] == "ready"


def test_openapi_follows_a_reload(admin: TestClient, example_copy: Path) -> None:
    def currencies() -> list[str]:
        doc = admin.get("/openapi.json").json()
        order = doc["components"]["schemas"]["ExampleQuoteInput"]["properties"]["order"]
        return list(order["properties"]["currency"]["enum"])

    assert "SEK" not in currencies()
    for version in ("2026-01", "2026-07"):
        edit(example_copy / version / "tables.yaml", "JPY: 0,", "JPY: 0, SEK: 2,")
    assert admin.post("/v1/admin/reload", headers=AUTH).status_code == 200
    assert "SEK" in currencies()
    order = {**FACTS["order"], "currency": "SEK"}
    response = admin.post(URL.format("quote"), json={"input": {**FACTS, "order": order}})
    assert response.json()["result"]["currency"] == "SEK"
