"""The facade: load rule sets (load -> validate -> check -> compile) and decide.

`load(path)` finds every version under a folder (a folder with a
`manifest.yaml`), runs the static phases on each, and returns an immutable
`Engine`. `Engine.decide()` picks the version in effect on the input's
`as_of` (or the pinned one), validates the input with compiled code and runs
the compiled decision.
"""

from __future__ import annotations

import bisect
import dataclasses
import gc
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal, NoReturn

from .compiled_cache import CacheDir, CompiledCache, checked_program, configured
from .compiler import CompiledDecision, CompiledVersion, as_internal, compile_version
from .compiler.probes import ProbedProgram, compile_probed
from .discover import MANIFEST, display_path, find_versions
from .errors import (
    Code,
    ContentHashUnavailableError,
    Diagnostic,
    InputCode,
    InputError,
    Note,
    NotFoundError,
    NoVersionInEffectError,
    RuleEngineError,
    RuleFileError,
    unknown_version,
)
from .lock import LockBook, Status, foreign_lock, status_of, verify_published
from .model import Limits, Location
from .runtime.budget import check_input_size
from .runtime.inputs import DATE_CACHE as _DATES
from .runtime.inputs import FAIL, problem, to_date
from .trace import Explained, TraceEntry, as_objects, validation_reads
from .views import (
    Decision,
    DecisionInfo,
    RuleGroupInfo,
    RuleInfo,
    TableInfo,
    VersionViews,
    version_views,
)

Clock = Callable[[], date]
# What loading does with drafts (versions of a locked rule set not in its versions.lock):
# "dated": decided like published versions (check, test, diff, the library's default);
# "pinned": decided only when pinned by name (`serve --drafts`, `eval`);
# "none": not loaded at all (`serve`, `bundle`).
DraftPolicy = Literal["dated", "pinned", "none"]
_EPOCH = date(1970, 1, 1)
_today_cache: list[Any] = [-1, _EPOCH]


