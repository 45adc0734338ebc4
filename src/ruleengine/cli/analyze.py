"""`ruleengine analyze [RULES] [--ruleset X] [--version V] [--format json]`: logic problems.

Rules that can never fire or are shadowed, overlapping rules, gaps, `if`
conditions always true or false, lookups with no row: each proved with z3
and shown at its place, with an example input. Needs the `analysis` extra.
Exit status: 0 (at most notes), 1 (warnings, or rule files with errors), 2 usage.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

MISSING_EXTRA = "static analysis needs z3: pip install 'ruleengine[analysis]'"


def _fail(message: str, code: int = 2) -> typer.Exit:
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(code)


def command(
    rules: Annotated[Path, typer.Argument(help="Rules folder, rule set or version folder.")] = Path(
        "rules"
    ),
    ruleset: Annotated[str | None, typer.Option("--ruleset", help="Only this rule set.")] = None,
    version: Annotated[str | None, typer.Option("--version", help="Only this version.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    list_bound: Annotated[
        int, typer.Option("--list-bound", min=1, max=6, help="Input list items analysed.")
    ] = 2,
) -> None:
    """Find rules that never fire, shadowed or overlapping rules, gaps and constant conditions."""
    if output_format not in ("text", "json"):
        raise _fail(f"--format {output_format!r}: expected text or json")
    if not rules.exists():
        raise _fail(f"{rules}: no such file or folder")
    try:
        from ..analysis.commands import UsageError, run_analyze
    except ImportError:
        raise _fail(MISSING_EXTRA) from None
    try:
        status = run_analyze(rules, ruleset, version, output_format, list_bound)
    except UsageError as exc:
        raise _fail(str(exc)) from None
    raise typer.Exit(status)


# `diff --symbolic` (cli/diff.py takes the option; the work is here and in the analysis).
SYMBOLIC = typer.Option("--symbolic", help="Prove with z3 which fields can differ (no --inputs).")


def prove_diff(
    ruleset: str,
    old: str,
    new: str,
    decision: str | None,
    output_format: str,
    rules: Path,
    from_rules: Path | None,
) -> int:
    """`diff --symbolic`: which output fields two versions can answer differently; the exit
    status (0, or 1 for rule files with errors)."""
    if output_format not in ("text", "json"):
        raise _fail(f"--format {output_format!r}: --symbolic writes text or json")
    try:
        from ..analysis.commands import UsageError, symbolic_diff_from_folders
    except ImportError:
        raise _fail(MISSING_EXTRA) from None
    try:
        status = symbolic_diff_from_folders(
            rules, from_rules, ruleset, old, new, decision, output_format
        )
    except UsageError as exc:
        raise _fail(str(exc)) from None
    return status
