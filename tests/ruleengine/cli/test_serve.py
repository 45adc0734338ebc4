"""`ruleengine serve` really starts, answers a decision over HTTP, and stops."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]
RULEENGINE = Path(sys.executable).parent / "ruleengine"
FACTS = {
    "as_of": "2026-07-01",
    "customer": {
        "id": "c-1",
        "country": "ES",
        "tier": "platinum",
        "email_verified": True,
        "member_since": "2026-01-01",
    },
    "order": {"currency": "EUR", "items": [{"sku": "A", "quantity": 2, "unit_price": "30.00"}]},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.live
def test_serve_answers_a_decision(tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [str(RULEENGINE), "serve", "--rules", str(ROOT / "rules"), "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        response = httpx.post(
            f"{base}/v1/rulesets/example/decisions/quote", json={"input": FACTS}, timeout=10
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["version"] == "2026-07"
        # 60.00 * 0.12 = 7.20; free shipping from 50.00
        assert body["result"]["discount"] == "7.20"
        assert body["result"]["total"] == "52.80"
        missing = httpx.post(
            f"{base}/v1/rulesets/example/decisions/nope", json={"input": FACTS}, timeout=10
        )
        assert missing.status_code == 404
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
    assert process.returncode is not None


def test_serve_hands_the_bundle_to_every_worker(monkeypatch: Any) -> None:
    # Workers read their settings from the environment: --bundle and --bundle-poll must
    # land there before uvicorn starts them.
    import os

    import uvicorn

    from ruleengine.cli import serve

    names = ("RULEENGINE_RULES", "RULEENGINE_BUNDLE", "RULEENGINE_BUNDLE_POLL_SECONDS")
    for name in (*names, "RULEENGINE_WATCH", "RULEENGINE_LOG_LEVEL"):
        monkeypatch.setenv(name, "unset")  # restored after the test
    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        uvicorn, "run", lambda *a, **k: seen.update({n: os.environ.get(n) for n in names})
    )
    serve.command(bundle="https://rules.example/rules.tar.gz", bundle_poll=5.0)
    assert seen["RULEENGINE_BUNDLE"] == "https://rules.example/rules.tar.gz"
    assert float(seen["RULEENGINE_BUNDLE_POLL_SECONDS"]) == 5.0
