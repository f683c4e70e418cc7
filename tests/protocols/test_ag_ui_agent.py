"""The AG-UI route against a real server: the events over HTTP (status, order, ids, only
`data:` lines), its refusals, /openapi.json, and the real `@ag-ui/client` HttpAgent (in Node)
running a turn and rebuilding the messages and the state."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.requirements import missing_ag_ui_client, need, node_path
from tests.support.server import AppServer, isolated_env, wait_for_search

TIMEOUT = 60
SCRIPT = Path(__file__).parent / "node" / "ag_ui_agent.mjs"
URL = "/api/ag-ui/agent"


def run_input(thread_id: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"threadId": thread_id, "runId": f"run-{uuid.uuid4().hex[:8]}", "tools": [], "context": [], "state": {},
            "forwardedProps": {}, "messages": [{"id": "u1", "role": "user", "content": text}], **extra}


async def post_events(server: AppServer, body: dict[str, Any]) -> tuple[httpx.Response, list[dict[str, Any]]]:
    """The response and its `data:` events, read under a timeout."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(TIMEOUT), httpx.AsyncClient(timeout=TIMEOUT) as client:
        async with client.stream("POST", f"{server.url}{URL}", json=body,
                                 headers={"accept": "text/event-stream"}) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
                else:
                    assert line == "" or line.startswith(":"), line  # no `event:` or `id:` lines
    return response, events


async def test_the_sales_agent_as_ag_ui_events(server: AppServer) -> None:
    thread = f"thread-{uuid.uuid4().hex}"
    body = run_input(thread, "red silk lehenga under 20000")
    response, events = await post_events(server, body)
    assert response.status_code == 200 and response.headers["content-type"] == "text/event-stream"
    kinds = [e["type"] for e in events]
    assert kinds[0] == "RUN_STARTED" and kinds[-1] == "RUN_FINISHED" and "RUN_ERROR" not in kinds, kinds
    assert events[0]["threadId"] == events[-1]["threadId"] == thread
    assert events[0]["runId"] == events[-1]["runId"] == body["runId"]
    # each tool call: start, args (JSON), end, and later its result, all before the answer's text
    starts = [e for e in events if e["type"] == "TOOL_CALL_START"]
    assert starts and starts[0]["toolCallName"] == "search_catalog", kinds
    first_text = kinds.index("TEXT_MESSAGE_START")
    for call in starts:
        at = events.index(call)
        assert events[at + 1]["type"] == "TOOL_CALL_ARGS" and isinstance(json.loads(events[at + 1]["delta"]), dict)
        assert events[at + 2] == {"type": "TOOL_CALL_END", "toolCallId": call["toolCallId"]}
        result = next(i for i, e in enumerate(events) if e["type"] == "TOOL_CALL_RESULT"
                      and e["toolCallId"] == call["toolCallId"])
        assert at < result < first_text
    assert len({c["toolCallId"] for c in starts}) == len(starts)
    # one text message, with one id, ended before the run finishes
    text = [e for e in events if e["type"].startswith("TEXT_MESSAGE")]
    assert text[0]["type"] == "TEXT_MESSAGE_START" and text[-1]["type"] == "TEXT_MESSAGE_END"
    assert len({e["messageId"] for e in text}) == 1
    assert "".join(e.get("delta", "") for e in text).strip()
    customs = {e["name"] for e in events if e["type"] == "CUSTOM"}
    assert {"intent", "product_cards", "suggestions"} <= customs
    cards = next(e for e in events if e["type"] == "CUSTOM" and e["name"] == "product_cards")["value"]["products"]
    delta = {op["path"]: op["value"] for op in next(e for e in events if e["type"] == "STATE_DELTA")["delta"]}
    assert delta["/sessionId"] == thread and delta["/shown"] == [c["sku"] for c in cards]
    assert delta["/search"]["filters"] and kinds.index("STATE_DELTA") == len(kinds) - 2
    # the thread is the agent's session: the native route shows the turn and its memory
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        session = (await client.get(f"{server.url}/api/troika/sessions/{thread}")).json()
    assert [m["role"] for m in session["messages"]] == ["user", "assistant"]
    assert session["messages"][0]["content"] == "red silk lehenga under 20000"


@pytest.mark.parametrize(("body", "field"), [
    ({"threadId": "t", "runId": "r", "messages": []}, "messages"),
    ({"runId": "r", "messages": [{"id": "1", "role": "user", "content": "hi"}]}, "threadId"),
    ({"threadId": "t", "runId": "r", "messages": [{"id": "1", "role": "assistant", "content": "hi"}]},
     "messages.0.role"),
    ({"threadId": "t", "runId": "r", "messages": [{"id": "1", "role": "user", "content": "a" * 4001}]},
     "messages.0.content"),
    ({"threadId": "t", "runId": "r", "messages": [{"id": "1", "role": "user", "content": [{"type": "binary"}]}]},
     "messages.0.content"),
])
async def test_refusals_are_our_json_errors_before_any_stream(server: AppServer, body: dict[str, Any],
                                                             field: str) -> None:
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        response = await client.post(f"{server.url}{URL}", json=body)
        typed = await client.post(f"{server.url}{URL}", content=b"{}", headers={"content-type": "text/plain"})
    assert response.status_code == 400 and response.json()["code"] == "INVALID_PARAMETERS", response.text
    assert response.json()["field"] == field and "x-ratelimit-limit" in response.headers
    assert typed.status_code == 415 and typed.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_the_shared_rate_limit_refuses_with_429(app_server: Callable[..., AppServer]) -> None:
    strict = app_server(STREAMING_RATE_LIMIT="2")
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        spent = [await client.post(f"{strict.url}{URL}", json={"threadId": "t"}) for _ in range(2)]
        over = await client.post(f"{strict.url}{URL}", json=run_input("t", "red saree"))
    assert [r.status_code for r in spent] == [400, 400]  # refusals are charged, as on the native routes
    assert over.status_code == 429 and over.json()["code"] == "RATE_LIMITED" and int(over.headers["retry-after"]) >= 1


