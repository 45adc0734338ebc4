"""Input validation by the compiled validators: one InputError listing every problem."""

from __future__ import annotations

import copy
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ruleengine
from ruleengine import jsonio
from ruleengine.errors import InputError
from ruleengine.runtime.inputs import FAIL

from ..conftest import examples

CASES = yaml.safe_load((Path(__file__).parent / "input_cases.yaml").read_text("utf-8"))["cases"]

VALID: dict[str, Any] = {
    "customer": {
        "id": "c-1",
        "country": "US",
        "tier": "gold",
        "email_verified": True,
        "member_since": "2025-01-01",
    },
    "order": {
        "currency": "USD",
        "items": [
            {"sku": "A", "quantity": 1, "unit_price": "1.00"},
            {"sku": "B", "quantity": 2, "unit_price": "2.00"},
        ],
    },
}

_STEP = re.compile(r"([a-z_]+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [name if name else int(index) for name, index in _STEP.findall(path)]


def patched(case: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    for path, value in (case.get("set") or {}).items():
        *parents, last = _steps(path)
        target: Any = data
        for step in parents:
            target = target[step]
        target[last] = value
    for path in case.get("delete") or []:
        *parents, last = _steps(path)
        target = data
        try:
            for step in parents:
                target = target[step]
        except KeyError:
            continue  # a parent deleted earlier in the same case
        del target[last]
    return data


def problems_of(engine: ruleengine.Engine, data: Any, decision: str = "quote") -> list[Any]:
    with pytest.raises(InputError) as info:
        engine.decide("example", decision, data)
    assert info.value.code == "invalid_input"
    return list(info.value.problems)


def test_the_valid_input_is_valid(example_engine: ruleengine.Engine) -> None:
    assert example_engine.decide("example", "quote", VALID).result["total"] == Decimal("9.74")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_input_case(example_engine: ruleengine.Engine, case: dict[str, Any]) -> None:
    problems = problems_of(example_engine, patched(case))
    assert sorted((p.path, p.code) for p in problems) == sorted(
        (want["path"], want["code"]) for want in case["problems"]
    )
    by_path = {p.path: p for p in problems}
    for want in case["problems"]:
        got = by_path[want["path"]]
        assert got.message
        if "expected" in want:
            assert got.expected is not None and want["expected"] in got.expected, got
        if "got" in want:
            assert got.got is not None and want["got"] in got.got, got
        if "message" in want:
            assert want["message"] in got.message, got
        if want["code"] in ("type", "enum", "minimum", "pattern", "not_in_table", "min_length"):
            assert got.expected, got
            assert got.got, got


def test_every_problem_is_listed_once_in_the_message(example_engine: ruleengine.Engine) -> None:
    data = patched(
        {"set": {"customer.tier": "x", "order.items[1].quantity": "2"}, "delete": ["customer.id"]}
    )
    with pytest.raises(InputError) as info:
        example_engine.decide("example", "quote", data)
    text = str(info.value)
    for path in ("input.customer.tier", "input.order.items[1].quantity", "input.customer.id"):
        assert text.count(path + ":") == 1
    assert [p.to_json()["path"] for p in info.value.problems] == [
        p.path for p in info.value.problems
    ]
    assert all(set(p.to_json()) >= {"code", "path", "message"} for p in info.value.problems)


@pytest.mark.parametrize("quantity", [Decimal("1.0"), Decimal("1"), 1.0, True, "1", None])
def test_integer_fields_refuse_anything_but_integers(
    example_engine: ruleengine.Engine, quantity: Any
) -> None:
    data = copy.deepcopy(VALID)
    data["order"]["items"][0]["quantity"] = quantity
    [problem] = problems_of(example_engine, data)
    assert problem.path == "input.order.items[0].quantity"
    assert problem.code == ("required" if quantity is None else "type")
    assert problem.expected == "integer"


def test_an_integer_written_with_an_exponent_is_not_shown_as_an_integer(
    example_engine: ruleengine.Engine,
) -> None:
    """JSON's `1e0` reads as Decimal('1'); "got number 1" would look like what was asked."""
    data = copy.deepcopy(VALID)
    data["order"]["items"][0]["quantity"] = jsonio.loads("1e0")
    [problem] = problems_of(example_engine, data)
    assert (problem.code, problem.got) == ("type", "number 1 (a decimal, not an integer)")


@pytest.mark.parametrize(
    ("price", "amount"),
    [
        (Decimal("1.10"), "1.10"),
        ("1.10", "1.10"),
        ("1.1", "1.10"),
        (2, "2.00"),
        ("3", "3.00"),
        ("0.005", "0.01"),
        ("0", "0.00"),
        (0, "0.00"),
        (Decimal("0.00"), "0.00"),
    ],
)
def test_decimal_fields_accept_decimals_ints_and_decimal_strings(
    example_engine: ruleengine.Engine, price: Any, amount: str
) -> None:
    data = copy.deepcopy(VALID)
    data["order"]["items"][0]["unit_price"] = price
    result = example_engine.decide("example", "quote", data).result
    assert str(result["lines"][0]["amount"]) == amount


@pytest.mark.parametrize("price", [1.1, 0.0, float("nan"), "1e400", "Infinity", "", [], {}])
def test_decimal_fields_refuse_floats_and_non_numbers(
    example_engine: ruleengine.Engine, price: Any
) -> None:
    data = copy.deepcopy(VALID)
    data["order"]["items"][0]["unit_price"] = price
    [problem] = problems_of(example_engine, data)
    assert (problem.path, problem.code, problem.expected) == (
        "input.order.items[0].unit_price",
        "type",
        "decimal",
    )


def test_null_for_an_optional_field_is_the_same_as_absent(
    example_engine: ruleengine.Engine,
) -> None:
    absent = example_engine.decide("example", "quote", VALID).result
    with_nulls = copy.deepcopy(VALID)
    with_nulls["shipping"] = None
    with_nulls["order"]["coupon"] = None
    assert example_engine.decide("example", "quote", with_nulls).result == absent
    with_coupon = copy.deepcopy(VALID)
    with_coupon["order"]["coupon"] = "SUMMER"
    assert example_engine.decide("example", "quote", with_coupon).result == absent


def test_dates_may_be_date_objects(example_engine: ruleengine.Engine) -> None:
    data = copy.deepcopy(VALID)
    data["customer"]["member_since"] = date(2025, 1, 1)
    assert (
        example_engine.decide("example", "quote", data).result
        == example_engine.decide("example", "quote", VALID).result
    )


@pytest.mark.parametrize("data", [None, [], "input", 42, Decimal("1"), True])
def test_input_must_be_an_object(example_engine: ruleengine.Engine, data: Any) -> None:
    [problem] = problems_of(example_engine, data)
    assert (problem.path, problem.code, problem.expected) == ("input", "type", "object")


def test_empty_object_lists_every_missing_field(example_engine: ruleengine.Engine) -> None:
    problems = problems_of(example_engine, {})
    assert sorted((p.path, p.code) for p in problems) == [
        ("input.customer", "required"),
        ("input.order", "required"),
    ]


def test_checkout_validates_the_same_types(example_engine: ruleengine.Engine) -> None:
    data = patched({"set": {"customer.tier": "diamond", "shipping": "express"}})
    problems = problems_of(example_engine, data, "checkout")
    assert sorted((p.path, p.code) for p in problems) == [
        ("input.customer.tier", "enum"),
        ("input.shipping", "unknown_field"),
    ]


def test_validation_errors_do_not_depend_on_the_version(
    example_engine: ruleengine.Engine,
) -> None:
    data = patched({"set": {"customer.tier": "diamond", "as_of": "2026-07-01"}})
    [problem] = problems_of(example_engine, data)
    assert problem.path == "input.customer.tier"


# Arbitrary JSON-like values anywhere in the input: the engine either decides or raises
# InputError; never any other exception.
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.text(max_size=12),
        st.decimals(allow_nan=False, allow_infinity=False),
        st.sampled_from(["2026-02-29", "2024-02-29", "gold", "USD", "JPY", "", "1.5"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
PATHS = [
    "customer",
    "customer.id",
    "customer.country",
    "customer.tier",
    "customer.email_verified",
    "customer.member_since",
    "order",
    "order.currency",
    "order.items",
    "order.items[0]",
    "order.items[0].quantity",
    "order.items[1].unit_price",
    "order.items[1].sku",
    "order.coupon",
    "shipping",
    "as_of",
    "locale",
    "extra",
]


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(PATHS), json_values, max_size=4),
    st.sampled_from(["quote", "checkout"]),
)
def test_any_input_decides_or_raises_input_error(
    example_engine: ruleengine.Engine, changes: dict[str, Any], decision: str
) -> None:
    data = copy.deepcopy(VALID)
    for path, value in sorted(changes.items()):
        *parents, last = _steps(path)
        target: Any = data
        for step in parents:
            if not isinstance(target, (dict, list)):
                break
            try:
                target = target[step]
            except (KeyError, IndexError, TypeError):
                break
        else:
            if isinstance(target, dict) or (
                isinstance(target, list) and isinstance(last, int) and last < len(target)
            ):
                target[last] = value
    try:
        decision_made = example_engine.decide("example", decision, data)
    except InputError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.path.startswith("input")
            assert problem.code and problem.message
        return
    except ruleengine.NoVersionInEffectError:
        return
    assert decision_made.version in ("2026-01", "2026-07")


OPTIONAL_ITEMS = """\
decisions:
  d:
    input:
      xs: list<int?>
      names: {type: list<string>, min_length: 1}
    output:
      n: len(xs)
"""


@pytest.mark.parametrize(
    ("data", "valid"),
    [
        ({"xs": [1, None], "names": ["a"]}, True),
        ({"xs": [None], "names": ["a", "b"]}, True),
        ({"xs": [1, "2"], "names": ["a"]}, False),
        ({"xs": [], "names": []}, False),
        ({"xs": [None], "names": [None]}, False),
    ],
)
def test_fast_check_and_collecting_validator_agree(
    build_engine: Any, data: dict[str, Any], valid: bool
) -> None:
    # Both read one constraint model (FieldRule): a null item of list<int?> is valid to
    # both (the collecting validator used to refuse it), min_length counts items.
    compiled = build_engine(OPTIONAL_ITEMS).rulesets["t"].versions[0].compiled.decisions["d"]
    fast = compiled.check_fast(data)
    if valid:
        assert fast == compiled.validate(data) == (data, "en")
    else:
        assert fast is FAIL
        with pytest.raises(InputError):
            compiled.validate(data)


DECIMAL_BOUNDS = yaml.safe_load(
    (Path(__file__).parent / "decimal_bound_cases.yaml").read_text("utf-8")
)


@pytest.mark.parametrize(
    "case", DECIMAL_BOUNDS["cases"], ids=[c["name"] for c in DECIMAL_BOUNDS["cases"]]
)
def test_decimal_bound_problems_describe_what_was_sent(
    build_engine: Any, case: dict[str, Any]
) -> None:
    engine = build_engine(DECIMAL_BOUNDS["decisions"])
    compiled = engine.rulesets["t"].versions[0].compiled.decisions["d"]
    data = jsonio.loads(case["input"])
    assert compiled.check_fast(data) is FAIL
    with pytest.raises(InputError) as info:
        compiled.validate(data)
    problems = [p.to_json() for p in info.value.problems]
    fields = ("path", "code", "expected", "got")
    assert [{k: p[k] for k in fields} for p in problems] == case["problems"]
    assert all(p["message"] for p in problems)
    with pytest.raises(InputError) as decided:
        engine.decide("t", "d", data)
    assert [p.to_json() for p in decided.value.problems] == problems
