"""A slow OpenAI-compatible model server: streams `SLOW_LLM_WORDS` words, one every
`SLOW_LLM_EVERY_S` seconds, so a test has an answer in flight long enough to break something
under it (the database). `uvicorn --factory tests.support.slow_llm:build`."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route


def build() -> Starlette:
    words = int(os.environ.get("SLOW_LLM_WORDS", "30"))
    every = float(os.environ.get("SLOW_LLM_EVERY_S", "0.1"))

    async def completions(request: Request) -> Response:
        await request.body()

        async def chunks() -> AsyncIterator[bytes]:
            for i in range(words):
                delta = {"choices": [{"index": 0, "delta": {"content": f"word{i} "}, "finish_reason": None}]}
                yield f"data: {json.dumps(delta)}\n\n".encode()
                await asyncio.sleep(every)
            yield b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\n'
            yield b"data: [DONE]\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
