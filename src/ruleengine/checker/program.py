"""The checked program: what the checker hands to the compiler (its only input).

Every expression is parsed and typed; tables hold runtime values (exact
decimals, dates); functions and rule groups come callees first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model import (
    DecisionDef,
    FieldSpec,
    FunctionDef,
    Limits,
    ReasonDef,
    RuleDef,
    RuleGroupDef,
    TableDef,
    VersionModel,
)
from ..nodes import Expr
from ..typesys import RecordT, Type


@dataclass(frozen=True, slots=True)
class InputField:
    spec: FieldSpec
    type: Type  # the field's type, OptT when optional
    allowed: frozenset[Any] | None = None  # in_table: the keys it must be one of


@dataclass(frozen=True, slots=True)
class RecordSchema:
    """A named record type with the constraints of its fields (for validation)."""

    name: str
    fields: tuple[InputField, ...]


@dataclass(frozen=True, slots=True)
class CheckedTable:
    name: str
    type: Type
    value: Any  # runtime value: constant, frozenset, dict, or (index, rows) for rows
    definition: TableDef


@dataclass(frozen=True, slots=True)
class CheckedFunction:
    name: str
    params: tuple[tuple[str, Type], ...]
    body: Expr
    type: Type
    definition: FunctionDef
    lets: tuple[tuple[str, Expr, Type], ...] = ()  # in evaluation order


@dataclass(frozen=True, slots=True)
class CheckedRule:
    definition: RuleDef
    when: Expr
    then: Expr | None  # None: the rule contributes its reason code


@dataclass(frozen=True, slots=True)
class CheckedGroup:
    name: str
    params: tuple[tuple[str, Type], ...]
    rules: tuple[CheckedRule, ...]
    hit: str
    default: Expr | None
    type: Type
    item_type: Type
    definition: RuleGroupDef


@dataclass(frozen=True, slots=True)
class CheckedDecision:
    name: str
    inputs: tuple[InputField, ...]
    lets: tuple[tuple[str, Expr, Type], ...]  # in evaluation order
    outputs: tuple[tuple[str, Expr, Type], ...]
    result_type: RecordT
    definition: DecisionDef


@dataclass(frozen=True, slots=True)
class CheckedVersion:
    model: VersionModel
    records: dict[str, RecordSchema]
    tables: dict[str, CheckedTable]
    functions: tuple[CheckedFunction, ...]  # callees before callers
    groups: dict[str, CheckedGroup]
    decisions: dict[str, CheckedDecision]
    reasons: dict[str, ReasonDef]
    # The type of every checked node, keyed by id(node); nodes stay alive in the fields above.
    # Read it through `type_of`; the compiler keeps its own overlay for nodes it makes.
    types: dict[int, Type] = field(repr=False)
    call_order: tuple[str, ...] = ()  # functions and groups, callees first
    # Each decision's worst-case steps, coefficients of a polynomial in the input size
    # (checker/cost.py); the runtime budget evaluates it at a request's actual sizes.
    costs: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # The limits it was checked with (`limits.max_steps`: the step budget of its decisions).
    limits: Limits = field(default_factory=Limits)

    def type_of(self, node: Expr) -> Type:
        """The type the checker gave to `node` (a node of this checked program)."""
        return self.types[id(node)]
