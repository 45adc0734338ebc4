"""Publishing: the gate between a draft version and the served rules.

`publish(rules, today)` checks every version of the rule sets it publishes
(as `check` does, published versions against their lock included), runs every
regression case of those rule sets, refuses a new version that takes effect
before the day it is published (`backdated_version`) or whose input schema
rejects what callers of the version it replaces send (`breaking_input_change`),
and only when all of that is clean records each new version in its rule set's
`versions.lock`. A refused publish writes nothing. Public entry: `publish`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .. import (
    LOCK_NAME,
    MANIFEST,
    Code,
    Diagnostic,
    Engine,
    Lock,
    LockBook,
    LockedVersion,
    RuleFileError,
    RuleSet,
    Version,
    display_path,
    file_hashes,
    find_suites,
    find_versions,
    load_suites,
    load_versions,
    narrowings,
    version_conflicts,
    write_locks,
)
from .runner import Outcome, run_case


@dataclass(frozen=True, slots=True)
class Published:
    """One version recorded by a publish, and the version it replaces (if any)."""

    ruleset: str
    version: str
    effective_from: date
    content_hash: str
    lock: str  # the lock file it was recorded in
    replaces: str | None
    overrides: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PublishResult:
    """What a publish did, or why it refused (then nothing was written)."""

    rulesets: tuple[str, ...]
    problems: tuple[Diagnostic, ...] = ()
    failures: tuple[Outcome, ...] = ()
    cases: int = 0
    published: tuple[Published, ...] = ()
    written: bool = False
    engine: Engine | None = field(default=None, repr=False, compare=False)
    locks: tuple[Lock, ...] = field(default=(), repr=False)  # to write (or written)

    @property
    def refused(self) -> bool:
        return bool(self.problems or self.failures)


def _rule_problem(code: Code, message: str, file: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, message, file, 1, 1, hint)


def _effective_from_position(manifest: str) -> tuple[int, int]:
    try:
        text = Path(manifest).read_text("utf-8")
    except OSError:
        return 1, 1
    found = re.search(r"^effective_from\s*:\s*", text, re.M)
    if found is None:
        return 1, 1
    return text.count("\n", 0, found.start()) + 1, found.end() - found.start() + 1


def _backdated(version: Version, today: date) -> Diagnostic:
    manifest = f"{version.root}/{MANIFEST}"
    line, column = _effective_from_position(manifest)
    return Diagnostic(
        Code.BACKDATED_VERSION,
        f"version {version.version!r} takes effect on {version.effective_from}, before the "
        f"day it is published ({today}): it would change answers already given for those days",
        manifest,
        line,
        column,
        "set effective_from to today or later, or publish with --allow-backdated "
        "(recorded in versions.lock)",
        10,
    )


def _breaking(new: Version, old: Version) -> list[Diagnostic]:
    """The new version's decisions refuse input its predecessor accepted."""
    manifest = f"{new.root}/{MANIFEST}"
    problems = []
    for name in sorted(old.decisions):
        if name not in new.decisions:
            problems.append(
                _rule_problem(
                    Code.BREAKING_INPUT_CHANGE,
                    f"decision {name!r} of version {old.version!r} is gone from "
                    f"{new.version!r}: callers asking for it would get 404",
                    manifest,
                    "keep the decision, or publish with --allow-breaking",
                )
            )
            continue
        before, after = old.decisions[name].input_schema(), new.decisions[name].input_schema()
        for change in narrowings(before, after):
            problems.append(
                _rule_problem(
                    Code.BREAKING_INPUT_CHANGE,
                    f"{name}: {change} (version {new.version!r} would refuse input "
                    f"that callers of {old.version!r} send)",
                    manifest,
                    "accept what the previous version accepted (make the field optional, "
                    "keep the value), or publish with --allow-breaking",
                )
            )
    return problems


def _scope(rules: Path, versions: list[Version], ruleset: str | None) -> tuple[str, ...]:
    names = sorted({v.ruleset for v in versions})
    if ruleset is None:
        return tuple(names)
    return (ruleset,)


def _in_scope(diag: Diagnostic, folders: Iterable[Path]) -> bool:
    file = Path(diag.file).resolve()
    return any(file == f or f in file.parents for f in folders)


def _hashes_now(rules: Path) -> dict[Path, dict[str, str]]:
    return {vdir.resolve(): file_hashes(vdir, files) for vdir, files in find_versions(rules)}


