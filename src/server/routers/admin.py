"""`POST /v1/admin/reload`, behind a bearer token (`RULEENGINE_ADMIN_TOKEN`).

Mounted only when the token is configured: otherwise admin routes do not exist
(404). A wrong or missing token gets 401 and a warning in the log.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from ..deps import ServicesDep
from ..errors import ApiError, problem
from ..watch import signal_reload
from ..wire import ReloadAnswer

log = logging.getLogger("server.admin")


def require_admin(request: Request, services: ServicesDep) -> None:
    token = services.settings.admin_token
    expected = token.get_secret_value().encode() if token is not None else b""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if (
        not expected
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(given.strip().encode(), expected)
    ):
        log.warning(
            "admin request refused: wrong or missing bearer token",
            extra={
                "path": request.url.path,
                "client": request.client.host if request.client else "-",
            },
        )
        raise ApiError(
            401,
            [problem("unauthorized", "headers.authorization", "a valid bearer token is required")],
            headers={"WWW-Authenticate": "Bearer"},
        )


AdminDep = Annotated[None, Depends(require_admin)]

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post(
    "/reload",
    response_model=ReloadAnswer,
    responses={
        401: {"description": "Wrong or missing bearer token"},
        422: {"description": "The rules did not load; the running versions stay"},
    },
    summary="Reload the rules now, in every worker",
)
async def reload(_: AdminDep, services: ServicesDep) -> dict[str, Any]:
    attempt = await run_in_threadpool(services.store.reload, "admin")
    if services.settings.reload_signal is not None:
        await run_in_threadpool(signal_reload, services.settings.reload_signal)
    if not attempt.ok:
        raise ApiError(
            422,
            [
                problem(d.code, d.location, d.message + (f" (hint: {d.hint})" if d.hint else ""))
                for d in attempt.errors
            ],
        )
    return {"reload": attempt.to_json()}
