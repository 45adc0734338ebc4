"""Structured logs: one JSON object per line, carrying the request id of the request
being served (a context variable set by `middleware.RequestContext`).

`ruleengine serve` hands uvicorn a logging config naming `JsonFormatter`, so
uvicorn's own lines are JSON too.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from contextvars import ContextVar
from typing import Any

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
        out: dict[str, Any] = {
            "time": f"{self._second_text}.{int(record.msecs):03d}Z",
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


def configure_logging(level: str = "info") -> None:
    """JSON lines on stderr for the `server` loggers (idempotent)."""
    logger = logging.getLogger("server")
    logger.setLevel(level.upper())
    if not any(getattr(h, "_ruleengine", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._ruleengine = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
