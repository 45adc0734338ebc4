"""The OpenAPI document: the fixed routes as FastAPI describes them, plus one path per
decision (and its batch) with that decision's own input and result schemas, made
from the rule files (`ruleengine.schema_export`) and rebuilt whenever a reload
swaps in new versions.

Clients are generated from this document, and publishing a version must never break
one: response schemas do not close over what a new version may extend. Version
labels and content hashes are open strings (the known ones as examples), result
objects accept fields a later version adds, explanation values are any JSON value.
A batch's items are validated one by one (an invalid item gets its `errors` entry
in `results`, the others are decided), so the batch item schema is open too.

Every 4xx response is described by the one error envelope, `Errors`.

An integer input field takes an integer written as one (`3`), not `3.0` or `3e0`
(DESIGN: "an integer field rejects 1.0"). JSON Schema 2020-12, the dialect of an
OpenAPI 3.1 document, counts `3.0` as an integer and has no keyword that says
otherwise, so every such field carries the rule as `x-integer-literal: true` and in
its description (docs/http.md, "Integers").
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

import ruleengine
from ruleengine import DATE_PATTERN

from .settings import Settings
from .store import Snapshot, VersionStore

ERRORS_REF = {"$ref": "#/components/schemas/Errors"}
HASH_PATTERN = r"^sha256:[0-9a-f]{64}$"

ERRORS_SCHEMA: dict[str, Any] = {
    "title": "Errors",
    "type": "object",
    "additionalProperties": False,
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "path", "message"],
                "properties": {
                    "code": {"type": "string", "description": "A stable code."},
                    "path": {
                        "type": "string",
                        "description": "Where: e.g. input.subscriptions[0].seats.",
                    },
                    "message": {"type": "string"},
                    "expected": {"type": "string"},
                    "got": {"type": "string"},
                },
            },
        }
    },
}

EXPLANATION_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "Every rule considered, in order: whether it fired, and the values it read.",
    "items": {
        "type": "object",
        "required": ["group", "rule", "location", "fired", "values"],
        "properties": {
            "group": {"type": "string"},
            "rule": {"type": "string"},
            "location": {"type": "string", "description": "file:line:column of the rule."},
            "fired": {"type": "boolean"},
            "values": {
                "type": "object",
                "description": "The facts the rule read, by name: any JSON value each.",
                "additionalProperties": {},
            },
        },
    },
}

DERIVATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "With explain: how each output value was derived, as a tree of values "
    "with their file:line:col (the shape: schemas/explanation.schema.json).",
    "required": ["max_depth", "roots"],
    "properties": {"max_depth": {"type": "integer"}, "roots": {"type": "array"}},
}

ERROR_RESPONSES: dict[str, str] = {
    "400": "Malformed JSON",
    "404": "Unknown rule set, decision or version",
    "409": "The pinned content_hash is not loaded on this replica (content_hash_unavailable)",
    "413": "Body too large (or, for a batch, too many inputs)",
    "422": "Invalid request or input: every problem listed",
}


INTEGER_LITERAL = (
    "An integer written as one (3): 3.0 and 3e0 are refused with 422 `type` "
    "(x-integer-literal; docs/http.md)."
)


def _integer_literals(schema: Any) -> Any:
    """`schema` with every integer schema marked `x-integer-literal` and described so."""
    if isinstance(schema, list):
        return [_integer_literals(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _integer_literals(value) for key, value in schema.items()}
    kinds = schema.get("type")
    if kinds == "integer" or (isinstance(kinds, list) and "integer" in kinds):
        said = schema.get("description")
        out["description"] = f"{said} {INTEGER_LITERAL}" if said else INTEGER_LITERAL
        out["x-integer-literal"] = True
    return out


def _one_of(schemas: list[dict[str, Any]]) -> dict[str, Any]:
    """One schema, or anyOf the distinct ones (versions may differ)."""
    distinct: dict[str, dict[str, Any]] = {}
    for schema in schemas:
        distinct.setdefault(json.dumps(schema, sort_keys=True), schema)
    found = list(distinct.values())
    return found[0] if len(found) == 1 else {"anyOf": found}


def _open(schema: Any) -> Any:
    """A response schema that a later version's answers still fit: objects accept new
    fields (clients ignore what they do not know); everything else as it is."""
    if isinstance(schema, dict):
        out = {k: _open(v) for k, v in schema.items() if k != "additionalProperties"}
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            out["additionalProperties"] = _open(extra)
        return out
    if isinstance(schema, list):
        return [_open(item) for item in schema]
    return schema


def _at_least(digits: str) -> str:
    """A regex for fixed-width digit strings >= digits."""
    options = [digits]
    for i, d in enumerate(digits):
        if d != "9":
            rest = len(digits) - i - 1
            higher = f"[{int(d) + 1}-9]" if int(d) < 8 else "9"
            options.append(digits[:i] + higher + (f"[0-9]{{{rest}}}" if rest else ""))
    return "(?:" + "|".join(options) + ")"


def _above(digits: str) -> str | None:
    """A regex for fixed-width digit strings > digits (None: there are none)."""
    options = []
    for i, d in enumerate(digits):
        if d != "9":
            rest = len(digits) - i - 1
            higher = f"[{int(d) + 1}-9]" if int(d) < 8 else "9"
            options.append(digits[:i] + higher + (f"[0-9]{{{rest}}}" if rest else ""))
    return "(?:" + "|".join(options) + ")" if options else None


def on_or_after(day: date) -> str:
    """A regex for YYYY-MM-DD dates on or after `day` (as text compares: same width)."""
    year, month, dd = day.isoformat().split("-")
    options = [f"{year}-{month}-{_at_least(dd)}"]
    later_month = _above(month)
    if later_month:
        options.append(f"{year}-{later_month}-[0-9]{{2}}")
    later_year = _above(year)
    if later_year:
        options.append(f"{later_year}-[0-9]{{2}}-[0-9]{{2}}")
    return "^(?:" + "|".join(options) + ")$"


def _version_schema(versions: list[str]) -> dict[str, Any]:
    """A version label: an open string (publishing adds labels), the known ones as examples."""
    known = ", ".join(versions) if versions else "none yet"
    return {
        "type": "string",
        "description": f"A version label; known when this document was made: {known}. "
        "Publishing adds labels, so treat it as any string.",
        **({"examples": versions} if versions else {}),
    }


def _answer_schema(
    ruleset: str, decision: str, result: dict[str, Any], versions: list[str]
) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [
            "result",
            "ruleset",
            "decision",
            "version",
            "content_hash",
            "decision_id",
            "as_of",
            "locale",
        ],
        "properties": {
            "result": result,
            "ruleset": {"type": "string", "enum": [ruleset]},
            "decision": {"type": "string", "enum": [decision]},
            "version": _version_schema(versions),
            "content_hash": {
                "type": "string",
                "pattern": HASH_PATTERN,
                "description": "sha256 of the deciding version's files; a new version brings "
                "a new one.",
            },
            "decision_id": {"type": "string"},
            "as_of": {"type": "string", "format": "date", "pattern": DATE_PATTERN},
            "locale": {"type": "string", "description": "A locale of the version (may grow)."},
            "explanation": EXPLANATION_SCHEMA,
            "derivation": DERIVATION_SCHEMA,
        },
    }


def _request_schema(
    field: str, input: dict[str, Any], versions: list[str], earliest: date | None = None
) -> dict[str, Any]:
    dated: dict[str, Any] = {}
    if earliest is not None and field == "input":
        # Unpinned, a date before every version gets 422 no_version_in_effect: say so.
        as_of = {
            "anyOf": [{"type": "string", "pattern": on_or_after(earliest)}, {"type": "null"}],
            "description": f"Unless a version or content hash is pinned: on or after "
            f"{earliest.isoformat()}, the first day a version decides.",
        }
        dated = {
            "if": {"properties": {"version": {"type": "null"}, "content_hash": {"type": "null"}}},
            "then": {"properties": {"input": {"properties": {"as_of": as_of}}}},
        }
    return {
        **dated,
        "type": "object",
        "additionalProperties": False,
        "required": [field],
        "properties": {
            field: input,
            "version": {
                "anyOf": [_version_schema(versions), {"type": "null"}],
                "description": "Pin a version (whatever the as_of); default: the one in effect.",
            },
            "explain": {
                "type": "boolean",
                "default": False,
                "description": "Also answer which rules fired, with the values they read.",
            },
            "content_hash": {
                "anyOf": [{"type": "string", "pattern": HASH_PATTERN}, {"type": "null"}],
                "description": "Pin the exact content (as answers report it): decided by the "
                "version with this content hash, or 409 `content_hash_unavailable` when this "
                "replica does not have it. With `version`, both must name the same version.",
            },
        },
    }


def _errors_responses(codes: tuple[str, ...]) -> dict[str, Any]:
    return {
        code: {"description": ERROR_RESPONSES[code], "content": _json(ERRORS_REF)} for code in codes
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _path_params() -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in ("ruleset", "decision")
    ]


def _decision_paths(
    engine: ruleengine.Engine, settings: Settings
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(paths, component schemas) for every decision of every rule set."""
    paths: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for rs in engine.rulesets.values():
        names = sorted({d for v in rs.versions for d in v.decisions})
        for name in names:
            having = [v for v in rs.versions if name in v.decisions]
            infos = [v.decisions[name] for v in having]
            pairs = [(d.input_schema(), d.result_schema()) for d in infos]
            labels = [v.version for v in having]
            key = _component_name(rs.name, name)
            components[f"{key}Input"] = _integer_literals(_one_of([i for i, _ in pairs]))
            components[f"{key}Result"] = _open(_one_of([r for _, r in pairs]))
            input_ref = {"$ref": f"#/components/schemas/{key}Input"}
            answer = _answer_schema(
                rs.name, name, {"$ref": f"#/components/schemas/{key}Result"}, labels
            )
            components[f"{key}Answer"] = answer
            answer_ref = {"$ref": f"#/components/schemas/{key}Answer"}
            described = next((d.description for d in reversed(infos) if d.description), None)
            base = f"/v1/rulesets/{rs.name}/decisions/{name}"
            paths[base] = {
                "post": {
                    "tags": [f"{rs.name} decisions"],
                    "operationId": f"decide_{key}",
                    "summary": f"{rs.name} / {name}",
                    "description": (described or "") + f"\n\nVersions: {', '.join(labels)}.",
                    "requestBody": {
                        "required": True,
                        "content": _json(
                            _request_schema(
                                "input",
                                input_ref,
                                labels,
                                rs.earliest if isinstance(rs.earliest, date) else None,
                            )
                        ),
                    },
                    "responses": {
                        "200": {"description": "The decision", "content": _json(answer_ref)},
                        **_errors_responses(("400", "404", "409", "413", "422")),
                    },
                }
            }
            paths[base + "/batch"] = _batch_path(rs.name, name, key, labels, answer_ref, settings)
    return paths, components


