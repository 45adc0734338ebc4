"""`/docs`: Swagger UI served from the package (the `swagger-ui-bundle` wheel), so the
page works offline and loads nothing from a CDN."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from ..errors import ApiError

router = APIRouter(include_in_schema=False)

ASSETS = "/docs/assets"
_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
_CACHE: dict[str, bytes] = {}


@router.get("/docs")
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="ruleengine - API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
    )


@router.get(ASSETS + "/{name}")
async def asset(name: str) -> Response:
    media_type = _TYPES.get(name)
    if media_type is None:  # only the few files the page names: no path from the client
        raise ApiError.one(404, "not_found", "", f"no such resource: GET {ASSETS}/{name}")
    body = _CACHE.get(name)
    if body is None:
        body = _CACHE[name] = (swagger_ui_path / name).read_bytes()
    return Response(body, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
