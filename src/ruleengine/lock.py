"""The lock of published versions: `rules/<ruleset>/versions.lock`.

`ruleengine publish` writes it; everything that loads rules reads it. A
version folder listed in the lock is *published*: its files must stay byte for
byte as recorded (a sha256 per file, and the version's content hash), or
`check` reports `published_version_changed` and nothing serves it. A version
folder of a locked rule set that is not listed is a *draft*. A rule set with no
lock at all has not adopted publishing: its versions are `unlocked` and are
served as they are (as before locks existed).

The lock is JSON (schemas/versions-lock.schema.json), sorted and indented so a
publish shows up in review as a small diff. Public entries: `LockBook` (reads
and caches the locks of a rules folder) and `write_locks`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from .errors import Code, Diagnostic, RuleFileError

LOCK_NAME = "versions.lock"
LOCK_FORMAT = 1
Status = Literal["published", "draft", "unlocked"]
OVERRIDES = ("backdated", "breaking")


def sha256_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _display(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


@dataclass(frozen=True, slots=True)
class LockedVersion:
    """One published version as the lock records it."""

    version: str
    folder: str  # relative to the lock's folder, posix
    effective_from: date
    content_hash: str
    published_on: date
    overrides: tuple[str, ...]
    files: tuple[tuple[str, str], ...]  # (path relative to the version folder, sha256), sorted

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "folder": self.folder,
            "effective_from": self.effective_from.isoformat(),
            "content_hash": self.content_hash,
            "published_on": self.published_on.isoformat(),
            "overrides": sorted(self.overrides),
            "files": dict(sorted(self.files)),
        }


@dataclass(frozen=True, slots=True)
class Lock:
    """The lock of one rule set: where it is and what it lists."""

    ruleset: str
    path: Path
    versions: tuple[LockedVersion, ...]  # by effective_from, earliest first

    def entry(self, folder: str) -> LockedVersion | None:
        return next((v for v in self.versions if v.folder == folder), None)

    def label(self, version: str) -> LockedVersion | None:
        return next((v for v in self.versions if v.version == version), None)

    def text(self) -> str:
        body = {
            "lock_format": LOCK_FORMAT,
            "ruleset": self.ruleset,
            "versions": [
                v.to_json()
                for v in sorted(self.versions, key=lambda v: (v.effective_from, v.version))
            ],
        }
        return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def file_hashes(vdir: Path, files: Iterable[Path]) -> dict[str, str]:
    """sha256 of the manifest and every rule file of a version folder, by relative path."""
    out: dict[str, str] = {}
    for path in [vdir / "manifest.yaml", *files]:
        try:
            data = path.read_bytes()
        except OSError:
            data = b""
        out[path.relative_to(vdir).as_posix()] = sha256_bytes(data)
    return dict(sorted(out.items()))


def differences(recorded: Mapping[str, str], current: Mapping[str, str]) -> list[str]:
    """The files that differ from what was recorded: `name (changed|added|removed)`."""
    out = []
    for name in sorted({*recorded, *current}):
        if name not in current:
            out.append(f"{name} (removed)")
        elif name not in recorded:
            out.append(f"{name} (added)")
        elif recorded[name] != current[name]:
            out.append(f"{name} (changed)")
    return out


def _line_of(text: str, needle: str) -> int:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def _bad_lock(path: Path, message: str, line: int = 1, column: int = 1) -> RuleFileError:
    return RuleFileError(
        [
            Diagnostic(
                Code.BAD_LOCK,
                message,
                _display(path),
                line,
                column,
                "versions.lock is written by `ruleengine publish`; restore it from version control",
            )
        ]
    )


def read_lock(path: Path) -> Lock | None:
    """The lock at `path`, None when there is none; `RuleFileError` (bad_lock) when unreadable."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad_lock(path, f"cannot read the lock: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad_lock(path, f"not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    from .schema_check import schema_validator

    errors = sorted(  # the most precise first
        schema_validator("versions-lock").iter_errors(data), key=lambda e: -len(e.path)
    )
    if errors:
        error = errors[0]
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        line = _line_of(text, f'"{error.absolute_path[-1]}"') if error.absolute_path else 1
        raise _bad_lock(path, f"at {where}: {error.message}", line)
    versions = []
    for item in data["versions"]:
        try:
            effective, published = (
                date.fromisoformat(item["effective_from"]),
                date.fromisoformat(item["published_on"]),
            )
        except ValueError as exc:
            line = _line_of(text, f'"folder": {json.dumps(item["folder"])}')
            raise _bad_lock(path, f"version {item['version']!r}: {exc}", line) from None
        versions.append(
            LockedVersion(
                item["version"],
                item["folder"],
                effective,
                item["content_hash"],
                published,
                tuple(item["overrides"]),
                tuple(sorted(item["files"].items())),
            )
        )
    return Lock(data["ruleset"], path, tuple(sorted(versions, key=lambda v: v.effective_from)))


class LockBook:
    """The locks of a rules folder, read once each (a version's lock sits beside its folder)."""

    def __init__(self) -> None:
        self._locks: dict[Path, Lock | RuleFileError | None] = {}

    def lock_for(self, vdir: Path) -> Lock | None:
        """The lock governing version folder `vdir`; raise RuleFileError if it is unreadable."""
        path = vdir.parent / LOCK_NAME
        found = self._locks.get(path, ...)
        if found is ...:
            try:
                found = read_lock(path)
            except RuleFileError as exc:
                found = exc
            self._locks[path] = found
        if isinstance(found, RuleFileError):
            raise found
        return found

    def locks(self) -> list[Lock]:
        return [lock for lock in self._locks.values() if isinstance(lock, Lock)]

    def problems(self, root: Path, version_dirs: list[Path]) -> list[Diagnostic]:
        """Each unreadable lock once, and the published versions missing under root."""
        found: list[Diagnostic] = []
        for path, lock in sorted(self._locks.items()):
            if isinstance(lock, RuleFileError):
                found.extend(lock.diagnostics)
            elif lock is not None and (path.parent == root or root in path.parent.parents):
                folders = {v.name for v in version_dirs if v.parent == path.parent}
                found.extend(missing_versions(lock, folders))
        return found


def foreign_lock(lock: Lock | None, ruleset: str, manifest: str) -> list[Diagnostic]:
    """A version beside the lock of another rule set."""
    if lock is None or lock.ruleset == ruleset:
        return []
    return [
        Diagnostic(
            Code.BAD_LOCK,
            f"this version belongs to rule set {ruleset!r}, but the versions.lock beside its "
            f"folder is the lock of {lock.ruleset!r}",
            manifest,
            1,
            1,
            "keep each rule set in its own folder, rules/<ruleset>/<version>/",
        )
    ]


def draft_folders(version_dirs: Iterable[Path]) -> set[Path]:
    """The version folders among these that are drafts (left out of a bundle)."""
    book = LockBook()
    drafts = set()
    for vdir in version_dirs:
        try:
            lock = book.lock_for(vdir)
        except RuleFileError:
            continue  # loading reports it
        if status_of(lock, vdir)[0] == "draft":
            drafts.add(vdir)
    return drafts


def status_of(lock: Lock | None, vdir: Path) -> tuple[Status, LockedVersion | None]:
    if lock is None:
        return "unlocked", None
    entry = lock.entry(vdir.name)
    return ("published", entry) if entry is not None else ("draft", None)


def changed_diagnostic(entry: LockedVersion, vdir: Path, changed: list[str]) -> Diagnostic:
    files = ", ".join(changed)
    return Diagnostic(
        Code.PUBLISHED_VERSION_CHANGED,
        f"version {entry.version!r} was published on {entry.published_on} "
        f"(versions.lock) and must not change; differs in: {files}",
        _display(vdir / "manifest.yaml"),
        1,
        1,
        "undo the edit (e.g. `git checkout` the folder) and make the change in a new "
        "version folder with a later effective_from, then `ruleengine publish` it",
    )


def verify_published(entry: LockedVersion, vdir: Path, files: Iterable[Path]) -> list[Diagnostic]:
    """Nothing when the folder holds exactly the published bytes; else where it differs."""
    changed = differences(dict(entry.files), file_hashes(vdir, files))
    return [changed_diagnostic(entry, vdir, changed)] if changed else []


def missing_versions(lock: Lock, folders: set[str]) -> list[Diagnostic]:
    """Published versions whose folder is gone (a published version is never deleted)."""
    text = _read_text(lock.path)
    return [
        Diagnostic(
            Code.PUBLISHED_VERSION_MISSING,
            f"version {v.version!r} of {lock.ruleset!r} is published (versions.lock) "
            f"but its folder {v.folder!r} is missing",
            _display(lock.path),
            _line_of(text, f'"folder": {json.dumps(v.folder)}'),
            1,
            "restore the folder from version control: answers were given under this version",
        )
        for v in lock.versions
        if v.folder not in folders
    ]


def _read_text(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except OSError:
        return ""


def write_locks(locks: Iterable[Lock]) -> None:
    """Write each lock through a temporary file in its folder (a reader never sees half)."""
    for lock in locks:
        fd, temp = tempfile.mkstemp(dir=lock.path.parent, prefix=f".{LOCK_NAME}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(lock.text())
            os.chmod(temp, 0o644)
            os.replace(temp, lock.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
