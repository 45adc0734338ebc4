"""Impact analysis: decide a corpus of inputs under two versions and count what changes.

The corpus is JSON lines, in any number of files (`sources.py`): each line an
input, or a decision-log line whose `input` (and, unless a decision is given,
`decision`; and its `as_of` and `locale` when the input lacks them) is used.
Every input is decided pinned to the old and to the new version, at its own
`as_of` or, with `as_of` in the request, at that date for both; results are
compared as JSON shows them (decimals by their exact text), field by field
(`lines[0].amount`; lists of scalars as a whole).

It streams: the files are cut into partitions that workers read themselves
(`distribute.py`: this process, a process pool, or Dask), each returning a
`Tally` of counters and a few examples; tallies merge in partition order, so
every way of running gives the same report. Distinct old -> new value pairs are
kept per field up to `MAX_PAIRS`; beyond that they are counted together as
"other values".

Public entries: `run_diff(request, files, runner)` -> `DiffReport`, and
`impact_summary(...)`, the per-decision summary that `publish --impact` prints.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from .. import Engine, InputError, NotFoundError, NoVersionInEffectError, jsonio, load
from .diff_report import ABSENT, DiffReport, clip, show
from .distribute import PartDone, RuleFiles, Runner, run_job
from .sources import PARTITION_BYTES, InputFile, Partition, find_inputs, plan

MAX_PAIRS = 1000  # distinct old -> new pairs kept per field in the report
# Distinct pairs a partition keeps per field before counting the rest as other values:
# far above a partition's usual line count, so the merged report is exact.
PARTITION_PAIRS = 100_000

FieldKey = tuple[str, str]  # (decision, field path)
Example = tuple[int, int, str, str, str]  # (file index, line, old JSON, new JSON, input)
Problem = tuple[int, int, str, str]  # (file index, line, reason or problems, text)


@dataclass(frozen=True, slots=True)
class DiffRequest:
    rules: str  # the --to side's rules, as the user named them
    ruleset: str
    old: str
    new: str
    decision: str | None = None
    examples: int = 3
    # The --from side's rules folder when it is not `rules` (another checkout, an
    # unpacked bundle): the same version label edited in place can be compared.
    old_rules: str | None = None
    old_source: str | None = None  # how the user named it (a folder, a bundle file)
    as_of: date | None = None  # decide every input as of this date (both versions)


@dataclass(slots=True)
class Tally:
    """Counters for a part of the corpus (a partition in a worker, or everything merged)."""

    inputs: int = 0
    decided: int = 0
    changed: int = 0
    invalid: int = 0
    unusable: Counter[str] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)
    fields: Counter[FieldKey] = field(default_factory=Counter)
    pairs: dict[FieldKey, Counter[tuple[str, str]]] = field(default_factory=dict)
    other_pairs: Counter[FieldKey] = field(default_factory=Counter)
    examples: dict[FieldKey, list[Example]] = field(default_factory=dict)
    invalid_examples: list[Problem] = field(default_factory=list)
    unusable_examples: list[Problem] = field(default_factory=list)
    # decision -> [inputs, decided, changed, invalid]
    decisions: dict[str, list[int]] = field(default_factory=dict)

    def merge(self, other: Tally, keep: int, offset: int = 0) -> None:
        """Add a later part's counts; `offset`: lines of its file before that part."""
        self.inputs += other.inputs
        self.decided += other.decided
        self.changed += other.changed
        self.invalid += other.invalid
        self.unusable.update(other.unusable)
        self.problems.update(other.problems)
        self.fields.update(other.fields)
        self.other_pairs.update(other.other_pairs)
        for name, counts in other.decisions.items():
            mine = self.decisions.setdefault(name, [0, 0, 0, 0])
            for i, n in enumerate(counts):
                mine[i] += n
        for key, pairs in other.pairs.items():  # in order of first appearance
            kept = self.pairs.setdefault(key, Counter())
            for pair, n in pairs.items():
                if pair in kept or len(kept) < MAX_PAIRS:
                    kept[pair] += n
                else:
                    self.other_pairs[key] += n
        for key, found in other.examples.items():
            shown = self.examples.setdefault(key, [])
            for f, line, a, b, text in found[: keep - len(shown)]:
                shown.append((f, line + offset, a, b, text))
        for kept_problems, theirs in (
            (self.invalid_examples, other.invalid_examples),
            (self.unusable_examples, other.unusable_examples),
        ):
            for f, line, what, text in theirs[: keep - len(kept_problems)]:
                kept_problems.append((f, line + offset, what, text))


