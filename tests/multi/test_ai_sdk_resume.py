"""`useChat({resume: true})` across instances: the chat's stream started on A is found by its
chat id and the owner's cookie on B (the map is in Redis with the shared replay buffer) and
read from its `start` to `[DONE]`, following A's run; without the cookie, B finds nothing."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.protocols.test_ai_sdk_chat import leave_after_first_words, types
from tests.support.server import AppServer

TIMEOUT = 60


@pytest.fixture
def slow_llm(tmp_path: Path) -> Iterator[AppServer]:
    with AppServer({"SLOW_LLM_WORDS": "40", "SLOW_LLM_EVERY_S": "0.1"}, log_dir=tmp_path,
                   factory="tests.support.slow_llm:build") as llm:
        yield llm


async def test_a_chat_started_on_one_instance_resumes_on_the_other(
    instances: Callable[..., tuple[AppServer, AppServer]], slow_llm: AppServer,
) -> None:
    a, b = instances(STREAMING_RATE_LIMIT="1000", LLM_PROVIDER="openai", LLM_BASE_URL=f"{slow_llm.url}/v1",
                     LLM_MODEL="slow")
    chat_id = f"multi-{uuid.uuid4().hex}"
    parts: list[Any] = []
    async with asyncio.timeout(TIMEOUT), httpx.AsyncClient(timeout=TIMEOUT) as client:
        first = await leave_after_first_words(a, chat_id, client)  # the cookie A set goes to B too
        async with httpx.AsyncClient(timeout=TIMEOUT) as stranger:
            stolen = await stranger.get(f"{b.url}/api/ai-sdk/chat/{chat_id}/stream")
        assert stolen.status_code == 204
        async with client.stream("GET", f"{b.url}/api/ai-sdk/chat/{chat_id}/stream") as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    parts.append("[DONE]" if line == "data: [DONE]" else json.loads(line[6:]))
        unknown = await client.get(f"{b.url}/api/ai-sdk/chat/other-{chat_id}/stream")
    assert unknown.status_code == 204
    assert parts[:len(first)] == first
    assert types(parts)[-2:] == ["finish", "[DONE]"] and parts[-2]["finishReason"] == "stop"
    said = "".join(p["delta"] for p in parts[:-1] if p["type"] == "text-delta")
    assert said.split() == [f"word{i}" for i in range(40)]


async def test_a_chat_stream_stops_from_the_other_instance_after_its_first_parts_were_dropped(
    instances: Callable[..., tuple[AppServer, AppServer]], slow_llm: AppServer,
) -> None:
    """The stop names the stream by the id of its `start` (seq 1), whose frame the replay
    buffer has long dropped (5 events held): the stop needs the stream, not its frames."""
    a, b = instances(STREAMING_RATE_LIMIT="1000", STREAM_REPLAY_EVENTS="5", LLM_PROVIDER="openai",
                     LLM_BASE_URL=f"{slow_llm.url}/v1", LLM_MODEL="slow")
    chat_id = f"stop-{uuid.uuid4().hex}"
    async with asyncio.timeout(TIMEOUT), httpx.AsyncClient(timeout=TIMEOUT) as client:
        first = await leave_after_first_words(a, chat_id, client)
        meta = first[0]["messageMetadata"]
        # until frame 1 is gone: a resume from `start` is no longer possible (204), or, if it
        # still is, 8 more words read through it (the buffer holds 5)
        async with client.stream("GET", f"{a.url}/api/ai-sdk/chat/{chat_id}/stream") as resumed:
            words = 0
            async for line in resumed.aiter_lines():
                words += '"type":"text-delta"' in line
                if words >= len([p for p in first if p["type"] == "text-delta"]) + 8:
                    break
        stopped = await client.post(f"{b.url}/api/streams/{meta['streamId']}/stop",
                                    headers={"Last-Event-ID": meta["eventId"]})
    assert stopped.status_code == 200 and stopped.json()["stopped"] is True, stopped.text
