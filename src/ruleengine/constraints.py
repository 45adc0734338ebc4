"""One model of what an input value must be: `FieldRule`, built once per input field.

The fast validator, the collecting validator (both generated, `compiler/fastpath.py`
and `compiler/validators.py`), the JSON Schema export (`schema_export.py`) and the
descriptions in error messages all read this model, so a constraint is stated
once: a new one is a field here plus one branch in each reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .checker import InputField, RecordSchema
from .typesys import (
    BOOL,
    DATE,
    DECIMAL,
    INT,
    STRING,
    ListT,
    MapT,
    OptT,
    Prim,
    RecordT,
    SetT,
    Type,
    strip,
)

# The kinds of input value (FieldRule.kind).
SCALARS = ("int", "decimal", "bool", "date", "string")
_PRIM_KINDS = {INT: "int", DECIMAL: "decimal", BOOL: "bool", DATE: "date"}
_PRIM_NAMES = {
    "int": "integer",
    "decimal": "decimal",
    "string": "string",
    "bool": "boolean",
    "date": "date (YYYY-MM-DD)",
}


@dataclass(frozen=True, slots=True)
class FieldRule:
    """The constraints on one input value: a field, or a list's items, or a map's values."""

    kind: str  # int, decimal, bool, date, string, record, list, set, map, other
    expected: str  # how messages describe a valid value: "integer", "one of: a, b"...
    name: str | None = None  # the field's name (None for items and map values)
    optional: bool = False  # null is a valid value
    minimum: Any = None  # int or Decimal bounds (inclusive)
    maximum: Any = None
    enum: tuple[str, ...] | None = None  # the strings allowed, in declared order
    min_length: int | None = None  # characters of a string, items of a list or set
    max_length: int | None = None
    pattern: str | None = None  # a string's regular expression (whole value)
    table: str | None = None  # in_table: the table whose keys the value must be one of
    allowed: frozenset[Any] | None = None  # that table's keys
    record: str | None = None  # kind record: the record type's name
    item: FieldRule | None = None  # list and set items, map values
    string_keys: bool = False  # kind map: its keys are strings (as JSON's always are)
    description: str | None = None
    sensitive: bool = False  # the decision log writes a keyed hash of it, not the value

    @property
    def in_table(self) -> bool:
        return self.table is not None and self.allowed is not None


# field id -> (the field, its rule). The entry holds the field, so its id cannot be
# reused while cached; the identity check makes an equal but distinct field (a
# reloaded version) get its own rule. Bounded: cleared when full, then refilled.
_RULES: dict[int, tuple[InputField, FieldRule]] = {}
_RULES_LIMIT = 20_000


def field_rule(field: InputField) -> FieldRule:
    """The rule of a declared field (a decision's input or a record type's field),
    worked out once per field."""
    cached = _RULES.get(id(field))
    if cached is not None and cached[0] is field:
        return cached[1]
    rule = _rule(field.type, field)
    if len(_RULES) >= _RULES_LIMIT:
        _RULES.clear()
    _RULES[id(field)] = (field, rule)
    return rule


def field_rules(fields: tuple[InputField, ...]) -> tuple[FieldRule, ...]:
    return tuple(field_rule(f) for f in fields)


def record_rules(records: dict[str, RecordSchema]) -> dict[str, tuple[FieldRule, ...]]:
    """Each record type's field rules, by record name."""
    return {name: field_rules(r.fields) for name, r in records.items()}


def describe(t: Type, enum: tuple[str, ...] | None = None) -> str:
    """How error messages name a type (a declared enum names its values)."""
    t = strip(t)
    if isinstance(t, Prim):
        if t.name == "string" and enum:
            return "one of: " + ", ".join(enum)
        return _PRIM_NAMES.get(t.name, t.name)
    if isinstance(t, RecordT):
        return f"object ({t.name})" if t.name else "object"
    if isinstance(t, ListT):
        return f"array of {describe(t.elem)}"
    if isinstance(t, SetT):
        return f"array of distinct {describe(t.elem)}"
    if isinstance(t, MapT):
        return f"object of {describe(t.value)}"
    return str(t)


def _rule(t: Type, field: InputField | None) -> FieldRule:
    spec = field.spec if field is not None else None
    optional = isinstance(t, OptT)
    base = strip(t)
    common: dict[str, Any] = {
        "optional": optional,
        "expected": describe(base, spec.enum if spec else None),
    }
    if spec is not None:
        common |= {"name": spec.name, "description": spec.description}
        common |= {"sensitive": spec.sensitive}
        common |= {"min_length": spec.min_length, "max_length": spec.max_length}
    if field is not None and spec is not None and spec.in_table and field.allowed is not None:
        common |= {"table": spec.in_table, "allowed": field.allowed}
    if base in _PRIM_KINDS:
        kind = _PRIM_KINDS[base]
        if spec is not None and kind in ("int", "decimal"):
            common |= {"minimum": spec.minimum, "maximum": spec.maximum}
        return FieldRule(kind, **common)
    if isinstance(base, Prim) and base.name == "string":
        enum = tuple(spec.enum) if spec and spec.enum else None
        if enum is None and base.enum:
            enum = tuple(sorted(base.enum))
        return FieldRule("string", enum=enum, pattern=spec.pattern if spec else None, **common)
    if isinstance(base, RecordT) and base.name:
        return FieldRule("record", record=base.name, **common)
    if isinstance(base, (ListT, SetT)):
        kind = "list" if isinstance(base, ListT) else "set"
        return FieldRule(kind, item=_rule(base.elem, None), **common)
    if isinstance(base, MapT):
        keys = strip(base.key) == STRING
        return FieldRule("map", item=_rule(base.value, None), string_keys=keys, **common)
    return FieldRule("other", **common)  # pragma: no cover - the checker refuses others
