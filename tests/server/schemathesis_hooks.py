"""Schemathesis hooks: generate request bodies as /openapi.json declares them, the
`x-integer-literal` rule included.

JSON Schema 2020-12 (the dialect of OpenAPI 3.1) counts `402.0` as an integer, and
schemathesis sends such whole floats in JSON bodies on purpose. This service refuses
them in integer fields (DESIGN: "an integer field rejects 1.0"), and its document says
so on every such field with `x-integer-literal: true`, which no JSON Schema keyword can
say. This hook honours that extension, and only it: a whole float at a position whose
schema is marked is sent as the integer it spells (`402.0` -> `402`); every other value,
and every check, is left alone. Use it with the schemathesis CLI:

    SCHEMATHESIS_HOOKS=tests/server/schemathesis_hooks.py schemathesis run --checks all URL

(the command and its last result are in docs/http.md, "Conformance").
"""

from __future__ import annotations

from typing import Any

import schemathesis

MARK = "x-integer-literal"
_BRANCHES = ("allOf", "anyOf", "oneOf", "then", "else")


def _resolve(schema: Any, root: dict[str, Any]) -> Any:
    """`schema` with local `$ref`s followed (`#/a/b`); anything else as it is."""
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 32:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return schema
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {})
        schema, seen = target, seen + 1
    return schema


def _alternatives(schema: Any, root: dict[str, Any]) -> list[dict[str, Any]]:
    """`schema` and every schema a value at its place may also have to meet (the branches
    of allOf/anyOf/oneOf/if-then-else), references followed."""
    found: list[dict[str, Any]] = []
    todo = [schema]
    while todo:
        current = _resolve(todo.pop(), root)
        if not isinstance(current, dict) or any(current is seen for seen in found):
            continue
        found.append(current)
        for key in _BRANCHES:
            branch = current.get(key)
            todo.extend(branch if isinstance(branch, list) else [branch] if branch else [])
    return found


def integer_literals(value: Any, schemas: list[Any], root: dict[str, Any]) -> Any:
    """`value` with every whole float at a marked integer position spelled as an int."""
    options = [s for schema in schemas for s in _alternatives(schema, root)]
    if isinstance(value, float) and value.is_integer() and any(s.get(MARK) for s in options):
        return int(value)
    if isinstance(value, dict):
        return {
            key: integer_literals(
                item,
                [s.get("properties", {}).get(key, s.get("additionalProperties")) for s in options],
                root,
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [integer_literals(item, [s.get("items") for s in options], root) for item in value]
    return value


def body_schema(operation: Any) -> Any:
    """The JSON request body schema of a schemathesis operation (None: it has none)."""
    content = operation.definition.raw.get("requestBody", {}).get("content", {})
    return content.get("application/json", {}).get("schema")


@schemathesis.hook
def map_body(ctx: Any, body: Any) -> Any:
    schema = body_schema(ctx.operation)
    if schema is None:
        return body
    return integer_literals(body, [schema], ctx.operation.schema.raw_schema)
