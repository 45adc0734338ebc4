"""Phase 2, validate: loaded documents -> the rule-set model of one version.

Each document is checked against its JSON Schema (`schemas/`), then the
sections of every file are merged into one `VersionModel`; names must be
unique across the version's files. Problems travel in the model (`problems`,
`broken`) so that the checker reports them with its own, in one run.

Public entry: `validate_version(manifest, documents)`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from .errors import Code, Diagnostic, RuleFileError, did_you_mean
from .loader import DataPath, Document
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
    ScalarLocator,
    TableDef,
    TableLocator,
    TypeDef,
    VersionModel,
)
from .patterns import pattern_problem
from .schema_check import schema_diagnostics, schema_problems, schema_validator

__all__ = [
    "content_hash",
    "parse_date",
    "schema_diagnostics",
    "schema_problems",
    "schema_validator",
    "validate_manifest",
    "validate_version",
]

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
        self.out: dict[str, list[Any]] = {section: [] for section in _SECTIONS}
        # (namespace, name) of definitions set aside or built from what could be read.
        self.broken: set[tuple[str, str]] = set()

    def definition(
        self,
        doc: Document,
        section: str,
        name: str,
        spec: Any,
        damage: list[DataPath] | None,
    ) -> None:
        """Build one definition; with schema problems, build what is independent of them."""
        path: DataPath = (section, name)
        if damage is not None:
            self.broken.add((namespace(section), name))
            spec = _salvage(section, spec, damage)
            if spec is None:
                return
        location = self.loc(doc, path, key=True)
        built: Any
        if section == "types":
            built = TypeDef(
                name,
                self.fields(doc, (*path, "fields"), spec["fields"]),
                location,
                spec.get("description"),
            )
        elif section == "tables":
            built = self.table(doc, path, name, spec)
            if built is None:
                self.broken.add(("value", name))
                return
        elif section == "reasons":
            built = ReasonDef(name, spec.get("remedy"), tuple(spec["messages"].items()), location)
        elif section == "functions":
            built = FunctionDef(
                name,
                self.params(doc, (*path, "params"), spec.get("params")),
                self.expr(doc, (*path, "expr"), spec["expr"]),
                location,
                spec.get("description"),
                self.bindings(doc, (*path, "let"), spec.get("let")),
            )
        elif section == "rules":
            built = self.group(doc, path, name, spec)
        else:
            built = DecisionDef(
                name=name,
                input=self.fields(doc, (*path, "input"), spec["input"]),
                let=self.bindings(doc, (*path, "let"), spec.get("let")),
                output=self.bindings(doc, (*path, "output"), spec["output"]),
                location=location,
                description=spec.get("description"),
            )
        self.out[section].append(built)

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
        return ExprSource(
            text, location, ScalarLocator(doc, path, location, isinstance(value, str))
        )

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
            sensitive=spec.get("sensitive") is True,
        )

    def fields(self, doc: Document, path: DataPath, specs: dict[str, Any]) -> tuple[FieldSpec, ...]:
        out = []
        for name, spec in specs.items():
            fpath = (*path, name)
            if isinstance(spec, dict) and "pattern" in spec:
                problem = pattern_problem(str(spec["pattern"]))
                if problem is not None:
                    self.error(doc, (*fpath, "pattern"), problem.code, problem.message)
                    spec = {k: v for k, v in spec.items() if k != "pattern"}
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
        list_rows = {i for i, row in enumerate(spec.get("rows") or ()) if isinstance(row, list)}
        locate = TableLocator(doc, path, frozenset(list_rows), tuple(spec.get("columns") or ()))
        if "value" in spec:
            return TableDef(
                name,
                "value",
                location,
                spec.get("type"),
                spec["value"],
                description=description,
                locate=locate,
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
                locate=locate,
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
                locate=locate,
            )
        rows = self.rows_table(doc, path, name, spec)
        if rows is None:
            return None
        keys, columns, cells = rows
        return TableDef(
            name,
            "rows",
            location,
            key=keys,
            columns=columns,
            rows=cells,
            description=description,
            locate=locate,
        )

    def rows_table(
        self, doc: Document, path: DataPath, name: str, spec: dict[str, Any]
    ) -> tuple[tuple[str, ...], tuple[FieldSpec, ...], tuple[tuple[Any, Location], ...]] | None:
        """A keyed table's key columns, columns and rows (each a dict, with its location);
        None when a key column or a row does not fit the columns (each problem reported)."""
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
            cells = self.row(doc, (*path, "rows", i), name, i, row, column_names)
            if cells is None:
                ok = False
            else:
                rows.append((cells, self.loc(doc, (*path, "rows", i))))
        return (keys, columns, tuple(rows)) if ok else None

    def row(
        self, doc: Document, rpath: DataPath, name: str, i: int, row: Any, column_names: list[str]
    ) -> dict[str, Any] | None:
        """One row as a dict by column (a list row by position); None if it does not fit."""
        if isinstance(row, list):
            if len(row) != len(column_names):
                self.error(
                    doc,
                    rpath,
                    Code.BAD_TABLE,
                    f"row {i + 1} of table {name!r} has {len(row)} values; "
                    f"the table has {len(column_names)} columns ({', '.join(column_names)})",
                )
                return None
            return dict(zip(column_names, row, strict=True))
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
        if unknown:
            return None
        return {c: row.get(c) for c in column_names}

    def group(self, doc: Document, path: DataPath, name: str, spec: dict[str, Any]) -> RuleGroupDef:
        rules = []
        for i, rule in enumerate(spec["rules"]):
            if rule is None:
                continue  # set aside by _salvage: it has a schema problem of its own
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


def _salvage(section: str, spec: Any, damage: list[DataPath]) -> dict[str, Any] | None:
    """The part of a definition with schema problems that can still be checked, or None.

    A rule group keeps its rules that have no problem of their own (its `hit` or
    `default` may be the broken part); a decision keeps its outputs that have none.
    Other definitions are set aside whole. What is kept is schema-valid.
    """
    if not isinstance(spec, dict):
        return None
    if section == "rules":
        rules = spec.get("rules")
        if not isinstance(rules, list):
            return None
        kept: dict[str, Any] = dict(spec, rules=list(rules), hit="first")
        for where in damage:
            if where[:1] == ("rules",) and len(where) >= 2 and isinstance(where[1], int):
                kept["rules"][where[1]] = None
            elif where[:1] == ("default",):
                kept.pop("default", None)
            elif where[:1] not in ((), ("hit",), ("description",)):
                return None
        return kept
    if section == "decisions":
        if not isinstance(spec.get("input"), dict) or not isinstance(spec.get("output"), dict):
            return None
        output = dict(spec["output"])
        for where in damage:
            if where[:1] == ("output",) and len(where) >= 2:
                output.pop(str(where[1]), None)
            elif where[:1] not in ((), ("description",)):
                return None
        return dict(spec, output=output)
    return None


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
    line, column = doc.pos(("effective_from",))
    if effective is None:
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
        effective_from_location=Location(doc.file, line, column),
        version_location=Location(doc.file, *doc.pos(("version",))),
    )


def _manifest_or_stand_in(
    doc: Document, diagnostics: list[Diagnostic], broken: set[tuple[str, str]]
) -> Manifest:
    """The manifest; if it is broken, one that lets the rule files be checked anyway."""
    try:
        return validate_manifest(doc)
    except RuleFileError as exc:
        diagnostics.extend(exc.diagnostics)
    data = doc.data if isinstance(doc.data, dict) else {}
    locales = data.get("locales", ["en"])
    if not (isinstance(locales, list) and locales and all(isinstance(x, str) for x in locales)):
        broken.add(("manifest", "locales"))  # reasons' messages cannot be checked
        locales = ["en"]
    return Manifest("?", "?", date.min, tuple(locales), Location(doc.file, 1, 1))


# Which definitions a name belongs to: tables, functions and rule groups share one.
_NAMESPACE = {"types": "type", "reasons": "reason", "decisions": "decision"}
_SECTIONS = ("types", "tables", "reasons", "functions", "rules", "decisions")


def namespace(section: str) -> str:
    return _NAMESPACE.get(section, "value")


def _damage(problems: Iterable[tuple[DataPath, Diagnostic]]) -> dict[DataPath, list[DataPath]]:
    """(section, name) -> the paths, inside that definition, of its schema problems."""
    damage: dict[DataPath, list[DataPath]] = {}
    for path, _ in problems:
        if len(path) >= 2:
            damage.setdefault(path[:2], []).append(path[2:])
    return damage


def validate_version(
    manifest_doc: Document, documents: Sequence[Document], root: str
) -> VersionModel:
    """Validate a version's manifest and rule files; merge them into one model.

    A problem in one definition does not hide the others: the model holds every
    definition that could be read, names the ones set aside in `broken` (so that
    their uses are not reported again), and carries the problems in `problems`,
    which `check_version` reports together with its own.
    """
    diagnostics: list[Diagnostic] = []
    builder = _Builder()
    manifest = _manifest_or_stand_in(manifest_doc, diagnostics, builder.broken)
    diagnostics.extend(manifest_doc.problems)
    for doc in documents:
        diagnostics.extend(doc.problems)
        if doc.data is None:
            continue
        problems = schema_problems(doc, "rulefile")
        diagnostics.extend(d for _, d in problems)
        if not isinstance(doc.data, dict):
            continue
        damage = _damage(problems)
        for section in _SECTIONS:
            specs = doc.data.get(section)
            if not isinstance(specs, dict):
                continue
            for name, spec in specs.items():
                path: DataPath = (section, name)
                if builder.claim(doc, section, name, path):
                    builder.definition(doc, section, name, spec, damage.get(path))
    diagnostics.extend(builder.diagnostics)
    out = builder.out
    return VersionModel(
        manifest=manifest,
        root=root,
        files=tuple(sorted(d.file for d in [manifest_doc, *documents])),
        content_hash=content_hash([manifest_doc, *documents], root),
        types=tuple(out["types"]),
        tables=tuple(out["tables"]),
        reasons=tuple(out["reasons"]),
        functions=tuple(out["functions"]),
        groups=tuple(out["rules"]),
        decisions=tuple(out["decisions"]),
        problems=tuple(diagnostics),
        broken=frozenset(builder.broken),
    )
