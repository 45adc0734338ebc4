"""The request schemas of /openapi.json say what the server accepts.

- An integer field takes an integer written as one: `3.0` is refused (DESIGN), which
  JSON Schema 2020-12 cannot say, so the document marks every integer input field
  `x-integer-literal` (and says it in words); the schemathesis hooks of
  tests/server/schemathesis_hooks.py honour the mark, and nothing else.
- A decimal field's schema holds what the validator holds: fewer than 30 digits
  before the point, and no minus sign under a minimum of 0.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
import schemathesis
from fastapi.testclient import TestClient

from .conftest import FACTS, URL, errors_of
from .schemathesis_hooks import MARK, integer_literals, map_body

# Importing the hooks registered them for every schema; the fuzz test (test_no_500.py)
# registers them on its own schema only.
schemathesis.hooks.unregister(map_body)


def _item(quantity: Any = 3, unit_price: Any = "16.78") -> dict[str, Any]:
    item = {"sku": "A", "quantity": quantity, "unit_price": unit_price}
    return {"input": {**FACTS, "order": {**FACTS["order"], "items": [item]}}}


def _spelled(field: str, token: str) -> str:
    """The body of `_item()` as JSON text, with `field` written as the JSON `token`."""
    text = json.dumps(_item(quantity="QUANTITY", unit_price="PRICE"))
    text = text.replace('"QUANTITY"', token if field == "quantity" else "3")
    return text.replace('"PRICE"', token if field == "unit_price" else '"16.78"')


@pytest.fixture(scope="module")
def doc(client: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def _body_schema(doc: dict[str, Any], decision: str) -> dict[str, Any]:
    post = doc["paths"][f"/v1/rulesets/example/decisions/{decision}"]["post"]
    return {**post["requestBody"]["content"]["application/json"]["schema"], **doc}


def _item_schema(doc: dict[str, Any]) -> dict[str, Any]:
    order = doc["components"]["schemas"]["ExampleQuoteInput"]["properties"]["order"]
    item: dict[str, Any] = order["properties"]["items"]["items"]
    return item


def test_every_integer_input_field_is_marked_and_described(doc: dict[str, Any]) -> None:
    quantity = _item_schema(doc)["properties"]["quantity"]
    assert quantity["type"] == "integer" and quantity[MARK] is True
    assert "3.0 and 3e0 are refused with 422 `type`" in quantity["description"]
    # every integer schema of an input carries the mark; the answers' do not need it
    inputs = {k: v for k, v in doc["components"]["schemas"].items() if k.endswith("Input")}
    assert str(inputs).count("'integer'") == str(inputs).count(f"'{MARK}': True") > 0


@pytest.mark.parametrize("spelled", ["3.0", "3e0", "3.00"])
def test_the_document_admits_a_whole_float_the_server_refuses(
    client: TestClient, doc: dict[str, Any], spelled: str
) -> None:
    """Why the mark exists: the schema alone admits 3.0, the server answers 422 `type`."""
    body = _spelled("quantity", spelled)
    jsonschema.validate(json.loads(body), _body_schema(doc, "checkout"))
    [error] = errors_of(client.post(URL.format("checkout"), content=body), 422)
    assert (error["code"], error["path"]) == ("type", "input.order.items[0].quantity")


def test_the_hook_spells_whole_floats_as_ints_at_marked_places_only(doc: dict[str, Any]) -> None:
    body = _item(quantity=402.0, unit_price=402.0)
    mapped = integer_literals(body, [_body_schema(doc, "quote")], doc)
    item = mapped["input"]["order"]["items"][0]
    assert item["quantity"] == 402 and type(item["quantity"]) is int
    assert type(item["unit_price"]) is float  # a decimal field: left as it is
    assert integer_literals(_item(quantity=2.5), [_body_schema(doc, "quote")], doc) == _item(2.5)


def test_the_hook_maps_what_the_server_then_decides(
    client: TestClient, doc: dict[str, Any]
) -> None:
    body = integer_literals(_item(quantity=3.0), [_body_schema(doc, "quote")], doc)
    assert client.post(URL.format("quote"), json=body).status_code == 200


# --- decimals: what the pattern and bounds admit, the server accepts ----------------

DECIMAL_STRINGS = [
    "0",
    "-0",
    "-0.00",
    "16.78",
    "-0.01",
    "-5",
    "00000000000000000000000000000000000001.5",
    "9" * 30,
    "9" * 31,
    "1" * 30 + ".5",
]


@pytest.mark.parametrize("text", DECIMAL_STRINGS)
def test_a_decimal_string_fits_the_schema_exactly_when_the_server_accepts_it(
    client: TestClient, doc: dict[str, Any], text: str
) -> None:
    unit_price = _item_schema(doc)["properties"]["unit_price"]  # decimal, minimum 0
    [number, string] = unit_price["anyOf"]
    fits = re.search(string["pattern"], text) is not None and len(text) <= string["maxLength"]
    answer = client.post(URL.format("checkout"), json=_item(unit_price=text))
    assert fits == (answer.status_code == 200), answer.text
    assert number["exclusiveMaximum"] == 10**30 and number["minimum"] == 0


@pytest.mark.parametrize("value", [10**30 - 1, 10**30, "1e29", "1e30"])
def test_a_decimal_number_fits_the_bounds_exactly_when_the_server_accepts_it(
    client: TestClient, doc: dict[str, Any], value: Any
) -> None:
    number = _item_schema(doc)["properties"]["unit_price"]["anyOf"][0]
    body = _spelled("unit_price", str(value))
    read = json.loads(body, parse_float=float)["input"]["order"]["items"][0]["unit_price"]
    fits = read < number["exclusiveMaximum"]
    answer = client.post(URL.format("checkout"), content=body)
    assert fits == (answer.status_code == 200), answer.text
