"""`POST /v1/rulesets/{ruleset}/decisions/{decision}` and its `/batch` sibling.

The hot path of the service, so these two are plain ASGI apps (`DecisionEndpoint`),
not FastAPI routes: no dependency injection, no request object, no pydantic. The
request-context middleware calls them directly for a POST to their paths (they are
also registered as routes, so other methods get the usual 405). The body is parsed
once (`jsonio.loads_envelope`: numbers stay exact Decimals, and the text of each
input is kept for the decision log), bodies are size-limited, and the answer is
written as JSON text once, for the client and the log line. The OpenAPI document
describes each decision's own input and result (see `openapi.py`).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from starlette.routing import Route
from starlette.types import Receive, Scope, Send

import ruleengine
from ruleengine import ContentHashUnavailableError, DecisionBudgetError, RuleEngineError, jsonio

from ..deadline import Busy, DeadlineExceeded, Offloader
from ..decision_log import DecisionLogUnavailable
from ..deps import Services, receive_body
from ..errors import ApiError, budget_error, engine_error, errors_response, problem
from ..logs import request_id

DECIDE = "/v1/rulesets/{ruleset}/decisions/{decision}"
T = TypeVar("T")
# How much more an explained decision costs than its plain one, at most (bench/README.md:
# about 6x the plain run for the trace, up to 22x with the derivation tree).
EXPLAIN_WEIGHT = 25
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


class _RandomIds:
    """Random (version 4) UUIDs as text, like `str(uuid.uuid4())`, drawn from
    `os.urandom` 4 KiB at a time: one system call per 256 ids, not one per decision (a
    batch of 100 spent a sixth of its time in `urandom`). The pool belongs to one process
    (a forked child draws its own) and is shared by the threads of costly decisions."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._at = 0
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._pool, self._at = b"", 0

    def __call__(self) -> str:
        with self._lock:
            at = self._at
            if at >= len(self._pool):
                self._pool, at = os.urandom(4096), 0
            self._at = at + 16
            raw = bytearray(self._pool[at : at + 16])
        raw[6] = raw[6] & 0x0F | 0x40
        raw[8] = raw[8] & 0x3F | 0x80
        x = raw.hex()
        return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


_uuid4 = _RandomIds()


_LABELS: dict[tuple[int, str, str, str | None], tuple[ruleengine.Engine, tuple[str, str, str]]]
_LABELS = {}


def _labels(
    engine: ruleengine.Engine, ruleset: str, decision: str, version: str | None
) -> tuple[str, str, str]:
    """The metric labels of a request's rule set, decision and version: each its name if
    the engine knows it, else "" (clients cannot grow the label space). Worked out once
    per engine and names."""
    key = (id(engine), ruleset, decision, version)
    cached = _LABELS.get(key)
    if cached is not None and cached[0] is engine:
        return cached[1]
    known = engine.rulesets.get(ruleset)
    labels = (
        ruleset if known is not None else "",
        decision
        if known is not None and any(decision in v.decisions for v in known.versions)
        else "",
        version if known is not None and version and known.get(version) else "",
    )
    if len(_LABELS) >= 4096:  # names sent by clients, engines replaced by reloads
        _LABELS.clear()
    _LABELS[key] = (engine, labels)
    return labels


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
        self.log = services.decision_log
        self.engine = engine
        self.ruleset = ruleset
        self.decision = decision
        self.version = version
        self.explain = explain
        self.ruleset_label, self.decision_label, self.version_label = _labels(
            engine, ruleset, decision, version
        )
        # decisions by labels, counted once per batch (None: counted as they are made)
        self.counts: dict[tuple[str, str, str, str], int] | None = None
        # read here, on the event loop: a costly decision runs in a thread of its own,
        # which does not see the request's context
        self.request_id = request_id.get()

    def decide(self, input: Any, source: str | None = None) -> tuple[str, bytes | None]:
        """The answer's JSON text (`{"result", "ruleset", …, "decision_id"}`) and its
        decision-log line; `source` is the input's JSON text as the client sent it.
        Raises `ApiError` for a bad request."""
        metrics = self.services.metrics
        start = time.perf_counter()
        try:
            made = self.engine.decide(
                self.ruleset, self.decision, input, version=self.version, explain=self.explain
            )
        except RuleEngineError as exc:
            self._count(self.ruleset_label, self.decision_label, self.version_label, exc.code)
            raise engine_error(exc) from None
        except DecisionBudgetError as exc:
            self._count(self.ruleset_label, self.decision_label, self.version_label, exc.code)
            raise budget_error(exc, self.request_id) from None
        metrics.observe_decision(self.ruleset, self.decision, time.perf_counter() - start)
        self._count(self.ruleset, self.decision, made.version, "ok")
        decision_id = _uuid4()
        if self.explain:
            text = jsonio.decision_json(made, decision_id=decision_id)
            result_json = text[len('{"result":') : text.index(',"ruleset":')]
        else:
            result_json = jsonio.plain_json(made.result)
            text = (
                f'{{"result":{result_json},'
                f"{jsonio.names_json(made.ruleset, made.decision, made.version, made.content_hash)},"
                f'"as_of":"{made.as_of.isoformat()}",'
                f'"locale":{jsonio.string_json(made.locale)},'
                f'"decision_id":"{decision_id}"}}'
            )
        if self.log is None:
            return text, None
        return text, self.log.entry(self.engine, decision_id, made, input, result_json, source)

    def _count(self, ruleset: str, decision: str, version: str, outcome: str) -> None:
        """Count a decision by its labels: now, or (a batch) once per batch and labels."""
        if self.counts is None:
            self.services.metrics.count_decision(ruleset, decision, version, outcome)
        else:
            labels = (ruleset, decision, version, outcome)
            self.counts[labels] = self.counts.get(labels, 0) + 1

    def flush_counts(self) -> None:
        """Add up the decisions a batch counted (`counts`) in the metrics."""
        if self.counts:
            for labels, amount in self.counts.items():
                self.services.metrics.count_decision(*labels, amount=amount)
            self.counts.clear()

    def check_names(self) -> None:
        """404 before deciding a batch: an unknown rule set, pinned version or decision."""
        rs = self.engine.ruleset(self.ruleset)  # raises NotFoundError
        if self.version is not None:
            self.engine.select(self.ruleset, self.engine.today(), self.version)
        if not self.decision_label:
            known = sorted({d for v in rs.versions for d in v.decisions})
            raise ruleengine.NotFoundError("decision", self.decision, known)


