"""Declarations: types written in rule files, record types, input fields, tables.

Tables come first (an input field may name one with `in_table`), then the
record types; decisions' inputs and rule tables' columns are input fields too.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ..errors import Code, Note, RuleFileError
from ..model import ExprSource, FieldSpec, Location, TableDef
from ..parse import TypeSyntax, parse_type
from ..typesys import (
    DECIMAL,
    ERROR,
    HASHABLE,
    INT,
    NEVER,
    SCALARS,
    STRING,
    Constraints,
    ListT,
    MapT,
    OptT,
    Prim,
    RecordT,
    SetT,
    TableT,
    Type,
    is_optional,
    strip,
    unify,
)
from .program import CheckedTable, InputField, RecordSchema
from .state import CheckState, hint, note
from .tables import convert_value, fix_for, infer


class Declarations:
    """Resolves declared types and checks tables, adding what it finds to the state."""

    def __init__(self, state: CheckState):
        self.state = state
        self.at = state.at

    # -- types written in rule files

    def resolve_type(self, text: str, location: Location, stack: tuple[str, ...] = ()) -> Type:
        source = ExprSource.from_text(text, location.file, location.line, location.column)
        try:
            syntax = parse_type(source)
        except RuleFileError as exc:
            self.state.diagnostics.extend(exc.diagnostics)
            return ERROR
        return self._type_from_syntax(syntax, location, stack)

    def _type_from_syntax(
        self, syntax: TypeSyntax, location: Location, stack: tuple[str, ...]
    ) -> Type:
        name, args, is_opt = syntax
        arity = {"list": 1, "set": 1, "map": 2}
        if name in arity:
            if len(args) != arity[name]:
                self.at(
                    location,
                    Code.BAD_TYPE,
                    f"{name}<...> takes {arity[name]} type argument(s), got {len(args)}",
                )
                return ERROR
            inner = [self._type_from_syntax(a, location, stack) for a in args]
            if name == "list":
                result: Type = ListT(inner[0])
            elif name == "set":
                result = SetT(inner[0])
            else:
                result = MapT(inner[0], inner[1])
        elif args:
            self.at(location, Code.BAD_TYPE, f"{name} takes no type arguments")
            return ERROR
        elif name in SCALARS:
            result = SCALARS[name]
        elif self.state.is_broken("type", name):
            return ERROR  # its problem is reported where it is declared
        elif name in self.state.record_types:
            result = self.state.record_types[name]
        elif name in {t.name for t in self.state.model.types}:
            if name in stack:
                self.at(
                    location,
                    Code.BAD_TYPE,
                    f"type {name!r} refers to itself ({' -> '.join((*stack, name))})",
                    "record types cannot be recursive",
                )
                return ERROR
            result = self.build_record(name, (*stack, name))
        else:
            known = [*SCALARS, "list", "set", "map", *(t.name for t in self.state.model.types)]
            self.at(location, Code.UNKNOWN_TYPE, f"unknown type {name!r}", hint(name, known))
            return ERROR
        return OptT(result) if is_opt else result

    def build_records(self) -> None:
        for typedef in self.state.model.types:
            self.build_record(typedef.name, (typedef.name,))

    def build_record(self, name: str, stack: tuple[str, ...] = ()) -> Type:
        if name in self.state.record_types:
            return self.state.record_types[name]
        definition = next(t for t in self.state.model.types if t.name == name)
        fields = self.input_fields(definition.fields, stack or (name,))
        record = RecordT(tuple((f.spec.name, f.type) for f in fields), name)
        self.state.record_types[name] = record
        self.state.records[name] = RecordSchema(name, fields)
        return record

    # -- input fields and their constraints

    def input_fields(
        self, specs: Sequence[FieldSpec], stack: tuple[str, ...] = ()
    ) -> tuple[InputField, ...]:
        fields = []
        for spec in specs:
            base = self.resolve_type(spec.type_text, spec.type_location, stack)
            loc = spec.location or spec.type_location
            base = self._constrained(spec, base, loc)
            allowed = self._allowed(spec, base, loc) if spec.in_table is not None else None
            base = _with_constraints(base, spec, allowed, loc)
            fields.append(
                InputField(spec, OptT(base) if spec.optional and base != ERROR else base, allowed)
            )
        return tuple(fields)

    def _constrained(self, spec: FieldSpec, base: Type, loc: Location) -> Type:
        """The field's type with its enum; each constraint on the wrong type is reported."""
        name = spec.name
        if spec.enum is not None:
            if base != STRING:
                self.at(loc, Code.BAD_TYPE, f"field {name!r}: enum needs type string, not {base}")
            else:
                base = Prim("string", frozenset(spec.enum))
        if (spec.minimum is not None or spec.maximum is not None) and strip(base) not in (
            INT,
            DECIMAL,
            ERROR,
        ):
            self.at(
                loc,
                Code.BAD_TYPE,
                f"field {name!r}: minimum/maximum need int or decimal, not {base}",
            )
        for bound in (spec.minimum, spec.maximum):
            if bound is not None and (
                isinstance(bound, bool) or not isinstance(bound, (int, Decimal))
            ):
                self.at(loc, Code.BAD_TYPE, f"field {name!r}: bound {bound!r} is not a number")
        if spec.pattern and base not in (STRING, ERROR):
            self.at(loc, Code.BAD_TYPE, f"field {name!r}: a pattern needs a string, not {base}")
        elif (
            (spec.min_length is not None or spec.max_length is not None)
            and base not in (STRING, ERROR)
            and not isinstance(base, (ListT, SetT))
        ):
            self.at(
                loc,
                Code.BAD_TYPE,
                f"field {name!r}: length constraints need a string or a list, not {base}",
            )
        return base

    def _allowed(self, spec: FieldSpec, base: Type, loc: Location) -> frozenset[Any] | None:
        """The keys of the field's `in_table`, if the table and the field fit together."""
        assert spec.in_table is not None
        if base not in (STRING, INT, ERROR):
            self.at(
                loc,
                Code.BAD_TYPE,
                f"field {spec.name!r}: in_table needs a string or int field, not {base}",
            )
            return None
        allowed = self.table_keys(spec.in_table, loc)
        if (
            allowed is not None
            and base != ERROR
            and any(type(k) is not (str if base == STRING else int) for k in allowed)
        ):
            self.at(
                loc,
                Code.BAD_TYPE,
                f"field {spec.name!r} is {base}, but table {spec.in_table!r} "
                "holds keys of another type",
            )
            return None
        return allowed

    def table_keys(self, name: str, location: Location) -> frozenset[Any] | None:
        table = self.state.tables.get(name)
        if table is None and self.state.is_broken("value", name):
            return None
        if table is None:
            self.at(
                location,
                Code.UNKNOWN_NAME,
                f"unknown table {name!r}",
                hint(name, list(self.state.tables)),
            )
            return None
        value = table.value
        if isinstance(value, frozenset):
            return value
        if isinstance(value, dict):
            return frozenset(value)
        if isinstance(table.type, TableT) and len(table.type.keys) == 1:
            return frozenset(value[0])
        self.at(
            location,
            Code.BAD_TYPE,
            f"in_table needs a set, a map or a table with one key column; {name!r} is not",
        )
        return None

    # -- tables

    def check_tables(self) -> None:
        for table in self.state.model.tables:
            self.check_table(table)

    def check_table(self, table: TableDef) -> None:
        if table.kind == "rows":
            self._rows_table(table)
            return
        declared = self.resolve_type(table.type_text, table.location) if table.type_text else None
        if table.kind == "value":
            self._value_table(table, declared)
        else:
            self._collection_table(table, declared)

    def _rows_table(self, table: TableDef) -> None:
        loc = table.location
        columns = self.input_fields(table.columns)
        row_type = RecordT(tuple((c.spec.name, c.type) for c in columns), None)
        key_types = []
        for key in table.key:
            col = next(c for c in columns if c.spec.name == key)
            if is_optional(col.type):
                self.at(
                    loc,
                    Code.BAD_TABLE,
                    f"key column {key!r} of table {table.name!r} cannot be optional",
                )
            key_types.append(strip(col.type))
        index: dict[Any, Any] = {}
        rows = []
        first_row: dict[Any, Location] = {}
        for i, (row, row_loc) in enumerate(table.rows):
            converted = {}
            for col in columns:
                name = col.spec.name
                converted[name] = self.cell(
                    row.get(name),
                    col.type,
                    table.where("rows", i, name) if name in row else row_loc,
                    f"column {name!r} of table {table.name!r}",
                    note(f"column {name!r} is declared {col.type} here", col.spec.type_location),
                )
            row_key = tuple(converted[k] for k in table.key)
            key_value = row_key[0] if len(row_key) == 1 else row_key
            if key_value in index:
                self.at(
                    table.where("rows", i, table.key[0]),
                    Code.BAD_TABLE,
                    f"table {table.name!r} has two rows with key "
                    f"{', '.join(str(k) for k in row_key)}",
                    "each key may appear in one row",
                    note("the first row with this key", first_row[key_value]),
                )
            else:
                first_row[key_value] = row_loc
            index[key_value] = converted
            rows.append(converted)
        self.state.tables[table.name] = CheckedTable(
            table.name,
            TableT(table.name, tuple(key_types), row_type),
            (index, tuple(rows)),
            table,
        )

    def _value_table(self, table: TableDef, declared: Type | None) -> None:
        t = declared or infer(table.value)
        if t is None:
            self.at(
                table.location,
                Code.BAD_TABLE,
                f"cannot tell the type of table {table.name!r}; add `type:`",
            )
            self.state.broken.add(("value", table.name))
            return
        value = self.cell(
            table.value,
            t,
            table.where("value"),
            f"table {table.name!r}",
            note(f"the table is declared {t} here", table.where("type")) if declared else (),
        )
        self.state.tables[table.name] = CheckedTable(table.name, t, value, table)

    def _collection_table(self, table: TableDef, declared: Type | None) -> None:
        items = table.value if table.kind == "set" else list(table.value.values())
        elem = declared
        locs = table.item_locations
        if elem is None:
            elem = self._item_type(table, items)
        if elem is None or (table.kind == "set" and strip(elem) not in HASHABLE and elem != NEVER):
            if elem is not None:
                self.at(
                    table.location,
                    Code.BAD_TABLE,
                    f"the items of table {table.name!r} are not all of one scalar type",
                    "declare `type:` (int, decimal, string, date) or make the items alike",
                )
            self.state.broken.add(("value", table.name))
            return
        declared_here = note(f"the items are declared {elem} here", table.where("type"))
        if table.kind == "set":
            values = [
                self.cell(
                    v,
                    elem,
                    locs[i],
                    f"item {i + 1} of table {table.name!r}",
                    declared_here if declared else (),
                )
                for i, v in enumerate(items)
            ]
            self.state.tables[table.name] = CheckedTable(
                table.name, SetT(elem), frozenset(values), table
            )
        else:
            mapping = {
                k: self.cell(
                    v,
                    elem,
                    locs[i],
                    f"entry {k!r} of table {table.name!r}",
                    declared_here if declared else (),
                )
                for i, (k, v) in enumerate(table.value.items())
            }
            self.state.tables[table.name] = CheckedTable(
                table.name, MapT(STRING, elem), mapping, table
            )

    def _item_type(self, table: TableDef, items: list[Any]) -> Type | None:
        """The one scalar type of a table's items; else report the first item that differs."""
        inferred: Type = NEVER
        for i, item in enumerate(items):
            it = infer(item)
            joined = unify(inferred, it) if it is not None else None
            if joined is None:
                what = "a list or a mapping" if it is None else str(it)
                earlier = (
                    note(f"earlier items are {inferred}", table.item_locations[0])
                    if i and table.item_locations
                    else ()
                )
                self.at(
                    table.item_locations[i] if table.item_locations else table.location,
                    Code.BAD_TABLE,
                    f"the items of table {table.name!r} are not all of one scalar type: "
                    f"item {i + 1} is {what}",
                    "declare `type:` (int, decimal, string, date) or make the items alike",
                    earlier,
                )
                return None
            inferred = joined
        return inferred

    def cell(
        self, value: Any, t: Type, location: Location, what: str, notes: tuple[Note, ...] = ()
    ) -> Any:
        """Convert a value from a rule file to type t (exact decimals, dates), or report it."""
        converted, problem = convert_value(value, t)
        if problem:
            fix = fix_for(value, t)
            self.at(location, Code.BAD_TABLE, f"{what}: {problem}", fix, notes=notes)
        return converted


def _with_constraints(
    base: Type, spec: FieldSpec, allowed: frozenset[Any] | None, loc: Location
) -> Type:
    """A scalar field's type carrying what its declaration allows (for literal checks)."""
    if not isinstance(base, Prim) or base.name not in ("string", "int", "decimal"):
        return base
    rules = Constraints(
        pattern=spec.pattern,
        minimum=spec.minimum,
        maximum=spec.maximum,
        min_length=spec.min_length,
        max_length=spec.max_length,
        in_table=spec.in_table,
        allowed=allowed,
        declared_at=loc,
    )
    if rules == Constraints(declared_at=loc):
        return base
    return Prim(base.name, base.enum, rules)