def _batch_path(
    ruleset: str,
    name: str,
    key: str,
    labels: list[str],
    answer_ref: dict[str, Any],
    settings: Settings,
) -> dict[str, Any]:
    """The batch route of one decision: many inputs, one answer or `errors` entry each."""
    batch = _request_schema(
        "inputs",
        {
            "type": "array",
            "items": {
                "description": f"An input as `{key}Input` describes it. Each item is "
                "validated on its own: one that does not fit gets an `errors` entry "
                "in its place in `results` (paths `inputs[i]...`), the rest are decided.",
            },
            "maxItems": settings.max_batch,
            "description": f"At most {settings.max_batch} inputs (this replica's "
            "RULEENGINE_MAX_BATCH; more: 413 `batch_too_large`, nothing decided); "
            "`explain: true` explains every answer (docs/http.md).",
        },
        labels,
    )
    return {
        "post": {
            "tags": [f"{ruleset} decisions"],
            "operationId": f"decide_batch_{key}",
            "summary": f"{ruleset} / {name}, many inputs",
            "description": "One answer or one `errors` entry per input, in order: an "
            "input that does not fit the decision's input schema gets its own `errors` "
            "entry (status 200). 413 when there are more inputs than the limit.",
            "requestBody": {"required": True, "content": _json(batch)},
            "responses": {
                "200": {
                    "description": "One entry per input",
                    "content": _json(_batch_answer(ruleset, name, answer_ref)),
                },
                **_errors_responses(("400", "404", "409", "413", "422")),
            },
        }
    }


