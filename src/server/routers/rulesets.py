"""`GET /v1/rulesets` and `GET /v1/rulesets/{ruleset}`: what is loaded, what is in
effect today, and how the last reload went."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..deps import ServicesDep, SnapshotDep
from ..errors import ApiError
from ..wire import (
    RuleSetDetail,
    RuleSetList,
    reload_info,
    ruleset_folders,
    ruleset_info,
    snapshot_header,
)

router = APIRouter(prefix="/v1/rulesets", tags=["rule sets"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Unknown rule set"}}


@router.get("", response_model=RuleSetList, summary="Rule sets and their versions")
async def list_rulesets(snapshot: SnapshotDep, services: ServicesDep) -> dict[str, Any]:
    engine = snapshot.engine
    return {
        **snapshot_header(snapshot),
        "last_reload": reload_info(services.store.last_reload),
        "rulesets": [ruleset_info(rs, engine) for rs in engine.rulesets.values()],
    }


@router.get(
    "/{ruleset}",
    response_model=RuleSetDetail,
    responses=NOT_FOUND,
    summary="A rule set: versions, effective dates, content hashes, the last reload",
)
async def get_ruleset(ruleset: str, snapshot: SnapshotDep, services: ServicesDep) -> dict[str, Any]:
    rs = snapshot.engine.rulesets.get(ruleset)
    if rs is None:
        raise ApiError.one(404, "unknown_ruleset", "ruleset", f"unknown ruleset {ruleset!r}")
    last = services.store.last_reload
    return {
        **ruleset_info(rs, snapshot.engine),
        **snapshot_header(snapshot),
        "last_reload": reload_info(last.errors_for(ruleset_folders(rs)) if last else None),
    }
