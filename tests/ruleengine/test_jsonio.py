"""JSON in and out: fractional numbers are exact Decimals both ways."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ruleengine import jsonio

# What `jsonio.loads` can give: a fractional number is a Decimal whose text has a point
# or an exponent (so it reads back as a Decimal, not an int).
NUMBER_TEXT = st.from_regex(
    r"-?(0|[1-9][0-9]{0,12})(\.[0-9]{1,12})?([eE][+-]?[0-9]{1,3})?", fullmatch=True
)
DECIMALS = NUMBER_TEXT.filter(lambda t: any(c in t for c in ".eE")).map(Decimal)
SCALARS = st.none() | st.booleans() | st.integers() | DECIMALS | st.text(max_size=12)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


def _exact(value: Any) -> Any:
    """value with each Decimal replaced by its text: equality then means the same digits."""
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    if isinstance(value, Decimal):
        return ("decimal", str(value))
    return (type(value).__name__, value)


@given(VALUES)
def test_dumps_exact_writes_back_what_loads_read(value: Any) -> None:
    text = jsonio.dumps_exact(value)
    assert "\n" not in text  # one line of a log
    assert _exact(jsonio.loads(text)) == _exact(value)
    json.loads(text)  # plain JSON to any reader


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"price": Decimal("16.78")}, '{"price": 16.78}'),
        ([Decimal("1E+2"), Decimal("-0.50")], "[1E+2, -0.50]"),
        (
            {"day": date(2026, 2, 28), "tags": frozenset({"b", "a"})},
            '{"day": "2026-02-28", "tags": ["a", "b"]}',
        ),
        ({"x": Decimal("NaN")}, '{"x": null}'),
        ({"s": 'quote " and é'}, '{"s": "quote \\" and é"}'),
    ],
)
def test_dumps_exact_examples(value: Any, text: str) -> None:
    assert jsonio.dumps_exact(value) == text


def test_negative_zero_is_written_as_zero() -> None:
    assert jsonio.to_plain(Decimal("-0.00")) == "0.00"
    assert jsonio.to_plain(Decimal("-0")) == "0"
    assert jsonio.to_plain(Decimal("-0.01")) == "-0.01"


def test_loads_request_lists_text_problems_with_paths() -> None:
    value, problems = jsonio.loads_request(b'{"a": [1, {"b": "x\\udfff", "b": 2}], "c": 1}')
    assert value["c"] == 1
    assert [(jsonio.path_text(p.path), p.code) for p in problems] == [
        ("a[1].b", "duplicate_key"),
    ]  # the last "b" won, so the surrogate text is gone with the first
    _, problems = jsonio.loads_request(b'{"k\\ud800y": "\\udc00"}')
    assert [(jsonio.path_text(p.path), p.code) for p in problems] == [
        ('["k\\ud800y"]', "invalid_text")
    ]
    assert jsonio.loads_request(b'{"ok": "\\ud83d\\ude00"}') == ({"ok": "\U0001f600"}, ())
