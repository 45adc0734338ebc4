"""Where the time of a large rule-set load goes: CPU seconds of each phase of `ruleengine.load`.

    .venv/bin/python bench/load_phases.py              # 10,000 synthetic rules, 3 runs
    .venv/bin/python bench/load_phases.py --rules 1000 --runs 5
    .venv/bin/python bench/load_phases.py --keep-collector   # as before the collector pause
    .venv/bin/python bench/load_phases.py --cache      # also: load with a compiled cache
    .venv/bin/python bench/load_phases.py --runs 0 --workers 4   # 4 processes load at once
    .venv/bin/python bench/load_phases.py --max-steps 200000000  # see allow_steps

Writes the synthetic rule set of `bench/gen_rules.py` into a temporary folder,
then times YAML loading, schema validation, parse + check and compile, with the
garbage collector paused as `ruleengine.load` pauses it (or running, with
--keep-collector, to see what the pause saves). With --cache, each run then times
`ruleengine.load` of the set with an empty compiled cache (it builds the version and
writes the entry) and again (it reads the entry and compiles), as server workers do
(ruleengine/compiled_cache.py), and checks that the second one read the cache.
With --workers N, N fresh processes load the set at once (as the workers of
`serve --workers N` at start or at a reload): without a cache, with an empty
shared cache and with the cache filled; wall-clock time until the last is done, and
the CPU time of all of them (imports included).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_rules import generate  # noqa: E402

import ruleengine  # noqa: E402
from ruleengine import compiled_cache, engine  # noqa: E402
from ruleengine.checker import check_version  # noqa: E402
from ruleengine.compiler import compile_version  # noqa: E402
from ruleengine.loader import load_documents  # noqa: E402
from ruleengine.validate import validate_version  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rules", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--keep-collector", action="store_true", help="do not pause the collector")
    p.add_argument("--cache", action="store_true", help="also time loads with a compiled cache")
    p.add_argument("--workers", type=int, default=0, help="processes loading at once")
    p.add_argument("--max-steps", type=int, help="the cost bound's step limit (default: check's)")
    a = p.parse_args()
    if a.max_steps:
        allow_steps(a.max_steps)
    with tempfile.TemporaryDirectory(prefix="bench-phases-") as tmp:
        generate(a.rules, Path(tmp))
        [(vdir, files)] = engine.find_versions(Path(tmp))
        manifest = vdir / engine.MANIFEST
        for _ in range(a.runs):
            pause = contextlib.nullcontext() if a.keep_collector else engine._collector_paused()
            with pause:
                t0 = time.process_time()
                docs = load_documents([(manifest, str(manifest)), *((f, str(f)) for f in files)])
                t1 = time.process_time()
                model = validate_version(docs[0], docs[1:], str(vdir))
                t2 = time.process_time()
                checked = check_version(model, ruleengine.Limits.from_environment(os.environ))
                t3 = time.process_time()
                compile_version(checked)
                t4 = time.process_time()
            print(
                f"{a.rules:,} rules: yaml {t1 - t0:.2f}  validate {t2 - t1:.2f}  "
                f"parse+check {t3 - t2:.2f}  compile {t4 - t3:.2f}  total {t4 - t0:.2f} s CPU"
            )
            if a.cache:
                print(f"  {cached_loads(Path(tmp))}")
        if a.workers:
            with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
                for label, where in (
                    ("no cache", None),
                    ("empty cache", cache),
                    ("filled cache", cache),
                ):
                    print(
                        f"  {a.workers} processes, {label}: {workers_load(Path(tmp), a.workers, where)}"
                    )


def cached_loads(rules: Path) -> str:
    """CPU seconds of `ruleengine.load` writing a fresh compiled cache, then reading it."""
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
        t0 = time.process_time()
        ruleengine.load(rules, compiled_cache=cache)
        t1 = time.process_time()
        hits = compiled_cache.STATS["hit"]
        ruleengine.load(rules, compiled_cache=cache)
        t2 = time.process_time()
        if compiled_cache.STATS["hit"] != hits + 1:
            sys.exit("the second load did not read the compiled cache")
    return (
        f"load with an empty compiled cache (build + write) {t1 - t0:.2f}  "
        f"load from the cache (read + compile) {t2 - t1:.2f} s CPU"
    )


_LOAD = """
import json, sys, ruleengine
from ruleengine import compiled_cache
ruleengine.load(sys.argv[1], compiled_cache=sys.argv[2] or None)
print(json.dumps(dict(compiled_cache.STATS)))
"""


def allow_steps(steps: int) -> None:
    """Let check's cost bound allow `steps`, here and in the processes of --workers (as
    `serve --cost-limit` does, through the environment): the bound charges a map over
    the 10,000 reasons a group may collect 10,000 steps per item (each item's size taken
    as the list's length), 1.01e8, over the default limit of 1e8."""
    os.environ[ruleengine.Limits.ENVIRONMENT["max_steps"]] = str(steps)


def workers_load(rules: Path, count: int, cache: str | None) -> str:
    """Wall and CPU seconds of `count` processes loading `rules` at once."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    args = [sys.executable, "-c", _LOAD, str(rules), cache or ""]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, text=True) for _ in range(count)]
    outs = [json.loads(p.communicate()[0]) for p in procs]
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    built = sum(o.get("miss", 0) for o in outs) if cache else count  # no cache: each builds
    read = sum(o.get("hit", 0) for o in outs)
    return (
        f"{wall:.2f} s wall, {cpu:.2f} s CPU in all; built {built}, read {read} "
        f"(load average {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    main()