def _refuse_text(problems: tuple[jsonio.TextProblem, ...]) -> None:
    """422 listing every duplicate key and non-Unicode text of a request body."""
    if problems:
        raise ApiError(
            422, [problem(p.code, jsonio.path_text(p.path), p.message) for p in problems]
        )


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


_JSON_HEADERS = [(b"content-type", b"application/json")]


class DecisionEndpoint:
    """The ASGI app of `POST DECIDE` (`batch=False`) or `POST DECIDE/batch`."""

    def __init__(self, services: Services, batch: bool, offloader: Offloader) -> None:
        self.services = services
        self.batch = batch
        self.offloader = offloader
        self.path = DECIDE + "/batch" if batch else DECIDE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.respond(scope, receive, send, ())

    async def respond(
        self, scope: Scope, receive: Receive, send: Send, extra: Sequence[tuple[bytes, bytes]]
    ) -> int:
        """Answer the request, with the `extra` headers (the request context's: request
        id, security headers) on the answer; the status sent. The request context calls
        this directly, so the hot path needs no `send` wrapper to add them."""
        params = scope["path_params"]
        try:
            body = await self._answer(scope, receive, params["ruleset"], params["decision"])
        except ApiError as exc:
            return await _send_errors(exc, extra, scope, receive, send)
        except RuleEngineError as exc:
            return await _send_errors(engine_error(exc), extra, scope, receive, send)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode()), *extra],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return 200

    async def _answer(self, scope: Scope, receive: Receive, ruleset: str, decision: str) -> bytes:
        services = self.services
        snapshot = services.store.snapshot
        if snapshot is None:
            raise ApiError.one(503, "not_ready", "", "no rules are loaded yet")
        deadline = time.monotonic() + services.settings.request_timeout_seconds
        data = await receive_body(scope, receive, services.settings.max_body_bytes)
        try:
            body = jsonio.loads_envelope(
                data,
                "inputs" if self.batch else "",
                # the inputs' texts are only written back to the decision log
                spans=services.decision_log is not None,
            )
        except jsonio.JSONInputError as exc:
            where = f" at line {exc.line}, column {exc.column}" if exc.line else ""
            raise ApiError.one(400, "malformed_json", "", f"{exc}{where}") from None
        engine = snapshot.engine
        if self.batch:
            work, inputs = self._batch(engine, ruleset, decision, body)
        else:
            _refuse_text(body.problems)
            input, version, explain, content_hash = _envelope(body.value, "input")
            version = _pinned(engine, ruleset, version, content_hash)
            decider = _Decider(services, engine, ruleset, decision, version, explain)
            span = body.fields.get("input") if body.fields is not None else None
            source = body.source(span) if span is not None else None

            def work() -> tuple[str, list[bytes]]:
                text, line = decider.decide(input, source)
                return text, [line] if line is not None else []

            inputs = [input]
        poly = self.offloader.bound(engine, ruleset, decision)
        weight = EXPLAIN_WEIGHT if body.value.get("explain") is True else 1
        if self.offloader.is_cheap(poly, len(data), inputs, weight):
            text, lines = work()  # the usual case: no thread hop
        else:
            text, lines = await self._offload(work, deadline)
        return await _answer(services, text, lines, deadline)

    async def _offload(self, work: Callable[[], T], deadline: float) -> T:
        """`work()` in a thread of its own, within the request's deadline."""
        try:
            return await self.offloader.run(work, deadline - time.monotonic())
        except Busy:
            raise ApiError(
                503,
                [
                    problem(
                        "busy",
                        "",
                        "every thread for costly decisions is taken; try again shortly "
                        f"(request id {request_id.get()})",
                    )
                ],
                headers={"Retry-After": "1"},
            ) from None
        except DeadlineExceeded:
            raise _past_deadline(self.services) from None

    def _batch(
        self, engine: ruleengine.Engine, ruleset: str, decision: str, body: jsonio.Envelope
    ) -> tuple[Callable[[], tuple[str, list[bytes]]], list[Any]]:
        """The work of deciding a batch (after its checks), and its inputs."""
        services = self.services
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
        version = _pinned(engine, ruleset, version, content_hash)
        decider = _Decider(services, engine, ruleset, decision, version, explain)
        decider.check_names()
        spans = body.items if body.items is not None and len(body.items) == len(inputs) else None
        names = json.dumps(
            {"ruleset": ruleset, "decision": decision}, ensure_ascii=False, separators=(",", ":")
        )

        decider.counts = {}

        def work() -> tuple[str, list[bytes]]:
            try:
                return decide_all()
            finally:
                decider.flush_counts()

        def decide_all() -> tuple[str, list[bytes]]:
            parts: list[str] = []
            lines: list[bytes] = []
            for index, input in enumerate(inputs):
                if index in bad_items:
                    parts.append(_errors_text(bad_items[index]))
                    continue
                try:
                    text, line = decider.decide(
                        input, body.source(spans[index]) if spans is not None else None
                    )
                except ApiError as exc:
                    parts.append(_errors_text(_batch_paths(exc.errors, index)))
                else:
                    parts.append(text)
                    if line is not None:
                        lines.append(line)
            return names[:-1] + ',"results":[' + ",".join(parts) + "]}", lines

        return work, [x for i, x in enumerate(inputs) if i not in bad_items]


