"""The server's settings: one class, read from `RULEENGINE_*` environment variables.

`ruleengine serve` sets `RULEENGINE_RULES` and `RULEENGINE_DECISION_LOG`; every
worker process reads the same environment, so every worker is configured alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class Settings(BaseSettings):
    """Everything the service can be told; defaults suit `make serve`."""

    model_config = SettingsConfigDict(env_prefix="RULEENGINE_", extra="ignore")

    rules: Path = Field(
        default=Path("rules"), description="Folder holding every rule set and version."
    )
    bundle: str | None = Field(
        default=None,
        description="Serve the rules of this bundle (http, https or file URL, or a path) "
        "instead of the `rules` folder; see docs/bundles.md.",
    )
    bundle_poll_seconds: float = Field(
        default=30.0, ge=0, description="How often to ask for a new bundle (0: never)."
    )
    bundle_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Overall deadline of one bundle download, however slowly it arrives.",
    )
    bundle_public_key: Path | None = Field(
        default=None,
        description="PEM Ed25519 public key: only bundles signed with its private key "
        "(`ruleengine bundle --sign KEY`) are loaded.",
    )
    bundle_max_age_seconds: float | None = Field(
        default=None,
        gt=0,
        description="Not ready once the bundle source has not answered for this long "
        "(default: never).",
    )
    decision_log: Path | None = Field(
        default=None, description="Append one JSON line per decision here."
    )
    decision_log_fsync: bool = Field(
        default=False,
        description="fsync the decision log once per batch of lines before answering "
        "(an answered decision then survives a power cut, not only a crash).",
    )
    decision_log_on_error: Literal["fail", "continue"] = Field(
        default="fail",
        description="When the decision log cannot be written: fail (answer decisions 503, "
        "not ready) or continue (answer; count the lost lines in a metric).",
    )
    decision_log_max_bytes: int = Field(
        default=0,
        ge=0,
        description="Rotate the decision log before it grows past this size (0: never); "
        "rotated files are kept as <name>.<UTC time>.",
    )
    decision_log_key_file: Path | None = Field(
        default=None,
        description="A file holding the key of the HMAC that replaces `sensitive` input "
        "fields in the decision log (without one, they are logged as 'redacted').",
    )
    admin_token: SecretStr | None = Field(
        default=None,
        description="Bearer token for /v1/admin/*; admin routes are disabled without it.",
    )
    max_body_bytes: int = Field(default=MIB, gt=0, description="Larger request bodies get 413.")
    max_batch: int = Field(default=1000, gt=0, description="Batches with more inputs get 413.")
    max_batch_explain: int = Field(
        default=100,
        gt=0,
        description="A batch asking for explanations holds at most this many inputs (413).",
    )
    max_response_bytes: int = Field(
        default=8 * MIB,
        gt=0,
        description="A decision answer larger than this is refused (413) instead of sent.",
    )
    header_timeout_seconds: float = Field(
        default=10.0,
        ge=0,
        description="Close a connection whose request headers take longer (0: no limit).",
    )
    body_timeout_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Close a connection whose request body takes longer (0: no limit).",
    )
    request_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Answer a decision request 504 (deadline_exceeded) once it has taken "
        "this long, and stop its decision.",
    )
    decision_inline_steps: int = Field(
        default=100_000,
        ge=0,
        description="Decide on the event loop when the decision's static cost bound for the "
        "request is at most this many steps; costlier requests are decided in a thread "
        "of their own, so the worker goes on answering (/healthz included).",
    )
    decision_threads: int = Field(
        default=4,
        gt=0,
        description="Costly decisions run at once per worker; more are answered 503 (busy).",
    )
    allowed_hosts: str | None = Field(
        default=None,
        description="Comma-separated Host names the service answers (e.g. "
        "'decisions.example.com,*.internal'); other Host headers get 400. Default: any.",
    )
    admin_max_failures: int = Field(
        default=5,
        gt=0,
        description="Failed admin logins from one client allowed per minute; more get 429.",
    )
    drafts: bool = Field(
        default=False,
        description="Also load draft versions (not in their rule set's versions.lock), "
        "decided only when a request pins one by name.",
    )
    watch: bool = Field(default=True, description="Reload when a file under `rules` changes.")
    watch_debounce_ms: int = Field(default=300, ge=0, description="Quiet time before a reload.")
    watch_settle_ms: int = Field(
        default=1000,
        ge=0,
        description="A reload waits until no file under `rules` has changed for this long, "
        "so a file written slowly is never loaded half-written.",
    )
    reload_signal: Path | None = Field(
        default=None,
        description="A folder shared by the workers of one server: an admin reload in one "
        "worker touches a file here, and every worker reloads.",
    )
    playground: bool = Field(
        default=True, description="Serve the playground page at / and /playground."
    )
    drafts_dir: Path | None = Field(
        default=None,
        description="Where the playground saves drafts (admin token); never the rules folder.",
    )
    corpus: Path | None = Field(
        default=None,
        description="JSON lines of inputs the playground shows a draft's impact on "
        "(default: the decision log).",
    )
    access_log: bool = Field(default=True, description="Log one JSON line per request.")
    log_level: str = Field(default="info", description="Level of the server's JSON log lines.")

    @property
    def host_list(self) -> list[str]:
        return [h.strip() for h in (self.allowed_hosts or "").split(",") if h.strip()]

    @property
    def admin_enabled(self) -> bool:
        return self.admin_token is not None and bool(self.admin_token.get_secret_value())
