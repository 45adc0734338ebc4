"""`ruleengine publish [RULES]`: check, test and lock every draft version.

Runs `check` on the rule sets it publishes, every regression case of those
rule sets, refuses backdated versions and breaking input changes, and only
then records each new version in `rules/<ruleset>/versions.lock`. On refusal
every problem is listed, the exit status is 1 and nothing is written.
The publish day is today (UTC), or `$RULEENGINE_TODAY` (YYYY-MM-DD) for a rehearsal.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from .. import render_diagnostics, utc_today, write_locks
from ..qa.publish import PublishResult, publish

TODAY_ENV = "RULEENGINE_TODAY"


def publish_day() -> date:
    """Today (UTC), unless $RULEENGINE_TODAY names another day (tests, rehearsals)."""
    text = os.environ.get(TODAY_ENV)
    if not text:
        return utc_today()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        print(f"error: ${TODAY_ENV}={text!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
        raise typer.Exit(2) from None


def _report_refusal(result: PublishResult) -> None:
    if result.problems:
        print(render_diagnostics(result.problems))
    for outcome in result.failures:
        if result.problems:
            print()
        print(f"FAILED {outcome.location}: {outcome.name}")
        for line in outcome.details():
            print(f"    {line}")
    count = len(result.problems) + len(result.failures)
    print(
        f"\nrefused: {count} problem{'s' if count != 1 else ''} "
        f"({len(result.failures)} of {result.cases} regression cases failed); "
        "nothing was published, no lock was changed",
        file=sys.stderr,
    )


def _print_impact(rules: Path, result: PublishResult, logs: list[Path], markdown: bool) -> None:
    """Each new version against the one it replaces, on the logs, as of its first day;
    a log that cannot be read stops the publish before anything is written."""
    from .. import RuleEngineError
    from ..qa.diff import impact_summary
    from ..qa.sources import InputsError

    for item in result.published:
        title = f"impact of {item.ruleset} {item.version}"
        if item.replaces is None:
            print(f"\n{title}: it replaces no version; nothing to compare")
            continue
        try:
            text = impact_summary(
                rules,
                item.ruleset,
                item.replaces,
                item.version,
                [str(p) for p in logs],
                as_of=item.effective_from,
                markdown=markdown,
            )
        except (InputsError, OSError, RuleEngineError) as exc:
            print(f"error: --impact: {exc}; nothing was published", file=sys.stderr)
            raise typer.Exit(1) from None
        print()
        print(text.rstrip("\n"))


def command(
    rules: Annotated[Path, typer.Argument(help="Rules folder (or one rule set's folder).")] = Path(
        "rules"
    ),
    ruleset: Annotated[
        str | None, typer.Option("--ruleset", help="Publish only this rule set.")
    ] = None,
    allow_backdated: Annotated[
        bool,
        typer.Option(
            "--allow-backdated",
            help="Publish versions whose effective_from is before today (recorded in the lock).",
        ),
    ] = False,
    impact: Annotated[
        list[Path] | None,
        typer.Option(
            "--impact",
            help="A decision log or corpus (JSON lines; repeatable; folders, globs, .gz): "
            "print each new version's impact against the version it replaces, every input "
            "decided as of the new version's first day (as `diff --summary`).",
        ),
    ] = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format", help="The impact as text or markdown (a pull-request report, as diff's)."
        ),
    ] = "text",
    markdown: Annotated[
        bool, typer.Option("--markdown", hidden=True, help="The same as --format markdown.")
    ] = False,
    allow_breaking: Annotated[
        bool,
        typer.Option(
            "--allow-breaking",
            help="Publish versions whose input schema refuses what the previous version "
            "accepted (recorded in the lock).",
        ),
    ] = False,
) -> None:
    """Check and test every draft version, then record it as published in versions.lock."""
    if output_format not in ("text", "markdown"):
        print(f"error: --format {output_format!r}: expected text or markdown", file=sys.stderr)
        raise typer.Exit(2)
    markdown = markdown or output_format == "markdown"
    today = publish_day()
    result = publish(rules, today, ruleset, allow_backdated, allow_breaking, write=False)
    if result.refused:
        _report_refusal(result)
        raise typer.Exit(1)
    print(f"ok: {', '.join(result.rulesets)} checked; {result.cases} regression cases passed")
    if not result.published:
        print("nothing to publish: every version is already published")
        return
    if impact:
        _print_impact(rules, result, impact, markdown)
    write_locks(result.locks)
    for item in result.published:
        notes = f" (overrides: {', '.join(item.overrides)})" if item.overrides else ""
        replaces = f", replaces {item.replaces}" if item.replaces else ""
        print(
            f"published {item.ruleset} {item.version}: effective {item.effective_from}"
            f"{replaces}, {item.content_hash} -> {item.lock}{notes}"
        )
