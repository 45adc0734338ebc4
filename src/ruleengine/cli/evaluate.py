"""`ruleengine eval RULESET DECISION --input FILE|-`: decide once, print JSON."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import (
    Decision,
    Engine,
    InputError,
    NotFoundError,
    NoVersionInEffectError,
    RuleFileError,
    jsonio,
    load,
    render_diagnostics,
)


def _read_input(source: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text("utf-8")
    except OSError as exc:
        raise _fail(f"cannot read {source}: {exc.strerror}") from None
    try:
        return jsonio.loads(text)
    except jsonio.JSONInputError as exc:
        where = f"{source}:{exc.line}:{exc.column}" if exc.line else source
        raise _fail(f"{where}: {exc}") from None


def _fail(message: str, code: int = 2) -> typer.Exit:
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(code)


def render_trace(decision: Decision, console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{decision.ruleset} {decision.decision} @ {decision.version}: rules considered"
    )
    for column in ("group", "rule", "fired", "values read", "where"):
        table.add_column(column)
    for entry in decision.explanation or ():
        values = ", ".join(f"{k} = {jsonio.dumps(v)}" for k, v in entry.values.items())
        table.add_row(
            entry.group,
            entry.rule,
            "[green]yes[/]" if entry.fired else "no",
            values,
            entry.location,
        )
    (console or Console(stderr=True)).print(table)


def _location(node: dict[str, Any]) -> str:
    where = node.get("location")
    return f"{where['file']}:{where['line']}:{where['col']}" if where else ""


def _tree_label(node: dict[str, Any]) -> str:
    from rich.markup import escape

    if "ref" in node:
        value = jsonio.dumps(node.get("value"))
        return (
            f"{escape(node.get('label', ''))} = {escape(value)} [dim](see {node['ref']} above)[/]"
        )
    if "kind" not in node:
        return f"[yellow]{escape(node.get('label', '...'))} ({escape(node['cut'])})[/]"
    text = f"[dim]{node['kind']}[/] [bold]{escape(node['label'])}[/]"
    if "value" in node:
        text += f" = [cyan]{escape(jsonio.dumps(node['value']))}[/]"
    if "args" in node:
        text += f" [dim]args[/] {escape(jsonio.dumps(node['args']))}"
    if node.get("location"):
        text += f"  [dim]{escape(_location(node))}[/] [dim]{node.get('id', '')}[/]"
    if node.get("expr"):
        text += f"\n[dim]{escape(node['expr'])}[/]"
    if "cut" in node:
        text += f"\n[yellow]({escape(node['cut'])})[/]"
    return text


def render_derivation(derivation: dict[str, Any], title: str) -> Any:
    """The derivation as a rich tree: one branch per output field, its inputs below."""
    from rich.tree import Tree

    top = Tree(title)

    def add(parent: Tree, node: dict[str, Any]) -> None:
        branch = parent.add(_tree_label(node))
        for child in node.get("inputs", ()):
            add(branch, child)

    for root in derivation.get("roots", ()):
        add(top, root)
    return top


def _print_text(result: Decision, explain: bool) -> None:
    """The answer for a person: the result, and with explain the derivation and rules."""
    from rich.console import Console

    console = Console()
    console.print_json(jsonio.dumps(jsonio.to_plain(result.result)))
    if explain and result.derivation is not None:
        name = f"{result.ruleset} {result.decision} @ {result.version}"
        console.print(render_derivation(jsonio.to_plain(result.derivation), f"{name}: derivation"))
    if explain:
        render_trace(result, console)


def _note_drafts_passed_over(engine: Engine, result: Decision) -> None:
    """Say on stderr which drafts would have decided, had they been published: a date
    picks only published versions, so a draft is decided only when `--version` names it."""
    ruleset = engine.ruleset(result.ruleset)
    chosen = ruleset.get(result.version)
    drafts = [
        v.version
        for v in ruleset.versions
        if v.status == "draft"
        and result.decision in v.decisions
        and v.effective_from <= result.as_of
        and (chosen is None or v.effective_from >= chosen.effective_from)
        and v is not chosen
    ]
    for name in drafts:
        print(
            f"note: decided by {result.version}; draft {name} (not yet in versions.lock) "
            f"would be in effect on {result.as_of.isoformat()}: --version {name} decides it",
            file=sys.stderr,
        )


def command(
    ruleset: Annotated[str, typer.Argument(help="Rule set name, e.g. example.")],
    decision: Annotated[str, typer.Argument(help="Decision name, e.g. checkout.")],
    input_file: Annotated[
        str, typer.Option("--input", "-i", help="JSON input file, or - for stdin.")
    ] = "-",
    version: Annotated[
        str | None, typer.Option(help="Pin a version; default: the one in effect on as_of.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Decide as of this date (YYYY-MM-DD).")
    ] = None,
    locale: Annotated[str | None, typer.Option(help="Locale of messages.")] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Include the rules considered and the values read.")
    ] = False,
    rules: Annotated[Path, typer.Option("--rules", help="Rules folder.")] = Path("rules"),
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="json, or text (the result, and with --explain the derivation as a tree);"
            " default: text on a terminal, json otherwise.",
        ),
    ] = "auto",
) -> None:
    """Evaluate one decision and print it as JSON (money as decimal strings)."""
    if output_format not in ("auto", "text", "json"):
        raise _fail(f"--format {output_format!r}: expected json or text")
    facts = _read_input(input_file)
    if as_of is not None:
        try:
            date.fromisoformat(as_of)
        except ValueError:
            raise _fail(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
        if not isinstance(facts, dict):
            raise _fail("input must be a JSON object")
        facts = {**facts, "as_of": as_of}
    if locale is not None and isinstance(facts, dict):
        facts = {**facts, "locale": locale}
    try:
        engine = load(rules, drafts="pinned")  # a draft decides only when --version names it
    except RuleFileError as exc:
        print(render_diagnostics(exc.diagnostics), file=sys.stderr)
        raise typer.Exit(1) from None
    try:
        result = engine.decide(ruleset, decision, facts, version=version, explain=explain)
    except InputError as exc:
        for problem in exc.problems:
            detail = "".join(
                f"; {label} {value}"
                for label, value in (("expected", problem.expected), ("got", problem.got))
                if value
            )
            print(
                f"{problem.path}: error[{problem.code}]: {problem.message}{detail}", file=sys.stderr
            )
        raise typer.Exit(2) from None
    except (NotFoundError, NoVersionInEffectError) as exc:
        raise _fail(str(exc)) from None
    if version is None:
        _note_drafts_passed_over(engine, result)
    if output_format == "text" or (output_format == "auto" and sys.stdout.isatty()):
        _print_text(result, explain)
        return
    print(jsonio.dumps(jsonio.decision_to_json(result), indent=2))
    if explain and sys.stderr.isatty():
        render_trace(result)
