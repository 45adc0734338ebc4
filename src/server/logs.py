"""Structured logs: one JSON object per line, carrying the request id of the request
being served (a context variable set by `middleware.RequestContext`).

`ruleengine serve` hands uvicorn a logging config naming `JsonFormatter`, so
uvicorn's own lines are JSON too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
import traceback
from contextvars import ContextVar
from typing import Any

from ruleengine.jsonio import string_json

request_id: ContextVar[str] = ContextVar("request_id", default="-")

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "color_message"}
)


_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "request_id"?, ...extra}` on one line."""

    _second = -1
    _second_text = ""

    def format(self, record: logging.LogRecord) -> str:
        fields: str | None = record.__dict__.get("_json")
        if fields is not None and not record.exc_info:
            # The extra fields already written as JSON (the access log's, per request):
            # the same line as below, without encoding them again.
            return self.line(
                record.created, record.levelname, record.name, record.getMessage(), fields
            )
        out: dict[str, Any] = {
            "time": self._when(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid != "-":
            out["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key[0] != "_":
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(out)

    def line(self, created: float, level: str, logger: str, message: str, fields: str) -> str:
        """The line of a record made at `created` whose extra fields are already JSON
        text (`"a": 1, "b": "x"`): what `format` makes of such a record, without one."""
        rid = request_id.get()
        return (
            f'{{"time": "{self._when(created)}", "level": {string_json(level.lower())}, '
            f'"logger": {string_json(logger)}, "message": {string_json(message)}, '
            + (f'"request_id": {string_json(rid)}, ' if rid != "-" else "")
            + fields
            + "}"
        )

    def _when(self, created: float) -> str:
        # One line per request (the access log): the time's text is made once a second.
        second = int(created)
        if second != self._second:
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._second_text}.{int((created - second) * 1000):03d}Z"


class LoopBatchedHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes the lines logged on an event loop once per loop
    iteration, with one write (the access log writes a line per request: a write and a
    flush each cost more than the line). Lines logged elsewhere (other threads, start-up)
    are written at once, after any held ones, so the order is kept. Held lines are
    written at the end of the iteration, on `flush()` and on `close()`; a `kill -9`
    loses at most the lines of that one iteration (the decision log is written and
    synced on its own, before answers; see decision_log.py)."""

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._held: list[str] = []
        self._scheduled = False

    def emit(self, record: logging.LogRecord) -> None:  # called with self.lock held
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._held.append(line)
            self._write()
            return
        self._held.append(line)
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._drain)

    def emit_line(self, line: str) -> None:
        """Write a line already formatted (without its terminator) as `emit` writes
        a record's: the access log's fast path (see `direct_handler`)."""
        with self.lock:  # type: ignore[union-attr]
            self._held.append(line + self.terminator)
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self._write()
                return
            if not self._scheduled:
                self._scheduled = True
                loop.call_soon(self._drain)

    def _drain(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._scheduled = False
            self._write()

    def _write(self) -> None:
        if not self._held:
            return
        text = "".join(self._held)
        self._held.clear()
        try:
            self.stream.write(text)
            self.stream.flush()
        except Exception:  # like StreamHandler.handleError: a broken stream breaks no request
            if logging.raiseExceptions:
                traceback.print_exc()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._write()


def direct_handler(logger: logging.Logger) -> LoopBatchedHandler | None:
    """The one handler a record of `logger` at INFO would reach, when that is this
    module's `LoopBatchedHandler` with `JsonFormatter` and nothing else sees the
    record (no filters, no other handler on the way): then a caller may write the
    formatted line to it directly, without a `LogRecord`. None otherwise (a test's
    capturing handler, a logging configuration of the operator's own)."""
    if logger.handlers or logger.filters or not logger.propagate:
        return None
    parent = logger.parent
    if parent is None or parent.propagate or parent.filters or len(parent.handlers) != 1:
        return None
    handler = parent.handlers[0]
    if (
        type(handler) is not LoopBatchedHandler
        or handler.filters
        or handler.level > logging.INFO
        or type(handler.formatter) is not JsonFormatter
    ):
        return None
    return handler


def configure_logging(level: str = "info") -> None:
    """JSON lines on stderr for the `server` loggers (idempotent)."""
    logger = logging.getLogger("server")
    logger.setLevel(level.upper())
    if not any(getattr(h, "_ruleengine", False) for h in logger.handlers):
        handler = LoopBatchedHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._ruleengine = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
