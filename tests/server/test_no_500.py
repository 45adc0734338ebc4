"""No request a client can send yields a 500: schemathesis against the app's own
OpenAPI document (every route, positive and negative cases, answers checked against
the documented schemas), and hypothesis-generated bodies for the decision routes."""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import CheckConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

import ruleengine
from server.app import create_app
from server.logs import JsonFormatter
from server.settings import Settings

from ..conftest import examples
from .conftest import EXAMPLE, FACTS, URL, captured_logs, errors_of
from .schemathesis_hooks import map_body

schemathesis.hooks.unregister(map_body)  # registered for every schema on import: ours only
pytestmark = pytest.mark.fuzz


@pytest.fixture(scope="module")
def fuzz_app() -> FastAPI:
    """The service over rules/example, built when the first fuzz test runs (not at import)."""
    return create_app(
        engine=ruleengine.load(EXAMPLE, clock=lambda: date(2026, 3, 15)),
        settings=Settings(admin_token="fuzz-token", watch=False, access_log=False, max_batch=3),
    )


@pytest.fixture(scope="module")
def fuzz_client(fuzz_app: FastAPI) -> TestClient:
    return TestClient(fuzz_app, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def api_schema(fuzz_app: FastAPI) -> schemathesis.BaseSchema:
    found = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    # A batch over its documented maxItems is refused with 413, as the contract says; a
    # pinned content_hash this replica lacks is refused with 409 (before the input is read).
    found.config.checks.negative_data_rejection = CheckConfig(
        expected_statuses=[400, 401, 404, 405, 409, 413, 422, 429]
    )
    # Integer fields take integers written as one (x-integer-literal, docs/http.md).
    found.hook(map_body)
    return found


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
CHECKS_BATCH = [check for check in CHECKS if check is not negative_data_rejection]


def _check(case: schemathesis.Case) -> None:
    response = case.call()
    assert response.status_code < 500, response.text
    batch = case.operation.path.endswith("/batch")  # bad inputs are answered per entry
    case.validate_response(response, checks=CHECKS_BATCH if batch else CHECKS)


FUZZ = settings(
    max_examples=examples(200),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def test_openapi_routes_never_500(api_schema: schemathesis.BaseSchema) -> None:
    """Every operation of the document, per-decision paths included: 200 examples each
    (under the `ci` hypothesis profile), positive and negative cases mixed."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert {"POST /v1/rulesets/example/decisions/quote", "GET /v1/rulesets"} <= labels
    for operation in operations:
        cases = st.one_of(
            operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE),
        )

        @FUZZ
        @given(case=cases)
        def each_case(case: schemathesis.Case) -> None:
            note(f"{case.operation.label}: {case.as_curl_command()}")
            _check(case)

        each_case()


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**80), 2**80),
        st.text(max_size=10),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(["2026-02-30", "2026-07-01", "USD", "JPY", "gold", "fr", "1.5", "-0"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


def _overrides(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from([*keys, "extra"]), json_values, max_size=2)


@st.composite
def _mutated_facts(draw: st.DrawFn) -> dict[str, Any]:
    """FACTS with a few fields replaced by arbitrary JSON: near-valid inputs."""
    item = {**FACTS["order"]["items"][0], **draw(_overrides(["sku", "quantity", "unit_price"]))}
    order = {**FACTS["order"], "items": [item], **draw(_overrides(["currency", "items"]))}
    customer = {**FACTS["customer"], **draw(_overrides(sorted(FACTS["customer"])))}
    top = draw(_overrides(["customer", "order", "as_of", "locale", "shipping"]))
    return {"customer": customer, "order": order, **top}


inputs = st.one_of(json_values, _mutated_facts())
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"input": inputs}, optional={"version": json_values, "explain": json_values}
    ),
    st.fixed_dictionaries(
        {"inputs": st.lists(inputs, max_size=4)},
        optional={"version": st.sampled_from([None, "2026-01", "2026-07", "x"])},
    ),
)


@settings(FUZZ, max_examples=examples(300))
@given(
    body=bodies,
    decision=st.sampled_from(["quote", "checkout", "nope"]),
    batch=st.booleans(),
)
def test_generated_bodies_never_500(
    fuzz_client: TestClient, body: Any, decision: str, batch: bool
) -> None:
    url = f"/v1/rulesets/example/decisions/{decision}" + ("/batch" if batch else "")
    response = fuzz_client.post(url, content=json.dumps(body))
    assert response.status_code in (200, 400, 404, 413, 422), response.text
    if response.status_code != 200:
        errors_of(response, response.status_code)
    elif batch:
        results = response.json()["results"]
        assert len(results) == len(body["inputs"])
        for entry in results:
            assert ("result" in entry) != ("errors" in entry)


# --- text no JSON reader should accept, and the request id of a 500 -------------------

SURROGATE_KEY = b'{"input": {"\\udfff": 1}}'


def test_a_lone_surrogate_is_a_422_naming_its_path(client: TestClient) -> None:
    bad_id = json.dumps({"input": FACTS}).replace('"c-1"', '"c-\\ud800"')
    for body, path in [
        (SURROGATE_KEY, 'input["\\udfff"]'),
        (bad_id.encode(), "input.customer.id"),
        # bytes that are not UTF-8 inside a string: the same, with its path
        (json.dumps({"input": FACTS}).encode().replace(b"c-1", b"c-\xff"), "input.customer.id"),
    ]:
        [error] = errors_of(client.post(URL.format("quote"), content=body), 422)
        assert (error["code"], error["path"]) == ("invalid_text", path)


def test_a_batch_answers_its_good_inputs_and_names_the_bad_ones(client: TestClient) -> None:
    good = json.dumps(FACTS)
    bad = good.replace("c-1", "c-\\udfff")  # the JSON escape of a lone surrogate
    body = '{"inputs": [' + ", ".join([good, bad, good]) + "]}"
    response = client.post(URL.format("quote") + "/batch", content=body)
    assert response.status_code == 200, response.text
    first, bad, last = response.json()["results"]
    assert "result" in first and "result" in last
    assert bad == {
        "errors": [
            {
                "code": "invalid_text",
                "path": "inputs[1].customer.id",
                "message": "text that is not valid Unicode (a lone surrogate or bytes that "
                "are not UTF-8)",
            }
        ]
    }


def test_duplicate_keys_are_refused_with_their_path(client: TestClient) -> None:
    body = json.dumps({"input": FACTS}).replace('"tier": "gold"', '"tier": "gold", "tier": "x"')
    [error] = errors_of(client.post(URL.format("quote"), content=body), 422)
    assert (error["code"], error["path"]) == ("duplicate_key", "input.customer.tier")
    [error] = errors_of(client.post(URL.format("quote"), content='{"input": {}, "input": {}}'), 422)
    assert (error["code"], error["path"]) == ("duplicate_key", "input")


def test_a_500_carries_the_request_id_of_its_log_line(monkeypatch: Any) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    engine = ruleengine.load(EXAMPLE, clock=lambda: date(2026, 3, 15))
    monkeypatch.setattr(engine, "decide", broken)
    app = create_app(engine=engine, settings=Settings(watch=False, access_log=False))
    with (
        captured_logs("server.errors") as records,
        TestClient(app, raise_server_exceptions=False) as client,
    ):
        response = client.post(URL.format("quote"), json={"input": FACTS})
        given = client.post(
            URL.format("quote"), json={"input": FACTS}, headers={"X-Request-ID": "trace-42"}
        )
    [error] = errors_of(response, 500)
    rid = response.headers["X-Request-ID"]
    assert error["message"] == f"internal error; request id {rid}"
    assert given.headers["X-Request-ID"] == "trace-42"
    assert "trace-42" in given.text
    # one log line per 500, with the traceback and the same request id
    assert len(records) == 2 and all(r.exc_info for r in records)
    assert [request_id_of(r) for r in records] == [rid, "trace-42"]


def test_a_500_of_another_route_carries_the_request_id_too(monkeypatch: Any) -> None:
    """Routes other than the decisions' are answered by FastAPI's error handler, inside
    the request context: the same envelope, id and single log line."""
    from server.routers import health

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(health, "public_reload_info", broken)
    engine = ruleengine.load(EXAMPLE, clock=lambda: date(2026, 3, 15))
    app = create_app(engine=engine, settings=Settings(watch=False, access_log=False))
    with (
        captured_logs("server.errors") as records,
        TestClient(app, raise_server_exceptions=False) as client,
    ):
        response = client.get("/readyz", headers={"X-Request-ID": "ready-7"})
    [error] = errors_of(response, 500)
    assert error["message"] == "internal error; request id ready-7"
    assert response.headers["X-Request-ID"] == "ready-7"
    assert len(records) == 1 and records[0].exc_info
    assert request_id_of(records[0]) == "ready-7"


def request_id_of(record: logging.LogRecord) -> str:
    """The request id the JSON log line of `record` carries."""
    return str(json.loads(JsonFormatter().format(record)).get("request_id"))
