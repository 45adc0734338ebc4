"""Coverage of rule files by regression cases: conditions, expression branches, table rows.

Every case is decided a second time through a copy of the version's program with
trace hooks and branch probes (`Version.probed()`, compiled only for coverage):
the trace gives a `TraceEntry` per rule considered and a `TableRead` per table
row or item read, the probes count both outcomes of every `if`, `??`,
quantifier list (empty or not) and `any`/`all`/`first` result.

Counting, per version of a rule set:

- conditions: two outcomes per rule. A rule whose entry says fired counts as
  seen true; not fired, as seen false. A rule of an invoked group that has no
  entry was skipped (by an index) and counts as seen false; in a `hit: first`
  group, rules after the one that fired were never reached and count as neither;
- branches: two outcomes per site (`compiler/probes.py`);
- table rows: every item of a set or map table and every row of a keyed table,
  covered once read (single-value tables have nothing to cover).

With `changed_only`, a version counts only what differs from the version it
replaces (the one before it, by effective date, in its rule set): rules and
definitions whose text changed or is new, and table rows that are new or hold
another value. A version copied from the previous one is judged on its change.
The first version of a rule set counts whole.

Public entry: `Coverage` (`record` each decision, then `report()`); the report
itself is `coverage_report.CoverageReport`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import (
    BranchSite,
    Decision,
    GroupCall,
    ProbedProgram,
    TableRead,
    TraceEntry,
    Version,
)
from .coverage_report import (
    BranchCoverage,
    CoverageReport,
    RuleCoverage,
    TableItemCoverage,
    VersionCoverage,
    format_percent,
)

__all__ = ["Coverage", "CoverageReport", "format_percent"]


@dataclass(frozen=True, slots=True)
class _Group:
    hit: str
    rules: tuple[RuleCoverage, ...]
    order: dict[str, int] = field(hash=False)


@dataclass(slots=True)
class _Version:
    """What is counted for one version while cases run."""

    version: Version
    program: ProbedProgram
    replaces: Version | None
    groups: dict[str, _Group]
    rules: list[RuleCoverage]
    items: dict[tuple[str, Any], TableItemCoverage]
    decided: int = 0


class Coverage:
    """Accumulates coverage over many traced and probed decisions."""

    def __init__(self, versions: Iterable[Version], changed_only: bool = False):
        self.changed_only = changed_only
        self._versions: dict[tuple[str, str], _Version] = {}
        previous: Version | None = None
        for v in sorted(versions, key=lambda v: (v.ruleset, v.effective_from, v.version)):
            replaces = previous if previous is not None and previous.ruleset == v.ruleset else None
            self._versions[(v.ruleset, v.version)] = self._prepare(v, replaces)
            previous = v

    def _prepare(self, v: Version, replaces: Version | None) -> _Version:
        groups: dict[str, _Group] = {}
        rules: list[RuleCoverage] = []
        for name, group in v.groups().items():
            made = tuple(RuleCoverage(name, r.id, r.location) for r in group.rules)
            rules.extend(made)
            groups[name] = _Group(group.hit, made, {r.rule: i for i, r in enumerate(made)})
        items: dict[tuple[str, Any], TableItemCoverage] = {}
        for name, table in v.tables().items():
            for item in table.items:
                items[(name, item.key)] = TableItemCoverage(name, item.key, item.location)
        return _Version(v, v.probed(), replaces, groups, rules, items)

    def program(self, version: Version) -> ProbedProgram:
        """The probed program of a version (for `Engine.decide_traced(probed=...)`)."""
        found = self._versions.get((version.ruleset, version.version))
        if found is None:  # a version not under test: counted nowhere
            return version.probed()
        return found.program

    def record(self, decision: Decision, trace: list[Any]) -> None:
        """Count one traced decision (the trace `Engine.decide_traced` returned)."""
        counted = self._versions.get((decision.ruleset, decision.version))
        if counted is None:
            return
        counted.decided += 1
        groups, items = counted.groups, counted.items
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
        return CoverageReport(
            tuple(self._version_report(c) for c in self._versions.values()), self.changed_only
        )

    def _version_report(self, counted: _Version) -> VersionCoverage:
        program = counted.program
        old = self.program(counted.replaces) if counted.replaces is not None else None
        branches = [BranchCoverage(site, program.counts(i)) for i, site in enumerate(program.sites)]
        rules, items = list(counted.rules), list(counted.items.values())
        if self.changed_only and old is not None:
            rules = [r for r in rules if _changed(program, old, f"rule {r.group}/{r.rule}")]
            branches = [b for b in branches if _changed(program, old, b.site.owner)]
            items = [i for i in items if _row_changed(program, old, i)]
        branches.sort(key=lambda b: _site_order(b.site))
        v = counted.version
        return VersionCoverage(
            v.ruleset,
            v.version,
            None if counted.replaces is None else counted.replaces.version,
            counted.decided,
            tuple(rules),
            tuple(branches),
            tuple(items),
        )


def _changed(new: ProbedProgram, old: ProbedProgram, owner: str) -> bool:
    return owner not in old.owners or old.owners[owner] != new.owners.get(owner)


_ABSENT = object()


def _row_changed(new: ProbedProgram, old: ProbedProgram, item: TableItemCoverage) -> bool:
    key = (item.table, item.key)
    before = old.entries.get(key, _ABSENT)
    return before is _ABSENT or before != new.entries.get(key, _ABSENT)


def _site_order(site: BranchSite) -> tuple[str, int, int]:
    return site.file, site.line, site.column


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
