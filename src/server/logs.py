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
        # One line per request (the access log): the time's text is made once a second.
        second = int(record.created)
        if second != self._second:
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        when = f"{self._second_text}.{int(record.msecs):03d}Z"
        rid = request_id.get()
        fields: str | None = record.__dict__.get("_json")
        if fields is not None and not record.exc_info:
            # The extra fields already written as JSON (the access log's, per request):
            # the same line as below, without encoding them again.
            return (
                f'{{"time": "{when}", "level": {string_json(record.levelname.lower())}, '
                f'"logger": {string_json(record.name)}, '
                f'"message": {string_json(record.getMessage())}, '
                + (f'"request_id": {string_json(rid)}, ' if rid != "-" else "")
                + fields
                + "}"
            )
        out: dict[str, Any] = {
            "time": when,
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if rid != "-":
            out["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key[0] != "_":
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(out)


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
