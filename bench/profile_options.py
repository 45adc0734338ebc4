"""Where the microseconds of ruleengine's `options` decision go.

    .venv/bin/python bench/profile_options.py              # stage breakdown + cProfile top 20
    .venv/bin/python bench/profile_options.py --pyinstrument

1. Stage breakdown (CPU µs per decision, median of 5 over fresh inputs): the
   whole `decide()`, then its parts called directly: version selection
   (`Engine.select`, which decide() reaches only for an as_of it has not seen), the
   generated hot path (`decide_fast`) and what decide() adds to it (the difference:
   the route lookup and the `Decision`), the fast input check (`check_fast`), the full validator
   (`validate`, only run by decide() when the fast check fails), the compiled
   decision (`run`) and the traced one (`run_traced`), and the hand-written floor.
   The parts use the engine's internals (`Version.compiled.decisions`, `CompiledDecision`);
   a part that no longer exists is reported as such, not guessed.
2. cProfile of decide() on the same inputs: the top functions by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cases import fresh, options_cases  # noqa: E402
from peers import floor, ruleengine_adapter  # noqa: E402


def cpu_us(fn: Any, inputs: list[Any], repeats: int = 5) -> float:
    runs = []
    for _ in range(repeats):
        batch = [fresh(x) for x in inputs]
        start = time.process_time()
        for item in batch:
            fn(item)
        runs.append((time.process_time() - start) / len(batch) * 1e6)
    return statistics.median(runs)


def paired_us(fn: Any, part: Any, inputs: list[Any], repeats: int = 9) -> float:
    """CPU µs per call that `fn` spends beyond `part`: the two timed in turns, on the
    same fresh inputs, the median of the differences (the machine drifts less between
    two passes in a row than between two rows of the breakdown)."""
    differences = []
    for _ in range(repeats):
        differences.append(cpu_us(fn, inputs, 1) - cpu_us(part, inputs, 1))
    return statistics.median(differences)


def stages(engine: Any, cases: list[dict[str, Any]]) -> list[tuple[str, float | None]]:
    decide = engine.decide
    rows: list[tuple[str, float | None]] = [
        ("decide() total", cpu_us(lambda f: decide("self-service", "options", f), cases)),
        (
            "decide(explain=True) total",
            cpu_us(lambda f: decide("self-service", "options", f, explain=True), cases),
        ),
        ("hand-written floor", cpu_us(floor.options, cases)),
    ]
    try:
        select = engine.select
        as_of = {c["as_of"]: date.fromisoformat(c["as_of"]) for c in cases}
        rows.append(
            ("  Engine.select (version)", cpu_us(lambda f: select("self-service", as_of[f["as_of"]]), cases))
        )  # fmt: skip
        compiled = select("self-service", date(2026, 11, 26)).compiled.decisions["options"]
        fused = compiled.decide_fast
        rows.append(
            ("  decide_fast (input check + decision)", cpu_us(lambda f: fused(f, as_of[f["as_of"]]), cases))
        )  # fmt: skip
        whole = lambda f: decide("self-service", "options", f)  # noqa: E731
        rows.append(
            ("  decide() less decide_fast (route, Decision)", paired_us(whole, lambda f: fused(f, as_of[f["as_of"]]), cases))
        )  # fmt: skip
        rows.append(("  check_fast (input check alone)", cpu_us(compiled.check_fast, cases)))
        rows.append(("  validate (full validator)", cpu_us(compiled.validate, cases)))
        prepared = [(compiled.validate(fresh(c))[0], as_of[c["as_of"]]) for c in cases]
        run, run_traced = compiled.run, compiled.run_traced
        rows.append(
            ("  run (decision alone, after validate)", cpu_us(lambda p: run(p[0], p[1], "en"), prepared))
        )  # fmt: skip
        rows.append(
            ("  run_traced (explain)", cpu_us(lambda p: run_traced(p[0], p[1], "en", []), prepared))
        )  # fmt: skip
    except (AttributeError, KeyError, TypeError) as exc:
        rows.append((f"  (internals changed: {type(exc).__name__}: {exc})", None))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=20_000)
    p.add_argument("--top", type=int, default=20)
    p.add_argument("--pyinstrument", action="store_true", help="also print a pyinstrument tree")
    a = p.parse_args()
    engine = ruleengine_adapter.engine()
    cases = options_cases(a.cases, 2026)
    print(f"== stage breakdown, CPU µs per decision, {a.cases:,} fresh inputs, median of 5")
    for name, micros in stages(engine, cases):
        print(f"{name:44} {'' if micros is None else f'{micros:8.2f}'}")

    batch = [fresh(c) for c in cases]
    decide = engine.decide
    profiler = cProfile.Profile()
    profiler.enable()
    for facts in batch:
        decide("self-service", "options", facts)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(a.top)
    print(f"\n== cProfile of decide() on {a.cases:,} inputs, top {a.top} by own time")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])

    if a.pyinstrument:
        from pyinstrument import Profiler

        batch = [fresh(c) for c in cases]
        with Profiler(interval=0.0001) as prof:
            for facts in batch:
                decide("self-service", "options", facts)
        print(prof.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
