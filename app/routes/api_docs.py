"""`GET /openapi.json` and a `/docs` page that renders it (no CDN: it must work offline).

Each endpoint function describes itself in an `__openapi__` attribute (path item operations);
streaming endpoints get theirs from their `StreamEndpoint`. The event payload schemas come
from `app/streams/schema.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from app.streams.schema import EVENT_SCHEMAS

_DOCS_HTML = (Path(__file__).parent / "docs.html").read_text(encoding="utf-8")


def _endpoint_doc(route: Route) -> dict[str, Any] | None:
    endpoint = route.endpoint
    while endpoint is not None:
        doc = getattr(endpoint, "__openapi__", None)
        if doc is not None:
            return doc
        endpoint = getattr(endpoint, "__wrapped__", None)
    return None


def build_openapi(routes: list[Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in routes:
        if not isinstance(route, Route):
            continue
        doc = _endpoint_doc(route)
        if doc:
            paths.setdefault(route.path, {}).update(doc)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "storestream",
            "version": "0.1.0",
            "description": (
                "Streaming commerce AI over Server-Sent Events. Every stream speaks one "
                "vocabulary of eight events (see components.schemas, `*Event`)."
            ),
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {f"{name.capitalize()}Event": schema for name, schema in EVENT_SCHEMAS.items()}
        },
    }


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(build_openapi(request.app.routes))


async def docs(request: Request) -> HTMLResponse:
    return HTMLResponse(_DOCS_HTML)


def routes() -> list[Route]:
    return [
        Route("/openapi.json", openapi, methods=["GET"], include_in_schema=False),
        Route("/docs", docs, methods=["GET"], include_in_schema=False),
    ]
