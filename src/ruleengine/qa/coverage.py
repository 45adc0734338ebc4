"""Rule coverage: was each rule's condition seen true and seen false, was each table row read?

Coverage reads the raw trace of `Engine.decide_traced`, which runs the same
generated program as production with its trace hooks on: a `TraceEntry` per
rule considered and a `TableRead` per table row or item read.

Counting, per version of a rule set:

- a rule whose entry says fired counts as seen true; not fired, as seen false;
- a rule of an invoked group that has no entry was skipped (by an index) and
  counts as seen false; in a `hit: first` group, rules after the one that fired
  were never reached and count as neither;
- the percentage is condition outcomes seen over outcomes possible (two per
  rule), an exact `Fraction`: 1999/2000 is 99.95%, never rounded up to 100%.
- every item of a set or map table and every row of a keyed table is listed
  if no case read it (single-value tables have nothing to cover).

Public entry: `Coverage` (`record` each decision, then `report()`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .. import Decision, GroupCall, Location, TableRead, TraceEntry, Version


@dataclass(slots=True)
class RuleCoverage:
    ruleset: str
    version: str
    group: str
    rule: str
    location: Location
    seen_true: int = 0
    seen_false: int = 0

    @property
    def covered(self) -> bool:
        return bool(self.seen_true and self.seen_false)

    @property
    def outcomes(self) -> int:
        return (self.seen_true > 0) + (self.seen_false > 0)


@dataclass(slots=True)
class TableItemCoverage:
    ruleset: str
    version: str
    table: str
    key: Any
    location: Location | None
    reads: int = 0


@dataclass(frozen=True, slots=True)
class _Group:
    hit: str
    rules: tuple[RuleCoverage, ...]
    order: dict[str, int] = field(hash=False)


class Coverage:
    """Accumulates rule and table coverage over many traced decisions."""

    def __init__(self, versions: Iterable[Version]):
        self._groups: dict[tuple[str, str], dict[str, _Group]] = {}
        self._items: dict[tuple[str, str], dict[tuple[str, Any], TableItemCoverage]] = {}
        self.rules: list[RuleCoverage] = []
        self.items: list[TableItemCoverage] = []
        for v in sorted(versions, key=lambda v: (v.ruleset, v.effective_from)):
            key = (v.ruleset, v.version)
            groups: dict[str, _Group] = {}
            for name, group in v.groups().items():
                rules = tuple(
                    RuleCoverage(v.ruleset, v.version, name, r.id, r.location) for r in group.rules
                )
                self.rules.extend(rules)
                groups[name] = _Group(group.hit, rules, {r.rule: i for i, r in enumerate(rules)})
            self._groups[key] = groups
            items: dict[tuple[str, Any], TableItemCoverage] = {}
            for name, table in v.tables().items():
                for item in table.items:
                    items[(name, item.key)] = TableItemCoverage(
                        v.ruleset, v.version, name, item.key, item.location
                    )
            self._items[key] = items
            self.items.extend(items.values())

    def record(self, decision: Decision, trace: list[Any]) -> None:
        """Count one traced decision (the trace `Engine.decide_traced` returned)."""
        key = (decision.ruleset, decision.version)
        groups = self._groups.get(key)
        if groups is None:
            return
        items = self._items[key]
        open_calls: dict[str, list[tuple[int, bool]]] = {}
        for entry in trace:
            if type(entry) is TableRead:
                item = items.get((entry.table, entry.key))
                if item is not None:
                    item.reads += 1
            elif type(entry) is GroupCall:
                # A group starts: even if an index skips every rule, it counts as seen.
                group = groups.get(entry.group)
                if group is None:
                    continue
                if entry.group in open_calls:
                    _close(group, open_calls.pop(entry.group))
                open_calls[entry.group] = []
            elif type(entry) is TraceEntry:
                group = groups.get(entry.group)
                if group is None or entry.rule not in group.order:
                    continue
                index = group.order[entry.rule]
                seen = open_calls.get(entry.group)
                if seen and index <= seen[-1][0]:  # a new invocation of the group
                    _close(group, open_calls.pop(entry.group))
                open_calls.setdefault(entry.group, []).append((index, entry.fired))
                if entry.fired and group.hit == "first":
                    _close(group, open_calls.pop(entry.group))
        for name, seen in open_calls.items():
            _close(groups[name], seen)

    def report(self) -> CoverageReport:
        return CoverageReport(tuple(self.rules), tuple(self.items))


def _close(group: _Group, evaluated: list[tuple[int, bool]]) -> None:
    """Count one invocation of a group: its evaluated rules, and the ones an index skipped."""
    outcome = dict(evaluated)
    fired_at = next((i for i, fired in evaluated if fired), None) if group.hit == "first" else None
    for index, rule in enumerate(group.rules):
        fired = outcome.get(index)
        if fired is None and fired_at is not None and index > fired_at:
            continue  # after the first hit: never reached
        if fired:
            rule.seen_true += 1
        else:
            rule.seen_false += 1


@dataclass(frozen=True, slots=True)
class CoverageReport:
    rules: tuple[RuleCoverage, ...]
    items: tuple[TableItemCoverage, ...]

    @property
    def outcomes_seen(self) -> int:
        return sum(r.outcomes for r in self.rules)

    @property
    def outcomes_total(self) -> int:
        return 2 * len(self.rules)

    @property
    def percent(self) -> Fraction:
        """Exact percentage of condition outcomes seen (100 when there are no rules)."""
        if not self.rules:
            return Fraction(100)
        return Fraction(100 * self.outcomes_seen, self.outcomes_total)

    def never_fired(self) -> list[RuleCoverage]:
        return [r for r in self.rules if not r.seen_true]

    def unread(self) -> list[TableItemCoverage]:
        return [i for i in self.items if not i.reads]

    def render(self) -> str:
        lines = ["Rule coverage (condition seen true / seen false):"]
        width = max((len(f"{r.group}.{r.rule}") for r in self.rules), default=0)
        current = None
        for r in self.rules:
            if (r.ruleset, r.version) != current:
                current = (r.ruleset, r.version)
                lines.append(f"  {r.ruleset} {r.version}")
            mark = "ok     " if r.covered else "MISSING"
            missing = (
                []
                if r.covered
                else ["never true"] * (not r.seen_true) + ["never false"] * (not r.seen_false)
            )
            lines.append(
                f"    {mark} {f'{r.group}.{r.rule}':<{width}}  true {r.seen_true:<4} false {r.seen_false:<4} "
                f"{_where(r.location)}" + (f"  ({', '.join(missing)})" if missing else "")
            )
        lines.append("Rules never fired:")
        never = [
            f"  {r.ruleset} {r.version} {r.group}.{r.rule}  {_where(r.location)}"
            for r in self.never_fired()
        ]
        lines.extend(never or ["  (none)"])
        lines.append("Table rows and items never read:")
        unread = self.unread()
        by_table: dict[tuple[str, str, str], list[TableItemCoverage]] = {}
        for item in unread:
            by_table.setdefault((item.ruleset, item.version, item.table), []).append(item)
        for (ruleset, version, table), found in by_table.items():
            where = found[0].location.file if found[0].location else "?"
            keys = ", ".join(
                f"[{_key(i.key)}]" + (f" :{i.location.line}" if i.location else "") for i in found
            )
            lines.append(f"  {ruleset} {version} {table} ({where}): {keys}")
        if not unread:
            lines.append("  (none)")
        lines.append(
            f"Rule coverage: {self.outcomes_seen} of {self.outcomes_total} condition outcomes seen "
            f"({format_percent(self.percent)}); {len(self.items) - len(unread)} of {len(self.items)} "
            "table rows and items read"
        )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "percent": format_percent(self.percent),
            "outcomes_seen": self.outcomes_seen,
            "outcomes_total": self.outcomes_total,
            "rules": [
                {
                    "ruleset": r.ruleset,
                    "version": r.version,
                    "group": r.group,
                    "rule": r.rule,
                    "location": _where(r.location),
                    "seen_true": r.seen_true,
                    "seen_false": r.seen_false,
                }
                for r in self.rules
            ],
            "unread": [
                {
                    "ruleset": i.ruleset,
                    "version": i.version,
                    "table": i.table,
                    "key": _key(i.key),
                    "location": _where(i.location),
                }
                for i in self.unread()
            ],
        }


def format_percent(value: Fraction) -> str:
    """`100%` only when exactly 100; otherwise truncated to two decimals (99.999 -> 99.99%)."""
    if value == 100:
        return "100%"
    hundredths = math.floor(value * 100)
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def _where(location: Location | None) -> str:
    return f"{location.file}:{location.line}" if location else "?"


def _key(key: Any) -> str:
    return ", ".join(map(str, key)) if isinstance(key, tuple) else str(key)
