"""`/openapi.json` describes the routes and the event payloads; `/docs` renders it."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.server import AppServer


async def test_openapi_describes_streams_and_events(app_server: Callable[..., AppServer]) -> None:
    server = app_server()
    async with httpx.AsyncClient(timeout=10) as client:
        spec = (await client.get(f"{server.url}/openapi.json")).json()
        page = await client.get(f"{server.url}/docs")
    assert spec["openapi"].startswith("3.")
    stream = spec["paths"]["/t/echo/stream"]["get"]
    assert stream["summary"] == "Echo tricky payloads"
    assert [p["name"] for p in stream["parameters"]] == ["n", "Last-Event-ID"]
    assert stream["x-events"][0] == "connected" and stream["x-events"][-1] == "close"
    refs = stream["responses"]["200"]["content"]["text/event-stream"]["schema"]["oneOf"]
    assert len(refs) == 8
    for ref in refs:
        name = ref["$ref"].rsplit("/", 1)[1]
        assert name in spec["components"]["schemas"]
    assert "/t/echo" in spec["paths"] and "/healthz" in spec["paths"] and "/metrics" in spec["paths"]
    assert page.status_code == 200 and "/openapi.json" in page.text
