"""The rule-set model: what a validated version of a rule set declares.

Built by `validate`, read by `check`. Immutable; expressions are kept as
`ExprSource` (text plus a way back to file, line and column) until `parse`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Protocol, Self

from .errors import Code, Diagnostic


@dataclass(frozen=True, slots=True)
class Limits:
    """What one version may cost: `check` and every load refuse a version past these.

    The static cost bound (checker/cost.py): each decision at most `max_steps` for
    inputs of `nominal_size` items (`cost_limit`). The version's size, counted over all
    its files (`version_too_large`, at the file, row or rule that crosses the limit):
    `max_version_bytes` of YAML, `max_version_rows` table entries (rows of keyed tables,
    items of sets and maps), `max_version_rules` rules. `ruleengine check` and `serve`
    take them as options; `from_environment` reads the `RULEENGINE_*` variables below.
    """

    max_steps: int = 100_000_000
    nominal_size: int = 1000
    max_version_bytes: int = 8 * 1024 * 1024
    max_version_rows: int = 50_000
    max_version_rules: int = 20_000

    # field -> the environment variable `serve` sets for its workers
    ENVIRONMENT: ClassVar[dict[str, str]] = {
        "max_steps": "RULEENGINE_COST_LIMIT",
        "nominal_size": "RULEENGINE_COST_NOMINAL_SIZE",
        "max_version_bytes": "RULEENGINE_MAX_VERSION_BYTES",
        "max_version_rows": "RULEENGINE_MAX_VERSION_ROWS",
        "max_version_rules": "RULEENGINE_MAX_VERSION_RULES",
    }

    def __post_init__(self) -> None:
        for name in self.ENVIRONMENT:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive number, got {getattr(self, name)}")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Limits:
        """The limits the `RULEENGINE_*` variables set (the defaults for the others);
        ValueError naming the variable whose value is not a positive whole number."""
        values = {}
        for name, variable in cls.ENVIRONMENT.items():
            text = environ.get(variable)
            if text is None or not text.strip():
                continue
            try:
                values[name] = int(text.replace("_", ""))
            except ValueError:
                raise ValueError(f"{variable}={text!r} is not a whole number") from None
            if values[name] < 1:
                raise ValueError(f"{variable}={text!r} must be at least 1")
        return cls(**values)

    def to_environment(self) -> dict[str, str]:
        """The variables that give a worker these limits (only those not the default)."""
        default = Limits()
        return {
            variable: str(getattr(self, name))
            for name, variable in self.ENVIRONMENT.items()
            if getattr(self, name) != getattr(default, name)
        }


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


Path = tuple[str | int, ...]  # a path into a YAML document (loader.DataPath)


class Positions(Protocol):
    """Where the nodes of a YAML file sit (a `loader.Document`, or the stand-in of a cached
    model, `compiled_cache.LazyDocument`)."""

    @property
    def file(self) -> str: ...

    def pos(self, path: Path) -> tuple[int, int]: ...

    def offset_pos(self, path: Path, offset: int) -> tuple[int, int]: ...


# Ways back from a model object to its place in the file, kept by the model: objects,
# not closures, so that a checked version can be pickled (compiled_cache.py).


@dataclass(frozen=True, slots=True)
class ScalarLocator:
    """Line and column of a character offset inside an expression's YAML scalar."""

    doc: Positions
    path: Path
    location: Location
    text: bool  # a string scalar (else a number or boolean written as an expression)

    def __call__(self, offset: int) -> tuple[int, int]:
        if self.text:
            return self.doc.offset_pos(self.path, offset)
        return self.location.line, self.location.column + offset


@dataclass(frozen=True, slots=True)
class TableLocator:
    """The place of a part of a table's definition, by its path inside the table."""

    doc: Positions
    path: Path
    list_rows: frozenset[int]  # rows written as lists: their cells by position
    names: tuple[str, ...]  # the columns, in order

    def __call__(self, inside: Path) -> Location:
        if inside[:1] == ("rows",) and len(inside) == 3 and inside[1] in self.list_rows:
            column = inside[2]
            if column in self.names:
                inside = ("rows", inside[1], self.names.index(column))
        line, column_at = self.doc.pos((*self.path, *inside))
        return Location(self.doc.file, line, column_at)


@dataclass(frozen=True, slots=True)
class _TextLocator:
    """(line, column) of an offset in an expression given as text starting at line:column
    (an object, not a closure, so that a checked version can be pickled)."""

    text: str
    line: int
    column: int

    def __call__(self, offset: int) -> tuple[int, int]:
        before = self.text[: max(0, offset)]
        newlines = before.count("\n")
        if newlines:
            return self.line + newlines, offset - before.rfind("\n")
        return self.line, self.column + offset


