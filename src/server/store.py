"""The version store: the loaded rule versions the service decides with, and reloads.

A `Snapshot` (an immutable engine plus when and how it was loaded) is swapped in
by one reference assignment, so a request reads `store.snapshot` once and sees
one set of versions from start to end. A reload loads, validates and compiles
every file under the rules folder *before* swapping; if anything is wrong, the
running snapshot stays, and the failed attempt (with every diagnostic) is kept
for `GET /v1/rulesets/{ruleset}`, the log and the metrics.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import ruleengine
from ruleengine import Code, Diagnostic, RuleFileError

log = logging.getLogger("server.store")

Loader = Callable[[], ruleengine.Engine]
ReloadListener = Callable[["ReloadAttempt"], None]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One immutable, fully compiled set of rule sets and versions."""

    engine: ruleengine.Engine
    generation: int
    loaded_at: str


@dataclass(frozen=True, slots=True)
class ReloadAttempt:
    """What one load or reload did."""

    number: int
    trigger: str  # startup | watch | admin | signal
    time: str
    ok: bool
    seconds: float
    errors: tuple[Diagnostic, ...] = ()
    versions: tuple[tuple[str, str, str], ...] = field(default=())  # (ruleset, version, hash)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "trigger": self.trigger,
            "time": self.time,
            "ok": self.ok,
            "seconds": round(self.seconds, 6),
            "errors": [d.to_json() for d in self.errors],
        }

    def errors_for(self, roots: tuple[str, ...]) -> ReloadAttempt:
        """This attempt as seen from one rule set: only diagnostics in its own folders,
        or every diagnostic when none can be placed (the whole reload failed for it)."""
        if not self.errors:
            return self
        mine = tuple(
            d for d in self.errors if any(d.file == r or d.file.startswith(r + "/") for r in roots)
        )
        if not mine:
            return self
        return ReloadAttempt(
            self.number, self.trigger, self.time, self.ok, self.seconds, mine, self.versions
        )


class VersionStore:
    """Holds the current snapshot; `reload()` swaps in a new one only if it loads cleanly."""

    def __init__(self, loader: Loader, engine: ruleengine.Engine | None = None) -> None:
        self._loader = loader
        self._lock = threading.Lock()
        self._listeners: list[ReloadListener] = []
        self._attempts = 0
        self.snapshot: Snapshot | None = Snapshot(engine, 0, _now()) if engine is not None else None
        self.last_reload: ReloadAttempt | None = None

    @property
    def ready(self) -> bool:
        return self.snapshot is not None

    def on_reload(self, listener: ReloadListener) -> None:
        self._listeners.append(listener)

    def reload(self, trigger: str) -> ReloadAttempt:
        """Load everything anew; swap it in if, and only if, every file is valid."""
        with self._lock:  # one reload at a time; requests never wait on this lock
            self._attempts += 1
            start = time.perf_counter()
            try:
                engine = self._loader()
            except RuleFileError as exc:
                attempt = ReloadAttempt(
                    self._attempts,
                    trigger,
                    _now(),
                    False,
                    time.perf_counter() - start,
                    exc.diagnostics,
                )
            except Exception as exc:  # an engine bug must not take the running rules down
                log.exception("reload crashed", extra={"trigger": trigger})
                attempt = ReloadAttempt(
                    self._attempts,
                    trigger,
                    _now(),
                    False,
                    time.perf_counter() - start,
                    (Diagnostic(Code.LOAD_CRASHED, f"{type(exc).__name__}: {exc}", ""),),
                )
            else:
                versions = tuple(
                    (rs.name, v.version, v.content_hash)
                    for rs in engine.rulesets.values()
                    for v in rs.versions
                )
                generation = self.snapshot.generation + 1 if self.snapshot else 1
                self.snapshot = Snapshot(engine, generation, _now())  # the atomic swap
                attempt = ReloadAttempt(
                    self._attempts,
                    trigger,
                    _now(),
                    True,
                    time.perf_counter() - start,
                    versions=versions,
                )
            self.last_reload = attempt
        self._report(attempt)
        return attempt

    def _report(self, attempt: ReloadAttempt) -> None:
        if attempt.ok:
            log.info(
                "rules loaded",
                extra={
                    "trigger": attempt.trigger,
                    "attempt": attempt.number,
                    "seconds": round(attempt.seconds, 3),
                    "versions": [f"{r}@{v} {h}" for r, v, h in attempt.versions],
                },
            )
        else:
            log.error(
                "rules not loaded; the running versions stay",
                extra={
                    "trigger": attempt.trigger,
                    "attempt": attempt.number,
                    "errors": [d.headline() for d in attempt.errors],
                },
            )
        for listener in self._listeners:
            try:
                listener(attempt)
            except Exception:  # a listener must never break a reload
                log.exception("reload listener failed")
