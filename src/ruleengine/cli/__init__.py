"""The `ruleengine` command line: one module per subcommand."""

from __future__ import annotations

import typer

from . import analyze, bundle, check, compile, diff, evaluate, publish, serve, test

app = typer.Typer(
    name="ruleengine",
    help="Rules as data: check rule files, evaluate decisions, serve them over HTTP, test and diff them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("check")(check.command)
app.command("eval")(evaluate.command)
app.command("serve")(serve.command)
app.command("test")(test.command)
app.command("diff")(diff.command)
app.command("bundle")(bundle.command)
app.command("publish")(publish.command)
app.command("compile")(compile.command)
app.command("analyze")(analyze.command)


def main() -> None:
    app()
