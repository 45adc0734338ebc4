"""`ruleengine test [PATH]`: run the regression suites under rules/<ruleset>/tests/, or replay a log.

Output follows pytest: a line of progress per suite file (`.` passed, `F`
failed, `s` skipped; a progress bar instead on a terminal), then one
`FAILED file:line: case` line per failure with a field-by-field diff under it,
then the closing line `N passed, N failed` (`, N skipped` ... only if any).
Exit status: 0 all passed, 1 a failure, an unreadable suite or too little
coverage, 2 a usage error, 5 no case to run.

With `--log`, decision logs are replayed instead (`qa/replay.py`): every line
sorted per rule set, decision and version (same, changed, rejected then and
now, rejected now, answered now, unknown version), a section per change with
example lines, and a closing line of counts; exit 1 only for changes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Annotated

import typer

from .. import (
    Case,
    Engine,
    RuleFileError,
    display_path,
    find_suites,
    load,
    load_suites,
    render_diagnostics,
)
from ..qa.coverage import Coverage, CoverageReport
from ..qa.coverage_cobertura import write_cobertura
from ..qa.distribute import JobError, Runner
from ..qa.junit import write_junit
from ..qa.replay import render_replay, replay_outcomes, run_replay
from ..qa.runner import Outcome, run_case
from ..qa.sources import PARTITION_BYTES, InputFile
from .diff import inputs_for, runner_for
from .progress import RunProgress

EXIT_NO_CASES = 5
_MARK = {"passed": ".", "failed": "F", "skipped": "s"}


def _fail(message: str, code: int = 2) -> typer.Exit:
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(code)


def _parse_min(text: str | None) -> Fraction | None:
    if text is None:
        return None
    try:
        value = Fraction(Decimal(text.strip().removesuffix("%")))
    except (InvalidOperation, ValueError):
        raise _fail(f"--coverage-min {text!r} is not a percentage (e.g. 100 or 99.5)") from None
    if not 0 <= value <= 100:
        raise _fail(f"--coverage-min {text!r} is not between 0 and 100")
    return value


class _Progress:
    """pytest-style progress: a row of marks per file (plain), or a rich progress bar (terminal)."""

    def __init__(self, total: int | None, terminal: bool):
        self.group: str | None = None
        self.column = 0
        self.bar = None
        if terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(
                TextColumn("[bold]testing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[failed]} failed"),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("cases", total=total, failed=0)
            self.failed = 0

    def step(self, outcome: Outcome) -> None:
        if self.bar is not None:
            self.failed += outcome.failed
            self.bar.update(self.task, advance=1, failed=self.failed)
            return
        if outcome.group != self.group:
            if self.group is not None:
                sys.stdout.write("\n")
            self.group = outcome.group
            sys.stdout.write(f"{outcome.group} ")
            self.column = len(outcome.group) + 1
        if self.column >= 100:
            sys.stdout.write("\n    ")
            self.column = 4
        sys.stdout.write(_MARK[outcome.status])
        self.column += 1
        sys.stdout.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
        elif self.group is not None:
            sys.stdout.write("\n")


def _run(
    outcomes: Iterable[Outcome],
    progress: _Progress,
    stop_first: bool,
    each: Callable[[Outcome], None],
) -> list[Outcome]:
    done: list[Outcome] = []
    try:
        for outcome in outcomes:
            done.append(outcome)
            each(outcome)
            progress.step(outcome)
            if stop_first and outcome.failed:
                break
    finally:
        progress.close()
    return done


def _closing(done: list[Outcome], errors: int, deselected: int) -> str:
    counts = {s: sum(1 for o in done if o.status == s) for s in ("passed", "failed", "skipped")}
    line = f"{counts['passed']} passed, {counts['failed']} failed"
    if counts["skipped"]:
        line += f", {counts['skipped']} skipped"
    if deselected:
        line += f", {deselected} deselected"
    if errors:
        line += f", {errors} error{'s' if errors != 1 else ''}"
    return line


def _report_failures(done: list[Outcome]) -> None:
    failed = [o for o in done if o.failed]
    if failed:
        print()
    for outcome in failed:
        print(f"FAILED {outcome.location}: {outcome.name}")
        for line in outcome.details():
            print(f"    {line}")


def _load_engine(root: Path) -> Engine:
    try:
        return load(root)
    except RuleFileError as exc:
        print(render_diagnostics(exc.diagnostics))
        files = len({d.file for d in exc.diagnostics})
        print(f"\n0 passed, 0 failed, {files} error{'s' if files != 1 else ''}")
        raise typer.Exit(1) from None


PathArg = Annotated[
    Path,
    typer.Argument(
        help="Rules folder, rule set, tests/ folder or one suite file; with --log: the rules folder."
    ),
]
KeywordOpt = Annotated[
    str | None,
    typer.Option("-k", help="Only cases whose name contains this text (case-insensitive)."),
]
JunitOpt = Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML to this file.")]
CoverageOpt = Annotated[
    bool,
    typer.Option(
        "--coverage",
        help="Report rule conditions seen true and false, expression branches taken and "
        "table rows read: a summary line per version, then what is missing.",
    ),
]
CoverageMinOpt = Annotated[
    str | None,
    typer.Option(
        "--coverage-min",
        help="Fail if a version's conditions, branches or table rows are covered below this "
        "percentage (implies --coverage).",
    ),
]
CoverageChangedOpt = Annotated[
    bool,
    typer.Option(
        "--coverage-changed",
        help="Count only what differs from the version each version replaces (implies --coverage).",
    ),
]
CoverageJsonOpt = Annotated[
    Path | None,
    typer.Option(
        "--coverage-json",
        help="Write the coverage report as JSON (schemas/coverage.schema.json; implies --coverage).",
    ),
]
CoverageCoberturaOpt = Annotated[
    Path | None,
    typer.Option(
        "--coverage-cobertura",
        help="Write the coverage report as Cobertura XML on the rule files (implies --coverage).",
    ),
]
ExitFirstOpt = Annotated[bool, typer.Option("-x", "--exitfirst", help="Stop at the first failure.")]
LogOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--log",
        help="Replay decision logs (JSON lines) instead of running suites. Repeat it; "
        "files, folders, glob patterns, gzip files.",
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="With --log: worker processes (default: one per core)."),
]
DaskOpt = Annotated[
    str | None,
    typer.Option(
        "--dask",
        help="With --log: replay on Dask (local, local:N or tcp://HOST:8786; the [dask] extra).",
    ),
]
PartitionOpt = Annotated[
    int,
    typer.Option("--partition-bytes", min=1, help="With --log: bytes of log per worker task."),
]


def command(
    path: PathArg = Path("rules"),
    keyword: KeywordOpt = None,
    junit: JunitOpt = None,
    coverage: CoverageOpt = False,
    coverage_min: CoverageMinOpt = None,
    coverage_changed: CoverageChangedOpt = False,
    coverage_json: CoverageJsonOpt = None,
    coverage_cobertura: CoverageCoberturaOpt = None,
    exitfirst: ExitFirstOpt = False,
    log: LogOpt = None,
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    partition_bytes: PartitionOpt = PARTITION_BYTES,
) -> None:
    """Run regression suites (or replay a decision log) and report every difference."""
    minimum = _parse_min(coverage_min)
    outputs = _CoverageOutputs(minimum, coverage_min, coverage_json, coverage_cobertura)
    coverage = coverage or coverage_changed or outputs.wanted
    if not path.exists():
        raise _fail(f"{display_path(path)}: no such file or folder")
    terminal = sys.stdout.isatty()
    if log:
        runner = runner_for(workers, dask)
        _replay(path, inputs_for(log), junit, exitfirst, runner, partition_bytes)
        return
    search = find_suites(path)
    engine = _load_engine(search.rules_root)
    versions = [v for rs in engine.rulesets.values() for v in rs.versions]
    suites, problems = load_suites(search, versions)
    cases: list[Case] = [c for s in suites for c in s.cases]
    selected = [c for c in cases if keyword is None or keyword.lower() in c.name.lower()]
    broken_files = len({d.file for d in problems})
    if not selected and not problems:
        raise _no_cases(path, cases, keyword)
    tested = {c.ruleset for c in cases}
    tracker = (
        Coverage([v for v in versions if v.ruleset in tested], coverage_changed)
        if coverage
        else None
    )

    def record(outcome: Outcome) -> None:
        if tracker is not None and outcome.decision is not None and outcome.trace is not None:
            tracker.record(outcome.decision, outcome.trace)

    probed = None if tracker is None else tracker.program
    outcomes = (run_case(engine, case, tracker is not None, probed) for case in selected)
    done = _run(outcomes, _Progress(len(selected), terminal), exitfirst, record)
    _report_failures(done)
    if problems:
        print()
        print(render_diagnostics(problems))
    below = False
    if tracker is not None:
        untested = sorted(set(engine.rulesets) - tested)
        below = not outputs.report(tracker.report(), untested)
    if junit is not None:
        write_junit(junit, done, problems)
    print()
    print(_closing(done, broken_files, len(cases) - len(selected)))
    if below or problems or any(o.failed for o in done):
        raise typer.Exit(1)


def _no_cases(path: Path, cases: list[Case], keyword: str | None) -> typer.Exit:
    """Say that nothing was selected (exit status 5, as pytest)."""
    where = display_path(path)
    print(
        f"no test cases found under {where}" if not cases else f"no case name contains {keyword!r}"
    )
    print(_closing([], 0, len(cases)))
    return typer.Exit(EXIT_NO_CASES)


@dataclass(frozen=True, slots=True)
class _CoverageOutputs:
    """Where the coverage report goes, and the minimum it must reach."""

    minimum: Fraction | None
    shown_minimum: str | None
    json_path: Path | None
    cobertura_path: Path | None

    @property
    def wanted(self) -> bool:
        return any(x is not None for x in (self.minimum, self.json_path, self.cobertura_path))

    def report(self, report: CoverageReport, untested: list[str]) -> bool:
        """Print and write the coverage report; False when it is below --coverage-min."""
        print()
        print(report.render())
        if untested:
            print(f"Rule sets without suites (not counted): {', '.join(untested)}")
        if self.json_path is not None:
            document = report.to_json(self.minimum)
            self.json_path.write_text(json.dumps(document, indent=2) + "\n", "utf-8")
        if self.cobertura_path is not None:
            write_cobertura(report, self.cobertura_path)
        below = [] if self.minimum is None else report.below(self.minimum)
        if below:
            print(f"FAILED coverage below --coverage-min {self.shown_minimum}%:")
            print("\n".join(f"  {line}" for line in below))
        return not below


def _replay(
    rules: Path,
    files: list[InputFile],
    junit: Path | None,
    exitfirst: bool,
    runner: Runner,
    partition_bytes: int,
) -> None:
    engine = _load_engine(rules)
    try:
        with RunProgress("replay", files) as progress:
            report = run_replay(
                rules, files, runner, engine, exitfirst, progress, partition_bytes=partition_bytes
            )
    except JobError as exc:
        raise _fail(str(exc), 1) from None
    print(render_replay(report))
    print(report.timing(), file=sys.stderr)
    if junit is not None:
        write_junit(junit, replay_outcomes(report), (), name="ruleengine replay")
    if not report.tally.lines:
        raise typer.Exit(EXIT_NO_CASES)
    if report.tally.changes:
        raise typer.Exit(1)
