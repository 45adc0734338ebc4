"""uvicorn's HTTP protocol with read deadlines, and one write per answer.

A client must send a request's headers
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


class CoalescingTransport(asyncio.Transport):
    """A connection's transport that writes a response's head together with the first
    piece of its body, so a whole answer goes out in one `write` (uvicorn writes the
    head on `http.response.start` and the body on `http.response.body`: two system
    calls where one does). Only the first write of each response is held, and no
    longer than the next write, the response's end (`flush()`) or the connection's
    close; everything else (`100 Continue`, protocol-level errors, streamed chunks)
    goes out at once."""

    def __init__(self, transport: asyncio.Transport, protocol: HttpToolsProtocol) -> None:
        super().__init__()
        self._transport = transport
        self._protocol = protocol
        self._held: bytes | None = None
        self._headed: object = None  # the request cycle whose head was last held

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
            return
        cycle = self._protocol.cycle
        if (
            cycle is not None
            and cycle is not self._headed
            and cycle.response_started
            and not cycle.response_complete
        ):
            self._headed = cycle  # its first write: the head
            self._held = bytes(data)
            return
        self._transport.write(data)

    def flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():
                self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + len(self._held or b"")

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()


class DeadlineProtocol(HttpToolsProtocol):
    """uvicorn's protocol with read deadlines, and one write per answer
    (`CoalescingTransport`).

    One timer per connection, not one per phase: a phase only sets when it ends
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
        self.transport = CoalescingTransport(transport, self)
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

    def on_response_complete(self) -> None:
        if isinstance(self.transport, CoalescingTransport):
            self.transport.flush()  # a head whose body wrote nothing (HEAD, 204, 304)
        super().on_response_complete()
