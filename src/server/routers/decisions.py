"""`POST /v1/rulesets/{ruleset}/decisions/{decision}` and its `/batch` sibling.

The body is parsed here rather than by a pydantic model: numbers must stay exact
(Decimal), bodies are size-limited, and the OpenAPI document describes each
decision's own input and result (see `openapi.py`), which no static model can.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

import ruleengine
from ruleengine import RuleEngineError, jsonio

from ..deps import JsonBody, Services, ServicesDep, SnapshotDep
from ..errors import ApiError, engine_error, problem

router = APIRouter(tags=["decisions"])

DECIDE = "/v1/rulesets/{ruleset}/decisions/{decision}"


def _envelope(body: Any, list_field: str) -> tuple[Any, str | None, bool]:
    """(input or inputs, version, explain) of a request body; 422 listing every problem."""
    if not isinstance(body, dict):
        raise ApiError.one(
            422,
            "type",
            "",
            "the request body must be a JSON object",
            expected="object",
            got=_kind(body),
        )
    allowed = {list_field, "version", "explain"}
    problems = [
        problem("unknown_field", str(key), f"unknown field {key!r}")
        for key in body
        if key not in allowed
    ]
    expected = "array" if list_field == "inputs" else "object"
    if list_field not in body:
        problems.append(
            problem("required", list_field, "missing required field", expected=expected)
        )
    elif list_field == "inputs" and not isinstance(body["inputs"], list):
        problems.append(
            problem(
                "type", "inputs", "expected an array", expected="array", got=_kind(body["inputs"])
            )
        )
    version = body.get("version")
    if version is not None and not isinstance(version, str):
        problems.append(
            problem("type", "version", "expected a string", expected="string", got=_kind(version))
        )
    explain = body.get("explain", False)
    if not isinstance(explain, bool):
        problems.append(
            problem("type", "explain", "expected a boolean", expected="boolean", got=_kind(explain))
        )
    if problems:
        raise ApiError(422, problems)
    return body[list_field], version, explain


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class _Decider:
    """Decides inputs of one decision against one snapshot, with metrics and the log."""

    def __init__(
        self,
        services: Services,
        engine: ruleengine.Engine,
        ruleset: str,
        decision: str,
        version: str | None,
        explain: bool,
    ) -> None:
        self.services = services
        self.engine = engine
        self.ruleset = ruleset
        self.decision = decision
        self.version = version
        self.explain = explain
        known = engine.rulesets.get(ruleset)
        self.ruleset_label = ruleset if known is not None else ""
        self.decision_label = (
            decision
            if known is not None and any(decision in v.decisions for v in known.versions)
            else ""
        )
        self.version_label = version if known is not None and version and known.get(version) else ""

    def decide(self, input: Any) -> dict[str, Any]:
        """The answer's envelope; raises `ApiError` for a bad request."""
        metrics = self.services.metrics
        start = time.perf_counter()
        try:
            made = self.engine.decide(
                self.ruleset, self.decision, input, version=self.version, explain=self.explain
            )
        except RuleEngineError as exc:
            metrics.decisions.labels(
                self.ruleset_label, self.decision_label, self.version_label, exc.code
            ).inc()
            raise engine_error(exc) from None
        metrics.decision_seconds.labels(self.ruleset, self.decision).observe(
            time.perf_counter() - start
        )
        metrics.decisions.labels(self.ruleset, self.decision, made.version, "ok").inc()
        decision_id = str(uuid.uuid4())
        out = jsonio.decision_to_json(made)
        out["decision_id"] = decision_id
        if self.services.decision_log is not None:
            self.services.decision_log.record(decision_id, made, input)
        return out

    def check_names(self) -> None:
        """404 before deciding a batch: an unknown rule set, pinned version or decision."""
        rs = self.engine.ruleset(self.ruleset)  # raises NotFoundError
        if self.version is not None:
            self.engine.select(self.ruleset, self.engine.today(), self.version)
        if not self.decision_label:
            known = sorted({d for v in rs.versions for d in v.decisions})
            raise ruleengine.NotFoundError("decision", self.decision, known)


@router.post(DECIDE, include_in_schema=False)
async def decide(
    ruleset: str, decision: str, body: JsonBody, snapshot: SnapshotDep, services: ServicesDep
) -> JSONResponse:
    input, version, explain = _envelope(body, "input")
    decider = _Decider(services, snapshot.engine, ruleset, decision, version, explain)
    return JSONResponse(decider.decide(input))


def _batch_paths(errors: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    """`input.x` -> `inputs[3].x`: paths into the batch request body."""
    out = []
    for error in errors:
        path = error["path"]
        if path == "input" or path.startswith(("input.", "input[")):
            error = {**error, "path": f"inputs[{index}]{path[len('input') :]}"}
        out.append(error)
    return out


@router.post(DECIDE + "/batch", include_in_schema=False)
async def decide_batch(
    ruleset: str, decision: str, body: JsonBody, snapshot: SnapshotDep, services: ServicesDep
) -> JSONResponse:
    inputs, version, explain = _envelope(body, "inputs")
    limit = services.settings.max_batch
    if len(inputs) > limit:
        raise ApiError.one(
            413,
            "batch_too_large",
            "inputs",
            f"a batch holds at most {limit} inputs; this one has {len(inputs)}",
            expected=f"at most {limit} inputs",
            got=f"{len(inputs)} inputs",
        )
    decider = _Decider(services, snapshot.engine, ruleset, decision, version, explain)
    decider.check_names()
    results: list[dict[str, Any]] = []
    for index, input in enumerate(inputs):
        try:
            results.append(decider.decide(input))
        except ApiError as exc:
            results.append({"errors": _batch_paths(exc.errors, index)})
    return JSONResponse({"ruleset": ruleset, "decision": decision, "results": results})
