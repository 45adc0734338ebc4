"""Per-request context as a plain ASGI middleware (no BaseHTTPMiddleware overhead).

- A request id (the client's `X-Request-ID` if it is sane, else a fresh one), set in
  the logging context and sent back as `X-Request-ID` on every answer.
- The Host header checked against `allowed_hosts` (when set): others get 400.
- Security headers on every answer: `X-Content-Type-Options: nosniff`,
  `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`; `Cache-Control: no-store`
  on the API (`/v1/...`: decisions are per-request data, never to be cached); a
  Content-Security-Policy on the HTML pages.
- Anything a route did not handle is logged once, with its traceback and the request
  id, and answered 500 in the error envelope carrying the same id (Starlette's own
  handler runs outside this middleware, after the request id is gone).
- One JSON access-log line and the request-latency histogram by route template.
- The decision routes (`decision_routes`: the single and the batch one, plain ASGI
  apps) are called directly for a POST to their paths, without FastAPI's routing and
  middleware in between: they are the hot path (bench/http).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, cast

from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ruleengine.jsonio import string_json

from .logs import JsonFormatter, direct_handler, request_id
from .metrics import Metrics

log = logging.getLogger("server.access")
errors_log = logging.getLogger("server.errors")

_SANE_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_NO_STORE = (b"cache-control", b"no-store")


class DecisionResponder(Protocol):
    """The decision routes' endpoints (routers/decisions.py): they add the request
    context's headers to their answers themselves and return the status sent."""

    async def respond(
        self, scope: Scope, receive: Receive, send: Send, extra: Sequence[tuple[bytes, bytes]]
    ) -> int: ...


class RequestContext:
    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        access_log: bool = True,
        allowed_hosts: list[str] | None = None,
        page_policies: Mapping[str, str] | None = None,
        decision_routes: Sequence[Route] = (),
    ) -> None:
        self.app = app
        # POST /v1/rulesets/{ruleset}/decisions/{decision}[/batch]: (single, batch)
        self.decision_routes = tuple(decision_routes)
        self.metrics = metrics
        self.access_log = access_log
        self.allowed_hosts = [h.lower() for h in allowed_hosts or ()]
        # path -> Content-Security-Policy of the HTML page served there
        self.page_policies = {p: v.encode("ascii") for p, v in (page_policies or {}).items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = host = b""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                rid = value
            elif name == b"host":
                host = value
        rid_text = rid.decode("ascii") if rid and _SANE_ID.match(rid) else os.urandom(16).hex()
        token = request_id.set(rid_text)
        start = time.perf_counter()
        status = 500
        started = finished = False
        path: str = scope["path"]
        extra = [(b"x-request-id", rid_text.encode("ascii")), *_ALWAYS]
        if path.startswith("/v1/"):
            extra.append(_NO_STORE)
        policy = self.page_policies.get(path)
        if policy is not None:
            extra.append((b"content-security-policy", policy))

        async def send_with_id(message: Message) -> None:
            nonlocal status, started, finished
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                headers = list(message.get("headers", ()))
                present = [name.lower() for name, _ in headers]
                headers.extend(h for h in extra if h[0] not in present)
                message = {**message, "headers": headers}
            elif not message.get("more_body", False):
                finished = True
            await send(message)

        try:
            if self.allowed_hosts and not self._host_allowed(host):
                await _envelope(
                    send_with_id,
                    400,
                    "invalid_host",
                    "headers.host",
                    "this service does not answer for that Host",
                )
            else:
                fast = self._decision_route(scope, path) if self.decision_routes else None
                if fast is not None:
                    # It adds `extra` to its answers itself: no `send_with_id` in between.
                    endpoint = cast(DecisionResponder, fast.endpoint)
                    status = await endpoint.respond(scope, receive, send, extra)
                    started = finished = True
                else:
                    await self.app(scope, receive, send_with_id)
        except Exception:
            if finished:
                return  # answered (500) and logged by the app's own error handler
            errors_log.exception("unhandled error", extra={"path": path, "request_id": rid_text})
            if started:
                raise  # the answer is half sent: the server closes the connection
            await _envelope(
                send_with_id, 500, "internal_error", "", f"internal error; request id {rid_text}"
            )
        finally:
            seconds = time.perf_counter() - start
            route = _route_of(scope)
            self.metrics.observe_request(route, scope["method"], status, seconds)
            if self.access_log and log.isEnabledFor(logging.INFO):
                _log_access(scope, path, route, status, seconds)
            request_id.reset(token)

    def _decision_route(self, scope: Scope, path: str) -> Route | None:
        """The decision route a POST to `path` is for (its parameters set in `scope`),
        or None: the path Starlette would match to `DECIDE` or `DECIDE/batch`."""
        if scope["method"] != "POST" or not path.startswith("/v1/rulesets/"):
            return None
        parts = path[13:].split("/")
        if len(parts) == 3:
            route = self.decision_routes[0]
        elif len(parts) == 4 and parts[3] == "batch":
            route = self.decision_routes[1]
        else:
            return None
        if parts[1] != "decisions" or not parts[0] or not parts[2]:
            return None
        scope["path_params"] = {"ruleset": parts[0], "decision": parts[2]}
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        return route

    def _host_allowed(self, host: bytes) -> bool:
        name = host.decode("latin-1").lower()
        if name.startswith("["):  # [::1]:8000
            name = name[: name.find("]") + 1]
        else:
            name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.allowed_hosts)


