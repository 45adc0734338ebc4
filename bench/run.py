"""`make bench`: the `options` decision of rules/self-service through every engine, then rule indexing.

    .venv/bin/python bench/run.py                 # what `make bench` runs
    .venv/bin/python bench/run.py --quick         # fewer cases, for a try-out
    .venv/bin/python bench/run.py --only ruleengine --only floor --no-indexing

One subprocess per engine and phase, so load time and memory are each
engine's own. Phase 1 checks that every engine gives exactly ruleengine's
result on --check random cases (a disagreement fails the run, exit 1, with
the first differing cases printed). Phase 2 times --cases random cases per
engine in --repeats rounds (each round times every engine once, in passes over
fresh input dicts for about --budget seconds, the median pass; ratios are medians
of per-round ratios). Phase 3 times synthetic rule
sets of 10 to 10,000 rules (bench/gen_rules.py). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
import peers  # noqa: E402
from cases import fresh, options_cases  # noqa: E402

SEED = 2026
CHECK_SEED = 7  # the agreement cases differ from the timed ones


# --- workers (run in their own process) --------------------------------------------------


def worker_check(name: str, count: int, expected_file: Path) -> dict[str, Any]:
    cases = options_cases(count, CHECK_SEED)
    expected = json.loads(expected_file.read_text("utf-8"))
    decide = peers.load(name)
    wrong, shown = harness.disagreements(decide, expected, cases)
    return {"engine": name, "cases": count, "disagree": wrong, "examples": shown}


def worker_time(name: str, count: int, repeats: int, budget: float) -> dict[str, Any]:
    cases = options_cases(count, SEED)
    before = harness.rss_now_mb()
    start = time.perf_counter()
    decide = peers.load(name)
    load_s = time.perf_counter() - start
    load_mb = harness.rss_now_mb() - before
    n = harness.calibrate(decide, cases, budget, count)
    runs = harness.time_passes(decide, cases, n, budget)
    return {
        "engine": name,
        "cases": n,
        "passes": len(runs),
        "repeats": repeats,
        "load_s": load_s,
        "load_mb": load_mb,
        "peak_mb": harness.rss_peak_mb(),
        **harness.summary(runs),
    }


def worker_index(rules_dir: Path, size: int, count: int, repeats: int, budget: float) -> dict:
    import random
    from datetime import date

    from gen_rules import COUNTRIES

    import ruleengine

    start = time.perf_counter()
    engine = ruleengine.load(rules_dir, clock=lambda: date(2026, 6, 1))
    load_s = time.perf_counter() - start
    rng = random.Random(SEED + size)
    cases, expected = [], []
    for _ in range(count):
        hit = rng.random() < 0.5
        i = rng.randrange(size)
        product = f"p{i}" if hit else rng.choice((f"p{size + i}", f"x{i}", "maya-lt"))
        country, seats = rng.choice([*COUNTRIES, "JP", "AU"]), rng.randint(1, 9)
        cases.append(
            {
                "as_of": "2026-06-01",
                "item": {"product": product, "country": country, "seats": seats},
            }
        )
        fires = hit and (seats > i % 7 if i % 2 == 0 else country in COUNTRIES[i % 5 : i % 5 + 3])
        expected.append([f"blocked_{i}"] if fires else [])

    def decide(facts: dict[str, Any]) -> list[str]:
        return engine.decide("synthetic", "check", facts).result["reasons"]

    wrong, shown = harness.disagreements(decide, expected[:2000], cases[:2000])
    n = harness.calibrate(decide, cases, budget, count)
    runs = harness.time_repeats(decide, cases, n, repeats)
    return {
        "rules": size,
        "load_s": load_s,
        "cases": n,
        "disagree": wrong,
        "examples": shown,
        **harness.summary(runs),
    }


# --- the orchestrator --------------------------------------------------------------------


def spawn(args: list[str], timeout: float) -> dict[str, Any]:
    """Run this script as a worker; its last stdout line is a JSON object."""
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        capture_output=True, text=True, timeout=timeout, cwd=HERE.parent,
    )  # fmt: skip
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"worker {' '.join(args)} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def select(only: list[str]) -> list[str]:
    names = list(peers.ENGINES)
    if only:
        names = [n for n in names if any(o.lower() in n.lower() for o in only)]
    # The agreement check needs the reference and the ratios the floor; keep the table's order.
    names = [n for n in peers.ENGINES if n in names or n in (peers.REFERENCE, peers.FLOOR)]
    chosen = []
    for name in names:
        if peers.available(name):
            chosen.append(name)
        else:
            print(f"SKIPPED  {name}: package {peers.ENGINES[name][2]!r} is not installed "
                  "(pip install -e '.[bench]', or make bench)")  # fmt: skip
    return chosen


def check_all(names: list[str], count: int) -> None:
    sys.path.insert(0, str(HERE))
    decide = peers.load(peers.REFERENCE)
    expected = [decide(fresh(c)) for c in options_cases(count, CHECK_SEED)]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(expected, f)
    failed = False
    try:
        for name in names:
            if name == peers.REFERENCE:
                continue
            got = spawn(
                ["--worker", "check", name, "--check", str(count), "--expected", f.name], 1800
            )
            if got["disagree"]:
                failed = True
                print(f"DISAGREE {name}: {got['disagree']} of {count} cases differ from ruleengine")
                for ex in got["examples"]:
                    print(json.dumps(ex, indent=1, sort_keys=True))
            else:
                print(f"agree    {name}: {count}/{count} cases identical to ruleengine")
    finally:
        os.unlink(f.name)
    if failed:
        raise SystemExit("agreement check FAILED: see the cases above")


def combine_rounds(rounds: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per engine from several rounds. Every round times each engine once, one
    after the other, so a ratio taken within a round compares engines measured minutes,
    not a quarter of an hour, apart: the ratios are medians of per-round ratios."""
    rows = []
    for i, first in enumerate(rounds[0]):
        runs = [r[i] for r in rounds]
        floor = [next(x for x in r if x["engine"] == peers.FLOOR) for r in rounds]
        ref = [next(x for x in r if x["engine"] == peers.REFERENCE) for r in rounds]
        rows.append(
            {
                **first,
                "median_us": statistics.median(x["median_us"] for x in runs),
                "min_us": min(x["min_us"] for x in runs),
                "first_us": statistics.median(x["first_us"] for x in runs),
                "passes": min(x["passes"] for x in runs),
                "wall_median_us": statistics.median(x["wall_median_us"] for x in runs),
                "x_floor": statistics.median(
                    x["median_us"] / f["median_us"] for x, f in zip(runs, floor, strict=True)
                ),
                "x_ref": statistics.median(
                    x["median_us"] / f["median_us"] for x, f in zip(runs, ref, strict=True)
                ),
                "peak_mb": max(x["peak_mb"] for x in runs),
                "repeats": len(runs),
            }
        )
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    floor = next((r["median_us"] for r in rows if r["engine"] == peers.FLOOR), None)
    ref = next((r["median_us"] for r in rows if r["engine"] == peers.REFERENCE), None)
    nan = float("nan")
    head = (f"{'engine':40} {'CPU µs/dec':>10} {'min':>8} {'1st pass':>8} {'wall µs':>9} {'dec/s':>8} "
            f"{'x floor':>8} {'x ruleeng':>9} {'load ms':>8} {'peak RSS MB':>11} {'load +MB':>8} "
            f"{'cases x passes x rounds':>23}")  # fmt: skip
    print(head)
    print("-" * len(head))
    for r in rows:
        med = r["median_us"]
        print(
            f"{r['engine']:40} {med:10.2f} {r['min_us']:8.2f} {r['first_us']:8.2f} {r['wall_median_us']:9.2f} "
            f"{1e6 / med:8,.0f} {r.get('x_floor', med / floor if floor else nan):8.2f} "
            f"{r.get('x_ref', med / ref if ref else nan):9.2f} {r['load_s'] * 1000:8.0f} {r['peak_mb']:11.1f} "
            f"{r['load_mb']:8.1f} {r['cases']:>11,} x {r['passes']:>2} x {r['repeats']}"
        )


