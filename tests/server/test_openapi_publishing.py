"""Publishing never breaks a client generated from /openapi.json: the answers of a newly
published version (a new label, a new content hash, a new output field, explanations)
validate against the response schemas of the document generated before it existed."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from fastapi.testclient import TestClient

from ruleengine.qa.publish import publish
from server.app import create_app
from server.openapi import on_or_after

from ..ruleengine.publishing import RULES, edit, new_version
from .conftest import settings


def _one_input_per_decision() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((RULES / "self-service" / "tests").glob("*.yaml")):
        for case in yaml.safe_load(path.read_text("utf-8"))["cases"]:
            if "result" in case["expect"]:
                found.setdefault(case["decision"], case["input"])
    return found


def _answer_schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}


def test_answers_of_a_new_version_fit_the_old_document(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES / "self-service", rules / "self-service")
    app = create_app(settings=settings(rules=str(rules)))
    with TestClient(app) as client:
        before = client.get("/openapi.json").json()
        answer = before["components"]["schemas"]["SelfServiceChangeTermAnswer"]
        assert answer["properties"]["version"]["examples"] == ["2026-11", "2026-12"]
        assert "enum" not in answer["properties"]["version"]

        folder = new_version(rules)  # a new label, a new hash, a new price
        edit(  # and a new output field, as a later version may add one
            folder / "decisions.yaml",
            "      eligible: eligible\n",
            "      eligible: eligible\n      channel_note: '\"new in 2027-01\"'\n",
        )
        assert not publish(rules, date(2026, 12, 20)).refused
        assert app.state.services.store.reload("admin").ok
        after = client.get("/openapi.json").json()
        assert after["components"]["schemas"] != before["components"]["schemas"]

        for decision, input in _one_input_per_decision().items():
            body = {"input": {**input, "as_of": "2027-01-15"}, "explain": True}
            url = f"/v1/rulesets/self-service/decisions/{decision}"
            got = client.post(url, json=body)
            assert got.status_code == 200, got.text
            assert got.json()["version"] == "2027-01"
            key = "SelfService" + "".join(p.title() for p in decision.split("_"))
            jsonschema.validate(got.json(), _answer_schema(before, f"{key}Answer"))
            batch = client.post(url + "/batch", json={"inputs": [body["input"], {}]})
            assert batch.status_code == 200, batch.text
            batch_schema = before["paths"][url + "/batch"]["post"]["responses"]["200"]
            schema = batch_schema["content"]["application/json"]["schema"]
            jsonschema.validate(batch.json(), {**schema, "components": before["components"]})
        assert "channel_note" in str(
            client.post(
                "/v1/rulesets/self-service/decisions/add_seats",
                json={"input": {**_one_input_per_decision()["add_seats"], "as_of": "2027-01-15"}},
            ).json()
        )


def test_the_as_of_pattern_says_which_days_a_version_decides() -> None:
    import re

    pattern = re.compile(on_or_after(date(2026, 11, 1)))
    assert pattern.match("2026-11-01") and pattern.match("2031-02-03")
    assert not pattern.match("2026-10-31") and not pattern.match("1999-12-31")