def publish(
    rules: Path,
    today: date,
    ruleset: str | None = None,
    allow_backdated: bool = False,
    allow_breaking: bool = False,
    write: bool = True,
) -> PublishResult:
    """Check, test and lock every draft of the rule sets under `rules` (or of `ruleset`)."""
    rules = Path(rules)
    before = _hashes_now(rules) if rules.exists() else {}
    versions: list[Version] = []
    problems: list[Diagnostic] = []
    for item in load_versions(rules):
        if isinstance(item, RuleFileError):
            problems.extend(item.diagnostics)
        else:
            versions.append(item)
    names = _scope(rules, versions, ruleset)
    chosen = [v for v in versions if v.ruleset in names]
    if ruleset is not None and not chosen:
        known = ", ".join(sorted({v.ruleset for v in versions})) or "none"
        problems.append(
            _rule_problem(
                Code.NO_RULES,
                f"no rule set {ruleset!r} under {display_path(rules)} (known: {known})",
                display_path(rules),
            )
        )
        return PublishResult(names, tuple(sorted(set(problems), key=Diagnostic.sort_key)))
    folders = {Path(v.root).resolve().parent for v in chosen}
    if ruleset is not None:
        problems = [d for d in problems if _in_scope(d, folders)]
    by_ruleset: dict[str, list[Version]] = {}
    for version in chosen:
        by_ruleset.setdefault(version.ruleset, []).append(version)
    problems.extend(version_conflicts(by_ruleset))
    engine = Engine({n: RuleSet.of(n, vs) for n, vs in sorted(by_ruleset.items())}, root=str(rules))

    suites, suite_problems = load_suites(find_suites(rules), versions, None if not problems else ())
    problems.extend(d for d in suite_problems if ruleset is None or _in_scope(d, folders))
    cases = [c for s in suites for c in s.cases if c.ruleset in names]
    failures = tuple(o for o in (run_case(engine, c) for c in cases) if o.failed)

    new = [v for v in chosen if v.status != "published"]
    gated, overrides, replaced = _gates(new, by_ruleset, today, allow_backdated, allow_breaking)
    problems.extend(gated)
    if before and _hashes_now(rules) != before:
        problems.append(
            _rule_problem(
                Code.RULES_CHANGED,
                "rule files changed while publishing; nothing was published",
                display_path(rules),
                "run the command again once the edits are done",
            )
        )
    result = PublishResult(
        names,
        tuple(sorted(set(problems), key=Diagnostic.sort_key)),
        failures,
        len(cases),
        engine=engine,
    )
    if result.refused or not new:
        return result
    locks, published = _new_locks(new, overrides, replaced, today, before)
    if write:
        write_locks(locks)
    return PublishResult(names, (), (), len(cases), tuple(published), write, engine, tuple(locks))


def _gates(
    new: list[Version],
    by_ruleset: dict[str, list[Version]],
    today: date,
    allow_backdated: bool,
    allow_breaking: bool,
) -> tuple[list[Diagnostic], dict[str, tuple[str, ...]], dict[str, Version]]:
    """Backdated and breaking new versions: (problems, overrides given, version replaced),
    the last two by version folder."""
    problems: list[Diagnostic] = []
    overrides: dict[str, tuple[str, ...]] = {}
    replaced: dict[str, Version] = {}
    for version in new:
        given: list[str] = []
        if version.effective_from < today:
            if allow_backdated:
                given.append("backdated")
            else:
                problems.append(_backdated(version, today))
        ordered = sorted(by_ruleset[version.ruleset], key=lambda v: v.effective_from)
        earlier = [v for v in ordered if v.effective_from < version.effective_from]
        if earlier:
            replaced[version.root] = earlier[-1]
            breaking = _breaking(version, earlier[-1])
            if breaking and allow_breaking:
                given.append("breaking")
            elif breaking:
                problems.extend(breaking)
        overrides[version.root] = tuple(given)
    return problems, overrides, replaced


def _new_locks(
    new: list[Version],
    overrides: dict[str, tuple[str, ...]],
    replaced: dict[str, Version],
    today: date,
    hashes: dict[Path, dict[str, str]],
) -> tuple[list[Lock], list[Published]]:
    book = LockBook()
    entries: dict[Path, tuple[str, list[LockedVersion]]] = {}
    published = []
    for version in sorted(new, key=lambda v: (v.ruleset, v.effective_from)):
        vdir = Path(version.root)
        lock_path = vdir.parent / LOCK_NAME
        existing = book.lock_for(vdir)
        if lock_path not in entries:
            entries[lock_path] = (version.ruleset, list(existing.versions) if existing else [])
        files = tuple(hashes[vdir.resolve()].items())  # the bytes that were checked
        entry = LockedVersion(
            version.version,
            vdir.name,
            version.effective_from,
            version.content_hash,
            today,
            overrides.get(version.root, ()),
            tuple(sorted(files)),
        )
        entries[lock_path][1].append(entry)
        old = replaced.get(version.root)
        published.append(
            Published(
                version.ruleset,
                version.version,
                version.effective_from,
                version.content_hash,
                display_path(lock_path),
                old.version if old is not None else None,
                entry.overrides,
            )
        )
    locks = [
        Lock(name, path, tuple(sorted(items, key=lambda v: v.effective_from)))
        for path, (name, items) in sorted(entries.items())
    ]
    return locks, published
