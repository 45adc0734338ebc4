"""`ruleengine diff RULESET --from V1 --to V2 --inputs FILE.jsonl`: what a new version would change.

Decides every input of the corpus (inputs, or decision-log lines; many files,
globs, folders, .gz) under both versions on every core, or on Dask, and
reports how many decisions change, per field and per old -> new value, with
example inputs; invalid inputs are counted, not fatal. `--summary` gives the
per-decision view, `--format markdown` a report for a pull request. The
report goes to stdout (the same bytes however it ran), the timing to stderr.
Exit status: 0 (changes are findings, not failures), 2 usage errors.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from .. import (
    Engine,
    NotFoundError,
    RuleFileError,
    RuleSet,
    display_path,
    extract_bundle,
    jsonio,
    load,
    render_diagnostics,
)
from ..qa.diff import DiffRequest, run_diff
from ..qa.diff_report import DiffReport
from ..qa.distribute import JobError, Runner, check_dask
from ..qa.sources import PARTITION_BYTES, InputFile, InputsError, find_inputs
from .analyze import SYMBOLIC, prove_diff
from .progress import RunProgress


def _fail(message: str, code: int = 2) -> typer.Exit:
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(code)


def _rules_folder(path: Path, scratch: Path) -> Path:
    """A rules folder as given, or a bundle file unpacked (and verified) into scratch."""
    if path.is_file() and path.name.endswith((".tar.gz", ".tgz")):
        target = scratch / "from-rules"
        extract_bundle(path.read_bytes(), target, display_path(path))
        return target
    return path


def _version(found: RuleSet, label: str, decision: str | None) -> RuleSet:
    version = found.get(label)
    if version is None:
        raise NotFoundError("version", label, [v.version for v in found.versions])
    if decision is not None and decision not in version.decisions:
        raise NotFoundError("decision", decision, sorted(version.decisions))
    return found


def parse_as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _fail(f"--as-of {text!r} is not a date (YYYY-MM-DD)") from None


def runner_for(workers: int | None, dask: str | None) -> Runner:
    """How to run: --dask ADDRESS, else --workers N (default: one per core)."""
    if dask is not None:
        try:
            check_dask(dask)
        except JobError as exc:
            raise _fail(str(exc)) from None
        return Runner(dask=dask)
    return Runner(workers=workers or os.cpu_count() or 1)


def inputs_for(specs: list[str] | None) -> list[InputFile]:
    if not specs:
        raise _fail("--inputs is required (or --symbolic)")
    try:
        return find_inputs(specs)
    except InputsError as exc:
        raise _fail(str(exc)) from None


RulesetArg = Annotated[str, typer.Argument(help="Rule set name, e.g. example.")]
FromOpt = Annotated[str, typer.Option("--from", help="The version in production.")]
ToOpt = Annotated[str, typer.Option("--to", help="The version to compare with it.")]
InputsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--inputs",
        help="JSON lines: inputs, or decision-log lines. Repeat it; files, folders, "
        "glob patterns ('logs/*.jsonl.gz'), gzip files.",
    ),
]
DecisionOpt = Annotated[
    str | None,
    typer.Option("--decision", help="Decision to ask; default: each log line's own."),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Decide every input as of this date (YYYY-MM-DD), under both versions; "
        "default: each input's own as_of.",
    ),
]
SummaryOpt = Annotated[
    bool,
    typer.Option("--summary", help="Per decision: inputs, changed, changed fields with examples."),
]
FormatOpt = Annotated[
    str, typer.Option("--format", help="text, json or markdown (a pull-request report).")
]
RulesOpt = Annotated[Path, typer.Option("--rules", help="Rules folder.")]
FromRulesOpt = Annotated[
    Path | None,
    typer.Option(
        "--from-rules",
        help="Rules folder or bundle (.tar.gz) of the --from version, e.g. a checkout "
        "of main; default: --rules.",
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="Worker processes; default: one per core."),
]
DaskOpt = Annotated[
    str | None,
    typer.Option(
        "--dask",
        help="Run on Dask: local, local:N (N worker processes here) or a scheduler "
        "address tcp://HOST:8786. Needs the [dask] extra.",
    ),
]
ExamplesOpt = Annotated[
    int, typer.Option("--examples", min=0, help="Example inputs shown per changed field.")
]
PartitionOpt = Annotated[
    int,
    typer.Option(
        "--partition-bytes",
        min=1,
        help="Bytes of input per task handed to a worker (a .gz file is one task).",
    ),
]


def command(
    ruleset: RulesetArg,
    old: FromOpt,
    new: ToOpt,
    inputs: InputsOpt = None,
    decision: DecisionOpt = None,
    as_of: AsOfOpt = None,
    summary: SummaryOpt = False,
    output_format: FormatOpt = "text",
    rules: RulesOpt = Path("rules"),
    from_rules: FromRulesOpt = None,
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    examples: ExamplesOpt = 3,
    partition_bytes: PartitionOpt = PARTITION_BYTES,
    symbolic: Annotated[bool, SYMBOLIC] = False,
) -> None:
    """Decide every input under two versions and report the decisions that change."""
    if output_format not in ("text", "json", "markdown"):
        raise _fail(f"--format {output_format!r}: expected text, json or markdown")
    if symbolic:
        raise typer.Exit(prove_diff(ruleset, old, new, decision, output_format, rules, from_rules))
    day = parse_as_of(as_of)
    runner = runner_for(workers, dask)
    files = inputs_for(inputs)
    with tempfile.TemporaryDirectory(prefix="ruleengine-diff-") as scratch:
        engine, old_engine = _engines(rules, from_rules, Path(scratch))
        try:
            sides = [(old_engine, old), (engine, new)]
            found = [_version(e.ruleset(ruleset), label, decision) for e, label in sides]
        except NotFoundError as exc:
            raise _fail(str(exc)) from None
        # Workers get only this rule set's folder: the other rule sets are not needed.
        folders = [os.path.commonpath([v.root for v in f.versions]) for f in found]
        request = DiffRequest(
            display_path(rules),
            ruleset,
            old,
            new,
            decision,
            examples,
            old_rules=folders[0] if from_rules is not None else None,
            old_source=display_path(from_rules) if from_rules is not None else None,
            as_of=day,
        )
        try:
            with RunProgress("diff", files) as progress:
                report = run_diff(
                    request,
                    files,
                    runner,
                    (folders[1], folders[0] if from_rules is not None else None),
                    (engine, old_engine),
                    on_done=progress,
                    partition_bytes=partition_bytes,
                )
        except JobError as exc:
            raise _fail(str(exc), 1) from None
    _print_report(report, output_format, summary)


def _engines(rules: Path, from_rules: Path | None, scratch: Path) -> tuple[Engine, Engine]:
    """(the engine of --rules, the engine of --from-rules or the same); errors exit 1."""
    try:
        engine = load(rules)
        if from_rules is None:
            return engine, engine
        return engine, load(_rules_folder(from_rules, scratch))
    except RuleFileError as exc:
        print(render_diagnostics(exc.diagnostics), file=sys.stderr)
        raise typer.Exit(1) from None


def _print_report(report: DiffReport, output_format: str, summary: bool) -> None:
    if output_format == "json":
        print(jsonio.dumps(report.to_json(summary=summary), indent=2))
    elif output_format == "markdown":
        print(report.render_markdown(summary=summary))
    elif summary:
        print(report.render_summary())
    else:
        print(report.render())
    print(report.timing(), file=sys.stderr)
