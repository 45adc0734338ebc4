"""Where the HTTP request path spends its time: cProfile of a `ruleengine serve` worker
(the same app, HTTP protocol and settings, in this process) under load from bench/http's
load generator.

    .venv/bin/python bench/http/profile_server.py [--seconds 5] [--decision-log] [--batch 100]

Prints the server's CPU time per request by stage (the cumulative time of the functions
that make each stage, so a stage includes the stages it calls), then the top functions
by own time. cProfile adds a cost to every Python call, so the absolute figures are
inflated (by about 2x here); the shares are what to read. Times are CPU time (a wall clock
would charge the server for the load generator it wakes with each answer).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))

from bench import FACTS, free_port, loadgen_command  # noqa: E402

# stage -> the functions (file suffix, name) whose cumulative times make it
STAGES: list[tuple[str, list[tuple[str, str]]]] = [
    ("uvicorn: read and parse the request", [("httptools_impl.py", "data_received")]),
    ("uvicorn: send the answer (the socket write included)", [("httptools_impl.py", "send")]),
    ("  one write per answer (CoalescingTransport.write)", [("server/protocol.py", "write")]),
    ("the app (Service.__call__)", [("server/app.py", "__call__")]),
    ("  request context (RequestContext.__call__)", [("server/middleware.py", "__call__")]),
    (
        "    decision endpoint (DecisionEndpoint.respond)",
        [("server/routers/decisions.py", "respond")],
    ),
    ("      read the body (receive_body)", [("server/deps.py", "receive_body")]),
    ("      parse it (jsonio.loads_envelope)", [("ruleengine/jsonio.py", "loads_envelope")]),
    ("      inline or thread (Offloader.is_cheap)", [("server/deadline.py", "is_cheap")]),
    (
        "      decide, answer, log line (_Decider.decide)",
        [("server/routers/decisions.py", "decide")],
    ),
    ("        Engine.decide", [("ruleengine/engine.py", "decide")]),
    ("        result as JSON (jsonio.plain_json)", [("ruleengine/jsonio.py", "plain_json")]),
    ("        decision-log line (DecisionLog.entry)", [("server/decision_log.py", "entry")]),
    (
        "        metrics",
        [("server/metrics.py", "count_decision"), ("server/metrics.py", "observe_decision")],
    ),
    ("      wait for the log line's write (commit)", [("server/decision_log.py", "commit")]),
    ("    request metric", [("server/metrics.py", "observe_request")]),
    ("    access-log line (_log_access)", [("server/middleware.py", "_log_access")]),
    ("decision log: one write per loop iteration", [("server/decision_log.py", "_flush_on_loop")]),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--decision-log", action="store_true", help="decision log on")
    parser.add_argument("--batch", type=int, default=0, help="batches of this many inputs")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    import uvicorn

    from ruleengine.cli.serve import HTTP_PROTOCOL, log_config
    from server.app import create_app
    from server.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    log = tmp / "decisions.jsonl" if args.decision_log else None
    settings = Settings(rules=ROOT / "rules" / "example", watch=False, decision_log=log)
    port = free_port()
    config = uvicorn.Config(
        create_app(settings=settings),
        port=port,
        http=HTTP_PROTOCOL,
        log_config=log_config("warning"),
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    body = {"inputs": [FACTS] * args.batch} if args.batch else {"input": FACTS}
    (tmp / "body.json").write_text(json.dumps(body))
    path = "/v1/rulesets/example/decisions/quote" + ("/batch" if args.batch else "")
    figures: dict[str, float] = {}

    profile = cProfile.Profile(time.process_time)  # CPU time: the machine is shared

    def load() -> None:
        while not server.started:
            time.sleep(0.05)
        loop.call_soon_threadsafe(profile.enable)  # the loop's thread, under load only
        out = subprocess.run(
            loadgen_command(
                f"http://127.0.0.1:{port}{path}", tmp / "body.json", args.concurrency, args.seconds
            ),
            capture_output=True,
            text=True,
            check=True,
        )
        figures.update(json.loads(out.stdout))
        loop.call_soon_threadsafe(profile.disable)
        server.should_exit = True

    loader = threading.Thread(target=load)
    # The access log goes where `serve` sends it, stderr: here /dev/null (still formatted).
    saved = os.dup(2)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    factory = config.get_loop_factory()  # uvloop when installed, as `serve` runs
    loop = factory() if factory is not None else asyncio.new_event_loop()
    try:
        loader.start()
        loop.run_until_complete(server.serve())
    finally:
        os.dup2(saved, 2)
        loop.close()
    loader.join()
    requests = int(figures["requests"] + figures["warmup_requests"])
    report(pstats.Stats(profile), requests, args, figures)


def report(stats: pstats.Stats, requests: int, args: argparse.Namespace, figures: dict) -> None:
    entries = stats.stats  # type: ignore[attr-defined]
    print(
        f"cProfile of one worker, {requests:,} requests "
        f"({'batch of ' + str(args.batch) if args.batch else 'single'} decisions, decision log "
        f"{'on' if args.decision_log else 'off'}, {figures['requests_per_s']} req/s under "
        f"cProfile), load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(f"\n{'stage (cumulative, nested stages included)':<58} {'µs/request':>11}")
    for title, functions in STAGES:
        total = sum(
            cumulative
            for (file, _line, function), (_cc, _nc, _tt, cumulative, _callers) in entries.items()
            if any(file.endswith(suffix) and function == name for suffix, name in functions)
        )
        print(f"{title:<58} {total / requests * 1e6:>11.1f}")
    print(f"\ntop {args.top} functions by own time (µs per request)")
    rows = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[: args.top]
    for (file, line, function), (_cc, calls, own, cumulative, _callers) in rows:
        where = file.split("site-packages/")[-1].split("/src/")[-1]
        print(
            f"{own / requests * 1e6:8.1f} {cumulative / requests * 1e6:8.1f} "
            f"{calls / requests:6.1f}x  {where}:{line}({function})"
        )


if __name__ == "__main__":
    main()
