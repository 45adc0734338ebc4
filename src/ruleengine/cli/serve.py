"""`ruleengine serve`: the HTTP service.

uvicorn is handed the app factory, and its log formatter, by name, so the engine
package never imports the server. Settings reach every worker process through
`RULEENGINE_*` environment variables (see `server/settings.py`). With several
workers, they share a reload-signal folder (an admin reload in one worker reloads
them all) and a Prometheus multiprocess folder (`/metrics` adds up every worker).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

APP_FACTORY = "server.app:create_app"
JSON_FORMATTER = "server.logs.JsonFormatter"
HTTP_PROTOCOL = "server.protocol:DeadlineProtocol"


def log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's own log lines as JSON on stderr, like the server's; no uvicorn access
    log (the server writes its own, with request ids)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JSON_FORMATTER}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def command(
    rules: Annotated[Path, typer.Option("--rules", help="Rules folder to serve.")] = Path("rules"),
    bundle: Annotated[
        str | None,
        typer.Option(
            "--bundle",
            help="Serve a bundle (http, https or file URL, or a path) instead of --rules; "
            "see docs/bundles.md.",
        ),
    ] = None,
    bundle_poll: Annotated[
        float, typer.Option("--bundle-poll", min=0, help="Seconds between bundle checks.")
    ] = 30.0,
    bundle_timeout: Annotated[
        float,
        typer.Option(
            "--bundle-timeout", min=0.1, help="Overall deadline of one bundle download (s)."
        ),
    ] = 30.0,
    bundle_public_key: Annotated[
        Path | None,
        typer.Option(
            "--bundle-public-key",
            help="PEM Ed25519 public key: load only bundles signed with its private key.",
        ),
    ] = None,
    bundle_max_age: Annotated[
        float | None,
        typer.Option(
            "--bundle-max-age",
            min=0.1,
            help="Not ready once the bundle source has not answered for this many seconds.",
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    decision_log: Annotated[
        Path | None, typer.Option("--decision-log", help="Append one JSON line per decision.")
    ] = None,
    drafts_dir: Annotated[
        Path | None,
        typer.Option("--drafts-dir", help="Where the playground saves drafts (admin token)."),
    ] = None,
    corpus: Annotated[
        Path | None,
        typer.Option("--corpus", help="JSON lines the playground shows a draft's impact on."),
    ] = None,
    decision_log_fsync: Annotated[
        bool,
        typer.Option(
            "--decision-log-fsync", help="fsync each batch of log lines before answering."
        ),
    ] = False,
    decision_log_on_error: Annotated[
        str,
        typer.Option(
            "--decision-log-on-error",
            help="When the log cannot be written: fail (answer 503, not ready) or continue.",
        ),
    ] = "fail",
    decision_log_max_bytes: Annotated[
        int,
        typer.Option(
            "--decision-log-max-bytes", min=0, help="Rotate the log past this size (0: never)."
        ),
    ] = 0,
    decision_log_key_file: Annotated[
        Path | None,
        typer.Option(
            "--decision-log-key-file",
            help="Key of the HMAC that replaces `sensitive` input fields in the log.",
        ),
    ] = None,
    allowed_hosts: Annotated[
        str | None,
        typer.Option(
            "--allowed-hosts", help="Comma-separated Host names to answer (default: any)."
        ),
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch/--no-watch", help="Reload when a rule file changes.")
    ] = True,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning...")] = "info",
) -> None:
    """Serve decisions over HTTP: POST /v1/rulesets/{ruleset}/decisions/{decision}.

    Admin routes (POST /v1/admin/reload) need RULEENGINE_ADMIN_TOKEN in the environment.
    """
    import uvicorn

    os.environ["RULEENGINE_RULES"] = str(rules.resolve())
    if bundle is not None:
        os.environ["RULEENGINE_BUNDLE"] = bundle
        os.environ["RULEENGINE_BUNDLE_POLL_SECONDS"] = str(bundle_poll)
        os.environ["RULEENGINE_BUNDLE_TIMEOUT_SECONDS"] = str(bundle_timeout)
        if bundle_public_key is not None:
            os.environ["RULEENGINE_BUNDLE_PUBLIC_KEY"] = str(bundle_public_key.resolve())
        if bundle_max_age is not None:
            os.environ["RULEENGINE_BUNDLE_MAX_AGE_SECONDS"] = str(bundle_max_age)
    os.environ["RULEENGINE_WATCH"] = "true" if watch else "false"
    os.environ["RULEENGINE_LOG_LEVEL"] = log_level
    if decision_log_on_error not in ("fail", "continue"):
        raise typer.BadParameter("fail or continue", param_hint="--decision-log-on-error")
    if decision_log is not None:
        os.environ["RULEENGINE_DECISION_LOG"] = str(decision_log.resolve())
        os.environ["RULEENGINE_DECISION_LOG_FSYNC"] = "true" if decision_log_fsync else "false"
        os.environ["RULEENGINE_DECISION_LOG_ON_ERROR"] = decision_log_on_error
        os.environ["RULEENGINE_DECISION_LOG_MAX_BYTES"] = str(decision_log_max_bytes)
        if decision_log_key_file is not None:
            os.environ["RULEENGINE_DECISION_LOG_KEY_FILE"] = str(decision_log_key_file.resolve())
    if allowed_hosts is not None:
        os.environ["RULEENGINE_ALLOWED_HOSTS"] = allowed_hosts
    if drafts_dir is not None:
        os.environ["RULEENGINE_DRAFTS_DIR"] = str(drafts_dir.resolve())
    if corpus is not None:
        os.environ["RULEENGINE_CORPUS"] = str(corpus.resolve())
    scratch: list[str] = []
    if workers > 1:
        signal = tempfile.mkdtemp(prefix="ruleengine-reload-")
        scratch.append(signal)
        os.environ["RULEENGINE_RELOAD_SIGNAL"] = signal
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            metrics = tempfile.mkdtemp(prefix="ruleengine-metrics-")
            scratch.append(metrics)
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics
    try:
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            http=HTTP_PROTOCOL,  # header and body read deadlines (server/protocol.py)
            host=host,
            port=port,
            workers=workers,
            log_config=log_config(log_level),
            log_level=log_level,
            access_log=False,
        )
    finally:
        for folder in scratch:
            shutil.rmtree(folder, ignore_errors=True)
