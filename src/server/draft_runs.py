"""What a loaded draft is tried on: the rule set's regression suites, and a sample of
traffic (the decision log, or a corpus file the server was started with).

`run_suites(loaded)` runs every case of the rule set's suites (`<ruleset>/tests/`)
against the engine in which the draft replaced its base: pass, fail or skip per case,
with the field-by-field diff of a failing one. `impact(loaded, sample)` decides each
sampled input pinned to the published base version and pinned to the draft, and
counts what changed, by field (`lines[0].amount`; lists of scalars compare whole),
with a few examples each. Both are bounded: a time budget, and `tail_lines` reads
at most the last `SAMPLE_BYTES` of the sample file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ruleengine
from ruleengine import find_suites, jsonio, load_suites
from ruleengine.qa import run_case

from .drafts import LoadedDraft, draft_root, relocate_text

SAMPLE_LINES = 500
SAMPLE_BYTES = 4 * 1024 * 1024
EXAMPLES_PER_FIELD = 3
BUDGET_SECONDS = 10.0
ABSENT = "(absent)"
REJECTED = "(request)"


def run_suites(loaded: LoadedDraft) -> dict[str, Any]:
    """Every case of the rule set's suites, decided with the draft in its base's place."""
    assert loaded.engine is not None and loaded.version is not None
    draft = loaded.draft
    rs = loaded.engine.ruleset(draft.ruleset)
    published = loaded.published.ruleset(draft.ruleset) if loaded.published else rs
    folder = Path(os.path.commonpath([str(Path(v.root).resolve()) for v in published.versions]))
    search = find_suites(folder)
    suites, problems = load_suites(search, [*published.versions, loaded.version])
    cases: list[dict[str, Any]] = []
    deadline = time.monotonic() + BUDGET_SECONDS
    for suite in suites:
        for case in suite.cases:
            if case.ruleset != draft.ruleset:
                continue
            if time.monotonic() > deadline:
                cases.append(_not_run(case.name, case.location, case.decision))
                continue
            outcome = run_case(loaded.engine, case)
            decided = outcome.decision
            cases.append(
                {
                    "name": case.name,
                    "source": _relative(case.location, folder),
                    "decision": case.decision,
                    "status": outcome.status,
                    "headline": outcome.headline,
                    "version": decided.version if decided is not None else None,
                    "by_draft": decided is not None and decided.version == loaded.version.version,
                    "diffs": [d.to_json() for d in outcome.diffs],
                }
            )
    counts = {s: sum(1 for c in cases if c["status"] == s) for s in ("passed", "failed", "skipped")}
    return {
        **counts,
        "cases": relocate_text(cases, draft_root(loaded)),
        "problems": [{**d.to_json(), "file": _relative(d.file, folder)} for d in problems],
    }


def _not_run(name: str, location: str, decision: str) -> dict[str, Any]:
    return {
        "name": name,
        "source": location,
        "decision": decision,
        "status": "skipped",
        "headline": f"not run: the suites took longer than {BUDGET_SECONDS:.0f} s",
        "version": None,
        "by_draft": False,
        "diffs": [],
    }


def _relative(location: str, folder: Path) -> str:
    try:
        path, sep, rest = location.partition(":")
        return Path(path).resolve().relative_to(folder.parent).as_posix() + sep + rest
    except ValueError:
        return location


def tail_lines(path: Path, count: int = SAMPLE_LINES) -> list[tuple[int, str]]:
    """The last `count` non-blank lines of a file (reading at most its last SAMPLE_BYTES),
    each with its line number when known (0 when the file was read from the middle)."""
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        start = max(0, size - SAMPLE_BYTES)
        handle.seek(start)
        data = handle.read()
    text = data.decode("utf-8", "replace")
    lines = text.splitlines()
    if start > 0 and lines:
        lines = lines[1:]  # a partial first line
    numbered = [(i + 1 if start == 0 else 0, line) for i, line in enumerate(lines)]
    return [(n, line) for n, line in numbered if line.strip()][-count:]


@dataclass(slots=True)
class _Field:
    count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every leaf of a plain result by its path, as JSON text; a list of scalars (or an
    empty list) is one leaf, so `[] -> ["x"]` is one change, not two."""
    if isinstance(value, dict):
        if not value:
            yield path, "{}"
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        for index, item in enumerate(value):
            yield from leaves(item, f"{path}[{index}]")
    else:
        yield path, jsonio.dumps(value)


