"""Phase 2, validate: loaded documents -> the rule-set model of one version.

Each document is checked against its JSON Schema (`schemas/`), then the
sections of every file are merged into one `VersionModel`; names must be
unique across the version's files. All problems are collected and raised once.

Public entry: `validate_version(manifest, documents)`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .errors import Code, Diagnostic, RuleFileError, did_you_mean
from .load import DataPath, Document
from .model import (
    Binding,
    DecisionDef,
    ExprSource,
    FieldSpec,
    FunctionDef,
    Location,
    Manifest,
    ParamSpec,
    ReasonDef,
    RuleDef,
    RuleGroupDef,
    TableDef,
    TypeDef,
    VersionModel,
)

if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError

# jsonschema itself is imported only to explain a document that jsonschema-rs
# refused: it costs a tenth of a second to import, on every start, for nothing.

SCHEMA_DIR = Path(__file__).parent / "schemas"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
# Sections whose names share one namespace in expressions.
_SECTION_KIND = {
    "tables": "table",
    "functions": "function",
    "rules": "rule group",
    "types": "type",
    "reasons": "reason",
    "decisions": "decision",
}


def _is_integer(checker: Any, instance: Any) -> bool:
    # JSON Schema: a number with a zero fractional part is an integer; YAML's
    # exact decimals (2.0) count like JSON's floats do.
    if isinstance(instance, Decimal):
        return instance.is_finite() and instance == instance.to_integral_value()
    import jsonschema

    return jsonschema.Draft202012Validator.TYPE_CHECKER.is_type(instance, "integer")


@cache
def _schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text("utf-8"))


@cache
def schema_validator(name: str) -> jsonschema.protocols.Validator:
    """The compiled validator of `schemas/<name>.schema.json` (built once per process)."""
    import jsonschema

    schema = _schema(name)
    base = jsonschema.validators.validator_for(schema)
    base.check_schema(schema)
    cls = jsonschema.validators.extend(
        base, type_checker=base.TYPE_CHECKER.redefine("integer", _is_integer)
    )
    return cls(schema)


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


def parse_date(text: Any) -> date | None:
    """A strict `YYYY-MM-DD` date, or None."""
    if isinstance(text, date):
        return text
    if not isinstance(text, str) or not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def schema_diagnostics(doc: Document, schema: str) -> list[Diagnostic]:
    """Every JSON Schema violation of a document, positioned and explained."""
    fast = _fast_validator(schema)
    if fast is not None and fast.is_valid(doc.data):
        return []
    validator = schema_validator(schema)
    found = []
    for error in validator.iter_errors(doc.data):
        found.append(_explain(doc, _most_specific(error)))
    return found


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


def content_hash(documents: Iterable[Document], root_prefix: str) -> str:
    """sha256 over every file of the version: relative path and content, in path order."""
    digest = hashlib.sha256()
    for doc in sorted(documents, key=lambda d: d.file):
        relative = (
            doc.file[len(root_prefix) :].lstrip("/")
            if doc.file.startswith(root_prefix)
            else doc.file
        )
        digest.update(relative.encode("utf-8") + b"\0")
        digest.update(doc.text.encode("utf-8") + b"\0")
    return "sha256:" + digest.hexdigest()


class _Builder:
    """Turns schema-valid documents into model objects, collecting problems."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.defined: dict[tuple[str, str], Location] = {}

    def error(
        self,
        doc: Document,
        path: DataPath,
        code: Code,
        message: str,
        hint: str | None = None,
        key: bool = False,
    ) -> None:
        line, column = doc.key_pos(path) if key else doc.pos(path)
        self.diagnostics.append(Diagnostic(code, message, doc.file, line, column, hint))

    def loc(self, doc: Document, path: DataPath, key: bool = False) -> Location:
        line, column = doc.key_pos(path) if key else doc.pos(path)
        return Location(doc.file, line, column)

    def expr(self, doc: Document, path: DataPath, value: Any) -> ExprSource:
        if isinstance(value, str):
            text = value
        elif value is None:
            text = "null"
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        location = self.loc(doc, path)

        def locate(offset: int) -> tuple[int, int]:
            if isinstance(value, str):
                return doc.offset_pos(path, offset)
            return location.line, location.column + offset

        return ExprSource(text, location, locate)

    def bindings(
        self, doc: Document, path: DataPath, specs: dict[str, Any] | None
    ) -> tuple[Binding, ...]:
        return tuple(
            Binding(
                name, self.expr(doc, (*path, name), value), self.loc(doc, (*path, name), key=True)
            )
            for name, value in (specs or {}).items()
        )

    def claim(self, doc: Document, section: str, name: str, path: DataPath) -> bool:
        """Register a name; report a duplicate across the version's files."""
        namespace = (
            "type"
            if section == "types"
            else "reason"
            if section == "reasons"
            else ("decision" if section == "decisions" else "value")
        )
        where = self.loc(doc, path, key=True)
        previous = self.defined.get((namespace, name))
        if previous is not None:
            kind = _SECTION_KIND[section]
            self.diagnostics.append(
                Diagnostic(
                    Code.DUPLICATE_NAME,
                    f"{kind} {name!r} is already defined at {previous}",
                    where.file,
                    where.line,
                    where.column,
                    "names of tables, functions and rule groups share one namespace"
                    if namespace == "value"
                    else "rename one of them",
                )
            )
            return False
        self.defined[(namespace, name)] = where
        return True

    def field(self, doc: Document, path: DataPath, name: str, spec: Any) -> FieldSpec:
        location = self.loc(doc, path, key=True)
        if isinstance(spec, str):
            text = spec
            return FieldSpec(
                name,
                text.rstrip("?"),
                self.loc(doc, path),
                optional=text.endswith("?"),
                location=location,
            )
        type_text = spec.get("type", "string")
        optional = bool(spec.get("optional", False)) or type_text.endswith("?")
        type_path = (*path, "type") if "type" in spec else path
        return FieldSpec(
            name=name,
            type_text=type_text.rstrip("?"),
            type_location=self.loc(doc, type_path),
            optional=optional,
            description=spec.get("description"),
            enum=tuple(spec["enum"]) if "enum" in spec else None,
            minimum=spec.get("minimum"),
            maximum=spec.get("maximum"),
            min_length=spec.get("min_length"),
            max_length=spec.get("max_length"),
            pattern=spec.get("pattern"),
            in_table=spec.get("in_table"),
            location=location,
        )

    def fields(self, doc: Document, path: DataPath, specs: dict[str, Any]) -> tuple[FieldSpec, ...]:
        out = []
        for name, spec in specs.items():
            fpath = (*path, name)
            if isinstance(spec, dict) and "pattern" in spec:
                try:
                    re.compile(spec["pattern"])
                except re.error as exc:
                    self.error(
                        doc,
                        (*fpath, "pattern"),
                        Code.BAD_PATTERN,
                        f"invalid regular expression: {exc}",
                    )
                    continue
            out.append(self.field(doc, fpath, name, spec))
        return tuple(out)

    def params(
        self, doc: Document, path: DataPath, specs: dict[str, str] | None
    ) -> tuple[ParamSpec, ...]:
        return tuple(
            ParamSpec(name, text, self.loc(doc, (*path, name)))
            for name, text in (specs or {}).items()
        )

    def table(
        self, doc: Document, path: DataPath, name: str, spec: dict[str, Any]
    ) -> TableDef | None:
        location = self.loc(doc, path, key=True)
        description = spec.get("description")
        if "value" in spec:
            return TableDef(
                name, "value", location, spec.get("type"), spec["value"], description=description
            )
        if "set" in spec:
            items = spec["set"]
            locs = tuple(self.loc(doc, (*path, "set", i)) for i in range(len(items)))
            return TableDef(
                name,
                "set",
                location,
                spec.get("type"),
                list(items),
                item_locations=locs,
                description=description,
            )
        if "map" in spec:
            mapping = spec["map"]
            locs = tuple(self.loc(doc, (*path, "map", k)) for k in mapping)
            return TableDef(
                name,
                "map",
                location,
                spec.get("type"),
                dict(mapping),
                item_locations=locs,
                description=description,
            )
        key = spec["key"]
        keys = (key,) if isinstance(key, str) else tuple(key)
        columns = self.fields(doc, (*path, "columns"), spec["columns"])
        column_names = [c.name for c in columns]
        ok = True
        for k in keys:
            if k not in column_names:
                self.error(
                    doc,
                    (*path, "key"),
                    Code.BAD_TABLE,
                    f"key column {k!r} of table {name!r} is not among its columns",
                    _suggest(k, column_names),
                )
                ok = False
        rows = []
        for i, row in enumerate(spec["rows"]):
            rpath = (*path, "rows", i)
            if isinstance(row, list):
                if len(row) != len(columns):
                    self.error(
                        doc,
                        rpath,
                        Code.BAD_TABLE,
                        f"row {i + 1} of table {name!r} has {len(row)} values; "
                        f"the table has {len(columns)} columns ({', '.join(column_names)})",
                    )
                    ok = False
                    continue
                row = dict(zip(column_names, row, strict=True))
            else:
                unknown = [k for k in row if k not in column_names]
                for k in unknown:
                    self.error(
                        doc,
                        (*rpath, k),
                        Code.BAD_TABLE,
                        f"table {name!r} has no column {k!r}",
                        _suggest(k, column_names),
                        key=True,
                    )
                    ok = False
                row = {c: row.get(c) for c in column_names}
            rows.append((row, self.loc(doc, rpath)))
        if not ok:
            return None
        return TableDef(
            name,
            "rows",
            location,
            key=keys,
            columns=columns,
            rows=tuple(rows),
            description=description,
        )

    def group(self, doc: Document, path: DataPath, name: str, spec: dict[str, Any]) -> RuleGroupDef:
        rules = []
        for i, rule in enumerate(spec["rules"]):
            rpath = (*path, "rules", i)
            rules.append(
                RuleDef(
                    id=rule["id"],
                    when=self.expr(doc, (*rpath, "when"), rule["when"]),
                    location=self.loc(doc, rpath),
                    description=rule.get("description"),
                    reason=rule.get("reason"),
                    reason_location=self.loc(doc, (*rpath, "reason")) if "reason" in rule else None,
                    then=self.expr(doc, (*rpath, "then"), rule["then"]) if "then" in rule else None,
                )
            )
        default = spec.get("default")
        return RuleGroupDef(
            name=name,
            params=self.params(doc, (*path, "params"), spec.get("params")),
            rules=tuple(rules),
            hit=spec.get("hit", "collect"),
            location=self.loc(doc, path, key=True),
            default=self.expr(doc, (*path, "default"), default) if "default" in spec else None,
            description=spec.get("description"),
        )


