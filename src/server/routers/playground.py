"""The playground: a page on which policy owners try a decision and see why it came out
as it did (every rule considered, fired or not, with the facts it read).

One static page (`server/static/playground.html`, no build step) that calls the
same public API as any service: `GET /v1/rulesets`, `/openapi.json` for each
decision's input schema, and `POST .../decisions/{decision}` with `explain`.
Off with `RULEENGINE_PLAYGROUND=false`.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

router = APIRouter(include_in_schema=False)

PAGE = files("server").joinpath("static/playground.html").read_text("utf-8")


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/playground")


@router.get("/playground")
async def playground() -> HTMLResponse:
    return HTMLResponse(PAGE)
