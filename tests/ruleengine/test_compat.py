"""compat.narrowings: where a new input schema refuses what the old one accepted."""

from __future__ import annotations

from typing import Any

import pytest

from ruleengine.compat import narrowings


def record(**props: Any) -> dict[str, Any]:
    required = [k for k, v in props.items() if not v.pop("optional", False)]
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": props,
        "required": required,
    }


OLD = record(
    seats={"type": "integer", "minimum": 1},
    plan={"type": "string", "enum": ["a", "b"]},
    code={"type": "string"},
    note={"anyOf": [{"type": "string"}, {"type": "null"}], "optional": True},
    items={"type": "array", "items": {"type": "string"}},
)


@pytest.mark.parametrize(
    ("change", "found"),
    [
        (
            lambda s: (
                s["properties"].update(extra={"type": "string"}) or s["required"].append("extra")
            ),
            "input.extra: a new required field",
        ),
        (
            lambda s: s["properties"].pop("code") and s["required"].remove("code"),
            "input.code: the field was removed",
        ),
        (
            lambda s: s["properties"]["plan"].update(enum=["a"]),
            "input.plan: no longer accepts ['b']",
        ),
        (
            lambda s: s["properties"]["code"].update(pattern="^[A-Z]+$"),
            "input.code: the pattern changed",
        ),
        (lambda s: s["properties"]["seats"].update(minimum=2), "input.seats: minimum raised to 2"),
        (
            lambda s: s["properties"].update(seats={"type": "string"}),
            "input.seats: integer values are no longer accepted",
        ),
        (
            lambda s: s["properties"].update(note={"type": "string"}),
            "input.note: null values are no longer accepted",
        ),
        (
            lambda s: s["properties"]["items"]["items"].update(maxLength=3),
            "input.items[]: maxLength lowered to 3",
        ),
    ],
)
def test_each_narrowing_is_named(change: Any, found: str) -> None:
    import copy

    new = copy.deepcopy(OLD)
    new["properties"] = {k: dict(v) for k, v in new["properties"].items()}
    new["properties"]["items"] = copy.deepcopy(OLD["properties"]["items"])
    change(new)
    assert any(n.startswith(found) for n in narrowings(OLD, new)), narrowings(OLD, new)


def test_widening_is_not_breaking() -> None:
    import copy

    new = copy.deepcopy(OLD)
    new["properties"]["plan"]["enum"] = ["a", "b", "c"]
    new["properties"]["seats"]["minimum"] = 0
    new["properties"]["code"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    new["required"].remove("code")
    new["properties"]["extra"] = {"type": "string"}  # optional: callers need not send it
    assert narrowings(OLD, new) == []
    assert narrowings(OLD, copy.deepcopy(OLD)) == []
