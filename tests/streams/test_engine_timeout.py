"""STREAMING_TIMEOUT ends a stream with STREAM_TIMEOUT then close, and stops the producer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from tests.support.server import AppServer
from tests.support.sse import read_stream


async def test_timeout_ends_the_stream_and_cancels_work(app_server: Callable[..., AppServer]) -> None:
    server = app_server(STREAMING_TIMEOUT="800", STREAMING_RATE_LIMIT="1000")
    got = await read_stream(f"{server.url}/t/slow/stream?every=0.2", timeout=10)
    assert got.types()[0] == "connected" and got.types()[-2:] == ["error", "close"]
    assert "complete" not in got.types()
    error = got.of("error")[0]
    assert (error["code"], error["retryable"], error["fatal"]) == ("STREAM_TIMEOUT", True, True)
    assert error["message"] == "The stream took longer than 800 ms"
    stream_id = got.events[0][2]["stream_id"]
    async with httpx.AsyncClient(timeout=5) as client:
        for _ in range(50):
            state = (await client.get(f"{server.url}/t/probe")).json()
            if stream_id in state["finally"]:
                break
            await asyncio.sleep(0.05)
        twin = await client.get(f"{server.url}/t/slow?every=0.2")
    assert stream_id in state["finally"]
    assert twin.status_code == 504 and twin.json()["error"]["code"] == "STREAM_TIMEOUT"