def indexing(sizes: list[int], count: int, repeats: int, budget: float) -> None:
    """Each round times every size once, in its own process (like section 2): the ratio
    to the smallest set is the median of per-round ratios, steady while the machine drifts."""
    from gen_rules import generate

    # The 10,000-rule set is over check's default cost limit (bench/load_phases.py says
    # why): its workers load it as `serve --cost-limit` would, through the environment.
    os.environ["RULEENGINE_COST_LIMIT"] = str(1_000_000_000)
    rounds: list[list[dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-rules-") as tmp:
        for size in sizes:
            generate(size, Path(tmp) / str(size))
        for _ in range(repeats):
            measured = []
            for size in sizes:
                args = ["--worker", "index", str(Path(tmp) / str(size)), "--size", str(size),
                        "--cases", str(count), "--repeats", "1", "--budget", str(budget)]  # fmt: skip
                row = spawn(args, 3600)
                if row["disagree"]:
                    for ex in row["examples"]:
                        print(json.dumps(ex, sort_keys=True))
                    raise SystemExit(f"{size} rules: {row['disagree']} wrong answers (see above)")
                measured.append(row)
            rounds.append(measured)
    head = (f"{'rules':>7} {'CPU µs/dec':>10} {'min':>8} {'wall µs':>9} {f'x {sizes[0]} rules':>11} "
            f"{'load+check+compile s':>21} {'cases x rep':>12}")  # fmt: skip
    print(head)
    print("-" * len(head))
    for i, size in enumerate(sizes):
        runs = [r[i] for r in rounds]
        ratio = statistics.median(r[i]["median_us"] / r[0]["median_us"] for r in rounds)
        print(
            f"{size:>7,} {statistics.median(x['median_us'] for x in runs):10.2f} "
            f"{min(x['min_us'] for x in runs):8.2f} "
            f"{statistics.median(x['wall_median_us'] for x in runs):9.2f} {ratio:11.2f} "
            f"{statistics.median(x['load_s'] for x in runs):21.2f} {runs[0]['cases']:>7,} x {len(runs)}"
        )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=20_000, help="timed cases per engine")
    p.add_argument("--check", type=int, default=5_000, help="agreement cases per engine")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--budget", type=float, default=3.0,
                   help="seconds per repeat: slow engines time fewer cases (shown)")  # fmt: skip
    p.add_argument("--only", action="append", default=[], help="engines whose name contains this")
    p.add_argument("--no-indexing", action="store_true")
    p.add_argument("--sizes", default="10,100,1000,10000")
    p.add_argument("--quick", action="store_true", help="2,000 cases, 3 repeats")
    p.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    p.add_argument("--expected", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--size", type=int, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        kind, target = a.worker[0], " ".join(a.worker[1:])
        if kind == "check":
            out = worker_check(target, a.check, a.expected)
        elif kind == "time":
            out = worker_time(target, a.cases, a.repeats, a.budget)
        else:
            out = worker_index(Path(target), a.size, a.cases, a.repeats, a.budget)
        print(json.dumps(out))
        return
    if a.quick:
        a.cases, a.check, a.repeats = 2_000, 2_000, 3
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    names = select(a.only)
    print(f"\n== 1. agreement with ruleengine on {a.check:,} random cases (seed {CHECK_SEED})")
    check_all(names, a.check)
    print(f"\n== 2. options decision, µs per decision, median of {a.repeats} rounds (each the median "
          f"pass of about {a.budget:g} s); ratios are medians of per-round ratios (seed {SEED}, fresh "
          "input dicts, one process per engine and round)")  # fmt: skip
    rounds = []
    for _ in range(a.repeats):
        measured = []
        for name in names:
            args = ["--worker", "time", name, "--cases", str(a.cases), "--repeats", "1",
                    "--budget", str(a.budget)]  # fmt: skip
            measured.append(spawn(args, 3600))
        rounds.append(measured)
    print_table(combine_rounds(rounds))
    if not a.no_indexing:
        sizes = [int(s) for s in a.sizes.split(",")]
        print(f"\n== 3. rule indexing: synthetic rule sets (bench/gen_rules.py), decide('check'), "
              f"half the inputs hit a rule, median of {a.repeats} rounds; ratios are medians of per-round ratios")  # fmt: skip
        indexing(sizes, a.cases, a.repeats, a.budget)


if __name__ == "__main__":
    main()
