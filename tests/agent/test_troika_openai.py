"""The sales agent with the `openai` provider against a real OpenAI-compatible server on
loopback (llama.cpp's server with SmolLM2-135M): the tools run as with the default provider,
and the model words the answer from their results."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.support.llama_server import MODEL
from tests.support.server import AppServer, wait_for_search
from tests.support.sse import read_stream


async def test_agent_answer_streams_from_the_model(app_server: Callable[..., AppServer], llama_url: str) -> None:
    server = app_server(
        LLM_PROVIDER="openai", LLM_BASE_URL=llama_url, LLM_MODEL=MODEL, LLM_READ_TIMEOUT_S="60", LLM_MAX_TOKENS="64",
        STREAMING_TIMEOUT="120000", TTS_ENGINE="off", DEMO_CATALOG_SIZE="200",
        MONGODB_DB=f"troika_llm_{uuid.uuid4().hex[:8]}",
    )
    wait_for_search(server, min_vectors=0)
    got = await read_stream(f"{server.url}/api/troika/intelligent-chat/stream", method="POST",
                            json={"message": "show me a red saree"}, timeout=120)
    assert got.types()[-2:] == ["complete", "close"], got.events[-3:]
    results = {r["type"]: r for r in got.of("results")}
    assert results["intent"]["intent"] == "browse_search"
    assert [p["tool"] for p in got.of("progress")] == ["search_catalog", "market_snapshot"]
    assert results["product_cards"]["products"]
    assert len(got.of("text")) > 1
    complete = got.of("complete")[0]
    assert complete["metadata"]["model_used"] == f"openai:{MODEL}"
    assert complete["tools"] == ["search_catalog", "market_snapshot"]
