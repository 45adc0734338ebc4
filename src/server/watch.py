"""Reload triggers that run beside the server, in every worker process.

`RulesWatcher` watches the rules folder (watchfiles) and reloads only once every
file under it has been stable (same size and modification time) for a settle
time, so a file written slowly is never loaded half-written; a published
version also loads only when its bytes match versions.lock (engine.load), which
no partial file does. When the server is run
with several workers, a signal folder they share: `POST /v1/admin/reload` in one
worker reloads that worker, then touches a file in the signal folder so every
other worker reloads too. Each worker runs its own watcher thread, started and
stopped with the app's lifespan.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from watchfiles import DefaultFilter, watch

from .store import VersionStore

log = logging.getLogger("server.watch")

SIGNAL_FILE = "reload"


def signal_reload(folder: Path) -> None:
    """Tell every worker sharing `folder` to reload (the sender's pid, so it can skip)."""
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f".{SIGNAL_FILE}.{os.getpid()}"
    staged.write_text(f"{os.getpid()} {time.time_ns()}\n", encoding="utf-8")
    os.replace(staged, folder / SIGNAL_FILE)


def _signal_sender(folder: Path) -> int | None:
    try:
        return int((folder / SIGNAL_FILE).read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return None


class RulesWatcher:
    def __init__(
        self,
        store: VersionStore,
        rules: Path | None,
        signal: Path | None,
        timing: tuple[int, int] = (300, 1000),
    ) -> None:
        """`timing`: (debounce, settle) in ms: quiet time before a change is reported, and
        how long every file must then stay unchanged before the reload."""
        self.store = store
        self.rules = rules.resolve() if rules is not None else None
        self.signal = signal.resolve() if signal is not None else None
        self.debounce_ms, self.settle_ms = timing
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        paths = [p for p in (self.rules, self.signal) if p is not None]
        if not paths or self._thread is not None:
            return
        if self.signal is not None:
            self.signal.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(
            target=self._run, args=(paths,), name="rules-watcher", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self, paths: list[Path]) -> None:
        log.info("watching for rule changes", extra={"paths": [str(p) for p in paths]})
        try:
            for changes in watch(
                *paths,
                watch_filter=DefaultFilter(),
                debounce=max(self.debounce_ms, 1),
                step=min(50, max(self.debounce_ms, 1)),
                stop_event=self._stop,
                rust_timeout=500,
                yield_on_timeout=False,
                raise_interrupt=False,
            ):
                self._changed({Path(p) for _, p in changes})
        except Exception:  # a dead watcher must not take the server down; say so
            if not self._stop.is_set():
                log.exception("rules watcher stopped")

    def _changed(self, changed: set[Path]) -> None:
        in_rules = self.rules is not None and any(
            p == self.rules or self.rules in p.parents for p in changed
        )
        signalled = self.signal is not None and any(
            p.parent == self.signal and p.name == SIGNAL_FILE for p in changed
        )
        if (
            signalled
            and not in_rules
            and self.signal
            and _signal_sender(self.signal) == os.getpid()
        ):
            return  # our own admin reload: already done
        if in_rules and not self._settled():
            return  # stopping
        if in_rules or signalled:
            self.store.reload("watch" if in_rules else "signal")

    def _settled(self) -> bool:
        """Wait until no file under the rules folder has changed for the settle time;
        False if the watcher is stopped meanwhile."""
        assert self.rules is not None
        seen = fingerprint(self.rules)
        while not self._stop.wait(self.settle_ms / 1000):
            now = fingerprint(self.rules)
            if now == seen:
                return True
            seen = now
        return False


def fingerprint(folder: Path) -> frozenset[tuple[str, int, int]]:
    """(path, size, mtime in ns) of every file under folder: equal twice = nothing written."""
    out = set()
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                stat = os.stat(path)
            except OSError:  # removed meanwhile: the next look sees that
                continue
            out.add((path, stat.st_size, stat.st_mtime_ns))
    return frozenset(out)
