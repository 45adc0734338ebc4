"""Rendering `analyze` results: positioned text like `check`, or JSON."""

from __future__ import annotations

from typing import Any

from .. import jsonio
from ..model import Location
from .findings import NOTE, WARNING, Analysis, Finding


def _lines(path: str) -> tuple[str, ...]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return tuple(handle.read().splitlines())
    except OSError:
        return ()


def _excerpt(loc: Location, length: int) -> list[str]:
    lines = _lines(loc.file)
    if not 0 < loc.line <= len(lines):
        return []
    text = lines[loc.line - 1].expandtabs(1)
    gutter = f"{loc.line:>4} | "
    width = max(1, min(length, len(text) - loc.column + 1))
    return [gutter + text, " " * (len(gutter) - 2) + "| " + " " * (loc.column - 1) + "^" * width]


def render_finding(f: Finding, bound: int) -> str:
    out = [f"{f.location}: {f.severity}[{f.code}]: {f.message}"]
    out += _excerpt(f.location, f.length)
    for text, loc in f.notes:
        out.append(f"  note: {text}: {loc}")
    if f.example:
        out.append(f"  example input: {jsonio.dumps_exact(f.example)}")
    if f.bounded:
        out.append(f"  (proved for input lists of up to {bound} items)")
    return "\n".join(out)


def render_text(analyses: list[Analysis]) -> str:
    blocks = []
    for a in analyses:
        blocks += [render_finding(f, a.list_bound) for f in a.findings]
    for a in analyses:
        warnings = sum(f.severity == WARNING for f in a.findings)
        notes = sum(f.severity == NOTE for f in a.findings)
        scope = (
            f"{a.rules} rule(s), {a.conditions} condition(s), {a.lookups} lookup(s) "
            f"in {a.decisions} decision(s), input lists up to {a.list_bound} items"
        )
        if a.findings:
            head = (
                f"{a.ruleset} {a.version}: {warnings} warning(s), {notes} note(s); analysed {scope}"
            )
        elif a.not_analysed:
            head = f"{a.ruleset} {a.version}: no findings in what was analysed ({scope})"
        else:
            head = f"{a.ruleset} {a.version}: no problems found; analysed {scope}"
        lines = [head]
        for n in a.not_analysed:
            lines.append(f"  not analysed: {n.what} ({n.location}): {n.reason}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _loc(loc: Location) -> dict[str, Any]:
    return {"file": loc.file, "line": loc.line, "column": loc.column}


def to_json(analyses: list[Analysis]) -> dict[str, Any]:
    return {
        "versions": [
            {
                "ruleset": a.ruleset,
                "version": a.version,
                "list_bound": a.list_bound,
                "analysed": {
                    "rules": a.rules,
                    "conditions": a.conditions,
                    "lookups": a.lookups,
                    "decisions": a.decisions,
                },
                "findings": [
                    {
                        "code": f.code,
                        "severity": f.severity,
                        "message": f.message,
                        **_loc(f.location),
                        "example": f.example,
                        "notes": [{"message": m, **_loc(loc)} for m, loc in f.notes],
                        "bounded": f.bounded,
                    }
                    for f in a.findings
                ],
                "not_analysed": [
                    {"what": n.what, **_loc(n.location), "reason": n.reason} for n in a.not_analysed
                ],
            }
            for a in analyses
        ]
    }