async def _envelope(send: Send, status: int, code: str, path: str, message: str) -> None:
    body = json.dumps({"errors": [{"code": code, "path": path, "message": message}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def page_policy(html: str) -> str:
    """A Content-Security-Policy for a page of this service: scripts and styles from
    this origin or inline ones of the page itself (by hash), calls to this origin only;
    nothing from elsewhere, no plugins, no framing."""

    def sources(tag: str) -> str:
        inline = re.findall(rf"<{tag}(?![^>]*\bsrc=)[^>]*>(.*?)</{tag}>", html, flags=re.DOTALL)
        digests = [base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() for b in inline]
        return " ".join(["'self'", *(f"'sha256-{d}'" for d in digests if d)])

    return (
        f"default-src 'none'; script-src {sources('script')}; style-src {sources('style')}; "
        "connect-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'; object-src 'none'"
    )


def _log_access(scope: Scope, path: str, route: str, status: int, seconds: float) -> None:
    """One access-log line (`log.info("request", extra=...)`), its fields written as JSON
    text once (`_json`, which `JsonFormatter` uses as it is). With the server's own
    logging set-up the line goes straight to its handler, without a `LogRecord` (a
    record costs more than the line); any other set-up gets the record."""
    method: str = scope["method"]
    ms = round(seconds * 1000, 3)
    client: str = (scope.get("client") or ("-",))[0]
    fields = (
        f'"method": {string_json(method)}, "path": {string_json(path)}, '
        f'"route": {string_json(route)}, "status": {status}, "ms": {ms!r}, '
        f'"client": {string_json(str(client))}'
    )
    handler = direct_handler(log)
    if handler is not None:
        formatter: JsonFormatter = handler.formatter  # type: ignore[assignment]
        handler.emit_line(formatter.line(time.time(), "INFO", log.name, "request", fields))
        return
    record = _record(
        {
            "method": method,
            "path": path,
            "route": route,
            "status": status,
            "ms": ms,
            "client": client,
            "_json": fields,
        }
    )
    log.handle(record)


# (thread, process) -> the attributes of an access-log record made there
_TEMPLATES: dict[tuple[int, int], dict[str, Any]] = {}


def _record(extra: dict[str, Any]) -> logging.LogRecord:
    """The record `log.makeRecord` would make for the access line, at a third of its cost:
    a copy of one made by it in this thread and process (logger, level, thread and
    process names), with the time of now. No caller's file or line: no line shows it."""
    key = (threading.get_ident(), os.getpid())
    template = _TEMPLATES.get(key)
    if template is None:
        made = log.makeRecord(log.name, logging.INFO, "", 0, "request", (), None)
        template = _TEMPLATES[key] = dict(vars(made))
    record = _new_record(logging.LogRecord)
    fields = record.__dict__
    fields.update(template)
    now = time.time()
    fields["created"] = now
    fields["msecs"] = int((now - int(now)) * 1000) + 0.0
    fields["relativeCreated"] = template["relativeCreated"] + (now - template["created"]) * 1000
    fields.update(extra)
    return record


_new_record = logging.LogRecord.__new__


def _route_of(scope: Scope) -> str:
    """The matched route's template (bounded label values), or "unmatched"."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"
