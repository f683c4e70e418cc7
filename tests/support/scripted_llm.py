"""A scripted OpenAI-compatible server, for the one path no real model here can drive: function
calling. The real small model (SmolLM2-135M, tests/support/llama_server.py) does not produce
tool calls reliably, and no larger model can run offline on this machine, so the tests of the
agent's tool-calling path talk to this double instead — over real HTTP, in its own uvicorn
process, like any model server.

    uvicorn --factory tests.support.scripted_llm:build

SCRIPTED_LLM_PLAN (JSON): {"calls": {"<text in the user message>": [{"name", "arguments"}]},
"fail_tools": bool, "answer": "<text streamed word by word>", "delay_s": <seconds between words>}. In arguments, "$shown:N" stands
for the sku of the Nth product the agent says it showed (its system message carries them, as a
model would read them). Every request body is appended
to SCRIPTED_LLM_LOG (JSON lines), so a test can read what the agent sent.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


def _shown(system: str) -> list[str]:
    """The skus of `products_shown` in the agent's state (the JSON after "Current state:")."""
    _, _, state = system.partition("Current state:\n")
    try:
        return [p["sku"] for p in json.loads(state).get("products_shown", [])]
    except (ValueError, AttributeError, KeyError, TypeError):
        return []


def _resolve(value: object, shown: list[str]) -> object:
    if isinstance(value, str) and value.startswith("$shown:"):
        index = int(value.split(":")[1]) - 1
        return shown[index] if index < len(shown) else value
    if isinstance(value, list):
        return [_resolve(v, shown) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, shown) for k, v in value.items()}
    return value


def build() -> Starlette:
    plan = json.loads(os.environ.get("SCRIPTED_LLM_PLAN", "{}"))
    log_path = os.environ["SCRIPTED_LLM_LOG"]

    async def completions(request: Request) -> Response:
        body = await request.json()
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps(body, ensure_ascii=False) + "\n")
        if body.get("tools"):
            if plan.get("fail_tools"):
                return JSONResponse({"error": {"message": "tools are not supported"}}, status_code=400)
            user = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
            calls = next((c for text, c in plan.get("calls", {}).items() if text in user), [])
            shown = _shown(body["messages"][0]["content"])
            tool_calls = [
                {"id": f"call_{i}", "type": "function",
                 "function": {"name": c["name"], "arguments": json.dumps(_resolve(c["arguments"], shown))}}
                for i, c in enumerate(calls)
            ]
            message = {"role": "assistant", "content": None if tool_calls else "ok", "tool_calls": tool_calls}
            return JSONResponse({"choices": [{"index": 0, "message": message,
                                              "finish_reason": "tool_calls" if tool_calls else "stop"}]})

        async def chunks() -> AsyncIterator[bytes]:
            for word in plan.get("answer", "Here you go.").split(" "):
                await asyncio.sleep(plan.get("delay_s", 0))
                delta = {"choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
                yield f"data: {json.dumps(delta)}\n\n".encode()
            yield b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\n'
            yield b"data: [DONE]\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
