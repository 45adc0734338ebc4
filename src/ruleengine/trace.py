"""The events traced code records while deciding, and how they are read.

The traced program (`ruleengine compile ... --traced` prints it) is a copy of a
version's functions, rule groups and decisions, named with a `_t` suffix, compiled
the first time an explanation is asked for. It is the plain code's twin except:

- every traced callable takes `_trace` (a list) as its last hidden argument, and
  calls only traced callables;
- nothing is inlined or lowered: each rule group is a function of its own, so every
  rule considered is recorded, in evaluation order;
- tables are read through the readers below, which record what they read.

Recording must be cheap (an explanation costs a few times a plain decision), so the
trace is one flat list: an event is a run of items that starts with a constant of the
traced program (built when it is generated: names, file:line, the fact paths a rule
reads, how many items follow), and nothing is formatted, no dict and no object is
built while deciding (the items are appended from a tuple that is dropped at once).
In order:

- `GroupCall(group)` when a rule group is entered;
- `RuleSite, fired, *captured` for each rule considered: `captured` are the values of
  the variables its condition's fact paths (`a.b.c`, see `checker.fact_reads`) start
  from; a `hit: first` group stops at the first rule that fires; an indexed group
  considers only the rules listed for the fact's value, so the others leave no event;
- `table, key` for each table row or item read (`t[k]`, `k in t`, and every key when
  a table is iterated);
- `Site, start, value` when a let or output is computed, and `Site, start, value,
  *args` for a helper's result or a builtin call: the events from position `start`
  up to this one are what computing it recorded.

Any other object in the list (put there by a hook of other code) is an event of its
own, passed on to coverage as it is and skipped by explanations.

What callers see is worked out from the events only when it is read (`Explained`):
`TraceEntry`s (the rules considered, each fact path's value; a path that is not
there reads as null) and the derivation tree. `Engine.decide_traced` gives coverage
(`qa.coverage`) the events as objects (`as_objects`): `TableRead`, `GroupCall`,
`TraceEntry`, `Derived`, after the `validation_reads`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


@dataclass(frozen=True, slots=True)
class RuleSite:
    """A rule as its trace event names it (a constant of the traced program): `facts` are
    the paths its condition reads, each as (the path as written, the index of the
    captured value it starts from, the field names below that value)."""

    group: str
    rule: str
    location: str  # file:line
    facts: tuple[tuple[str, int, tuple[str, ...]], ...]
    width: int  # how many captured values follow `fired` in the trace


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
        trace += (table, key)
    return found


def read_member(trace: list[Any], table: str, key: Any, members: Any) -> bool:
    if key in members:
        trace += (table, key)
        return True
    return False


def read_rows(trace: list[Any], table: str, value: tuple[dict[Any, Any], Any]) -> Any:
    for key in value[0]:
        trace += (table, key)
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
    arity: int = -1  # a helper's or builtin's: how many arguments follow the value


@dataclass(frozen=True, slots=True)
class Derived:
    """Traced code computed `value` at `site`; the events from index `start` of the trace
    up to this one are what computing it recorded (its inputs). `args` are a function's
    or builtin's arguments."""

    site: Site
    start: int
    value: Any
    args: tuple[Any, ...] | None = None


def called(trace: list[Any], site: Site, start: int, fn: Callable[..., Any], *args: Any) -> Any:
    """Call a builtin (`fn`, evaluated after `start` was taken) and record the call."""
    value = fn(*args)
    trace += (site, start, value, *args)
    return value


# --- reading the events ------------------------------------------------------------


def _path(value: Any, names: tuple[str, ...]) -> Any:
    for name in names:
        value = value.get(name) if type(value) is dict else None
    return value


