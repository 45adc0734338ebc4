"""`ruleengine compile RULES --ruleset R --version V [--decision D] [--traced]`: print the
Python module a version compiles to (or the traced copy used for explanations).

Each rule's code is preceded by a comment naming its YAML file, line and id, as a
traceback through generated code would show it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .. import NotFoundError, RuleFileError, load


def command(
    rules: Annotated[Path, typer.Argument(help="Rules folder, rule set or version folder.")],
    ruleset: Annotated[str, typer.Option("--ruleset", help="The rule set.")],
    version: Annotated[
        str | None, typer.Option("--version", help="The version (default: the latest).")
    ] = None,
    decision: Annotated[
        str | None, typer.Option("--decision", help="Only this decision's functions.")
    ] = None,
    traced: Annotated[
        bool, typer.Option("--traced", help="The traced copy (explanations) instead.")
    ] = False,
) -> None:
    """Print the generated Python module of a version of a rule set."""
    try:
        engine = load(rules)
        found = engine.rulesets.get(ruleset)
        if found is None:
            raise NotFoundError("ruleset", ruleset, sorted(engine.rulesets))
        versions = {v.version: v for v in found.versions}
        chosen = found.versions[-1] if version is None else versions.get(version)
        if chosen is None:
            raise NotFoundError("version", str(version), list(versions))
        if decision is not None and decision not in chosen.decisions:
            raise NotFoundError("decision", decision, sorted(chosen.decisions))
    except RuleFileError as exc:
        print(exc.render(), file=sys.stderr)
        raise typer.Exit(1) from None
    except NotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(1) from None
    sys.stdout.write(chosen.listing(traced=traced, decision=decision))
