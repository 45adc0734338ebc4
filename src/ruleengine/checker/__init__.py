"""Phase 4, check: the rule-set model -> a typed, checked program.

Parses every expression (phase 3), resolves the types of decision inputs,
tables and helper parameters, and type-checks every expression. Every
problem is collected, sorted by position and raised once, together with the
problems `validate` found (a definition it set aside is `broken`: its uses are
not reported again).

Modules, one concern each:

- `program`: the `Checked*` values, the compiler's only input;
- `decls`: declared types, record types, input fields and tables;
- `tables`: table data converted to runtime values;
- `exprs`: expression typing;
- `narrowing`: what a condition tells about null and zero;
- `order`: what an expression reads, callees before callers;
- `bodies`: the walks over reasons, functions, rule groups and decisions;
- `cost`: each decision's worst-case cost as a polynomial in input size (`cost_limit`).

Public entry: `check_version(model)`.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import RuleFileError
from ..model import Limits, VersionModel
from .bodies import Bodies
from .cost import CostLimits, decision_costs
from .decls import Declarations
from .exprs import ExprChecker
from .order import fact_reads
from .program import (
    CheckedDecision,
    CheckedFunction,
    CheckedGroup,
    CheckedRule,
    CheckedTable,
    CheckedVersion,
    InputField,
    RecordSchema,
)
from .state import CheckState
from .tables import convert_value

__all__ = [
    "CheckedDecision",
    "CheckedFunction",
    "CheckedGroup",
    "CheckedRule",
    "CheckedTable",
    "CheckedVersion",
    "CostLimits",
    "InputField",
    "RecordSchema",
    "check_version",
    "convert_value",
    "fact_reads",
]


def check_version(model: VersionModel, limits: CostLimits | None = None) -> CheckedVersion:
    """Type-check one version; raise `RuleFileError` listing every problem."""
    state = CheckState(model, reasons={r.code: r for r in model.reasons}, broken=set(model.broken))
    decls = Declarations(state)
    decls.check_tables()  # before record types: a field may name a table (`in_table`)
    decls.build_records()
    bodies = Bodies(state, decls, ExprChecker(state))
    bodies.check_reasons()
    bodies.check_definition_names()
    order = bodies.call_order()
    functions, groups = bodies.check_callables(order)
    decisions = bodies.check_decisions()
    if model.problems or state.diagnostics:
        raise RuleFileError([*model.problems, *state.diagnostics])
    checked = CheckedVersion(
        model=model,
        records=state.records,
        tables=state.tables,
        functions=tuple(functions),
        groups=groups,
        decisions=decisions,
        reasons=state.reasons,
        types=state.types,
        call_order=tuple(order),
    )
    costs, problems = decision_costs(checked, limits)
    if problems:
        raise RuleFileError(problems)
    return replace(checked, costs=costs, limits=limits or Limits())
