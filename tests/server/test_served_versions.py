"""The server serves published versions only: a draft (a version folder not in
versions.lock) is not loaded, unless the server runs with --drafts, and then it decides
only when a request pins it by name; an edited published version is never served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from server.app import create_app

from ..ruleengine.publishing import copy_rules, edit, new_version
from .conftest import errors_of, settings

OPTIONS = "/v1/rulesets/self-service/decisions/change_term"
INPUT: dict[str, Any] = {
    "as_of": "2027-01-15",
    "account": {"country": "US"},
    "subscription": {
        "id": "ACAD-1",
        "product": "autocad-lt",
        "plan": "subscription",
        "channel": "direct",
        "term": "monthly",
        "payment_method": "card",
        "seats": 2,
        "renewal_date": "2027-03-31",
        "auto_renew": True,
        "status": "active",
        "currency": "USD",
    },
    "new_term": "annual",
}


def _rules(tmp_path: Path) -> Path:
    rules = copy_rules(tmp_path, "self-service")
    new_version(rules)
    return rules


def test_a_draft_is_not_served(tmp_path: Path) -> None:
    rules = _rules(tmp_path)
    with TestClient(create_app(settings=settings(rules=str(rules)))) as client:
        answer = client.post(OPTIONS, json={"input": INPUT}).json()
        assert answer["version"] == "2026-12"
        assert answer["result"]["new_purchase_per_seat"] == "470.00"
        # A draft pinned by name: not served here, and the answer says why and what would.
        errors = errors_of(client.post(OPTIONS, json={"input": INPUT, "version": "2027-01"}), 404)
        assert [(e["code"], e["path"]) for e in errors] == [("unknown_version", "version")]
        assert errors[0]["message"] == (
            "version '2027-01' of 'self-service' is a draft (not in its versions.lock), not "
            "served here: serve drafts with `ruleengine serve --drafts` (a draft decides only "
            "when pinned by name), or publish it with `ruleengine publish`"
        )
        errors = errors_of(client.post(OPTIONS, json={"input": INPUT, "version": "2027-02"}), 404)
        assert errors[0]["code"] == "unknown_version"
        assert errors[0]["message"].startswith("unknown version '2027-02'")
        listed = client.get("/v1/rulesets/self-service").json()["versions"]
        assert [(v["version"], v["status"]) for v in listed] == [
            ("2026-11", "published"),
            ("2026-12", "published"),
        ]


def test_with_drafts_a_draft_decides_only_when_pinned(tmp_path: Path) -> None:
    rules = _rules(tmp_path)
    with TestClient(create_app(settings=settings(rules=str(rules), drafts=True))) as client:
        assert client.post(OPTIONS, json={"input": INPUT}).json()["version"] == "2026-12"
        pinned = client.post(OPTIONS, json={"input": INPUT, "version": "2027-01"}).json()
        assert pinned["version"] == "2027-01"
        assert pinned["result"]["new_purchase_per_seat"] == "480.00"
        listed = client.get("/v1/rulesets/self-service").json()
        assert listed["in_effect"] != "2027-01"
        assert ("2027-01", "draft") in [(v["version"], v["status"]) for v in listed["versions"]]


def test_an_edited_published_version_is_refused_and_the_running_rules_stay(
    tmp_path: Path,
) -> None:
    rules = _rules(tmp_path)
    app = create_app(settings=settings(rules=str(rules)))
    with TestClient(app) as client:
        before = client.post(OPTIONS, json={"input": {**INPUT, "as_of": "2026-12-15"}}).json()
        edit(rules / "self-service" / "2026-12" / "tables.yaml", "470, 420", "475, 420")
        attempt = app.state.services.store.reload("admin")
        assert not attempt.ok
        assert [d.code for d in attempt.errors] == ["published_version_changed"]
        after = client.post(OPTIONS, json={"input": {**INPUT, "as_of": "2026-12-15"}}).json()
        assert after == {**before, "decision_id": after["decision_id"]}
        assert after["result"]["new_purchase_per_seat"] == "470.00"
