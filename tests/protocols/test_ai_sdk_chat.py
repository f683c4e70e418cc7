"""The Vercel AI SDK chat routes against a real server: the UI message stream over HTTP (status,
header, parts in order, `[DONE]`), its refusals, the resume's 204, and the real `ai` package
(its DefaultChatTransport and readUIMessageStream, in Node) rebuilding the message."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.requirements import missing_ai_sdk, need, node_path
from tests.support.server import AppServer, isolated_env, wait_for_search

TIMEOUT = 60
SCRIPT = Path(__file__).parent / "node" / "ai_sdk_chat.mjs"


def chat_body(chat_id: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"id": chat_id, "trigger": "submit-message", "messageId": None, **extra,
            "messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": text}]}]}


async def post_parts(server: AppServer, body: dict[str, Any]) -> tuple[httpx.Response, list[Any]]:
    """The response and its `data:` parts (JSON, or the string "[DONE]"), read under a timeout."""
    parts: list[Any] = []
    async with asyncio.timeout(TIMEOUT), httpx.AsyncClient(timeout=TIMEOUT) as client:
        async with client.stream("POST", f"{server.url}/api/ai-sdk/chat", json=body) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    parts.append("[DONE]" if line == "data: [DONE]" else json.loads(line[6:]))
                else:
                    assert line == "" or line.startswith(":"), line  # no `event:` or `id:` lines
    return response, parts


def types(parts: list[Any]) -> list[str]:
    return [p if p == "[DONE]" else p["type"] for p in parts]


async def test_the_sales_agent_as_a_ui_message_stream(server: AppServer) -> None:
    chat_id = f"chat-{uuid.uuid4().hex}"
    response, parts = await post_parts(server, chat_body(chat_id, "red silk lehenga under 20000"))
    assert response.status_code == 200
    assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
    assert response.headers["content-type"] == "text/event-stream"
    kinds = types(parts)
    assert kinds[0] == "start" and kinds[-2:] == ["finish", "[DONE]"], kinds
    assert parts[0]["messageId"].startswith("msg-") and parts[0]["messageMetadata"]["sessionId"] == chat_id
    assert "error" not in kinds, parts
    # the tool calls, each input before its output, before the answer's text
    inputs = [p for p in parts[:-1] if p["type"] == "tool-input-available"]
    assert inputs and inputs[0]["toolName"] == "search_catalog", kinds
    for call in inputs:
        output = next(i for i, p in enumerate(parts[:-1]) if p["type"] == "tool-output-available"
                      and p["toolCallId"] == call["toolCallId"])
        assert parts.index(call) < output < kinds.index("text-start")
    assert "data-product_cards" in kinds and "data-suggestions" in kinds and "data-intent" in kinds
    cards = next(p for p in parts[:-1] if p["type"] == "data-product_cards")
    assert cards["id"] == "product_cards" and cards["data"]["products"]
    # one text run: start, deltas, end, with the same id
    text = [p for p in parts[:-1] if p["type"].startswith("text-")]
    assert text[0]["type"] == "text-start" and text[-1]["type"] == "text-end"
    assert {p["id"] for p in text} == {text[0]["id"]} and "".join(p.get("delta", "") for p in text).strip()
    assert parts[-2]["finishReason"] == "stop" and parts[-2]["messageMetadata"]["sessionId"] == chat_id
    # the chat id is the agent's session: the native route shows the turn
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        session = (await client.get(f"{server.url}/api/troika/sessions/{chat_id}")).json()
    assert [m["role"] for m in session["messages"]] == ["user", "assistant"]
    assert session["messages"][0]["content"] == "red silk lehenga under 20000"


async def test_the_chat_assistant_by_model_and_its_sources(server: AppServer) -> None:
    response, parts = await post_parts(server, chat_body(f"c-{uuid.uuid4().hex}", "blue kurta under 2000",
                                                          model="storestream-chat"))
    kinds = types(parts)
    assert response.status_code == 200 and kinds[0] == "start" and kinds[-2:] == ["finish", "[DONE]"], kinds
    assert "data-progress" in kinds and "tool-input-available" not in kinds
    assert all(p["transient"] for p in parts[:-1] if p["type"] == "data-progress")
    assert "text-delta" in kinds and "data-suggestions" in kinds


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"id": "x", "messages": []}, 400, "messages"),
    ({"messages": [{"role": "user", "parts": [{"type": "text", "text": "hi"}]}]}, 400, "id"),
    ({"id": "x", "messages": [{"role": "assistant", "parts": [{"type": "text", "text": "hi"}]}]}, 400,
     "messages.0.role"),
    ({"id": "x", "messages": [{"role": "user", "parts": [{"type": "file", "url": "data:,"}]}]}, 400,
     "messages.0.parts"),
    ({"id": "x", "messages": [{"role": "user", "parts": [{"type": "text", "text": "a" * 4001}]}]}, 400,
     "messages.0.parts"),
    ({"id": "x", "model": "gpt-4o", "messages": [{"role": "user", "parts": [{"type": "text", "text": "hi"}]}]},
     400, "model"),
])
async def test_refusals_are_our_json_errors_before_any_stream(server: AppServer, body: dict[str, Any], status: int,
                                                             field: str) -> None:
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        response = await client.post(f"{server.url}/api/ai-sdk/chat", json=body)
        typed = await client.post(f"{server.url}/api/ai-sdk/chat", content=b"{}", headers={"content-type": "text/plain"})
    assert response.status_code == status and response.json()["field"] == field, response.text
    assert "x-ratelimit-limit" in response.headers
    assert typed.status_code == 415 and typed.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_the_shared_rate_limit_refuses_with_429_a_resume_included(
    app_server: Callable[..., AppServer],
) -> None:
    strict = app_server(STREAMING_RATE_LIMIT="2")
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        spent = [await client.post(f"{strict.url}/api/ai-sdk/chat", json={"id": "x", "messages": []})
                 for _ in range(2)]
        over = await client.post(f"{strict.url}/api/ai-sdk/chat", json=chat_body("x", "red saree"))
        resume = await client.get(f"{strict.url}/api/ai-sdk/chat/x/stream")
    assert [r.status_code for r in spent] == [400, 400]  # refusals are charged, as on the native routes
    assert over.status_code == 429 and over.json()["code"] == "RATE_LIMITED" and int(over.headers["retry-after"]) >= 1
    assert resume.status_code == 429  # a resume is charged too, before it looks for the chat


async def test_resume_without_a_running_stream_is_204(server: AppServer) -> None:
    chat_id = f"done-{uuid.uuid4().hex}"
    _, parts = await post_parts(server, chat_body(chat_id, "red saree"))
    assert types(parts)[-1] == "[DONE]"
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        ended = await client.get(f"{server.url}/api/ai-sdk/chat/{chat_id}/stream")  # finished: nothing to resume
        unknown = await client.get(f"{server.url}/api/ai-sdk/chat/never-{uuid.uuid4().hex}/stream")
    assert ended.status_code == unknown.status_code == 204
    assert ended.content == unknown.content == b""


async def test_the_routes_are_in_openapi(server: AppServer) -> None:
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        doc = (await client.get(f"{server.url}/openapi.json")).json()
    post = doc["paths"]["/api/ai-sdk/chat"]["post"]
    assert "text/event-stream" in post["responses"]["200"]["content"]
    assert "x-vercel-ai-ui-message-stream" in post["responses"]["200"]["headers"]
    assert "204" in doc["paths"]["/api/ai-sdk/chat/{id}/stream"]["get"]["responses"]


# -- the real `ai` package -----------------------------------------------------------------


def run_node(*args: str) -> dict[str, Any]:
    node = node_path()
    assert node is not None
    done = subprocess.run([node, str(SCRIPT), *args], capture_output=True, text=True, timeout=TIMEOUT + 30,
                          cwd=SCRIPT.parent)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_ai_package_rebuilds_the_agents_message(server: AppServer) -> None:
    need(missing_ai_sdk())
    chat_id = f"node-{uuid.uuid4().hex}"
    out = run_node("send", f"{server.url}/api/ai-sdk/chat", chat_id, "red silk lehenga under 20000")
    assert out["errors"] == [], out
    message = out["message"]
    assert message["role"] == "assistant" and message["id"].startswith("msg-")
    assert message["metadata"]["sessionId"] == chat_id and message["metadata"]["intent"]
    kinds = [p["type"] for p in message["parts"]]
    text = [p for p in message["parts"] if p["type"] == "text"]
    assert len(text) == 1 and text[0]["state"] == "done" and text[0]["text"].strip()
    tools = [p for p in message["parts"] if p["type"].startswith("tool-")]
    assert tools and tools[0]["type"] == "tool-search_catalog", kinds
    assert all(t["state"] == "output-available" for t in tools), tools
    assert tools[0]["output"]["skus"] and tools[0]["input"]
    cards = next(p for p in message["parts"] if p["type"] == "data-product_cards")
    assert [c["sku"] for c in cards["data"]["products"]] == tools[0]["output"]["skus"][:len(cards["data"]["products"])]
    assert "data-suggestions" in kinds and "data-intent" in kinds
    assert "data-progress" not in kinds and "data-audio" not in kinds  # transient: not kept
    assert out["chunks"][0] == "start" and out["chunks"][-1] == "finish"


def test_the_ai_package_reads_the_chat_and_a_204_resume(server: AppServer) -> None:
    need(missing_ai_sdk())
    chat_id = f"node-{uuid.uuid4().hex}"
    out = run_node("send", f"{server.url}/api/ai-sdk/chat", chat_id, "blue kurta under 2000", "storestream-chat")
    assert out["errors"] == [] and any(p["type"] == "text" for p in out["message"]["parts"]), out
    assert run_node("resume", f"{server.url}/api/ai-sdk/chat", chat_id) == {"resumed": False}


# -- resume of a running stream (`useChat({resume: true})` after a reload) -------------------


@pytest.fixture(scope="module")
def slow_server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The chat answering from a slow model (40 words, one every 0.1 s): a stream in flight;
    streams bound to their client (STREAM_RESUME_BIND_CLIENT)."""
    logs = tmp_path_factory.mktemp("aisdkslow")
    with AppServer({"SLOW_LLM_WORDS": "40", "SLOW_LLM_EVERY_S": "0.1"}, log_dir=logs,
                   factory="tests.support.slow_llm:build") as llm:
        env = isolated_env(mongo_url, tmp_path_factory.mktemp("aisdkslowdata"), "aisdkslow",
                           STREAMING_RATE_LIMIT="100000", STREAM_RESUME_BIND_CLIENT="true", LLM_PROVIDER="openai", LLM_BASE_URL=f"{llm.url}/v1",
                           LLM_MODEL="slow")
        with AppServer(env, log_dir=logs) as app:
            wait_for_search(app, min_vectors=0)
            yield app


