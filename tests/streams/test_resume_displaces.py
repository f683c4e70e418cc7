"""A resume that takes a run over from a connection that is still open and waiting: the new
connection gets every event as it is produced, not at its next keep-alive (the old one,
leaving, must not unregister the new one's wake-up). Real uvicorn, words every 0.5 s,
keep-alives every 10 s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx

from tests.support.server import AppServer
from tests.support.sse import events_of


async def test_a_resume_displacing_a_waiting_reader_gets_each_event_as_it_comes(
    app_server: Callable[..., AppServer],
) -> None:
    server = app_server(STREAMING_RATE_LIMIT="100000", STREAMING_PING_S="10")
    url = f"{server.url}/t/tale/stream?n=12&every=0.5"
    gaps: list[tuple[str, float]] = []
    async with asyncio.timeout(40), httpx.AsyncClient(timeout=20) as first, httpx.AsyncClient(timeout=20) as second:
        async with first.stream("GET", url) as old:
            events = events_of(old)
            seen = [await anext(events), await anext(events)]  # connected, word0
            await asyncio.sleep(0.1)  # the old connection now waits for word1
            last = time.monotonic()
            async with second.stream("GET", url, headers={"Last-Event-ID": seen[-1][0]}) as new:
                async for _, kind, _ in events_of(new):
                    now = time.monotonic()
                    gaps.append((kind, round(now - last, 2)))
                    last = now
                    if kind == "close" or len(gaps) >= 5:
                        break
    assert [kind for kind, _ in gaps] == ["text"] * 5, gaps
    # Words come every 0.5 s; a lost wake-up shows as a 10 s gap (the keep-alive).
    assert max(gap for _, gap in gaps) < 5.0, gaps
