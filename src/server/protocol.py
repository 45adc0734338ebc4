"""uvicorn's HTTP protocol with read deadlines: a client must send a request's headers
within `header_timeout_seconds` of connecting (or of starting the request) and its body
within `body_timeout_seconds` of the headers, or the connection is closed.

uvicorn itself only times out idle keep-alive connections, so a client that sends half
a request line, or a body one byte at a time, holds a connection (and its memory) for
ever. `ruleengine serve` hands uvicorn this class by name (`http=`), as it does the app
factory; the deadlines come from the same `RULEENGINE_*` settings in every worker.
"""

from __future__ import annotations

import asyncio
import logging
from functools import cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .settings import Settings

log = logging.getLogger("server.access")


@cache
def _deadlines() -> tuple[float, float]:
    settings = Settings()
    return settings.header_timeout_seconds, settings.body_timeout_seconds


class DeadlineProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout, self._body_timeout = _deadlines()
        self._deadline: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float, phase: str) -> None:
        self._disarm()
        if seconds > 0:
            self._deadline = self.loop.call_later(seconds, self._expired, phase, seconds)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, phase: str, seconds: float) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            log.info(
                "connection closed: request %s not received within %gs",
                phase,
                seconds,
                extra={"client": self.client[0] if self.client else "-"},
            )
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self._header_timeout, "headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self._header_timeout, "headers")

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self._body_timeout, "body")

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()
