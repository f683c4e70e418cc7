"""The chat stream over real HTTP: real uvicorn, the real MiniLM model over a generated demo
catalog, real offline speech (espeak-ng, after the real gTTS fails offline), a real
wire-protocol MongoDB."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.llm.phrases import inr
from tests.support.mp3 import frames
from tests.support.requirements import missing_espeak, requires
from tests.support.server import AppServer, isolated_env, wait_for_search
from tests.support.sse import read_stream
from tests.support.uploads import upload_context


@pytest.fixture(scope="module")
def env(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return isolated_env(
        mongo_url, tmp_path_factory.mktemp("chatdata"), "chat", catalog=600,
        SEARCH_EMBEDDINGS="true", STREAMING_RATE_LIMIT="100000", TTS_ENGINE="auto", ADMIN_TOKEN="chat-admin",
    )


def wait_ready(app: AppServer) -> None:
    wait_for_search(app, min_vectors=600)


@pytest.fixture(scope="module")
def server(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with AppServer(env, log_dir=tmp_path_factory.mktemp("chatlogs")) as app:
        wait_ready(app)
        yield app


async def ask(server: AppServer, query: str, **extra: object):
    return await read_stream(
        f"{server.url}/api/chat/query/stream", method="POST", json={"query": query, **extra}, timeout=30
    )


def _inr(text: str) -> list[str]:
    return re.findall(r"₹[\d,]+", text)


async def test_answer_event_order_and_grounding(server: AppServer) -> None:
    got = await ask(server, "red silk lehenga for a wedding")
    kinds = got.types()
    assert kinds[:4] == ["connected", "progress", "results", "results"]
    assert kinds[-3:] == ["results", "complete", "close"]
    connected = got.events[0][2]
    assert connected["conversation_id"] and connected["message_id"] and connected["dir"] == "ltr"
    sources, cards, suggestions = got.of("results")[0], got.of("results")[1], got.of("results")[-1]
    assert sources["type"] == "sources" and cards["type"] == "product_cards"
    assert suggestions["type"] == "suggestions" and 2 <= len(suggestions["suggestions"]) <= 4
    text = got.of("text")[-1]["fullText"]
    assert len(got.of("text")) > 5  # streamed in pieces
    # Grounded: every product named and every price stated comes from a card.
    for product in cards["products"]:
        assert product["title"] in text
    assert _inr(text) and set(_inr(text)) <= {inr(p["price"]) for p in cards["products"]}
    complete = got.of("complete")[0]
    assert complete["conversation_id"] == connected["conversation_id"] and complete["message_id"]
    assert complete["metadata"]["model_used"] == "grounded" and complete["metadata"]["cached"] is False
    assert complete["metadata"]["tokens"] == len(got.of("text"))


def counts(line: str) -> set[int]:
    """The whole numbers a sentence states, prices (₹) and ratings (x/5) aside."""
    return {int(n) for n in re.findall(r"\d+", re.sub(r"₹[\d,]+(?:\.\d+)?|\d+(?:\.\d+)?/5", "", line))}


def lead(text: str) -> str:
    """The sentence that introduces the product list (the line before its first item)."""
    lines = text.split("\n")
    return lines[next(i for i, line in enumerate(lines) if line.startswith("- ")) - 1]


async def test_counts_in_the_answer_are_the_cards_shown_and_the_search_total(server: AppServer) -> None:
    """The answer says how many products match (what product search reports for the same
    words) and how many it shows (the cards of the same stream), and nothing else."""
    for query in ("silk saree", "red lehenga", "cotton kurta for office"):
        got = await ask(server, query)
        cards = next(r for r in got.of("results") if r["type"] == "product_cards")
        async with httpx.AsyncClient(timeout=20) as client:
            search = (await client.get(f"{server.url}/api/products/search", params={"q": query})).json()
        shown = len(cards["products"])
        assert cards["total"] == search["total"] and shown == min(4, search["total"]), query
        assert counts(lead(got.of("text")[-1]["fullText"])) == {shown, search["total"]}, query


async def test_nothing_matching_gets_a_clarifying_question(server: AppServer) -> None:
    got = await ask(server, "zxqv plorpt wibble")
    assert [r["type"] for r in got.of("results")] == ["sources", "suggestions"]
    assert "Could you tell me the category, colour or budget" in got.of("text")[-1]["fullText"]


@requires(missing_espeak())
async def test_audio_per_sentence_in_order_each_a_valid_mp3(server: AppServer) -> None:
    got = await ask(server, "blue cotton kurta", enableTTS=True)
    audio = got.of("audio")
    assert len(audio) >= 2
    assert [a["seq"] for a in audio] == list(range(1, len(audio) + 1))
    answer = got.of("text")[-1]["fullText"]
    for chunk in audio:
        assert chunk["format"] == "mp3" and chunk["lang"] == "en"
        assert len(frames(base64.b64decode(chunk["chunk"]))) > 5
        assert chunk["text"].split()[0].strip("*-") in answer
    kinds = got.types()
    assert kinds.index("audio") > kinds.index("text")  # speech starts after text does
    assert kinds.index("results", kinds.index("audio")) > max(i for i, k in enumerate(kinds) if k == "audio")


@pytest.mark.parametrize(
    ("query", "language", "direction", "marker"),
    [
        ("لهنگا قرمز ابریشمی برای عروسی", "fa", "rtl", "کاتالوگ"),
        ("शादी के लिए लाल लहंगा", "hi", "ltr", "कैटलॉग"),
        ("красная шёлковая лехенга", "ru", "ltr", "каталог"),
        ("לנגה אדומה לחתונה", "he", "rtl", "קטלוג"),
    ],
)
async def test_answers_in_the_shoppers_language(
    server: AppServer, query: str, language: str, direction: str, marker: str
) -> None:
    got = await ask(server, query)
    connected = got.events[0][2]
    assert (connected["language"], connected["dir"]) == (language, direction)
    text = got.of("text")[-1]["fullText"]
    assert marker in text or "?" in text or "؟" in text  # a catalog answer or a clarifying question
    assert got.of("complete")[0]["metadata"]["language"] == language


async def test_conversation_is_stored_and_follow_ups_refine(server: AppServer) -> None:
    session = f"s-{uuid.uuid4().hex[:6]}"
    first = await ask(server, "red silk lehenga", sessionId=session)
    follow = await ask(server, "and in blue?", sessionId=session)
    conversation_id = first.events[0][2]["conversation_id"]
    assert follow.events[0][2]["conversation_id"] == conversation_id
    assert follow.of("progress")[0]["query"] == "blue silk lehenga"
    cards = [r for r in follow.of("results") if r["type"] == "product_cards"][0]["products"]
    assert cards and all("blue" in p["colors"] and p["category"] == "lehenga" for p in cards)
    async with httpx.AsyncClient(timeout=10) as client:
        history = (await client.get(f"{server.url}/api/chat/conversations/{conversation_id}")).json()
    roles = [(m["role"], m["status"]) for m in history["messages"]]
    assert roles == [("user", "complete"), ("assistant", "complete")] * 2
    assert history["messages"][1]["content"] == first.of("text")[-1]["fullText"]
    assert history["messages"][1]["metadata"]["model_used"] == "grounded"


async def test_unknown_session_starts_a_new_conversation(server: AppServer) -> None:
    a = await ask(server, "saree", sessionId="never-seen-before-" + uuid.uuid4().hex)
    b = await ask(server, "saree")
    assert a.events[0][2]["conversation_id"] != b.events[0][2]["conversation_id"]


async def test_eventsource_get_and_json_twin(server: AppServer) -> None:
    got = await read_stream(f"{server.url}/api/chat/stream", params={"message": "black leather shoes"})
    assert got.types()[0] == "connected" and got.types()[-1] == "close"
    async with httpx.AsyncClient(timeout=30) as client:
        twin = (await client.post(f"{server.url}/api/chat/query", json={"query": "black leather shoes"})).json()
    assert twin["status"] == "ok" and twin["text"] == got.of("text")[-1]["fullText"]
    assert twin["results"]["suggestions"]["suggestions"]
    assert twin["complete"]["metadata"]["model_used"] == "grounded"


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"{oops", "body"),
        (b'{"query": ""}', "query"),
        (b'{"query": "   "}', "query"),
        (b'{"query": 5}', "query"),
        (b'{"query": "' + b"a" * 4001 + b'"}', "query"),
        (b'{"query": "hi", "enableTTS": "maybe"}', "enableTTS"),
        (b'{"query": "hi", "sessionId": 7}', "sessionId"),
        (b'{"query": "hi", "language": "xx"}', "language"),
    ],
)
async def test_bad_chat_input(server: AppServer, content: bytes, field: str) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(f"{server.url}/api/chat/query/stream", content=content,
                                     headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["field"] == field


async def test_users_message_survives_kill_9_mid_stream(env: dict[str, str], tmp_path: Path) -> None:
    """Kill the server right after the stream started: the question is there after a restart.
    What is stored does not depend on the sentence model: both servers run without it."""
    env = {**env, "SEARCH_EMBEDDINGS": "false"}
    first = AppServer(env, log_dir=tmp_path).start()
    try:
        wait_for_search(first, min_vectors=0)
        async with httpx.AsyncClient(timeout=10) as client:
            async with client.stream("POST", f"{first.url}/api/chat/query/stream",
                                     json={"query": "gold jhumkas for a party"}) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data:") and "conversation_id" in line:
                        conversation_id = json.loads(line[5:])["conversation_id"]
                        first.kill()
                        break
    finally:
        first.kill()
    second = AppServer(env, log_dir=tmp_path).start()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            history = (await client.get(f"{second.url}/api/chat/conversations/{conversation_id}")).json()
        assert history["messages"][0]["role"] == "user"
        assert history["messages"][0]["content"] == "gold jhumkas for a party"
    finally:
        second.stop()


POLICY = (
    "Returns and exchanges. Unworn items can be returned within 14 days of delivery for a full "
    "refund to the original payment method. Bridal lehengas that were altered cannot be returned.\n\n"
    "Shipping. Orders above 2,999 rupees ship free anywhere in India and arrive in 3 to 5 working days."
).encode()


async def test_uploaded_documents_ground_the_answer_at_once(server: AppServer) -> None:
    await upload_context(server.url, "chat-admin", "returns-policy.md", POLICY)
    got = await ask(server, "Can I return an unworn item, and within how many days?")
    sources = got.of("results")[0]["sources"]
    assert sources and sources[0]["file_name"] == "returns-policy.md"
    text = got.of("text")[-1]["fullText"]
    assert "within 14 days of delivery" in text and "returns-policy.md" in text