async def test_the_route_is_in_openapi(server: AppServer) -> None:
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        doc = (await client.get(f"{server.url}/openapi.json")).json()
    post = doc["paths"][URL]["post"]
    assert "text/event-stream" in post["responses"]["200"]["content"]
    assert {"400", "415", "429"} <= set(post["responses"])
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    ref = schema["$ref"].rsplit("/", 1)[-1] if "$ref" in schema else None
    props = doc["components"]["schemas"][ref]["properties"] if ref else schema["properties"]
    assert {"threadId", "runId", "messages", "tools", "context", "state", "forwardedProps"} <= set(props)


# -- the real `@ag-ui/client` ------------------------------------------------------------------


def run_client(server: AppServer, thread: str, *questions: str) -> dict[str, Any]:
    need(missing_ag_ui_client())
    node = node_path()
    assert node is not None
    done = subprocess.run([node, str(SCRIPT), f"{server.url}{URL}", thread, *questions],
                          capture_output=True, text=True, timeout=2 * TIMEOUT + 30, cwd=SCRIPT.parent)
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    assert out["errors"] == [], (out["errors"], done.stderr)
    assert done.stderr == ""  # the client warns on stderr of events it cannot apply
    return out


def test_the_ag_ui_client_runs_a_turn(server: AppServer) -> None:
    thread = f"node-{uuid.uuid4().hex}"
    out = run_client(server, thread, "red silk lehenga under 20000")
    kinds = [e["type"] for e in out["events"]]
    assert kinds[0] == "RUN_STARTED" and kinds[-1] == "RUN_FINISHED", kinds
    assert "STATE_DELTA" in kinds and "TOOL_CALL_RESULT" in kinds
    messages = out["messages"]
    assert messages[0] == {"id": "u1", "role": "user", "content": "red silk lehenga under 20000"}
    calls = [c for m in messages if m["role"] == "assistant" for c in m.get("toolCalls") or []]
    assert calls and calls[0]["function"]["name"] == "search_catalog"
    assert json.loads(calls[0]["function"]["arguments"])["query"]
    results = {m["toolCallId"]: json.loads(m["content"]) for m in messages if m["role"] == "tool"}
    assert set(results) == {c["id"] for c in calls} and results[calls[0]["id"]]["skus"]
    answer = [m for m in messages if m["role"] == "assistant" and m.get("content")]
    assert len(answer) == 1 and answer[0]["content"].strip()
    state = out["state"]
    assert state["sessionId"] == thread and state["shown"] == results[calls[0]["id"]]["skus"][:len(state["shown"])]
    assert state["search"]["query"] and state["intent"]
    assert out["result"]["result"]["sessionId"] == thread
    assert [e["name"] for e in out["events"] if e["type"] == "CUSTOM"][0] == "intent"


def test_the_ag_ui_client_continues_the_thread_with_the_agents_memory(server: AppServer) -> None:
    thread = f"node-{uuid.uuid4().hex}"
    out = run_client(server, thread, "red lehenga under 20000", "show me cheaper ones")
    first, second = out["runs"]
    assert first["newMessages"] >= 3 and second["newMessages"] >= 3, out["runs"]
    ids = [m["id"] for m in out["messages"]]
    assert len(ids) == len(set(ids))  # every run's messages and tool calls are new ones
    assert [m["id"] for m in out["messages"] if m["role"] == "user"] == ["u1", "u2"]
    # the follow-up was read against the thread's search: cheaper than what was shown, same category
    before, after = first["state"]["search"]["filters"], second["state"]["search"]["filters"]
    assert after["category"] == before["category"] == "lehenga"
    assert after["max_price"] < before["max_price"]
    assert second["state"]["conversationId"] == first["state"]["conversationId"]
    session = httpx.get(f"{server.url}/api/troika/sessions/{thread}", timeout=TIMEOUT).json()
    assert [m["role"] for m in session["messages"]] == ["user", "assistant", "user", "assistant"]


async def test_a_run_that_fails_ends_with_run_error(mongo_url: str, tmp_path: Path) -> None:
    """The agent working with a slow model past the stream's deadline: RUN_ERROR with our code,
    and nothing after it (no RUN_FINISHED)."""
    with AppServer({"SLOW_LLM_WORDS": "40", "SLOW_LLM_EVERY_S": "0.1"}, log_dir=tmp_path,
                   factory="tests.support.slow_llm:build") as llm:
        env = isolated_env(mongo_url, tmp_path / "data", "aguifail", catalog=50, STREAMING_TIMEOUT="1500",
                           LLM_PROVIDER="openai", LLM_BASE_URL=f"{llm.url}/v1", LLM_MODEL="slow")
        with AppServer(env, log_dir=tmp_path) as app:
            wait_for_search(app, min_vectors=0)
            _, events = await post_events(app, run_input(f"fail-{uuid.uuid4().hex}", "red saree"))
    kinds = [e["type"] for e in events]
    assert kinds[0] == "RUN_STARTED" and kinds[-1] == "RUN_ERROR" and "RUN_FINISHED" not in kinds, kinds
    assert events[-1]["code"] == "STREAM_TIMEOUT" and events[-1]["message"]
    assert kinds.count("RUN_ERROR") == 1 and kinds.count("TEXT_MESSAGE_START") == kinds.count("TEXT_MESSAGE_END")