def utc_today() -> date:
    """Today's date in UTC (cached per day: the clock is read on every decision)."""
    day = int(time.time() // 86400)
    if day != _today_cache[0]:
        _today_cache[1] = _EPOCH + timedelta(days=day)
        _today_cache[0] = day
    today: date = _today_cache[1]
    return today


@dataclass(frozen=True, slots=True)
class Version:
    """One loaded, compiled, immutable version of a rule set."""

    ruleset: str
    version: str
    effective_from: date
    content_hash: str
    root: str
    files: tuple[str, ...]
    # The compiled program: internal (the compiler's shape). Clients read the views below.
    compiled: CompiledVersion = field(repr=False)
    # published (in versions.lock), draft (a locked rule set's version not in it yet),
    # or unlocked (the rule set has no versions.lock); see lock.py.
    status: Status = "unlocked"
    _views: VersionViews = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_views", version_views(self.compiled))

    @property
    def decisions(self) -> Mapping[str, DecisionInfo]:
        """The version's decisions by name: description and JSON Schemas."""
        return self._views.decisions

    def groups(self) -> Mapping[str, RuleGroupInfo]:
        """The version's rule groups by name, each with its rules in order."""
        return self._views.groups

    def rules(self) -> tuple[RuleInfo, ...]:
        """Every rule of every group, group by group in source order."""
        return tuple(rule for group in self._views.groups.values() for rule in group.rules)

    def tables(self) -> Mapping[str, TableInfo]:
        """The version's tables by name, with their rows or items."""
        return self._views.tables

    def listing(self, traced: bool = False, decision: str | None = None) -> str:
        """The generated Python module (or its traced copy; with `decision`, only that
        decision's functions), as `ruleengine compile` prints it: for debugging."""
        return self.compiled.listing(traced=traced, decision=decision)

    def probed(self) -> ProbedProgram:
        """A new copy of the program with branch probes, for coverage (see compiler/probes.py)."""
        return compile_probed(self.compiled.checked, self.ruleset, self.version)


@dataclass(frozen=True, slots=True)
class RuleSet:
    name: str
    versions: tuple[Version, ...]  # by effective_from, earliest first
    _by_label: Mapping[str, Version] = field(repr=False)
    _starts: tuple[date, ...] = field(repr=False)
    _dated: tuple[Version, ...] = field(repr=False)  # the versions that dates may pick
    # as_of -> the version in effect: a cache (the only mutable part; a lost or
    # cleared entry is simply computed again), since every decision asks.
    _by_date: dict[date, Version] = field(repr=False, default_factory=dict, compare=False)

    @classmethod
    def of(cls, name: str, versions: list[Version], drafts: DraftPolicy = "dated") -> RuleSet:
        """A rule set of these versions; with drafts="pinned", dates pick only non-drafts."""
        ordered = tuple(sorted(versions, key=lambda v: v.effective_from))
        dated = ordered if drafts == "dated" else tuple(v for v in ordered if v.status != "draft")
        return cls(
            name,
            ordered,
            {v.version: v for v in ordered},
            tuple(v.effective_from for v in dated),
            dated,
        )

    @property
    def earliest(self) -> date | str:
        """The first effective_from a date can pick (for `no_version_in_effect`)."""
        if self._dated:
            return self._dated[0].effective_from
        return "no date: this rule set has only drafts, decided only when pinned by name"

    def in_effect(self, as_of: date) -> Version | None:
        """The version with the latest effective_from on or before as_of."""
        found = self._by_date.get(as_of)
        if found is None:
            i = bisect.bisect_right(self._starts, as_of)
            found = self._dated[i - 1] if i else None
            if found is not None:
                if len(self._by_date) >= 4096:  # bounded: dates repeat, but not forever
                    self._by_date.clear()
                self._by_date[as_of] = found
        return found

    def get(self, label: str) -> Version | None:
        return self._by_label.get(label)


# tuple.__new__ builds a Decision without the NamedTuple's Python-level __new__.
_new_tuple = tuple.__new__
# A decision's route: its generated hot path, version label, content hash, as_of, the
# compiled decision and the version (cached per ruleset, decision and as_of as given).
Route = tuple[Callable[[Any, date], Any], str, str, date, CompiledDecision, Version]


class Engine:
    """Holds loaded rule sets; safe to share between threads: the rules never change, and
    the only mutable parts are lookup caches (a lost or cleared entry is computed again)."""

    def __init__(
        self,
        rulesets: Mapping[str, RuleSet],
        clock: Clock | None = None,
        root: str | None = None,
        drafts: DraftPolicy = "dated",
        skipped: Iterable[tuple[str, str]] = (),
    ):
        self._rulesets = dict(rulesets)
        self._clock = clock or utc_today
        self.root = root
        self.drafts: DraftPolicy = drafts  # how it was loaded; a reload loads alike
        self.skipped_drafts = frozenset(skipped)  # (ruleset, folder) of drafts not loaded
        # ruleset -> decision -> as_of as given (text or date) -> Route: a cache (a lost entry
        # is looked up again); nested: three lookups cost less than hashing a key tuple.
        self._routes: dict[str, dict[str, dict[Any, Route]]] = {}

    @property
    def clock(self) -> Clock:
        """Where the default as_of (today) comes from."""
        return self._clock

    @property
    def rulesets(self) -> Mapping[str, RuleSet]:
        return self._rulesets

    def ruleset(self, name: str) -> RuleSet:
        found = self._rulesets.get(name)
        if found is None:
            raise NotFoundError("ruleset", name, sorted(self._rulesets))
        return found

    def today(self) -> date:
        return self._clock()

    def select(self, ruleset: str, as_of: date, version: str | None = None) -> Version:
        """The version that decides: the pinned one, else the one in effect on as_of."""
        rs = self.ruleset(ruleset)
        if version is not None:
            found = rs.get(version)
            if found is None:
                known = [v.version for v in rs.versions]
                raise unknown_version(ruleset, version, known, self.skipped_drafts)
            return found
        found = rs.in_effect(as_of)
        if found is None:
            raise NoVersionInEffectError(ruleset, as_of, rs.earliest)
        return found

    def pin_content(self, ruleset: str, content_hash: str, version: str | None = None) -> str:
        """The label of the version with exactly this content (and label, if given);
        `ContentHashUnavailableError` when this engine has none."""
        rs = self.ruleset(ruleset)
        if version is not None:
            found = self.select(ruleset, self._clock(), version)  # NotFoundError if unknown
            if found.content_hash == content_hash:
                return found.version
        else:
            for candidate in rs.versions:
                if candidate.content_hash == content_hash:
                    return candidate.version
        have = [(v.version, v.content_hash) for v in rs.versions]
        raise ContentHashUnavailableError(ruleset, content_hash, have, version)

    def decide(
        self,
        ruleset: str,
        decision: str,
        input: Any,
        version: str | None = None,
        explain: bool = False,
    ) -> Decision:
        """Decide `decision` of `ruleset` on `input`; raise a `RuleEngineError` subclass on bad requests."""
        # The hot path: every step below runs on each decision, so it is kept flat. Routes
        # are cached per as_of as given (a text or a date), with the Decision's parts.
        try:
            route = self._routes[ruleset][decision][input["as_of"]] if version is None else None
        except Exception:  # no as_of (today), not seen yet, unhashable, not a dict: see _route
            route = None
        if route is None:
            route = self._route(ruleset, decision, input, version)
        if explain:
            return self._explained(ruleset, decision, input, version, route)
        fast, label, content_hash, as_of, compiled, _ = route
        try:
            # Plainly valid input: checked and decided by one generated function (its check
            # also keeps every text and list within the decision's budget). Else the budget,
            # then the collecting validator lists every problem (or vouches for the input).
            decided = fast(input, as_of)
            if decided is FAIL:
                data, locale = self._validated(ruleset, decision, input, version, route)
                result = compiled.run(data, as_of, locale)
            else:
                result, locale = decided
        except RuleEngineError:
            raise
        except Exception as exc:  # a bug: say which rule's code raised it
            raise as_internal(exc) from exc
        made = (result, ruleset, decision, label, content_hash, as_of, locale, None, None)
        return _new_tuple(Decision, made)

    def _explained(
        self, ruleset: str, decision: str, input: Any, version: str | None, route: Route
    ) -> Decision:
        """decide(explain=True): the traced program, its trace recorded in the Decision."""
        _, label, content_hash, as_of, compiled, chosen = route
        try:
            checked = compiled.check_fast(input)  # (it keeps the budget too, as decide's)
            if checked is FAIL:
                checked = self._validated(ruleset, decision, input, version, route)
            data, locale = checked
            trace: list[Any] = []
            result = compiled.run_traced(data, as_of, locale, trace)
        except RuleEngineError:
            raise
        except Exception as exc:  # a bug: say which rule's code raised it
            raise as_internal(exc) from exc
        # Recorded now; read into rule entries and a tree when first asked for.
        explained = Explained(trace, data, as_of, chosen.compiled.checked.tables)
        made = (result, ruleset, decision, label, content_hash, as_of, locale, explained, explained)
        return _new_tuple(Decision, made)

    def _validated(
        self, ruleset: str, decision: str, input: Any, version: str | None, route: Route
    ) -> tuple[dict[str, Any], str]:
        """Input the fast check declines: the budget, then the collecting validator (it
        lists every problem, or vouches for the input). Input that is not a dict is
        checked by today's version, as one without as_of (the route came from the cache)."""
        if type(input) is not dict:
            route = self._route(ruleset, decision, input, version)
        check_input_size(route[5].compiled.checked, decision, input)
        return route[4].validate(input)

    def _route(self, ruleset: str, decision: str, input: Any, version: str | None) -> Route:
        """How to decide: the as_of, the version and its compiled decision; raise
        NotFoundError and the like (an input error for a bad as_of)."""
        raw_as_of = input.get("as_of") if type(input) is dict else None
        as_of: date | None
        if raw_as_of is None:
            as_of = self._clock()
        else:
            as_of = _DATES.get(raw_as_of) if type(raw_as_of) is str else None
            if as_of is None:
                as_of = to_date(raw_as_of)
        if as_of is None:
            self._reject_as_of(ruleset, decision, input, version, raw_as_of)
        chosen = self.select(ruleset, as_of, version)
        compiled = chosen.compiled.decisions.get(decision)
        if compiled is None:
            raise NotFoundError("decision", decision, sorted(chosen.compiled.decisions))
        route = (compiled.decide_fast, chosen.version, chosen.content_hash, as_of, compiled, chosen)
        if version is None and type(raw_as_of) in (str, date):  # as given: today's moves on
            routes = self._routes.setdefault(ruleset, {}).setdefault(decision, {})
            if len(routes) >= 4096:  # bounded: dates repeat, but not forever
                routes.clear()
            routes[raw_as_of] = route
        return route

    def decide_traced(
        self,
        ruleset: str,
        decision: str,
        input: Any,
        version: str | None = None,
        probed: Callable[[Version], ProbedProgram] | None = None,
    ) -> tuple[Decision, list[Any]]:
        """Decide with the traced program; also return the raw trace (rule entries and
        `TableRead`s in evaluation order), for coverage and impact analysis. `probed`:
        the chosen version's program with branch probes, run instead (coverage)."""
        raw_as_of = input.get("as_of") if type(input) is dict else None
        as_of = self._clock() if raw_as_of is None else to_date(raw_as_of)
        if as_of is None:
            self._reject_as_of(ruleset, decision, input, version, raw_as_of)
        chosen = self.select(ruleset, as_of, version)
        compiled = chosen.compiled.decisions.get(decision)
        if compiled is None:
            raise NotFoundError("decision", decision, sorted(chosen.compiled.decisions))
        data, locale = compiled.validate(input)
        checked = chosen.compiled.checked
        trace: list[Any] = validation_reads(compiled.checked.inputs, checked.records, data)
        events: list[Any] = []
        run = compiled.run_traced if probed is None else probed(chosen).runner(decision)
        try:
            result = run(data, as_of, locale, events)
        except RuleEngineError:
            raise
        except Exception as exc:  # a bug: say which rule's code raised it
            raise as_internal(exc) from exc
        trace.extend(as_objects(events, len(trace)))
        rules = tuple(entry for entry in trace if type(entry) is TraceEntry)
        made = Decision(
            result, ruleset, decision, chosen.version, chosen.content_hash, as_of, locale, rules
        )
        return made, trace

    def _reject_as_of(
        self, ruleset: str, decision: str, input: Any, version: str | None, raw: Any
    ) -> NoReturn:
        """A bad as_of picks no version; still list every other problem, per today's version."""
        message = "expected a date (YYYY-MM-DD)"
        problems = [problem(InputCode.TYPE, "input.as_of", message, "date", raw)]
        try:
            compiled = self.select(ruleset, self._clock(), version).compiled.decisions.get(decision)
            if compiled is not None:
                compiled.validate(input)
        except InputError as exc:
            problems.extend(p for p in exc.problems if p.path != "input.as_of")
        except (NotFoundError, NoVersionInEffectError):
            pass
        raise InputError(problems)


# --- loading -------------------------------------------------------------------

_pause_lock = threading.Lock()
_pause_depth = 0
_resume_collector = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a version is built.

    Loading allocates about a million long-lived objects (YAML nodes, ASTs,
    position tables) and no cycles worth collecting, and the collector's
    repeated passes over them were ~40% of a 10,000-rule load (CPU, measured:
    4.6-5.3 s with, 2.7-3.4 s without). Nested and concurrent loads (a server
    reloading in a thread) share one pause: the last one out re-enables the
    collector, and only if it was on when the first came in.
    """
    global _pause_depth, _resume_collector
    with _pause_lock:
        if _pause_depth == 0:
            _resume_collector = gc.isenabled()
            gc.disable()
        _pause_depth += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pause_depth -= 1
            if _pause_depth == 0 and _resume_collector:
                gc.enable()


def _load_version(
    vdir: Path, files: list[Path], cache: CompiledCache | None, limits: Limits
) -> Version:
    with _collector_paused():
        return _build_version(vdir, files, cache, limits)


def _build_version(
    vdir: Path, files: list[Path], cache: CompiledCache | None, limits: Limits
) -> Version:
    manifest_path = vdir / MANIFEST
    paths = [(manifest_path, display_path(manifest_path)), *((f, display_path(f)) for f in files)]
    checked = checked_program(paths, display_path(vdir), cache, limits)  # load, validate, check
    compiled = compile_version(checked)
    model = checked.model
    m = model.manifest
    return Version(
        m.ruleset,
        m.version,
        m.effective_from,
        model.content_hash,
        model.root,
        model.files,
        compiled,
    )


def load_versions(
    path: str | os.PathLike[str],
    drafts: DraftPolicy = "dated",
    compiled_cache: CacheDir = None,
    limits: Limits | None = None,
    skipped: list[tuple[str, str]] | None = None,
) -> Iterator[Version | RuleFileError]:
    """Load every version under path, yielding each version or the error that stopped it.

    A published version (in its rule set's versions.lock) loads only if its files are
    exactly the published bytes; drafts="none" skips drafts unread (named in `skipped`).
    `compiled_cache`: see compiled_cache.py (default `$RULEENGINE_COMPILED_CACHE`).
    `limits` bound each version's cost and size (default: `Limits.from_environment`, so
    the workers of `serve` get the limits given to it).
    """
    cache = configured(compiled_cache)
    if limits is None:
        limits = Limits.from_environment(os.environ)
    root = Path(path)
    if not root.exists():
        yield RuleFileError(
            [Diagnostic(Code.NO_RULES, "no such file or folder", display_path(root))]
        )
        return
    versions = find_versions(root)
    if not versions:
        yield RuleFileError(
            [
                Diagnostic(
                    Code.NO_RULES,
                    f"no {MANIFEST} found: no rule set version here",
                    display_path(root),
                    hint="a version is a folder holding manifest.yaml and rule files",
                )
            ]
        )
        return
    book = LockBook()
    for vdir, files in versions:
        try:
            lock = book.lock_for(vdir)  # an unreadable lock is reported once, below
        except RuleFileError:
            continue
        status, entry = status_of(lock, vdir)
        if status == "draft" and drafts == "none":
            if skipped is not None and lock is not None:
                skipped.append((lock.ruleset, vdir.name))
            continue
        changed = verify_published(entry, vdir, files) if entry is not None else []
        try:
            version = _load_version(vdir, files, cache, limits)
        except RuleFileError as exc:
            yield RuleFileError([*changed, *exc.diagnostics])
            continue
        foreign = foreign_lock(lock, version.ruleset, display_path(vdir / MANIFEST))
        if changed or foreign:  # never served; its other problems are reported with it
            yield RuleFileError([*changed, *foreign])
            continue
        yield dataclasses.replace(version, status=status)
    problems = book.problems(root if root.is_dir() else root.parent, [v for v, _ in versions])
    if problems:
        yield RuleFileError(problems)


def load(
    path: str | os.PathLike[str] = "rules",
    clock: Clock | None = None,
    drafts: DraftPolicy = "dated",
    compiled_cache: CacheDir = None,
    limits: Limits | None = None,
) -> Engine:
    """Load every rule set and version under `path`; raise `RuleFileError` listing every problem.

    `drafts` says what becomes of versions not yet published (see `DraftPolicy`);
    `compiled_cache`, a folder processes loading the same rules share (compiled_cache.py);
    `limits` what a version may cost (see `load_versions`).
    """
    problems: list[Diagnostic] = []
    by_ruleset: dict[str, list[Version]] = {}
    skipped: list[tuple[str, str]] = []
    for item in load_versions(path, drafts, compiled_cache, limits, skipped):
        if isinstance(item, RuleFileError):
            problems.extend(item.diagnostics)
        else:
            by_ruleset.setdefault(item.ruleset, []).append(item)
    problems.extend(version_conflicts(by_ruleset))
    if problems:
        raise RuleFileError(problems)
    rulesets = {
        name: RuleSet.of(name, versions, drafts) for name, versions in sorted(by_ruleset.items())
    }
    return Engine(rulesets, clock, str(path), drafts, skipped)


def version_conflicts(by_ruleset: Mapping[str, list[Version]]) -> list[Diagnostic]:
    """Two versions of one rule set with the same label or the same effective date,
    reported at the later manifest's `version` or `effective_from`, the other as a note."""
    problems = []
    for name, versions in by_ruleset.items():
        seen_label: dict[str, Version] = {}
        seen_date: dict[date, Version] = {}
        for v in sorted(versions, key=lambda v: v.root):
            if v.version in seen_label:
                at, other = _manifest_place(v, "version"), seen_label[v.version]
                problems.append(
                    Diagnostic(
                        Code.DUPLICATE_VERSION,
                        f"version {v.version!r} of {name!r} is also defined in {other.root}",
                        at.file,
                        at.line,
                        at.column,
                        "every version of a rule set needs its own label",
                        notes=_manifest_note("the other version", other, "version"),
                    )
                )
            elif v.effective_from in seen_date:
                at, other = _manifest_place(v, "effective_from"), seen_date[v.effective_from]
                problems.append(
                    Diagnostic(
                        Code.DUPLICATE_VERSION,
                        f"versions {other.version!r} and "
                        f"{v.version!r} of {name!r} both take effect on {v.effective_from}",
                        at.file,
                        at.line,
                        at.column,
                        "give each version its own effective_from",
                        notes=_manifest_note(
                            f"version {other.version!r} takes effect here", other, "effective_from"
                        ),
                    )
                )
            seen_label.setdefault(v.version, v)
            seen_date.setdefault(v.effective_from, v)
    return problems


def _manifest_place(v: Version, key: str) -> Location:
    """Where a manifest key's value sits (line 1 of the manifest if unknown)."""
    manifest = v.compiled.checked.model.manifest
    found = manifest.version_location if key == "version" else manifest.effective_from_location
    return found or Location(f"{v.root}/{MANIFEST}", 1, 1)


def _manifest_note(message: str, v: Version, key: str) -> tuple[Note, ...]:
    at = _manifest_place(v, key)
    return (Note(message, at.file, at.line, at.column),)
