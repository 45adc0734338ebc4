"""Static analysis of rule sets with an SMT solver (z3, the `analysis` extra).

Public entries: `analyse_version(checked)` (what `ruleengine analyze` reports)
and `symbolic_diff(...)` (what `ruleengine diff --symbolic` reports). The
fragment translated to z3, the list bound and every finding code are
documented in docs/analysis.md.
"""

from __future__ import annotations

from .analyze import analyse_version
from .equivalence import symbolic_diff

__all__ = ["analyse_version", "symbolic_diff"]
