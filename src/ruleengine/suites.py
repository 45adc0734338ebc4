"""Regression suites: find the suite files under `rules/<ruleset>/tests/` and read them.

A suite file is YAML: a list of cases, or `{ruleset?, description?, cases: [...]}`.
It is read by the same loader as rule files (positions, no YAML 1.1 surprises,
exact decimals), validated against `schemas/suite.schema.json`, then checked
against the loaded rule sets (known decision, known pinned version, a real
`as_of` date, unique case names). Every problem is a positioned `Diagnostic`,
rendered like a rule-file error.

Public entry: `load_suites(path, versions)`; `find_suites(path)` says where
suites and the rules they test live.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, cast

from .discover import display_path
from .engine import Version
from .errors import Code, Diagnostic, RuleFileError, did_you_mean
from .loader import Document, load_document
from .schema_check import schema_diagnostics, schema_validator
from .validate import parse_date

SUITE_DIR = "tests"
SUITE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class ExpectedError:
    """A problem the request must be rejected with (code and/or path; None matches any)."""

    code: str | None
    path: str | None

    def describe(self) -> str:
        parts = [f"code {self.code}" if self.code else "", f"at {self.path}" if self.path else ""]
        return " ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class Case:
    """One regression case: ask `decision` of `ruleset` on `input` as of `as_of`."""

    name: str
    file: str
    line: int
    ruleset: str
    decision: str
    as_of: date
    input: dict[str, Any] = field(repr=False)
    version: str | None = None
    expect_result: dict[str, Any] | None = field(default=None, repr=False)
    expect_version: str | None = None
    expect_errors: tuple[ExpectedError, ...] = ()
    skip: str | None = None

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"

    def facts(self) -> dict[str, Any]:
        """The input a client would send: the case's input plus its `as_of`."""
        return {**self.input, "as_of": self.as_of.isoformat()}


@dataclass(frozen=True, slots=True)
class Suite:
    file: str
    ruleset: str | None
    cases: tuple[Case, ...]


@dataclass(frozen=True, slots=True)
class SuiteSearch:
    """Where suites were found: `rules_root` is the folder to load rules from."""

    rules_root: Path
    files: tuple[tuple[Path, Path], ...]  # (suite file, the rule-set folder holding its tests/)


def _tests_ancestor(path: Path) -> Path | None:
    for candidate in (path, *path.parents):
        if candidate.name == SUITE_DIR:
            return candidate
    return None


