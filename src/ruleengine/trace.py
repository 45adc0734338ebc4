"""The events traced code records while deciding, and the readers that record them.

The traced program (`ruleengine compile ... --traced` prints it) is a copy of a
version's functions, rule groups and decisions, named with a `_t` suffix, compiled
the first time an explanation is asked for. It is the plain code's twin except:

- every traced callable takes `_trace` (a list) as its last hidden argument, and
  calls only traced callables;
- nothing is inlined or lowered: each rule group is a function of its own, so every
  rule considered is recorded, in evaluation order;
- tables are read through the readers below, which record what they read.

What lands in `_trace`, in order:

- `GroupCall(group)` when a rule group is entered;
- `TraceEntry(group, rule, "file:line", fired, values)` for each rule considered:
  `values` maps each fact path its condition reads (`a.b.c`, see
  `checker.fact_reads`) to its value, a path that is not there reading as null. A
  `hit: first` group stops at the first rule that fires; an indexed group considers
  only the rules listed for the fact's value, so the others leave no entry;
- `TableRead(table, key)` for each table row or item read (`t[k]`, `k in t`, and
  every key when a table is iterated).

`Engine.decide_traced` starts the list with `validation_reads` (the `in_table`
items the input was checked against). Explanations keep the `TraceEntry`s;
coverage (`qa.coverage`) counts all three.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .checker import InputField, RecordSchema
from .constraints import SCALARS, FieldRule, field_rules, record_rules


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One rule considered while deciding: which, where, whether it fired, what it read."""

    group: str
    rule: str
    location: str
    fired: bool
    values: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "rule": self.rule,
            "location": self.location,
            "fired": self.fired,
            "values": self.values,
        }


@dataclass(frozen=True, slots=True)
class GroupCall:
    """Traced code entered rule group `group` (its rules follow, unless an index skipped them)."""

    group: str


@dataclass(frozen=True, slots=True)
class TableRead:
    """Traced code read the row or item `key` of `table` (for coverage of table rows)."""

    table: str
    key: Any


def validation_reads(
    fields: tuple[InputField, ...], records: dict[str, RecordSchema], data: Any
) -> list[TableRead]:
    """The table items that validated input was checked against (`in_table` fields):
    validation reads them too, so coverage counts them."""
    reads: list[TableRead] = []
    rules = record_rules(records)

    def visit(rule: FieldRule, value: Any) -> None:
        if value is None:
            return
        if rule.table is not None and rule.kind in SCALARS:
            reads.append(TableRead(rule.table, value))
        elif rule.kind == "record" and rule.record in rules and type(value) is dict:
            for f in rules[rule.record]:
                visit(f, value.get(f.name))
        elif rule.item is not None and isinstance(value, (list, frozenset)):
            for item in value:
                visit(rule.item, item)

    if type(data) is dict:
        for rule in field_rules(fields):
            visit(rule, data.get(rule.name))
    return reads


# --- readers: traced code reads tables through these -----------------------------


def read_key(trace: list[Any], table: str, key: Any, index: dict[Any, Any]) -> Any:
    found = index.get(key)
    if found is not None:
        trace.append(TableRead(table, key))
    return found


def read_member(trace: list[Any], table: str, key: Any, members: Any) -> bool:
    if key in members:
        trace.append(TableRead(table, key))
        return True
    return False


def read_rows(trace: list[Any], table: str, value: tuple[dict[Any, Any], Any]) -> Any:
    trace.extend(TableRead(table, key) for key in value[0])
    return value[1]


def read_value(thunk: Callable[[], Any]) -> Any:
    """Evaluate a value for an explanation; a path that is not there reads as null."""
    try:
        return thunk()
    except (KeyError, TypeError, IndexError):
        return None
