"""Wire types of the fixed routes (rule sets, health, admin), for validation of what
we send and for the OpenAPI document. Decision envelopes are described per decision
in `openapi.py`."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

import ruleengine

from .store import ReloadAttempt, Snapshot


class RuleDiagnostic(BaseModel):
    code: str
    message: str
    file: str
    line: int
    column: int
    hint: str | None = None


class ReloadInfo(BaseModel):
    number: int = Field(description="Attempts since this worker started, the first load included.")
    trigger: str = Field(description="startup, watch (a file changed), admin, or signal.")
    time: str
    ok: bool
    seconds: float
    errors: list[RuleDiagnostic] = Field(
        description="Why the reload failed; the running versions stayed."
    )


class VersionInfo(BaseModel):
    version: str
    effective_from: str
    content_hash: str
    decisions: list[str]
    in_effect: bool = Field(description="Whether this version decides requests dated today.")
    status: str = Field(
        description="published (in versions.lock), draft (served only when pinned, with "
        "serve --drafts) or unlocked (its rule set has no versions.lock); may grow."
    )


class RuleSetInfo(BaseModel):
    name: str
    in_effect: str | None = Field(description="The version in effect today, if any.")
    versions: list[VersionInfo]


class RuleSetDetail(RuleSetInfo):
    today: str
    loaded_at: str
    last_reload: ReloadInfo | None
    source: SourceState | None = None


class RuleSetList(BaseModel):
    today: str
    loaded_at: str
    last_reload: ReloadInfo | None
    source: SourceState | None = None
    rulesets: list[RuleSetInfo]


class Example(BaseModel):
    name: str = Field(description="The regression-suite case this input comes from.")
    decision: str
    as_of: str
    version: str | None = Field(description="The version the case pins, if any.")
    input: dict[str, Any] = Field(description="The case's input (decimals as strings).")
    expect: str = Field(description="result, or error: the case expects the input refused.")
    source: str = Field(description="file:line of the case.")


class ExampleList(BaseModel):
    examples: list[Example]


class Health(BaseModel):
    status: str


class DecisionLogState(BaseModel):
    ok: bool = Field(description="Whether the last write (or open) of the decision log worked.")
    error: str | None = Field(description="Why it did not; decisions get 503 meanwhile.")
    fail_closed: bool = Field(description="Whether decisions are refused while it fails.")


class SourceState(BaseModel):
    kind: str = Field(description="folder or bundle")
    source: str = Field(description="The bundle URL, or the rules folder's name.")
    bundle_digest: str | None = Field(description="sha256 of the bundle the rules came from.")
    last_fetch: str | None = Field(
        description="When the source last answered (bundle) or the rules last loaded (folder)."
    )
    last_error: str | None = Field(description="What went wrong last, if it still stands.")
    last_error_at: str | None = None
    signed_by_required_key: bool | None = None
    max_age_seconds: float | None = None
    stale: bool | None = Field(
        default=None,
        description="The source has not answered for longer than max_age_seconds: not ready.",
    )


class Readiness(BaseModel):
    status: str = Field(
        description="ready once rules are loaded (and the decision log, when it fails "
        "closed, can be written), else not_ready"
    )
    pid: int
    generation: int = Field(description="How many times rules were swapped in, by this worker.")
    loaded_at: str | None
    last_reload: ReloadInfo | None
    decision_log: DecisionLogState | None = None
    source: SourceState | None = None


class ReloadAnswer(BaseModel):
    reload: ReloadInfo


def ruleset_info(rs: ruleengine.RuleSet, engine: ruleengine.Engine) -> dict[str, Any]:
    current = rs.in_effect(engine.today())
    return {
        "name": rs.name,
        "in_effect": current.version if current else None,
        "versions": [
            {
                "version": v.version,
                "effective_from": v.effective_from.isoformat(),
                "content_hash": v.content_hash,
                "decisions": sorted(v.decisions),
                "in_effect": v is current,
                "status": v.status,
            }
            for v in rs.versions
        ],
    }


def ruleset_folders(rs: ruleengine.RuleSet) -> tuple[str, ...]:
    """Where a rule set's files live: its version folders and their parents."""
    roots = {v.root for v in rs.versions}
    return tuple(sorted(roots | {os.path.dirname(r) for r in roots if os.path.dirname(r)}))


def reload_info(attempt: ReloadAttempt | None) -> dict[str, Any] | None:
    return attempt.to_json() if attempt is not None else None


# Where a bundle is unpacked: <tmp>/ruleengine-bundle-<random>/<n>/
_BUNDLE_FOLDER = re.compile(r"^.*/ruleengine-bundle-[^/]+/[0-9]+/")


def public_path(file: str, rules: Path) -> str:
    """A diagnostic's file as public answers show it: relative to the rules folder (or
    the unpacked bundle), never a path of the server's file system."""
    if not file:
        return file
    bundled = _BUNDLE_FOLDER.sub("", file)
    if bundled != file:
        return bundled
    root = str(rules.resolve())
    for prefix in (root, os.path.relpath(root)):
        if file.startswith(prefix + os.sep):
            return file[len(prefix) + 1 :]
    return os.path.basename(file) if os.path.isabs(file) else file


def public_root(services: Any) -> Path:
    """The folder public answers show rule files relative to."""
    root = getattr(services.source, "root", None)
    return Path(root) if root is not None else Path(services.settings.rules)


def public_reload_info(attempt: ReloadAttempt | None, rules: Path) -> dict[str, Any] | None:
    """`reload_info` with every diagnostic's file made public (`public_path`)."""
    info = reload_info(attempt)
    if info is not None:
        info["errors"] = [{**e, "file": public_path(e["file"], rules)} for e in info["errors"]]
    return info


def snapshot_header(snapshot: Snapshot) -> dict[str, Any]:
    return {"today": snapshot.engine.today().isoformat(), "loaded_at": snapshot.loaded_at}
