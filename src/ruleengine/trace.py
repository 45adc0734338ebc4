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


# --- derivations: how each value was computed ------------------------------------


@dataclass(frozen=True, slots=True)
class Site:
    """Where a traced value is computed, known when the traced program is generated:
    `kind` is output, let, function (a helper's result) or call (a builtin such as
    round_money); `facts` are the input (or parameter) paths its expression reads, root
    name first; `lets` the lets of its scope it reads; `params` a function's parameters."""

    kind: str
    name: str
    expr: str
    file: str
    line: int
    col: int
    facts: tuple[tuple[str, ...], ...] = ()
    lets: tuple[str, ...] = ()  # the lets of the same scope it reads
    params: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Derived:
    """Traced code computed `value` at `site`; the events from index `start` of the trace
    up to this one are what computing it recorded (its inputs). `args` are a function's
    or builtin's arguments."""

    site: Site
    start: int
    value: Any
    args: tuple[Any, ...] | None = None


def derived(trace: list[Any], site: Site, start: int, value: Any) -> Any:
    """Record a let's, output's or helper's value (`start` is `len(_trace)` taken before
    the value was computed); return the value."""
    trace.append(Derived(site, start, value))
    return value


def derived_call(
    trace: list[Any], site: Site, start: int, value: Any, args: tuple[Any, ...]
) -> Any:
    trace.append(Derived(site, start, value, args))
    return value


def called(trace: list[Any], site: Site, start: int, fn: Callable[..., Any], *args: Any) -> Any:
    """Call a builtin (written as a lambda over its arguments, evaluated after `start`
    was taken) and record the call."""
    value = fn(*args)
    trace.append(Derived(site, start, value, args))
    return value


# --- the derivation tree of a decision (explanations) ------------------------------

# How deep the tree goes (a node deeper is cut: shown with its value, `"cut": true`),
# and how many inputs one node lists (the rest are summed up in one `cut` node).
MAX_DEPTH = 12
MAX_INPUTS = 40

Node = dict[str, Any]
_ROWS: dict[int, tuple[Any, dict[Any, tuple[Any, Any]]]] = {}


def _rows_of(table: Any) -> dict[Any, tuple[Any, Any]]:
    """key -> (row or item, Location) of a checked table (cached per table)."""
    cached = _ROWS.get(id(table))
    if cached is not None and cached[0] is table:
        return cached[1]
    definition = table.definition
    found: dict[Any, tuple[Any, Any]] = {}
    if definition.kind == "rows":
        key = definition.key
        for row, (_, where) in zip(table.value[1], definition.rows, strict=False):
            k = row[key[0]] if len(key) == 1 else tuple(row[c] for c in key)
            found[k] = (row, where)
    elif definition.kind in ("set", "map"):  # items in the order they are written
        for item, where in zip(definition.value or (), definition.item_locations, strict=False):
            if definition.kind == "set":
                found[item] = (item, where)
            else:
                found[item] = (table.value.get(item), where)
    if len(_ROWS) > 256:
        _ROWS.clear()
    _ROWS[id(table)] = (table, found)
    return found


def _location(file: str, line: int, col: int) -> dict[str, Any]:
    return {"file": file, "line": line, "col": col}


def _fact(path: tuple[str, ...], scope: dict[str, Any]) -> Any:
    value: Any = scope.get(path[0])
    for name in path[1:]:
        value = value.get(name) if type(value) is dict else None
    return value


class _Builder:
    """Reads a trace into nodes: a `Derived` owns the events recorded since its `start`."""

    def __init__(self, tables: dict[str, Any]):
        self.tables = tables
        self.count = 0

    def new_id(self) -> str:
        self.count += 1
        return f"n{self.count}"

    def row(self, read: TableRead) -> Node:
        table = self.tables.get(read.table)
        found = _rows_of(table).get(read.key) if table is not None else None
        key = read.key if type(read.key) is tuple else (read.key,)
        node: Node = {
            "id": self.new_id(),
            "kind": "row",
            "label": f"{read.table}[{', '.join(str(k) for k in key)}]",
            "table": read.table,
            "key": list(key),
        }
        if found is not None:
            node["value"] = found[0]
            where = found[1]
            node["location"] = _location(where.file, where.line, where.column)
        return node

    def nodes(self, trace: list[Any]) -> list[tuple[Derived | None, Node, list[Any]]]:
        """The top-level events as (event, node, owned children), in order."""
        pending: list[tuple[int, Any]] = []
        for i, event in enumerate(trace):
            kind = type(event)
            if kind is TableRead:
                pending.append((i, event))
            elif kind is Derived:
                owned: list[Any] = []
                while pending and pending[-1][0] >= event.start:
                    owned.append(pending.pop()[1])
                owned.reverse()
                pending.append((event.start, (event, owned)))
        return [item for _, item in pending]

    def node(self, item: Any, scope: dict[str, Any], lets: dict[str, Node]) -> Node:
        if type(item) is TableRead:
            return self.row(item)
        event, owned = item
        site = event.site
        if site.params and event.args is not None:  # a helper: its parameters are its facts
            scope = {**dict(zip(site.params, event.args, strict=False)), "as_of": scope["as_of"]}
            lets = {}
        inputs: list[Node] = [
            {
                "id": self.new_id(),
                "kind": "fact",
                "label": ".".join(path),
                "value": _fact(path, scope),
            }
            for path in site.facts
        ]
        inputs.extend(self.node(child, scope, {}) for child in owned)
        inputs.extend(lets[name] for name in site.lets if name in lets)
        node: Node = {
            "id": self.new_id(),
            "kind": site.kind,
            "label": site.name,
            "expr": site.expr,
            "value": event.value,
            "location": _location(site.file, site.line, site.col),
            "inputs": inputs,
        }
        if event.args is not None:
            node["args"] = list(event.args)
        return node


def _bounded(node: Node, depth: int, seen: set[str]) -> Node:
    """A copy cut at MAX_DEPTH and MAX_INPUTS; a node met again is a `ref` to its id."""
    if "id" in node and node["id"] in seen:
        return {"ref": node["id"], "label": node["label"], "value": node.get("value")}
    if "id" in node:
        seen.add(node["id"])
    out = {k: v for k, v in node.items() if k != "inputs"}
    inputs = node.get("inputs")
    if not inputs:
        return out
    if depth >= MAX_DEPTH:
        out["cut"] = f"{len(inputs)} inputs not shown (depth {MAX_DEPTH})"
        return out
    kept = [_bounded(child, depth + 1, seen) for child in inputs[:MAX_INPUTS]]
    if len(inputs) > MAX_INPUTS:
        kept.append({"label": "...", "cut": f"{len(inputs) - MAX_INPUTS} more inputs"})
    out["inputs"] = kept
    return out


def derivation(
    trace: list[Any], data: dict[str, Any], as_of: Any, tables: dict[str, Any]
) -> dict[str, Any]:
    """The derivation of a decision's result from its trace: one root per output field,
    each with the lets, helper results, builtin calls, table rows and facts it depended
    on (the shape: schemas/explanation.schema.json)."""
    builder = _Builder(tables)
    scope = {**data, "as_of": as_of}
    lets: dict[str, Node] = {}
    roots: list[Node] = []
    for item in builder.nodes(trace):
        made = builder.node(item, scope, lets)
        if made.get("kind") == "let":
            lets[made["label"]] = made
        elif made.get("kind") == "output":
            roots.append(made)
    seen: set[str] = set()
    return {"max_depth": MAX_DEPTH, "roots": [_bounded(root, 0, seen) for root in roots]}
