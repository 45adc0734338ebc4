"""The HTTP decision service: envelopes, money as strings, 4xx bodies, never a 500."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import FACTS, URL, errors_of


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
