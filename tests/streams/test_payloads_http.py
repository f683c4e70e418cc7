"""Every payload the real endpoints send validates against its model (app/streams/schema.py):
product search, Aza, the chat with speech, the sales agent over the turns that run each of its
tools, and a context upload. (The schemathesis run checks the streams it can reach too; it
cannot make a valid upload, and it runs without speech.)"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest

from app.streams.fold import FoldedStream, SearchAnswer, UploadAnswer
from app.streams.schema import validate_payload
from tests.support.server import AppServer, isolated_env, wait_for_search
from tests.support.sse import Received, read_stream

ADMIN = {"Authorization": "Bearer payloads-admin"}


@pytest.fixture(scope="module")
def server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    log_dir = tmp_path_factory.mktemp("payloads")
    speech = "espeak" if shutil.which("espeak-ng") else "off"
    env = isolated_env(mongo_url, log_dir, "payloads", DEMO_CATALOG_SIZE="200", ADMIN_TOKEN="payloads-admin",
                       STREAMING_RATE_LIMIT="100000", TTS_ENGINE=speech)
    with AppServer(env, log_dir=log_dir) as app:
        wait_for_search(app, min_vectors=0)
        yield app


def _valid(got: Received) -> list[str]:
    assert got.status == 200 and got.types()[-1] == "close", got.types()
    for _, kind, data in got.events:
        validate_payload(kind, data)
    return [data.get("type", "") for _, kind, data in got.events if kind == "results"]


async def test_search_and_aza(server: AppServer) -> None:
    assert "product_cards" in _valid(await read_stream(f"{server.url}/api/products/search/stream",
                                                       params={"q": "red saree under 5000"}))
    assert "product_cards" in _valid(await read_stream(f"{server.url}/aza/search/stream", method="POST",
                                                       json={"query": "wedding wear", "limit": 5}))
    async with httpx.AsyncClient(timeout=30) as client:
        SearchAnswer.model_validate((await client.get(f"{server.url}/api/products/search", params={"q": "kurta"})).json())
        SearchAnswer.model_validate((await client.post(f"{server.url}/aza/search", json={"query": "SS-000042"})).json())
        FoldedStream.model_validate((await client.post(f"{server.url}/api/chat/query", json={"query": "blue kurta"})).json())


async def test_chat_with_speech(server: AppServer) -> None:
    got = await read_stream(f"{server.url}/api/chat/query/stream", method="POST", timeout=60,
                            json={"query": "red saree under 5000", "enableTTS": True})
    assert {"sources", "product_cards", "suggestions"} <= set(_valid(got))


async def test_every_tool_of_the_sales_agent(server: AppServer) -> None:
    session = None
    seen: set[str] = set()
    for message in ("red saree for a wedding under 9000", "compare the first two",
                    "is the first one in stock in size M", "hello", "what is your return policy"):
        body = {"message": message, **({"sessionId": session} if session else {})}
        got = await read_stream(f"{server.url}/api/troika/intelligent-chat/stream", method="POST", json=body,
                                timeout=60)
        seen |= set(_valid(got))
        session = got.events[0][2]["session_id"]
    assert {"intent", "market_intelligence", "product_cards", "comparison", "stock", "suggestions"} <= seen


async def test_an_upload(server: AppServer) -> None:
    files = {"file": ("policy.md", b"# Returns\n\nYou can return items within 30 days of delivery. " * 30,
                      "text/markdown")}
    got = await read_stream(f"{server.url}/api/context/upload-file/stream", method="POST", files=files,
                            headers=ADMIN, timeout=60)
    assert _valid(got) == ["chunks"]
    files = {"file": ("again.md", b"# Exchanges\n\nExchanges within 7 days. " * 30, "text/markdown")}
    async with httpx.AsyncClient(timeout=60) as client:
        twin = await client.post(f"{server.url}/api/context/upload-file", files=files, headers=ADMIN)
    UploadAnswer.model_validate(twin.json())
