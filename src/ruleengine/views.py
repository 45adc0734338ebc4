"""Read-only views of a loaded version: what the public API shows of its decisions,
rule groups and tables; and `Decision`, the answer to one decision request.

The server, QA and the command line see a version through these small frozen
objects, never through the compiled or checked program behind them (those
change shape with the compiler; these do not).

Public entry: `version_views(compiled)`, used by `engine.Version`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from .compiler import CompiledVersion
from .model import Location, TableDef
from .schema_export import decision_schemas
from .trace import Explained, TraceEntry


@dataclass(frozen=True, slots=True)
class DecisionInfo:
    """One decision of a version: its name, description and JSON Schemas."""

    name: str
    description: str | None
    _compiled: CompiledVersion = field(repr=False, compare=False)

    def input_schema(self) -> dict[str, Any]:
        """The JSON Schema of the decision's input (exactly what the validator accepts)."""
        return decision_schemas(self._compiled.checked, self.name)[0]

    def result_schema(self) -> dict[str, Any]:
        """The JSON Schema of the decision's `result` (decimals as strings, dates as text)."""
        return decision_schemas(self._compiled.checked, self.name)[1]

    def cost_bound(self) -> tuple[int, ...]:
        """The decision's worst-case cost in steps, as `check` bounds it: the coefficients
        of a polynomial in n, the size of the input's largest list or text, lowest degree
        first (`(3, 0, 2)` is 3 + 2n^2; empty when unknown)."""
        return tuple(self._compiled.checked.costs.get(self.name, ()))


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """One rule of a rule group, where it is written."""

    group: str
    id: str
    location: Location
    description: str | None = None


@dataclass(frozen=True, slots=True)
class RuleGroupInfo:
    """A rule group: its hit policy (`collect` or `first`) and its rules in order."""

    name: str
    hit: str
    rules: tuple[RuleInfo, ...]


@dataclass(frozen=True, slots=True)
class TableItem:
    """A row of a keyed table or an item of a set or map table: the key as
    expressions see it, and where it is written (None when not known)."""

    key: Any
    location: Location | None


@dataclass(frozen=True, slots=True)
class TableInfo:
    """A table: its kind (value, set, map, rows) and its coverable items in source order
    (a single-value table has none)."""

    name: str
    kind: str
    location: Location
    items: tuple[TableItem, ...]


@dataclass(frozen=True, slots=True)
class VersionViews:
    decisions: Mapping[str, DecisionInfo]
    groups: Mapping[str, RuleGroupInfo]
    tables: Mapping[str, TableInfo]


def version_views(compiled: CompiledVersion) -> VersionViews:
    """The views of one compiled version (built once, when the version is made)."""
    checked = compiled.checked
    decisions = {
        name: DecisionInfo(name, checked.decisions[name].definition.description, compiled)
        for name in compiled.decisions
    }
    groups = {
        name: RuleGroupInfo(
            name,
            group.hit,
            tuple(
                RuleInfo(name, r.definition.id, r.definition.location, r.definition.description)
                for r in group.rules
            ),
        )
        for name, group in checked.groups.items()
    }
    tables = {
        name: TableInfo(
            name,
            table.definition.kind,
            table.definition.location,
            _table_items(table.definition, table.value),
        )
        for name, table in checked.tables.items()
    }
    return VersionViews(decisions, groups, tables)


def _table_items(definition: TableDef, value: Any) -> tuple[TableItem, ...]:
    if definition.kind == "rows":
        index = value[0]
        locations = [loc for _, loc in definition.rows]
        return tuple(
            TableItem(k, locations[i] if i < len(locations) else None) for i, k in enumerate(index)
        )
    if definition.kind in ("set", "map"):
        # Source order (definition.value) with each item's location; the runtime value
        # (frozenset or dict) has the keys as expressions see them.
        locations = list(definition.item_locations)
        return tuple(
            TableItem(k, locations[i] if i < len(locations) else None)
            for i, k in enumerate(definition.value)
            if k in value
        )
    return ()


class _DecisionFields(NamedTuple):
    result: dict[str, Any]
    ruleset: str
    decision: str
    version: str
    content_hash: str
    as_of: date
    locale: str
    explanation: Any = None
    derivation: Any = None


class Decision(_DecisionFields):
    """The answer to one decision request.

    Immutable like the engine's other result objects; a NamedTuple rather than a
    frozen dataclass because it is built on every decision and costs a third as much.
    With explain, `explanation` (the rules considered) and `derivation` (how each
    output value was derived, `trace.derivation`'s tree) are worked out from the
    recorded trace the first time they are read (see `trace.Explained`).
    """

    __slots__ = ()

    @property
    def explanation(self) -> tuple[TraceEntry, ...] | None:
        found = tuple.__getitem__(self, 7)
        return found.rules() if type(found) is Explained else found

    @property
    def derivation(self) -> dict[str, Any] | None:
        found = tuple.__getitem__(self, 8)
        return found.derivation() if type(found) is Explained else found

    def _asdict(self) -> dict[str, Any]:
        return {**super()._asdict(), "explanation": self.explanation, "derivation": self.derivation}
