"""Replay decision logs: re-decide every logged input as it was decided, sort what happened.

Each line is `{"decision_id", "time", "ruleset", "decision", "version",
"content_hash", "as_of", "locale", "input", "result"}` (`../DESIGN.md`); a
line whose `result` is null (or that carries an `error`) records a request
that was rejected. The input is decided again pinned to the logged version,
with the logged `as_of` and `locale`, and every line lands in one outcome per
rule set, decision and version:

- `same`: answered then and now, the same answer (decimals by their exact text);
- `changed`: answered then and now, a different answer;
- `rejected_both`: rejected then and now (not a failure: the log recorded it);
- `rejected_now`: answered then, rejected now;
- `answered_now`: rejected then, answered now;
- `unknown_version`: the rule set, decision or version is not in the rules.

Only `changed`, `rejected_now` and `answered_now` are changes. A changed
content hash with the same answer is what a safe refactoring looks like.

It streams like `diff`: workers (this process, a pool, Dask) read partitions
of the logs and return a `ReplayTally` of counters and a bounded number of
examples per changed field; memory does not grow with the length of the log.

Public entry: `run_replay(rules, files, runner)` -> `ReplayReport`.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import Engine, InputError, NotFoundError, NoVersionInEffectError, jsonio, load
from .distribute import PartDone, RuleFiles, Runner, run_job
from .runner import Outcome, compare, plain
from .sources import PARTITION_BYTES, InputFile, Partition, plan

CATEGORIES = ("same", "changed", "rejected_both", "rejected_now", "answered_now", "unknown_version")
CHANGES = ("changed", "rejected_now", "answered_now")
LABELS = {
    "same": "same",
    "changed": "changed",
    "rejected_both": "rejected then and now",
    "rejected_now": "rejected now (answered then)",
    "answered_now": "answered now (rejected then)",
    "unknown_version": "unknown version",
}
EXAMPLES = 3  # example lines kept per changed field, per problem, per reason
EXAMPLE_CHARS = 300
_REQUIRED = ("ruleset", "decision", "as_of", "input", "result")

Group = tuple[str, str, str]  # (ruleset, decision, version)
# (file index, line, decision id, what: "expected -> got" or a reason)
Example = tuple[int, int, str, str]


@dataclass(slots=True)
class ReplayTally:
    lines: int = 0
    groups: dict[Group, list[int]] = field(default_factory=dict)  # counts in CATEGORIES order
    hash_changed: Counter[Group] = field(default_factory=Counter)  # changed, files edited
    # (group, category, detail): the changed field, the problem, the reason
    details: Counter[tuple[Group, str, str]] = field(default_factory=Counter)
    examples: dict[tuple[Group, str, str], list[Example]] = field(default_factory=dict)
    unreadable: Counter[str] = field(default_factory=Counter)
    unreadable_examples: list[Example] = field(default_factory=list)
    stopped: bool = False  # -x: stopped at the first change

    def merge(self, other: ReplayTally, offset: int) -> None:
        self.lines += other.lines
        for group, counts in other.groups.items():
            mine = self.groups.setdefault(group, [0] * len(CATEGORIES))
            for i, n in enumerate(counts):
                mine[i] += n
        self.hash_changed.update(other.hash_changed)
        self.details.update(other.details)
        self.unreadable.update(other.unreadable)
        for key, found in other.examples.items():
            kept = self.examples.setdefault(key, [])
            for f, line, name, what in found[: EXAMPLES - len(kept)]:
                kept.append((f, line + offset, name, what))
        for f, line, name, what in other.unreadable_examples[
            : EXAMPLES - len(self.unreadable_examples)
        ]:
            self.unreadable_examples.append((f, line + offset, name, what))
        self.stopped = self.stopped or other.stopped

    def count(self, category: str) -> int:
        i = CATEGORIES.index(category)
        return sum(c[i] for c in self.groups.values())

    @property
    def changes(self) -> int:
        return sum(self.count(c) for c in CHANGES)


def _clip(text: str) -> str:
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 3] + "..."


class _Replayer:
    def __init__(self, engine: Engine, stop_first: bool = False):
        self.engine = engine
        self.stop_first = stop_first

    def run(self, part: Partition, lines: Iterator[tuple[int, bytes]]) -> ReplayTally:
        tally = ReplayTally()
        index = part.file.index
        for number, text in lines:
            category = self.line(tally, index, number, text)
            if self.stop_first and category in CHANGES:
                tally.stopped = True
                break
        return tally

    def _note(self, tally: ReplayTally, key: tuple[Group, str, str], example: Example) -> None:
        tally.details[key] += 1
        found = tally.examples.setdefault(key, [])
        if len(found) < EXAMPLES:
            found.append(example)

    def _unreadable(self, tally: ReplayTally, where: tuple[int, int], reason: str) -> None:
        tally.unreadable[reason] += 1
        if len(tally.unreadable_examples) < EXAMPLES:
            tally.unreadable_examples.append((*where, "", reason))

    def line(self, tally: ReplayTally, index: int, number: int, text: bytes) -> str | None:
        tally.lines += 1
        where = (index, number)
        try:
            entry = jsonio.loads(text)
        except (jsonio.JSONInputError, UnicodeDecodeError):
            self._unreadable(tally, where, "not JSON")
            return None
        if type(entry) is not dict or any(k not in entry for k in _REQUIRED):
            missing = [k for k in _REQUIRED if type(entry) is not dict or k not in entry]
            self._unreadable(tally, where, f"not a decision-log line: missing {', '.join(missing)}")
            return None
        name = str(entry.get("decision_id") or f"line {number}")
        ruleset, decision = str(entry["ruleset"]), str(entry["decision"])
        version = entry.get("version")
        group = (ruleset, decision, str(version) if version is not None else "(by as_of)")
        counts = tally.groups.get(group)
        if counts is None:
            counts = tally.groups[group] = [0] * len(CATEGORIES)
        logged = entry["result"]
        rejected_then = logged is None or entry.get("error") is not None
        facts: Any = entry["input"]
        if type(facts) is dict:
            facts = {**facts, "as_of": entry["as_of"]}
            if entry.get("locale") is not None:
                facts["locale"] = entry["locale"]
        example: Example = (*where, name, "")
        try:
            answer = self.engine.decide(ruleset, decision, facts, version=version)
        except InputError as exc:
            category = "rejected_both" if rejected_then else "rejected_now"
            counts[CATEGORIES.index(category)] += 1
            if category == "rejected_now":
                for p in exc.problems:
                    self._note(tally, (group, category, f"{p.code} at {p.path}"), example)
            return category
        except (NotFoundError, NoVersionInEffectError) as exc:
            counts[CATEGORIES.index("unknown_version")] += 1
            self._note(tally, (group, "unknown_version", str(exc)), example)
            return "unknown_version"
        except Exception as exc:  # an engine bug: this line changed, the replay goes on
            counts[CATEGORIES.index("changed")] += 1
            crash = f"the engine crashed: {type(exc).__name__}: {_clip(str(exc))}"
            self._note(tally, (group, "changed", "(crash)"), (*where, name, crash))
            return "changed"
        if rejected_then:
            counts[CATEGORIES.index("answered_now")] += 1
            self._note(tally, (group, "answered_now", ""), example)
            return "answered_now"
        diffs = compare(logged, answer.result, partial=False)
        if not diffs:
            counts[0] += 1
            return "same"
        counts[CATEGORIES.index("changed")] += 1
        if entry.get("content_hash") and entry["content_hash"] != answer.content_hash:
            tally.hash_changed[group] += 1
        for diff in diffs:
            got = _clip(jsonio.dumps(plain(diff.actual)))
            what = f"expected {_clip(jsonio.dumps(plain(diff.expected)))}, got {got}"
            self._note(tally, (group, "changed", diff.path), (*where, name, what))
        return "changed"


@dataclass(frozen=True, slots=True)
class ReplayJob:
    rules: RuleFiles
    stop_first: bool

    @property
    def key(self) -> str:
        return f"replay:{self.rules.digest}:{self.stop_first}"

    def start(self) -> _Replayer:
        return _Replayer(load(self.rules.materialize()), self.stop_first)


@dataclass(frozen=True, slots=True)
class ReplayReport:
    files: tuple[InputFile, ...]
    tally: ReplayTally
    seconds: float
    runner: Runner

    def timing(self) -> str:
        rate = self.tally.lines / self.seconds if self.seconds > 0 else 0.0
        return (
            f"{self.tally.lines:,} lines in {self.seconds:.2f} s: {rate:,.0f} lines/s "
            f"on {self.runner.describe()}"
        )


def run_replay(
    rules: str | os.PathLike[str],
    files: Sequence[InputFile],
    runner: Runner,
    engine: Engine | None = None,
    stop_first: bool = False,
    on_done: Callable[[PartDone], None] | None = None,
    partition_bytes: int = PARTITION_BYTES,
) -> ReplayReport:
    """Replay every line of `files` against the rules folder `rules` (`engine`: loaded already)."""
    job = ReplayJob(RuleFiles.of(rules), stop_first)
    state = _Replayer(engine, stop_first) if engine is not None else None
    total = ReplayTally()
    offsets: dict[int, int] = {}
    start = time.perf_counter()
    for done in run_job(job, plan(files, partition_bytes), runner, on_done, state):
        offset = offsets.get(done.part.file.index, 0)
        total.merge(done.tally, offset)
        offsets[done.part.file.index] = offset + done.lines
        if stop_first and total.changes:
            total.stopped = True
            break
    return ReplayReport(tuple(files), total, time.perf_counter() - start, runner)


# --- the report --------------------------------------------------------------------------

_HEADINGS = {
    "changed": (
        "CHANGED",
        "answer differs from the logged one",
        "answers differ from the logged ones",
    ),
    "rejected_now": (
        "REJECTED NOW",
        "logged answer is now rejected",
        "logged answers are now rejected",
    ),
    "answered_now": (
        "ANSWERED NOW",
        "logged rejection is now answered",
        "logged rejections are now answered",
    ),
    "unknown_version": ("UNKNOWN VERSION", "line cannot be replayed", "lines cannot be replayed"),
}


def _lines(n: int) -> str:
    return f"{n:,} line{'' if n == 1 else 's'}"


def _label(group: Group) -> str:
    return f"{group[0]} {group[1]} @ {group[2]}"


def closing_line(tally: ReplayTally) -> str:
    """One line of counts, every outcome named (unreadable lines only if any)."""
    parts = [f"{tally.count(c):,} {LABELS[c].split(' (')[0]}" for c in CATEGORIES]
    unreadable = sum(tally.unreadable.values())
    if unreadable:
        parts.append(f"{unreadable:,} unreadable")
    return ", ".join(parts)


def render_replay(report: ReplayReport) -> str:
    t = report.tally
    names = [f.shown for f in report.files]
    shown = ", ".join(names) if len(names) <= 3 else f"{len(names)} files ({names[0]}, ...)"
    out = [f"Replayed {_lines(t.lines)} of {shown}"]
    for group in sorted(t.groups):
        counts = t.groups[group]
        said = [f"{n:,} {LABELS[c]}" for c, n in zip(CATEGORIES, counts, strict=True) if n]
        edited = t.hash_changed.get(group, 0)
        note = (
            f" ({edited:,} changed where the version's files were edited since)" if edited else ""
        )
        out.append(f"  {_label(group)}: {', '.join(said)}{note}")

    def where(f: int, line: int) -> str:
        return f"{report.files[f].shown}:{line}"

    for category, (title, one, many) in _HEADINGS.items():
        i = CATEGORIES.index(category)
        for group in sorted(g for g, c in t.groups.items() if c[i]):
            n = t.groups[group][i]
            out += ["", f"{title} {_label(group)}: {n:,} {one if n == 1 else many}"]
            details = sorted(
                ((d, k) for (g, c, d), k in t.details.items() if g == group and c == category),
                key=lambda dk: (-dk[1], dk[0]),
            )
            for detail, k in details:
                if detail:
                    out.append(f"    {detail}: {_lines(k)}")
                for f, line, name, what in t.examples.get((group, category, detail), []):
                    out.append(f"        {where(f, line)} {name}" + (f": {what}" if what else ""))
    if t.unreadable:
        out += ["", f"UNREADABLE: {_lines(sum(t.unreadable.values()))}"]
        out += [f"    {reason}: {_lines(k)}" for reason, k in t.unreadable.most_common()]
        out += [f"        {where(f, line)}" for f, line, _, _ in t.unreadable_examples]
    if t.stopped:
        out += ["", "stopped at the first change (-x)"]
    out += ["", closing_line(t)]
    return "\n".join(out)


def replay_outcomes(report: ReplayReport) -> list[Outcome]:
    """One JUnit test case per rule set, decision and version: failed if any line changed."""
    t = report.tally
    outcomes = []
    for group in sorted(t.groups):
        counts = dict(zip(CATEGORIES, t.groups[group], strict=True))
        said = ", ".join(f"{n:,} {LABELS[c]}" for c, n in counts.items() if n)
        first = min(
            (ex[:2] for (g, _, _), found in t.examples.items() if g == group for ex in found),
            default=(0, 0),
        )
        outcomes.append(
            Outcome(
                name=_label(group),
                location=f"{report.files[first[0]].shown}:{first[1]}",
                group="replay",
                classname=f"{group[0]}.{group[1]}",
                status="failed" if any(counts[c] for c in CHANGES) else "passed",
                headline=said,
            )
        )
    return outcomes
