"""Impact analysis: decide a corpus of inputs under two versions and count what changes.

The corpus is JSON lines: each line an input, or a decision-log line whose
`input` (and, unless a decision is given, `decision`; and its `as_of` and
`locale` when the input lacks them) is used. Every input is decided pinned to
the old and to the new version; results are compared as JSON shows them
(decimals by their exact text), field by field (`lines[0].amount`; lists of
scalars as a whole).

It streams: the parent reads the file line by line and hands chunks of lines
to a `multiprocessing.Pool` (each worker loads the rules once, in its
initializer); at most a few chunks per worker are in flight, and workers send
back counters, not results, so memory stays flat whatever the corpus size.
Distinct old -> new value pairs are kept per field up to `MAX_PAIRS`; beyond
that they are counted together as "other values".

Public entry: `run_diff(request, inputs, workers)` -> `DiffReport`.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from .. import jsonio
from ..engine import Engine, load
from ..errors import InputError, NotFoundError, NoVersionInEffectError

MAX_PAIRS = 1000  # distinct old -> new pairs kept per field
CHUNK_LINES = 1000
IN_FLIGHT_PER_WORKER = 4
EXAMPLE_CHARS = 400
ABSENT = "(absent)"

FieldKey = tuple[str, str]  # (decision, field path)


@dataclass(frozen=True, slots=True)
class DiffRequest:
    rules: str
    ruleset: str
    old: str
    new: str
    decision: str | None = None
    examples: int = 3
    # The --from side's rules folder when it is not `rules` (another checkout, an
    # unpacked bundle): the same version label edited in place can be compared.
    old_rules: str | None = None
    old_source: str | None = None  # how the user named it (a folder, a bundle file)


@dataclass(slots=True)
class Tally:
    """Counters for a part of the corpus (a chunk in a worker, or everything in the parent)."""

    inputs: int = 0
    decided: int = 0
    changed: int = 0
    invalid: int = 0
    unusable: Counter[str] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)
    fields: Counter[FieldKey] = field(default_factory=Counter)
    pairs: dict[FieldKey, Counter[tuple[str, str]]] = field(default_factory=dict)
    other_pairs: Counter[FieldKey] = field(default_factory=Counter)
    examples: dict[FieldKey, list[tuple[int, str, str, str]]] = field(default_factory=dict)
    invalid_examples: list[tuple[int, str, str]] = field(default_factory=list)
    unusable_examples: list[tuple[int, str, str]] = field(default_factory=list)

    def merge(self, other: Tally, keep: int) -> None:
        self.inputs += other.inputs
        self.decided += other.decided
        self.changed += other.changed
        self.invalid += other.invalid
        self.unusable.update(other.unusable)
        self.problems.update(other.problems)
        self.fields.update(other.fields)
        self.other_pairs.update(other.other_pairs)
        for key, counts in other.pairs.items():
            mine = self.pairs.setdefault(key, Counter())
            for pair, n in counts.items():
                if pair in mine or len(mine) < MAX_PAIRS:
                    mine[pair] += n
                else:
                    self.other_pairs[key] += n
        for key, found in other.examples.items():
            self.examples[key] = sorted([*self.examples.get(key, []), *found])[:keep]
        self.invalid_examples = sorted([*self.invalid_examples, *other.invalid_examples])[:keep]
        self.unusable_examples = sorted([*self.unusable_examples, *other.unusable_examples])[:keep]


# --- deciding one chunk (in a worker, or in-process) --------------------------------------


class _Decider:
    def __init__(
        self, request: DiffRequest, engine: Engine | None = None, old_engine: Engine | None = None
    ):
        self.request = request
        self.engine = engine if engine is not None else load(request.rules)
        self.old_engine = self.engine
        if request.old_rules is not None:
            self.old_engine = old_engine if old_engine is not None else load(request.old_rules)

    def chunk(self, lines: list[tuple[int, str]]) -> Tally:
        tally = Tally()
        for number, text in lines:
            self.line(tally, number, text)
        return tally

    def _unusable(self, tally: Tally, number: int, reason: str, text: str) -> None:
        tally.unusable[reason] += 1
        if len(tally.unusable_examples) < self.request.examples:
            tally.unusable_examples.append((number, reason, _clip(text)))

    def line(self, tally: Tally, number: int, text: str) -> None:
        request = self.request
        tally.inputs += 1
        try:
            data = jsonio.loads(text)
        except jsonio.JSONInputError as exc:
            self._unusable(tally, number, "malformed JSON", f"{exc}: {text.strip()}")
            return
        decision = request.decision
        facts = data
        if (
            isinstance(data, dict)
            and isinstance(data.get("input"), dict)
            and ("decision" in data or "result" in data or "decision_id" in data)
        ):
            if data.get("ruleset") not in (None, request.ruleset):
                self._unusable(tally, number, f"logged for rule set {data.get('ruleset')!r}", text)
                return
            facts = dict(data["input"])
            decision = decision or data.get("decision")
            for reserved in ("as_of", "locale"):
                if reserved not in facts and data.get(reserved) is not None:
                    facts[reserved] = data[reserved]
        if not isinstance(decision, str):
            self._unusable(tally, number, "no decision (pass --decision)", text)
            return
        old = self.decide(self.old_engine, decision, facts, request.old)
        new = self.decide(self.engine, decision, facts, request.new)
        if isinstance(old, str) and isinstance(new, str):
            self._unusable(
                tally,
                number,
                old if old.startswith("unknown decision") else old.partition(":")[0],
                text,
            )
            return
        if isinstance(old, list) and isinstance(new, list):
            tally.invalid += 1
            tally.problems.update(old)
            if len(tally.invalid_examples) < request.examples:
                tally.invalid_examples.append((number, "; ".join(old), _clip(jsonio.dumps(facts))))
            return
        tally.decided += 1
        if isinstance(old, dict) and isinstance(new, dict):
            if _encode(old) == _encode(new):  # the common case, decided by the C encoder
                return
            changes = list(_changes(jsonio.to_plain(old), jsonio.to_plain(new), ""))
        else:  # accepted by one version only (an input schema changed)
            changes = [("(request)", _show(_status(old)), _show(_status(new)))]
        if not changes:
            return
        tally.changed += 1
        for path, before, after in changes:
            key = (decision, path)
            tally.fields[key] += 1
            counts = tally.pairs.setdefault(key, Counter())
            if (before, after) in counts or len(counts) < MAX_PAIRS:
                counts[(before, after)] += 1
            else:
                tally.other_pairs[key] += 1
            found = tally.examples.setdefault(key, [])
            if len(found) < request.examples:
                found.append((number, before, after, _clip(jsonio.dumps(facts))))

    def decide(self, engine: Engine, decision: str, facts: Any, version: str) -> Any:
        """The plain result, a list of problems (`code at path`) if rejected, or an error text."""
        try:
            made = engine.decide(self.request.ruleset, decision, facts, version=version)
        except InputError as exc:
            return [f"{p.code} at {p.path}" for p in exc.problems]
        except NotFoundError as exc:
            return f"unknown {exc.kind} {exc.name!r}"
        except NoVersionInEffectError as exc:  # cannot happen when pinned; kept total
            return str(exc)
        except Exception as exc:  # an engine bug: counted and shown, the run goes on
            return f"engine crashed: {type(exc).__name__}: {exc}"
        return made.result


def _exact(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)  # exact digits: "675.00" is not "675"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return str(sorted(value))
    raise TypeError(f"cannot compare {type(value).__name__}")


_encode = json.JSONEncoder(default=_exact, ensure_ascii=False, check_circular=False).encode


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 3] + "..."


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _status(answer: Any) -> str:
    if isinstance(answer, dict):
        return "decided"
    if isinstance(answer, list):
        return "rejected: " + "; ".join(answer)
    return str(answer)


def _changes(old: Any, new: Any, path: str) -> Iterator[tuple[str, str, str]]:
    """(field path, old JSON, new JSON) for every field that differs."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in new:
                yield sub, _show(old[key]), ABSENT
            elif key not in old:
                yield sub, ABSENT, _show(new[key])
            else:
                yield from _changes(old[key], new[key], sub)
        return
    if (
        isinstance(old, list)
        and isinstance(new, list)
        and len(old) == len(new)
        and any(isinstance(v, dict) for v in (*old, *new))
    ):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _changes(a, b, f"{path}[{i}]")
        return
    if type(old) is not type(new) or old != new:
        yield path or "(result)", _show(old), _show(new)


