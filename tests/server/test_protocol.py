"""server/protocol.py: one write per answer (CoalescingTransport)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from server.protocol import CoalescingTransport


class Recording(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0


def _pair() -> tuple[CoalescingTransport, Recording, SimpleNamespace]:
    raw = Recording()
    protocol = SimpleNamespace(cycle=None)
    return CoalescingTransport(raw, cast(HttpToolsProtocol, protocol)), raw, protocol


def _cycle(started: bool = True) -> SimpleNamespace:
    return SimpleNamespace(response_started=started, response_complete=False)


def test_a_head_and_its_body_go_out_in_one_write() -> None:
    transport, raw, protocol = _pair()
    for n in range(2):  # two requests on one keep-alive connection
        protocol.cycle = _cycle()
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        assert raw.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}"] * n  # held
        transport.write(memoryview(b"{}"))
        protocol.cycle.response_complete = True
        transport.flush()  # the response's end: nothing is left to write
    assert raw.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}"] * 2


def test_only_the_first_write_of_a_response_is_held() -> None:
    transport, raw, protocol = _pair()
    protocol.cycle = _cycle()
    for chunk in (b"head", b"one", b"two", b"three"):  # a streamed answer
        transport.write(chunk)
    assert raw.writes == [b"headone", b"two", b"three"]


def test_writes_outside_a_response_are_not_held() -> None:
    transport, raw, protocol = _pair()
    transport.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")  # no request cycle yet
    protocol.cycle = _cycle(started=False)
    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # before the app's answer starts
    assert raw.writes == [b"HTTP/1.1 400 Bad Request\r\n\r\n", b"HTTP/1.1 100 Continue\r\n\r\n"]


def test_a_held_head_is_written_at_the_end_or_on_close_and_dropped_on_abort() -> None:
    transport, raw, protocol = _pair()
    protocol.cycle = _cycle()
    transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")  # a body that writes nothing
    assert transport.get_write_buffer_size() == len(b"HTTP/1.1 204 No Content\r\n\r\n")
    transport.flush()
    protocol.cycle = _cycle()
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.close()
    assert raw.writes == [b"HTTP/1.1 204 No Content\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n"]
    transport, raw, protocol = _pair()
    protocol.cycle = _cycle()
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.abort()
    transport.flush()
    assert raw.writes == []