def _suggest(name: str, known: Sequence[str]) -> str | None:
    suggestion = did_you_mean(name, known)
    return f"did you mean {suggestion!r}?" if suggestion else None


def validate_manifest(doc: Document) -> Manifest:
    """Check a manifest document and return the manifest it declares."""
    problems = schema_diagnostics(doc, "manifest")
    if problems:
        raise RuleFileError(problems)
    data = doc.data
    effective = parse_date(data["effective_from"])
    if effective is None:
        line, column = doc.pos(("effective_from",))
        raise RuleFileError(
            [
                Diagnostic(
                    Code.BAD_DATE,
                    f"effective_from {data['effective_from']!r} is not a valid date",
                    doc.file,
                    line,
                    column,
                    "write dates as YYYY-MM-DD, e.g. 2026-11-01",
                )
            ]
        )
    return Manifest(
        ruleset=data["ruleset"],
        version=data["version"],
        effective_from=effective,
        locales=tuple(data.get("locales") or ["en"]),
        location=Location(doc.file, 1, 1),
        description=data.get("description"),
    )


def validate_version(
    manifest_doc: Document, documents: Sequence[Document], root: str
) -> VersionModel:
    """Validate a version's manifest and rule files; merge them into one model."""
    diagnostics: list[Diagnostic] = []
    manifest: Manifest | None = None
    try:
        manifest = validate_manifest(manifest_doc)
    except RuleFileError as exc:
        diagnostics.extend(exc.diagnostics)
    builder = _Builder()
    types: list[TypeDef] = []
    tables: list[TableDef] = []
    reasons: list[ReasonDef] = []
    functions: list[FunctionDef] = []
    groups: list[RuleGroupDef] = []
    decisions: list[DecisionDef] = []
    for doc in documents:
        if doc.data is None:
            continue
        problems = schema_diagnostics(doc, "rulefile")
        if problems:
            diagnostics.extend(problems)
            continue
        data: dict[str, Any] = doc.data
        for section in ("types", "tables", "reasons", "functions", "rules", "decisions"):
            for name, spec in (data.get(section) or {}).items():
                path: DataPath = (section, name)
                if not builder.claim(doc, section, name, path):
                    continue
                location = builder.loc(doc, path, key=True)
                if section == "types":
                    types.append(
                        TypeDef(
                            name,
                            builder.fields(doc, (*path, "fields"), spec["fields"]),
                            location,
                            spec.get("description"),
                        )
                    )
                elif section == "tables":
                    table = builder.table(doc, path, name, spec)
                    if table is not None:
                        tables.append(table)
                elif section == "reasons":
                    reasons.append(
                        ReasonDef(
                            name, spec.get("remedy"), tuple(spec["messages"].items()), location
                        )
                    )
                elif section == "functions":
                    functions.append(
                        FunctionDef(
                            name,
                            builder.params(doc, (*path, "params"), spec.get("params")),
                            builder.expr(doc, (*path, "expr"), spec["expr"]),
                            location,
                            spec.get("description"),
                            builder.bindings(doc, (*path, "let"), spec.get("let")),
                        )
                    )
                elif section == "rules":
                    groups.append(builder.group(doc, path, name, spec))
                else:
                    decisions.append(
                        DecisionDef(
                            name=name,
                            input=builder.fields(doc, (*path, "input"), spec["input"]),
                            let=tuple(
                                Binding(
                                    k,
                                    builder.expr(doc, (*path, "let", k), v),
                                    builder.loc(doc, (*path, "let", k), key=True),
                                )
                                for k, v in (spec.get("let") or {}).items()
                            ),
                            output=tuple(
                                Binding(
                                    k,
                                    builder.expr(doc, (*path, "output", k), v),
                                    builder.loc(doc, (*path, "output", k), key=True),
                                )
                                for k, v in spec["output"].items()
                            ),
                            location=location,
                            description=spec.get("description"),
                        )
                    )
    diagnostics.extend(builder.diagnostics)
    if diagnostics or manifest is None:
        raise RuleFileError(diagnostics)
    return VersionModel(
        manifest=manifest,
        root=root,
        files=tuple(sorted(d.file for d in [manifest_doc, *documents])),
        content_hash=content_hash([manifest_doc, *documents], root),
        types=tuple(types),
        tables=tuple(tables),
        reasons=tuple(reasons),
        functions=tuple(functions),
        groups=tuple(groups),
        decisions=tuple(decisions),
    )
