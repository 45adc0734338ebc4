"""The workbench's routes: drafts of a published version, tried in the playground.

Mounted with the playground, under `/playground/api/`, out of the OpenAPI document:
a draft is never served to API clients. Every route that tries a draft takes the
draft itself in its body (`{"ruleset", "base", "files": {name: text}}`), so a draft
lives in the browser; the server keeps the last few loaded, by content.

- `GET  .../rulesets/{ruleset}/versions/{version}/files`: a published version's files;
- `POST .../drafts/check`: the draft's diagnostics (file, line, column, code, message, hint);
- `POST .../drafts/decide`: decide an input under the draft, with its explanation;
- `POST .../drafts/suites`: the rule set's regression suites against the draft;
- `POST .../drafts/impact`: the draft against its base on a sample of the decision
  log (or of the corpus file the server was started with);
- admin token only: `GET/PUT .../drafts/saved[/{name}]` (the drafts folder,
  `serve --drafts-dir`, never the rules folder) and `POST .../drafts/download` (a zip).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

import ruleengine
from ruleengine import jsonio

from ..deps import JsonBody, Services, ServicesDep, SnapshotDep
from ..draft_runs import impact, run_suites, tail_lines
from ..drafts import Draft, DraftLoader, LoadedDraft, draft_root, published_files, relocate_text
from ..errors import ApiError, engine_error, problem
from .admin import AdminDep

router = APIRouter(prefix="/playground/api", include_in_schema=False)

LOADER = DraftLoader()
_SAVED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _draft(body: Any) -> Draft:
    """The draft in a request body; 422 naming each bad field."""
    if not isinstance(body, dict):
        raise ApiError.one(422, "type", "", "the request body must be a JSON object")
    draft = body.get("draft", body)
    problems = []
    if not isinstance(draft, dict):
        raise ApiError.one(422, "type", "draft", "expected an object")
    for key in ("ruleset", "base"):
        if not isinstance(draft.get(key), str):
            problems.append(problem("required", f"draft.{key}", "expected a string"))
    files = draft.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        problems.append(problem("type", "draft.files", "expected an object of file name -> text"))
    if problems or not isinstance(files, dict):
        raise ApiError(422, problems)
    return Draft.of(draft["ruleset"], draft["base"], files)


def _load(draft: Draft, engine: ruleengine.Engine) -> LoadedDraft:
    try:
        return LOADER.load(draft, engine)
    except ruleengine.NotFoundError as exc:
        raise ApiError.one(
            404, exc.code, f"draft.{'base' if exc.kind == 'version' else 'ruleset'}", str(exc)
        ) from None


def _diagnostics(loaded: LoadedDraft) -> list[dict[str, Any]]:
    return [d.to_json() for d in loaded.diagnostics]


def _not_loaded(loaded: LoadedDraft) -> JSONResponse:
    """422: the draft does not load; what it needs, each problem positioned."""
    return JSONResponse(
        {
            "errors": [
                problem(
                    "draft_not_loaded",
                    "draft",
                    f"the draft has {len(loaded.diagnostics)} problem(s); fix them first",
                )
            ],
            "diagnostics": _diagnostics(loaded),
        },
        status_code=422,
    )


@router.get("/rulesets/{ruleset}/versions/{version}/files")
async def version_files(ruleset: str, version: str, snapshot: SnapshotDep) -> dict[str, Any]:
    try:
        chosen = snapshot.engine.select(ruleset, snapshot.engine.today(), version)
    except ruleengine.NotFoundError as exc:
        raise engine_error(exc) from None
    try:
        files = await run_in_threadpool(published_files, chosen)
    except (OSError, ValueError) as exc:
        raise ApiError.one(
            409, "files_unreadable", "version", f"the files of this version cannot be read: {exc}"
        ) from None
    return {
        "ruleset": ruleset,
        "version": chosen.version,
        "effective_from": chosen.effective_from.isoformat(),
        "files": [{"name": name, "text": text} for name, text in files.items()],
    }


@router.post("/drafts/check")
async def check(body: JsonBody, snapshot: SnapshotDep) -> dict[str, Any]:
    draft = _draft(body)
    loaded = await run_in_threadpool(_load, draft, snapshot.engine)
    out: dict[str, Any] = {"ok": loaded.ok, "diagnostics": _diagnostics(loaded)}
    if loaded.version is not None:
        out["version"] = loaded.version.version
        out["effective_from"] = loaded.version.effective_from.isoformat()
        out["content_hash"] = loaded.version.content_hash
        out["decisions"] = sorted(loaded.version.decisions)
    return out


@router.post("/drafts/decide", response_model=None)
async def decide(body: JsonBody, snapshot: SnapshotDep) -> JSONResponse | dict[str, Any]:
    draft = _draft(body)
    decision = body.get("decision")
    if not isinstance(decision, str):
        raise ApiError.one(422, "required", "decision", "expected the decision's name")
    if "input" not in body:
        raise ApiError.one(422, "required", "input", "missing required field", expected="object")
    loaded = await run_in_threadpool(_load, draft, snapshot.engine)
    if loaded.engine is None or loaded.version is None:
        return _not_loaded(loaded)
    engine, label = loaded.engine, loaded.version.version

    def run() -> ruleengine.Decision:
        return engine.decide(draft.ruleset, decision, body["input"], version=label, explain=True)

    try:
        made = await run_in_threadpool(run)
    except ruleengine.RuleEngineError as exc:
        raise engine_error(exc) from None
    out = relocate_text(jsonio.decision_to_json(made), draft_root(loaded))
    out["draft"] = True
    return dict(out)


@router.post("/drafts/suites", response_model=None)
async def suites(body: JsonBody, snapshot: SnapshotDep) -> JSONResponse | dict[str, Any]:
    loaded = await run_in_threadpool(_load, _draft(body), snapshot.engine)
    if not loaded.ok:
        return _not_loaded(loaded)
    return await run_in_threadpool(run_suites, loaded)


@router.post("/drafts/impact", response_model=None)
async def draft_impact(
    body: JsonBody, snapshot: SnapshotDep, services: ServicesDep
) -> JSONResponse | dict[str, Any]:
    draft = _draft(body)
    decision = body.get("decision")
    if decision is not None and not isinstance(decision, str):
        raise ApiError.one(422, "type", "decision", "expected a string")
    settings = services.settings
    corpus = settings.corpus
    path, source = (
        (corpus, "corpus file") if corpus is not None else (settings.decision_log, "decision log")
    )
    if path is None:
        raise ApiError.one(
            409,
            "no_sample",
            "",
            "the server keeps no decision log and was started without a corpus file",
            expected="serve --decision-log FILE or --corpus FILE",
        )
    loaded = await run_in_threadpool(_load, draft, snapshot.engine)
    if not loaded.ok:
        return _not_loaded(loaded)
    try:
        lines = await run_in_threadpool(tail_lines, path)
    except OSError:
        lines = []
    return await run_in_threadpool(impact, loaded, lines, f"{source} {path.name}", decision)


# --- saved drafts and downloads: the admin token --------------------------------------


def _drafts_dir(services: Services) -> Path:
    folder = services.settings.drafts_dir
    if folder is None:
        raise ApiError.one(
            404,
            "no_drafts_folder",
            "",
            "the server was started without a drafts folder",
            expected="serve --drafts-dir DIR",
        )
    folder = folder.resolve()
    rules = Path(services.settings.rules).resolve()
    if folder == rules or rules in folder.parents:
        raise ApiError.one(
            409,
            "drafts_in_rules",
            "",
            f"the drafts folder {folder} is inside the rules folder; drafts are never saved "
            "there (publishing is `ruleengine publish`)",
        )
    return folder


def _saved_path(services: Services, name: str) -> Path:
    if not _SAVED_NAME.match(name):
        raise ApiError.one(
            422,
            "bad_name",
            "name",
            "a draft's name is letters, digits, '.', '_' or '-' (at most 64)",
            got=name[:80],
        )
    return _drafts_dir(services) / f"{name}.json"


@router.get("/drafts/saved")
async def saved_list(_: AdminDep, services: ServicesDep) -> dict[str, Any]:
    folder = _drafts_dir(services)
    out = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        out.append({k: data.get(k) for k in ("ruleset", "base", "saved_at")} | {"name": path.stem})
    return {"drafts": out}


@router.get("/drafts/saved/{name}")
async def saved_get(name: str, _: AdminDep, services: ServicesDep) -> dict[str, Any]:
    path = _saved_path(services, name)
    try:
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ApiError.one(404, "unknown_draft", "name", f"no saved draft {name!r}") from None
    return data


@router.put("/drafts/saved/{name}")
async def saved_put(
    name: str, body: JsonBody, _: AdminDep, services: ServicesDep
) -> dict[str, Any]:
    path = _saved_path(services, name)
    draft = _draft(body)
    data = {
        "name": name,
        "ruleset": draft.ruleset,
        "base": draft.base,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": dict(draft.files),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".json.tmp")
    scratch.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")
    scratch.replace(path)
    return {"saved": name, "saved_at": data["saved_at"]}


@router.post("/drafts/download")
async def download(body: JsonBody, _: AdminDep) -> Response:
    draft = _draft(body)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in draft.files:
            if ".." in name.split("/") or name.startswith("/"):
                continue
            archive.writestr(f"{draft.base}/{name}", text)
    label = re.sub(r"[^A-Za-z0-9._-]", "_", f"{draft.ruleset}-{draft.base}-draft")
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{label}.zip"'},
    )
