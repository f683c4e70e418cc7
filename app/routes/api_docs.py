"""`GET /openapi.json` and a `/docs` page that renders it (no CDN: it must work offline).

The document is built by `app/contracts/openapi.py` from the routes' `Operation` declarations
and the models they name (streaming routes get theirs from their `StreamEndpoint`); it is
built once per app and kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from app.contracts.openapi import build_openapi
from app.errors import ErrorBody
from app.responses import JSONResponse
from app.streams.schema import EVENT_MODELS

_DOCS_HTML = (Path(__file__).parent / "docs.html").read_text(encoding="utf-8")


def document(routes: list[Any]) -> dict[str, Any]:
    """The OpenAPI document of these routes (every event payload included)."""
    return build_openapi(routes, extra_models=(ErrorBody, *EVENT_MODELS.values()))


async def openapi(request: Request) -> JSONResponse:
    state = request.app.state
    if getattr(state, "openapi", None) is None:
        state.openapi = document(request.app.routes)
    return JSONResponse(state.openapi)


async def docs(request: Request) -> HTMLResponse:
    return HTMLResponse(_DOCS_HTML)


def routes() -> list[Route]:
    return [
        Route("/openapi.json", openapi, methods=["GET"], include_in_schema=False),
        Route("/docs", docs, methods=["GET"], include_in_schema=False),
    ]
