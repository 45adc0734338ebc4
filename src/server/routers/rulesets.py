"""`GET /v1/rulesets` and `GET /v1/rulesets/{ruleset}`: what is loaded, what is in
effect today, and how the last reload went."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi import APIRouter

import ruleengine
from ruleengine import find_suites, jsonio, load_suites

from ..deps import ServicesDep, SnapshotDep
from ..errors import ApiError
from ..wire import (
    ExampleList,
    RuleSetDetail,
    RuleSetList,
    public_reload_info,
    public_root,
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
        "last_reload": public_reload_info(services.store.last_reload, public_root(services)),
        "source": services.source.state() if services.source is not None else None,
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
        "last_reload": public_reload_info(
            last.errors_for(ruleset_folders(rs)) if last else None, public_root(services)
        ),
        "source": services.source.state() if services.source is not None else None,
    }


@router.get(
    "/{ruleset}/examples",
    response_model=ExampleList,
    responses=NOT_FOUND,
    summary="Inputs from the rule set's regression suites, to try decisions with",
)
async def get_examples(ruleset: str, snapshot: SnapshotDep) -> dict[str, Any]:
    rs = snapshot.engine.rulesets.get(ruleset)
    if rs is None:
        raise ApiError.one(404, "unknown_ruleset", "ruleset", f"unknown ruleset {ruleset!r}")
    return {"examples": _examples(rs)}


# Per loaded rule set: id -> (the rule set, its examples). A reload makes new RuleSet
# objects, so a stale entry is never hit; the rule set kept in it keeps its id unique.
_EXAMPLES: dict[int, tuple[ruleengine.RuleSet, list[dict[str, Any]]]] = {}


def _examples(rs: ruleengine.RuleSet) -> list[dict[str, Any]]:
    found = _EXAMPLES.get(id(rs))
    if found is None or found[0] is not rs:
        if len(_EXAMPLES) >= 16:
            _EXAMPLES.clear()
        found = _EXAMPLES[id(rs)] = (rs, _read_examples(rs))
    return found[1]


def _read_examples(rs: ruleengine.RuleSet) -> list[dict[str, Any]]:
    """The cases of the suites under the rule set's folder (`tests/`), readable ones only."""
    folder = Path(os.path.commonpath([v.root for v in rs.versions]))
    suites, _problems = load_suites(find_suites(folder), list(rs.versions))
    return [
        {
            "name": case.name,
            "decision": case.decision,
            "as_of": case.as_of.isoformat(),
            "version": case.version,
            "input": jsonio.to_plain(case.input),
            "expect": "error" if case.expect_errors else "result",
            "source": f"{case.file}:{case.line}",
        }
        for suite in suites
        for case in suite.cases
        if case.ruleset == rs.name
    ]
