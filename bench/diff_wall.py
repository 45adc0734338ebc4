"""Wall-clock rounds of `ruleengine diff`: the process pool against `--dask local:N`.

    .venv/bin/python bench/diff_corpus.py /tmp/ss-1m.jsonl --ruleset self-service --lines 1000000
    .venv/bin/python bench/diff_wall.py /tmp/ss-1m.jsonl --rounds 5 --quiet 0.8

Each round runs `ruleengine diff self-service --from 2026-11 --to 2026-12 --inputs
CORPUS --summary` with `--workers N` and with `--dask local:N` (in alternating order
from round to round), one after the other, and records per run: the load average
at its start, the wall-clock time of the whole command (start-up, loading the rules,
starting the cluster and shutting it down included), the rate (inputs / wall), the
CPU time of the command and its children (user + sys) and the CPU the rest of the
machine used meanwhile (from /proc/stat: the neighbours' share of the cores). Every
run must print the same report (compared by digest). The machine is shared: with
`--quiet F`, each run waits (up to `--wait` seconds) until the cores have been at
least the fraction F idle over two seconds. Prints a table, the medians, and three
ratios of Dask to the pool: the median of the rounds' wall-time ratios (each round's
two runs are minutes apart at most), the ratio of each mode's fastest run (the run
the neighbours disturbed least: noise only ever adds time), and the median of the
rounds' CPU-time ratios (what the two cores would show if they were free).

Fair by construction: both modes run the same command on the same corpus, with the
same number of worker processes (one thread each), the same partitions (each worker
reads its own from disk), the same report printed; each is timed whole, from the
interpreter's start to its exit, so Dask's import and its cluster's start and stop
count against it. `--lines N` runs on the corpus's first N lines (written once, next
to it), for quick rounds.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def idle_share(seconds: float = 2.0) -> float:
    busy0, total0 = cpu_ticks()
    time.sleep(seconds)
    busy1, total1 = cpu_ticks()
    return 1 - (busy1 - busy0) / max(1, total1 - total0)


def wait_quiet(share: float, limit: float) -> float:
    """Wait until the cores are at least `share` idle (or `limit` seconds); the share seen."""
    deadline = time.monotonic() + limit
    seen = idle_share()
    while seen < share and time.monotonic() < deadline:
        seen = idle_share()
    return seen


def run(corpus: str, how: list[str]) -> dict[str, float | str]:
    args = [sys.executable, "-c", "from ruleengine.cli import main; main()", "diff"]
    args += ["self-service", "--from", "2026-11", "--to", "2026-12", "--rules", "rules"]
    args += ["--inputs", corpus, "--summary", *how]
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0, _ = cpu_ticks()
    start = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, check=True)
    wall = time.perf_counter() - start
    busy1, _ = cpu_ticks()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    hz = os.sysconf("SC_CLK_TCK")
    machine = (busy1 - busy0) / hz  # CPU seconds of every process on the machine
    inputs = int(done.stderr.decode().rsplit(" inputs in ", 1)[0].split()[-1].replace(",", ""))
    return {
        "load": load,
        "wall": wall,
        "rate": inputs / wall,
        "cpu": cpu,
        "others": max(0.0, machine - cpu) / wall,  # cores the neighbours used, on average
        "digest": hashlib.sha256(done.stdout).hexdigest()[:12],
    }


def head(corpus: str, lines: int) -> str:
    """The corpus's first `lines` lines, as a file next to it (written once)."""
    path = Path(corpus)
    target = path.with_name(f"{path.stem}-first-{lines}{path.suffix}")
    if not target.exists():
        with path.open("rb") as source, target.open("wb") as out:
            for n, line in enumerate(source):
                if n == lines:
                    break
                out.write(line)
    return str(target)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--quiet", type=float, default=0.0, help="idle share to wait for (0..1)")
    p.add_argument("--wait", type=float, default=600.0, help="seconds to wait at most")
    p.add_argument("--lines", type=int, default=0, help="use only the corpus's first N lines")
    a = p.parse_args()
    if a.lines:
        a.corpus = head(a.corpus, a.lines)
    modes = {
        "pool": ["--workers", str(a.workers)],
        "dask": ["--dask", f"local:{a.workers}"],
    }
    results: dict[str, list[dict[str, float | str]]] = {m: [] for m in modes}
    print(f"{os.cpu_count()} CPUs; corpus {a.corpus}")
    print("round mode  load  idle  wall s  inputs/s  CPU s  others(cores)  report")
    for n in range(a.rounds):
        order = list(modes) if n % 2 == 0 else list(reversed(modes))
        for mode in order:
            idle = wait_quiet(a.quiet, a.wait) if a.quiet else float("nan")
            r = run(a.corpus, modes[mode])
            results[mode].append(r)
            print(
                f"{n + 1:5} {mode:5} {r['load']:5.2f} {idle:5.2f} {r['wall']:7.2f} "
                f"{r['rate']:9,.0f} {r['cpu']:6.2f} {r['others']:14.2f}  {r['digest']}",
                flush=True,
            )
    digests = {str(r["digest"]) for rs in results.values() for r in rs}
    if len(digests) != 1:
        sys.exit(f"the runs printed different reports: {sorted(digests)}")
    pool = [float(r["wall"]) for r in results["pool"]]
    dask = [float(r["wall"]) for r in results["dask"]]
    ratios = [d / p for d, p in zip(dask, pool, strict=True)]
    cpu = [
        float(d["cpu"]) / float(p["cpu"])
        for d, p in zip(results["dask"], results["pool"], strict=True)
    ]
    for mode, rs in results.items():
        rates = [float(r["rate"]) for r in rs]
        loads = [float(r["load"]) for r in rs]
        print(
            f"{mode}: median {statistics.median(rates):,.0f} inputs/s wall clock "
            f"(runs {', '.join(f'{x:,.0f}' for x in rates)}; load averages "
            f"{', '.join(f'{x:.2f}' for x in loads)})"
        )
    print(
        f"dask / pool wall time: median {statistics.median(ratios):.2f} "
        f"(rounds {', '.join(f'{x:.2f}' for x in ratios)}); fastest runs "
        f"{min(dask):.2f} / {min(pool):.2f} s = {min(dask) / min(pool):.2f}"
    )
    print(
        f"dask / pool CPU time: median {statistics.median(cpu):.2f} "
        f"(rounds {', '.join(f'{x:.2f}' for x in cpu)})"
    )


if __name__ == "__main__":
    main()
