"""The playground page: served at / and /playground with its scripts, off by a setting,
built on the public API and its own draft routes, with nothing inline (the CSP) and
nothing from a CDN. Its behaviour in a browser: tests/browser/; its draft routes:
test_drafts.py."""

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


SCRIPTS = ("playground.js", "workbench.js", "tree.js", "compare.js", "util.js")


def _scripts(client: TestClient) -> str:
    return "\n".join(client.get(f"/playground/static/{name}").text for name in SCRIPTS)


def test_the_page_needs_no_inline_script_or_style_and_no_cdn(client: TestClient) -> None:
    page = client.get("/playground").text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "an inline script"
    assert "<style" not in page and " style=" not in page and "on" + "click=" not in page
    linked = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert all(url.startswith("/") for url in linked), linked  # same origin: no CDN
    for url in linked:
        if url.startswith("/playground/static/"):
            answer = client.get(url)
            assert answer.status_code == 200, url
            kind = "text/css" if url.endswith(".css") else "text/javascript"
            assert answer.headers["content-type"].startswith(kind), url
    imported = set(re.findall(r'from "\./([a-z]+\.js)"', _scripts(client)))
    assert imported <= set(SCRIPTS), imported
    assert "CodeMirror" in client.get("/playground/static/vendor/codemirror/codemirror.js").text
    assert client.get("/playground/static/nope.js").status_code == 404
    assert client.get("/playground/static/../routers/playground.py").status_code == 404


def test_the_page_uses_only_the_public_api_and_its_own(client: TestClient) -> None:
    scripts = _scripts(client)
    fetched = set(re.findall(r"fetch(?:JSON)?\(\s*[`\"]([^`\"$]+)", scripts))
    public = {"/v1/rulesets", "/openapi.json", "/v1/rulesets/"}
    assert public <= fetched, fetched
    assert all(u in public or u.startswith("/playground/api/") for u in fetched), fetched
    assert 'const API = "/playground/api";' in scripts  # the workbench's own routes
    assert "/v1/rulesets/${" in scripts  # decisions are posted to the decision's own path
    assert "}/examples`" in scripts
    # What the page reads from those answers is there.
    listing = client.get("/v1/rulesets").json()
    version = listing["rulesets"][0]["versions"][0]
    assert {"version", "effective_from", "decisions"} <= set(version)
    spec = client.get("/openapi.json").json()
    body = spec["paths"][URL.format("quote")]["post"]["requestBody"]
    assert "input" in body["content"]["application/json"]["schema"]["properties"]
    assert not [p for p in spec["paths"] if p.startswith("/playground")]
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
        assert client.get("/playground/static/playground.js").status_code == 404
        assert client.post("/playground/api/drafts/check", json={}).status_code == 404


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