def events(trace: list[Any]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Each event of a trace as (its position, its items)."""
    i, end = 0, len(trace)
    while i < end:
        head = trace[i]
        kind = type(head)
        if kind is GroupCall:
            size = 1
        elif kind is str:
            size = 2
        elif kind is RuleSite:
            size = 2 + head.width
        elif kind is Site:
            size = 3 + max(head.arity, 0)
        else:  # an object put there by other code (a hook): an event of its own
            size = 1
        yield i, tuple(trace[i : i + size])
        i += size


def _entry(event: tuple[Any, ...]) -> TraceEntry:
    site: RuleSite = event[0]
    values = {label: _path(event[2 + at], names) for label, at, names in site.facts}
    return TraceEntry(site.group, site.rule, site.location, bool(event[1]), values)


def _args(event: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """A helper's or builtin's arguments (None for a let or output)."""
    return event[3:] if event[0].arity >= 0 else None


def rule_entries(trace: list[Any]) -> tuple[TraceEntry, ...]:
    """The rules considered, in order, with the values of the facts each one read."""
    return tuple(_entry(event) for _, event in events(trace) if type(event[0]) is RuleSite)


def as_objects(trace: list[Any], offset: int = 0) -> list[Any]:
    """The events as objects (for coverage): `TableRead`, `GroupCall`, `TraceEntry` and
    `Derived` (its `start` the index of an object, moved by `offset`: objects put before
    these)."""
    out: list[Any] = []
    index: dict[int, int] = {}
    for at, event in events(trace):
        index[at] = len(out) + offset
        head = event[0]
        if type(head) is str:
            out.append(TableRead(head, event[1]))
        elif type(head) is RuleSite:
            out.append(_entry(event))
        elif type(head) is Site:
            out.append(Derived(head, index[event[1]], event[2], _args(event)))
        else:  # GroupCall, or an object put there by other code
            out.append(head)
    return out


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
    return _path(scope.get(path[0]), path[1:])


class _Builder:
    """Reads a trace into nodes: a derived value owns the events recorded since its start."""

    def __init__(self, tables: dict[str, Any]):
        self.tables = tables
        self.count = 0

    def new_id(self) -> str:
        self.count += 1
        return f"n{self.count}"

    def row(self, read: tuple[str, Any]) -> Node:
        name, key = read
        table = self.tables.get(name)
        found = _rows_of(table).get(key) if table is not None else None
        key = key if type(key) is tuple else (key,)
        node: Node = {
            "id": self.new_id(),
            "kind": "row",
            "label": f"{name}[{', '.join(str(k) for k in key)}]",
            "table": name,
            "key": list(key),
        }
        if found is not None:
            node["value"] = found[0]
            where = found[1]
            node["location"] = _location(where.file, where.line, where.column)
        return node

    def nodes(self, trace: list[Any]) -> list[Any]:
        """The top-level table reads and derived values as (table, key) and (event, owned
        items), in order."""
        pending: list[tuple[int, Any]] = []
        for i, event in events(trace):
            kind = type(event[0])
            if kind is str:
                pending.append((i, event))
            elif kind is Site:
                start = event[1]
                owned: list[Any] = []
                while pending and pending[-1][0] >= start:
                    owned.append(pending.pop()[1])
                owned.reverse()
                pending.append((start, (event, owned)))
        return [item for _, item in pending]

    def node(self, item: Any, scope: dict[str, Any], lets: dict[str, Node]) -> Node:
        if type(item[0]) is str:
            return self.row(item)
        event, owned = item
        site: Site = event[0]
        args = _args(event)
        if site.params and args is not None:  # a helper: its parameters are its facts
            scope = {**dict(zip(site.params, args, strict=False)), "as_of": scope["as_of"]}
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
            "value": event[2],
            "location": _location(site.file, site.line, site.col),
            "inputs": inputs,
        }
        if args is not None:
            node["args"] = list(args)
        return node


def _bounded(node: Node, depth: int, seen: set[str]) -> Node:
    """The node cut at MAX_DEPTH and MAX_INPUTS (in place: the builder's nodes are this
    derivation's own); a node met again is a `ref` to its id."""
    ident = node["id"]
    if ident in seen:
        return {"ref": ident, "label": node["label"], "value": node.get("value")}
    seen.add(ident)
    inputs = node.pop("inputs", None)
    if not inputs:
        return node
    if depth >= MAX_DEPTH:
        node["cut"] = f"{len(inputs)} inputs not shown (depth {MAX_DEPTH})"
        return node
    kept = [_bounded(child, depth + 1, seen) for child in inputs[:MAX_INPUTS]]
    if len(inputs) > MAX_INPUTS:
        kept.append({"label": "...", "cut": f"{len(inputs) - MAX_INPUTS} more inputs"})
    node["inputs"] = kept
    return node


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


class Explained:
    """The explanation of one decision, as recorded while deciding; the rules considered
    (`rules()`) and the derivation tree (`derivation()`) are worked out from the events
    the first time they are read, and kept.

    The facts are read then from `data`, the engine's validated copy of the input (the
    input checks build their own dicts and lists), so a caller changing its input dict
    after deciding does not change the explanation."""

    __slots__ = ("_as_of", "_data", "_derivation", "_rules", "_tables", "_trace")

    def __init__(self, trace: list[Any], data: dict[str, Any], as_of: Any, tables: dict[str, Any]):
        self._trace = trace
        self._data = data
        self._as_of = as_of
        self._tables = tables
        self._rules: tuple[TraceEntry, ...] | None = None
        self._derivation: dict[str, Any] | None = None

    def rules(self) -> tuple[TraceEntry, ...]:
        if self._rules is None:
            self._rules = rule_entries(self._trace)
        return self._rules

    def derivation(self) -> dict[str, Any]:
        if self._derivation is None:
            self._derivation = derivation(self._trace, self._data, self._as_of, self._tables)
        return self._derivation

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Explained):
            return NotImplemented
        return self.rules() == other.rules() and self.derivation() == other.derivation()

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (and deep-copied) as what it reads as, not as its events."""
        return (_read_explanation, (self.rules(), self.derivation()))

    def __repr__(self) -> str:
        return f"Explained({len(self._trace)} events)"


def _read_explanation(rules: tuple[TraceEntry, ...], tree: dict[str, Any]) -> Explained:
    """An explanation already worked out (unpickled, or copied)."""
    made = Explained([], {}, None, {})
    made._rules, made._derivation = rules, tree
    return made
