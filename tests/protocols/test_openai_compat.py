"""OpenAI-compatible chat completions (/v1) through the official `openai` package, against a
real server: the sales agent and the chat, streaming and not, their refusals as the client's
own exceptions, and the limiter's 429 as `RateLimitError` with `Retry-After`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.support.server import AppServer, isolated_env, wait_for_search

AGENT, CHAT = "storestream-agent", "storestream-chat"
TIMEOUT = 60


def client(server: AppServer, **options: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key="unused", timeout=TIMEOUT, **options)


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "You are a shop assistant."}, {"role": "user", "content": text}]


async def stream_chunks(server: AppServer, model: str, text: str, **extra: Any) -> list[Any]:
    async with client(server) as oai:
        stream = await oai.chat.completions.create(model=model, messages=ask(text), stream=True, **extra)
        return await asyncio.wait_for(_collect(stream), TIMEOUT)


async def _collect(stream: Any) -> list[Any]:
    return [chunk async for chunk in stream]


async def test_models_lists_both_assistants(server: AppServer) -> None:
    async with client(server, max_retries=0) as oai:
        page = await oai.models.list()
        one = await oai.models.retrieve(CHAT)
        with pytest.raises(openai.NotFoundError) as unknown:
            await oai.models.retrieve("gpt-4o")
    assert sorted(m.id for m in page.data) == [AGENT, CHAT]
    assert all(m.object == "model" and m.owned_by == "storestream" for m in page.data)
    assert one.id == CHAT and one == next(m for m in page.data if m.id == CHAT)
    assert unknown.value.code == "model_not_found" and unknown.value.param == "model"


async def test_completion_is_the_native_twins_answer(server: AppServer) -> None:
    message = "red silk lehenga under 20000"
    async with client(server) as oai:
        done = await oai.chat.completions.create(model=AGENT, messages=ask(message))
    assert done.object == "chat.completion" and done.model == AGENT and done.id.startswith("chatcmpl-")
    choice = done.choices[0]
    assert choice.message.role == "assistant" and choice.finish_reason == "stop"
    extension = done.model_extra["storestream"]
    cards = extension["results"]["product_cards"]["products"]
    assert cards and all("lehenga" in (c["title"] + c.get("category", "")).lower() for c in cards)
    assert extension["session_id"] and extension["intent"]
    # The same producer: the native JSON twin answers the same message in the same words.
    native = httpx.post(f"{server.url}/api/troika/intelligent-chat", json={"message": message}, timeout=TIMEOUT)
    assert native.status_code == 200
    assert choice.message.content == native.json()["text"]
    assert [c["sku"] for c in cards] == [c["sku"] for c in native.json()["results"]["product_cards"]["products"]]


async def test_streaming_chunks_map_the_events(server: AppServer) -> None:
    message = "blue cotton kurta"
    chunks = await stream_chunks(server, AGENT, message)
    assert all(c.object == "chat.completion.chunk" and c.model == AGENT for c in chunks)
    assert len({c.id for c in chunks}) == 1
    first, last = chunks[0], chunks[-1]
    assert first.choices[0].delta.role == "assistant"
    assert last.choices[0].finish_reason == "stop" and last.model_extra["storestream"]["session_id"]
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    results = [c.model_extra["storestream"]["results"]["type"] for c in chunks
               if (c.model_extra or {}).get("storestream", {}).get("results")]
    assert "intent" in results and results[-1] == "suggestions"
    async with client(server) as oai:
        whole = await oai.chat.completions.create(model=AGENT, messages=ask(message))
    assert text and text == whole.choices[0].message.content


async def test_chat_assistant_streams_and_folds(server: AppServer) -> None:
    chunks = await stream_chunks(server, CHAT, "what kurtas do you have?")
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text and chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["storestream"]["conversation_id"]
    async with client(server) as oai:
        done = await oai.chat.completions.create(model=CHAT, messages=[{"role": "user", "content": "hello"}])
    assert done.choices[0].message.content and "sources" in done.model_extra["storestream"]["results"]


async def test_user_is_the_session(server: AppServer) -> None:
    session = f"oai-{uuid.uuid4().hex[:8]}"
    async with client(server) as oai:
        first = await oai.chat.completions.create(model=AGENT, messages=ask("red lehenga"), user=session)
        again = await oai.chat.completions.create(model=AGENT, messages=ask("show cheaper ones"), user=session)
    assert first.model_extra["storestream"]["session_id"] == session == again.model_extra["storestream"]["session_id"]
    remembered = httpx.get(f"{server.url}/api/troika/sessions/{session}", timeout=TIMEOUT).json()
    assert [m["content"] for m in remembered["messages"] if m["role"] == "user"] == ["red lehenga", "show cheaper ones"]
    assert remembered["memory"]["turns"] == 2


async def test_refusals_are_the_clients_errors(server: AppServer) -> None:
    async with client(server, max_retries=0) as oai:
        with pytest.raises(openai.BadRequestError) as empty:
            await oai.chat.completions.create(model=AGENT, messages=[])
        with pytest.raises(openai.BadRequestError) as last:
            await oai.chat.completions.create(model=AGENT, messages=[{"role": "assistant", "content": "hi"}],
                                              stream=True)
        with pytest.raises(openai.BadRequestError) as long:
            await oai.chat.completions.create(model=CHAT, messages=[{"role": "user", "content": "x" * 4001}])
        with pytest.raises(openai.NotFoundError) as unknown:
            await oai.chat.completions.create(model="gpt-4o", messages=ask("hello"))
    assert empty.value.param == "messages" and empty.value.code == "INVALID_PARAMETERS"
    assert empty.value.type == "invalid_request_error" and "messages" in empty.value.message
    assert last.value.param == "messages.0.role"
    assert long.value.param == "messages.0.content"
    assert unknown.value.code == "model_not_found" and unknown.value.param == "model"


async def test_not_json_and_too_large_are_refused_in_openai_shape(server: AppServer) -> None:
    got = httpx.post(f"{server.url}/v1/chat/completions", content=b"model=x", timeout=TIMEOUT,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert got.status_code == 415
    assert got.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE" and got.json()["error"]["param"] == "Content-Type"
    big = {"model": AGENT, "messages": [{"role": "user", "content": "x" * 70_000}]}  # over the 64 KB body limit
    got = httpx.post(f"{server.url}/v1/chat/completions", json=big, timeout=TIMEOUT)
    assert got.status_code == 413
    assert got.json()["error"] == {"message": got.json()["error"]["message"], "type": "invalid_request_error",
                                   "code": "BODY_TOO_LARGE", "param": "body"}
    assert got.headers["x-ratelimit-limit"]  # charged like any request of the budget


@pytest.fixture(scope="module")
def strict(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """Two requests a window, and a 1 ms stream deadline: every answer times out."""
    env = isolated_env(mongo_url, tmp_path_factory.mktemp("oaistrict"), "oaistrict",
                       STREAMING_RATE_LIMIT="2", STREAMING_TIMEOUT="1")
    with AppServer(env, log_dir=tmp_path_factory.mktemp("oaistrictlogs")) as app:
        wait_for_search(app, min_vectors=0)
        yield app


async def test_failures_and_the_rate_limit(strict: AppServer) -> None:
    async with client(strict, max_retries=0) as oai:
        stream = await oai.chat.completions.create(model=AGENT, messages=ask("red lehenga"), stream=True)
        with pytest.raises(openai.APIError) as failed:
            await asyncio.wait_for(_collect(stream), TIMEOUT)
        with pytest.raises(openai.InternalServerError) as folded:
            await oai.chat.completions.create(model=AGENT, messages=ask("red lehenga"))
        with pytest.raises(openai.RateLimitError) as limited:
            await oai.chat.completions.create(model=AGENT, messages=ask("red lehenga"), stream=True)
    assert failed.value.code == "STREAM_TIMEOUT" and failed.value.type == "server_error"
    assert folded.value.status_code == 504 and folded.value.code == "STREAM_TIMEOUT"
    response = limited.value.response
    assert int(response.headers["retry-after"]) >= 1 and response.headers["x-ratelimit-remaining"] == "0"
    assert limited.value.code == "RATE_LIMITED" and limited.value.type == "rate_limit_error"