def _batch_answer(ruleset: str, decision: str, answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["ruleset", "decision", "results"],
        "properties": {
            "ruleset": {"type": "string", "enum": [ruleset]},
            "decision": {"type": "string", "enum": [decision]},
            "results": {"type": "array", "items": {"anyOf": [answer, ERRORS_REF]}},
        },
    }


def _component_name(ruleset: str, decision: str) -> str:
    def camel(text: str) -> str:
        return "".join(part[:1].upper() + part[1:] for part in text.replace("-", "_").split("_"))

    return camel(ruleset) + camel(decision)


def _errors_everywhere(doc: dict[str, Any]) -> None:
    """Every 4xx response of the fixed routes is the `Errors` envelope."""
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {})
            if _is_fastapi_validation(responses.get("422")):
                del responses["422"]
            for code, response in responses.items():
                if code.startswith("4"):
                    response["content"] = _json(ERRORS_REF)
    schemas = doc.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def _is_fastapi_validation(response: Any) -> bool:
    return isinstance(response, dict) and "HTTPValidationError" in json.dumps(response)


class OpenAPIBuilder:
    """`app.openapi`: rebuilt once per snapshot the store swaps in."""

    def __init__(self, app: FastAPI, store: VersionStore, settings: Settings) -> None:
        self.app = app
        self.store = store
        self.settings = settings
        self._cache: tuple[Snapshot | None, dict[str, Any]] | None = None

    def __call__(self) -> dict[str, Any]:
        snapshot = self.store.snapshot
        if self._cache is not None and self._cache[0] is snapshot:
            return self._cache[1]
        doc = self.build(snapshot)
        self._cache = (snapshot, doc)
        return doc

    def build(self, snapshot: Snapshot | None) -> dict[str, Any]:
        app = self.app
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        _errors_everywhere(doc)
        components = doc.setdefault("components", {}).setdefault("schemas", {})
        components["Errors"] = ERRORS_SCHEMA
        # Only the decisions this replica has: a templated path would promise an answer
        # for any name (they get 404) and any input object (they get 422).
        paths: dict[str, Any] = {}
        if snapshot is not None:
            decision_paths, schemas = _decision_paths(snapshot.engine, self.settings)
            paths.update(decision_paths)
            components.update(schemas)
        doc["paths"] = {**paths, **doc.get("paths", {})}
        admin = [item for path, item in doc["paths"].items() if path.startswith("/v1/admin/")]
        if admin:
            doc["components"]["securitySchemes"] = {
                "adminToken": {"type": "http", "scheme": "bearer"}
            }
            for item in admin:
                for operation in item.values():
                    operation["security"] = [{"adminToken": []}]
        return doc
