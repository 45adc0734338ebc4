"""The HTTP decision service (FastAPI). Imports the engine; the engine never imports it.

`create_app()` is the factory uvicorn is handed by name (`ruleengine serve`).
Every 4xx body is `{"errors": [{"code", "path", "message", "expected"?, "got"?}]}`.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import ruleengine
from ruleengine import jsonio
from ruleengine.errors import InputError, NotFoundError, NoVersionInEffectError, RuleEngineError

MAX_BODY_BYTES = 1024 * 1024


def _errors(status: int, *errors: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"errors": list(errors)}, status_code=status)


def _error(code: str, path: str, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "code": code,
        "path": path,
        "message": message,
        **{k: v for k, v in extra.items() if v is not None},
    }


def create_app(engine: ruleengine.Engine | None = None, rules: str | None = None) -> FastAPI:
    """Build the app around a loaded engine (default: load $RULEENGINE_RULES or ./rules)."""
    if engine is None:
        engine = ruleengine.load(rules or os.environ.get("RULEENGINE_RULES", "rules"))
    app = FastAPI(title="ruleengine", version=ruleengine.__version__)
    app.state.engine = engine

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _errors(exc.status_code, _error("http_error", "", str(exc.detail)))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _errors(
            422,
            *(
                _error(
                    "invalid_request",
                    ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                    err.get("msg", ""),
                )
                for err in exc.errors()
            ),
        )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/rulesets")
    async def rulesets() -> dict[str, Any]:
        eng: ruleengine.Engine = app.state.engine
        return {
            "rulesets": [
                {
                    "name": rs.name,
                    "versions": [
                        {
                            "version": v.version,
                            "effective_from": v.effective_from.isoformat(),
                            "content_hash": v.content_hash,
                            "decisions": sorted(v.decisions),
                        }
                        for v in rs.versions
                    ],
                }
                for rs in eng.rulesets.values()
            ]
        }

    @app.post("/v1/rulesets/{ruleset}/decisions/{decision}")
    async def decide(ruleset: str, decision: str, request: Request) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _errors(
                413,
                _error("body_too_large", "", f"request body is larger than {MAX_BODY_BYTES} bytes"),
            )
        try:
            payload = jsonio.loads(body)
        except jsonio.JSONInputError as exc:
            return _errors(400, _error("malformed_json", "", str(exc)))
        if not isinstance(payload, dict):
            return _errors(
                422, _error("type", "", "the request body must be a JSON object", expected="object")
            )
        unknown = sorted(set(payload) - {"input", "version", "explain"})
        problems = [_error("unknown_field", key, f"unknown field {key!r}") for key in unknown]
        if "input" not in payload:
            problems.append(
                _error("required", "input", "missing required field", expected="object")
            )
        version = payload.get("version")
        if version is not None and not isinstance(version, str):
            problems.append(_error("type", "version", "expected a string", expected="string"))
        explain = payload.get("explain", False)
        if not isinstance(explain, bool):
            problems.append(_error("type", "explain", "expected a boolean", expected="boolean"))
        if problems:
            return _errors(422, *problems)
        eng: ruleengine.Engine = app.state.engine
        try:
            result = eng.decide(
                ruleset, decision, payload["input"], version=version, explain=explain
            )
        except InputError as exc:
            return _errors(422, *(p.to_json() for p in exc.problems))
        except NoVersionInEffectError as exc:
            return _errors(422, _error(exc.code, "input.as_of", str(exc)))
        except NotFoundError as exc:
            return _errors(404, _error(exc.code, exc.kind, str(exc)))
        except RuleEngineError as exc:  # pragma: no cover - every engine error is one of the above
            return _errors(422, _error(exc.code, "", str(exc)))
        body_out = jsonio.decision_to_json(result)
        body_out["decision_id"] = str(uuid.uuid4())
        return JSONResponse(body_out)

    return app
