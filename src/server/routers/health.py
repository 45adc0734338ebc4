"""`/healthz` (the process answers), `/readyz` (rules are loaded and decisions can be
logged), `/metrics`. Nothing here names a file-system path: rule-file diagnostics are
shown relative to the rules folder."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from ..deps import ServicesDep
from ..wire import Health, Readiness, public_reload_info, public_root

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> dict[str, Any]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: see the fields why"}},
    summary="Readiness: ready once rules are loaded and decisions can be logged",
)
async def readyz(services: ServicesDep) -> Any:
    store = services.store
    snapshot = store.snapshot
    ready = snapshot is not None
    body: dict[str, Any] = {
        "pid": os.getpid(),
        "generation": snapshot.generation if snapshot is not None else 0,
        "loaded_at": snapshot.loaded_at if snapshot is not None else None,
        "last_reload": public_reload_info(store.last_reload, public_root(services)),
    }
    log = services.decision_log
    if log is not None:
        body["decision_log"] = {
            "ok": log.healthy,
            "error": log.error,
            "fail_closed": log.fail_closed,
        }
        ready = ready and (log.healthy or not log.fail_closed)
    if services.source is not None:
        body["source"] = services.source.state()
        ready = ready and not services.source.stale()
    body = {"status": "ready" if ready else "not_ready", **body}
    if not ready:
        return JSONResponse(body, status_code=503)
    return body


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    summary="Prometheus metrics",
)
async def metrics(services: ServicesDep) -> Response:
    return Response(services.metrics.render(), media_type=services.metrics.content_type)
