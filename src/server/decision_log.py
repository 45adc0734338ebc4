"""The decision log: one JSON line per decision, and no answer before its line is written.

A request serializes its lines (`entry()`), then awaits `commit()`, which returns only
once they are handed to the OS (group commit). Without fsync, the lines queued by the
requests of one event-loop iteration are appended with one `os.write` by a callback at
its end (no thread hop: the write is a copy into the page cache). With `fsync`, one
writer thread takes every line queued meanwhile and appends them with one `os.write`
and one `fsync` per batch, off the event loop. Either way a decision a client was
answered for is in the file, whatever happens to the process afterwards (`kill -9`
included); with `fsync`, whatever happens to the machine.

If the file cannot be written (full disk, unopenable path), `on_error="fail"` (the
default) makes `commit()` raise `DecisionLogUnavailable` (the server answers 503 and
/readyz says not ready) until a write succeeds again; `on_error="continue"` answers
anyway. Either way the failure is one error line in the log when it starts and one
when it ends, plus a metric per lost line, never a traceback per request.

The file is created 0600. With `max_bytes`, a file that would grow past it is renamed
to `<name>.<UTC time>` first (under a lock file, so the workers of one server agree)
and a new file started: rotation keeps every line. Lines follow `DESIGN.md`:
`{"decision_id", "time", "ruleset", "decision", "version", "content_hash", "as_of",
"locale", "input", "result"}`, which `ruleengine test --log` and `ruleengine diff`
read back. Input fields a rule set declares `sensitive` are written as
`"hmac-sha256:<hex>"` (keyed with the configured key; see `redact.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ruleengine
from ruleengine import Decision, jsonio

from .redact import Redactor

log = logging.getLogger("server.decision_log")

RETRY_SECONDS = 1.0  # how often a failing log tries its file again when no request does
FOLLOW_SECONDS = 0.1  # how often a write checks whether the file was rotated or moved away


class DecisionLogUnavailable(Exception):
    """The lines of this commit were not written (and the log fails closed)."""


def _ignore(count: int) -> None:
    return None


class DecisionLog:
    def __init__(
        self,
        path: Path,
        *,
        fsync: bool = False,
        on_error: str = "fail",
        max_bytes: int = 0,
        on_lost: Callable[[int], None] = _ignore,
        hmac_key: bytes | None = None,
    ) -> None:
        if on_error not in ("fail", "continue"):
            raise ValueError(f"on_error must be 'fail' or 'continue', not {on_error!r}")
        self.path = Path(path)
        self.fsync = fsync
        self.fail_closed = on_error == "fail"
        self.max_bytes = max_bytes
        self._on_lost = on_lost
        self.redactor = Redactor(hmac_key)
        self._cond = threading.Condition()
        # (bytes, future, loop) or (bytes, None, None) for a caller that does not wait
        self._pending: list[tuple[bytes, asyncio.Future[None] | None, Any]] = []
        self._closing = False
        self._thread: threading.Thread | None = None
        self._fd: int | None = None
        self._followed_at = 0.0  # when `_open` last checked the path is still our file
        self._io = threading.Lock()  # file operations: the loop's writes, the thread's probes
        self.error: str | None = None  # why the last write failed; None while healthy
        self._failed_at = "write"  # open | write: what failed last
        self._outage = False  # failing since the last error line (no write succeeded since)
        # fsync off: lines queued by the requests of one event-loop iteration, written by
        # one callback at its end (no thread hop: the write itself is a copy to the page cache)
        self._on_loop: list[tuple[bytes, asyncio.Future[None]]] = []
        self._flush_scheduled = False

    @property
    def healthy(self) -> bool:
        return self.error is None

    def start(self) -> None:
        if self._thread is None:
            self._closing = False
            self._try_open()
            self._thread = threading.Thread(target=self._run, name="decision-log", daemon=True)
            self._thread.start()

    # --- the request side ---------------------------------------------------------

    def entry(
        self,
        engine: ruleengine.Engine,
        decision_id: str,
        decision: Decision,
        input: Any,
        result_json: str | None = None,
        source: str | None = None,
    ) -> bytes:
        """The log line of one decision, its `sensitive` input fields hashed;
        `result_json`, when given, is the answer's result as JSON text (encoded once
        for the answer and the line), and `source` the input's JSON text as the client
        sent it (on one line), written as it is when nothing in it is to be hashed."""
        plan = self.redactor.plan(engine, decision)
        if plan:
            return self.line(decision_id, decision, self.redactor.apply(plan, input), result_json)
        if source is None or result_json is None:
            return self.line(decision_id, decision, input, result_json)
        d = decision
        names = jsonio.names_json(d.ruleset, d.decision, d.version, d.content_hash, spaced=True)
        text = (
            f'{{"decision_id": "{decision_id}", "time": "{_now_text()}", {names}, '
            f'"as_of": "{decision.as_of.isoformat()}", '
            f'"locale": {jsonio.string_json(decision.locale)}, '
            f'"input": {source}, "result": {result_json}}}\n'
        )
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # text no UTF-8 can hold: written as JSON escapes
            return self.line(decision_id, decision, input, result_json)

    @staticmethod
    def line(
        decision_id: str,
        decision: Decision,
        input: Any,
        result_json: str | None = None,
        when: datetime | None = None,
    ) -> bytes:
        """The log line of one decision; `input` as received (after redaction)."""
        when = when or datetime.now(UTC)
        if result_json is None:
            result_json = jsonio.dumps_exact(jsonio.to_plain(decision.result))
        entry = {
            "decision_id": decision_id,
            "time": when.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "ruleset": decision.ruleset,
            "decision": decision.decision,
            "version": decision.version,
            "content_hash": decision.content_hash,
            "as_of": decision.as_of.isoformat(),
            "locale": decision.locale,
            "input": input,  # numbers stay numbers, with their digits
        }
        # "result" (the wire form of the answer) comes last, spliced in as JSON text
        tail = f', "result": {result_json}}}\n'
        try:
            return (jsonio.dumps_exact(entry)[:-1] + tail).encode("utf-8")
        except UnicodeEncodeError:  # text no UTF-8 can hold: written as JSON escapes
            text = jsonio.dumps_exact(entry, ascii=True)[:-1] + tail
            return text.encode("utf-8", "backslashreplace")

    async def commit(self, lines: list[bytes], timeout: float | None = None) -> None:
        """Return once `lines` are handed to the OS (and synced, with `fsync`).

        Raise `DecisionLogUnavailable` if they could not be written and the log fails
        closed; with `on_error="continue"`, return anyway (the loss is counted). With
        `fsync`, raise `TimeoutError` after `timeout` seconds (a stalled disk); without,
        the lines are written at the end of this event-loop iteration, on the loop."""
        if not lines:
            return
        if self._thread is None:
            raise DecisionLogUnavailable("the decision log is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        data = b"".join(lines)
        if not self.fsync:
            self._on_loop.append((data, future))
            if not self._flush_scheduled:
                self._flush_scheduled = True
                loop.call_soon(self._flush_on_loop)
        else:
            with self._cond:
                self._pending.append((data, future, loop))
                self._cond.notify()
            if timeout is not None:
                await asyncio.wait_for(future, timeout)
                return
        await future

    def _flush_on_loop(self) -> None:
        batch, self._on_loop = self._on_loop, []
        self._flush_scheduled = False
        failure = self._write(b"".join(data for data, _ in batch), batch_lines(batch))
        _resolve([f for _, f in batch], failure if self.fail_closed else None)

    def close(self, timeout: float = 10.0) -> None:
        """Write everything queued, then stop the writer and close the file."""
        thread = self._thread
        if thread is not None:
            with self._cond:
                self._closing = True
                self._cond.notify()
            thread.join(timeout)
            self._thread = None
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    # --- the writer thread ----------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    if not self._cond.wait(RETRY_SECONDS if self.error else None):
                        break  # failing and idle: try the file again
                batch, self._pending = self._pending, []
                closing = self._closing
            if batch:
                self._write_batch(batch)
            elif self.error is not None:
                self._probe()
            if closing and not batch:
                return

    def _write_batch(self, batch: list[tuple[bytes, asyncio.Future[None] | None, Any]]) -> None:
        failure = self._write(b"".join(item[0] for item in batch), batch_lines(batch))
        by_loop: dict[Any, list[asyncio.Future[None]]] = {}
        for _, future, loop in batch:
            if future is not None:
                by_loop.setdefault(loop, []).append(future)
        for loop, futures in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                loop.call_soon_threadsafe(_resolve, futures, failure if self.fail_closed else None)

    def _write(self, data: bytes, lines: int) -> str | None:
        """Append `data` in one write (and fsync); why it failed, or None."""
        with self._io:
            kind = "open"
            try:
                fd = self._open()
                kind = "write"
                self._append(fd, data)
            except OSError as exc:
                self._close_fd()  # the next batch opens the file again
                failure = f"{exc.strerror or type(exc).__name__} ({self.path.name})"
                self._set_state(failure, lines, kind)
                return failure
            self._set_state(None, 0)
            return None

    def _set_state(self, failure: str | None, lines: int, kind: str = "write") -> None:
        """A failed (`failure`) or successful write: one error line when an outage
        starts, one line when a write succeeds again, nothing in between."""
        if failure is not None:
            self._on_lost(lines)
            if not self._outage:
                log.error(
                    "decision log cannot be written",
                    extra={
                        "error": failure,
                        "then": "decisions answered 503 until it can"
                        if self.fail_closed
                        else "decisions answered anyway; lost lines counted",
                    },
                )
            self._outage = True
            self.error, self._failed_at = failure, kind
        elif self._outage:
            log.warning("decision log writable again", extra={"after": self.error})
            self._outage = False
            self.error = None

    def _try_open(self) -> None:
        with self._io:
            try:
                self._open()
            except OSError as exc:
                failure = f"{exc.strerror or type(exc).__name__} ({self.path.name})"
                self._set_state(failure, 0, "open")

    def _probe(self) -> None:
        """Failing and idle: say ready again once the cause looks gone (the file opens;
        the disk has room), so traffic comes back and a write can prove it."""
        with self._io:
            try:
                fd = self._open()
                if self._failed_at == "write":
                    room = os.fstatvfs(fd)
                    if room.f_bavail * room.f_frsize < 1024 * 1024:
                        return
            except OSError:
                return
            self.error = None

    def _open(self, follow: bool = False) -> int:
        """The file's descriptor: opened (created 0600) if needed, again if it was rotated
        (checked at most every `FOLLOW_SECONDS`, or now with `follow`: two system calls
        a write would cost more than the write; a line written meanwhile to the file
        another worker just renamed is in that file, so none is lost)."""
        if self._fd is not None:
            now = time.monotonic()
            if not follow and now - self._followed_at < FOLLOW_SECONDS:
                return self._fd
            self._followed_at = now
            try:
                if os.stat(self.path).st_ino == os.fstat(self._fd).st_ino:
                    return self._fd
            except FileNotFoundError:
                pass
            self._close_fd()  # another worker rotated it (or it was moved away): follow
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._fd

    def _close_fd(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def _append(self, fd: int, data: bytes) -> None:
        if self.max_bytes and os.fstat(fd).st_size + len(data) > self.max_bytes:
            fd = self._rotate(fd)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if self.fsync:
            os.fsync(fd)

    def _rotate(self, fd: int) -> int:
        """Rename the full file aside (once, whichever worker gets there first); open anew."""
        lock = os.open(
            self.path.with_name(self.path.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600
        )
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same and os.fstat(fd).st_size > 0:
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
                target = self.path.with_name(f"{self.path.name}.{stamp}")
                n = 0
                while target.exists():
                    n += 1
                    target = self.path.with_name(f"{self.path.name}.{stamp}-{n}")
                os.rename(self.path, target)
                log.info("decision log rotated", extra={"to": target.name})
            return self._open(follow=True)
        finally:
            os.close(lock)


def _now_text() -> str:
    """The current UTC time as a log line writes it: `2026-12-07T02:35:00.123456Z`."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def batch_lines(batch: list[Any]) -> int:
    return sum(item[0].count(b"\n") for item in batch)


def _resolve(futures: list[asyncio.Future[None]], failure: str | None) -> None:
    for future in futures:
        if future.done():  # the request was cancelled (client gone)
            continue
        if failure is None:
            future.set_result(None)
        else:
            future.set_exception(DecisionLogUnavailable(failure))
