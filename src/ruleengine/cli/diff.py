"""`ruleengine diff RULESET --from V1 --to V2 --inputs FILE.jsonl`: what a new version would change.

Decides every input of the corpus (inputs, or decision-log lines) under both
versions on every core and reports how many decisions change, per field and
per old -> new value, with example inputs; invalid inputs are counted, not
fatal. Exit status: 0 (changes are findings, not failures), 2 usage errors.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from .. import jsonio
from ..bundle import extract_bundle
from ..engine import RuleSet, display_path, load
from ..errors import NotFoundError, RuleFileError, render_diagnostics
from ..qa.diff import DiffRequest, run_diff


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


def command(
    ruleset: Annotated[str, typer.Argument(help="Rule set name, e.g. example.")],
    old: Annotated[str, typer.Option("--from", help="The version in production.")],
    new: Annotated[str, typer.Option("--to", help="The version to compare with it.")],
    inputs: Annotated[
        Path, typer.Option("--inputs", help="JSON lines: inputs, or decision-log lines.")
    ],
    decision: Annotated[
        str | None,
        typer.Option("--decision", help="Decision to ask; default: each log line's own."),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    rules: Annotated[Path, typer.Option("--rules", help="Rules folder.")] = Path("rules"),
    from_rules: Annotated[
        Path | None,
        typer.Option(
            "--from-rules",
            help="Rules folder or bundle (.tar.gz) of the --from version, e.g. a checkout "
            "of main; default: --rules.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Worker processes; default: one per core."),
    ] = None,
    examples: Annotated[
        int, typer.Option("--examples", min=0, help="Example inputs shown per changed field.")
    ] = 3,
) -> None:
    """Decide every input under two versions and report the decisions that change."""
    if output_format not in ("text", "json"):
        raise _fail(f"--format {output_format!r}: expected text or json")
    if not inputs.is_file():
        raise _fail(f"{display_path(inputs)}: no such file")
    with tempfile.TemporaryDirectory(prefix="ruleengine-diff-") as scratch:
        try:
            engine = load(rules)
            old_engine = engine
            if from_rules is not None:
                old_folder = _rules_folder(from_rules, Path(scratch))
                old_engine = load(old_folder)
        except RuleFileError as exc:
            print(render_diagnostics(exc.diagnostics), file=sys.stderr)
            raise typer.Exit(1) from None
        try:
            sides = [(old_engine, old), (engine, new)]
            found = [_version(e.ruleset(ruleset), label, decision) for e, label in sides]
        except NotFoundError as exc:
            raise _fail(str(exc)) from None
        # Workers load only this rule set's folder: the other rule sets are not needed.
        folders = [os.path.commonpath([v.root for v in f.versions]) for f in found]
        request = DiffRequest(
            folders[1],
            ruleset,
            old,
            new,
            decision,
            examples,
            old_rules=folders[0] if from_rules is not None else None,
            old_source=display_path(from_rules) if from_rules is not None else None,
        )
        report = run_diff(request, inputs, workers, engine=engine, old_engine=old_engine)
    if output_format == "json":
        print(jsonio.dumps(report.to_json(), indent=2))
    else:
        print(report.render())
