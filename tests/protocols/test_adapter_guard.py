"""The protocol adapters get what every stream route gets, from the engine (app/streams/
endpoint.py): the rate limit on every path (a resume by chat id too), the order enabled ->
limit -> cap -> body, `Last-Event-ID` neither resuming nor double-charging a protocol without
resume, a chat's resume and stop bound to whoever started it. Each case was an attack that
worked before."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.protocols.test_ai_sdk_chat import chat_body, leave_after_first_words
from tests.support.server import AppServer, isolated_env, wait_for_search

TIMEOUT = 60


AG_UI = {"threadId": "t-guard", "runId": "r1", "messages": [{"id": "m1", "role": "user", "content": "red saree"}]}


# -- the rate limit, the cap and the body, in the engine's order ---------------------------------


async def test_every_chat_resume_is_charged_so_probing_chat_ids_is_not_free(
    app_server: Callable[..., AppServer],
) -> None:
    server = app_server(STREAMING_RATE_LIMIT="3")
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        probes = [await client.get(f"{server.url}/api/ai-sdk/chat/guess-{n}/stream") for n in range(4)]
    assert [p.status_code for p in probes] == [204, 204, 204, 429], [p.text for p in probes]
    assert [p.headers.get("x-ratelimit-remaining") for p in probes[:3]] == ["2", "1", "0"]
    assert probes[3].json()["code"] == "RATE_LIMITED"


async def test_last_event_id_on_a_protocol_post_is_ignored_and_charged_once(
    app_server: Callable[..., AppServer],
) -> None:
    server = app_server(STREAMING_RATE_LIMIT="10")
    stray = {"Last-Event-ID": "not-an-id"}
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        for path, body in (("/api/ai-sdk/chat", {"id": "x", "messages": []}),
                           ("/api/ag-ui/agent", {**AG_UI, "messages": []}),
                           ("/v1/chat/completions", {"model": "storestream-agent", "messages": [], "stream": True})):
            before = int((await client.get(f"{server.url}/api/ai-sdk/chat/probe/stream")).headers[
                "x-ratelimit-remaining"])
            refused = await client.post(f"{server.url}{path}", json=body, headers=stray)
            # the body is what is wrong (not the header), and the request cost one, not two
            assert refused.status_code == 400, (path, refused.text)
            field = refused.json().get("field") or refused.json()["error"]["param"]
            assert field == "messages", (path, refused.text)
            assert int(refused.headers["x-ratelimit-remaining"]) == before - 1, path


async def test_at_the_stream_cap_no_protocol_body_is_read(app_server: Callable[..., AppServer]) -> None:
    server = app_server(STREAMING_RATE_LIMIT="100000", STREAMING_MAX_CONCURRENT_PER_IP="1")
    malformed = {"content": b"{not json", "headers": {"content-type": "application/json"}}
    async with asyncio.timeout(TIMEOUT), httpx.AsyncClient(timeout=TIMEOUT) as client:
        async with client.stream("GET", f"{server.url}/t/tale/stream?n=50&every=0.2") as held:
            assert held.status_code == 200
            answers = {path: await client.post(f"{server.url}{path}", **malformed)  # type: ignore[arg-type]
                       for path in ("/api/ai-sdk/chat", "/api/ag-ui/agent")}
            streamed = await client.post(f"{server.url}/v1/chat/completions", json={
                "model": "storestream-agent", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    for path, answer in answers.items():
        assert answer.status_code == 429 and answer.json()["code"] == "TOO_MANY_STREAMS", (path, answer.text)
    assert streamed.status_code == 429 and streamed.json()["error"]["code"] == "TOO_MANY_STREAMS", streamed.text


async def test_streaming_disabled_refuses_protocol_streams_before_their_body(
    app_server: Callable[..., AppServer],
) -> None:
    server = app_server(STREAMING_ENABLED="false")
    malformed = {"content": b"{not json", "headers": {"content-type": "application/json"}}
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        for path in ("/api/ai-sdk/chat", "/api/ag-ui/agent"):
            answer = await client.post(f"{server.url}{path}", **malformed)  # type: ignore[arg-type]
            assert answer.status_code == 404 and answer.json()["code"] == "STREAMING_DISABLED", (path, answer.text)
        streamed = await client.post(f"{server.url}/v1/chat/completions", json={
            "model": "storestream-agent", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    assert streamed.status_code == 404 and streamed.json()["error"]["code"] == "STREAMING_DISABLED"


# -- a chat's resume and stop belong to whoever started it -----------------------------------------


@pytest.fixture(scope="module")
def slow_server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The chat answering from a slow model (40 words, one every 0.1 s); streams NOT bound to
    their client address (the default)."""
    logs = tmp_path_factory.mktemp("guardslow")
    with AppServer({"SLOW_LLM_WORDS": "40", "SLOW_LLM_EVERY_S": "0.1"}, log_dir=logs,
                   factory="tests.support.slow_llm:build") as llm:
        env = isolated_env(mongo_url, tmp_path_factory.mktemp("guardslowdata"), "guardslow",
                           STREAMING_RATE_LIMIT="100000", LLM_PROVIDER="openai", LLM_BASE_URL=f"{llm.url}/v1",
                           LLM_MODEL="slow")
        with AppServer(env, log_dir=logs) as app:
            wait_for_search(app, min_vectors=0)
            yield app


