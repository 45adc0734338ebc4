"""Rendering a symbolic diff: text for people, JSON for tools."""

from __future__ import annotations

from typing import Any

from .. import jsonio
from .equivalence import DIFFERS, EQUIVALENT, DecisionVerdict, FieldVerdict, SymbolicDiff


def _status(verdict: DecisionVerdict | FieldVerdict, bound: int, bounded: bool) -> str:
    if verdict.status == EQUIVALENT:
        return (
            f"equivalent (proved for input lists up to {bound} items)"
            if bounded
            else ("equivalent (proved)")
        )
    if verdict.status == DIFFERS:
        return "differs"
    reason = getattr(verdict, "reason", None)
    return f"not proved ({reason})" if reason else "not proved"


def render_text(diff: SymbolicDiff) -> str:
    lines = [f"{diff.ruleset}: {diff.old} -> {diff.new} (symbolic)"]
    counts = {EQUIVALENT: 0, DIFFERS: 0, "not proved": 0}
    for d in diff.decisions:
        counts[d.status] += 1
        if d.only_in:
            lines.append(f"{d.name}: differs (only in the {d.only_in} version)")
            continue
        lines.append(f"{d.name}: {_status(d, diff.list_bound, d.bounded)}")
        if d.status == EQUIVALENT:
            continue
        for f in d.fields:
            lines.append(f"  {f.field}: {_status(f, diff.list_bound, d.bounded)}")
            for i, w in enumerate(f.witnesses):
                label = "witness" if i == 0 else "another witness"
                lines.append(f"    {label}: {jsonio.dumps_exact(w.input)}")
                lines.append(
                    f"      {diff.old}: {jsonio.dumps(w.old)}  {diff.new}: {jsonio.dumps(w.new)}"
                )
                if w.also:
                    lines.append(f"      also differ on it: {', '.join(w.also)}")
    lines.append(
        f"{len(diff.decisions)} decision(s): {counts[DIFFERS]} differ, "
        f"{counts[EQUIVALENT]} equivalent (proved), {counts['not proved']} not proved"
    )
    return "\n".join(lines)


def to_json(diff: SymbolicDiff) -> dict[str, Any]:
    return {
        "ruleset": diff.ruleset,
        "from": diff.old,
        "to": diff.new,
        "list_bound": diff.list_bound,
        "decisions": [
            {
                "decision": d.name,
                "status": d.status,
                "bounded": d.bounded,
                **({"only_in": d.only_in} if d.only_in else {}),
                "fields": [
                    {
                        "field": f.field,
                        "status": f.status,
                        **({"reason": f.reason} if f.reason else {}),
                        "witnesses": [
                            {"input": w.input, "from": w.old, "to": w.new, "also": list(w.also)}
                            for w in f.witnesses
                        ],
                    }
                    for f in d.fields
                ],
            }
            for d in diff.decisions
        ],
    }
