"""Dependencies, as `Annotated` aliases: the services of this app, and the JSON body
read under the size limit (Content-Length first, then the bytes as they stream)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope

from ruleengine import jsonio

from .decision_log import DecisionLog
from .errors import ApiError
from .metrics import Metrics
from .settings import Settings
from .store import Snapshot, VersionStore

log = logging.getLogger("server.access")


@dataclass(frozen=True, slots=True)
class Services:
    """What the routes need, built once by `create_app` and kept on `app.state`."""

    settings: Settings
    store: VersionStore
    metrics: Metrics
    decision_log: DecisionLog | None
    source: Any = None  # BundleSource or FolderSource: `state()` and `stale()` for /readyz


async def get_services(request: Request) -> Services:  # async: no threadpool hop
    services: Services = request.app.state.services
    return services


async def get_snapshot(request: Request) -> Snapshot:
    """The versions this request is decided with (read once: reloads cannot tear it)."""
    services: Services = request.app.state.services
    snapshot = services.store.snapshot
    if snapshot is None:
        raise ApiError.one(503, "not_ready", "", "no rules are loaded yet")
    return snapshot


def too_large(limit: int) -> ApiError:
    return ApiError.one(413, "body_too_large", "", f"the request body is larger than {limit} bytes")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing with 413 as soon as it is known to pass `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise too_large(limit)
        except ValueError:
            raise ApiError.one(400, "bad_request", "", "Content-Length is not a number") from None
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:  # one line, not a traceback: nobody is left to answer
        log.info(
            "client disconnected before sending the whole body",
            extra={"path": request.url.path, "received_bytes": size},
        )
        raise ApiError.one(400, "client_disconnected", "", "the client went away") from None
    return b"".join(chunks)


async def receive_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """`read_body` for a plain ASGI app (the decision endpoints)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                raise ApiError.one(
                    400, "bad_request", "", "Content-Length is not a number"
                ) from None
            if declared > limit:
                raise too_large(limit)
            break
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect: one line, not a traceback
            log.info(
                "client disconnected before sending the whole body",
                extra={"path": scope["path"], "received_bytes": size},
            )
            raise ApiError.one(400, "client_disconnected", "", "the client went away")
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


@dataclass(frozen=True, slots=True)
class Body:
    """A JSON request body (fractional numbers as exact Decimals) and what it must not
    hold (duplicate keys, text that is not Unicode), each with its path."""

    value: Any
    problems: tuple[jsonio.TextProblem, ...]


async def get_checked_body(request: Request) -> Body:
    """The body as JSON: 400 if it is not JSON (its problems are the route's to refuse,
    so a batch can refuse only the inputs that hold them)."""
    services: Services = request.app.state.services
    body = await read_body(request, services.settings.max_body_bytes)
    try:
        return Body(*jsonio.loads_request(body))
    except jsonio.JSONInputError as exc:
        where = f" at line {exc.line}, column {exc.column}" if exc.line else ""
        raise ApiError.one(400, "malformed_json", "", f"{exc}{where}") from None


async def get_json_body(request: Request) -> Any:
    """The body as JSON: 400 if it is not JSON, 422 naming each duplicate key and each
    text that is not Unicode."""
    body = await get_checked_body(request)
    if body.problems:
        raise ApiError(
            422,
            [
                {"code": p.code, "path": jsonio.path_text(p.path), "message": p.message}
                for p in body.problems
            ],
        )
    return body.value


ServicesDep = Annotated[Services, Depends(get_services)]
SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
JsonBody = Annotated[Any, Depends(get_json_body)]
CheckedBody = Annotated[Body, Depends(get_checked_body)]
