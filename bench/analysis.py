"""Time `ruleengine analyze` and `ruleengine diff --symbolic` on the reference policy.

    .venv/bin/python bench/analysis.py            # 3 runs of each, in-process
    .venv/bin/python bench/analysis.py --runs 5

Reports wall-clock and CPU seconds (median of the runs) of: analysing both
versions of rules/self-service, and the symbolic diff 2026-11 -> 2026-12 (every
decision, witnesses decided by the engine). Loading the rules is timed apart, as
the peer figure: the budget is 30 s for each command on this machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ruleengine
from ruleengine.analysis import analyse_version, symbolic_diff
from ruleengine.analysis.program import checked_program

ROOT = Path(__file__).resolve().parents[1]


def timed(work: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    walls, cpus, result = [], [], None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args()
    engine = ruleengine.load(ROOT / "rules")
    rules = engine.ruleset("self-service")

    def load() -> Any:
        return ruleengine.load(ROOT / "rules")

    def analyse() -> Any:
        return [analyse_version(checked_program(v)) for v in rules.versions]

    def diff() -> Any:
        old, new = rules.get("2026-11"), rules.get("2026-12")
        assert old is not None and new is not None

        def side(label: str) -> Any:
            return lambda name, data: (
                engine.decide("self-service", name, data, version=label).result
            )

        return symbolic_diff(
            "self-service",
            "2026-11",
            "2026-12",
            checked_program(old),
            checked_program(new),
            side("2026-11"),
            side("2026-12"),
        )

    print(f"{'what':<46} {'wall s':>8} {'cpu s':>8}")
    for label, work in (
        ("load rules/ (for scale)", load),
        ("analyze self-service (2 versions)", analyse),
        ("diff --symbolic self-service 2026-11 -> 2026-12", diff),
    ):
        wall, cpu, result = timed(work, a.runs)
        extra = ""
        if label.startswith("analyze"):
            extra = f"  ({sum(len(x.findings) for x in result)} findings)"
        elif label.startswith("diff"):
            extra = f"  ({sum(d.status == 'differs' for d in result.decisions)} decisions differ)"
        print(f"{label:<46} {wall:>8.2f} {cpu:>8.2f}{extra}")


if __name__ == "__main__":
    main()
