"""A real `ruleengine serve` process for tests: loopback, a free port, bounded waits,
always stopped."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx

RULEENGINE = Path(sys.executable).parent / "ruleengine"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(rules: Path, log: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `ruleengine serve` on `rules`; yield its base URL once /readyz says ready."""
    with serve_process(rules, log, *args, env=env) as (base, _):
        yield base


@contextmanager
def serve_process(
    rules: Path | None,
    log: Path,
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`serve`, yielding the process too (`rules` None: no --rules, e.g. for --bundle;
    `cwd`: the folder it runs in, which a relative `rules` is read from)."""
    port = free_port()
    out = log.open("w")
    process = subprocess.Popen(
        [
            str(RULEENGINE),
            "serve",
            *(["--rules", str(rules)] if rules is not None else []),
            "--port",
            str(port),
            *args,
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, "RULEENGINE_WATCH_DEBOUNCE_MS": "100", **(env or {})},
        cwd=cwd,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not become ready:\n" + log.read_text()
            time.sleep(0.1)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        out.close()


def wait_for(what: str, probe: Callable[[], T | None], seconds: float = 20.0) -> T:
    """Poll `probe` (every 50 ms, at most `seconds`) until it returns something."""
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def write_atomically(path: Path, text: str, staging: Path) -> None:
    """Replace a file in one rename, as deployment tools do (no half-written file)."""
    staging.mkdir(parents=True, exist_ok=True)
    temp = staging / path.name
    temp.write_text(text, "utf-8")
    shutil.move(str(temp), str(path))
