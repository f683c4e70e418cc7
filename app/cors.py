"""Embedding on other origins: CORS for the public routes, never for the admin ones.

`CORS_ALLOWED_ORIGINS` lists the storefront origins (empty by default: nothing cross-origin
until configured). Allowed origins get `Access-Control-Allow-Origin` on preflight and actual
responses, streams included, and may read the rate-limit headers (`Expose-Headers`), so a
widget can tell the shopper when to try again. Admin routes answer same-origin only.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

EXPOSED = ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"]
ADMIN_PREFIXES = ("/api/context/", "/api/catalog/products", "/api/analytics/", "/admin")


class PublicCORS:
    def __init__(self, app: ASGIApp, origins: tuple[str, ...]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            # MCP-Protocol-Version: what MCP clients send to /mcp (app/routes/mcp_http.py)
            allow_headers=["Content-Type", "Last-Event-ID", "MCP-Protocol-Version"],
            expose_headers=EXPOSED,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(ADMIN_PREFIXES):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
