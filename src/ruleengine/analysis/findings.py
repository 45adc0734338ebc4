"""What `ruleengine analyze` reports, and where.

A `Finding` is a logic problem proved by the solver (never a guess): its code,
severity (`warning` or `note`), position, message, one example input where one
exists, and secondary notes (`note: the earlier rule is here`). `NotAnalysed`
names what the translation does not cover, so that a clean report is never
claimed for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model import ExprSource, Location
from ..nodes import Expr

WARNING, NOTE = "warning", "note"

# code -> (severity, one-line meaning); docs/analysis.md documents each.
CODES: dict[str, tuple[str, str]] = {
    "rule_never_fires": (WARNING, "the rule's condition is false for every valid input"),
    "rule_shadowed": (
        WARNING,
        "under hit: first, earlier rules take every input this rule matches",
    ),
    "rule_always_fires": (NOTE, "the rule's condition is true for every valid input"),
    "rules_overlap": (
        WARNING,
        "under hit: first, two rules match one input and give different values",
    ),
    "group_gap": (WARNING, "under hit: first without a default, no rule matches some input"),
    "condition_always_true": (WARNING, "an `if` condition is true wherever it is evaluated"),
    "condition_always_false": (WARNING, "an `if` condition is false wherever it is evaluated"),
    "table_gap": (NOTE, "a lookup has no row for some valid input"),
    "table_gap_default": (WARNING, "a lookup has no row for some valid input; a default is used"),
}


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    message: str
    location: Location
    length: int = 1
    example: dict[str, Any] | None = None
    notes: tuple[tuple[str, Location], ...] = ()
    bounded: bool = False  # proved for input lists up to the documented bound

    @property
    def severity(self) -> str:
        return CODES[self.code][0]

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location
        return (loc.file, loc.line, loc.column, self.code)


@dataclass(frozen=True, slots=True)
class NotAnalysed:
    what: str
    location: Location
    reason: str


@dataclass
class Analysis:
    ruleset: str
    version: str
    findings: list[Finding] = field(default_factory=list)
    not_analysed: list[NotAnalysed] = field(default_factory=list)
    rules: int = 0  # rules whose conditions were analysed
    conditions: int = 0  # `if` conditions analysed
    lookups: int = 0  # table lookups analysed
    decisions: int = 0
    list_bound: int = 2


def node_location(
    source: ExprSource | None, node: Expr, fallback: Location
) -> tuple[Location, int]:
    """Where a node of an expression sits in its file, and how long it is."""
    if source is None:
        return fallback, 1
    line, column = source.locate_offset(node.span.start)
    length = max(1, node.span.end - node.span.start)
    return Location(source.location.file, line, column), length