# --- deciding one partition (in a worker, or in this process) ------------------------------


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


_decode = json.JSONDecoder(parse_float=Decimal, parse_constant=_refuse).decode
_dumps = pickle.dumps
_RESULT_KEYS = (b', "result": ', b',"result":')
_READ = {"ruleset", "decision", "as_of", "locale", "input"}  # the keys of a log line diff reads


def _log_prefix(text: bytes) -> Any:
    """A decision-log line parsed without its logged `result` (diff never reads it), or None.

    The result is most of a log line's bytes. The line is cut before its last
    `, "result": ` and closed with `}`: that parses only if the key is one of
    the line's own (a nested one leaves a brace open; inside a string the quotes
    would be escaped). The cut is used only if everything diff reads came before
    it; otherwise, or if it does not parse, the caller parses the whole line.
    """
    for key in _RESULT_KEYS:
        cut = text.rfind(key)
        if cut > 0:
            break
    else:
        return None
    try:
        data = _decode(text[:cut].decode("utf-8") + "}")
    except ValueError:  # also UnicodeDecodeError: the whole line is parsed, and reported
        return None
    if type(data) is not dict or type(data.get("input")) is not dict or not data.keys() >= _READ:
        return None
    data["result"] = None  # present, not read: the line is a log line
    return data


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON shows them: types kept apart (true is not 1), decimals by their digits."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict:
        return len(a) == len(b) and all(k in b and _same(v, b[k]) for k, v in a.items())
    if kind is list or kind is tuple:
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if kind is Decimal:
        return str(a) == str(b)
    return bool(a == b)


class _Decider:
    def __init__(self, request: DiffRequest, engine: Engine, old_engine: Engine):
        self.request = request
        self.engine = engine
        self.old_engine = old_engine
        self.as_of = request.as_of.isoformat() if request.as_of else None

    def run(self, part: Partition, lines: Iterator[tuple[int, bytes]]) -> Tally:
        tally = Tally()
        index = part.file.index
        for number, text in lines:
            self.line(tally, index, number, text)
        return tally

    def _unusable(self, tally: Tally, where: tuple[int, int], reason: str, text: Any) -> None:
        tally.unusable[reason] += 1
        if len(tally.unusable_examples) < self.request.examples:
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            tally.unusable_examples.append((*where, reason, clip(text)))

    def line(self, tally: Tally, index: int, number: int, text: bytes) -> None:
        request = self.request
        tally.inputs += 1
        where = (index, number)
        data = _log_prefix(text)
        if data is None:
            try:
                data = jsonio.loads(text)
            except (jsonio.JSONInputError, UnicodeDecodeError) as exc:
                shown = text.decode("utf-8", "replace").strip()
                self._unusable(tally, where, "malformed JSON", f"{exc}: {shown}")
                return
        decision = request.decision
        facts = data
        if (
            type(data) is dict
            and type(data.get("input")) is dict
            and ("decision" in data or "result" in data or "decision_id" in data)
        ):
            if data.get("ruleset") not in (None, request.ruleset):
                reason = f"logged for rule set {data.get('ruleset')!r}"
                self._unusable(tally, where, reason, text)
                return
            facts = data["input"]
            decision = decision or data.get("decision")
            for reserved in ("as_of", "locale"):
                if reserved not in facts and data.get(reserved) is not None:
                    facts[reserved] = data[reserved]
        if not isinstance(decision, str):
            self._unusable(tally, where, "no decision (pass --decision)", text)
            return
        if self.as_of is not None and type(facts) is dict:
            facts["as_of"] = self.as_of
        old = self.decide(self.old_engine, decision, facts, request.old)
        new = self.decide(self.engine, decision, facts, request.new)
        if type(old) is str and type(new) is str:
            reason = old if old.startswith("unknown decision") else old.partition(":")[0]
            self._unusable(tally, where, reason, text)
            return
        counts = tally.decisions.get(decision)
        if counts is None:
            counts = tally.decisions[decision] = [0, 0, 0, 0]
        counts[0] += 1
        if type(old) is list and type(new) is list:
            tally.invalid += 1
            counts[3] += 1
            tally.problems.update(old)
            if len(tally.invalid_examples) < request.examples:
                shown = clip(jsonio.dumps(facts))
                tally.invalid_examples.append((*where, "; ".join(old), shown))
            return
        tally.decided += 1
        counts[1] += 1
        if type(old) is dict and type(new) is dict:
            # The common case, at C speed: equal (`_same` implies ==), and pickled alike
            # (exact decimals by their digits, true apart from 1); else compared exactly.
            if old == new and (_dumps(old) == _dumps(new) or _same(old, new)):
                return
            changes = list(_changes(jsonio.to_plain(old), jsonio.to_plain(new), ""))
        else:  # accepted by one version only (an input schema changed)
            changes = [("(request)", show(_status(old)), show(_status(new)))]
        if not changes:
            return
        tally.changed += 1
        counts[2] += 1
        shown = ""
        for path, before, after in changes:
            key = (decision, path)
            tally.fields[key] += 1
            pairs = tally.pairs.get(key)
            if pairs is None:
                pairs = tally.pairs[key] = Counter()
            if (before, after) in pairs or len(pairs) < PARTITION_PAIRS:
                pairs[(before, after)] += 1
            else:
                tally.other_pairs[key] += 1
            found = tally.examples.setdefault(key, [])
            if len(found) < request.examples:
                shown = shown or clip(jsonio.dumps(facts))
                found.append((*where, before, after, shown))

    def decide(self, engine: Engine, decision: str, facts: Any, version: str) -> Any:
        """The result, a list of problems (`code at path`) if rejected, or an error text."""
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
                yield sub, show(old[key]), ABSENT
            elif key not in old:
                yield sub, ABSENT, show(new[key])
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
        yield path or "(result)", show(old), show(new)