async def read_resume(client: httpx.AsyncClient, server: AppServer, chat_id: str) -> tuple[int, list[Any]]:
    parts: list[Any] = []
    async with asyncio.timeout(TIMEOUT), client.stream("GET", f"{server.url}/api/ai-sdk/chat/{chat_id}/stream") as r:
        async for line in r.aiter_lines():
            if line.startswith("data: "):
                parts.append("[DONE]" if line == "data: [DONE]" else json.loads(line[6:]))
    return r.status_code, parts


async def test_another_caller_with_the_chat_id_can_neither_read_nor_replace_its_stream(
    slow_server: AppServer,
) -> None:
    chat_id = f"victim-{uuid.uuid4().hex}"
    async with httpx.AsyncClient(timeout=TIMEOUT) as owner, httpx.AsyncClient(timeout=TIMEOUT) as thief:
        mine = await leave_after_first_words(slow_server, chat_id, owner)
        # the thief knows the chat id (it is the session id): reading it gets nothing
        stolen = await thief.get(f"{slow_server.url}/api/ai-sdk/chat/{chat_id}/stream")
        assert stolen.status_code == 204 and stolen.content == b""
        # posting a turn under the same id does not take over the owner's resume
        theirs = await leave_after_first_words(slow_server, chat_id, thief)
        assert theirs[0]["messageId"] != mine[0]["messageId"]
        status, parts = await read_resume(owner, slow_server, chat_id)
    assert status == 200 and parts[0]["messageId"] == mine[0]["messageId"], parts[:2]
    assert parts[:len(mine)] == mine and parts[-1] == "[DONE]"


async def test_a_chat_stream_stops_through_the_stop_route_by_the_id_its_start_carries(
    slow_server: AppServer,
) -> None:
    chat_id = f"stop-{uuid.uuid4().hex}"
    async with httpx.AsyncClient(timeout=TIMEOUT) as owner, httpx.AsyncClient(timeout=TIMEOUT) as thief:
        start = (await leave_after_first_words(slow_server, chat_id, owner))[0]
        meta = start["messageMetadata"]
        stream_id, event_id = meta["streamId"], meta["eventId"]
        assert start["messageId"] == f"msg-{stream_id}"
        # the public stream id alone stops nothing
        guessed = await thief.post(f"{slow_server.url}/api/streams/{stream_id}/stop",
                                   headers={"Last-Event-ID": f"{stream_id}-1"})
        assert guessed.status_code == 404
        stopped = await owner.post(f"{slow_server.url}/api/streams/{stream_id}/stop",
                                   headers={"Last-Event-ID": event_id})
        assert stopped.status_code == 200 and stopped.json() == {"stream_id": stream_id, "stopped": True}
        # a reload finds it ended (204), or, while the producer still stores what it said, its
        # end: the stop as its error, never the rest of the answer
        status, parts = await read_resume(owner, slow_server, chat_id)
    if status == 200:
        errors = [p["errorText"] for p in parts[:-1] if p["type"] == "error"]
        assert errors and errors[0].startswith("STREAM_STOPPED"), parts
        assert parts[-2:] == [{"type": "finish", "finishReason": "error"}, "[DONE]"], parts[-2:]
        assert len([p for p in parts[:-1] if p["type"] == "text-delta"]) < 40
    else:
        assert status == 204 and parts == []


# -- /mcp reads its body as every route does -----------------------------------------------------

MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def test_mcp_refuses_a_body_that_stops_arriving_and_one_too_large(app_server: Callable[..., AppServer]) -> None:
    from tests.support.raw_http import chunk, exchange, head

    server = app_server(STREAMING_RATE_LIMIT="100000", REQUEST_BODY_TIMEOUT_S="1")
    slow = exchange(server.port, head("POST", "/mcp", MCP_HEADERS, length=200), [b'{"jsonrpc": "2.0",'],
                    timeout=15)
    assert slow.status == 408 and slow.json()["code"] == "BODY_TIMEOUT", slow.body
    big = exchange(server.port, head("POST", "/mcp", MCP_HEADERS, chunked=True),
                   [chunk(b" " * 16384) for _ in range(8)] + [b"0\r\n\r\n"], timeout=15)
    assert big.status == 413 and big.json()["code"] == "BODY_TOO_LARGE", big.body
    declared = exchange(server.port, head("POST", "/mcp", MCP_HEADERS, length=10 * 1024 * 1024), [], timeout=15)
    assert declared.status == 413 and declared.json()["code"] == "BODY_TOO_LARGE", declared.body


