"""`POST /v1/admin/reload`, behind a bearer token (`RULEENGINE_ADMIN_TOKEN`).

Mounted only when the token is configured: otherwise every admin path answers 404
saying the routes are disabled and how to enable them (`disabled`). A wrong or missing token gets 401 and a warning in the log; past
`admin_max_failures` failures a minute from one client, 429 until the minute is over.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import threading
import time
from collections import OrderedDict, deque
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from ..deps import Services, ServicesDep
from ..errors import ApiError, problem
from ..store import ReloadAttempt
from ..watch import signal_reload
from ..wire import ReloadAnswer

log = logging.getLogger("server.admin")


class LoginThrottle:
    """Failed admin logins per client in a sliding window; past `limit`, refuse (429)
    without even comparing the token, until the window has room again."""

    WINDOW = 60.0
    MAX_CLIENTS = 10_000  # memory stays bounded whatever the number of clients

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> float:
        """Seconds until `client` may try again (0: now)."""
        with self._lock:
            times = self._failures.get(client)
            if times is None:
                return 0.0
            now = time.monotonic()
            while times and times[0] <= now - self.WINDOW:
                times.popleft()
            if len(times) < self.limit:
                return 0.0
            return times[0] + self.WINDOW - now

    def failed(self, client: str) -> None:
        with self._lock:
            times = self._failures.pop(client, None) or deque()
            times.append(time.monotonic())
            self._failures[client] = times  # most recent last
            while len(self._failures) > self.MAX_CLIENTS:
                self._failures.popitem(last=False)


def _throttle(request: Request, limit: int) -> LoginThrottle:
    throttle: LoginThrottle | None = getattr(request.app.state, "admin_throttle", None)
    if throttle is None:
        throttle = request.app.state.admin_throttle = LoginThrottle(limit)
    return throttle


async def require_admin(request: Request, services: ServicesDep) -> None:
    client = request.client.host if request.client else "-"
    throttle = _throttle(request, services.settings.admin_max_failures)
    wait = throttle.retry_after(client)
    if wait > 0:
        log.warning(
            "admin request refused: too many failed logins",
            extra={"path": request.url.path, "client": client},
        )
        raise ApiError(
            429,
            [problem("too_many_requests", "", "too many failed admin logins; try again later")],
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    token = services.settings.admin_token
    expected = token.get_secret_value().encode() if token is not None else b""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if (
        not expected
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(given.strip().encode(), expected)
    ):
        throttle.failed(client)
        log.warning(
            "admin request refused: wrong or missing bearer token",
            extra={"path": request.url.path, "client": client},
        )
        raise ApiError(
            401,
            [problem("unauthorized", "headers.authorization", "a valid bearer token is required")],
            headers={"WWW-Authenticate": "Bearer"},
        )


AdminDep = Annotated[None, Depends(require_admin)]


async def _reload(services: Services) -> ReloadAttempt:
    attempt = await run_in_threadpool(services.store.reload, "admin")
    if services.settings.reload_signal is not None:
        await run_in_threadpool(signal_reload, services.settings.reload_signal)
    return attempt


router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post(
    "/reload",
    response_model=ReloadAnswer,
    responses={
        401: {"description": "Wrong or missing bearer token"},
        429: {"description": "Too many failed logins from this client in the last minute"},
        422: {"description": "The rules did not load; the running versions stay"},
    },
    summary="Reload the rules now, in every worker",
)
async def reload(_: AdminDep, services: ServicesDep, request: Request) -> dict[str, Any]:
    # One admin reload in flight per worker: the others join it (same answer) instead of
    # each holding a thread behind the store's lock while a slow bundle downloads.
    state = request.app.state
    flight: asyncio.Future[ReloadAttempt] | None = getattr(state, "admin_reload", None)
    if flight is None or flight.done():
        flight = state.admin_reload = asyncio.ensure_future(_reload(services))
    attempt = await asyncio.shield(flight)
    if not attempt.ok:
        raise ApiError(
            422,
            [
                problem(d.code, d.location, d.message + (f" (hint: {d.hint})" if d.hint else ""))
                for d in attempt.errors
            ],
        )
    return {"reload": attempt.to_json()}


ENABLE_HINT = "set RULEENGINE_ADMIN_TOKEN (a bearer token) in the server's environment"

# Without a token: every /v1/admin/* path says it is disabled and how to enable it.
disabled = APIRouter(prefix="/v1/admin", include_in_schema=False)


@disabled.api_route(
    "/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def admin_disabled(rest: str) -> None:
    raise ApiError.one(
        404,
        "not_found",
        "",
        f"admin routes are disabled on this server: {ENABLE_HINT} to enable them",
    )
