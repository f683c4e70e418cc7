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

from app.cors import PublicCORS
from app import logs
from app.errors import EXCEPTION_HANDLERS
from app.platform import Platform
from app.streams.asgi import StreamRoutes
from app.streams.endpoint import StreamRoute
from app.shutdown import AnswerWhenCancelled
from app.threads import cap_blas
from app.routes import api_docs, catalog, chat, health, metrics, search
from app.routes import context, streams, troika
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
    heap built by start-up frozen once start-up is over (`frozen_after`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.router.lifespan_context = frozen_after(self.router.lifespan_context)

    def build_middleware_stack(self) -> ASGIApp:
        platform: Platform = self.state.platform
        return StreamRoutes(
            super().build_middleware_stack(),
            [route for route in self.routes if isinstance(route, StreamRoute)],
            exception_handlers=self.exception_handlers,
            closing=lambda: platform.runs.closing,
            cors_origins=platform.settings.cors_allowed_origins,
        )


def frozen_after(
    lifespan: Callable[[Any], AsyncContextManager[Any]],
) -> Callable[[Any], AsyncContextManager[Any]]:
    """Start-up, then `gc.freeze()`: what start-up built (modules, models, indexes, the
    platform) lives as long as the process, yet every full collection of the cyclic garbage
    collector would walk it again, and collections come with allocation, so with every
    stream admitted. Frozen objects are left out of collections (still freed by reference
    counting; only what start-up built and a later catalog import replaces, if it sits in a
    reference cycle, waits for the shutdown's `unfreeze`). Measured: docs/benchmarks.md,
    "Stream engine" (admission burst CPU)."""

    @contextlib.asynccontextmanager
    async def lifespan_then_freeze(app: Any) -> AsyncIterator[Any]:
        async with lifespan(app) as state:
            gc.collect()
            gc.freeze()
            try:
                yield state
            finally:
                gc.unfreeze()

    return lifespan_then_freeze


def create_app(
    settings: Settings | None = None,
    *,
    extra_routes: Sequence[BaseRoute] | None = None,
) -> Starlette:
    """Build the app. `extra_routes` receive the same platform (used by tests to mount
    producers of their own behind the real engine and limiter)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    cap_blas(settings.blas_threads)
    platform = Platform(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await platform.start()
        try:
            yield
        finally:
            await platform.stop()

    routes: list[BaseRoute] = [
        *health.routes(),
        *metrics.routes(),
        *api_docs.routes(),
        *search.routes(platform),
        *context.routes(platform),
        *catalog.routes(),
        *chat.routes(platform),
        *troika.routes(platform),
        *streams.routes(),
        *web.routes(),
        *(extra_routes or []),
    ]
    middleware = [Middleware(AnswerWhenCancelled, closing=lambda: platform.runs.closing)]
    if settings.cors_allowed_origins:
        middleware.append(Middleware(PublicCORS, origins=settings.cors_allowed_origins))
    app = StorestreamApp(
        routes=routes, lifespan=lifespan, exception_handlers=EXCEPTION_HANDLERS, middleware=middleware
    )
    app.state.platform = platform
    return app
