"""JSON Schema checks of rule files, explained in the words of YAML authors.

Every violation becomes a positioned `schema` diagnostic (the innermost
branch of a oneOf that the author evidently meant, an unknown key with a
did-you-mean). `schema_problems` also gives the data path of each violation,
so that the validator can set aside only the definition it damages.

Public entries: `schema_problems(doc, schema)`, `schema_diagnostics(doc, schema)`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .errors import Code, Diagnostic, did_you_mean
from .loader import DataPath, Document

if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError

# jsonschema itself is imported only to explain a document that jsonschema-rs
# refused: it costs a tenth of a second to import, on every start, for nothing.

SCHEMA_DIR = Path(__file__).parent / "schemas"
_YAML11_BOOLEANS = frozenset({"yes", "no", "on", "off", "y", "n"})


def _is_integer(checker: Any, instance: Any) -> bool:
    # JSON Schema: a number with a zero fractional part is an integer; YAML's
    # exact decimals (2.0) count like JSON's floats do.
    if isinstance(instance, Decimal):
        return instance.is_finite() and instance == instance.to_integral_value()
    import jsonschema

    return bool(jsonschema.Draft202012Validator.TYPE_CHECKER.is_type(instance, "integer"))


@cache
def _schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text("utf-8"))
    return schema


@cache
def schema_validator(name: str) -> jsonschema.protocols.Validator:
    """The compiled validator of `schemas/<name>.schema.json` (built once per process)."""
    import jsonschema

    schema = _schema(name)
    base = jsonschema.validators.validator_for(schema)
    base.check_schema(schema)
    cls = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        base, type_checker=base.TYPE_CHECKER.redefine("integer", _is_integer)
    )
    validator: jsonschema.protocols.Validator = cls(schema)
    return validator


@cache
def _fast_validator(name: str) -> Any:
    """jsonschema-rs, when installed: a fast yes/no first; jsonschema explains failures."""
    try:
        import jsonschema_rs
    except (
        ImportError
    ):  # pragma: no cover - it is a dependency; this keeps the engine working without
        return None
    return jsonschema_rs.validator_for(_schema(name))


def schema_problems(doc: Document, schema: str) -> list[tuple[DataPath, Diagnostic]]:
    """Every JSON Schema violation of a document: where in the data, and explained."""
    fast = _fast_validator(schema)
    if fast is not None and fast.is_valid(doc.data):
        return []
    validator = schema_validator(schema)
    found = []
    for error in validator.iter_errors(doc.data):
        path: DataPath = tuple(error.absolute_path)
        if error.validator == "propertyNames":
            path = (*path, cast("str", error.instance))  # the name itself is the problem
        found.append((path, _explain(doc, _most_specific(error))))
    return _without_echoes(found)


def _without_echoes(
    found: list[tuple[DataPath, Diagnostic]],
) -> list[tuple[DataPath, Diagnostic]]:
    """Drop `missing required key 'then'` where the same mapping has `than` (one mistake)."""
    meant = {
        (path, match.group(1))
        for path, d in found
        if d.message.startswith("unknown key ")
        and d.hint
        and (match := re.fullmatch(r"did you mean '([^']+)'\?", d.hint))
    }
    return [
        (path, d)
        for path, d in found
        if not (
            d.message.startswith("missing required key")
            and any((path, key) in meant for key in re.findall(r"'([^']+)'", d.message))
        )
    ]


def schema_diagnostics(doc: Document, schema: str) -> list[Diagnostic]:
    """Every JSON Schema violation of a document, positioned and explained."""
    return [diagnostic for _, diagnostic in schema_problems(doc, schema)]


def _most_specific(error: ValidationError) -> ValidationError:
    """The error that says what is really wrong, descending into oneOf/anyOf branches."""
    while error.context and error.validator in ("oneOf", "anyOf"):
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        failures = list(branches.values())
        if all(_only_missing_keys(errors, error) for errors in failures):
            return error  # e.g. a rule with neither `reason` nor `then`: explained by _explain
        # The branch the author meant is the one that fits the instance best.
        best = min(failures, key=lambda errors: _misfit(errors, error))
        deeper = sorted(best, key=lambda e: (_misfit([e], error), len(e.absolute_path)))[0]
        if len(deeper.absolute_path) < len(error.absolute_path):
            break
        error = deeper
    return error


def _keyword_schema(error: ValidationError) -> Mapping[str, Any]:
    """The (sub)schema holding the keyword that failed.

    Only a boolean schema is not a mapping, and its errors name no keyword; every
    error this module inspects is keyword-produced, so the schema is a mapping.
    """
    return cast("Mapping[str, Any]", error.schema)


def _only_missing_keys(errors: list[ValidationError], parent: ValidationError) -> bool:
    return all(
        e.validator == "required" and e.absolute_path == parent.absolute_path for e in errors
    )


def _misfit(errors: list[ValidationError], parent: ValidationError) -> tuple[float, int]:
    """How badly a oneOf/anyOf branch misses the instance (lower fits better)."""
    score = 0.0
    near_miss = 0
    for e in errors:
        if e.absolute_path != parent.absolute_path:
            score += 0.5  # the shape fits; something inside does not
        elif e.validator == "type":
            score += 100  # not even the right kind of value
        elif e.validator == "required":
            score += len(re.findall(r"'([^']+)' is a required property", e.message)) or 1
        elif e.validator == "additionalProperties" and isinstance(e.instance, dict):
            allowed = list((_keyword_schema(e).get("properties") or {}).keys())
            extra = [k for k in e.instance if k not in allowed]
            score += len(extra)
            # An unknown key close to an allowed one (`vale` for `value`) marks the branch meant.
            near_miss -= sum(1 for k in extra if did_you_mean(k, allowed))
        else:
            score += 1
    return score, near_miss


# JSON Schema's type names, in the words of YAML authors (as `_describe` writes them).
_JSON_TYPES = {
    "array": "a list",
    "object": "a mapping",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, (float,)) or type(value).__name__ == "Decimal":
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _explain(doc: Document, error: ValidationError) -> Diagnostic:
    path: DataPath = tuple(error.absolute_path)
    line, column = doc.pos(path)
    hint = None
    code = Code.SCHEMA
    message = error.message
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted((_keyword_schema(error).get("properties") or {}).keys())
        extra = [k for k in error.instance if k not in allowed]
        if extra:
            key = extra[0]
            line, column = doc.key_pos((*path, key))
            message = f"unknown key {key!r}"
            suggestion = did_you_mean(key, allowed)
            if suggestion:
                hint = f"did you mean {suggestion!r}?"
            elif allowed:
                hint = "allowed keys: " + ", ".join(allowed)
    elif error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        if missing:
            message = f"missing required key {missing[0]!r}"
    elif error.validator in ("oneOf", "anyOf") and _required_choices(error.validator_value):
        choices = " or ".join(repr(k) for k in _required_choices(error.validator_value))
        if error.context:
            message = f"missing required key: one of {choices}"
        else:
            message = f"only one of {choices} may be given"
    elif error.validator == "type":
        # The value of a `type` keyword: a type name or a list of them (the schemas are checked).
        wanted = cast("str | list[str]", error.validator_value)
        wanted_text = " or ".join(
            _JSON_TYPES.get(w, w) for w in (wanted if isinstance(wanted, list) else [wanted])
        )
        message = f"expected {wanted_text}, got {_describe(error.instance)}"
        if "string" in str(wanted) and not isinstance(error.instance, (dict, list)):
            hint = "quote the value to make it a string"
        elif "boolean" in str(wanted) and str(error.instance).lower() in _YAML11_BOOLEANS:
            truth = "true" if str(error.instance).lower() in ("yes", "on", "y") else "false"
            hint = f"write {truth}: {error.instance} is text here, not a boolean as in YAML 1.1"
    elif error.validator == "pattern" and "propertyNames" in error.absolute_schema_path:
        message = f"invalid name {error.instance!r}"
        hint = "names are lower_snake_case (type names: CamelCase)"
    elif error.validator == "pattern":
        message = f"{error.instance!r} does not match the pattern {error.validator_value}"
        if path and path[-1] == "version":
            code = Code.BAD_VERSION
            hint = 'versions are labels such as "2026-11" or "v2"'
    elif error.validator == "enum":
        options = cast("list[Any]", error.validator_value)  # an `enum` keyword's value is a list
        message = f"{error.instance!r} is not one of {', '.join(map(repr, options))}"
        suggestion = did_you_mean(str(error.instance), [str(v) for v in options])
        if suggestion:
            hint = f"did you mean {suggestion!r}?"
    elif error.validator == "propertyNames":
        message = f"invalid name {error.instance!r}"
        hint = "names are lower_snake_case (type names: CamelCase)"
    if path and isinstance(path[-1], str) and error.validator == "propertyNames":
        line, column = doc.key_pos(path)
    return Diagnostic(code, message, doc.file, line, column, hint)


def _required_choices(branches: Any) -> list[str]:
    """The keys of a oneOf/anyOf whose branches each only require one key, else []."""
    if not isinstance(branches, list):
        return []
    keys = []
    for branch in branches:
        if not (
            isinstance(branch, dict)
            and set(branch) == {"required"}
            and len(branch["required"]) == 1
        ):
            return []
        keys.append(branch["required"][0])
    return keys
