"""Replay a decision log: re-decide every logged input as it was decided, compare the answers.

Each line is `{"decision_id", "time", "ruleset", "decision", "version",
"content_hash", "as_of", "locale", "input", "result"}` (`../DESIGN.md`). The
input is decided again pinned to the logged version, with the logged `as_of`
and `locale`; the whole result must equal the logged one (decimals by their
exact text). A changed content hash with an unchanged answer is what a safe
refactoring looks like: it passes.

Public entry: `replay_log(engine, path)`, yielding one `Outcome` per line.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import jsonio
from ..engine import Engine, display_path
from ..errors import InputError, NotFoundError, NoVersionInEffectError
from .runner import FieldDiff, Outcome, OutcomeIdentity, compare

_REQUIRED = ("ruleset", "decision", "version", "as_of", "input", "result")


def replay_log(engine: Engine, path: Path) -> Iterator[Outcome]:
    """Re-decide each line of the log at `path` (blank lines are skipped)."""
    shown = display_path(path)
    with path.open("r", encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if text.strip():
                yield _replay_line(engine, shown, number, text)


def _replay_line(engine: Engine, file: str, number: int, text: str) -> Outcome:
    location = f"{file}:{number}"
    try:
        entry = jsonio.loads(text)
    except jsonio.JSONInputError as exc:
        return _broken(file, location, f"line {number}", f"not a decision-log line: {exc}")
    if not isinstance(entry, dict) or any(k not in entry for k in _REQUIRED):
        missing = [k for k in _REQUIRED if not isinstance(entry, dict) or k not in entry]
        return _broken(
            file,
            location,
            f"line {number}",
            f"not a decision-log line: missing {', '.join(missing)}",
        )
    name = str(entry.get("decision_id") or f"line {number}")
    ruleset, decision, version = entry["ruleset"], entry["decision"], entry["version"]
    base: OutcomeIdentity = {
        "name": name,
        "location": location,
        "group": file,
        "classname": f"{ruleset}.{decision}",
    }
    facts: Any = entry["input"]
    if isinstance(facts, dict):
        facts = {**facts, "as_of": entry["as_of"]}
        if entry.get("locale") is not None:
            facts["locale"] = entry["locale"]
    start = time.perf_counter()
    try:
        answer = engine.decide(ruleset, decision, facts, version=version)
    except InputError as exc:
        problems = "; ".join(f"{p.path}: {p.code}" for p in exc.problems)
        return Outcome(
            **base,
            status="failed",
            seconds=time.perf_counter() - start,
            headline=f"{ruleset} {decision} @ {version}: the logged input is now rejected: {problems}",
        )
    except (NotFoundError, NoVersionInEffectError) as exc:
        return Outcome(
            **base,
            status="failed",
            seconds=time.perf_counter() - start,
            headline=f"{ruleset} {decision} @ {version}: {exc}",
        )
    except Exception as exc:  # an engine bug: this line fails, the replay goes on
        return Outcome(
            **base,
            status="failed",
            seconds=time.perf_counter() - start,
            headline=f"{ruleset} {decision} @ {version}: the engine crashed: {type(exc).__name__}: {exc}",
        )
    seconds = time.perf_counter() - start
    diffs: list[FieldDiff] = compare(entry["result"], answer.result, partial=False)
    headline = ""
    if diffs:
        headline = f"{ruleset} {decision} @ {version}: the answer differs from the logged one"
        if entry.get("content_hash") and entry["content_hash"] != answer.content_hash:
            headline += " (the version's files changed since it was logged)"
    return Outcome(
        **base,
        status="failed" if diffs else "passed",
        headline=headline,
        diffs=tuple(diffs),
        seconds=seconds,
        decision=answer,
    )


def _broken(file: str, location: str, name: str, message: str) -> Outcome:
    return Outcome(
        name=name, location=location, group=file, classname="log", status="failed", headline=message
    )
