"""Graceful shutdown: on SIGTERM every open stream ends with a retryable
SERVER_SHUTTING_DOWN error and `close` within SHUTDOWN_GRACE_S, and the process exits."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Callable

import httpx

from tests.support.server import AppServer


async def test_sigterm_ends_open_streams_cleanly(app_server: Callable[..., AppServer]) -> None:
    server = app_server(SHUTDOWN_GRACE_S="5", STREAMING_RATE_LIMIT="1000")
    events: list[tuple[str, dict]] = []
    async with asyncio.timeout(20), httpx.AsyncClient(timeout=20) as client:
        async with client.stream("GET", f"{server.url}/t/slow/stream?every=0.5") as response:
            kind = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    events.append((kind, json.loads(line[6:])))
                    if kind == "progress" and len(events) == 2:
                        signalled = time.monotonic()
                        assert server.process is not None
                        server.process.send_signal(signal.SIGTERM)
    kinds = [k for k, _ in events]
    assert kinds[0] == "connected" and kinds[-2:] == ["error", "close"], kinds
    error = events[-2][1]
    assert (error["code"], error["retryable"]) == ("SERVER_SHUTTING_DOWN", True)
    assert server.process is not None
    server.process.wait(timeout=15)
    assert time.monotonic() - signalled < 15
    assert "SIGTERM: closing 1 open streams" in server.log()
    assert "outcome=shutdown" in server.log()


async def test_new_streams_are_refused_while_shutting_down(mongo_url: str) -> None:
    """The refusal itself, on the app in-process (a real server exits too soon after SIGTERM
    to race a new request against it reliably)."""
    from starlette.testclient import TestClient

    from app.main import create_app
    from config.settings import load_settings

    settings = load_settings({"MONGODB_URL": mongo_url, "SEARCH_EMBEDDINGS": "false",
                              "DEMO_CATALOG_SIZE": "0"}, env_file=None)
    app = create_app(settings)
    with TestClient(app) as client:
        app.state.platform.runs.closing = True
        response = client.post("/api/chat/query/stream", json={"query": "red saree"})
        assert response.status_code == 503
        assert response.json()["code"] == "SERVER_SHUTTING_DOWN"
        assert response.headers["retry-after"] == "2"