@dataclass(frozen=True, slots=True)
class ExprSource:
    """An expression's text and where it came from."""

    text: str
    location: Location
    # Maps a character offset in `text` to (line, column) in the file.
    locate_offset: Callable[[int], tuple[int, int]] = field(compare=False, repr=False)

    @classmethod
    def from_text(cls, text: str, file: str = "<expr>", line: int = 1, column: int = 1) -> Self:
        return cls(text, Location(file, line, column), _TextLocator(text, line, column))

    def diagnostic(
        self, code: Code, message: str, start: int, end: int | None = None, hint: str | None = None
    ) -> Diagnostic:
        line, column = self.locate_offset(start)
        length = max(1, (end if end is not None else start + 1) - start)
        if "\n" in self.text[start : start + length]:
            length = max(1, self.text.find("\n", start) - start)
        return Diagnostic(code, message, self.location.file, line, column, hint, length)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A field of a record type or of a decision's input."""

    name: str
    type_text: str
    type_location: Location
    optional: bool = False
    description: str | None = None
    enum: tuple[str, ...] | None = None
    minimum: Any = None
    maximum: Any = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    in_table: str | None = None
    location: Location | None = None
    sensitive: bool = False  # logged as a keyed hash, never verbatim


@dataclass(frozen=True, slots=True)
class TypeDef:
    name: str
    fields: tuple[FieldSpec, ...]
    location: Location
    description: str | None = None


@dataclass(frozen=True, slots=True)
class TableDef:
    """Reference data. `kind` is one of: value, set, map, rows."""

    name: str
    kind: str
    location: Location
    type_text: str | None = None  # value/set/map: declared type, else inferred
    value: Any = None  # value: the scalar; set: list of items; map: dict
    key: tuple[str, ...] = ()  # rows: key columns
    columns: tuple[FieldSpec, ...] = ()  # rows: column specs
    rows: tuple[tuple[Any, Location], ...] = ()  # rows: dict per row, with its location
    item_locations: tuple[Location, ...] = ()  # set/map: where each item sits
    description: str | None = None
    # Where a part of the table's definition sits, by its path inside it (`("rows", 2,
    # "fee")`, `("value",)`, `("type",)`); only asked for to report a problem.
    locate: Callable[[tuple[str | int, ...]], Location] | None = field(
        default=None, compare=False, repr=False
    )

    def where(self, *path: str | int) -> Location:
        """The place of `path` inside the table's definition (its name if unknown)."""
        return self.locate(path) if self.locate is not None else self.location


@dataclass(frozen=True, slots=True)
class ReasonDef:
    code: str
    remedy: str | None
    messages: tuple[tuple[str, str], ...]  # (locale, text)
    location: Location


@dataclass(frozen=True, slots=True)
class ParamSpec:
    name: str
    type_text: str
    type_location: Location


@dataclass(frozen=True, slots=True)
class Binding:
    name: str
    expr: ExprSource
    location: Location


@dataclass(frozen=True, slots=True)
class FunctionDef:
    name: str
    params: tuple[ParamSpec, ...]
    body: ExprSource
    location: Location
    description: str | None = None
    let: tuple[Binding, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleDef:
    id: str
    when: ExprSource
    location: Location
    description: str | None = None
    reason: str | None = None
    reason_location: Location | None = None
    then: ExprSource | None = None


@dataclass(frozen=True, slots=True)
class RuleGroupDef:
    """Named, parameterized rules. `hit`: collect (a list of every fired rule's
    contribution, in order) or first (the first fired rule's, else `default`)."""

    name: str
    params: tuple[ParamSpec, ...]
    rules: tuple[RuleDef, ...]
    hit: str
    location: Location
    default: ExprSource | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class DecisionDef:
    name: str
    input: tuple[FieldSpec, ...]
    let: tuple[Binding, ...]
    output: tuple[Binding, ...]
    location: Location
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Manifest:
    ruleset: str
    version: str
    effective_from: date
    locales: tuple[str, ...]
    location: Location
    description: str | None = None
    effective_from_location: Location | None = None
    version_location: Location | None = None


@dataclass(frozen=True, slots=True)
class VersionModel:
    """Everything one version of a rule set declares, across its files."""

    manifest: Manifest
    root: str  # the version's folder, as displayed
    files: tuple[str, ...]
    content_hash: str
    types: tuple[TypeDef, ...]
    tables: tuple[TableDef, ...]
    reasons: tuple[ReasonDef, ...]
    functions: tuple[FunctionDef, ...]
    groups: tuple[RuleGroupDef, ...]
    decisions: tuple[DecisionDef, ...]
    # Problems found while reading the files; `check_version` reports them with its own.
    problems: tuple[Diagnostic, ...] = ()
    # (namespace, name) of definitions set aside or only partly read because of a
    # problem already reported: their uses are not reported again.
    broken: frozenset[tuple[str, str]] = frozenset()
