"""`POST /v1/rulesets/{ruleset}/decisions/{decision}` and its `/batch` sibling.

The body is parsed here rather than by a pydantic model: numbers must stay exact
(Decimal), bodies are size-limited, and the OpenAPI document describes each
decision's own input and result (see `openapi.py`), which no static model can.
"""

from __future__ import annotations

import difflib
import json
import re
import time
import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

import ruleengine
from ruleengine import ContentHashUnavailableError, RuleEngineError, jsonio

from ..decision_log import DecisionLogUnavailable
from ..deps import CheckedBody, Services, ServicesDep, SnapshotDep
from ..errors import ApiError, engine_error, problem
from ..logs import request_id

router = APIRouter(tags=["decisions"])

DECIDE = "/v1/rulesets/{ruleset}/decisions/{decision}"
_HASH = re.compile(r"sha256:[0-9a-f]{64}")


def _envelope(body: Any, list_field: str) -> tuple[Any, str | None, bool, str | None]:
    """(input or inputs, version, explain, content_hash) of a request body; 422 listing
    every problem."""
    if not isinstance(body, dict):
        raise ApiError.one(
            422,
            "type",
            "",
            "the request body must be a JSON object"
            + ('; wrap the inputs: {"inputs": [...]}' if list_field == "inputs" else ""),
            expected="object",
            got=_kind(body),
        )
    allowed = ("content_hash", "explain", list_field, "version")
    unknown = [str(key) for key in body if key not in allowed]
    problems = [problem("unknown_field", key, _unknown(key, allowed)) for key in unknown]
    expected = "array" if list_field == "inputs" else "object"
    if list_field not in body:
        message = "missing required field"
        if unknown and not any(difflib.get_close_matches(k, allowed, n=1) for k in unknown):
            # Facts sent bare: the fields of the input itself, not of the envelope.
            shape = '{"inputs": [{...}, ...]}' if list_field == "inputs" else '{"input": {...}}'
            message += f"; wrap the facts in the request envelope: {shape}"
        problems.append(problem("required", list_field, message, expected=expected))
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
    content_hash = body.get("content_hash")
    if content_hash is not None and not isinstance(content_hash, str):
        problems.append(
            problem(
                "type",
                "content_hash",
                "expected a string",
                expected="string",
                got=_kind(content_hash),
            )
        )
    elif content_hash is not None and not _HASH.fullmatch(content_hash):
        problems.append(
            problem(
                "pattern",
                "content_hash",
                "expected sha256: and 64 lower-case hex digits, as answers report it",
                expected="sha256:<64 hex digits>",
                got=repr(content_hash[:80]),
            )
        )
    if problems:
        raise ApiError(422, problems)
    return body[list_field], version, explain, content_hash


def _pinned(
    engine: ruleengine.Engine, ruleset: str, version: str | None, content_hash: str | None
) -> str | None:
    """The version to pin: `version`, or the one with `content_hash` (409 if none here)."""
    if content_hash is None:
        return version
    try:
        return engine.pin_content(ruleset, content_hash, version)
    except ContentHashUnavailableError as exc:
        raise ApiError.one(409, exc.code, "content_hash", str(exc)) from None
    except RuleEngineError as exc:
        raise engine_error(exc) from None


def _unknown(key: str, allowed: tuple[str, ...]) -> str:
    """'unknown field', with the envelope field it most likely meant."""
    close = difflib.get_close_matches(key, allowed, n=1)
    return f"unknown field {key!r}" + (f"; did you mean {close[0]!r}?" if close else "")


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

    def decide(self, input: Any) -> tuple[dict[str, Any], bytes | None, str | None]:
        """The answer's envelope and its decision-log line; raises `ApiError` for a bad
        request."""
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
        log = self.services.decision_log
        if log is None:
            return out, None, None
        # The result's JSON text, encoded once for the log line and the answer.
        result_json = json.dumps(out["result"], ensure_ascii=False, separators=(",", ":"))
        return out, log.entry(self.engine, decision_id, made, input, result_json), result_json

    def check_names(self) -> None:
        """404 before deciding a batch: an unknown rule set, pinned version or decision."""
        rs = self.engine.ruleset(self.ruleset)  # raises NotFoundError
        if self.version is not None:
            self.engine.select(self.ruleset, self.engine.today(), self.version)
        if not self.decision_label:
            known = sorted({d for v in rs.versions for d in v.decisions})
            raise ruleengine.NotFoundError("decision", self.decision, known)


