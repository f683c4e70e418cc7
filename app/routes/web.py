"""The web front ends: the demo storefront (`/`), the context-file uploader (`/admin/context`),
the search insights (`/admin/insights`) and the static files behind them (`/static/...`: the
web components, their stylesheet, search analytics' scripts and the product placeholder images).

No build step and no CDN: the pages are plain HTML files in `app/web/pages/` (the admin pages
their `<main>` only, inside one shell, `admin.html`), and everything they load comes from
`/static` on this app.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Annotated

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from pydantic import Field
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app.catalog.pictures import COLOURS, PATTERNS, SHAPES, render
from app.contracts.fields import QChoice, QueryContract, Text, example
from app.contracts.openapi import ApiRoute, Operation, Reply
from app.contracts.reading import read_query
from app.errors import ErrorBody

WEB = Path(__file__).resolve().parents[1] / "web"
STATIC = WEB / "static"
PAGES = WEB / "pages"

CHAT_ENDPOINT = "/api/chat/query/stream"
TROIKA_ENDPOINT = "/api/troika/intelligent-chat/stream"

# Explicit types: what `mimetypes` guesses depends on the Python version (3.11's own table
# says application/javascript for .js, 3.12's text/javascript) and on the machine's
# /etc/mime.types; and text types get their charset here.
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
}
# The script and stylesheet are not fingerprinted, so a short max-age: a deploy reaches
# shoppers within minutes, and revalidation (ETag / Last-Modified) is cheap after that.
# Product placeholders change almost never.
_CACHE_ASSETS = "public, max-age=300"
_CACHE_IMAGES = "public, max-age=86400"

# The pages run and call only this app's code; images may also come from https (a real
# catalog's image CDN); `media-src blob:` for the answer audio the chat widget plays from
# decoded chunks. With it, even a markup bug could not run injected script.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class WebStatic(StaticFiles):
    """StaticFiles with explicit content types, `Cache-Control` and `nosniff`."""

    def file_response(
        self, full_path: os.PathLike[str] | str, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        suffix = Path(full_path).suffix.lower()
        if suffix in _TYPES and response.status_code != 304:
            response.headers["content-type"] = _TYPES[suffix]
        response.headers["cache-control"] = _CACHE_IMAGES if suffix == ".svg" else _CACHE_ASSETS
        response.headers["x-content-type-options"] = "nosniff"
        return response


def _page(name: str) -> str:
    """Read on each request: small files, and an edit shows without a restart."""
    return (PAGES / name).read_text(encoding="utf-8")


def _admin_page(name: str, title: str, path: str, scripts: tuple[str, ...] = ()) -> str:
    """An admin page: its own `<main>` content (`name`) in the admin pages' one shell
    (admin.html: head, header, navigation, with the page at `path` marked current), loading
    storestream.js (the uploader, and the token every admin element shares) and `scripts`."""
    tags = "".join(f'\n  <script src="{src}" defer></script>' for src in scripts)
    here = f'<a href="{path}">'
    return (_page("admin.html").replace("{{title}}", title).replace("{{scripts}}", tags)
            .replace(here, f'<a href="{path}" aria-current="page">').replace("{{main}}", _page(name)))


def _headers(cache: str) -> dict[str, str]:
    return {
        "Cache-Control": cache,
        "Content-Security-Policy": _CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }


def chat_endpoint(request: Request) -> str:
    """The Troika agent when this app serves it, else the plain chat: the demo page works
    whichever parts are deployed."""
    for route in request.app.routes:
        if getattr(route, "path", None) == TROIKA_ENDPOINT:
            return TROIKA_ENDPOINT
    return CHAT_ENDPOINT


async def index(request: Request) -> HTMLResponse:
    """The demo storefront. `/?q=lehenga` opens with that search running: the query goes
    into the search element's `query` attribute, HTML-escaped (it is the shopper's text)."""
    query = (read_query(request, StorefrontQuery).q or "")[:512]
    body = (
        _page("index.html")
        .replace("{{query}}", html.escape(query, quote=True))
        .replace("{{chat_endpoint}}", html.escape(chat_endpoint(request), quote=True))
    )
    return HTMLResponse(body, headers=_headers("no-cache"))


async def admin_context(request: Request) -> HTMLResponse:
    """The uploader. The page itself holds no secret (the token is asked for in the browser
    and sent only to this origin), but it is never cached anywhere."""
    page = _admin_page("admin_context.html", "Context files", "/admin/context")
    return HTMLResponse(page, headers=_headers("no-store"))


async def picture(request: Request) -> Response:
    """A demo product picture (app/catalog/pictures.py): the same query, the same bytes, so
    it is cached for a day like the placeholders."""
    args = read_query(request, PictureQuery)
    svg = render(args.category, args.color, args.accent, args.pattern)
    return Response(svg, media_type="image/svg+xml", headers={
        "Cache-Control": _CACHE_IMAGES, "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


class PictureQuery(QueryContract):
    model_config = example(category="kurta", color="pink", pattern="floral")

    category: Annotated[str, Text(32, min_len=1, description=(
        f"the silhouette: {', '.join(sorted(SHAPES))}; any other category draws `product`"))]
    color: Annotated[str, QChoice(tuple(COLOURS), description="the fill")]
    accent: Annotated[str, QChoice(tuple(COLOURS), description="the pattern's second colour")] | None = None
    pattern: Annotated[str, QChoice(PATTERNS)] = "solid"


async def admin_insights(request: Request) -> HTMLResponse:
    """The search analytics report: like the uploader, the token is asked in the page."""
    page = _admin_page("admin_insights.html", "Search insights and merchandising", "/admin/insights",
                       ("/static/insights-admin.js",))
    return HTMLResponse(page, headers=_headers("no-store"))


class StorefrontQuery(QueryContract):
    model_config = example(q="lehenga")

    q: str | None = Field(default=None, description="start with this search (at most 512 characters are used)")


_PAGE_DOWN = Reply("SERVER_SHUTTING_DOWN", ErrorBody)
STOREFRONT = Operation("Demo storefront: search widget and chat embed", query=StorefrontQuery, tags=("web",),
                       replies={200: Reply("HTML page", media="text/html"), 503: _PAGE_DOWN})
PICTURE = Operation("A demo product picture: the category's silhouette in a colour and pattern (SVG)",
                    query=PictureQuery, tags=("web",),
                    replies={200: Reply("SVG image", media="image/svg+xml"), 400: Reply("INVALID_PARAMETERS", ErrorBody),
                             503: _PAGE_DOWN})
UPLOADER = Operation("Context-file uploader (the admin token is asked in the page)", tags=("web",),
                     replies={200: Reply("HTML page", media="text/html"), 503: _PAGE_DOWN})
INSIGHTS = Operation("Search insights: the analytics report as tables and charts (the admin token is asked in the "
                     "page)", tags=("web",), replies={200: Reply("HTML page", media="text/html"), 503: _PAGE_DOWN})


def routes() -> list[BaseRoute]:
    return [
        ApiRoute("/", index, methods=["GET"], operation=STOREFRONT),
        ApiRoute("/admin/context", admin_context, methods=["GET"], operation=UPLOADER),
        ApiRoute("/pictures/product.svg", picture, methods=["GET"], operation=PICTURE),
        ApiRoute("/admin/insights", admin_insights, methods=["GET"], operation=INSIGHTS),
        Mount("/static", app=WebStatic(directory=STATIC), name="static"),
    ]
