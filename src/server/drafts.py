"""Drafts: a published version's files as edited in the playground, loaded in memory.

A `Draft` is a rule set, the published version it was made from (`base`) and the
text of its files. `DraftLoader.load()` writes them to a private temporary folder,
loads it with `ruleengine.load` (the same phases as every rule file: parse,
validate, check, compile), removes the folder, and returns a `LoadedDraft`: every
diagnostic with its file named as in the draft (`rules.yaml`, not a temporary
path), and, when the draft loads, an engine holding the published versions of
the rule set with the draft in the place of its base. That engine is only ever
used by the playground's draft routes: a draft is never served to API clients,
and nothing here writes into the rules folder.

Bad drafts are diagnostics, never exceptions: a file name that is not one of the
base version's files, a file or a draft over the size limits, a draft that
names another rule set or takes another version's label or date.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ruleengine
from ruleengine import Diagnostic, RuleFileError

MAX_FILES = 64
MAX_FILE_BYTES = 256 * 1024
MAX_DRAFT_BYTES = 768 * 1024
MANIFEST = "manifest.yaml"
_NAME = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*\.ya?ml$")


@dataclass(frozen=True, slots=True)
class DraftProblem:
    """A positioned problem of a draft: the engine's diagnostics (codes of `ruleengine.errors.
    Code`), and the draft's own (unknown_file, draft_too_large, missing_file, draft_ruleset).
    Its file is named as in the draft; line and column are 1-based (0: the whole file)."""

    code: str
    message: str
    file: str
    line: int = 0
    column: int = 0
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "hint": self.hint or "",
        }


@dataclass(frozen=True, slots=True)
class Draft:
    ruleset: str
    base: str  # the published version it was made from
    files: tuple[tuple[str, str], ...]  # (path inside the version folder, text), sorted

    @classmethod
    def of(cls, ruleset: str, base: str, files: Mapping[str, str]) -> Draft:
        return cls(ruleset, base, tuple(sorted(files.items())))

    @property
    def key(self) -> str:
        digest = hashlib.sha256()
        for part in (self.ruleset, self.base, *(x for pair in self.files for x in pair)):
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\0")
        return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class LoadedDraft:
    draft: Draft
    diagnostics: tuple[DraftProblem, ...]
    version: ruleengine.Version | None = None  # the compiled draft, when it loads
    engine: ruleengine.Engine | None = None  # published versions, the draft in base's place
    published: ruleengine.Engine | None = None  # what the draft is compared with

    @property
    def ok(self) -> bool:
        return self.version is not None


def published_files(version: ruleengine.Version) -> dict[str, str]:
    """The files of a published version, by their path inside its folder."""
    root = Path(version.root)
    out = {MANIFEST: (root / MANIFEST).read_text("utf-8")}
    for name in version.files:
        path = Path(name)
        out[path.relative_to(root).as_posix()] = path.read_text("utf-8")
    return out


def _size_problem(name: str, text: str, limit: int, code: str, what: str) -> DraftProblem:
    """Where the text passes `limit` bytes: the line and column of the first byte over."""
    used = 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        size = len(line.encode("utf-8", "surrogatepass"))
        if used + size > limit:
            column = len(
                line.encode("utf-8", "surrogatepass")[: limit - used].decode("utf-8", "ignore")
            )
            return DraftProblem(
                code,
                f"{what} is larger than {limit // 1024} KiB",
                name,
                number,
                column + 1,
                "paste a smaller file; drafts are for trying edits, not for new rule sets",
            )
        used += size
    return DraftProblem(code, f"{what} is larger than {limit // 1024} KiB", name, 1, 1)


def draft_problems(draft: Draft, known: frozenset[str]) -> list[DraftProblem]:
    """Names and sizes: every problem found before anything is loaded."""
    problems: list[DraftProblem] = []
    if len(draft.files) > MAX_FILES:
        problems.append(
            DraftProblem("draft_too_large", f"a draft has at most {MAX_FILES} files", MANIFEST)
        )
    total = 0
    for name, text in draft.files:
        if name not in known:
            hint = "a draft edits the files of its version: " + ", ".join(sorted(known))
            if not _NAME.match(name) or ".." in name.split("/"):
                hint = "file names are relative paths ending in .yaml or .yml"
            problems.append(
                DraftProblem(
                    "unknown_file", f"{name!r} is not a file of this version", name, hint=hint
                )
            )
            continue
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_FILE_BYTES:
            problems.append(_size_problem(name, text, MAX_FILE_BYTES, "file_too_large", "the file"))
        elif total + size > MAX_DRAFT_BYTES:
            problems.append(
                _size_problem(name, text, MAX_DRAFT_BYTES - total, "draft_too_large", "the draft")
            )
        total += size
    if MANIFEST not in dict(draft.files):
        problems.append(
            DraftProblem("missing_file", "a draft needs its manifest.yaml", MANIFEST, hint="")
        )
    return problems


def _relocate(diag: Diagnostic, root: Path) -> DraftProblem:
    """A diagnostic from the temporary folder, its file named as in the draft."""
    try:
        name = Path(diag.file).resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        name = diag.file
    if name == ".":
        name = MANIFEST
    return DraftProblem(str(diag.code), diag.message, name, diag.line, diag.column, diag.hint)


def relocate_text(value: Any, prefix: str) -> Any:
    """JSON-plain data with every string that starts with the temporary folder made relative."""
    if isinstance(value, str):
        return value[len(prefix) :] if value.startswith(prefix) else value
    if isinstance(value, list):
        return [relocate_text(v, prefix) for v in value]
    if isinstance(value, dict):
        return {k: relocate_text(v, prefix) for k, v in value.items()}
    return value


def _key_line(draft: Draft, key: str) -> int:
    """The line of the manifest where `key:` is written (1 when it cannot be found)."""
    text = dict(draft.files).get(MANIFEST, "")
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return 1


def _conflicts(
    draft: Draft, version: ruleengine.Version, published: ruleengine.RuleSet
) -> list[DraftProblem]:
    """A draft stays in its rule set, and takes no other published version's label or date."""
    problems = []
    if version.ruleset != draft.ruleset:
        problems.append(
            DraftProblem(
                "draft_ruleset",
                f"this draft is of rule set {draft.ruleset!r}; its manifest says "
                f"{version.ruleset!r}",
                MANIFEST,
                _key_line(draft, "ruleset"),
                1,
                "a draft stays in the rule set it was made from",
            )
        )
    for other in published.versions:
        if other.version == draft.base:
            continue
        for key, same in (
            ("version", other.version == version.version),
            ("effective_from", other.effective_from == version.effective_from),
        ):
            if same:
                problems.append(
                    DraftProblem(
                        "duplicate_version",
                        f"published version {other.version!r} (from {other.effective_from}) "
                        f"has the same {key}",
                        MANIFEST,
                        _key_line(draft, key),
                        1,
                        "every version of a rule set needs its own label and effective_from",
                    )
                )
    return problems


class DraftLoader:
    """Loads drafts against the published engine; keeps the last few loaded (by content)."""

    def __init__(self, keep: int = 8, concurrent: int = 2) -> None:
        self._keep = keep
        self._cache: OrderedDict[tuple[str, int], LoadedDraft] = OrderedDict()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(concurrent)

    def load(self, draft: Draft, published: ruleengine.Engine) -> LoadedDraft:
        """The draft loaded beside `published` (raises `LookupError` for an unknown base)."""
        cache_key = (draft.key, id(published))
        with self._lock:
            found = self._cache.get(cache_key)
            if found is not None and found.published is published:
                self._cache.move_to_end(cache_key)
                return found
        rs = published.ruleset(draft.ruleset)  # NotFoundError for an unknown rule set
        base = rs.get(draft.base)
        if base is None:
            raise ruleengine.NotFoundError("version", draft.base, [v.version for v in rs.versions])
        known = frozenset(published_files(base))
        problems = draft_problems(draft, known)
        if problems:
            loaded = LoadedDraft(draft, tuple(problems), published=published)
        else:
            with self._slots:
                loaded = self._compile(draft, published, rs)
        with self._lock:
            self._cache[cache_key] = loaded
            while len(self._cache) > self._keep:
                self._cache.popitem(last=False)
        return loaded

    def _compile(
        self, draft: Draft, published: ruleengine.Engine, rs: ruleengine.RuleSet
    ) -> LoadedDraft:
        with tempfile.TemporaryDirectory(prefix="ruleengine-draft-") as folder:
            root = Path(folder).resolve() / draft.base
            for name, text in draft.files:
                path = root / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, "utf-8", errors="surrogatepass")
            try:
                engine = ruleengine.load(root, clock=published.clock)
            except RuleFileError as exc:
                diagnostics = tuple(_relocate(d, root) for d in exc.diagnostics)
                return LoadedDraft(draft, diagnostics, published=published)
        (version,) = (v for r in engine.rulesets.values() for v in r.versions)
        conflicts = _conflicts(draft, version, rs)
        if conflicts:
            return LoadedDraft(draft, tuple(conflicts), published=published)
        others = [v for v in rs.versions if v.version != draft.base]
        rulesets = dict(published.rulesets)
        rulesets[draft.ruleset] = ruleengine.RuleSet.of(draft.ruleset, [*others, version])
        combined = ruleengine.Engine(rulesets, published.clock, published.root)
        return LoadedDraft(draft, (), version, combined, published)


def draft_root(loaded: LoadedDraft) -> str:
    """The prefix of the draft's file names in its locations (its temporary folder + '/')."""
    assert loaded.version is not None
    return loaded.version.root.rstrip("/") + "/"