def _response(body: dict[str, Any], result_json: str | None) -> Response:
    """`JSONResponse(body)`, reusing the result's JSON text when it was already made."""
    if result_json is None or next(iter(body), None) != "result":
        return JSONResponse(body)
    rest = json.dumps(
        {k: v for k, v in body.items() if k != "result"},
        ensure_ascii=False,
        allow_nan=False,
        separators=(",", ":"),
    )
    text = '{"result":' + result_json + ("," + rest[1:] if len(rest) > 2 else "}")
    return Response(text.encode("utf-8"), media_type="application/json")


async def _answer(
    services: Services, body: Any, lines: list[bytes], result_json: str | None = None
) -> Response:
    """Send `body` once its decision-log lines are written (group commit); 413 when it is
    larger than `max_response_bytes`, 503 when the log cannot be written (fail closed)."""
    response = _response(body, result_json)
    limit = services.settings.max_response_bytes
    if len(response.body) > limit:
        raise ApiError.one(
            413,
            "response_too_large",
            "",
            f"the answer would be {len(response.body)} bytes; the limit is {limit} "
            "(ask for fewer inputs, or without explain)",
            expected=f"at most {limit} bytes",
            got=f"{len(response.body)} bytes",
        )
    log = services.decision_log
    if log is not None and lines:
        try:
            await log.commit(lines)
        except DecisionLogUnavailable:
            message = (
                "the decision could not be logged, so it is not answered; "
                f"request id {request_id.get()}"
            )
            raise ApiError(
                503,
                [problem("decision_log_unavailable", "", message)],
                headers={"Retry-After": "1"},
            ) from None
    return response


def _refuse_text(problems: tuple[jsonio.TextProblem, ...]) -> None:
    """422 listing every duplicate key and non-Unicode text of a request body."""
    if problems:
        raise ApiError(
            422, [problem(p.code, jsonio.path_text(p.path), p.message) for p in problems]
        )


@router.post(DECIDE, include_in_schema=False)
async def decide(
    ruleset: str, decision: str, body: CheckedBody, snapshot: SnapshotDep, services: ServicesDep
) -> Response:
    _refuse_text(body.problems)
    input, version, explain, content_hash = _envelope(body.value, "input")
    version = _pinned(snapshot.engine, ruleset, version, content_hash)
    decider = _Decider(services, snapshot.engine, ruleset, decision, version, explain)
    out, line, result_json = decider.decide(input)
    return await _answer(services, out, [line] if line is not None else [], result_json)


def _batch_paths(errors: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    """`input.x` -> `inputs[3].x`: paths into the batch request body."""
    out = []
    for error in errors:
        path = error["path"]
        if path == "input" or path.startswith(("input.", "input[")):
            error = {**error, "path": f"inputs[{index}]{path[len('input') :]}"}
        out.append(error)
    return out


def _item_problems(
    problems: tuple[jsonio.TextProblem, ...],
) -> dict[int, list[dict[str, Any]]]:
    """Problems inside one input of a batch, by index (that input alone is refused);
    a problem anywhere else refuses the whole request."""
    by_item: dict[int, list[dict[str, Any]]] = {}
    elsewhere = []
    for p in problems:
        if len(p.path) >= 2 and p.path[0] == "inputs" and isinstance(p.path[1], int):
            by_item.setdefault(p.path[1], []).append(
                problem(p.code, jsonio.path_text(p.path), p.message)
            )
        else:
            elsewhere.append(p)
    _refuse_text(tuple(elsewhere))
    return by_item


@router.post(DECIDE + "/batch", include_in_schema=False)
async def decide_batch(
    ruleset: str, decision: str, body: CheckedBody, snapshot: SnapshotDep, services: ServicesDep
) -> Response:
    bad_items = _item_problems(body.problems)
    inputs, version, explain, content_hash = _envelope(body.value, "inputs")
    settings = services.settings
    limit = settings.max_batch_explain if explain else settings.max_batch
    if len(inputs) > limit:
        raise ApiError.one(
            413,
            "batch_too_large",
            "inputs",
            f"a batch{' with explain' if explain else ''} holds at most {limit} inputs; "
            f"this one has {len(inputs)}",
            expected=f"at most {limit} inputs",
            got=f"{len(inputs)} inputs",
        )
    version = _pinned(snapshot.engine, ruleset, version, content_hash)
    decider = _Decider(services, snapshot.engine, ruleset, decision, version, explain)
    decider.check_names()
    results: list[dict[str, Any]] = []
    lines: list[bytes] = []
    for index, input in enumerate(inputs):
        if index in bad_items:
            results.append({"errors": bad_items[index]})
            continue
        try:
            out, line, _ = decider.decide(input)
        except ApiError as exc:
            results.append({"errors": _batch_paths(exc.errors, index)})
        else:
            results.append(out)
            if line is not None:
                lines.append(line)
    return await _answer(
        services, {"ruleset": ruleset, "decision": decision, "results": results}, lines
    )
