"""A cache of checked versions on disk, shared by the processes that load the same rules.

A server with several workers loads (and reloads) the same rules in every worker:
YAML, validation, parsing and type checking are most of a load (about 1.5 of 1.8
CPU-s for 10,000 rules). With a cache folder, the first process to load a version
writes its checked program (the checker's output: the model, every parsed and typed
expression, the tables' values, the cost bounds) to `<key>.pickle`; the others read
it and only compile it (the generated Python is made again from the checked program
in every process, so what runs is always what the compiler makes of the checked
rules). A process that finds no entry takes the key's lock file while it builds, so
that workers loading at once wait for the first one's entry instead of all building.

The key is a sha256 over what decides the checked program: this build of the engine
(its version, the bytes of every module and schema of the package, the Python
version) and every file of the version as read (its name as displayed, which
diagnostics and explanations show, and its text). An entry holds its key and a
sha256 of its payload: a truncated, corrupted or foreign entry, an entry that does
not unpickle or is not a checked version of that content, is ignored (counted as
`ignored`, logged) and the version is built again and the entry rewritten.

The folder is made 0700 and entries are written 0600, atomically (a temporary file
renamed into place). The cache reads only a folder and entries that belong to this
user and that nobody else may write; entries are pickles, so a folder others can
write into would let them run code in the loader (it is then not used, with a
warning). The source positions of the model (for diagnostics and explanations)
come back lazily: an entry keeps each file's text, parsed again only if a position
is asked for.

Public entries: `checked_program(paths, root, cache)` (what the engine's load calls),
`CompiledCache(folder)`, `configured(folder)` (the cache to use: the folder given,
else `$RULEENGINE_COMPILED_CACHE`, else none) and `STATS` (hits, misses, writes,
ignored entries, in this process).
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import hashlib
import io
import logging
import os
import pickle
import stat
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, cast

from .checker import CheckedVersion, check_version
from .errors import RuleFileError
from .limits import version_limit_problems
from .loader import DataPath, Document, load_documents, over_bytes, parse_document
from .model import Limits
from .validate import content_hash, validate_version

ENV = "RULEENGINE_COMPILED_CACHE"
CacheDir = str | os.PathLike[str] | None
MAGIC = b"ruleengine checked version 1\n"
log = logging.getLogger("ruleengine.compiled_cache")
# In this process: "hit", "miss", "write", "ignored" (an unusable entry), "unsafe" (a
# folder or entry others could write), "unpicklable" (a version that could not be saved).
STATS: Counter[str] = Counter()


@functools.cache
def build_id() -> str:
    """What makes this engine: its version, every file of the package, the Python version."""
    digest = hashlib.sha256()
    try:
        digest.update(metadata.version("ruleengine").encode())
    except metadata.PackageNotFoundError:
        digest.update(b"(no metadata)")
    digest.update(sys.version.encode() + b"\0" + str(pickle.HIGHEST_PROTOCOL).encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".lark", ".json") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


class LazyDocument:
    """A document's positions, parsed again from its text when first asked for (the
    stand-in for a `loader.Document` in a cached model)."""

    def __init__(self, file: str, text: str):
        self.file = file
        self.text = text
        self._doc: Document | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        return LazyDocument, (self.file, self.text)

    def _parsed(self) -> Document:
        if self._doc is None:
            self._doc = parse_document(self.text, self.file)
        return self._doc

    def pos(self, path: DataPath) -> tuple[int, int]:
        return self._parsed().pos(path)

    def key_pos(self, path: DataPath) -> tuple[int, int]:
        return self._parsed().key_pos(path)

    def offset_pos(self, path: DataPath, offset: int) -> tuple[int, int]:
        return self._parsed().offset_pos(path, offset)

    def index_pos(self, index: int) -> tuple[int, int]:
        return self._parsed().index_pos(index)


class _Pickler(pickle.Pickler):
    """Documents as their text; notes the typed nodes met (the checker keys types by id)."""

    def __init__(self, file: io.BytesIO, types: dict[int, Any]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.types = types
        self.typed: list[Any] = []

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is Document:
            return LazyDocument, (obj.file, obj.text)
        if id(obj) in self.types and kind.__module__ == "ruleengine.nodes":
            self.typed.append(obj)
        how = _rebuilt_by(kind)
        if how is None:
            return NotImplemented
        # Rebuilt by calling the class: about three times faster to unpickle than the
        # state setter that dataclasses give frozen classes with slots.
        names, keywords = how
        values = tuple([getattr(obj, name) for name in names])
        return (_call_with_keywords, (kind, keywords, values)) if keywords else (kind, values)


def _call_with_keywords(kind: type, keywords: int, values: tuple[Any, ...]) -> Any:
    """`kind(...)`, the last `keywords` values passed by name (keyword-only fields)."""
    how = _rebuilt_by(kind)
    if how is None:  # not a class this cache writes so
        raise pickle.UnpicklingError(f"{kind.__qualname__} is not rebuilt by calling it")
    names = how[0]
    split = len(values) - keywords
    return kind(*values[:split], **dict(zip(names[split:], values[split:], strict=True)))


_REBUILT: dict[type, tuple[tuple[str, ...], int]] = {}


def _rebuilt_by(kind: type) -> tuple[tuple[str, ...], int] | None:
    """A dataclass's fields (positional ones first) and how many are keyword-only, if
    calling the class with them rebuilds an instance: every field is an __init__
    argument and nothing runs after __init__. None for any other class."""
    found = _REBUILT.get(kind)
    if found is not None or kind in _NOT_REBUILT:
        return found
    fields = dataclasses.fields(kind) if dataclasses.is_dataclass(kind) else ()
    if not fields or hasattr(kind, "__post_init__") or not all(f.init for f in fields):
        _NOT_REBUILT.add(kind)
        return None
    ordered = [f for f in fields if not f.kw_only] + [f for f in fields if f.kw_only]
    found = _REBUILT[kind] = (tuple(f.name for f in ordered), sum(1 for f in fields if f.kw_only))
    return found


_NOT_REBUILT: set[type] = set()


def _dumps(checked: CheckedVersion) -> bytes:
    """The checked version without its id-keyed types, then (node, type) pairs; one pickler,
    so that the nodes of the pairs are the nodes of the program."""
    buffer = io.BytesIO()
    pickler = _Pickler(buffer, checked.types)
    pickler.dump(dataclasses.replace(checked, types={}))
    pickler.dump([(node, checked.types[id(node)]) for node in pickler.typed])
    return buffer.getvalue()


def _loads(payload: bytes) -> CheckedVersion | None:
    unpickler = pickle.Unpickler(io.BytesIO(payload))
    checked = unpickler.load()
    pairs = unpickler.load()
    if type(checked) is not CheckedVersion or type(pairs) is not list:
        return None
    return dataclasses.replace(checked, types={id(node): t for node, t in pairs})


def version_key(texts: Sequence[tuple[str, str]], checks: str = "") -> str:
    """The key of a version read as these (displayed name, text) files and checked so
    (`checks`: the limits it is checked with, as text)."""
    digest = hashlib.sha256(build_id().encode() + b"\0" + checks.encode() + b"\0")
    for name, text in texts:
        for part in (name, text):
            data = part.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def _private(st: os.stat_result) -> bool:
    """Owned by this user, and nobody else may write it (or, for an entry, read it)."""
    return st.st_uid == os.getuid() and not st.st_mode & (
        0o077 if stat.S_ISREG(st.st_mode) else 0o022
    )


class CompiledCache:
    """Checked versions in `folder` (made 0700 if missing)."""

    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)

    def usable(self) -> bool:
        """Make the folder if needed; False (with a warning) if others could write into it."""
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            st = self.folder.stat()
        except OSError as exc:
            log.warning("compiled cache %s not used: %s", self.folder, exc)
            return False
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            os.chmod(self.folder, 0o700)  # ours: made private
        elif not _private(st):
            STATS["unsafe"] += 1
            log.warning("compiled cache %s not used: other users may write into it", self.folder)
            return False
        return True

    def read(self, key: str) -> CheckedVersion | None:
        """The entry of `key`, or None when missing or unusable (then rebuilt)."""
        path = self.folder / f"{key}.pickle"
        try:
            with open(path, "rb") as handle:
                if not _private(os.fstat(handle.fileno())):
                    STATS["unsafe"] += 1
                    log.warning("compiled cache entry %s ignored: not private to this user", path)
                    return None
                data = handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("compiled cache entry %s ignored: %s", path, exc)
            return None
        head = len(MAGIC) + 130  # magic, key and payload digest (64 hex digits and a newline each)
        payload = data[head:]
        if (
            data[: len(MAGIC)] != MAGIC
            or data[len(MAGIC) : head]
            != f"{key}\n".encode() + hashlib.sha256(payload).hexdigest().encode() + b"\n"
        ):
            STATS["ignored"] += 1
            log.warning("compiled cache entry %s ignored: damaged or not this version's", path)
            return None
        try:
            return _loads(payload)
        except Exception as exc:  # an entry that does not load is rebuilt
            STATS["ignored"] += 1
            log.warning("compiled cache entry %s ignored: %s: %s", path, type(exc).__name__, exc)
            return None

    def write(self, key: str, checked: CheckedVersion) -> None:
        try:
            payload = _dumps(checked)
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as exc:
            STATS["unpicklable"] += 1
            log.warning("compiled cache: %s not saved: %s", checked.model.root, exc)
            return
        digest = hashlib.sha256(payload).hexdigest()
        fd, scratch = tempfile.mkstemp(prefix=".writing-", dir=self.folder)  # 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(MAGIC + f"{key}\n{digest}\n".encode() + payload)
            os.replace(scratch, self.folder / f"{key}.pickle")
        except OSError as exc:
            log.warning("compiled cache: %s not saved: %s", checked.model.root, exc)
            Path(scratch).unlink(missing_ok=True)
            return
        STATS["write"] += 1

    @contextmanager
    def locked(self, key: str) -> Iterator[None]:
        """Hold the key's lock: one process builds a version, the others wait for its entry."""
        fd = os.open(self.folder / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock


class Entry:
    """One version's place in the cache: `checked` if it was there; `store` after a build."""

    def __init__(self, cache: CompiledCache | None, key: str, texts: list[tuple[str, str]]) -> None:
        self.cache = cache
        self.key = key
        self.texts = texts
        self.checked: CheckedVersion | None = None

    def store(self, documents: Sequence[Document], checked: CheckedVersion) -> None:
        """Save what was built, if it was built from the very texts the key was made of."""
        if self.cache is None:
            return
        if [(d.file, d.text) for d in documents] != self.texts:
            log.info("compiled cache: %s changed while loading, not saved", checked.model.root)
            return
        self.cache.write(self.key, checked)


def _texts(paths: Sequence[tuple[Path, str]]) -> list[tuple[str, str]] | None:
    texts = []
    for path, shown in paths:
        try:
            texts.append((shown, path.read_bytes().decode("utf-8")))
        except (OSError, UnicodeDecodeError):
            return None  # the load reports it
    return texts


@contextmanager
def checked_entry(
    cache: CompiledCache | None, paths: Sequence[tuple[Path, str]], checks: str = ""
) -> Iterator[Entry]:
    """The cache entry of the version made of these (file, displayed name) paths, locked
    while the caller builds it when missing. With no cache: an entry that is never there."""
    texts = _texts(paths) if cache is not None else None
    if cache is None or texts is None or not cache.usable():
        yield Entry(None, "", [])
        return
    key = version_key(texts, checks)
    entry = Entry(cache, key, texts)
    with cache.locked(key):
        found = cache.read(key)
        if found is not None and _matches(found, texts):
            STATS["hit"] += 1
            log.info("compiled cache: %s read from %s", found.model.root, cache.folder)
            entry.checked = found
        else:
            STATS["miss"] += 1
        yield entry


def _matches(checked: CheckedVersion, texts: list[tuple[str, str]]) -> bool:
    """The entry is the checked version of exactly these files: its content hash is theirs."""
    model = checked.model
    files = cast(list[Document], [LazyDocument(name, text) for name, text in texts])
    if model.content_hash != content_hash(files, model.root):
        STATS["ignored"] += 1
        log.warning("compiled cache entry for %s ignored: other content", model.root)
        return False
    return True


def configured(folder: CacheDir = None) -> CompiledCache | None:
    """The cache in `folder`, else in `$RULEENGINE_COMPILED_CACHE`, else None."""
    chosen = folder if folder is not None else os.environ.get(ENV) or None
    return CompiledCache(chosen) if chosen is not None else None


def checked_program(
    paths: Sequence[tuple[Path, str]],
    root: str,
    cache: CompiledCache | None,
    limits: Limits | None = None,
) -> CheckedVersion:
    """The checked program of the version made of these (file, displayed name) paths, its
    folder displayed as `root`: read from the cache (if checked with the same `limits`),
    else loaded, validated and checked (and written to the cache). Raises `RuleFileError`
    as those phases do, and `version_too_large` past the limits per version."""
    limits = limits or Limits()
    too_many_bytes = over_bytes(paths, limits.max_version_bytes)
    if too_many_bytes is not None:  # not read, let alone parsed
        raise RuleFileError([too_many_bytes])
    # Checked under other limits, a version may pass or fail otherwise: its own entry.
    with checked_entry(cache, paths, repr(limits)) as entry:
        if entry.checked is not None and entry.checked.limits == limits:
            return entry.checked
        documents = load_documents(paths)
        model = validate_version(documents[0], documents[1:], root)
        too_large = version_limit_problems(model, limits)
        if too_large:  # neither checked nor compiled
            raise RuleFileError(too_large)
        checked = check_version(model, limits)
        entry.store(documents, checked)
        return checked
