"""The coverage report as Cobertura XML, so CI tools show it on the rule files.

One `<package>` per version (`example@2026-01`), one `<class>` per rule file
(its path as `filename`, relative to the one `<source>`: the working folder),
one `<line>` per YAML line that holds something to cover:

- a rule (at its `- id:` line): evaluated `seen_true + seen_false` times, two
  outcomes (true, false);
- an expression branch site (`if`, `??`, a quantifier's list, `any`/`all`/`first`):
  evaluated as often as its outcomes were counted, two outcomes;
- a table row or item: read `reads` times, no outcomes.

A line's `hits` is the least of its items' counts, so a line is covered only when
everything on it was reached (a set table's items often share one line). A line
with outcomes has `branch="true"` and `condition-coverage="50% (1/2)"`. Rates:
`line-rate` is covered lines over lines, `branch-rate` covered outcomes over
outcomes (rule conditions and expression branches together).

Public entry: `write_cobertura(report, path)`.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from .coverage_report import CoverageReport, VersionCoverage

_DTD = "http://cobertura.sourceforge.net/xml/coverage-04.dtd"


@dataclass(slots=True)
class _Line:
    hits: int | None = None
    outcomes: int = 0  # outcomes possible
    covered: int = 0  # outcomes seen

    def add(self, hits: int, outcomes: int = 0, covered: int = 0) -> None:
        self.hits = hits if self.hits is None else min(self.hits, hits)
        self.outcomes += outcomes
        self.covered += covered


@dataclass(slots=True)
class _Counts:
    lines: int = 0
    lines_hit: int = 0
    outcomes: int = 0
    covered: int = 0
    files: dict[str, dict[int, _Line]] = field(default_factory=dict)

    def absorb(self, other: _Counts) -> None:
        self.lines += other.lines
        self.lines_hit += other.lines_hit
        self.outcomes += other.outcomes
        self.covered += other.covered

    def rates(self, element: ET.Element) -> None:
        element.set("line-rate", _rate(self.lines_hit, self.lines))
        element.set("branch-rate", _rate(self.covered, self.outcomes))
        element.set("complexity", "0")


def _rate(part: int, whole: int) -> str:
    return f"{part / whole:.4f}".rstrip("0").rstrip(".") if whole else "1"


def _lines_of(version: VersionCoverage) -> dict[str, dict[int, _Line]]:
    files: dict[str, dict[int, _Line]] = {}

    def at(file: str, line: int) -> _Line:
        return files.setdefault(file, {}).setdefault(line, _Line())

    for r in version.rules:
        at(r.location.file, r.location.line).add(r.seen_true + r.seen_false, 2, r.outcomes)
    for b in version.branches:
        at(b.site.file, b.site.line).add(sum(b.counts), 2, b.outcomes)
    for item in version.items:
        if item.location is not None:
            at(item.location.file, item.location.line).add(item.reads)
    return files


def _class(file: str, lines: dict[int, _Line], counts: _Counts) -> ET.Element:
    element = ET.Element("class", name=Path(file).stem, filename=file)
    ET.SubElement(element, "methods")
    rows = ET.SubElement(element, "lines")
    mine = _Counts()
    for number in sorted(lines):
        line = lines[number]
        hits = line.hits or 0
        row = ET.SubElement(rows, "line", number=str(number), hits=str(hits))
        mine.lines += 1
        mine.lines_hit += hits > 0
        if line.outcomes:
            row.set("branch", "true")
            percent = 100 * line.covered // line.outcomes
            row.set("condition-coverage", f"{percent}% ({line.covered}/{line.outcomes})")
            mine.outcomes += line.outcomes
            mine.covered += line.covered
        else:
            row.set("branch", "false")
    mine.rates(element)
    counts.absorb(mine)
    return element


def cobertura(report: CoverageReport, source: Path) -> ET.Element:
    """The Cobertura document of a report; file names are relative to `source`."""
    root = ET.Element("coverage")
    sources = ET.SubElement(root, "sources")
    ET.SubElement(sources, "source").text = str(source)
    packages = ET.SubElement(root, "packages")
    total = _Counts()
    for version in report.versions:
        package = ET.SubElement(packages, "package", name=f"{version.ruleset}@{version.version}")
        classes = ET.SubElement(package, "classes")
        counts = _Counts()
        for file, lines in sorted(_lines_of(version).items()):
            classes.append(_class(file, lines, counts))
        counts.rates(package)
        total.absorb(counts)
    total.rates(root)
    root.set("lines-covered", str(total.lines_hit))
    root.set("lines-valid", str(total.lines))
    root.set("branches-covered", str(total.covered))
    root.set("branches-valid", str(total.outcomes))
    root.set("version", f"ruleengine {__version__}")
    root.set("timestamp", str(int(time.time() * 1000)))
    return root


def write_cobertura(report: CoverageReport, path: Path) -> None:
    root = cobertura(report, Path.cwd())
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    text = f'<?xml version="1.0" ?>\n<!DOCTYPE coverage SYSTEM "{_DTD}">\n{body}\n'
    path.write_text(text, "utf-8")
