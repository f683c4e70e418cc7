"""What an open stream costs the server, on a real uvicorn in this test's own event loop
(so the test can count the loop's tasks and look at the garbage collector):

- an idle stream holds two tasks, its request and its run; the connection waits for its
  client's disconnect itself (no third task listening for it), and still learns at once
  that the client left;
- once start-up is over the heap it built is frozen (`gc.freeze()`), so the collector's
  full passes do not walk it again with every stream admitted, and unfrozen at shutdown.

No database: the platform is built but not started, as `bench/servers.py` does.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from starlette.requests import Request

from app.main import StorestreamApp
from app.platform import Platform
from app.streams.endpoint import StreamEndpoint, stream_routes
from app.streams.engine import StreamContext
from app.streams.events import Event
from config.settings import load_settings

STREAMS = 20
ENV = {"STREAMING_RATE_LIMIT": "100000", "STREAMING_MAX_CONCURRENT_PER_IP": "1000", "LOG_LEVEL": "WARNING"}


async def _parse(request: Request) -> dict[str, Any]:
    return {}


async def _idle(params: dict[str, Any], ctx: StreamContext) -> AsyncIterator[Event]:
    await asyncio.Event().wait()  # never ends by itself
    yield  # pragma: no cover - makes this an async generator


def _app() -> StorestreamApp:
    platform = Platform(load_settings(ENV, env_file=None))
    routes = stream_routes(StreamEndpoint("idle", _parse, _idle), platform.streams, stream_path="/idle",
                           json_path=None, methods=["GET"])
    return StorestreamApp(routes=routes, closing=lambda: platform.runs.closing)


async def _until(condition: Any, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def _open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /idle HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n")
    async with asyncio.timeout(10):
        got = b""
        while b"event: connected" not in got:
            chunk = await reader.read(4096)
            assert chunk, f"closed before `connected`: {got!r}"
            got += chunk
    return reader, writer


@pytest.fixture
async def server() -> AsyncIterator[uvicorn.Server]:
    config = uvicorn.Config(_app(), host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    srv = uvicorn.Server(config)
    serving = asyncio.create_task(srv.serve())
    await _until(lambda: srv.started)
    yield srv
    srv.should_exit = True
    async with asyncio.timeout(10):
        await serving


def _port(srv: uvicorn.Server) -> int:
    return srv.servers[0].sockets[0].getsockname()[1]


async def test_an_idle_stream_holds_its_request_and_its_run_and_no_more(server: uvicorn.Server) -> None:
    await asyncio.sleep(0.1)  # uvicorn's own start-up tasks settle
    before = len(asyncio.all_tasks())
    conns = [await _open(_port(server)) for _ in range(STREAMS)]
    assert len(asyncio.all_tasks()) - before == 2 * STREAMS
    for _, writer in conns:
        writer.close()
    # The search-like route is not detachable: its clients gone, every run is cancelled.
    await _until(lambda: len(asyncio.all_tasks()) == before)


async def test_the_start_up_heap_is_frozen_while_serving(server: uvicorn.Server) -> None:
    assert gc.get_freeze_count() > 0
    server.should_exit = True
    await _until(lambda: not server.started or gc.get_freeze_count() == 0)
    await _until(lambda: gc.get_freeze_count() == 0)


async def test_the_heap_stays_frozen_while_another_app_of_the_process_serves(server: uvicorn.Server) -> None:
    other = uvicorn.Server(uvicorn.Config(_app(), host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(other.serve())
    await _until(lambda: other.started)
    other.should_exit = True
    async with asyncio.timeout(10):
        await serving
    assert gc.get_freeze_count() > 0  # `server` still serves
