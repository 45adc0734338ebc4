"""HTTP benchmark: single and batch decisions against `ruleengine serve` and a bare
FastAPI echo endpoint (bench/http/echo.py: same uvicorn, one worker each) on loopback, at
a fixed concurrency, with the load generator (a minimal asyncio HTTP/1.1 client over
keep-alive connections) in its own process.

    .venv/bin/python bench/http/bench.py --concurrency 32 --seconds 4 --rounds 5 --workers 1

Every server is up for the whole run: the echo peer, `ruleengine serve` with the decision
log off, on (fsync off) and on with fsync. Each round sends the same single-decision body
to each of them in turn (the order rotates), then one batch round to the log-off server.
Prints each configuration's median round (requests/s, decisions/s, p50/p99 latency, the
server's CPU time per request) and the ratios: single / echo, log on / log off, and
batch decisions/s / single decisions/s. The servers run with their defaults otherwise
(JSON access log on, watcher on).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RULEENGINE = Path(sys.executable).parent / "ruleengine"
FACTS: dict[str, Any] = {
    "as_of": "2026-07-01",
    "customer": {
        "id": "c-1",
        "country": "US",
        "tier": "gold",
        "email_verified": True,
        "member_since": "2020-01-01",
    },
    "order": {
        "currency": "USD",
        "items": [
            {"sku": "A", "quantity": 3, "unit_price": "16.78"},
            {"sku": "B", "quantity": 1, "unit_price": "120.00"},
        ],
    },
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the load generator (its own process) -------------------------------------------


async def _connection(
    host: str, port: int, request: bytes, deadline: float, latencies: list[float]
) -> int:
    """One keep-alive HTTP/1.1 connection sending `request` until the deadline (a
    minimal client, so the generator spends its CPU on sending, not on parsing)."""
    reader, writer = await asyncio.open_connection(host, port)
    errors = 0
    try:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if not head.startswith(b"HTTP/1.1 200"):
                errors += 1
    finally:
        writer.close()
    return errors


async def _load(url: str, body: bytes, concurrency: int, seconds: float) -> dict[str, Any]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    warmup: list[float] = []
    await asyncio.gather(
        *(_connection(host, port, request, time.perf_counter() + 0.5, warmup) for _ in range(4))
    )
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds
    errors = sum(
        await asyncio.gather(
            *(_connection(host, port, request, deadline, latencies) for _ in range(concurrency))
        )
    )
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "warmup_requests": len(warmup),
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 2),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[max(int(len(latencies) * 0.99) - 1, 0)] * 1000, 2),
    }


def loadgen_command(url: str, body: Path, concurrency: int, seconds: float) -> list[str]:
    """The command that runs the load generator in its own process (it prints its
    figures as one JSON object)."""
    return [
        *(sys.executable, str(Path(__file__).resolve()), "--loadgen", url),
        *("--body", str(body), "--concurrency", str(concurrency), "--seconds", str(seconds)),
    ]


def loadgen_main(args: argparse.Namespace) -> None:
    body = Path(args.body).read_bytes()
    print(json.dumps(asyncio.run(_load(args.url, body, args.concurrency, args.seconds))))


# --- the driver ------------------------------------------------------------------------


def run_scenario(
    name: str, url: str, body: Any, per_request: int, args: argparse.Namespace, tmp: Path
) -> dict[str, Any]:
    path = tmp / f"{name}.json"
    path.write_text(json.dumps(body))
    pid = _PIDS.get(url.split("/v1/")[0].removesuffix("/echo"))
    cpu_before = _cpu_seconds(pid) if pid is not None else 0.0
    out = subprocess.run(
        loadgen_command(url, path, args.concurrency, args.seconds),
        capture_output=True,
        text=True,
        timeout=args.seconds + 120,
    )
    if out.returncode != 0:
        raise SystemExit(f"load generator failed ({name}):\n{out.stderr}")
    figures: dict[str, Any] = json.loads(out.stdout)
    figures["decisions_per_s"] = round(figures["requests_per_s"] * per_request, 1)
    pid = _PIDS.get(url.split("/v1/")[0].removesuffix("/echo"))
    if pid is not None:
        served = figures["requests"] + figures.pop("warmup_requests", 0)
        figures["server_cpu_us"] = round((_cpu_seconds(pid) - cpu_before) / served * 1e6, 1)
    return {"scenario": name, **figures}


# base URL -> pid of the server process (its workers are its children)
_PIDS: dict[str, int] = {}


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread) of `pid` and all its descendants."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, grew = {pid}, True
    while grew:
        more = {p for p, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(times.get(p, 0.0) for p in tree)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=100, help="inputs per batch request")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rules", default=str(ROOT / "rules" / "example"))
    parser.add_argument(
        "--decision",
        default="quote",
        help="decision of rules/example to ask for (quote, or checkout: same input, cheaper)",
    )
    parser.add_argument(
        "--no-log", action="store_true", help="skip the scenarios with the decision log on"
    )
    parser.add_argument(
        "--no-echo", action="store_true", help="skip the bare FastAPI echo endpoint (the peer)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="single-request rounds per configuration"
    )
    parser.add_argument(
        "--serve-option",
        action="append",
        default=[],
        metavar="OPTION",
        help="extra `ruleengine serve` option for every server (repeatable)",
    )
    parser.add_argument("--loadgen", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--body", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loadgen:
        args.url = args.loadgen
        loadgen_main(args)
        return

    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-http-") as scratch, ExitStack() as stack:
        tmp = Path(scratch)
        configs: list[tuple[str, list[str] | None]] = [("", [])]
        if not args.no_echo:
            configs.insert(0, ("echo", None))  # None: the bare FastAPI peer (echo.py)
        if not args.no_log:
            configs += [
                ("+log", ["--decision-log", str(tmp / "decisions.jsonl")]),
                ("+fsync", ["--decision-log", str(tmp / "synced.jsonl"), "--decision-log-fsync"]),
            ]
        # Every server is up for the whole run and the scenarios alternate round by round,
        # so a busy neighbour slows each configuration alike; the medians are compared.
        urls = {
            label: stack.enter_context(_server(args, tmp, extra, label)) for label, extra in configs
        }
        rounds: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in configs}
        batch = {"inputs": [FACTS] * args.batch}
        batch_rounds: list[dict[str, Any]] = []
        for round_ in range(args.rounds):
            order = configs[round_ % len(configs) :] + configs[: round_ % len(configs)]
            for label, _ in order:
                name = label if label == "echo" else "single" + label
                rounds[label].append(
                    run_scenario(name, urls[label], {"input": FACTS}, 1, args, tmp)
                )
            batch_rounds.append(
                run_scenario(
                    f"batch{args.batch}", urls[""] + "/batch", batch, args.batch, args, tmp
                )
            )
        results = [_median(runs) for runs in rounds.values()]
        results.append(_median(batch_rounds))
    _report(args, results)


def _report(args: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    print(
        f"ruleengine serve --workers {args.workers}, decision {args.decision} of rules/example, "
        f"loopback, concurrency {args.concurrency}, "
        f"{args.seconds:g} s per scenario, {os.cpu_count()} CPUs (load generator included), "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"{'scenario':<13} {'req/s':>9} {'decisions/s':>12} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'CPU us/req':>10} errors  rounds (req/s)"
    )
    for r in results:
        print(
            f"{r['scenario']:<13} {r['requests_per_s']:>9} {r['decisions_per_s']:>12} "
            f"{r['p50_ms']:>8} {r['p99_ms']:>8} {r['cpu_median']:>10} "
            f"{r['errors']:>6}  {', '.join(str(x) for x in r['rounds'])}"
        )
    by_name = {r["scenario"]: r for r in results}
    # Ratios within each round (the configurations of a round run seconds apart, so a busy
    # neighbour slows them alike), then the median over the rounds.
    against = (
        ("echo", "single", "single / bare FastAPI echo", 1),
        ("single", "single+log", "single+log / single (decision log off)", 1),
        ("single", "single+fsync", "single+fsync / single (decision log off)", 1),
        ("single", f"batch{args.batch}", f"batch{args.batch} / single, decisions/s", args.batch),
    )
    for base, name, title, per in against:
        if base not in by_name or name not in by_name:
            continue
        pairs = zip(by_name[name]["rounds"], by_name[base]["rounds"], strict=True)
        by_rate = statistics.median(x * per / y for x, y in pairs)
        cpus = zip(by_name[name]["cpu_rounds"], by_name[base]["cpu_rounds"], strict=True)
        by_cpu = statistics.median(y * per / x for x, y in cpus)
        print(
            f"{title}: {by_rate:.2f} by requests/s, {by_cpu:.2f} by server CPU per "
            f"{'decision' if per > 1 else 'request'} "
            f"(medians of the per-round ratios, {args.rounds} rounds)"
        )
    print(json.dumps(results))


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median requests/s, with every round's figure."""
    ranked = sorted(runs, key=lambda r: r["requests_per_s"])
    cpu = sorted(r["server_cpu_us"] for r in runs)
    return {
        **ranked[len(ranked) // 2],
        "rounds": [r["requests_per_s"] for r in runs],
        "cpu_rounds": [r["server_cpu_us"] for r in runs],
        "cpu_median": cpu[len(cpu) // 2],
    }


@contextmanager
def _server(
    args: argparse.Namespace, tmp: Path, extra: list[str] | None, label: str
) -> Iterator[str]:
    """`ruleengine serve` with `extra` options (None: the bare FastAPI echo app);
    yields the URL to load once it is ready."""
    import httpx

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp / f"server{label}.log").open("w")
    if extra is None:
        command = [sys.executable, str(Path(__file__).with_name("echo.py")), "--port", str(port)]
    else:
        command = [
            str(RULEENGINE),
            "serve",
            "--rules",
            args.rules,
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            *args.serve_option,
            *extra,
        ]
    server = subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "RULEENGINE_MAX_BATCH": str(max(args.batch, 1000))},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise SystemExit("server exited:\n" + (tmp / f"server{label}.log").read_text())
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not become ready")
            time.sleep(0.2)
        _PIDS[base] = server.pid
        decision = f"{base}/v1/rulesets/example/decisions/{args.decision}"
        yield f"{base}/echo" if extra is None else decision
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)
        log.close()


if __name__ == "__main__":
    main()
