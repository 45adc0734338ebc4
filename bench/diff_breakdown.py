"""Where `ruleengine diff --dask local:N` spends its wall time and CPU, against `--workers N`.

    .venv/bin/python bench/diff_breakdown.py /tmp/ss-1m.jsonl --rounds 2

Runs the command of bench/diff_wall.py (`diff self-service --from 2026-11 --to
2026-12 --summary` on the corpus), the pool and Dask in alternating order from round
to round, each in a fresh interpreter with a probe that records, without changing
what runs:

- the wall clock (from the interpreter's start) at which the command is ready to
  hand out partitions (imports, `import distributed` for Dask, rules loaded), has
  the first partition back (pool or cluster started, first partition decided), the
  last one, and has exited (the cluster stopped, the interpreter torn down);
- CPU seconds: of every process of the run (user + sys); of the workers' deciding
  (the thread CPU spent inside `run_part`: reading, deciding, tallying); of the
  workers' other work (the rest of their CPU up to their last partition: for Dask
  the worker's event loop, task handling and serialization; for the pool, pickling);
  and the rest (the command's own process: imports, loading, the scheduler, the
  client, merging; and what the workers do after their last partition);
- waits: the times the deciding thread gave up the CPU inside `run_part` (voluntary
  context switches): waiting for the GIL that the Dask worker's event loop holds (a
  pool worker has no other thread), or for a read from disk.

Prints one line per run and, per mode, the medians. Every run must print the same
report (compared by digest).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STARTED = time.time()  # the probe's clock: wall-clock seconds since the epoch


def _switches() -> int:
    with open("/proc/thread-self/status") as status:
        for line in status:
            if line.startswith("voluntary_ctxt_switches"):
                return int(line.split(":")[1])
    return 0


def child(folder: str, argv: list[str]) -> None:
    """Run the command in this process, with the probe."""
    from ruleengine.cli import main
    from ruleengine.qa import diff, distribute

    marks: dict[str, float] = {}
    decide = distribute.run_part

    def run_part(job: Any, part: Any) -> Any:
        before, cpu = _switches(), time.thread_time()
        done = decide(job, part)
        row = [time.thread_time() - cpu, time.process_time(), _switches() - before]
        with open(f"{folder}/worker-{os.getpid()}.json", "a") as out:
            out.write(json.dumps(row) + "\n")
        return done

    run_part.__module__, run_part.__qualname__ = distribute.__name__, "run_part"
    distribute.run_part = run_part  # forked workers inherit it; Dask finds it by name
    run_job = diff.run_job

    def probed(*args: Any) -> Any:
        marks["ready"] = time.time()
        for done in run_job(*args):
            marks.setdefault("first", time.time())
            yield done
        marks["last"] = time.time()
        Path(folder, "marks.json").write_text(json.dumps(marks))

    diff.run_job = probed
    sys.argv = ["ruleengine", *argv]
    main()


def run(corpus: str, how: list[str]) -> dict[str, Any]:
    args = ["diff", "self-service", "--from", "2026-11", "--to", "2026-12", "--rules", "rules"]
    args += ["--inputs", corpus, "--summary", *how]
    with tempfile.TemporaryDirectory(prefix="diff-breakdown-") as folder:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.time()
        command = [sys.executable, __file__, "--child", folder, "--", *args]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
        end = time.time()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        marks = json.loads(Path(folder, "marks.json").read_text())
        deciding = other = 0.0
        waits = 0
        for path in Path(folder).glob("worker-*.json"):
            rows = [json.loads(line) for line in path.read_text().splitlines()]
            deciding += sum(r[0] for r in rows)
            other += max(r[1] for r in rows) - sum(r[0] for r in rows)
            waits += sum(r[2] for r in rows)
    total = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "load": os.getloadavg()[0],
        "ready": marks["ready"] - start,
        "first": marks["first"] - start,
        "last": marks["last"] - start,
        "exit": end - start,
        "cpu": total,
        "deciding": deciding,
        "other": other,
        "rest": total - deciding - other,
        "waits": waits,
        "digest": hashlib.sha256(done.stdout).hexdigest()[:12],
    }


COLUMNS = ["ready", "first", "last", "exit", "cpu", "deciding", "other", "rest", "waits"]


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[4:])
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args()
    modes = {"pool": ["--workers", str(a.workers)], "dask": ["--dask", f"local:{a.workers}"]}
    results: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
    print(f"{os.cpu_count()} CPUs; corpus {a.corpus}; wall s from the interpreter's start")
    print(
        "round mode   load  ready  first    last    exit   CPU s deciding  other   rest      waits"
    )
    for n in range(a.rounds):
        for mode in list(modes) if n % 2 == 0 else list(reversed(modes)):
            r = run(a.corpus, modes[mode])
            results[mode].append(r)
            print(
                f"{n + 1:5} {mode:5} {r['load']:5.2f} {r['ready']:6.2f} {r['first']:6.2f} "
                f"{r['last']:7.2f} {r['exit']:7.2f} {r['cpu']:7.2f} {r['deciding']:8.2f} "
                f"{r['other']:6.2f} {r['rest']:6.2f} {r['waits']:10,}  {r['digest']}",
                flush=True,
            )
    if len({r["digest"] for rs in results.values() for r in rs}) != 1:
        sys.exit("the runs printed different reports")
    print("medians:")
    for mode, rs in results.items():
        cells = "  ".join(f"{c} {statistics.median(r[c] for r in rs):,.2f}" for c in COLUMNS)
        print(f"  {mode}: {cells}")


if __name__ == "__main__":
    main()
