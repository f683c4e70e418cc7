"""A refused request has no side effects: 429 TOO_MANY_STREAMS, 429 RATE_LIMITED, 400, 408 and
413 on the chat and agent routes, streams and JSON twins, store no message, start no
conversation, create no agent session and change no session's customer, also when they
name a session that exists. Real uvicorn, real MongoDB read directly to count."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from tests.support import raw_http as raw
from tests.support.server import AppServer, isolated_env

BUDGET = 12  # requests per client per window


@pytest.fixture(scope="module")
def env(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return isolated_env(mongo_url, tmp_path_factory.mktemp("refusals"), "refusals", STREAMING_RATE_LIMIT=str(BUDGET),
                        STREAMING_MAX_CONCURRENT_PER_IP="1", TRUSTED_PROXIES="127.0.0.1", TTS_ENGINE="off",
                        REQUEST_BODY_TIMEOUT_S="1")


@pytest.fixture(scope="module")
def server(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with AppServer(env, log_dir=tmp_path_factory.mktemp("refusal-logs")) as app:
        yield app


@pytest.fixture(scope="module")
def db(env: dict[str, str]) -> Iterator[Any]:
    client: MongoClient = MongoClient(env["MONGODB_URL"], serverSelectionTimeoutMS=5000)
    yield client[env["MONGODB_DB"]]
    client.close()


def state(db: Any) -> dict[str, Any]:
    """Everything a request could have written."""
    return {
        "conversations": db.conversations.count_documents({}),
        "messages": db.messages.count_documents({}),
        "sessions": db.agent_sessions.count_documents({}),
        "customers": sorted(json.dumps(s.get("customer") or {}, sort_keys=True) for s in db.agent_sessions.find()),
    }


_CLIENTS = itertools.count(1)


def client_headers() -> dict[str, str]:
    """A client of its own (a trusted proxy's X-Forwarded-For): its own budget and cap. Numbered,
    not drawn at random: two draws alike would share a budget (a control once got a 429)."""
    n = next(_CLIENTS)
    return {"X-Forwarded-For": f"10.9.{n // 250}.{n % 250 + 1}"}


CHAT = {"query": "red silk saree for a wedding", "sessionId": "known-chat"}
AGENT = {"message": "red lehenga under 20k", "sessionId": "known-agent", "customer": {"budget": 5000}}
# (name, method, path, valid body or query, a body or query it refuses with 400)
ROUTES = [
    ("chat stream", "POST", "/api/chat/query/stream", CHAT, {**CHAT, "language": "xx"}),
    ("chat twin", "POST", "/api/chat/query", CHAT, {**CHAT, "enableTTS": "maybe"}),
    ("chat GET stream", "GET", "/api/chat/stream", {"message": "red saree", "sessionId": "known-chat"},
     {"message": "red saree", "sessionId": "known-chat", "language": "xx"}),
    ("agent stream", "POST", "/api/troika/intelligent-chat/stream", {**AGENT, "customer": {"budget": 9000}},
     {**AGENT, "customer": {"budget": 9000, "shoe_size": 9}}),
    ("agent twin", "POST", "/api/troika/intelligent-chat", {**AGENT, "customer": {"budget": 9000}},
     {**AGENT, "customer": {"budget": -1}}),
]
IDS = [name for name, *_ in ROUTES]


async def send(client: httpx.AsyncClient, url: str, method: str, path: str, payload: dict[str, Any],
               headers: dict[str, str]) -> httpx.Response:
    if method == "GET":
        return await client.get(f"{url}{path}", params=payload, headers=headers)
    return await client.post(f"{url}{path}", json=payload, headers=headers)


@pytest.fixture(scope="module")
def known(server: AppServer) -> None:
    """The sessions the refused requests name exist: one chat and one agent turn."""
    with httpx.Client(timeout=30) as client:
        for path, payload in (("/api/chat/query", CHAT), ("/api/troika/intelligent-chat", AGENT)):
            got = client.post(f"{server.url}{path}", json=payload, headers=client_headers())
            assert got.status_code == 200, got.text


@pytest.mark.parametrize(("name", "method", "path", "valid", "invalid"), ROUTES, ids=IDS)
async def test_400_413_408_and_rate_limited_leave_nothing(
    server: AppServer, db: Any, known: None, name: str, method: str, path: str, valid: dict, invalid: dict
) -> None:
    before = state(db)
    async with httpx.AsyncClient(timeout=30) as client:
        headers = client_headers()
        bad = await send(client, server.url, method, path, invalid, headers)
        assert bad.status_code == 400, bad.text
        if method == "POST":
            huge = json.dumps({**valid, "padding": "x" * 70_000}).encode()
            too_large = await client.post(f"{server.url}{path}", content=huge,
                                          headers={**headers, "Content-Type": "application/json"})
            assert (too_large.status_code, too_large.json()["code"]) == (413, "BODY_TOO_LARGE")
            stalled = await asyncio.to_thread(
                raw.exchange, server.port,
                raw.head("POST", path, {**headers, "Content-Type": "application/json"}, length=200),
                [json.dumps(valid).encode()[:20]], timeout=10,
            )
            assert (stalled.status, stalled.json()["code"]) == (408, "BODY_TIMEOUT")
        spent = 0
        while True:  # spend the rest of this client's budget on refusals, then one more
            spent += 1
            refused = await send(client, server.url, method, path, invalid, headers)
            if refused.status_code == 429:
                break
            assert spent <= BUDGET
        assert refused.json()["code"] == "RATE_LIMITED"
        limited = await send(client, server.url, method, path, valid, headers)
        assert (limited.status_code, limited.json()["code"]) == (429, "RATE_LIMITED")
    assert state(db) == before


STREAMS = [r for r in ROUTES if r[2].endswith("/stream")]


@pytest.mark.parametrize(("name", "method", "path", "valid", "invalid"), STREAMS, ids=[r[0] for r in STREAMS])
async def test_too_many_streams_leaves_nothing(
    server: AppServer, db: Any, known: None, name: str, method: str, path: str, valid: dict, invalid: dict
) -> None:
    """The client holds its one stream slot (STREAMING_MAX_CONCURRENT_PER_IP=1) with a slow
    stream; a valid chat or agent request from it gets 429 TOO_MANY_STREAMS and writes nothing."""
    before = state(db)
    headers = client_headers()
    async with httpx.AsyncClient(timeout=30) as client:
        async with client.stream("GET", f"{server.url}/t/slow/stream", params={"every": "0.5"},
                                 headers=headers) as holding:
            assert holding.status_code == 200
            async for line in holding.aiter_lines():
                if line.startswith("event: progress"):
                    break
            got = await send(client, server.url, method, path, valid, headers)
            assert (got.status_code, got.json()["code"]) == (429, "TOO_MANY_STREAMS")
    assert state(db) == before


async def test_the_counts_see_an_accepted_request(server: AppServer, db: Any, known: None) -> None:
    """The control: the same state does change for a request that is served."""
    before = state(db)
    async with httpx.AsyncClient(timeout=30) as client:
        got = await client.post(f"{server.url}/api/troika/intelligent-chat", headers=client_headers(),
                                json={"message": "show me sarees", "customer": {"budget": 12000}})
    assert got.status_code == 200
    after = state(db)
    assert after["sessions"] == before["sessions"] + 1 and after["messages"] >= before["messages"] + 2
