"""The application factory: `create_app(settings)` wires the platform, the routes and the
error handlers. `python -m app serve` (or `uvicorn --factory app.main:create_app`) runs it.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, AsyncContextManager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from app.agent.agent import AgentDeps
from app.auth import admin
from app.chat.answer import ChatDeps
from app.cors import PublicCORS
from app import logs
from app.errors import exception_handlers
from app.platform import Platform
from app.protocols.mcp_tools import McpDeps
from app.redis_link import is_redis
from app.routes.catalog import CatalogDeps
from app.routes.context import ContextDeps
from app.routes.health import HealthDeps
from app.routes.merchandising import MerchandisingDeps
from app.streams.asgi import StreamRoutes
from app.streams.endpoint import StreamRoute
from app.shutdown import AnswerWhenCancelled
from app.threads import cap_blas
from app.routes.analytics import AnalyticsDeps
from app.routes import analytics, api_docs, catalog, chat, health, merchandising, metrics, search, suggest
from app.routes import ag_ui, ai_sdk, context, mcp_http, openai_compat, troika
from app.routes import streams as stop
from app.routes import web
from config.settings import Settings, load_settings

# Nothing downloads at run time: model weights come from installed packages.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def configure_logging(level: str, fmt: str = "text") -> None:
    """Text (default) or one JSON object per line (`LOG_FORMAT=json`): app/logs.py."""
    logs.configure(level, fmt)


class StorestreamApp(Starlette):
    """Starlette, with the stream routes answered before its middleware stack
    (app/streams/asgi.py: an open stream then holds none of the stack's frames), and the
    heap built by start-up frozen once start-up is over (`frozen_after`). `closing` says
    whether the server is shutting down; `cors_origins` may embed the public routes."""

    def __init__(self, *, closing: Callable[[], bool], cors_origins: tuple[str, ...] = (), **options: Any) -> None:
        self._closing = closing
        self._cors_origins = cors_origins
        super().__init__(**options)
        self.router.lifespan_context = frozen_after(self.router.lifespan_context)

    def build_middleware_stack(self) -> ASGIApp:
        return StreamRoutes(
            super().build_middleware_stack(),
            [route for route in self.routes if isinstance(route, StreamRoute)],
            exception_handlers=self.exception_handlers,
            closing=self._closing,
            cors_origins=self._cors_origins,
        )


_frozen_apps = 0  # apps of this process past start-up: the heap is frozen while any is


def frozen_after(
    lifespan: Callable[[Any], AsyncContextManager[Any]],
) -> Callable[[Any], AsyncContextManager[Any]]:
    """Start-up, then `gc.freeze()`: what is built by then (imported modules, the platform,
    the routes and their schemas) lives as long as the process, yet every full collection of
    the cyclic garbage collector would walk it again, and collections come with allocation,
    so with every stream admitted. Frozen objects are left out of collections (still freed by
    reference counting; one that dies in a reference cycle waits for the `unfreeze` at
    shutdown). Indexes built in the background after start-up are not frozen. Apps sharing a
    process (tests) keep the heap frozen until the last one stops. Measured:
    docs/benchmarks.md, "Stream engine" (admission burst CPU)."""

    @contextlib.asynccontextmanager
    async def lifespan_then_freeze(app: Any) -> AsyncIterator[Any]:
        global _frozen_apps
        async with lifespan(app) as state:
            gc.collect()
            gc.freeze()
            _frozen_apps += 1
            try:
                yield state
            finally:
                _frozen_apps -= 1
                if _frozen_apps == 0:
                    gc.unfreeze()

    return lifespan_then_freeze



def route_groups(platform: Platform) -> list[BaseRoute]:
    """Every route group, each given the services it uses and nothing else."""
    settings = platform.settings
    streams = platform.streams
    admin_only = admin(settings.admin_token)
    documents = platform.context
    chat_deps = ChatDeps(
        database=platform.database, search=platform.search, documents=documents, llm=platform.llm,
        tts=platform.tts, speech_slots=platform.speech_slots,
    )
    agent_deps = AgentDeps(
        database=platform.database, search=platform.search, documents=documents, intents=platform.intents,
        llm=platform.llm, tool_chooser=platform.tool_chooser if settings.llm_tool_calling else None,
        tts=platform.tts, speech_slots=platform.speech_slots, analytics=platform.analytics,
    )
    return [
        *health.routes(HealthDeps(
            database=platform.database, models=platform.models, torch_threads=settings.torch_threads,
            embedder=platform.embedder, search=platform.search, redis=platform.redis,
            redis_required=is_redis(settings.rate_limit_storage_url) and not settings.rate_limit_fail_open,
        )),
        *metrics.routes(platform.metrics.registry),
        *api_docs.routes(),
        *search.routes(platform.search, streams, platform.analytics),
        *analytics.routes(AnalyticsDeps(
            recorder=platform.analytics, database=platform.database, admin=admin_only, bodies=streams.bodies,
            limiter=platform.events_limiter, batch_max=settings.analytics_batch_max,
        )),
        *context.routes(ContextDeps(
            database=platform.database, index=documents, embedder=platform.embedder, admin=admin_only,
            bodies=streams.bodies, upload_dir=platform.upload_dir, max_bytes=settings.upload_max_bytes,
            chunk_tokens=settings.chunk_tokens, chunk_overlap=settings.chunk_overlap,
        ), streams),
        *catalog.routes(CatalogDeps(database=platform.database, search=platform.search, admin=admin_only,
                                    bodies=streams.bodies)),
        *suggest.routes(platform.search, platform.suggestions, platform.suggest_limiter),
        *merchandising.routes(MerchandisingDeps(database=platform.database, book=platform.merchandise,
                                                admin=admin_only, bodies=streams.bodies)),
        *chat.routes(chat_deps, streams),
        *troika.routes(agent_deps, streams),
        *openai_compat.routes(chat_deps, agent_deps, streams),
        *ai_sdk.routes(chat_deps, agent_deps, streams),
        *ag_ui.routes(chat_deps, agent_deps, streams),
        *mcp_http.routes(McpDeps(search=platform.search, documents=documents, analytics=platform.analytics),
                         streams.limiter, settings.cors_allowed_origins, streams.bodies),
        *stop.routes(streams),
        *web.routes(),
    ]


def create_app(
    settings: Settings | None = None,
    *,
    extra_routes: Sequence[BaseRoute] | None = None,
) -> Starlette:
    """Build the app. `extra_routes` are served beside the app's own (tests mount producers
    of their own behind the real engine and limiter: `app.state.platform.streams`)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    cap_blas(settings.blas_threads)
    platform = Platform(settings)

    routes: list[BaseRoute] = [*route_groups(platform), *(extra_routes or [])]
    # What routes run for the app's life: the MCP SDK's session manager (its task group).
    running = [route.mcp.running for route in routes if isinstance(route, mcp_http.McpRoute)]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await platform.start()
        try:
            async with contextlib.AsyncExitStack() as stack:
                for run in running:
                    await stack.enter_async_context(run())
                yield
        finally:
            await platform.stop()

    middleware = [Middleware(AnswerWhenCancelled, closing=lambda: platform.runs.closing)]
    if settings.cors_allowed_origins:
        middleware.append(Middleware(PublicCORS, origins=settings.cors_allowed_origins))
    app = StorestreamApp(
        routes=routes, lifespan=lifespan, exception_handlers=exception_handlers(platform.db), middleware=middleware,
        closing=lambda: platform.runs.closing, cors_origins=settings.cors_allowed_origins,
    )
    app.state.platform = platform  # for the process runner (app/__main__.py) and tests; no route reads it
    return app