def test_mcp_and_the_protocol_routes_refuse_while_shutting_down(mongo_url: str) -> None:
    from starlette.testclient import TestClient

    from app.main import create_app
    from config.settings import load_settings

    settings = load_settings({"MONGODB_URL": mongo_url, "SEARCH_EMBEDDINGS": "false", "DEMO_CATALOG_SIZE": "0"},
                             env_file=None)
    app = create_app(settings)
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    with TestClient(app) as client:
        app.state.platform.runs.closing = True
        mcp = client.post("/mcp", json=initialize, headers={"Accept": "application/json, text/event-stream"})
        assert mcp.status_code == 503 and mcp.json()["code"] == "SERVER_SHUTTING_DOWN", mcp.text
        chat = client.post("/api/ai-sdk/chat", json=chat_body("x", "red saree"))
        assert chat.status_code == 503 and chat.json()["code"] == "SERVER_SHUTTING_DOWN", chat.text


# -- what else an attacker would try on these routes ---------------------------------------------


async def test_odd_requests_to_the_protocol_routes_are_4xx_json_never_500(
    app_server: Callable[..., AppServer],
) -> None:
    server = app_server(STREAMING_RATE_LIMIT="100000")
    deep = b'{"threadId": "t", "runId": "r", "messages": [{"role": "user", "content": "hi"}], "state": ' \
        + b"[" * 5000 + b"]" * 5000 + b"}"
    many = {"id": "x", "messages": [{"role": "user", "parts": [{"type": "text", "text": "a"}]}] * 501}
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        nested = await client.post(f"{server.url}/api/ag-ui/agent", content=deep,
                                   headers={"content-type": "application/json"})
        crowded = await client.post(f"{server.url}/api/ai-sdk/chat", json=many)
        form = await client.post(f"{server.url}/api/ai-sdk/chat", data={"id": "x"})
        head = await client.head(f"{server.url}/api/ai-sdk/chat")
        mcp_text = await client.post(f"{server.url}/mcp", content=b"{}", headers={
            "content-type": "text/plain", "accept": "application/json, text/event-stream"})
        mcp_accept = await client.post(f"{server.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                                       headers={"accept": "text/html"})
        mcp_deep = await client.post(f"{server.url}/mcp", content=b"[" * 20000 + b"]" * 20000, headers={
            "content-type": "application/json", "accept": "application/json, text/event-stream"})
        foreign = await client.post(f"{server.url}/mcp", json={}, headers={"origin": "https://evil.example"})
        preflights = [await client.options(f"{server.url}{path}", headers={
            "origin": "https://evil.example", "access-control-request-method": "POST",
            "access-control-request-headers": "content-type"}) for path in ("/mcp", "/api/ai-sdk/chat")]
        models = [m["id"] for m in (await client.get(f"{server.url}/v1/models")).json()["data"]]
        doc = (await client.get(f"{server.url}/openapi.json")).json()
    assert nested.status_code == 400 and nested.json()["field"], nested.text
    assert crowded.status_code == 400 and crowded.json()["field"] == "messages", crowded.text
    assert form.status_code == 415 and form.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert head.status_code == 405
    assert mcp_text.status_code == 400 and mcp_accept.status_code == 406, (mcp_text.text, mcp_accept.text)
    assert mcp_deep.status_code == 400 and "Traceback" not in mcp_deep.text
    assert foreign.status_code == 403 and foreign.json()["code"] == "ORIGIN_NOT_ALLOWED"
    for preflight in preflights:  # a foreign page is not let in by a preflight either
        assert preflight.status_code < 500 and "access-control-allow-origin" not in preflight.headers, preflight
    # the documentation comes from the specs: the AI SDK's `model` is what /v1/models lists,
    # and a protocol route that cannot resume documents no Last-Event-ID
    schemas = doc["components"]["schemas"]
    model = schemas["UIChatRequest"]["properties"]["model"]
    assert [kind.get("enum") for kind in model["anyOf"]] == [models, None], model
    for path in ("/api/ai-sdk/chat", "/api/ag-ui/agent", "/v1/chat/completions"):
        operation = doc["paths"][path]["post"]
        assert "Last-Event-ID" not in [p["name"] for p in operation.get("parameters", [])], path
        assert {"200", "400", "413", "415", "429"} <= set(operation["responses"]), path
        assert "text/event-stream" in operation["responses"]["200"]["content"], path


async def test_a_head_of_the_chat_resume_opens_nothing_and_displaces_no_reader(slow_server: AppServer) -> None:
    chat_id = f"head-{uuid.uuid4().hex}"
    parts: list[Any] = []
    async with asyncio.timeout(TIMEOUT), httpx.AsyncClient(timeout=TIMEOUT) as owner:
        await leave_after_first_words(slow_server, chat_id, owner)
        url = f"{slow_server.url}/api/ai-sdk/chat/{chat_id}/stream"
        async with owner.stream("GET", url) as reading:
            lines = reading.aiter_lines()
            async for line in lines:
                if line.startswith("data: {"):
                    parts.append(json.loads(line[6:]))
                    if parts[-1]["type"] == "text-delta":
                        break
            head = await owner.head(url)
            async for line in lines:
                if line.startswith("data: "):
                    parts.append("[DONE]" if line == "data: [DONE]" else json.loads(line[6:]))
    assert head.status_code == 200 and head.headers["content-type"] == "text/event-stream" and head.content == b""
    assert parts[-1] == "[DONE]" and parts[-2]["finishReason"] == "stop", parts[-3:]
