"""JSON Schemas of a decision's input and result, generated from the rule files.

Used for the OpenAPI document of the HTTP service (regenerated on reload) and
by anyone who wants to validate requests or generate clients. Input schemas
describe exactly what the compiled validator accepts; result schemas describe
the JSON the service answers with (decimals as exact strings, dates as
`YYYY-MM-DD`).
"""

from __future__ import annotations

from typing import Any

from .checker import CheckedDecision, InputField
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
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _input_type(
    t: Type, field: InputField | None, records: dict[str, tuple[InputField, ...]]
) -> dict[str, Any]:
    if isinstance(t, OptT):
        return _nullable(_input_type(t.inner, field, records))
    spec = field.spec if field is not None else None
    out: dict[str, Any]
    if t == INT:
        out = {"type": "integer", "minimum": -(2**63) + 1, "maximum": 2**63 - 1}
        if spec is not None and spec.minimum is not None:
            out["minimum"] = int(spec.minimum)
        if spec is not None and spec.maximum is not None:
            out["maximum"] = int(spec.maximum)
        return out
    if t == DECIMAL:
        number: dict[str, Any] = {"type": "number"}
        if spec is not None and spec.minimum is not None:
            number["minimum"] = (
                float(spec.minimum) if not isinstance(spec.minimum, int) else spec.minimum
            )
        if spec is not None and spec.maximum is not None:
            number["maximum"] = (
                float(spec.maximum) if not isinstance(spec.maximum, int) else spec.maximum
            )
        return {
            "anyOf": [number, {"type": "string", "pattern": DECIMAL_STRING}],
            "description": "An exact decimal: a JSON number or a decimal string.",
        }
    if t == BOOL:
        return {"type": "boolean"}
    if t == DATE:
        return {"type": "string", "format": "date", "pattern": DATE_PATTERN}
    if isinstance(t, Prim) and t.name == "string":
        out = {"type": "string"}
        if spec is not None and spec.enum:
            out["enum"] = list(spec.enum)
        elif t.enum:
            out["enum"] = sorted(t.enum)
        if field is not None and field.allowed is not None:
            out["enum"] = sorted(str(k) for k in field.allowed)
        if spec is not None:
            if spec.min_length is not None:
                out["minLength"] = spec.min_length
            if spec.max_length is not None:
                out["maxLength"] = spec.max_length
            if spec.pattern is not None:
                out["pattern"] = f"^(?:{spec.pattern})$"
        return out
    if isinstance(t, RecordT) and t.name in records:
        return _record(records[t.name], records, t.name)
    if isinstance(t, (ListT, SetT)):
        out = {"type": "array", "items": _input_type(t.elem, None, records)}
        if isinstance(t, SetT):
            out["uniqueItems"] = True
        if spec is not None and spec.min_length is not None:
            out["minItems"] = spec.min_length
        if spec is not None and spec.max_length is not None:
            out["maxItems"] = spec.max_length
        return out
    if isinstance(t, MapT):
        return {"type": "object", "additionalProperties": _input_type(t.value, None, records)}
    return {}


def _record(
    fields: tuple[InputField, ...], records: dict[str, tuple[InputField, ...]], title: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {f.spec.name: _described(_input_type(f.type, f, records), f) for f in fields},
        "required": [f.spec.name for f in fields if not isinstance(f.type, OptT)],
    }
    if title:
        out["title"] = title
    return out


def _described(schema: dict[str, Any], field: InputField) -> dict[str, Any]:
    if field.spec.description:
        return {**schema, "description": field.spec.description}
    return schema


def input_schema(
    decision: CheckedDecision, records: dict[str, tuple[InputField, ...]], locales: tuple[str, ...]
) -> dict[str, Any]:
    """The JSON Schema of a decision's `input`, reserved `as_of` and `locale` included."""
    schema = _record(decision.inputs, records, f"{decision.name} input")
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


def decision_schemas(version: Any, decision: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(input schema, result schema) of a decision of a loaded `engine.Version`."""
    checked = version.compiled.checked
    records = {name: rec.fields for name, rec in checked.records.items()}
    d = checked.decisions[decision]
    return input_schema(d, records, checked.model.manifest.locales), result_schema(d)
