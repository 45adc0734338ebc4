"""The playground page: served at / and /playground, off by a setting, and built only on
the public API (the browser check of its behaviour: tests/browser/check_playground.py)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

import ruleengine
from server.app import create_app

from .conftest import EXAMPLE, FACTS, URL, settings


def test_the_page_is_served(client: TestClient) -> None:
    home = client.get("/", follow_redirects=False)
    assert home.status_code in (302, 307)
    assert home.headers["location"] == "/playground"
    page = client.get("/playground")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    controls = ("ruleset", "decision", "version", "as_of", "locale", "example", "compare")
    for control in (*controls, "input", "decide", "explanation", "differences"):
        assert f'id="{control}"' in page.text, control
    assert "/playground" not in client.get("/openapi.json").json()["paths"]


def test_the_page_uses_only_the_public_api(client: TestClient) -> None:
    page = client.get("/playground").text
    fetched = set(re.findall(r"fetch\(\s*[`\"]([^`\"$]+)", page))
    assert fetched == {"/v1/rulesets", "/openapi.json", "/v1/rulesets/"}
    assert "/v1/rulesets/${" in page  # decisions are posted to the decision's own path
    assert "}/examples`" in page
    # What the page reads from those answers is there.
    listing = client.get("/v1/rulesets").json()
    version = listing["rulesets"][0]["versions"][0]
    assert {"version", "effective_from", "decisions"} <= set(version)
    spec = client.get("/openapi.json").json()
    body = spec["paths"][URL.format("quote")]["post"]["requestBody"]
    assert "input" in body["content"]["application/json"]["schema"]["properties"]
    answer = client.post(URL.format("checkout"), json={"input": FACTS, "explain": True}).json()
    for key in ("result", "version", "content_hash", "as_of", "locale", "decision_id"):
        assert key in answer, key
    assert answer["explanation"]
    for entry in answer["explanation"]:
        assert set(entry) == {"group", "rule", "location", "fired", "values"}
    errors = client.post(URL.format("checkout"), json={"input": {}}).json()["errors"]
    assert all({"code", "path", "message"} <= set(e) for e in errors)


def test_the_page_can_be_turned_off(example_engine: ruleengine.Engine) -> None:
    app = create_app(engine=example_engine, settings=settings(playground=False))
    with TestClient(app) as client:
        assert client.get("/playground").status_code == 404
        assert client.get("/").status_code == 404


def test_examples_come_from_the_regression_suites(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLE, rules / "example")
    app = create_app(settings=settings(rules=str(rules)))
    with TestClient(app) as client:
        examples = client.get("/v1/rulesets/example/examples").json()["examples"]
        assert client.get("/v1/rulesets/nope/examples").status_code == 404
        # Every readable case, each decided again as its suite says.
        suites = [p for p in (rules / "example" / "tests").glob("*.yaml")]
        assert suites and len(examples) >= len(suites)
        assert {e["decision"] for e in examples} == {"checkout", "quote"}
        for example in examples:
            assert example["source"].split(":")[0].endswith(".yaml")
            body: dict[str, Any] = {"input": {**example["input"], "as_of": example["as_of"]}}
            if example["version"]:
                body["version"] = example["version"]
            answer = client.post(URL.format(example["decision"]), json=body)
            assert answer.status_code == (422 if example["expect"] == "error" else 200), example
        # A rule set without suites has no examples (and no error).
        shutil.rmtree(rules / "example" / "tests")
        app.state.services.store.reload("admin")
        assert client.get("/v1/rulesets/example/examples").json() == {"examples": []}
