"""HTTP defaults a security review expects: security headers, allowed hosts, /docs
served from the package, throttled admin logins, bounded answers, no file-system
paths in /readyz, and read deadlines that close half-sent requests."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import ruleengine
from server.app import create_app

from .conftest import EXAMPLE, FACTS, URL, errors_of, settings
from .live import serve_process


def test_security_headers(client: TestClient) -> None:
    decision = client.post(URL.format("quote"), json={"input": FACTS})
    health = client.get("/healthz")
    for response in (decision, health, client.get("/playground")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Request-ID"]
    assert decision.headers["Cache-Control"] == "no-store"
    assert "Cache-Control" not in health.headers
    policy = client.get("/playground").headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "Content-Security-Policy" not in decision.headers
    # Error answers of the decision routes carry them too, each header once.
    single = client.post(URL.format("quote"), json={"input": {}}, headers={"X-Request-ID": "r-7"})
    batch = client.post(URL.format("quote") + "/batch", json={"inputs": {}})
    for refused in (single, batch):
        assert refused.status_code == 422
        assert refused.headers["X-Content-Type-Options"] == "nosniff"
        assert refused.headers["Cache-Control"] == "no-store"
        assert len(refused.headers.get_list("X-Request-ID")) == 1
    assert single.headers["X-Request-ID"] == "r-7"


def test_allowed_hosts(example_engine: ruleengine.Engine) -> None:
    app = create_app(
        engine=example_engine, settings=settings(allowed_hosts="decisions.example.com,*.internal")
    )
    with TestClient(app) as client:
        for host, status in [
            ("decisions.example.com", 200),
            ("decisions.example.com:8443", 200),
            ("svc.internal", 200),
            ("evil.example.net", 400),
            ("decisions.example.com.evil.net", 400),
        ]:
            response = client.get("/healthz", headers={"Host": host})
            assert response.status_code == status, host
        [error] = errors_of(client.get("/healthz", headers={"Host": "evil.example.net"}), 400)
        assert error["code"] == "invalid_host"


def test_docs_work_offline(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    script = client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
    assert script.headers["content-type"].startswith("text/javascript")
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    assert client.get("/docs/assets/..%2F__init__.py").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_failed_admin_logins_are_throttled(example_engine: ruleengine.Engine) -> None:
    app = create_app(
        engine=example_engine, settings=settings(admin_token="right", admin_max_failures=3)
    )
    with TestClient(app) as client:
        wrong = {"Authorization": "Bearer wrong"}
        for _ in range(3):
            errors_of(client.post("/v1/admin/reload", headers=wrong), 401)
        refused = client.post("/v1/admin/reload", headers={"Authorization": "Bearer right"})
        [error] = errors_of(refused, 429)
        assert error["code"] == "too_many_requests"
        assert int(refused.headers["Retry-After"]) > 0


def test_explain_on_batch_and_answers_are_bounded(example_engine: ruleengine.Engine) -> None:
    app = create_app(
        engine=example_engine, settings=settings(max_batch_explain=5, max_response_bytes=4000)
    )
    with TestClient(app) as client:
        batch = URL.format("quote") + "/batch"
        ok = client.post(batch, json={"inputs": [FACTS] * 5, "explain": False})
        assert ok.status_code == 200
        [error] = errors_of(client.post(batch, json={"inputs": [FACTS] * 6, "explain": True}), 413)
        assert (error["code"], error["path"]) == ("batch_too_large", "inputs")
        assert "with explain" in error["message"]
        assert client.post(batch, json={"inputs": [FACTS] * 6}).status_code == 200
        [error] = errors_of(client.post(batch, json={"inputs": [FACTS] * 40}), 413)
        assert error["code"] == "response_too_large"


def test_readyz_shows_no_file_system_path(example_copy: Path) -> None:
    app = create_app(settings=settings(rules=example_copy.parent))
    (example_copy / "2026-07" / "tables.yaml").write_text("tables: [")
    with TestClient(app) as client:
        client.app.state.services.store.reload("admin")  # type: ignore[attr-defined]
        body = client.get("/readyz").text
    assert "example/2026-07/tables.yaml" in body
    assert str(example_copy.parent) not in body


# --- read deadlines, on a real server ----------------------------------------------------


def _closed_within(sock: socket.socket, seconds: float) -> float:
    """Seconds until the server closed `sock` (reading EOF), failing past `seconds`."""
    sock.settimeout(seconds)
    start = time.monotonic()
    while True:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - start
        except ConnectionResetError:
            return time.monotonic() - start
        except TimeoutError:
            pytest.fail(f"connection still open after {seconds} s")


@pytest.mark.live
def test_half_sent_requests_are_closed(tmp_path: Path) -> None:
    env = {"RULEENGINE_HEADER_TIMEOUT_SECONDS": "1", "RULEENGINE_BODY_TIMEOUT_SECONDS": "1"}
    log = tmp_path / "server.log"
    with serve_process(EXAMPLE, log, "--no-watch", env=env) as (base, _):
        port = int(base.rsplit(":", 1)[1])
        nothing = socket.create_connection(("127.0.0.1", port))
        half_headers = socket.create_connection(("127.0.0.1", port))
        half_headers.sendall(b"POST /v1/rulesets/example/decisions/quote HTTP/1.1\r\nHost: x\r\n")
        half_body = socket.create_connection(("127.0.0.1", port))
        half_body.sendall(
            b"POST /v1/rulesets/example/decisions/quote HTTP/1.1\r\nHost: x\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"input":'
        )
        for sock in (nothing, half_headers, half_body):
            assert _closed_within(sock, 10) < 9
            sock.close()
        time.sleep(0.5)
    text = log.read_text()
    assert text.count("client disconnected before sending the whole body") == 1
    assert "Traceback" not in text
    assert text.count("not received within 1s") == 3


def _read_response(sock: socket.socket) -> bytes:
    """One whole HTTP/1.1 answer (headers and Content-Length bytes of body)."""
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest


@pytest.mark.live
def test_read_deadlines_hold_on_a_keep_alive_connection(tmp_path: Path) -> None:
    """The deadlines start again with each request of a connection, whichever is shorter
    (one timer per connection, moved by each phase)."""
    env = {"RULEENGINE_HEADER_TIMEOUT_SECONDS": "3", "RULEENGINE_BODY_TIMEOUT_SECONDS": "1"}
    log = tmp_path / "server.log"
    body = b'{"input": {}}'
    request = (
        b"POST /v1/rulesets/example/decisions/quote HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    with serve_process(EXAMPLE, log, "--no-watch", env=env) as (base, _):
        port = int(base.rsplit(":", 1)[1])
        sock = socket.create_connection(("127.0.0.1", port))
        for _ in range(3):  # whole requests, each within its deadlines, over 4.5 s
            sock.sendall(request)
            answer = _read_response(sock)
            assert answer.startswith(b"HTTP/1.1 422")
            assert b"\r\nserver:" not in answer.lower()  # no software advertised
            time.sleep(1.5)
        sock.sendall(request[: request.index(b"\r\n\r\n") + 4] + b'{"in')  # half a body
        started = time.monotonic()
        assert _closed_within(sock, 10) < 2.5  # the body's 1 s, not the headers' 3 s
        assert time.monotonic() - started >= 0.5
        sock.close()
    assert "request body not received within 1s" in log.read_text()
