"""The server's log lines (server/logs.py): JSON, and written once per loop iteration."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading

import pytest

from server.logs import JsonFormatter, LoopBatchedHandler


class Counting(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _logger(stream: Counting) -> tuple[logging.Logger, LoopBatchedHandler]:
    handler = LoopBatchedHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.server.batched")
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger, handler


def test_lines_of_one_loop_iteration_are_written_together_in_order() -> None:
    stream = Counting()
    logger, handler = _logger(stream)

    async def requests() -> None:
        for i in range(5):
            logger.info("request", extra={"n": i})
        assert stream.writes == 0  # held until the iteration ends
        await asyncio.sleep(0)
        assert stream.writes == 1
        logger.info("request", extra={"n": 5})
        # a line logged by another thread is written at once, after the held one
        other = threading.Thread(target=logger.info, args=("thread",))
        other.start()
        other.join()
        assert stream.writes == 2
        logger.info("request", extra={"n": 6})

    asyncio.run(requests())
    handler.flush()  # what logging.shutdown does at exit: nothing held is lost
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line.get("n", line["message"]) for line in lines] == [0, 1, 2, 3, 4, 5, "thread", 6]


def test_outside_an_event_loop_each_line_is_written_at_once() -> None:
    stream = Counting()
    logger, _ = _logger(stream)
    logger.warning("start-up")
    assert stream.writes == 1
    assert json.loads(stream.getvalue())["message"] == "start-up"


def test_the_access_line_is_the_line_its_fields_make() -> None:
    """The access log writes its fields as JSON once (`_json`); the line is the one the
    formatter makes from the fields themselves, whatever they hold."""
    from starlette.types import Scope

    from server import middleware
    from server.logs import request_id

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep()
    middleware.log.addHandler(keep)
    token = request_id.set('r-"1"')
    try:
        scope: Scope = {"method": "POST", "client": ("::1", 5)}
        middleware._log_access(scope, '/v1/rulesets/é"\\n/x', "unmatched", 404, 0.0012345)
        middleware._log_access({"method": "GET"}, "/healthz", "/healthz", 200, 1e-7)
        formatter = JsonFormatter()
        for record in records:
            fast = formatter.format(record)
            del record.__dict__["_json"]
            assert fast == formatter.format(record)
            assert json.loads(fast)["request_id"] == 'r-"1"'
    finally:
        request_id.reset(token)
        middleware.log.removeHandler(keep)
    assert len(records) == 2


def test_the_access_record_is_the_one_make_record_makes() -> None:
    import time

    from server import middleware

    before = time.time()
    fast = middleware._record({"route": "/healthz"})
    made = middleware.log.makeRecord(
        middleware.log.name, logging.INFO, "", 0, "request", (), None, extra={"route": "/healthz"}
    )
    assert vars(fast).keys() == vars(made).keys()
    same = ("name", "levelno", "levelname", "msg", "thread", "threadName", "process", "route")
    assert all(getattr(fast, key) == getattr(made, key) for key in same)
    assert before <= fast.created <= made.created
    assert abs(fast.relativeCreated - made.relativeCreated) < 1000
    assert fast.msecs == int((fast.created - int(fast.created)) * 1000)


def test_the_access_line_goes_straight_to_the_servers_own_handler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the server's logging set-up (one `LoopBatchedHandler` with `JsonFormatter` on
    the parent logger) the access line skips the `LogRecord` and is the same line; any
    other set-up (a handler of its own, a filter, another formatter) gets the record."""
    from server import middleware
    from server.logs import direct_handler, request_id

    stream = Counting()
    parent = logging.getLogger("tests.server.direct")
    access = logging.getLogger("tests.server.direct.access")
    handler = LoopBatchedHandler(stream)
    handler.setFormatter(JsonFormatter())
    parent.handlers, parent.propagate, access.handlers = [handler], False, []
    parent.setLevel(logging.INFO)
    assert direct_handler(access) is handler
    for spoil, undo in (
        (lambda: access.addHandler(logging.NullHandler()), lambda: setattr(access, "handlers", [])),
        (lambda: parent.addFilter(lambda r: True), lambda: setattr(parent, "filters", [])),
        (
            lambda: handler.setFormatter(logging.Formatter()),
            lambda: handler.setFormatter(JsonFormatter()),
        ),
        (lambda: setattr(parent, "propagate", True), lambda: setattr(parent, "propagate", False)),
    ):
        spoil()
        assert direct_handler(access) is None
        undo()

    monkeypatch.setattr(middleware, "log", access)
    monkeypatch.setattr(middleware, "_TEMPLATES", {})  # records made for this logger
    token = request_id.set("r-9")
    try:
        scope = {"method": "POST", "client": ("::1", 5)}
        middleware._log_access(scope, '/v1/rulesets/é"\\n/x', "unmatched", 404, 0.0012345)
        monkeypatch.setattr(middleware, "direct_handler", lambda logger: None)
        middleware._log_access(scope, '/v1/rulesets/é"\\n/x', "unmatched", 404, 0.0012345)
    finally:
        request_id.reset(token)
    direct, made = (json.loads(line) for line in stream.getvalue().splitlines())
    assert direct.pop("time")[:10] == made.pop("time")[:10]
    assert direct == made
    assert direct["request_id"] == "r-9" and direct["path"] == '/v1/rulesets/é"\\n/x'
