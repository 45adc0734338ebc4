"""Fixtures of the server tests: an app around the example rule set (fixed clock),
a private copy of rules/example for tests that change rule files, and the
helpers that check the error envelope."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import ruleengine
from server.app import create_app
from server.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "rules" / "example"
FIXED_TODAY = date(2026, 3, 15)

URL = "/v1/rulesets/example/decisions/{}"
FACTS: dict[str, Any] = {
    "customer": {
        "id": "c-1",
        "country": "US",
        "tier": "gold",
        "email_verified": True,
        "member_since": "2020-01-01",
    },
    "order": {"currency": "USD", "items": [{"sku": "A", "quantity": 3, "unit_price": "16.78"}]},
}


def settings(**overrides: Any) -> Settings:
    """Settings for in-process tests: no file watching, no access log, no environment."""
    values: dict[str, Any] = {"watch": False, "access_log": False, **overrides}
    return Settings(**values)


@pytest.fixture(scope="module")
def client(example_engine: ruleengine.Engine) -> Iterator[TestClient]:
    app = create_app(engine=example_engine, settings=settings())
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A private copy of rules/example (without its regression suites)."""
    target = tmp_path / "rules" / "example"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("tests", "versions.lock"))
    return target


def load_copy(path: Path) -> ruleengine.Engine:
    return ruleengine.load(path, clock=lambda: FIXED_TODAY)


def errors_of(response: Any, status: int) -> list[dict[str, Any]]:
    """The `errors` of a response, checking the status and the envelope's shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["errors"]
    assert body["errors"]
    for error in body["errors"]:
        assert (
            {"code", "path", "message"}
            <= set(error)
            <= {"code", "path", "message", "expected", "got"}
        )
        assert all(isinstance(v, str) for v in error.values())
    return list(body["errors"])


@contextmanager
def captured_logs(name: str) -> Iterator[list[logging.LogRecord]]:
    """The records logged under `name` while the block runs."""
    records: list[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Capture()
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


class Published:
    """What the test bundle server serves, and what it was asked."""

    def __init__(self) -> None:
        self.body = b""
        self.status = 200
        self.requests: list[str | None] = []  # the If-None-Match of each GET
        self.delay = 0.0  # seconds before answering

    def publish(self, body: bytes) -> None:
        self.body = body

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


@pytest.fixture
def bundle_server() -> Iterator[tuple[Published, str]]:
    published = Published()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked = self.headers.get("If-None-Match")
            published.requests.append(asked)
            time.sleep(published.delay)
            if published.status != 200:
                self.send_error(published.status)
                return
            if asked == published.etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", published.etag)
            self.send_header("Content-Length", str(len(published.body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client stopped reading
                self.wfile.write(published.body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield published, f"http://127.0.0.1:{server.server_address[1]}/rules.tar.gz"
    finally:
        server.shutdown()
        server.server_close()
