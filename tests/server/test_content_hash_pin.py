"""A request may pin `content_hash`: decided by exactly that content, or 409 when this
replica does not have it (one label, one meaning, across a fleet)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

import ruleengine

from .conftest import FACTS, URL, errors_of


@pytest.fixture(scope="module")
def hashes(example_engine: ruleengine.Engine) -> dict[str, str]:
    return {v.version: v.content_hash for v in example_engine.ruleset("example").versions}


def test_a_content_hash_pin_decides_with_that_version(
    client: TestClient, hashes: dict[str, str]
) -> None:
    # As of March 2026-01 is in effect; pinning July's content decides with July.
    body: dict[str, Any] = {"input": FACTS, "content_hash": hashes["2026-07"]}
    answer = client.post(URL.format("quote"), json=body)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["version"], answer.json()["content_hash"]) == (
        "2026-07",
        hashes["2026-07"],
    )
    both = client.post(
        URL.format("quote"), json={**body, "version": "2026-07", "explain": True}
    ).json()
    assert both["version"] == "2026-07" and both["explanation"]
    batch = client.post(
        URL.format("quote") + "/batch", json={"inputs": [FACTS], "content_hash": hashes["2026-07"]}
    ).json()
    assert batch["results"][0]["content_hash"] == hashes["2026-07"]


def test_a_content_hash_this_replica_lacks_is_409(
    client: TestClient, hashes: dict[str, str]
) -> None:
    other = "sha256:" + "0" * 64
    for url, key, value in (
        (URL.format("quote"), "input", FACTS),
        (URL.format("quote") + "/batch", "inputs", [FACTS]),
    ):
        errors = errors_of(client.post(url, json={key: value, "content_hash": other}), 409)
        assert [(e["code"], e["path"]) for e in errors] == [
            ("content_hash_unavailable", "content_hash")
        ]
        assert errors[0]["message"] == (
            f"no version of 'example' loaded on this replica has content {other} (loaded "
            f"here: 2026-01 {hashes['2026-01']}, 2026-07 {hashes['2026-07']}); ask a replica "
            "that serves it (e.g. one that has fetched the newer bundle), or pin a content "
            "hash an answer reported"
        )
    # The label exists, with other content (e.g. a replica with an edited copy).
    unknown = {"input": FACTS, "version": "2026-01", "content_hash": other}
    [error] = errors_of(client.post(URL.format("quote"), json=unknown), 409)
    assert error["message"].startswith(
        f"version '2026-01' of 'example' on this replica has content {hashes['2026-01']}, "
        f"not {other}, and no other version here has it"
    )
    # Both are loaded here, but name two versions: the message says which is which.
    mismatch = {"input": FACTS, "version": "2026-01", "content_hash": hashes["2026-07"]}
    [error] = errors_of(client.post(URL.format("quote"), json=mismatch), 409)
    assert error["message"] == (
        f"the pins disagree: version '2026-01' of 'example' has content {hashes['2026-01']}, "
        f"and {hashes['2026-07']} is the content of version '2026-07'; pin the content hash "
        "alone, or a version with its own content hash"
    )


def test_a_bad_content_hash_pin_is_422_or_404(client: TestClient, hashes: dict[str, str]) -> None:
    errors = errors_of(
        client.post(URL.format("quote"), json={"input": FACTS, "content_hash": 7}), 422
    )
    assert [(e["code"], e["path"]) for e in errors] == [("type", "content_hash")]
    errors = errors_of(
        client.post(URL.format("quote"), json={"input": FACTS, "content_hash": "2026-07"}), 422
    )
    assert [(e["code"], e["path"]) for e in errors] == [("pattern", "content_hash")]
    errors = errors_of(
        client.post(
            "/v1/rulesets/nope/decisions/quote",
            json={"input": FACTS, "content_hash": hashes["2026-01"]},
        ),
        404,
    )
    assert errors[0]["code"] == "unknown_ruleset"
