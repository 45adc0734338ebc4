"""`ruleengine serve`: the HTTP service (the app factory is handed to uvicorn by name,
so the engine package never imports the server)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

APP_FACTORY = "server.app:create_app"


def command(
    rules: Annotated[Path, typer.Option("--rules", help="Rules folder to serve.")] = Path("rules"),
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    decision_log: Annotated[
        Path | None, typer.Option("--decision-log", help="Append one JSON line per decision.")
    ] = None,
) -> None:
    """Serve decisions over HTTP: POST /v1/rulesets/{ruleset}/decisions/{decision}."""
    import uvicorn

    os.environ["RULEENGINE_RULES"] = str(rules.resolve())
    if decision_log is not None:
        os.environ["RULEENGINE_DECISION_LOG"] = str(decision_log.resolve())
    uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers, log_level="info")
