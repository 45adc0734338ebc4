"""The HTTP decision service (FastAPI). Imports the engine; the engine never imports it.

`create_app()` is the factory uvicorn is handed by name (`ruleengine serve`): it
reads `Settings` from the environment, loads every rule set and version, and wires
the routers, the error envelope, the request context, the decision log and the
reload watcher (started and stopped with the app's lifespan, in every worker).
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

import ruleengine

from .bundle_source import BundlePoller, BundleSource, FolderSource
from .decision_log import DecisionLog
from .deps import Services
from .errors import install_error_handlers
from .logs import configure_logging
from .metrics import Metrics
from .middleware import RequestContext, page_policy
from .openapi import OpenAPIBuilder
from .routers import admin, decisions, docs, health, playground, rulesets
from .settings import Settings
from .store import VersionStore
from .watch import RulesWatcher

log = logging.getLogger("server.app")

DESCRIPTION = """Decisions from versioned YAML rules.

Each decision has its own path, with its own input and result schemas, made from
the rule files and rebuilt on every reload. Every 4xx answer is
`{"errors": [{"code", "path", "message", "expected"?, "got"?}]}`."""


class Service(FastAPI):
    """The FastAPI app, entered through its request context (`middleware.RequestContext`:
    request id, security headers, metrics, access log, the 500 of last resort), which
    hands decision requests straight to their endpoints and everything else to FastAPI
    as usual (routing, error handlers, OpenAPI)."""

    context: RequestContext | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        context = self.context
        if context is not None and scope["type"] == "http":
            await context(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(
    engine: ruleengine.Engine | None = None,
    rules: str | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    """Build the service.

    With `engine`, serve it (reloads re-read `engine.root` with the same clock);
    otherwise load `rules` (default: `settings.rules`, i.e. `$RULEENGINE_RULES`).
    """
    settings = settings or Settings()
    if rules is not None:
        settings = settings.model_copy(update={"rules": rules})
    configure_logging(settings.log_level)

    bundle = _bundle_source(settings) if engine is None and settings.bundle else None
    store, watched = _store(engine, settings, bundle)
    metrics = Metrics()
    store.on_reload(metrics.reloaded)
    root = engine.root if engine is not None and engine.root else settings.rules
    source = bundle if bundle is not None else FolderSource(Path(root), store)
    if engine is None:
        # Before serving: no request ever sees a half-loaded store. A bundle download is
        # bounded by its deadline, and SIGTERM/SIGINT abort it at once.
        with cancelled_by_signals(bundle.cancel if bundle is not None else None):
            store.reload("startup")

    decision_log = _decision_log(settings, metrics)
    watcher = RulesWatcher(
        store,
        watched,
        settings.reload_signal if settings.watch or settings.admin_enabled else None,
        (settings.watch_debounce_ms, settings.watch_settle_ms),
    )
    poller = (
        BundlePoller(store, bundle, settings.bundle_poll_seconds) if bundle is not None else None
    )
    app = Service(
        title="ruleengine",
        version=ruleengine.__version__,
        description=DESCRIPTION,
        lifespan=_lifespan(decision_log, watcher, poller, bundle),
        docs_url=None,  # served from the package by routers/docs.py (works offline)
        redoc_url=None,
    )
    app.state.services = Services(settings, store, metrics, decision_log, source)
    _wire(app, settings, metrics, store)
    return app


def _bundle_source(settings: Settings) -> BundleSource:
    key = settings.bundle_public_key
    return BundleSource(
        str(settings.bundle),
        timeout=settings.bundle_timeout_seconds,
        public_key=ruleengine.load_public_key(key) if key is not None else None,
        max_age=settings.bundle_max_age_seconds,
    )


def _store(
    engine: ruleengine.Engine | None, settings: Settings, bundle: BundleSource | None
) -> tuple[VersionStore, Path | None]:
    """The version store and the folder to watch (None: an engine handed in is the
    caller's to change; a bundle is polled instead)."""
    if engine is not None:
        root = engine.root or str(settings.rules)
        clock = engine.clock
        drafts = engine.drafts
        return VersionStore(lambda: ruleengine.load(root, clock=clock, drafts=drafts), engine), None
    if bundle is not None:
        return VersionStore(bundle.load), None
    folder = str(settings.rules)
    drafts = "pinned" if settings.drafts else "none"  # drafts are served only when asked for
    return (
        VersionStore(lambda: ruleengine.load(folder, drafts=drafts)),
        settings.rules if settings.watch else None,
    )


def _decision_log(settings: Settings, metrics: Metrics) -> DecisionLog | None:
    if settings.decision_log is None:
        return None
    key_file = settings.decision_log_key_file
    return DecisionLog(
        settings.decision_log,
        fsync=settings.decision_log_fsync,
        on_error=settings.decision_log_on_error,
        max_bytes=settings.decision_log_max_bytes,
        on_lost=metrics.decision_log_dropped.inc,
        hmac_key=key_file.read_bytes().strip() if key_file is not None else None,
    )


def _lifespan(
    decision_log: DecisionLog | None,
    watcher: RulesWatcher,
    poller: BundlePoller | None,
    bundle: BundleSource | None,
) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if decision_log is not None:
            decision_log.start()
        watcher.start()
        if poller is not None:
            poller.start()
        try:
            yield
        finally:
            watcher.stop()
            if poller is not None:
                poller.stop()
            if bundle is not None:
                bundle.close()
            if decision_log is not None:
                decision_log.close()

    return lifespan


def _wire(app: Service, settings: Settings, metrics: Metrics, store: VersionStore) -> None:
    """Error envelope, routers, OpenAPI document, request-context middleware."""
    install_error_handlers(app)
    services: Services = app.state.services
    decision_routes = decisions.routes(services)
    app.router.routes.extend(decision_routes)
    app.include_router(rulesets.router)
    app.include_router(health.router)
    app.include_router(docs.router)
    if settings.admin_enabled:
        app.include_router(admin.router)
    else:
        app.include_router(admin.disabled)
    if settings.playground:
        app.include_router(playground.router)
    app.openapi = OpenAPIBuilder(app, store, settings)  # type: ignore[method-assign]
    app.context = RequestContext(
        functools.partial(FastAPI.__call__, app),
        metrics=metrics,
        access_log=settings.access_log,
        allowed_hosts=settings.host_list,
        page_policies={"/playground": page_policy(playground.PAGE)} if settings.playground else {},
        decision_routes=decision_routes,
    )


@contextmanager
def cancelled_by_signals(cancel: Callable[[], None] | None) -> Iterator[None]:
    """While the block runs (in the main thread), SIGTERM and SIGINT first `cancel()`
    (abort the bundle download in flight), then do what they did before: uvicorn's
    handler, which stops the server once start-up returns, or the default (exit)."""
    if cancel is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        cancel()
        before = previous[signum]
        if callable(before):
            before(signum, frame)
        elif before == signal.SIG_DFL:
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for number, before in previous.items():
            signal.signal(number, before)
