"""`/mcp`: the store's tools for shopping agents, over MCP's Streamable HTTP transport.

The official `mcp` SDK's low-level `Server` lists and calls the tools of
app/protocols/mcp_tools.py; its `StreamableHTTPSessionManager` runs stateless (a fresh
transport per request, no `Mcp-Session-Id`: any instance answers any request) and answers
each POST with one JSON response (no stream is held open; GET and DELETE are 405). Before the SDK sees a request,
`McpEndpoint`:

- refuses a browser's foreign `Origin` (one not in `CORS_ALLOWED_ORIGINS`) with 403
  `ORIGIN_NOT_ALLOWED`: the transport's defence against DNS rebinding. A request without
  `Origin` is not a browser's and is served;
- refuses with 503 `SERVER_SHUTTING_DOWN` once the server is shutting down;
- charges the shared rate limit (the native routes' `StreamLimiter`: one request of the
  budget per HTTP request), adds `X-RateLimit-*` to the answer, refuses with our 429 JSON;
- reads the body as every route does (app/routes/body.py: 64 KB, 413 `BODY_TOO_LARGE`, 408
  `BODY_TIMEOUT` for a body that stops arriving, 503 at shutdown) and hands the SDK a
  `receive` that replays it: the SDK's own `request.body()` would wait for a slow client as
  long as the connection lives.

A tool that fails is an MCP tool error (`isError`), never a stack trace: a bad argument names
its field, anything unexpected is logged here and answered "internal error".
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from app.errors import BadRequest, bad_request_response, error_response
from app.protocols.mcp_tools import TOOLS, McpDeps, Refusal
from app.ratelimit.limiter import StreamLimiter
from app.routes.body import Bodies, replayed, shutting_down

log = logging.getLogger("storestream.mcp")

PATH = "/mcp"
MAX_BODY = 64 * 1024  # as the native routes' JSON bodies


def server(deps: McpDeps) -> Server[Any]:
    """The MCP server: the tools, their schemas, their calls."""
    listed = types.ListToolsResult(tools=[
        types.Tool(name=tool.name, description=tool.description, input_schema=tool.input_schema(),
                   output_schema=tool.output_schema())
        for tool in TOOLS.values()
    ])

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return listed

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        tool = TOOLS.get(params.name)
        try:
            if tool is None:
                raise Refusal(f"name: no tool is called {params.name!r}; tools: {', '.join(TOOLS)}", "name")
            result = await tool.run(deps, tool.arguments_of(params.arguments))
        except Refusal as exc:
            return _error(exc.message)
        except Exception:  # noqa: BLE001 - a tool's failure is an answer, never a trace
            log.exception("MCP tool %s failed", params.name)
            return _error("internal error: the tool failed; try again")
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(result, ensure_ascii=False))],
            structured_content=result,
        )

    return Server(
        "storestream", version="0.1.0",
        instructions="The store's catalog, stock, market figures and policy documents. Prices are rupees (INR).",
        on_list_tools=list_tools, on_call_tool=call_tool,
    )


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


class McpEndpoint:
    """The ASGI app at `/mcp`: Origin, shutdown, the rate limit, the body, then the SDK's transport."""

    def __init__(self, deps: McpDeps, limiter: StreamLimiter, allowed_origins: tuple[str, ...],
                 bodies: Bodies) -> None:
        self.limiter = limiter
        self.bodies = bodies
        self.allowed_origins = frozenset(allowed_origins)
        self.sessions = StreamableHTTPSessionManager(
            app=server(deps), stateless=True, json_response=True, max_request_body_size=MAX_BODY,
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The SDK's task group, from the app's start-up to its shutdown."""
        async with self.sessions.run():
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = Headers(scope=scope).get("origin")
        if origin is not None and origin not in self.allowed_origins:
            refusal = error_response(403, "This Origin may not use the MCP server", "ORIGIN_NOT_ALLOWED")
            await refusal(scope, receive, send)
            return
        if self.bodies.closing():
            await bad_request_response(shutting_down())(scope, receive, send)
            return
        request = Request(scope, receive, send)
        limited = await self.limiter.charge(request)
        if limited is not None:
            await limited(scope, receive, send)
            return
        rate_headers = self.limiter.headers(request)
        try:
            body = await self.bodies.reader(request, MAX_BODY).read()
        except BadRequest as exc:
            refusal = bad_request_response(exc)
            for key, value in rate_headers:
                refusal.headers[key] = value
            await refusal(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and rate_headers:
                headers = MutableHeaders(scope=message)
                for key, value in rate_headers:
                    headers[key] = value
            await send(message)

        await self.sessions.handle_request(scope, replayed(body, receive), send_with_headers)


class McpRoute(Route):
    """`/mcp`, with the SDK's session manager for the app's lifespan to run (app/main.py)."""

    def __init__(self, endpoint: McpEndpoint) -> None:
        # POST only: stateless, there is no session to DELETE, and a GET stream would stay open
        # with nothing ever to send on it (the SDK would hold it); MCP lets a server answer 405.
        super().__init__(PATH, endpoint, methods=["POST"], include_in_schema=False)
        self.mcp = endpoint


def routes(deps: McpDeps, limiter: StreamLimiter, allowed_origins: tuple[str, ...], bodies: Bodies) -> list[McpRoute]:
    return [McpRoute(McpEndpoint(deps, limiter, allowed_origins, bodies))]
