"""Embedding on other origins: CORS headers for allowed origins on streams and JSON routes,
rate-limit headers readable by the widget, nothing for other origins or admin routes."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.server import AppServer
from tests.support.sse import read_stream

SHOP = "http://shop.example:8080"


async def test_allowed_origin_gets_cors_on_preflight_and_stream(app_server: Callable[..., AppServer]) -> None:
    server = app_server(CORS_ALLOWED_ORIGINS=f"{SHOP}, https://other.example")
    async with httpx.AsyncClient(timeout=10) as client:
        preflight = await client.options(
            f"{server.url}/t/echo/stream",
            headers={"Origin": SHOP, "Access-Control-Request-Method": "GET",
                     "Access-Control-Request-Headers": "last-event-id"},
        )
        twin = await client.get(f"{server.url}/t/echo?n=1", headers={"Origin": SHOP})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == SHOP
    assert "last-event-id" in preflight.headers["access-control-allow-headers"].lower()
    assert twin.headers["access-control-allow-origin"] == SHOP
    got = await read_stream(f"{server.url}/t/echo/stream?n=2", headers={"Origin": SHOP})
    assert got.types()[-1] == "close"
    assert got.headers["access-control-allow-origin"] == SHOP
    exposed = {h.strip().lower() for h in got.headers["access-control-expose-headers"].split(",")}
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after"} <= exposed


async def test_other_origins_and_admin_routes_get_nothing(app_server: Callable[..., AppServer]) -> None:
    server = app_server(CORS_ALLOWED_ORIGINS=SHOP, ADMIN_TOKEN="t")
    async with httpx.AsyncClient(timeout=10) as client:
        stranger = await client.get(f"{server.url}/t/echo?n=1", headers={"Origin": "https://evil.example"})
        admin_preflight = await client.options(
            f"{server.url}/api/catalog/products",
            headers={"Origin": SHOP, "Access-Control-Request-Method": "PUT"},
        )
        admin = await client.put(f"{server.url}/api/catalog/products", json={"products": []},
                                 headers={"Origin": SHOP, "Authorization": "Bearer t"})
    assert stranger.status_code == 200 and "access-control-allow-origin" not in stranger.headers
    assert "access-control-allow-origin" not in admin_preflight.headers
    assert "access-control-allow-origin" not in admin.headers


async def test_no_cors_by_default(app_server: Callable[..., AppServer]) -> None:
    server = app_server()
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{server.url}/t/echo?n=1", headers={"Origin": SHOP})
    assert "access-control-allow-origin" not in response.headers
