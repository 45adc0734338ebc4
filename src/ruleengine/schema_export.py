"""JSON Schemas of a decision's input and result, generated from the rule files.

Used for the OpenAPI document of the HTTP service (regenerated on reload) and
by anyone who wants to validate requests or generate clients. Input schemas
describe exactly what the compiled validator accepts; result schemas describe
the JSON the service answers with (decimals as exact strings, dates as
`YYYY-MM-DD`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .checker import CheckedDecision, CheckedVersion
from .constraints import FieldRule, field_rules, record_rules
from .runtime.inputs import MAX_DECIMAL_DIGITS, MAX_INT
from .typesys import (
    BOOL,
    DATE,
    DECIMAL,
    INT,
    NEVER,
    NULL,
    ListT,
    MapT,
    OptT,
    Prim,
    RecordT,
    SetT,
    TableT,
    Type,
)

DECIMAL_STRING = r"^-?[0-9]+(\.[0-9]+)?$"
# What an input decimal may be (runtime.inputs.to_decimal): fewer than 30 digits before
# the point, leading zeros aside, and a string of at most 64 characters.
_DIGITS = f"0*[0-9]{{1,{MAX_DECIMAL_DIGITS}}}(\\.[0-9]+)?"
INPUT_DECIMAL_STRING = f"^-?{_DIGITS}$"
NON_NEGATIVE_DECIMAL_STRING = f"^(?:{_DIGITS}|-0+(\\.0+)?)$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _input_type(rule: FieldRule, records: dict[str, tuple[FieldRule, ...]]) -> dict[str, Any]:
    """The JSON Schema of the values a field rule accepts (what the validators accept)."""
    if rule.optional:
        return _nullable(_input_type(replace(rule, optional=False), records))
    out: dict[str, Any]
    if rule.kind == "int":
        out = {"type": "integer", "minimum": -MAX_INT, "maximum": MAX_INT}
        if rule.minimum is not None:
            out["minimum"] = int(rule.minimum)
        if rule.maximum is not None:
            out["maximum"] = int(rule.maximum)
        return out
    if rule.kind == "decimal":
        limit = 10**MAX_DECIMAL_DIGITS
        number: dict[str, Any] = {
            "type": "number",
            "exclusiveMinimum": -limit,
            "exclusiveMaximum": limit,
        }
        for key, bound in (("minimum", rule.minimum), ("maximum", rule.maximum)):
            if bound is not None:
                number[key] = bound if isinstance(bound, int) else float(bound)
        # A pattern cannot hold a bound, except "no minus sign" for a minimum of 0 or more
        # (-0 is 0); any other bound is said in words, and the validator holds strings to it.
        text = INPUT_DECIMAL_STRING
        said = "An exact decimal: a JSON number or a decimal string."
        if rule.minimum is not None and rule.minimum >= 0:
            text = NON_NEGATIVE_DECIMAL_STRING
        if (rule.minimum is not None and rule.minimum > 0) or rule.maximum is not None:
            said += " A decimal string is held to the same bounds."
        string = {"type": "string", "maxLength": 64, "pattern": text}
        return {"anyOf": [number, string], "description": said}
    if rule.kind == "bool":
        return {"type": "boolean"}
    if rule.kind == "date":
        return {"type": "string", "format": "date", "pattern": DATE_PATTERN}
    if rule.kind == "string":
        return _string(rule)
    if rule.kind == "record" and rule.record in records:
        return _record(records[rule.record], records, rule.record)
    if rule.kind in ("list", "set") and rule.item is not None:
        out = {"type": "array", "items": _input_type(rule.item, records)}
        if rule.kind == "set":
            out["uniqueItems"] = True
        if rule.min_length is not None:
            out["minItems"] = rule.min_length
        if rule.max_length is not None:
            out["maxItems"] = rule.max_length
        return out
    if rule.kind == "map" and rule.item is not None:
        return {"type": "object", "additionalProperties": _input_type(rule.item, records)}
    return {}


def _string(rule: FieldRule) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string"}
    if rule.enum:
        out["enum"] = list(rule.enum)
    if rule.in_table and rule.allowed is not None:
        out["enum"] = sorted(str(k) for k in rule.allowed)
    if rule.min_length is not None:
        out["minLength"] = rule.min_length
    if rule.max_length is not None:
        out["maxLength"] = rule.max_length
    if rule.pattern is not None:
        out["pattern"] = f"^(?:{rule.pattern})$"
    return out


def _record(
    fields: tuple[FieldRule, ...], records: dict[str, tuple[FieldRule, ...]], title: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {str(f.name): _described(_input_type(f, records), f) for f in fields},
        "required": [f.name for f in fields if not f.optional],
    }
    if title:
        out["title"] = title
    return out


def _described(schema: dict[str, Any], rule: FieldRule) -> dict[str, Any]:
    if rule.sensitive:  # the decision log writes a keyed hash of it, not the value
        schema = {**schema, "x-sensitive": True}
    if rule.description:
        return {**schema, "description": rule.description}
    return schema


def input_schema(
    decision: CheckedDecision, records: dict[str, tuple[FieldRule, ...]], locales: tuple[str, ...]
) -> dict[str, Any]:
    """The JSON Schema of a decision's `input`, reserved `as_of` and `locale` included."""
    schema = _record(field_rules(decision.inputs), records, f"{decision.name} input")
    schema["properties"]["as_of"] = {
        "anyOf": [{"type": "string", "format": "date", "pattern": DATE_PATTERN}, {"type": "null"}],
        "description": "Decide as of this date (default: today, UTC); also picks the version in effect.",
    }
    schema["properties"]["locale"] = {
        "anyOf": [{"type": "string", "enum": list(locales)}, {"type": "null"}],
        "description": f"Language of messages (default: {locales[0]}).",
    }
    if decision.definition.description:
        schema["description"] = decision.definition.description
    return schema


def result_type_schema(t: Type) -> dict[str, Any]:
    """The JSON Schema of a result value of type t, as the service writes it."""
    if isinstance(t, OptT):
        return _nullable(result_type_schema(t.inner))
    if t == NULL:
        return {"type": "null"}
    if t == INT:
        return {"type": "integer"}
    if t == DECIMAL:
        return {"type": "string", "pattern": DECIMAL_STRING, "description": "An exact decimal."}
    if t == BOOL:
        return {"type": "boolean"}
    if t == DATE:
        return {"type": "string", "format": "date", "pattern": DATE_PATTERN}
    if isinstance(t, Prim) and t.name == "string":
        return {"type": "string"}
    if isinstance(t, (ListT, SetT)):
        return {"type": "array", "items": {} if t.elem == NEVER else result_type_schema(t.elem)}
    if isinstance(t, MapT):
        return {"type": "object", "additionalProperties": result_type_schema(t.value)}
    if isinstance(t, RecordT):
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: result_type_schema(ft) for name, ft in t.fields},
            "required": [name for name, _ in t.fields],
        }
    if isinstance(t, TableT):  # pragma: no cover - the checker refuses table-valued outputs
        return {}
    return {}


def result_schema(decision: CheckedDecision) -> dict[str, Any]:
    """The JSON Schema of a decision's `result`: exactly its declared outputs."""
    schema = result_type_schema(decision.result_type)
    schema["title"] = f"{decision.name} result"
    return schema


def decision_schemas(
    checked: CheckedVersion, decision: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(input schema, result schema) of a decision of a checked version."""
    records = record_rules(checked.records)
    d = checked.decisions[decision]
    return input_schema(d, records, checked.model.manifest.locales), result_schema(d)
