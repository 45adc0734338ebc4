"""The coverage report: one summary line per version, then only what is missing.

Three measures per version, each an exact `Fraction`, truncated for display
(1999/2000 is 99.95%, never rounded up to 100%):

- conditions: rule condition outcomes seen, two per rule (true and false);
- branches: expression branch outcomes seen, two per site (`compiler/probes.py`);
- table rows: table rows and items read.

Missing items are listed once each, with file:line (file:line:col for a branch)
and a short description; a table row by its key. What was never evaluated at
all is listed once, not outcome by outcome: a version no case decided, a rule
or a definition none of whose branches ran, a table none of whose rows was read.

Public entry: `CoverageReport` (`render()`, `to_json()`, `below(minimum)`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .. import BranchSite, Location, jsonio

# What a missing outcome of each kind of site is called (outcome 0, outcome 1).
_NEVER = {
    "if": ("then never taken", "else never taken"),
    "??": ("value never present (the default was always taken)", "default never taken"),
    "list": ("never over a non-empty list", "never over an empty list"),
    "any": ("never true", "never false"),
    "all": ("never true", "never false"),
    "first": ("never found an item", "never came up empty"),
}
ROWS_SHOWN = 10  # unread rows listed per table; the JSON report has them all
MEASURES = ("conditions", "branches", "table rows")


@dataclass(slots=True)
class RuleCoverage:
    group: str
    rule: str
    location: Location
    seen_true: int = 0
    seen_false: int = 0

    @property
    def owner(self) -> str:
        return f"rule {self.group}/{self.rule}"

    @property
    def outcomes(self) -> int:
        return (self.seen_true > 0) + (self.seen_false > 0)


@dataclass(frozen=True, slots=True)
class BranchCoverage:
    site: BranchSite
    counts: tuple[int, int]

    @property
    def outcomes(self) -> int:
        return sum(1 for c in self.counts if c)


@dataclass(slots=True)
class TableItemCoverage:
    table: str
    key: Any
    location: Location | None
    reads: int = 0


@dataclass(frozen=True, slots=True)
class Tally:
    """Covered out of total, with an exact percentage (None when there is nothing)."""

    covered: int
    total: int

    @property
    def percent(self) -> Fraction | None:
        return Fraction(100 * self.covered, self.total) if self.total else None

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.covered + other.covered, self.total + other.total)

    def show(self) -> str:
        shown = "-" if self.percent is None else format_percent(self.percent)
        return f"{self.covered}/{self.total} {shown}"

    def to_json(self) -> dict[str, Any]:
        percent = self.percent
        return {
            "covered": self.covered,
            "total": self.total,
            "percent": None if percent is None else float(math.floor(percent * 100) / 100),
        }


@dataclass(frozen=True, slots=True)
class Missing:
    """One line of the details: where, and what was not covered."""

    file: str
    line: int
    column: int | None
    text: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")


@dataclass(frozen=True, slots=True)
class VersionCoverage:
    ruleset: str
    version: str
    replaces: str | None  # the version this one replaces (compared with --coverage-changed)
    decided: int  # decisions of cases this version made
    rules: tuple[RuleCoverage, ...]
    branches: tuple[BranchCoverage, ...]
    items: tuple[TableItemCoverage, ...]

    def tallies(self) -> dict[str, Tally]:
        return {
            "conditions": Tally(sum(r.outcomes for r in self.rules), 2 * len(self.rules)),
            "branches": Tally(sum(b.outcomes for b in self.branches), 2 * len(self.branches)),
            "table rows": Tally(sum(1 for i in self.items if i.reads), len(self.items)),
        }

    def missing(self) -> list[Missing]:
        """What is not covered, each thing once, in file order."""
        found = [*self._missing_rules_and_branches(), *self._missing_rows()]
        found.sort(key=lambda m: (m.file, m.line, m.column or 0))
        return found

    def _missing_rules_and_branches(self) -> Iterator[Missing]:
        by_owner: dict[str, list[BranchCoverage]] = {}
        for b in self.branches:
            by_owner.setdefault(b.site.owner, []).append(b)
        for r in self.rules:
            sites = by_owner.pop(r.owner, [])
            if r.outcomes == 0 and not any(b.outcomes for b in sites):
                yield _at(r.location, f"{r.owner}: never evaluated")
                continue
            if r.outcomes < 2:
                never = "never true" if not r.seen_true else "never false"
                yield _at(r.location, f"{r.owner}: {never}")
            yield from _missing_branches(sites)
        for owner, sites in by_owner.items():
            if not any(b.outcomes for b in sites):
                first = min(sites, key=lambda b: (b.site.line, b.site.column)).site
                what = f"{len(sites)} branch{'es' if len(sites) != 1 else ''}"
                yield Missing(first.file, first.line, None, f"{owner}: never evaluated ({what})")
            else:
                yield from _missing_branches(sites)

    def _missing_rows(self) -> Iterator[Missing]:
        by_table: dict[str, list[TableItemCoverage]] = {}
        for item in self.items:
            by_table.setdefault(item.table, []).append(item)
        for table, items in by_table.items():
            unread = [i for i in items if not i.reads]
            if not unread:
                continue
            if len(unread) == len(items) and len(items) > 1:
                yield _at(unread[0].location, f"table {table}: no row read ({len(items)} rows)")
                continue
            by_line: dict[int, list[TableItemCoverage]] = {}
            for item in unread:  # a set's items often share a line: one entry per line
                by_line.setdefault(item.location.line if item.location else 0, []).append(item)
            lines = list(by_line.values())
            for found in lines[:ROWS_SHOWN]:
                keys = ", ".join(f"[{show_key(i.key)}]" for i in found)
                yield _at(found[0].location, f"table {table} {keys}: never read")
            if len(lines) > ROWS_SHOWN:
                more = sum(len(found) for found in lines[ROWS_SHOWN:])
                last = lines[ROWS_SHOWN][0].location
                yield _at(last, f"table {table}: {more} more rows never read (see --coverage-json)")

    def below(self, minimum: Fraction) -> list[str]:
        """Its measures below minimum percent, as `branches 76.66% (23 of 30)` (a measure
        with nothing to cover is never below)."""
        return [
            f"{measure} {format_percent(t.percent)} ({t.covered} of {t.total})"
            for measure, t in self.tallies().items()
            if t.percent is not None and t.percent < minimum
        ]

    def title(self, changed_only: bool) -> str:
        name = f"{self.ruleset} {self.version}"
        if not changed_only:
            return name
        return name + (f" (changes since {self.replaces})" if self.replaces else " (first version)")


def _missing_branches(sites: list[BranchCoverage]) -> Iterator[Missing]:
    for b in sites:
        s = b.site
        if b.outcomes == 2:
            continue
        what = "never evaluated" if b.outcomes == 0 else _NEVER[s.kind][1 if b.counts[0] else 0]
        yield Missing(s.file, s.line, s.column, f"{s.owner}: `{s.text}`: {what}")


def _at(location: Location | None, text: str) -> Missing:
    if location is None:
        return Missing("?", 0, None, text)
    return Missing(location.file, location.line, None, text)


@dataclass(frozen=True, slots=True)
class CoverageReport:
    versions: tuple[VersionCoverage, ...]
    changed_only: bool = False

    def totals(self) -> dict[str, Tally]:
        totals = {m: Tally(0, 0) for m in MEASURES}
        for v in self.versions:
            for measure, tally in v.tallies().items():
                totals[measure] += tally
        return totals

    def below(self, minimum: Fraction) -> list[str]:
        """Each version with a measure below minimum percent, as
        `example 2026-07: branches 76.66% (23 of 30)`: every version is judged on its own
        (a well-tested old version does not make up for a new one)."""
        return [
            f"{v.title(self.changed_only)}: {', '.join(found)}"
            for v in self.versions
            if (found := v.below(minimum))
        ]

    def render(self) -> str:
        lines = [
            "Coverage: rule conditions seen true and false, expression branches taken, table rows read"
            + (
                " (only what changed since the version each version replaces)"
                if self.changed_only
                else ""
            )
        ]
        titles = [v.title(self.changed_only) for v in self.versions]
        width = max((len(t) for t in titles), default=0)
        cells = [[t.show() for t in v.tallies().values()] for v in self.versions]
        widths = [max((len(c[i]) for c in cells), default=0) for i in range(len(MEASURES))]
        for title, row in zip(titles, cells, strict=True):
            parts = [f"{m} {c:<{w}}" for m, c, w in zip(MEASURES, row, widths, strict=True)]
            lines.append(f"  {title:<{width}}  " + "   ".join(parts).rstrip())
        details = [self._details(v) for v in self.versions]
        if any(details):
            lines.append("Missing:")
            for v, found in zip(self.versions, details, strict=True):
                if found:
                    lines.append(f"  {v.title(self.changed_only)}")
                    lines.extend(f"    {line}" for line in found)
        totals = ", ".join(f"{m} {t.show()}" for m, t in self.totals().items())
        lines.append(f"Coverage total: {totals}")
        return "\n".join(lines)

    def _details(self, v: VersionCoverage) -> list[str]:
        missing = v.missing()
        if not missing:
            return []
        if v.decided == 0:
            open_ = ", ".join(
                f"{t.total - t.covered} {m}" for m, t in v.tallies().items() if t.covered < t.total
            )
            return [f"no case was decided by this version ({open_} not covered)"]
        width = max(len(m.where) for m in missing)
        return [f"{m.where:<{width}}  {m.text}" for m in missing]

    def to_json(self, minimum: Fraction | None = None) -> dict[str, Any]:
        """The report as the document `schemas/coverage.schema.json` describes."""
        return {
            "changed_only": self.changed_only,
            "minimum": None if minimum is None else float(minimum),
            "passed": minimum is None or not self.below(minimum),
            "totals": _measures(self.totals()),
            "versions": [_version_json(v, minimum) for v in self.versions],
        }


def _measures(tallies: dict[str, Tally]) -> dict[str, Any]:
    return {m.replace(" ", "_"): t.to_json() for m, t in tallies.items()}


def _version_json(v: VersionCoverage, minimum: Fraction | None) -> dict[str, Any]:
    return {
        "ruleset": v.ruleset,
        "version": v.version,
        "passed": minimum is None or not v.below(minimum),
        "replaces": v.replaces,
        "decided": v.decided,
        **_measures(v.tallies()),
        "rules": [
            {
                "group": r.group,
                "rule": r.rule,
                "file": r.location.file,
                "line": r.location.line,
                "seen_true": r.seen_true,
                "seen_false": r.seen_false,
            }
            for r in v.rules
        ],
        "branch_sites": [
            {
                "kind": b.site.kind,
                "owner": b.site.owner,
                "file": b.site.file,
                "line": b.site.line,
                "column": b.site.column,
                "text": b.site.text,
                "outcomes": [
                    {"outcome": name, "count": count}
                    for name, count in zip(b.site.outcomes, b.counts, strict=True)
                ],
            }
            for b in v.branches
        ],
        "rows": [
            {
                "table": i.table,
                "key": [jsonio.to_plain(k) for k in _key_parts(i.key)],
                "file": i.location.file if i.location else None,
                "line": i.location.line if i.location else None,
                "reads": i.reads,
            }
            for i in v.items
        ],
        "missing": [
            {"file": m.file, "line": m.line, "column": m.column, "text": m.text}
            for m in v.missing()
        ],
    }


def format_percent(value: Fraction | None) -> str:
    """`100%` only when exactly 100; otherwise truncated to two decimals (99.999 -> 99.99%)."""
    if value is None:
        return "-"
    if value == 100:
        return "100%"
    hundredths = math.floor(value * 100)
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def _key_parts(key: Any) -> tuple[Any, ...]:
    return key if isinstance(key, tuple) else (key,)


def show_key(key: Any) -> str:
    return ", ".join(map(str, _key_parts(key)))
