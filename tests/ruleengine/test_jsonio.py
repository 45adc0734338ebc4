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


def _spaced(value: Any, space: str) -> str:
    """JSON text of `value` with `space` around every token (any whitespace JSON allows)."""
    if isinstance(value, dict):
        items = [
            f"{space}{json.dumps(k)}{space}:{space}{_spaced(v, space)}{space}"
            for k, v in value.items()
        ]
        return "{" + ",".join(items) + space + "}"
    if isinstance(value, list):
        return "[" + ",".join(f"{space}{_spaced(v, space)}{space}" for v in value) + space + "]"
    return jsonio.dumps_exact(value)


SPACES = st.sampled_from(["", " ", "\n", "\r\n  ", "\t \n"])
ENVELOPES = st.fixed_dictionaries(
    {},
    optional={
        "input": VALUES,
        "inputs": st.lists(VALUES, max_size=4),
        "version": st.text(max_size=5),
        "explain": st.booleans(),
    },
)


@given(ENVELOPES, SPACES, st.sampled_from(["", "inputs"]))
def test_loads_envelope_reads_as_loads_request_and_keeps_each_value_text(
    body: dict[str, Any], space: str, list_field: str
) -> None:
    data = _spaced(body, space).encode()
    envelope = jsonio.loads_envelope(data, list_field)
    value, problems = jsonio.loads_request(data)
    assert _exact(envelope.value) == _exact(value) and envelope.problems == problems
    unspanned = jsonio.loads_envelope(data, list_field, spans=False)  # decision log off
    assert _exact(unspanned.value) == _exact(value) and unspanned.problems == problems
    assert unspanned.fields is None and unspanned.items is None
    assert envelope.fields is not None and set(envelope.fields) == set(value)
    for key, span in envelope.fields.items():
        text = envelope.source(span)
        assert "\n" not in text and "\r" not in text  # one line of a log
        assert _exact(jsonio.loads(text)) == _exact(value[key])
    if list_field and "inputs" in value:
        assert envelope.items is not None and len(envelope.items) == len(value["inputs"])
        for span, item in zip(envelope.items, value["inputs"], strict=True):
            assert _exact(jsonio.loads(envelope.source(span))) == _exact(item)


@pytest.mark.parametrize(
    "data",
    [
        b"[1, 2]",
        b'"text"',
        b'{"input": {"a": 1}, "input": {"a": 2}}',
        b'{"inputs": [{"a": 1, "a": 2}, {"b": "\\udfff"}]}',
        b'{"input": {"k\\ud800": 1}}',
        b'{"input": {"a": "\xff"}}',
        b"  {}  ",
    ],
)
def test_loads_envelope_of_unusual_bodies_is_loads_request(data: bytes) -> None:
    envelope = jsonio.loads_envelope(data, "inputs")
    value, problems = jsonio.loads_request(data)
    assert _exact(envelope.value) == _exact(value) and envelope.problems == problems


@pytest.mark.parametrize(
    "data",
    [b"", b"{", b'{"input": }', b'{"input": {}} x', b'{"a": NaN}', b'{"a": ' + b"9" * 5000 + b"}"],
)
def test_loads_envelope_refuses_what_loads_request_refuses(data: bytes) -> None:
    with pytest.raises(jsonio.JSONInputError) as expected:
        jsonio.loads_request(data)
    with pytest.raises(jsonio.JSONInputError) as got:
        jsonio.loads_envelope(data, "inputs")
    assert (str(got.value), got.value.line, got.value.column) == (
        str(expected.value),
        expected.value.line,
        expected.value.column,
    )


RESULTS = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | DECIMALS
    | st.sampled_from([Decimal("-0.00"), Decimal("NaN"), Decimal("-1.50")])
    | st.text(max_size=12)
    | st.dates(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        | st.frozensets(st.text(max_size=3), max_size=3)
        | st.tuples(inner, inner)
    ),
    max_leaves=20,
)


@given(RESULTS)
def test_plain_json_is_to_plain_encoded(value: Any) -> None:
    expected = json.dumps(jsonio.to_plain(value), ensure_ascii=False, separators=(",", ":"))
    assert jsonio.plain_json(value) == expected


def test_decision_json_is_decision_to_json_encoded() -> None:
    """An answer's text, explanation and derivation included, is what `json.dumps` makes
    of `decision_to_json` (plus the extra fields), for every regression case under rules/
    decided with and without explain."""
    from pathlib import Path

    import ruleengine
    from ruleengine.suites import SuiteSearch, find_suites, load_suites

    rules = Path(__file__).resolve().parents[2] / "rules"
    by_owner: dict[Path, list[Path]] = {}
    for file, owner in find_suites(rules).files:
        by_owner.setdefault(owner, []).append(file)
    compared = 0
    for owner, files in sorted(by_owner.items()):
        engine = ruleengine.load(owner)
        versions = [v for rs in engine.rulesets.values() for v in rs.versions]
        suites, _ = load_suites(SuiteSearch(owner, tuple((f, owner) for f in files)), versions)
        for case in (case for suite in suites for case in suite.cases):
            for explain in (False, True):
                try:
                    made = engine.decide(
                        case.ruleset,
                        case.decision,
                        case.facts(),
                        version=case.version,
                        explain=explain,
                    )
                except ruleengine.RuleEngineError:
                    continue  # a case that expects errors
                expected = json.dumps(
                    {**jsonio.decision_to_json(made), "decision_id": "d-1"},
                    ensure_ascii=False,
                    allow_nan=False,
                    separators=(",", ":"),
                )
                assert jsonio.decision_json(made, decision_id="d-1") == expected, case.id
                compared += 1
    assert compared > 50, compared
