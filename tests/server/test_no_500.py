"""No request a client can send yields a 500: schemathesis against the app's own
OpenAPI document (every route, positive and negative cases, answers checked against
the documented schemas), and hypothesis-generated bodies for the decision routes."""

from __future__ import annotations

import json
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
    response_schema_conformance,
    status_code_conformance,
)

import ruleengine
from server.app import create_app
from server.settings import Settings

from ..conftest import examples
from .conftest import EXAMPLE, FACTS, errors_of

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
    # A batch over its documented maxItems is refused with 413, as the contract says.
    found.config.checks.negative_data_rejection = CheckConfig(
        expected_statuses=[400, 401, 404, 405, 413, 422]
    )
    return found


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
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