async def _send_errors(
    exc: ApiError,
    extra: Sequence[tuple[bytes, bytes]],
    scope: Scope,
    receive: Receive,
    send: Send,
) -> int:
    response = errors_response(exc.status, exc.errors, exc.headers)
    present = {name for name, _ in response.raw_headers}
    response.raw_headers.extend(h for h in extra if h[0] not in present)
    await response(scope, receive, send)
    return exc.status


def _past_deadline(services: Services) -> ApiError:
    seconds = services.settings.request_timeout_seconds
    return ApiError(
        504,
        [
            problem(
                "deadline_exceeded",
                "",
                f"the request was not answered within its deadline ({seconds:g} s; "
                f"serve --request-timeout); request id {request_id.get()}",
            )
        ],
    )


def _errors_text(errors: list[dict[str, Any]]) -> str:
    return json.dumps({"errors": errors}, ensure_ascii=False, separators=(",", ":"))


async def _answer(services: Services, text: str, lines: list[bytes], deadline: float) -> bytes:
    """The answer's bytes once its decision-log lines are written (group commit); 413 when
    it is larger than `max_response_bytes`, 503 when the log cannot be written (fail
    closed), 504 when that takes past the request's deadline."""
    body = text.encode("utf-8")
    limit = services.settings.max_response_bytes
    if len(body) > limit:
        raise ApiError.one(
            413,
            "response_too_large",
            "",
            f"the answer would be {len(body)} bytes; the limit is {limit} "
            "(ask for fewer inputs, or without explain)",
            expected=f"at most {limit} bytes",
            got=f"{len(body)} bytes",
        )
    log = services.decision_log
    if log is not None and lines:
        try:
            await log.commit(lines, max(deadline - time.monotonic(), 0.0))
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
        except TimeoutError:
            raise _past_deadline(services) from None
    return body


def routes(services: Services) -> list[Route]:
    """The two decision routes (POST only: other methods get 405), sharing the threads
    for costly decisions."""
    settings = services.settings
    offloader = Offloader(settings.decision_inline_steps, settings.decision_threads)
    return [
        Route(DECIDE, DecisionEndpoint(services, False, offloader), methods=["POST"]),
        Route(DECIDE + "/batch", DecisionEndpoint(services, True, offloader), methods=["POST"]),
    ]