def changes(old: Any, new: Any) -> list[tuple[str, str, str]]:
    """(field, old, new) for every field whose value differs."""
    before, after = dict(leaves(old)), dict(leaves(new))
    fields = list(before) + [f for f in after if f not in before]
    return [
        (f, before.get(f, ABSENT), after.get(f, ABSENT))
        for f in fields
        if before.get(f, ABSENT) != after.get(f, ABSENT)
    ]


def _request(entry: Any, decision: str | None) -> tuple[str | None, str | None, Any, str]:
    """(rule set, decision, input, id) of a sampled line: a decision-log line or an input."""
    if isinstance(entry, dict) and isinstance(entry.get("input"), dict):
        facts = dict(entry["input"])
        for key in ("as_of", "locale"):
            if key not in facts and isinstance(entry.get(key), str):
                facts[key] = entry[key]
        named = entry.get("decision")
        return (
            entry.get("ruleset") if isinstance(entry.get("ruleset"), str) else None,
            named if isinstance(named, str) else decision,
            facts,
            str(entry.get("decision_id") or ""),
        )
    return None, decision, entry, ""


def _answer(
    engine: ruleengine.Engine, rs: str, decision: str, facts: Any, version: str
) -> tuple[Any, str | None]:
    """(the plain result, None), or (None, why the request was rejected)."""
    try:
        return jsonio.to_plain(engine.decide(rs, decision, facts, version=version).result), None
    except ruleengine.InputError as exc:
        return None, "rejected: " + "; ".join(f"{p.path}: {p.code}" for p in exc.problems)
    except ruleengine.RuleEngineError as exc:
        return None, f"rejected: {exc.code}: {exc}"


def _compare(
    old: tuple[Any, str | None], new: tuple[Any, str | None]
) -> list[tuple[str, str, str]]:
    """What changed between two answers; a request decided by one side only is one change."""
    if old[1] is None and new[1] is None:
        return changes(old[0], new[0])
    if old[1] == new[1]:
        return []
    return [(REJECTED, old[1] or "decided", new[1] or "decided")]


def impact(
    loaded: LoadedDraft, lines: list[tuple[int, str]], source: str, decision: str | None
) -> dict[str, Any]:
    """Decide each sampled input under the base version and under the draft; what changed."""
    assert loaded.engine is not None and loaded.version is not None
    assert loaded.published is not None
    draft = loaded.draft
    fields: dict[str, _Field] = {}
    sampled = decided = changed = skipped = 0
    deadline = time.monotonic() + BUDGET_SECONDS
    for number, text in lines:
        if time.monotonic() > deadline:
            break
        sampled += 1
        try:
            entry = jsonio.loads(text)
        except jsonio.JSONInputError:
            skipped += 1
            continue
        rs, name, facts, ident = _request(entry, decision)
        if (rs is not None and rs != draft.ruleset) or name is None:
            skipped += 1
            continue
        old = _answer(loaded.published, draft.ruleset, name, facts, draft.base)
        new = _answer(loaded.engine, draft.ruleset, name, facts, loaded.version.version)
        decided += 1
        found = _compare(old, new)
        if found:
            changed += 1
        for path, before, after in found:
            key = f"{name}: {path}" if path else f"{name}: (result)"
            slot = fields.setdefault(key, _Field())
            slot.count += 1
            if len(slot.examples) < EXAMPLES_PER_FIELD:
                slot.examples.append(
                    {
                        "line": number,
                        "id": ident,
                        "old": before,
                        "new": after,
                        "input": jsonio.dumps(facts)[:400],
                    }
                )
    return {
        "source": source,
        "sampled": sampled,
        "decided": decided,
        "changed": changed,
        "skipped": skipped,
        "fields": [
            {"field": key, "count": slot.count, "examples": slot.examples}
            for key, slot in sorted(fields.items(), key=lambda kv: (-kv[1].count, kv[0]))
        ],
    }
