"""Batches (one entry per input, in order; a bad input spoils only its own entry) and
size limits (413 for big bodies, declared or streamed, and for long batches)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

import ruleengine
from server.app import create_app

from .conftest import FACTS, URL, errors_of, settings

BATCH = URL + "/batch"


@pytest.fixture(scope="module")
def small(example_engine: ruleengine.Engine) -> Iterator[TestClient]:
    app = create_app(engine=example_engine, settings=settings(max_body_bytes=2048, max_batch=3))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_batch_answers_each_input_in_order(client: TestClient) -> None:
    july = {**FACTS, "as_of": "2026-07-01", "customer": {**FACTS["customer"], "tier": "platinum"}}
    bad = {**FACTS, "customer": {**FACTS["customer"], "tier": "diamond"}}
    early = {**FACTS, "as_of": "2025-01-01"}
    response = client.post(BATCH.format("quote"), json={"inputs": [FACTS, bad, july, early, [1]]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["ruleset"], body["decision"]) == ("example", "quote")
    first, second, third, fourth, fifth = body["results"]
    single = client.post(URL.format("quote"), json={"input": FACTS}).json()
    assert first["result"] == single["result"]
    assert first["decision_id"] != single["decision_id"]
    assert [(e["code"], e["path"]) for e in second["errors"]] == [
        ("enum", "inputs[1].customer.tier")
    ]
    assert (third["version"], third["result"]["discount"]) == ("2026-07", "7.05")
    assert [(e["code"], e["path"]) for e in fourth["errors"]] == [
        ("no_version_in_effect", "inputs[3].as_of")
    ]
    assert [(e["code"], e["path"]) for e in fifth["errors"]] == [("type", "inputs[4]")]


def test_batch_pinned_version_and_explain(client: TestClient) -> None:
    july = {**FACTS, "as_of": "2026-07-01", "customer": {**FACTS["customer"], "tier": "platinum"}}
    body = client.post(
        BATCH.format("checkout"), json={"inputs": [july], "version": "2026-01", "explain": True}
    ).json()
    [entry] = body["results"]
    assert entry["version"] == "2026-01"
    assert entry["explanation"][0]["rule"] == "country_not_served"


def test_empty_batch(client: TestClient) -> None:
    assert client.post(BATCH.format("quote"), json={"inputs": []}).json()["results"] == []


@pytest.mark.parametrize(
    ("url", "body", "code"),
    [
        ("/v1/rulesets/nope/decisions/quote/batch", {"inputs": [FACTS]}, "unknown_ruleset"),
        (BATCH.format("nope"), {"inputs": [FACTS]}, "unknown_decision"),
        (BATCH.format("quote"), {"inputs": [FACTS], "version": "1999"}, "unknown_version"),
    ],
)
def test_batch_unknown_names_are_404(client: TestClient, url: str, body: Any, code: str) -> None:
    [error] = errors_of(client.post(url, json=body), 404)
    assert error["code"] == code


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({"input": [FACTS]}, ["inputs", "input"]),
        ({"inputs": {"a": FACTS}}, ["inputs"]),
        ({"inputs": [], "explain": 1, "version": 2}, ["version", "explain"]),
    ],
)
def test_bad_batch_envelopes_are_422(client: TestClient, body: Any, paths: list[str]) -> None:
    errors = errors_of(client.post(BATCH.format("quote"), json=body), 422)
    assert sorted(e["path"] for e in errors) == sorted(paths)


def test_batch_over_the_count_is_413(small: TestClient) -> None:
    [error] = errors_of(small.post(BATCH.format("quote"), json={"inputs": [{}] * 4}), 413)
    assert (error["code"], error["path"], error["got"]) == ("batch_too_large", "inputs", "4 inputs")
    assert small.post(BATCH.format("quote"), json={"inputs": [{}] * 3}).status_code == 200


def test_body_over_the_limit_is_413(small: TestClient) -> None:
    big = json.dumps({"input": {**FACTS, "padding": "x" * 3000}})
    [error] = errors_of(small.post(URL.format("quote"), content=big), 413)
    assert error["code"] == "body_too_large"
    [error] = errors_of(small.post(BATCH.format("quote"), content=big), 413)
    assert error["code"] == "body_too_large"


def test_streamed_body_over_the_limit_is_413_without_content_length(small: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"input": {"padding": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}}'

    response = small.post(URL.format("quote"), content=chunks())
    assert "content-length" not in response.request.headers
    [error] = errors_of(response, 413)
    assert error["code"] == "body_too_large"


def test_a_lying_content_length_is_refused(small: TestClient) -> None:
    response = small.post(
        URL.format("quote"), content=b'{"input": {}}', headers={"content-length": "abc"}
    )
    assert response.status_code in (400, 413)
    errors_of(response, response.status_code)


def test_body_at_the_limit_is_decided(small: TestClient) -> None:
    text = json.dumps({"input": FACTS})
    assert len(text) < 2048
    assert small.post(URL.format("quote"), content=text).status_code == 200


def test_decision_ids_are_random_uuids_unique_across_threads_and_forks() -> None:
    """Decision ids come from a pool of `os.urandom` bytes (one call per 256 ids): each
    is a version-4 UUID, none repeats across threads, and a forked child does not hand
    out the ids its parent's pool still holds."""
    import os
    import threading
    import uuid

    from server.routers.decisions import _uuid4

    ids: list[str] = []

    def draw() -> None:
        ids.extend(_uuid4() for _ in range(700))

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == len(ids) == 2800
    assert all(str(uuid.UUID(i)) == i and uuid.UUID(i).version == 4 for i in ids)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, to the parent
        os.write(write, _uuid4().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    assert child != _uuid4()
    assert uuid.UUID(child).version == 4
