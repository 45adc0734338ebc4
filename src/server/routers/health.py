"""`/healthz` (the process answers), `/readyz` (rules are loaded), `/metrics`."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from ..deps import ServicesDep
from ..wire import Health, Readiness, reload_info

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> dict[str, Any]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "No rules loaded yet"}},
    summary="Readiness: ready once rules are loaded",
)
async def readyz(services: ServicesDep) -> Any:
    store = services.store
    snapshot = store.snapshot
    body = {
        "status": "ready" if snapshot is not None else "not_ready",
        "pid": os.getpid(),
        "generation": snapshot.generation if snapshot is not None else 0,
        "loaded_at": snapshot.loaded_at if snapshot is not None else None,
        "last_reload": reload_info(store.last_reload),
    }
    if snapshot is None:
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