_WORKER: dict[str, _Decider] = {}


def _init_worker(request: DiffRequest) -> None:
    _WORKER["decider"] = _Decider(request)


def _work(lines: list[tuple[int, str]]) -> Tally:
    return _WORKER["decider"].chunk(lines)


# --- the driver ----------------------------------------------------------------------------


def _chunks(path: Path, size: int) -> Iterator[list[tuple[int, str]]]:
    chunk: list[tuple[int, str]] = []
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for number, text in enumerate(handle, start=1):
            if text.strip():
                chunk.append((number, text))
                if len(chunk) >= size:
                    yield chunk
                    chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True, slots=True)
class DiffReport:
    request: DiffRequest
    inputs_file: str
    tally: Tally
    seconds: float
    workers: int

    @property
    def rate(self) -> float:
        return self.tally.inputs / self.seconds if self.seconds > 0 else 0.0

    def changes(self) -> list[tuple[FieldKey, int]]:
        return sorted(self.tally.fields.items(), key=lambda kv: (-kv[1], kv[0]))

    def to_json(self) -> dict[str, Any]:
        t = self.tally
        return {
            "ruleset": self.request.ruleset,
            "from": self.request.old,
            "to": self.request.new,
            "from_rules": self.request.old_source or self.request.rules,
            "to_rules": self.request.rules,
            "decision": self.request.decision,
            "inputs_file": self.inputs_file,
            "inputs": t.inputs,
            "decided": t.decided,
            "changed": t.changed,
            "unchanged": t.decided - t.changed,
            "invalid": t.invalid,
            "unusable": t.inputs - t.decided - t.invalid,
            "unusable_reasons": dict(t.unusable.most_common()),
            "changes": [
                {
                    "decision": decision,
                    "field": path,
                    "inputs": count,
                    "values": [
                        {"from": _parse(a), "to": _parse(b), "inputs": n}
                        for (a, b), n in t.pairs.get((decision, path), Counter()).most_common()
                    ],
                    "other_values_inputs": t.other_pairs.get((decision, path), 0),
                    "examples": [
                        {
                            "line": line,
                            "from": _parse(a),
                            "to": _parse(b),
                            "input": _maybe_json(text),
                        }
                        for line, a, b, text in t.examples.get((decision, path), [])
                    ],
                }
                for (decision, path), count in self.changes()
            ],
            "invalid_problems": dict(t.problems.most_common()),
            "invalid_examples": [
                {"line": n, "problems": p, "input": _maybe_json(s)}
                for n, p, s in t.invalid_examples
            ],
            "unusable_examples": [
                {"line": n, "reason": r, "text": s} for n, r, s in t.unusable_examples
            ],
            "seconds": round(self.seconds, 3),
            "inputs_per_second": round(self.rate),
            "workers": self.workers,
        }

    def render(self, top: int = 5) -> str:
        t = self.tally
        r = self.request
        unusable = t.inputs - t.decided - t.invalid
        share = f"  ({100 * t.changed / t.decided:.2f}% of decided)" if t.decided else ""
        sides = (
            f"{r.old} ({r.old_source}) -> {r.new} ({r.rules})"
            if r.old_rules
            else f"{r.old} -> {r.new}"
        )
        lines = [
            f"{r.ruleset}: {sides}"
            + (f", decision {r.decision}" if r.decision else "")
            + f", inputs from {self.inputs_file}",
            f"  inputs:            {t.inputs}",
            f"  decided:           {t.decided}",
            f"  changed decisions: {t.changed}{share}",
            f"  unchanged:         {t.decided - t.changed}",
            f"  invalid input:     {t.invalid}  (rejected by both versions)",
            f"  unusable lines:    {unusable}",
        ]
        if t.changed:
            lines += ["", "Changes by field:"]
            multi = len({d for d, _ in t.fields}) > 1 or r.decision is None
            for (decision, path), _count in self.changes():
                label = f"{decision}: {path}" if multi else path
                pairs = t.pairs.get((decision, path), Counter()).most_common()
                for (a, b), n in pairs[:top]:
                    lines.append(f"  {label}: {a} -> {b}  {n} input{'s' if n != 1 else ''}")
                rest = sum(n for _, n in pairs[top:]) + t.other_pairs.get((decision, path), 0)
                if rest:
                    lines.append(f"  {label}: ... other values  {rest} inputs")
                for line, a, b, text in t.examples.get((decision, path), []):
                    lines.append(f"      e.g. line {line} ({a} -> {b}): {text}")
        if t.invalid:
            lines += ["", "Invalid input (problems reported by the old version):"]
            lines += [
                f"  {problem}  {n} input{'s' if n != 1 else ''}"
                for problem, n in t.problems.most_common(top)
            ]
            lines += [f"      e.g. line {n}: {text}" for n, _, text in t.invalid_examples]
        if unusable:
            lines += ["", "Unusable lines:"]
            lines += [
                f"  {reason}  {n} line{'s' if n != 1 else ''}"
                for reason, n in t.unusable.most_common()
            ]
            lines += [f"      e.g. line {n}: {text}" for n, _, text in t.unusable_examples]
        lines += [
            "",
            f"{t.inputs} inputs in {self.seconds:.2f} s: {self.rate:,.0f} inputs/s "
            f"on {self.workers} worker{'s' if self.workers != 1 else ''}",
        ]
        return "\n".join(lines)


