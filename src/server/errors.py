"""The one error envelope: every 4xx body is `{"errors": [{"code", "path", "message",
"expected"?, "got"?}]}`, FastAPI's own 404/405/validation answers included.

Routes raise `ApiError`; the handlers installed by `install_error_handlers` turn
it, Starlette's `HTTPException`, FastAPI's `RequestValidationError` and engine
errors into that envelope. Anything else is a bug: logged with the request id and
answered 500 in the same envelope.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ruleengine import (
    DecisionBudgetError,
    InputError,
    NotFoundError,
    NoVersionInEffectError,
    RuleEngineError,
)

from .logs import request_id

log = logging.getLogger("server.errors")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def problem(
    code: str, path: str, message: str, expected: str | None = None, got: str | None = None
) -> dict[str, Any]:
    """One entry of an `errors` list."""
    out: dict[str, Any] = {"code": code, "path": path, "message": message}
    if expected is not None:
        out["expected"] = expected
    if got is not None:
        out["got"] = got
    return out


class ApiError(Exception):
    """An answer other than 2xx, with every problem listed."""

    def __init__(
        self, status: int, errors: Iterable[dict[str, Any]], headers: dict[str, str] | None = None
    ):
        self.status = status
        self.errors = list(errors)
        self.headers = headers
        super().__init__(f"{status}: {self.errors}")

    @classmethod
    def one(cls, status: int, code: str, path: str, message: str, **extra: Any) -> ApiError:
        return cls(status, [problem(code, path, message, **extra)])


def errors_response(
    status: int, errors: list[dict[str, Any]], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"errors": errors}, status_code=status, headers=headers)


def engine_error(exc: RuleEngineError) -> ApiError:
    """The HTTP form of an engine error raised while deciding."""
    if isinstance(exc, InputError):
        return ApiError(422, [p.to_json() for p in exc.problems])
    if isinstance(exc, NoVersionInEffectError):
        return ApiError.one(422, exc.code, "input.as_of", str(exc))
    if isinstance(exc, NotFoundError):
        return ApiError.one(404, exc.code, exc.path, str(exc))
    return ApiError.one(422, exc.code, "", str(exc))


def budget_error(exc: DecisionBudgetError, rid: str) -> ApiError:
    """The rules built a value past the runtime budget (an int of thousands of digits):
    the rules' doing, so a 500, but one that names it and carries the request id, logged
    as one line without a traceback; in a batch it refuses that input alone."""
    log.error("%s", exc, extra={"request_id": rid})
    return ApiError.one(500, exc.code, "input", f"{exc}; request id {rid}")


def _location(err: dict[str, Any]) -> str:
    path = ""
    for part in err.get("loc", ()):
        if part in ("body", "query", "path", "header", "cookie") and not path:
            continue
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return errors_response(exc.status, exc.errors, exc.headers)

    @app.exception_handler(RuleEngineError)
    async def rule_engine_error(request: Request, exc: RuleEngineError) -> JSONResponse:
        err = engine_error(exc)
        return errors_response(err.status, err.errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        if exc.status_code == 404:
            message = f"no such resource: {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        return errors_response(
            exc.status_code, [problem(code, "", message)], getattr(exc, "headers", None)
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return errors_response(
            422,
            [
                problem("invalid_request", _location(err), str(err.get("msg", "invalid")))
                for err in exc.errors()
            ]
            or [problem("invalid_request", "", "invalid request")],
        )

    @app.exception_handler(DecisionBudgetError)
    async def over_budget(request: Request, exc: DecisionBudgetError) -> JSONResponse:
        rid = request_id.get()
        err = budget_error(exc, rid)
        return errors_response(err.status, err.errors, {"X-Request-ID": rid})

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        # Routes other than the decision endpoints (which the request context answers
        # itself): the request id is still set, as the request context runs outside.
        rid = request_id.get()
        log.exception("unhandled error", extra={"path": request.url.path, "request_id": rid})
        return errors_response(
            500,
            [problem("internal_error", "", f"internal error; request id {rid}")],
            {"X-Request-ID": rid},
        )