@dataclass(frozen=True, slots=True)
class DiffJob:
    """What a worker needs: the request and both sides' rule files (picklable)."""

    request: DiffRequest
    new_rules: RuleFiles
    old_rules: RuleFiles | None  # None: the same rules as new_rules

    @property
    def key(self) -> str:
        old = self.old_rules.digest if self.old_rules else ""
        request = hashlib.sha256(repr(self.request).encode()).hexdigest()
        return f"diff:{self.new_rules.digest}:{old}:{request}"

    def start(self) -> _Decider:
        engine = load(self.new_rules.materialize())
        old = load(self.old_rules.materialize()) if self.old_rules else engine
        return _Decider(self.request, engine, old)


# --- the driver ----------------------------------------------------------------------------


def run_diff(
    request: DiffRequest,
    files: Sequence[InputFile],
    runner: Runner,
    rules: tuple[str | os.PathLike[str], str | os.PathLike[str] | None],
    engines: tuple[Engine, Engine] | None = None,
    on_done: Callable[[PartDone], None] | None = None,
    partition_bytes: int = PARTITION_BYTES,
) -> DiffReport:
    """Decide every input of `files` under both versions.

    `rules`: the rule set folders of the --to and (if different) --from side,
    shipped to the workers. `engines`: (new, old) already loaded here, reused by
    an in-process run and by forked workers. The caller has checked the request
    (rule set, versions and decision exist).
    """
    new_folder, old_folder = rules
    job = DiffJob(
        request,
        RuleFiles.of(new_folder),
        RuleFiles.of(old_folder) if old_folder is not None else None,
    )
    state = _Decider(request, *engines) if engines is not None else None
    total = Tally()
    start = time.perf_counter()
    offsets: dict[int, int] = {}
    for done in run_job(job, plan(files, partition_bytes), runner, on_done, state):
        offset = offsets.get(done.part.file.index, 0)
        total.merge(done.tally, request.examples, offset)
        offsets[done.part.file.index] = offset + done.lines
    return DiffReport(request, tuple(files), total, time.perf_counter() - start, runner)


def impact_summary(
    rules: str | os.PathLike[str],
    ruleset: str,
    old: str,
    new: str,
    inputs: Sequence[str | os.PathLike[str]],
    as_of: date | None = None,
    markdown: bool = False,
    workers: int = 1,
) -> str:
    """The per-decision impact of `new` against `old` on a decision log or corpus, as text
    (or markdown): what `ruleengine diff --summary` prints. For `publish --impact LOG`.

    Raises `sources.InputsError` for inputs that do not exist, the engine's errors
    for rules that do not load or a version the rule set lacks.
    """
    engine = load(rules)
    found = engine.ruleset(ruleset)
    for label in (old, new):
        if found.get(label) is None:
            raise NotFoundError("version", label, [v.version for v in found.versions])
    folder = os.path.commonpath([v.root for v in found.versions])
    request = DiffRequest(str(rules), ruleset, old, new, as_of=as_of)
    report = run_diff(
        request, find_inputs(inputs), Runner(workers), (folder, None), (engine, engine)
    )
    return report.render_summary(markdown=markdown)


__all__ = ["DiffReport", "DiffRequest", "Path", "Tally", "impact_summary", "run_diff"]