def _maybe_json(text: str) -> Any:
    """An example input as JSON, or as text when it was clipped."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _parse(text: str) -> Any:
    return text if text == ABSENT else json.loads(text)


def run_diff(
    request: DiffRequest,
    inputs: Path,
    workers: int | None = None,
    chunk_lines: int = CHUNK_LINES,
    on_chunk: Callable[[int], None] | None = None,
    engine: Engine | None = None,
    old_engine: Engine | None = None,
) -> DiffReport:
    """Decide every input of `inputs` under both versions; `workers` 1 runs in this process.

    The caller has checked the request (rule set, versions and decision exist).
    `on_chunk(lines)` is called as chunks complete (for a progress display).
    """
    workers = workers or os.cpu_count() or 1
    total = Tally()
    start = time.perf_counter()
    if workers == 1:
        decider = _Decider(request, engine, old_engine)
        for chunk in _chunks(inputs, chunk_lines):
            total.merge(decider.chunk(chunk), request.examples)
            if on_chunk:
                on_chunk(len(chunk))
    else:
        slots = threading.BoundedSemaphore(workers * IN_FLIGHT_PER_WORKER)

        def feed() -> Iterator[list[tuple[int, str]]]:
            for chunk in _chunks(inputs, chunk_lines):
                slots.acquire()  # back-pressure: the pool's feeder thread waits here
                yield chunk

        with multiprocessing.Pool(workers, initializer=_init_worker, initargs=(request,)) as pool:
            for part in pool.imap_unordered(_work, feed()):
                slots.release()
                total.merge(part, request.examples)
                if on_chunk:
                    on_chunk(part.inputs)
    return DiffReport(request, str(inputs), total, time.perf_counter() - start, workers)
