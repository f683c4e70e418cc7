"""Reading a stream in a test: always under a timeout, so nothing in the suite can hang."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import aconnect_sse


@dataclass
class Received:
    status: int
    headers: httpx.Headers
    events: list[tuple[str, str, dict[str, Any]]]  # (id, event, data)

    def types(self) -> list[str]:
        return [kind for _, kind, _ in self.events]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [data for _, k, data in self.events if k == kind]


async def read_stream(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: float = 15.0,
    **kwargs: Any,
) -> Received:
    async with asyncio.timeout(timeout):
        async with httpx.AsyncClient(timeout=timeout) as client:
            async with aconnect_sse(client, method, url, headers=dict(headers or {}), **kwargs) as source:
                response = source.response
                events = []
                if response.status_code == 200 and response.headers.get("content-type", "").startswith(
                    "text/event-stream"
                ):
                    async for sse in source.aiter_sse():
                        events.append((sse.id, sse.event, json.loads(sse.data) if sse.data else {}))
                else:
                    await response.aread()
                return Received(response.status_code, response.headers, events)


async def events_of(response: httpx.Response) -> AsyncIterator[tuple[str, str, dict[str, Any]]]:
    """(id, event, data) for each event of a streaming response, as the lines arrive (the
    caller's own timeout bounds it): for tests that act in the middle of a stream."""
    event_id, kind = "", ""
    async for line in response.aiter_lines():
        if line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            yield event_id, kind, json.loads(line[6:])
