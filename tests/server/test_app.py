"""The HTTP decision service: envelopes, money as strings, 4xx bodies, never a 500."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ruleengine
from server.app import create_app

URL = "/v1/rulesets/example/decisions/{}"
FACTS: dict[str, Any] = {
    "customer": {
        "id": "c-1",
        "country": "US",
        "tier": "gold",
        "email_verified": True,
        "member_since": "2020-01-01",
    },
    "order": {"currency": "USD", "items": [{"sku": "A", "quantity": 3, "unit_price": "16.78"}]},
}


@pytest.fixture(scope="module")
def client(example_engine: ruleengine.Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine=example_engine), raise_server_exceptions=False) as c:
        yield c


def errors_of(response: Any, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["errors"]
    assert body["errors"]
    for error in body["errors"]:
        assert (
            {"code", "path", "message"}
            <= set(error)
            <= {"code", "path", "message", "expected", "got"}
        )
    return list(body["errors"])


def test_decide(client: TestClient) -> None:
    response = client.post(URL.format("quote"), json={"input": FACTS})
    assert response.status_code == 200
    body = response.json()
    assert body["result"] == {
        "currency": "USD",
        "lines": [{"sku": "A", "quantity": 3, "amount": "50.34"}],
        "subtotal": "50.34",
        "discount": "3.52",
        "shipping_method": "standard",
        "shipping_fee": "0.00",
        "total": "46.82",
        "average_item_price": "15.61",
    }
    assert body["ruleset"] == "example"
    assert body["version"] == "2026-01"
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", body["content_hash"])
    assert body["as_of"] == "2026-03-15"  # the engine's clock
    assert body["locale"] == "en"
    assert body["decision_id"]
    assert "explanation" not in body


def test_decision_ids_are_unique(client: TestClient) -> None:
    ids = {
        client.post(URL.format("quote"), json={"input": FACTS}).json()["decision_id"]
        for _ in range(3)
    }
    assert len(ids) == 3


def test_money_in_json_is_a_decimal_string_with_the_currencys_digits(client: TestClient) -> None:
    order = {"currency": "JPY", "items": [{"sku": "A", "quantity": 1, "unit_price": 41580}]}
    body = client.post(URL.format("quote"), json={"input": {**FACTS, "order": order}}).json()
    assert body["result"]["subtotal"] == "41580"
    assert body["result"]["total"] == "38669"  # 41580 - 2910.6 -> 2911 (0.07)


def test_json_numbers_are_read_as_exact_decimals(client: TestClient) -> None:
    text = json.dumps({"input": FACTS}).replace('"16.78"', "16.78")
    response = client.post(
        URL.format("quote"), content=text, headers={"content-type": "application/json"}
    )
    assert response.json()["result"]["total"] == "46.82"


def test_as_of_version_and_locale(client: TestClient) -> None:
    july = {**FACTS, "as_of": "2026-07-01", "customer": {**FACTS["customer"], "tier": "platinum"}}
    body = client.post(URL.format("quote"), json={"input": july}).json()
    assert (body["version"], body["as_of"], body["result"]["discount"]) == (
        "2026-07",
        "2026-07-01",
        "7.05",
    )
    pinned = client.post(URL.format("quote"), json={"input": july, "version": "2026-01"}).json()
    assert (pinned["version"], pinned["result"]["discount"]) == ("2026-01", "6.04")
    french = client.post(
        URL.format("checkout"),
        json={
            "input": {
                **FACTS,
                "locale": "fr",
                "customer": {**FACTS["customer"], "email_verified": False},
            }
        },
    )
    assert french.json()["locale"] == "fr"
    assert french.json()["result"]["messages"] == [
        "Veuillez d'abord vérifier votre adresse e-mail."
    ]


def test_explain(client: TestClient) -> None:
    body = client.post(URL.format("checkout"), json={"input": FACTS, "explain": True}).json()
    assert [e["rule"] for e in body["explanation"]] == [
        "country_not_served",
        "email_unverified",
        "blocked_item",
        "empty_order",
    ]
    assert all(
        set(e) == {"group", "rule", "location", "fired", "values"} for e in body["explanation"]
    )
    assert body["explanation"][2]["values"]["order.items"][0]["unit_price"] == "16.78"
    plain = client.post(URL.format("checkout"), json={"input": FACTS, "explain": False}).json()
    assert "explanation" not in plain
    assert plain["result"] == body["result"]


def test_invalid_input_is_422_with_every_problem(client: TestClient) -> None:
    bad = {
        "customer": {**FACTS["customer"], "tier": "diamond", "country": 7},
        "order": {"currency": "USD", "items": [{"sku": "A", "quantity": "3", "unit_price": "abc"}]},
    }
    text = json.dumps({"input": bad})
    errors = errors_of(client.post(URL.format("quote"), content=text), 422)
    by_path = {e["path"]: e for e in errors}
    assert set(by_path) == {
        "input.customer.tier",
        "input.customer.country",
        "input.order.items[0].quantity",
        "input.order.items[0].unit_price",
    }
    assert by_path["input.customer.tier"]["code"] == "enum"
    assert by_path["input.customer.tier"]["got"] == "string 'diamond'"
    assert by_path["input.order.items[0].quantity"]["expected"] == "integer"


def test_input_not_an_object_is_422(client: TestClient) -> None:
    errors = errors_of(client.post(URL.format("quote"), json={"input": [1]}), 422)
    assert [(e["code"], e["path"]) for e in errors] == [("type", "input")]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"input": FACTS, "explain": "yes"},
        {"input": FACTS, "version": 202601},
        {"input": FACTS, "verison": "2026-01"},
        [FACTS],
        "input",
    ],
)
def test_bad_envelopes_are_422(client: TestClient, body: Any) -> None:
    errors_of(client.post(URL.format("quote"), json=body), 422)


@pytest.mark.parametrize("text", ["{", "", "{'input': {}}", '{"input": NaN}', "\xff\xfe"])
def test_malformed_json_is_400(client: TestClient, text: str) -> None:
    response = client.post(
        URL.format("quote"),
        content=text.encode("latin-1"),
        headers={"content-type": "application/json"},
    )
    errors = errors_of(response, 400)
    assert errors[0]["code"] == "malformed_json"


@pytest.mark.parametrize(
    ("url", "body", "kind", "name"),
    [
        ("/v1/rulesets/exmaple/decisions/quote", {"input": FACTS}, "ruleset", "exmaple"),
        ("/v1/rulesets/example/decisions/qoute", {"input": FACTS}, "decision", "qoute"),
        (
            "/v1/rulesets/example/decisions/quote",
            {"input": FACTS, "version": "2027-01"},
            "version",
            "2027-01",
        ),
    ],
)
def test_unknown_names_are_404(
    client: TestClient, url: str, body: Any, kind: str, name: str
) -> None:
    [error] = errors_of(client.post(url, json=body), 404)
    assert error["code"] == f"unknown_{kind}"
    assert repr(name) in error["message"]


def test_no_version_in_effect_is_422_at_as_of(client: TestClient) -> None:
    response = client.post(URL.format("quote"), json={"input": {**FACTS, "as_of": "2025-12-31"}})
    [error] = errors_of(response, 422)
    assert (error["code"], error["path"]) == ("no_version_in_effect", "input.as_of")


def test_list_rulesets(client: TestClient) -> None:
    body = client.get("/v1/rulesets").json()
    [example] = [r for r in body["rulesets"] if r["name"] == "example"]
    assert [(v["version"], v["effective_from"]) for v in example["versions"]] == [
        ("2026-01", "2026-01-01"),
        ("2026-07", "2026-07-01"),
    ]


def test_unknown_route_is_404_with_errors_body(client: TestClient) -> None:
    errors_of(client.get("/v1/nothing"), 404)


def test_wrong_method_is_405_with_errors_body(client: TestClient) -> None:
    errors_of(client.get(URL.format("quote")), 405)


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**80), 2**80),
        st.text(max_size=10),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(["2026-02-30", "2026-07-01", "USD", "gold", "fr", "1.5"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
envelopes = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"input": json_values}, optional={"version": json_values, "explain": json_values}
    ),
    st.fixed_dictionaries(
        {
            "input": st.fixed_dictionaries(
                {},
                optional={
                    "customer": json_values,
                    "order": json_values,
                    "as_of": json_values,
                    "locale": json_values,
                    "shipping": json_values,
                },
            )
        }
    ),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=envelopes, decision=st.sampled_from(["quote", "checkout", "nope"]))
def test_never_500(client: TestClient, body: Any, decision: str) -> None:
    response = client.post(
        URL.format(decision), content=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert response.status_code in (200, 400, 404, 422), response.text
    if response.status_code != 200:
        errors_of(response, response.status_code)
