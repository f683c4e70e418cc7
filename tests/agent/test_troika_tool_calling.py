"""The agent's function-calling path (LLM_PROVIDER=openai): the tools the model asks for run
(checked first), their results reach the answer's prompt, and a model that cannot call tools
leaves the agent choosing by intent. The model is a scripted double (see its docstring for why);
everything else is real: uvicorn, MongoDB, the demo catalog."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import AppServer, wait_for_search
from tests.support.sse import read_stream

RED_SAREES = [
    {"name": "search_catalog", "arguments": {"query": "saree", "category": "saree", "colors": ["red"],
                                             "max_price": 9000}},
    {"name": "market_snapshot", "arguments": {"query": "saree", "category": "saree", "colors": ["red"]}},
    {"name": "launch_rockets", "arguments": {"count": 3}},  # unknown: dropped
    {"name": "compare_products", "arguments": {"skus": ["NOT-A-SKU", 7]}},  # no known sku: dropped
]
ANSWER = "These red sarees fit your budget."


@pytest.fixture
def scripted_llm(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., tuple[str, Path]]]:
    started: list[AppServer] = []

    def start(**plan: Any) -> tuple[str, Path]:
        log = tmp_path / f"llm-{len(started)}.jsonl"
        server = AppServer({"SCRIPTED_LLM_PLAN": json.dumps(plan), "SCRIPTED_LLM_LOG": str(log)},
                           log_dir=tmp_path, factory="tests.support.scripted_llm:build").start()
        started.append(server)
        return f"{server.url}/v1", log

    yield start
    for server in started:
        server.stop()


def agent_env(url: str) -> dict[str, str]:
    return {"LLM_PROVIDER": "openai", "LLM_BASE_URL": url, "LLM_MODEL": "scripted", "TTS_ENGINE": "off",
            "DEMO_CATALOG_SIZE": "400", "MONGODB_DB": f"calls_{uuid.uuid4().hex[:8]}"}


def requests(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


async def test_the_models_tool_calls_run_after_checking(
    app_server: Callable[..., AppServer], scripted_llm: Callable[..., tuple[str, Path]]
) -> None:
    url, log = scripted_llm(calls={"something nice": RED_SAREES}, answer=ANSWER)
    server = app_server(**agent_env(url), LLM_MAX_TOKENS="77")
    wait_for_search(server, min_vectors=0)
    got = await read_stream(f"{server.url}/api/troika/intelligent-chat/stream", method="POST",
                            json={"message": "show me something nice for diwali"}, timeout=60)
    assert got.types()[-2:] == ["complete", "close"], got.events[-3:]
    calls = [(p["tool"], p["args"]) for p in got.of("progress")]
    assert calls == [
        ("search_catalog", {"query": "saree", "filters": {"category": "saree", "colors": ["red"], "max_price": 9000}}),
        ("market_snapshot", {"query": "saree", "filters": {"category": "saree", "colors": ["red"]}}),
    ]
    results = {r["type"]: r for r in got.of("results")}
    cards = results["product_cards"]["products"]
    assert cards and all(c["category"] == "saree" and "red" in c["colors"] and c["price"] <= 9000 for c in cards)
    assert results["market_intelligence"]["filters"] == {"category": "saree", "colors": ["red"]}
    assert got.of("text")[-1]["fullText"].strip() == ANSWER
    assert got.of("complete")[0]["tools"] == ["search_catalog", "market_snapshot"]

    sent = requests(log)
    assert [bool(r.get("tools")) for r in sent] == [True, False]  # choose the tools, then answer
    assert sent[1]["max_tokens"] == 77  # LLM_MAX_TOKENS bounds the answer
    offered = {t["function"]["name"] for t in sent[0]["tools"]}
    assert offered == {"search_catalog", "market_snapshot", "compare_products", "check_stock", "search_documents"}
    prompt = sent[1]["messages"][0]["content"]
    for card in cards:  # the answer is grounded in what the tools returned
        assert card["title"] in prompt


async def test_products_shown_reach_the_model_by_position(
    app_server: Callable[..., AppServer], scripted_llm: Callable[..., tuple[str, Path]]
) -> None:
    compare = [{"name": "compare_products", "arguments": {"skus": ["$shown:1", "$shown:2"]}}]
    url, log = scripted_llm(calls={"compare the first two": compare})
    server = app_server(**agent_env(url))
    wait_for_search(server, min_vectors=0)
    stream = f"{server.url}/api/troika/intelligent-chat/stream"
    first = await read_stream(stream, method="POST", json={"message": "red lehenga for a wedding"}, timeout=60)
    # No call for this message: the intent's tools ran.
    assert [p["tool"] for p in first.of("progress")] == ["search_catalog", "market_snapshot"]
    shown = next(r for r in first.of("results") if r["type"] == "product_cards")["products"]
    session = first.events[0][2]["session_id"]
    second = await read_stream(stream, method="POST", timeout=60,
                               json={"message": "compare the first two", "sessionId": session})
    call = second.of("progress")[0]
    assert call["tool"] == "compare_products" and call["args"]["skus"] == [c["sku"] for c in shown[:2]]
    comparison = next(r for r in second.of("results") if r["type"] == "comparison")
    assert [row["sku"] for row in comparison["products"]] == call["args"]["skus"]
    state = requests(log)[-2]["messages"][0]["content"]  # what the model saw to choose
    assert all(c["sku"] in state and c["title"] in state for c in shown)


async def test_a_model_that_cannot_call_tools_leaves_the_choice_to_the_intent(
    app_server: Callable[..., AppServer], scripted_llm: Callable[..., tuple[str, Path]]
) -> None:
    url, log = scripted_llm(fail_tools=True)
    server = app_server(**agent_env(url))
    wait_for_search(server, min_vectors=0)
    got = await read_stream(f"{server.url}/api/troika/intelligent-chat/stream", method="POST",
                            json={"message": "red lehenga for a wedding"}, timeout=60)
    assert got.types()[-2:] == ["complete", "close"], got.events[-3:]
    assert [p["tool"] for p in got.of("progress")] == ["search_catalog", "market_snapshot"]
    assert "could not choose tools" in server.log()
    asked = sum(bool(r.get("tools")) for r in requests(log))
    assert asked == 1
    off = app_server(**agent_env(url), LLM_TOOL_CALLING="false")
    wait_for_search(off, min_vectors=0)
    again = await read_stream(f"{off.url}/api/troika/intelligent-chat/stream", method="POST",
                              json={"message": "red lehenga for a wedding"}, timeout=60)
    assert [p["tool"] for p in again.of("progress")] == ["search_catalog", "market_snapshot"]
    assert sum(bool(r.get("tools")) for r in requests(log)) == asked  # never offered tools
