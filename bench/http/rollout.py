"""Rollout across replicas: three `ruleengine serve --bundle URL` replicas poll one
bundle server; a load generator decides through them round-robin without pause while
a new bundle is published. Measures the time from publishing to the last replica
serving the new bundle (its content hash in the answers), and counts failed requests.

    .venv/bin/python bench/http/rollout.py [--replicas 3] [--poll 1] [--rounds 3]

Prints one line per round and the worst round; exit 1 if any request failed.
"""

from __future__ import annotations

import argparse
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
RULEENGINE = Path(sys.executable).parent / "ruleengine"
sys.path.insert(0, str(Path(__file__).parent))
from bench import FACTS, free_port  # noqa: E402


def build(rules: Path, out: Path, discount: str) -> str:
    """Bundle rules/example with the platinum discount set to `discount`; its hashes."""
    folder = rules / discount
    shutil.copytree(ROOT / "rules" / "example", folder / "example", dirs_exist_ok=True)
    for file in (folder / "example").rglob("tables.yaml"):
        text = file.read_text()
        file.write_text(text.replace("[platinum, 0.12]", f"[platinum, {discount}]"))
    done = subprocess.run(
        [str(RULEENGINE), "bundle", str(folder), "-o", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@contextmanager
def bundle_server(folder: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/rules.tar.gz"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def replica(url: str, poll: float, log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(RULEENGINE),
                "serve",
                "--bundle",
                url,
                "--bundle-poll",
                str(poll),
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("replica did not become ready:\n" + log.read_text())
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            process.wait(15)


def one_round(bases: list[str], served: Path, staging: Path) -> tuple[float | None, int, int]:
    """Publish `staging` under load; (seconds to the last replica switching, requests, failed)."""
    seen: dict[str, str] = {}
    before: set[str] = set()
    stop = threading.Event()
    counts = {"requests": 0, "failed": 0}
    published_at: list[float] = []
    switched: dict[str, float] = {}

    def load(base: str) -> None:
        with httpx.Client(base_url=base, timeout=10) as http:
            while not stop.is_set():
                answer = http.post("/v1/rulesets/example/decisions/quote", json={"input": FACTS})
                counts["requests"] += 1
                if answer.status_code != 200:
                    counts["failed"] += 1
                    continue
                content_hash = answer.json()["content_hash"]
                if published_at and content_hash not in before:
                    switched.setdefault(base, time.monotonic())
                seen[base] = content_hash

    threads = [threading.Thread(target=load, args=(b,)) for b in bases for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    before = set(seen.values())
    os.replace(staging, served / "rules.tar.gz")  # publish: one rename
    published_at.append(time.monotonic())
    deadline = published_at[0] + 60
    while len(switched) < len(bases) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join()
    last = max(switched.values()) - published_at[0] if len(switched) == len(bases) else None
    return last, counts["requests"], counts["failed"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--poll", type=float, default=1.0, help="--bundle-poll of each replica")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rollout-") as scratch, ExitStack() as stack:
        tmp = Path(scratch)
        served = tmp / "served"
        served.mkdir()
        build(tmp / "rules", served / "rules.tar.gz", "0.12")
        url = stack.enter_context(bundle_server(served))
        bases = [
            stack.enter_context(replica(url, args.poll, tmp / f"replica{i}.log"))
            for i in range(args.replicas)
        ]
        worst = 0.0
        failed_total = requests_total = 0
        for round_ in range(args.rounds):
            discount = f"0.{13 + round_}"
            staging = tmp / "staging.tar.gz"
            build(tmp / "rules", staging, discount)
            last, requests, failed = one_round(bases, served, staging)
            if last is None:
                raise SystemExit(f"round {round_ + 1}: not every replica switched in 60 s")
            worst = max(worst, last)
            failed_total += failed
            requests_total += requests
            print(
                f"round {round_ + 1}: last of {len(bases)} replicas serving the new bundle "
                f"{last:.2f} s after publishing (poll {args.poll:g} s); "
                f"{requests} requests, {failed} failed"
            )
        print(
            f"worst: {worst:.2f} s; {requests_total} requests, {failed_total} failed "
            f"({os.cpu_count()} CPUs, replicas and load generator on one machine)"
        )
        if failed_total:
            sys.exit(1)


if __name__ == "__main__":
    main()