async def leave_after_first_words(server: AppServer, chat_id: str, client: httpx.AsyncClient) -> list[Any]:
    """Post a question with `client` (its cookies are the shopper's browser's) and hang up
    after the first text delta (a reload); the run goes on."""
    parts: list[Any] = []
    async with asyncio.timeout(TIMEOUT):
        body = chat_body(chat_id, "blue kurta under 2000", model="storestream-chat")
        async with client.stream("POST", f"{server.url}/api/ai-sdk/chat", json=body) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: {"):
                    parts.append(json.loads(line[6:]))
                    if parts[-1]["type"] == "text-delta":
                        break
    return parts


async def test_resume_reads_the_running_stream_from_its_start(slow_server: AppServer) -> None:
    chat_id = f"resume-{uuid.uuid4().hex}"
    parts: list[Any] = []
    async with asyncio.timeout(TIMEOUT), httpx.AsyncClient(timeout=TIMEOUT) as client:
        first = await leave_after_first_words(slow_server, chat_id, client)
        # 127.0.0.2 is another client on the loopback network, holding the shopper's chat id and
        # even its cookie: the address is bound too (STREAM_RESUME_BIND_CLIENT)
        async with httpx.AsyncClient(timeout=TIMEOUT, cookies=client.cookies,
                                     transport=httpx.AsyncHTTPTransport(local_address="127.0.0.2")) as c:
            stolen = await c.get(f"{slow_server.url}/api/ai-sdk/chat/{chat_id}/stream")
        assert stolen.status_code == 204 and stolen.content == b""
        other = await client.get(f"{slow_server.url}/api/ai-sdk/chat/other-{chat_id}/stream")
        async with client.stream("GET", f"{slow_server.url}/api/ai-sdk/chat/{chat_id}/stream") as response:
            assert response.status_code == 200
            assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    parts.append("[DONE]" if line == "data: [DONE]" else json.loads(line[6:]))
    assert other.status_code == 204
    assert parts[:len(first)] == first  # the same parts again, from `start`
    assert types(parts)[-2:] == ["finish", "[DONE]"] and parts[-2]["finishReason"] == "stop"
    said = "".join(p["delta"] for p in parts[:-1] if p["type"] == "text-delta")
    assert said.split() == [f"word{i}" for i in range(40)]


def test_the_ai_package_resumes_a_running_stream(slow_server: AppServer) -> None:
    need(missing_ai_sdk())
    chat_id = f"resume-{uuid.uuid4().hex}"

    async def leave() -> str:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            await leave_after_first_words(slow_server, chat_id, client)
            return f"storestream_chat={client.cookies['storestream_chat']}"

    cookie = asyncio.run(leave())
    assert run_node("resume", f"{slow_server.url}/api/ai-sdk/chat", chat_id) == {"resumed": False}  # no cookie
    out = run_node("resume", f"{slow_server.url}/api/ai-sdk/chat", chat_id, cookie)
    assert out["resumed"] is True and out["errors"] == [], out
    text = [p for p in out["message"]["parts"] if p["type"] == "text"]
    assert len(text) == 1 and text[0]["state"] == "done"
    assert text[0]["text"].split() == [f"word{i}" for i in range(40)]
    assert out["message"]["metadata"]["conversationId"]  # the chat's events name no session
