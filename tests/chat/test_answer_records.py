"""What is stored for an assistant answer that does not complete: never `streaming` for ever.

Real uvicorn, real MongoDB (nx-27017), STREAM_DETACH_S=0 so a client that leaves cancels the
answer at once; the client closes its connection right after `progress` or `results`, before
any `text`. In process, against the real store: tests/conversation/test_stored.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support.server import AppServer, wait_for_search

ROUNDS = 20
SETTLE_S = 15.0  # how long the answer may take to be stored as it ended


async def _leave_after(url: str, body: dict[str, Any], leave_on: str) -> dict[str, Any]:
    """Open the stream, read up to the first `leave_on` event, close the connection; the
    `connected` payload."""
    connected: dict[str, Any] = {}
    async with asyncio.timeout(15):
        async with httpx.AsyncClient(timeout=15) as client:
            async with client.stream("POST", url, json=body) as response:
                assert response.status_code == 200, await response.aread()
                kind = ""
                async for line in response.aiter_lines():
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("data:") and kind == "connected":
                        connected = json.loads(line[5:])
                    elif line.startswith("data:") and kind == leave_on:
                        break
                    elif line.startswith("data:") and kind == "text":
                        break  # too late to test this round; the check below still holds
    return connected


async def _assistant_statuses(client: httpx.AsyncClient, url: str) -> list[str]:
    response = await client.get(url)
    assert response.status_code == 200, response.text
    return [m["status"] for m in response.json()["messages"] if m["role"] == "assistant"]


async def _settled(server: AppServer, history_urls: list[str]) -> list[list[str]]:
    """Each conversation's assistant statuses, once none is `streaming` (or after SETTLE_S)."""
    deadline = time.monotonic() + SETTLE_S
    async with httpx.AsyncClient(timeout=10) as client:
        while True:
            statuses = [await _assistant_statuses(client, f"{server.url}{u}") for u in history_urls]
            if all("streaming" not in s for s in statuses) or time.monotonic() > deadline:
                return statuses
            await asyncio.sleep(0.2)


@pytest.fixture
def server(app_server: Callable[..., AppServer]) -> AppServer:
    app = app_server(STREAM_DETACH_S="0", DEMO_CATALOG_SIZE="300", STREAMING_RATE_LIMIT="100000",
                     TTS_ENGINE="off")
    wait_for_search(app, min_vectors=0)
    return app


async def test_a_chat_answer_left_before_its_first_token_is_stored_as_interrupted(server: AppServer) -> None:
    urls = []
    for i in range(ROUNDS):
        connected = await _leave_after(
            f"{server.url}/api/chat/query/stream", {"query": f"red silk saree under {2000 + i}"},
            "progress" if i % 2 else "results",
        )
        urls.append(f"/api/chat/conversations/{connected['conversation_id']}")
    statuses = await _settled(server, urls)
    stuck = [s for s in statuses if "streaming" in s]
    assert not stuck, f"{len(stuck)} of {ROUNDS} answers still 'streaming': {statuses}"
    assert all(set(s) <= {"interrupted", "complete"} for s in statuses), statuses


async def test_an_agent_answer_left_before_its_first_token_is_stored_as_interrupted(server: AppServer) -> None:
    urls = []
    for i in range(ROUNDS):
        connected = await _leave_after(
            f"{server.url}/api/troika/intelligent-chat/stream", {"message": f"blue kurta under {1500 + i}"},
            "results",
        )
        urls.append(f"/api/troika/sessions/{connected['session_id']}")
    statuses = await _settled(server, urls)
    stuck = [s for s in statuses if "streaming" in s]
    assert not stuck, f"{len(stuck)} of {ROUNDS} answers still 'streaming': {statuses}"
    assert all(set(s) <= {"interrupted", "complete"} for s in statuses), statuses
