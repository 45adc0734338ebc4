"""Per-request context as a plain ASGI middleware (no BaseHTTPMiddleware overhead):
a request id (the client's `X-Request-ID` if it is sane, else a fresh one) set in
the logging context and echoed in the response, one JSON access-log line, and the
request-latency histogram by route template."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logs import request_id
from .metrics import Metrics

log = logging.getLogger("server.access")

_SANE_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")


class RequestContext:
    def __init__(self, app: ASGIApp, metrics: Metrics, access_log: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = b""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                rid = value
                break
        rid_text = rid.decode("ascii") if _SANE_ID.match(rid) else uuid.uuid4().hex
        token = request_id.set(rid_text)
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", rid_text.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - start
            route = _route_of(scope)
            self.metrics.request_seconds.labels(route, scope["method"], str(status)).observe(
                seconds
            )
            if self.access_log:
                log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "ms": round(seconds * 1000, 3),
                        "client": (scope.get("client") or ("-",))[0],
                    },
                )
            request_id.reset(token)


def _route_of(scope: Scope) -> str:
    """The matched route's template (bounded label values), or "unmatched"."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"
