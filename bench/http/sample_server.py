"""Where a real `ruleengine serve` worker spends its CPU under load, by sampling (py-spy):
no instrumentation, so the socket writes, the event loop and every Python frame keep
their true weights (cProfile, in profile_server.py, inflates Python calls about 2x and
cannot see the system calls).

    .venv/bin/python bench/http/sample_server.py [--seconds 8] [--batch 100] [--echo]

Starts `ruleengine serve --rules rules/example` (or, with `--echo`, the bare FastAPI echo
of bench/http/echo.py), loads it with bench/http's load generator (32 connections),
records the worker with `py-spy record --format raw` (py-spy is in the `bench` extra) and
prints, per stage of the request path, its share of the samples and the server CPU time
per request that share is (the worker's CPU time from /proc over the requests answered),
then the frames that were on top of the stack most often. A stage includes the stages
it calls. A system call counts for the Python frame that made it (the socket write is
`CoalescingTransport.write`; the event loop's reads are `Runner.run`).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench import FACTS, _cpu_seconds, free_port, loadgen_command

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# stage -> frames (function, file name) whose samples make it (inclusive)
STAGES: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "uvicorn: read and parse requests (data_received)",
        [("HttpToolsProtocol.data_received", "httptools_impl.py")],
    ),
    ("the app (RequestContext.__call__)", [("RequestContext.__call__", "middleware.py")]),
    (
        "  decision endpoint (DecisionEndpoint.respond)",
        [("DecisionEndpoint.respond", "decisions.py")],
    ),
    ("    parse the body (loads_envelope)", [("loads_envelope", "jsonio.py")]),
    ("    inline or thread (Offloader.is_cheap)", [("Offloader.is_cheap", "deadline.py")]),
    ("    decide, answer, log line (_Decider.decide)", [("_Decider.decide", "decisions.py")]),
    ("      Engine.decide", [("Engine.decide", "engine.py")]),
    ("      result as JSON (plain_json)", [("plain_json", "jsonio.py")]),
    ("      decision id (_uuid4)", [("_RandomIds.__call__", "decisions.py")]),
    ("      decision-log line (DecisionLog.entry)", [("DecisionLog.entry", "decision_log.py")]),
    (
        "      metrics",
        [("Metrics.observe_decision", "metrics.py"), ("Metrics.count_decision", "metrics.py")],
    ),
    ("    send the answer (uvicorn's send)", [("RequestResponseCycle.send", "httptools_impl.py")]),
    (
        "      the socket write (CoalescingTransport.write)",
        [("CoalescingTransport.write", "protocol.py")],
    ),
    ("  request metric", [("Metrics.observe_request", "metrics.py")]),
    ("  access-log line (_log_access)", [("_log_access", "middleware.py")]),
    (
        "log lines: one write per loop iteration (_drain)",
        [("LoopBatchedHandler._drain", "logs.py")],
    ),
]
ECHO_STAGES: list[tuple[str, list[tuple[str, str]]]] = [
    STAGES[0],
    ("the app (FastAPI.__call__)", [("FastAPI.__call__", "applications.py")]),
    ("  the endpoint (echo)", [("echo", "echo.py")]),
    ("  send the answer (uvicorn's send)", [("RequestResponseCycle.send", "httptools_impl.py")]),
]


def _frame(text: str) -> tuple[str, str]:
    """`name (path/file.py:12)` -> (name, file.py)."""
    name, _, where = text.rpartition(" (")
    return name, where.split(":")[0].rsplit("/", 1)[-1].rstrip(")")


def fold(
    raw: str,
) -> tuple[int, collections.Counter[tuple[str, str]], collections.Counter[tuple[str, str]]]:
    """(samples, inclusive samples by frame, samples by frame on top) of py-spy's raw output."""
    total = 0
    inclusive: collections.Counter[tuple[str, str]] = collections.Counter()
    on_top: collections.Counter[tuple[str, str]] = collections.Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = [_frame(f) for f in stack.split(";")]
        n = int(count)
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        on_top[frames[-1]] += n
    return total, inclusive, on_top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="seconds of sampling")
    parser.add_argument("--batch", type=int, default=0, help="batches of this many inputs")
    parser.add_argument("--decision", default="quote")
    parser.add_argument("--echo", action="store_true", help="sample the bare FastAPI echo")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-sample-"))
    port = free_port()
    if args.echo:
        command = [sys.executable, str(Path(__file__).with_name("echo.py")), "--port", str(port)]
        path = "/echo"
    else:
        command = [str(BIN / "ruleengine"), "serve", "--rules", str(ROOT / "rules" / "example")]
        command += ["--port", str(port), "--no-watch"]
        path = f"/v1/rulesets/example/decisions/{args.decision}" + ("/batch" if args.batch else "")
    body = {"inputs": [FACTS] * args.batch} if args.batch else {"input": FACTS}
    (tmp / "body.json").write_text(json.dumps(body))
    env = {**os.environ, "RULEENGINE_MAX_BATCH": str(max(args.batch, 1000))}
    log = (tmp / "server.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", server)
        load = subprocess.Popen(
            loadgen_command(
                f"http://127.0.0.1:{port}{path}", tmp / "body.json", 32, args.seconds + 3
            ),
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.5)  # past the load generator's warm-up
        cpu_before = _cpu_seconds(server.pid)
        spy = subprocess.run(
            [
                *(str(BIN / "py-spy"), "record", "-p", str(server.pid), "-d", str(args.seconds)),
                *("-r", "500", "-f", "raw", "-o", str(tmp / "samples.txt")),
            ],
            capture_output=True,
            text=True,
        )
        cpu = _cpu_seconds(server.pid) - cpu_before
        figures = json.loads(load.communicate()[0])
        if spy.returncode != 0:
            raise SystemExit(f"py-spy failed (is it installed? root?):\n{spy.stderr}")
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()
    rate = figures["requests_per_s"]
    per_request_us = cpu / (rate * args.seconds) * 1e6  # the CPU of the sampled seconds
    report(args, (tmp / "samples.txt").read_text(), rate, per_request_us)


def _wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("server exited")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not become ready")


def report(args: argparse.Namespace, raw: str, rate: float, per_request_us: float) -> None:
    total, inclusive, on_top = fold(raw)
    what = "bare FastAPI echo" if args.echo else f"ruleengine serve, {args.decision}"
    kind = f"batches of {args.batch}" if args.batch else "single requests"
    print(
        f"py-spy samples of one worker ({what}, {kind}): {total:,} samples, "
        f"{rate:,.0f} req/s, {per_request_us:.1f} µs of server CPU per request, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(f"\n{'stage (inclusive)':<56} {'share':>6} {'µs/request':>11}")
    for title, frames in ECHO_STAGES if args.echo else STAGES:
        share = sum(inclusive[f] for f in frames) / total
        if share:
            print(f"{title:<56} {share:>6.1%} {share * per_request_us:>11.1f}")
    print("\nframes most often on top of the stack (own time, µs per request)")
    for (name, file), n in on_top.most_common(args.top):
        print(f"{n / total:>6.1%} {n / total * per_request_us:>8.1f}  {name} ({file})")


if __name__ == "__main__":
    main()
