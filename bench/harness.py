"""What `make bench` measures, as functions: agreement, timing, memory (used by run.py and the smoke test)."""

from __future__ import annotations

import gc
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from cases import fresh

Decide = Callable[[dict[str, Any]], Any]


def disagreements(
    decide: Decide, expected: Sequence[Any], cases: Sequence[dict[str, Any]], limit: int = 3
) -> tuple[int, list[dict[str, Any]]]:
    """Decide every case on a fresh copy; count the answers that differ from expected.

    Returns (number of disagreements, the first `limit` of them with input, expected, got).
    An exception raised by the engine counts as a disagreement.
    """
    count, shown = 0, []
    for facts, want in zip(cases, expected, strict=True):
        try:
            got = decide(fresh(facts))
        except Exception as exc:
            got = f"raised {type(exc).__name__}: {exc}"
        if got != want:
            count += 1
            if len(shown) < limit:
                shown.append({"input": facts, "expected": want, "got": got})
    return count, shown


def per_decision(decide: Decide, batch: list[dict[str, Any]]) -> tuple[float, float]:
    """(CPU µs, wall-clock µs) per decision over one pass of batch (each dict used once).

    CPU time is this process's, all threads included (a peer's native threads
    count); on a shared, busy machine it is the steadier of the two.
    """
    cpu, wall = time.process_time(), time.perf_counter()
    for facts in batch:
        decide(facts)
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    return cpu / len(batch) * 1e6, wall / len(batch) * 1e6


def calibrate(decide: Decide, cases: Sequence[dict[str, Any]], budget: float, most: int) -> int:
    """How many cases fit in `budget` seconds per repeat (at least 1,000, at most `most`)."""
    sample = [fresh(c) for c in cases[:300]]
    micros = per_decision(decide, sample)[1]  # also warms up caches and lazy compilation
    return max(1000, min(most, int(budget * 1e6 / max(micros, 0.01))))


def time_repeats(
    decide: Decide, cases: Sequence[dict[str, Any]], n: int, repeats: int
) -> list[tuple[float, float]]:
    """(CPU µs, wall µs) per decision for each repeat; every repeat decides fresh copies of the first n cases.

    The copies are made before the clock starts; the garbage collector stays on
    (as in a service) but starts each repeat from a collection.
    """
    runs = []
    for _ in range(repeats):
        batch = [fresh(c) for c in cases[:n]]
        gc.collect()
        runs.append(per_decision(decide, batch))
        del batch
    return runs


def time_passes(
    decide: Decide, cases: Sequence[dict[str, Any]], n: int, budget: float, most: int = 40
) -> list[tuple[float, float]]:
    """(CPU µs, wall µs) per decision for each pass over fresh copies of the first n cases,
    pass after pass until `budget` seconds of CPU are spent (at least one pass, at most
    `most`): a fast engine is timed over seconds, not one pass of a few dozen ms, which
    the neighbours of a busy machine swing by 10-20%. Copies made before each pass's
    clock starts, a collection before each pass (as `time_repeats`)."""
    runs: list[tuple[float, float]] = []
    spent = 0.0
    while not runs or (spent < budget and len(runs) < most):
        runs.extend(time_repeats(decide, cases, n, 1))
        spent += runs[-1][0] * n / 1e6
    return runs


def summary(runs: list[tuple[float, float]]) -> dict[str, float]:
    cpu = [r[0] for r in runs]
    wall = [r[1] for r in runs]
    return {
        "median_us": statistics.median(cpu),
        "first_us": cpu[0],  # the first pass: cold caches (dates first seen, routes) included
        "min_us": min(cpu),
        "wall_median_us": statistics.median(wall),
        "wall_min_us": min(wall),
    }


def rss_now_mb() -> float:
    """Resident set size of this process now (Linux /proc), in MB."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return float("nan")


def rss_peak_mb() -> float:
    """Peak resident set size of this process so far, in MB.

    VmHWM from /proc (reset by exec); not ru_maxrss, which Linux carries over
    from the parent across exec and so would report the orchestrator's peak.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
