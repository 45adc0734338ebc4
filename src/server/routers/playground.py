"""The playground: a page on which policy owners try a decision and see why it came out
as it did, and a workbench on which they edit a draft of a published version and try
it (check, decide, regression suites, impact on recent traffic) before it ships.

A static page (`server/static/playground.html`, its script and style beside it, and
the CodeMirror editor vendored under `static/vendor/`; no build step, no CDN, no
inline script) that calls the public API (`GET /v1/rulesets`, `/openapi.json`,
`POST .../decisions/{decision}` with `explain`) and, for drafts, the routes of
`drafts.py` under `/playground/api/`. Off with `RULEENGINE_PLAYGROUND=false`.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..errors import ApiError
from . import drafts

router = APIRouter(include_in_schema=False)
router.include_router(drafts.router)

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
}


def _static(folder: Traversable, prefix: str = "") -> dict[str, tuple[bytes, str]]:
    """Every servable file under static/, by its path, read once."""
    out: dict[str, tuple[bytes, str]] = {}
    for item in folder.iterdir():
        name = prefix + item.name
        if item.is_dir():
            out.update(_static(item, name + "/"))
        else:
            kind = _TYPES.get("." + item.name.rpartition(".")[2])
            if kind is not None:
                out[name] = (item.read_bytes(), kind)
    return out


STATIC = _static(files("server").joinpath("static"))
PAGE = STATIC["playground.html"][0].decode("utf-8")


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/playground")


@router.get("/playground")
async def playground() -> HTMLResponse:
    return HTMLResponse(PAGE)


@router.get("/playground/static/{name:path}")
async def static(name: str) -> Response:
    found = STATIC.get(name)
    if found is None:
        raise ApiError.one(404, "not_found", "", f"no such file: {name}")
    body, kind = found
    return Response(body, media_type=kind, headers={"Cache-Control": "no-cache"})
