"""`GET /openapi.json`, and `/docs`: Swagger UI over it, served by this app (no CDN: it must
work offline).

The document is built by `app/contracts/openapi.py` from the routes' `Operation` declarations
and the models they name (streaming routes get theirs from their `StreamEndpoint`); it is
built once per app and kept.

Swagger UI's files come from the pinned PyPI package `swagger-ui-py` (its `static/` folder,
read from disk: the package is never imported), so `make install` brings them and `make run`
serves them. Only the files the page loads are served, under `/docs/static/`, with the page's
own start-up script (`explorer/docs.js`). The page's Content-Security-Policy lets it load and
call nothing but this app.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from app.contracts.openapi import build_openapi
from app.errors import ErrorBody
from app.responses import JSONResponse
from app.routes.web import WebStatic
from app.streams.schema import EVENT_MODELS

log = logging.getLogger(__name__)

EXPLORER = Path(__file__).parent / "explorer"
_DOCS_HTML = (EXPLORER / "docs.html").read_text(encoding="utf-8")
_MISSING_HTML = (
    "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>storestream API</title>"
    "<p>The API explorer's files are not installed (the <code>swagger-ui-py</code> package: "
    "<code>make install</code>). The document itself is at <a href=\"/openapi.json\">/openapi.json</a>.</p>"
)
# What the page loads: Swagger UI's script and stylesheet, its icon, and our start-up script.
EXPLORER_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "docs.js"})

# Swagger UI's stylesheet draws icons as data: images; nothing inline runs (its start-up is
# docs.js), and "Try it out" calls this origin only.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

TAGS = (
    ("streams", ("Server-Sent Events; each 200 response lists the stream's events and their payload "
                 "schemas. Here a response shows once its stream has ended (`curl -N` shows it live).")),
    ("json twins", "The same work as each stream, folded into one JSON document."),
    ("protocols", "The assistants in other ecosystems' protocols: OpenAI chat completions (docs/protocols.md)."),
    ("history", "What chats and the sales agent stored."),
    ("catalog", "Products. Writes need the admin token (Authorize)."),
    ("search", "Suggestions as a shopper types (no stream; a budget of its own)."),
    ("merchandising", "The merchant's synonyms and search rules: pin, hide, boost, bury. Admin token (Authorize)."),
    ("context files", "Documents a chat may quote. Admin token (Authorize)."),
    ("analytics", "What shoppers did with search results (public), and the search report (admin token)."),
    ("operations", "Health and metrics."),
    ("web", "The demo pages."),
)


def swagger_ui_dir() -> Path | None:
    """The folder of Swagger UI's files in the installed `swagger-ui-py`, or None."""
    spec = importlib.util.find_spec("swagger_ui")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        folder = Path(location) / "static"
        if (folder / "swagger-ui-bundle.js").is_file():
            return folder
    return None


class ExplorerFiles(WebStatic):
    """The page's files only (not the package's other bundles), looked up in `folders` in
    order, with the web files' types, caching and `nosniff`."""

    def __init__(self, *folders: Path) -> None:
        super().__init__(directory=folders[0])
        self.all_directories = list(folders)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.get_path(scope) not in EXPLORER_FILES:
            raise HTTPException(status_code=404)
        await super().__call__(scope, receive, send)


def document(routes: list[Any]) -> dict[str, Any]:
    """The OpenAPI document of these routes (every event payload included)."""
    return build_openapi(routes, extra_models=(ErrorBody, *EVENT_MODELS.values()), tags=TAGS)


async def openapi(request: Request) -> JSONResponse:
    state = request.app.state
    if getattr(state, "openapi", None) is None:
        state.openapi = document(request.app.routes)
    return JSONResponse(state.openapi)


def routes() -> list[BaseRoute]:
    folder = swagger_ui_dir()
    if folder is None:
        log.warning("/docs: swagger-ui-py is not installed (make install); /docs shows a pointer to /openapi.json")
    page = _DOCS_HTML if folder is not None else _MISSING_HTML
    headers = {"Content-Security-Policy": _CSP, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "same-origin"}

    async def docs(request: Request) -> Response:
        return HTMLResponse(page, headers=headers)

    out: list[BaseRoute] = [
        Route("/openapi.json", openapi, methods=["GET"], include_in_schema=False),
        Route("/docs", docs, methods=["GET"], include_in_schema=False),
    ]
    if folder is not None:
        out.append(Mount("/docs/static", app=ExplorerFiles(EXPLORER, folder), name="docs_static"))
    return out
