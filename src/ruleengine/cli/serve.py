"""`ruleengine serve`: the HTTP service.

uvicorn is handed the app factory, and its log formatter, by name, so the engine
package never imports the server. Settings reach every worker process through
`RULEENGINE_*` environment variables (see `server/settings.py`). With several
workers, they share a reload-signal folder (an admin reload in one worker reloads
them all), a Prometheus multiprocess folder (`/metrics` adds up every worker) and a
compiled cache (`--compiled-cache`, ruleengine/compiled_cache.py): the first worker to
load a version writes its checked program there, the others read it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from .limits import (
    CostLimit,
    CostNominalSize,
    MaxVersionBytes,
    MaxVersionRows,
    MaxVersionRules,
    given_limits,
    limits_environment,
    limits_from,
)

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


def _run(host: str, port: int, workers: int, log_level: str, scratch: list[str]) -> None:
    """uvicorn serving the app factory in every worker, then the scratch folders removed."""
    import uvicorn  # here: the other commands need not import the server's stack

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
            server_header=False,  # no `server: uvicorn`: the software is nobody's business
        )
    finally:
        for folder in scratch:
            shutil.rmtree(folder, ignore_errors=True)


def _opt(name: str, help: str, **extra: Any) -> Any:
    return typer.Option(name, help=help, **extra)


Bundle = Annotated[
    str | None,
    _opt(
        "--bundle",
        "Serve a bundle (http, https or file URL, or a path) instead of --rules; "
        "see docs/bundles.md.",
    ),
]
BundlePoll = Annotated[float, _opt("--bundle-poll", "Seconds between bundle checks.", min=0)]
BundleTimeout = Annotated[
    float, _opt("--bundle-timeout", "Overall deadline of one bundle download (s).", min=0.1)
]
BundlePublicKey = Annotated[
    Path | None,
    _opt(
        "--bundle-public-key",
        "PEM Ed25519 public key: load only bundles signed with its private key.",
    ),
]
BundleMaxAge = Annotated[
    float | None,
    _opt(
        "--bundle-max-age",
        "Not ready once the bundle source has not answered for this many seconds.",
        min=0.1,
    ),
]
DecisionLog = Annotated[Path | None, _opt("--decision-log", "Append one JSON line per decision.")]
DecisionLogFsync = Annotated[
    bool, _opt("--decision-log-fsync", "fsync each batch of log lines before answering.")
]
DecisionLogOnError = Annotated[
    str,
    _opt(
        "--decision-log-on-error",
        "When the log cannot be written: fail (answer 503, not ready) or continue.",
    ),
]
DecisionLogMaxBytes = Annotated[
    int, _opt("--decision-log-max-bytes", "Rotate the log past this size (0: never).", min=0)
]
DecisionLogKeyFile = Annotated[
    Path | None,
    _opt(
        "--decision-log-key-file",
        "Key of the HMAC that replaces `sensitive` input fields in the log.",
    ),
]
AllowedHosts = Annotated[
    str | None, _opt("--allowed-hosts", "Comma-separated Host names to answer (default: any).")
]
DraftsDir = Annotated[
    Path | None, _opt("--drafts-dir", "Where the playground saves drafts (admin token).")
]
Corpus = Annotated[
    Path | None, _opt("--corpus", "JSON lines the playground shows a draft's impact on.")
]
RequestTimeout = Annotated[
    float,
    _opt(
        "--request-timeout",
        "Answer a decision request 504 after this many seconds (and stop its decision).",
        min=0.001,
    ),
]
Watch = Annotated[bool, _opt("--watch/--no-watch", "Reload when a rule file changes.")]
Drafts = Annotated[bool, _opt("--drafts", "Also load drafts; decided only when pinned by name.")]
CompiledCacheDir = Annotated[
    Path | None,
    _opt(
        "--compiled-cache",
        "Folder of checked versions shared by the workers and kept across restarts "
        "(made 0700); default with --workers > 1: a temporary one.",
    ),
]


def _environment(values: dict[str, Any]) -> None:
    """Settings for every worker, as `RULEENGINE_*` variables (server/settings.py)."""
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, Path):
            value = value.resolve()
        os.environ[f"RULEENGINE_{name}"] = str(value)


def _compiled_cache(folder: Path | None, workers: int, scratch: list[str]) -> None:
    """The workers' compiled cache (read by ruleengine.load): the folder given, else with
    several workers a temporary one (0700), for the first worker to load a version."""
    if folder is None and workers > 1:
        folder = Path(tempfile.mkdtemp(prefix="ruleengine-compiled-"))
        scratch.append(str(folder))
    _environment({"COMPILED_CACHE": folder})


def _shared_folders(workers: int) -> list[str]:
    """With several workers: the reload-signal and metrics folders they share (removed
    when the server stops)."""
    scratch: list[str] = []
    if workers > 1:
        signal = tempfile.mkdtemp(prefix="ruleengine-reload-")
        scratch.append(signal)
        os.environ["RULEENGINE_RELOAD_SIGNAL"] = signal
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            metrics = tempfile.mkdtemp(prefix="ruleengine-metrics-")
            scratch.append(metrics)
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics
    return scratch


def _decision_log_environment(
    path: Path, fsync: bool, on_error: str, max_bytes: int, key_file: Path | None
) -> None:
    _environment(
        {
            "DECISION_LOG": path,
            "DECISION_LOG_FSYNC": fsync,
            "DECISION_LOG_ON_ERROR": on_error,
            "DECISION_LOG_MAX_BYTES": max_bytes,
            "DECISION_LOG_KEY_FILE": key_file,
        }
    )


def command(
    rules: Annotated[Path, typer.Option("--rules", help="Rules folder to serve.")] = Path("rules"),
    bundle: Bundle = None,
    bundle_poll: BundlePoll = 30.0,
    bundle_timeout: BundleTimeout = 30.0,
    bundle_public_key: BundlePublicKey = None,
    bundle_max_age: BundleMaxAge = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    decision_log: DecisionLog = None,
    drafts_dir: DraftsDir = None,
    corpus: Corpus = None,
    decision_log_fsync: DecisionLogFsync = False,
    decision_log_on_error: DecisionLogOnError = "fail",
    decision_log_max_bytes: DecisionLogMaxBytes = 0,
    decision_log_key_file: DecisionLogKeyFile = None,
    allowed_hosts: AllowedHosts = None,
    request_timeout: RequestTimeout = 30.0,
    watch: Watch = True,
    drafts: Drafts = False,
    compiled_cache: CompiledCacheDir = None,
    cost_limit: CostLimit = None,
    cost_nominal_size: CostNominalSize = None,
    max_version_bytes: MaxVersionBytes = None,
    max_version_rows: MaxVersionRows = None,
    max_version_rules: MaxVersionRules = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning...")] = "info",
) -> None:
    """Serve decisions over HTTP: POST /v1/rulesets/{ruleset}/decisions/{decision}.

    Admin routes (POST /v1/admin/reload) need RULEENGINE_ADMIN_TOKEN in the environment.
    """
    if decision_log_on_error not in ("fail", "continue"):
        raise typer.BadParameter("fail or continue", param_hint="--decision-log-on-error")
    _environment({"RULES": rules, "WATCH": watch, "DRAFTS": drafts, "LOG_LEVEL": log_level})
    if bundle is not None:
        _environment(
            {
                "BUNDLE": bundle,
                "BUNDLE_POLL_SECONDS": bundle_poll,
                "BUNDLE_TIMEOUT_SECONDS": bundle_timeout,
                "BUNDLE_PUBLIC_KEY": bundle_public_key,
                "BUNDLE_MAX_AGE_SECONDS": bundle_max_age,
            }
        )
    if decision_log is not None:
        _decision_log_environment(
            decision_log,
            decision_log_fsync,
            decision_log_on_error,
            decision_log_max_bytes,
            decision_log_key_file,
        )
    _environment({"ALLOWED_HOSTS": allowed_hosts, "DRAFTS_DIR": drafts_dir, "CORPUS": corpus})
    _environment({"REQUEST_TIMEOUT_SECONDS": request_timeout})
    given = given_limits(
        cost_limit, cost_nominal_size, max_version_bytes, max_version_rows, max_version_rules
    )
    limits_from(given)  # a bad RULEENGINE_* limit is refused here, not in every worker
    os.environ.update(limits_environment(given))  # read by every worker's loads
    scratch = _shared_folders(workers)
    _compiled_cache(compiled_cache, workers, scratch)
    _run(host, port, workers, log_level, scratch)
