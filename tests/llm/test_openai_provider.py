"""`OpenAIProvider` against real servers on loopback.

- llama.cpp's own server (xllamacpp) with SmolLM2-135M: a real OpenAI-compatible streaming
  server, started once for the module (tests/support/llama_server.py). Skipped, with the
  reason, where xllamacpp or the model package is missing.
- Protocol edge cases no real model server produces on demand (503 then OK, 429 with
  Retry-After, a connection dropped mid-answer, an error object in the stream, 401, stalls,
  garbage), streamed and for function calling (`choose_tools`): a tiny Starlette app served by
  real uvicorn on 127.0.0.1 in a thread.

Every stream is read under `asyncio.timeout`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from email.utils import formatdate
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from app.llm.base import Grounding, Message, ProviderError, ToolCall
from app.llm.openai import OpenAIProvider
from app.llm.retry import RetryPolicy
from app.store.embedded import free_port
from tests.llm.groundings import grounding
from tests.support.llama_server import MODEL, LlamaServer, unavailable_reason
from tests.support.requirements import need

SECRET = "sk-live-TESTSECRET0123456789abcdef"

async def collect(
    provider: OpenAIProvider, history: list[Message], g: Grounding, timeout: float = 15.0
) -> tuple[list[str], ProviderError | None]:
    """Every piece the provider yields, and the ProviderError that ended it (if any)."""
    pieces: list[str] = []
    async with asyncio.timeout(timeout):
        try:
            async for piece in provider.stream(history, g):
                pieces.append(piece)
        except ProviderError as exc:
            return pieces, exc
    return pieces, None


# ----------------------------------------------------------------------------- real llama.cpp

@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    need(unavailable_reason())
    server = LlamaServer(api_key=SECRET, log_dir=tmp_path_factory.mktemp("llama"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def llama_provider(server: LlamaServer, *, retries: int = 0, **kwargs: Any) -> OpenAIProvider:
    options = {"model": MODEL, "api_key": SECRET, "max_tokens": 48, "temperature": 0.0,
               "read_timeout_s": 30.0, "retry": RetryPolicy(retries=retries), **kwargs}
    return OpenAIProvider(server.base_url, **options)


async def test_llama_streams_a_grounded_answer_in_pieces(llama: LlamaServer) -> None:
    async with llama_provider(llama) as provider:
        history = [Message("user", "Which red lehenga do you have for a wedding?")]
        pieces, error = await collect(provider, history, grounding(), timeout=60)
    assert error is None, error
    assert len(pieces) > 1, pieces
    assert "".join(pieces).strip()


async def test_llama_wrong_key_is_not_retried_and_not_echoed(llama: LlamaServer) -> None:
    wrong = "sk-wrong-ZZZZ9999888877776666"
    async with llama_provider(llama, api_key=wrong, retries=3) as provider:
        started = time.monotonic()
        pieces, error = await collect(provider, [Message("user", "hi")], grounding())
    assert pieces == [] and error is not None
    assert error.retryable is False
    assert "401" in error.message
    assert wrong not in error.message and SECRET not in error.message
    assert time.monotonic() - started < 2  # no backoff: not retried


async def test_llama_stops_generating_when_the_reader_leaves(llama: LlamaServer) -> None:
    headers = {"Authorization": f"Bearer {SECRET}"}

    async def busy() -> bool:
        async with httpx.AsyncClient(timeout=5) as client:
            slots = (await client.get(f"{llama.url}/slots", headers=headers)).json()
        return any(slot.get("is_processing") for slot in slots)

    async with llama_provider(llama, max_tokens=400) as provider:
        stream = provider.stream([Message("user", "Describe every lehenga at length.")], grounding())
        async with asyncio.timeout(30):
            got = [await anext(stream), await anext(stream)]
            assert await busy()  # 400 tokens at ~30/s: still generating
            await stream.aclose()  # what the chat stream does when the shopper leaves
            left = time.monotonic()
            while await busy():
                assert time.monotonic() - left < 3, "llama.cpp kept generating after the client left"
                await asyncio.sleep(0.05)
    assert len(got) == 2


# ----------------------------------------------------------------------------- protocol edge cases

HITS: Counter[str] = Counter()
HIT_AT: dict[str, list[float]] = {}  # when each request of a run arrived (monotonic)
SEEN: dict[str, dict[str, Any]] = {}
CLOSED: dict[str, float] = {}


def chunk(content: str | None = None, finish: str | None = None, role: bool = False) -> str:
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = "assistant"
    if content is not None or role:
        delta["content"] = content
    body = {"id": "c1", "object": "chat.completion.chunk", "model": "fake",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(body)}\n\n"


def sse(parts: AsyncIterator[str] | list[str]) -> StreamingResponse:
    async def gen() -> AsyncIterator[str]:
        if isinstance(parts, list):
            for part in parts:
                yield part
                await asyncio.sleep(0.01)
        else:
            async for part in parts:
                yield part

    return StreamingResponse(gen(), media_type="text/event-stream")


GOOD = [chunk(role=True), ": keep-alive\n\n", chunk("Hello"), chunk(" there"), chunk("!"),
        chunk(finish="stop"), 'data: {"choices": [], "usage": {"total_tokens": 9}}\n\n', "data: [DONE]\n\n"]


def tool_call(name: str, arguments: str) -> dict[str, Any]:
    return {"id": f"call_{name}", "type": "function", "function": {"name": name, "arguments": arguments}}


TOOL_REPLY = {"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
    "role": "assistant", "content": None, "tool_calls": [
        tool_call("search_catalog", '{"query": "saree", "max_price": 9000}'),
        tool_call("compare_products", "not json"),  # dropped
        tool_call("market_snapshot", '["not", "an", "object"]'),  # dropped
    ]}}]}
TOOLS = [{"type": "function", "function": {"name": "search_catalog", "parameters": {"type": "object"}}}]


async def completions(request: Request) -> Response:
    scenario, run = request.path_params["scenario"], request.path_params["run"]
    key = f"{scenario}/{run}"
    HITS[key] += 1
    HIT_AT.setdefault(key, []).append(time.monotonic())
    attempt = HITS[key]
    SEEN[key] = {"json": await request.json(), "auth": request.headers.get("authorization")}
    match scenario:
        case "ok":
            return sse(GOOD)
        case "503-then-ok":
            if attempt == 1:
                return JSONResponse({"error": {"message": "overloaded"}}, 503, headers={"Retry-After": "0"})
            return sse(GOOD)
        case "always-503":
            return JSONResponse({"error": {"message": "overloaded"}}, 503)
        case "429-long":
            return JSONResponse({"error": {"message": "slow down"}}, 429, headers={"Retry-After": "60"})
        case "stall-then-ok":
            if attempt == 1:
                await asyncio.sleep(5)  # longer than the client's read timeout, before any byte
            return sse(GOOD)
        case "drop":
            async def dropping() -> AsyncIterator[str]:
                for part in (chunk(role=True), chunk("one"), chunk(" two"), chunk(" three")):
                    yield part
                    await asyncio.sleep(0.02)
                raise RuntimeError("simulated crash: connection dropped mid-answer")
            return sse(dropping())
        case "error-mid":
            return sse([chunk("Partial"), chunk(" answer"),
                        'data: {"error": {"message": "slot crashed", "type": "server_error", "code": 500}}\n\n'])
        case "error-first":
            if attempt == 1:
                return sse(['data: {"error": {"message": "busy", "code": 503}}\n\n'])
            return sse(GOOD)
        case "malformed":
            return sse([chunk("fine"), "data: {not json\n\n", chunk("never")])
        case "cut-short":
            return sse([chunk("no"), chunk(" end")])  # no finish_reason, no [DONE]
        case "stall-mid":
            async def stalling() -> AsyncIterator[str]:
                yield chunk("first")
                await asyncio.sleep(10)
                yield chunk("late")
            return sse(stalling())
        case "endless":
            async def endless() -> AsyncIterator[str]:
                try:
                    for i in range(10_000):
                        yield chunk(f"t{i} ")
                        await asyncio.sleep(0.02)
                finally:
                    CLOSED[key] = time.monotonic()
            return sse(endless())
        case "401":
            return JSONResponse({"error": {"message": f"Incorrect API key provided: {SECRET}. "
                                           + "x" * 5000, "type": "invalid_request_error"}}, 401)
        case "400":
            return JSONResponse({"error": {"message": "max_tokens is too large"}}, 400)
        case "429-date-then-ok":
            if attempt == 1:
                when = formatdate(time.time() + 2, usegmt=True)  # whole seconds: 1 to 2 s from now
                return JSONResponse({"error": {"message": "slow down"}}, 429, headers={"Retry-After": when})
            return sse(GOOD)
        case "not-sse":
            return JSONResponse({"choices": [{"message": {"content": "Hello"}}]})  # ignored stream: true
        case "crlf-multiline":
            first = json.dumps({"choices": [{"delta": {"content": "Hel"}, "finish_reason": None}]})
            return sse([": ping\r\n\r\n", f"data: {first}\r\n\r\n",
                        'data: {"choices": [{"delta": {"content": "lo"},\r\ndata:  "finish_reason": "stop"}]}\r\n\r\n',
                        "data: [DONE]\r\n\r\n"])
        case "tools-429-then-ok":
            if attempt == 1:
                return JSONResponse({"error": {"message": "slow down"}}, 429, headers={"Retry-After": "1"})
            return JSONResponse(TOOL_REPLY)
        case "tools-429-long":
            return JSONResponse({"error": {"message": "slow down"}}, 429, headers={"Retry-After": "60"})
        case "tools-503-then-ok":
            if attempt == 1:
                return JSONResponse({"error": {"message": "overloaded"}}, 503)
            return JSONResponse(TOOL_REPLY)
        case "tools-401":
            return JSONResponse({"error": {"message": f"Incorrect API key provided: {SECRET}"}}, 401)
        case "tools-ok":
            return JSONResponse(TOOL_REPLY)
    return JSONResponse({"error": "unknown scenario"}, 404)


class FakeUpstream:
    def __init__(self) -> None:
        app = Starlette(routes=[Route("/{scenario}/{run}/v1/chat/completions", completions, methods=["POST"])])
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="critical",
                                access_log=False, lifespan="off", timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> FakeUpstream:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "fake upstream did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def base_url(self, scenario: str) -> tuple[str, str]:
        run = uuid.uuid4().hex[:8]
        return f"http://127.0.0.1:{self.port}/{scenario}/{run}/v1", f"{scenario}/{run}"


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    server = FakeUpstream().start()
    try:
        yield server
    finally:
        server.stop()


def fake(url: str, *, retries: int = 2, **kwargs: Any) -> OpenAIProvider:
    options = {"model": "fake-model", "api_key": SECRET, "retry": RetryPolicy(retries=retries, backoff_s=0.05),
               "read_timeout_s": 2.0, "connect_timeout_s": 1.0, **kwargs}
    return OpenAIProvider(url, **options)


ASK = [Message("user", "red lehenga?")]


async def test_streams_content_and_sends_the_request(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("ok")
    async with fake(url, max_tokens=123, temperature=0.7) as provider:
        pieces, error = await collect(provider, ASK, grounding("fa"))
    assert error is None and pieces == ["Hello", " there", "!"]
    sent = SEEN[key]
    assert sent["auth"] == f"Bearer {SECRET}"
    body = sent["json"]
    assert body["stream"] is True and body["model"] == "fake-model"
    assert body["max_tokens"] == 123 and body["temperature"] == 0.7
    assert body["messages"][0]["role"] == "system" and "Answer in Persian" in body["messages"][0]["content"]
    assert body["messages"][-1] == {"role": "user", "content": "red lehenga?"}


async def test_no_api_key_sends_no_authorization(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("ok")
    async with fake(url, api_key=None) as provider:
        pieces, error = await collect(provider, ASK, grounding())
    assert error is None and pieces
    assert SEEN[key]["auth"] is None


async def answered_on_the_second_attempt(upstream: FakeUpstream, mode: str, **options: Any) -> None:
    """The upstream in `mode` fails the first attempt, then answers: the whole answer, two requests."""
    url, key = upstream.base_url(mode)
    async with fake(url, **options) as provider:
        pieces, error = await collect(provider, ASK, grounding())
    assert error is None and "".join(pieces) == "Hello there!"
    assert HITS[key] == 2


async def test_503_then_ok_is_retried_before_the_first_token(upstream: FakeUpstream) -> None:
    await answered_on_the_second_attempt(upstream, "503-then-ok")


async def test_always_503_gives_up_after_retries(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("always-503")
    async with fake(url, retries=2) as provider:
        started = time.monotonic()
        pieces, error = await collect(provider, ASK, grounding())
    assert pieces == [] and error is not None and error.retryable is True
    assert HITS[key] == 3  # the first attempt and 2 retries
    assert "HTTP 503" in error.message and "3 attempts" in error.message
    assert time.monotonic() - started < 2


async def test_429_with_a_long_retry_after_is_not_waited_for(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("429-long")
    async with fake(url, retries=3) as provider:
        started = time.monotonic()
        _, error = await collect(provider, ASK, grounding())
    assert error is not None and error.retryable is True and "429" in error.message
    assert HITS[key] == 1 and time.monotonic() - started < 2


async def test_retry_after_as_an_http_date_is_honoured(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("429-date-then-ok")
    async with fake(url) as provider:
        pieces, error = await collect(provider, ASK, grounding())
    assert error is None and "".join(pieces) == "Hello there!"
    first, second = HIT_AT[key]
    assert second - first >= 0.95, f"retried after {second - first:.2f} s, the date was 1 to 2 s away"


async def test_a_reply_that_is_not_an_event_stream_is_retried_then_refused(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("not-sse")
    async with fake(url) as provider:
        pieces, error = await collect(provider, ASK, grounding())
    assert pieces == [] and error is not None and error.retryable
    assert "not an event stream" in error.message and HITS[key] == 3


async def test_crlf_lines_comments_and_multiline_data_are_read(upstream: FakeUpstream) -> None:
    url, _ = upstream.base_url("crlf-multiline")
    async with fake(url) as provider:
        pieces, error = await collect(provider, ASK, grounding())
    assert error is None and pieces == ["Hel", "lo"]


async def test_read_timeout_before_the_first_byte_is_retried(upstream: FakeUpstream) -> None:
    await answered_on_the_second_attempt(upstream, "stall-then-ok", read_timeout_s=0.5)


async def test_error_object_before_the_first_token_is_retried(upstream: FakeUpstream) -> None:
    await answered_on_the_second_attempt(upstream, "error-first")


async def test_connection_dropped_mid_answer_keeps_the_tokens_and_raises(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("drop")
    async with fake(url, retries=2) as provider:
        pieces, error = await collect(provider, ASK, grounding())
    assert pieces == ["one", " two", " three"]
    assert error is not None and error.retryable is True
    assert "mid-answer" in error.message
    assert HITS[key] == 1  # never retried after a token


async def test_error_object_mid_stream_raises_after_the_partial_answer(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("error-mid")
    async with fake(url) as provider:
        pieces, error = await collect(provider, ASK, grounding())
    assert pieces == ["Partial", " answer"]
    assert error is not None and error.retryable is True and "slot crashed" in error.message
    assert HITS[key] == 1


async def test_malformed_chunk_mid_stream_raises(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("malformed")
    async with fake(url) as provider:
        pieces, error = await collect(provider, ASK, grounding())
    assert pieces == ["fine"] and error is not None and "malformed" in error.message
    assert HITS[key] == 1


async def test_stream_cut_short_without_done_raises(upstream: FakeUpstream) -> None:
    url, _ = upstream.base_url("cut-short")
    async with fake(url) as provider:
        pieces, error = await collect(provider, ASK, grounding())
    assert pieces == ["no", " end"] and error is not None and error.retryable


async def test_read_timeout_between_chunks_raises_with_the_partial_answer(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("stall-mid")
    async with fake(url, read_timeout_s=0.5) as provider:
        started = time.monotonic()
        pieces, error = await collect(provider, ASK, grounding())
    assert pieces == ["first"] and error is not None and error.retryable
    assert "read timeout" in error.message
    assert time.monotonic() - started < 3 and HITS[key] == 1


async def test_401_is_final_and_never_shows_the_key(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("401")
    async with fake(url, retries=3) as provider:
        pieces, error = await collect(provider, ASK, grounding())
    assert pieces == [] and error is not None
    assert error.retryable is False and "401" in error.message
    assert SECRET not in error.message and SECRET[:12] not in error.message
    assert len(error.message) < 300  # a short excerpt, not the 5 KB body
    assert HITS[key] == 1


async def test_400_is_final_with_a_short_reason(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("400")
    async with fake(url, retries=3) as provider:
        _, error = await collect(provider, ASK, grounding())
    assert error is not None and error.retryable is False
    assert "HTTP 400" in error.message and "max_tokens is too large" in error.message
    assert HITS[key] == 1


async def test_closing_the_stream_closes_the_upstream_response(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("endless")
    async with fake(url) as provider:
        stream = provider.stream(ASK, grounding())
        async with asyncio.timeout(10):
            assert [await anext(stream) for _ in range(3)] == ["t0 ", "t1 ", "t2 "]
            await stream.aclose()
            left = time.monotonic()
            while key not in CLOSED:
                assert time.monotonic() - left < 2, "upstream kept streaming after the client left"
                await asyncio.sleep(0.02)


async def test_cancelling_the_reader_closes_the_upstream_response(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("endless")
    async with fake(url) as provider:
        got: list[str] = []

        async def read() -> None:
            async for piece in provider.stream(ASK, grounding()):
                got.append(piece)

        task = asyncio.create_task(read())
        async with asyncio.timeout(10):
            while len(got) < 3:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            left = time.monotonic()
            while key not in CLOSED:
                assert time.monotonic() - left < 2, "upstream kept streaming after cancellation"
                await asyncio.sleep(0.02)


# ----------------------------------------------------------------------------- choose_tools

async def choose(provider: OpenAIProvider, timeout: float = 15.0) -> list[ToolCall]:
    async with asyncio.timeout(timeout):
        return await provider.choose_tools([{"role": "user", "content": "red saree?"}], TOOLS)


async def test_choose_tools_reads_the_calls_and_drops_unreadable_arguments(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("tools-ok")
    async with fake(url) as provider:
        calls = await choose(provider)
    assert calls == [{"name": "search_catalog", "arguments": {"query": "saree", "max_price": 9000}}]
    body = SEEN[key]["json"]
    assert body["tools"] == TOOLS and body["stream"] is False and body["model"] == "fake-model"


async def test_choose_tools_waits_as_long_as_retry_after_says(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("tools-429-then-ok")
    async with fake(url) as provider:  # its own backoff is 0.05 s: only Retry-After explains a wait of 1 s
        calls = await choose(provider)
    assert [c["name"] for c in calls] == ["search_catalog"]
    assert HITS[key] == 2
    first, second = HIT_AT[key]
    assert second - first >= 0.95, f"retried after {second - first:.2f} s, Retry-After said 1 s"


async def test_choose_tools_gives_up_at_once_on_a_long_retry_after(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("tools-429-long")
    async with fake(url, retries=3) as provider:
        started = time.monotonic()
        with pytest.raises(ProviderError) as raised:
            await choose(provider)
    assert raised.value.retryable is True and "429" in raised.value.message
    assert HITS[key] == 1 and time.monotonic() - started < 2


async def test_choose_tools_retries_a_5xx(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("tools-503-then-ok")
    async with fake(url) as provider:
        calls = await choose(provider)
    assert [c["name"] for c in calls] == ["search_catalog"] and HITS[key] == 2


async def test_choose_tools_401_is_final_and_never_shows_the_key(upstream: FakeUpstream) -> None:
    url, key = upstream.base_url("tools-401")
    async with fake(url, retries=3) as provider:
        with pytest.raises(ProviderError) as raised:
            await choose(provider)
    assert raised.value.retryable is False and "401" in raised.value.message
    assert SECRET not in raised.value.message and HITS[key] == 1


# ----------------------------------------------------------------------------- unreachable servers

async def test_unreachable_server_fails_fast_after_retries() -> None:
    port = free_port()  # bound then released: nothing listens
    async with fake(f"http://127.0.0.1:{port}/v1", retries=2) as provider:
        started = time.monotonic()
        pieces, error = await collect(provider, ASK, grounding())
    assert pieces == [] and error is not None and error.retryable is True
    assert "connection failed" in error.message and "3 attempts" in error.message
    assert time.monotonic() - started < 2


async def test_connection_closed_before_a_response_is_retried() -> None:
    """A listener that accepts and hangs up at once: every attempt is a fresh connection."""
    accepted = 0
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        nonlocal accepted
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            accepted += 1
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        port = listener.getsockname()[1]
        async with fake(f"http://127.0.0.1:{port}/v1", retries=2) as provider:
            pieces, error = await collect(provider, ASK, grounding())
        assert pieces == [] and error is not None and error.retryable
        assert accepted == 3
    finally:
        stop.set()
        thread.join(5)
        listener.close()
