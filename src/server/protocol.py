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
    """One timer per connection, not one per phase: a phase only sets when it ends
    (`_expires`), and the timer, when it fires, closes the connection if the phase is
    still on and past its end, or sleeps again until the end. So a keep-alive connection
    serving many requests makes and cancels no timer per request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout, self._body_timeout = _deadlines()
        self._timer: asyncio.TimerHandle | None = None
        self._phase = ""  # headers | body | "" (none: between requests)
        self._seconds = 0.0
        self._expires = 0.0
        self._timer_at = 0.0  # when `_timer` fires

    def _arm(self, seconds: float, phase: str) -> None:
        if seconds <= 0:
            self._phase = ""
            return
        self._phase, self._seconds = phase, seconds
        self._expires = self.loop.time() + seconds
        if self._timer is not None and self._timer_at > self._expires:
            self._timer.cancel()  # a shorter phase: the timer must fire sooner
            self._timer = None
        if self._timer is None:
            self._timer_at = self._expires
            self._timer = self.loop.call_at(self._expires, self._check)

    def _disarm(self) -> None:
        self._phase = ""

    def _check(self) -> None:
        self._timer = None
        if not self._phase:
            return  # between requests: the next one arms it again
        if self.loop.time() < self._expires:  # a later phase moved the end
            self._timer_at = self._expires
            self._timer = self.loop.call_at(self._expires, self._check)
            return
        if not self.transport.is_closing():
            log.info(
                "connection closed: request %s not received within %gs",
                self._phase,
                self._seconds,
                extra={"client": self.client[0] if self.client else "-"},
            )
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self._header_timeout, "headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
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