def _suite_files(folder: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        found.extend(Path(dirpath) / n for n in sorted(filenames) if n.endswith(SUITE_SUFFIXES))
    return found


def find_suites(path: Path) -> SuiteSearch:
    """Suite files under `path` (a rules folder, a rule set, a tests/ folder or one suite file)."""
    path = Path(path)
    tests = _tests_ancestor(path.parent if path.is_file() else path)
    if path.is_file():
        owner = tests.parent if tests is not None else path.parent
        return SuiteSearch(owner, ((path, owner),))
    if tests is not None:
        return SuiteSearch(tests.parent, tuple((f, tests.parent) for f in _suite_files(path)))
    files: list[tuple[Path, Path]] = []
    for dirpath, dirnames, _ in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        if SUITE_DIR in dirnames:
            dirnames.remove(SUITE_DIR)
            here = Path(dirpath)
            files.extend((f, here) for f in _suite_files(here / SUITE_DIR))
    return SuiteSearch(path, tuple(files))


@dataclass(frozen=True, slots=True)
class _RuleSetInfo:
    versions: frozenset[str]
    decisions: frozenset[str]
    roots: tuple[Path, ...]


def _catalog(versions: Iterable[Version]) -> dict[str, _RuleSetInfo]:
    grouped: dict[str, list[Version]] = {}
    for v in versions:
        grouped.setdefault(v.ruleset, []).append(v)
    return {
        name: _RuleSetInfo(
            frozenset(v.version for v in vs),
            frozenset(d for v in vs for d in v.decisions),
            tuple(Path(v.root).resolve() for v in vs),
        )
        for name, vs in grouped.items()
    }


def load_suites(
    search: SuiteSearch, versions: Sequence[Version], complete: Iterable[str] | None = None
) -> tuple[list[Suite], list[Diagnostic]]:
    """Read every suite file found; return the suites read and every problem found.

    `versions` are the loaded versions the cases may name. Decisions and pinned
    versions are only checked for rule sets listed in `complete` (default: all),
    i.e. those whose every version loaded: a version with errors may define them.
    """
    catalog = _catalog(versions)
    trusted = set(catalog) if complete is None else set(complete)
    suites: list[Suite] = []
    problems: list[Diagnostic] = []
    for file, owner in search.files:
        display = display_path(file)
        try:
            doc = load_document(file, display)
        except RuleFileError as exc:
            problems.extend(exc.diagnostics)
            continue
        found = [_explain_schema(d) for d in schema_diagnostics(doc, "suite")]
        problems.extend(found)
        data = doc.data
        raw_cases = data.get("cases") if isinstance(data, dict) else data
        if not isinstance(raw_cases, list) or (isinstance(data, dict) and not _valid_header(data)):
            continue
        # Cases that fit the schema are checked further even when others do not.
        reader = _SuiteReader(doc, catalog, trusted, owner.resolve())
        suite = reader.read()
        problems.extend(reader.problems)
        if not reader.problems and not found:
            suites.append(suite)
    return suites, sorted(set(problems), key=Diagnostic.sort_key)


@cache
def _case_validator() -> Any:
    """A validator of one case (the suite schema's `$defs/case`)."""
    # The suite schema is a JSON object (`schemas/suite.schema.json`), never a boolean schema.
    full = cast("Mapping[str, Any]", schema_validator("suite").schema)
    schema = {"$schema": full["$schema"], "$defs": full["$defs"], "$ref": "#/$defs/case"}
    return type(schema_validator("suite"))(schema)


def _valid_header(data: dict[str, Any]) -> bool:
    return data.get("ruleset") is None or isinstance(data.get("ruleset"), str)


def _explain_schema(diag: Diagnostic) -> Diagnostic:
    if diag.message == "missing required key 'as_of'":
        return replace(
            diag,
            hint="every case states the date it is decided on (as_of: YYYY-MM-DD), "
            "so that no suite depends on today's date",
        )
    return diag


class _SuiteReader:
    """Turns one schema-valid suite document into cases, collecting problems."""

    def __init__(
        self, doc: Document, catalog: Mapping[str, _RuleSetInfo], trusted: set[str], owner: Path
    ):
        self.doc = doc
        self.catalog = catalog
        self.trusted = trusted
        self.owner = owner
        self.problems: list[Diagnostic] = []

    def error(
        self,
        path: tuple[str | int, ...],
        code: Code,
        message: str,
        hint: str | None = None,
        key: bool = False,
    ) -> None:
        line, column = self.doc.key_pos(path) if key else self.doc.pos(path)
        self.problems.append(Diagnostic(code, message, self.doc.file, line, column, hint))

    def read(self) -> Suite:
        data = self.doc.data
        base: tuple[str | int, ...] = ()
        ruleset: str | None = None
        if isinstance(data, dict):
            base = ("cases",)
            ruleset = data.get("ruleset")
            if ruleset is not None and ruleset not in self.catalog:
                self.error(
                    ("ruleset",),
                    Code.UNKNOWN_RULESET,
                    f"unknown rule set {ruleset!r}",
                    _suggest(ruleset, self.catalog),
                )
                ruleset = None
            elif ruleset is None:
                ruleset = self._owner_ruleset()
        else:
            ruleset = self._owner_ruleset()
        raw_cases: list[dict[str, Any]] = data["cases"] if isinstance(data, dict) else data
        cases = []
        seen: dict[str, int] = {}
        for i, raw in enumerate(raw_cases):
            path = (*base, i)
            if not _case_validator().is_valid(raw):
                continue  # its schema problems are reported already
            name = raw["name"]
            if name in seen:
                self.error(
                    (*path, "name"),
                    Code.DUPLICATE_NAME,
                    f"duplicate case name {name!r} (first at line {seen[name]})",
                    "case names are unique within a file: they name the test in reports",
                )
            else:
                seen[name] = self.doc.pos(path)[0]
            case = self.case(raw, path, ruleset)
            if case is not None:
                cases.append(case)
        return Suite(self.doc.file, ruleset, tuple(cases))

    def _owner_ruleset(self) -> str | None:
        """The one rule set whose versions sit under the folder holding tests/."""
        owned = sorted(
            name
            for name, info in self.catalog.items()
            if any(root == self.owner or self.owner in root.parents for root in info.roots)
        )
        if len(owned) == 1:
            return owned[0]
        if owned:
            self.error(
                (),
                Code.UNKNOWN_RULESET,
                f"cannot tell which rule set this suite tests: {', '.join(owned)}",
                "write the suite as a mapping with `ruleset:` and `cases:`",
            )
        elif self.catalog or not self.problems:
            self.error(
                (),
                Code.UNKNOWN_RULESET,
                f"no rule set found in {display_path(self.owner)} for this suite",
                "suites live in rules/<ruleset>/tests/, next to the rule set's versions",
            )
        return None

    def case(
        self, raw: dict[str, Any], path: tuple[str | int, ...], ruleset: str | None
    ) -> Case | None:
        line = self.doc.pos(path)[0]
        as_of = parse_date(raw["as_of"])
        if as_of is None:
            self.error(
                (*path, "as_of"),
                Code.BAD_DATE,
                f"as_of {raw['as_of']!r} is not a date",
                "write dates as YYYY-MM-DD, e.g. 2026-03-15",
            )
        if "as_of" in raw["input"]:
            self.error(
                (*path, "input", "as_of"),
                Code.DUPLICATE_AS_OF,
                "as_of belongs to the case, not to its input",
                "move it up: `as_of:` next to `decision:`",
                key=True,
            )
        decision = raw["decision"]
        version = raw.get("version")
        expect = raw["expect"]
        if ruleset is not None and ruleset in self.trusted:
            info = self.catalog[ruleset]
            if decision not in info.decisions:
                self.error(
                    (*path, "decision"),
                    Code.UNKNOWN_DECISION,
                    f"rule set {ruleset!r} has no decision {decision!r}",
                    _suggest(decision, info.decisions),
                )
            for where, label in (("version", version), ("expect.version", expect.get("version"))):
                if label is not None and label not in info.versions:
                    at = (*path, "version") if where == "version" else (*path, "expect", "version")
                    self.error(
                        at,
                        Code.UNKNOWN_VERSION,
                        f"rule set {ruleset!r} has no version {label!r}",
                        _suggest(label, info.versions),
                    )
        if ruleset is None or as_of is None:
            return None
        raw_error = expect.get("error")
        errors = raw_error if isinstance(raw_error, list) else [raw_error] if raw_error else []
        return Case(
            name=raw["name"],
            file=self.doc.file,
            line=line,
            ruleset=ruleset,
            decision=decision,
            as_of=as_of,
            input=raw["input"],
            version=version,
            expect_result=expect.get("result"),
            expect_version=expect.get("version"),
            expect_errors=tuple(ExpectedError(e.get("code"), e.get("path")) for e in errors),
            skip=raw.get("skip"),
        )


def _suggest(name: str, known: Iterable[str]) -> str | None:
    known = sorted(known)
    close = did_you_mean(name, known)
    if close:
        return f"did you mean {close!r}?"
    return f"known: {', '.join(known)}" if known else None
