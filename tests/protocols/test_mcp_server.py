"""The MCP server at /mcp through the official `mcp` Python client (Streamable HTTP), against a
real server over the demo catalog: the tools and their schemas, a call of each (the same
answers as the native routes), a bad argument named, and the refusals: a foreign Origin (403)
and the shared rate limit (429)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp import ClientSession, types
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client  # the SDK's own client (httpx2), with headers
from mcp.shared.exceptions import MCPError

from app.agent.calling import SCHEMAS
from tests.support.server import AppServer, isolated_env, wait_for_search
from tests.support.uploads import upload_context

CATALOG = 300
TIMEOUT = 60
ALLOWED = "https://shop.example"
ADMIN = "mcp-admin"
POLICY = (
    "# Returns and exchanges\n\nUnworn items can be returned within 10 days of delivery for a full refund. "
    "Custom-stitched lehengas cannot be returned but can be altered once free of charge.\n"
).encode()
TOOLS = {"search_catalog", "get_product", "compare_products", "check_stock", "market_snapshot", "search_documents"}


@pytest.fixture(scope="module")
def server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    env = isolated_env(mongo_url, tmp_path_factory.mktemp("mcpdata"), "mcp", catalog=CATALOG,
                       SEARCH_EMBEDDINGS="true", STREAMING_RATE_LIMIT="100000", CORS_ALLOWED_ORIGINS=ALLOWED,
                       ADMIN_TOKEN=ADMIN)
    with AppServer(env, log_dir=tmp_path_factory.mktemp("mcplogs")) as app:
        wait_for_search(app, min_vectors=CATALOG)
        yield app


@asynccontextmanager
async def session(server: AppServer, **headers: str) -> AsyncIterator[ClientSession]:
    http = create_mcp_http_client(headers=headers)  # every wait below is bounded by TIMEOUT
    async with http, streamable_http_client(f"{server.url}/mcp", http_client=http) as (read, write):
        async with ClientSession(read, write, read_timeout_seconds=TIMEOUT) as client:
            await asyncio.wait_for(client.initialize(), TIMEOUT)
            yield client


async def call(client: ClientSession, name: str, **arguments: Any) -> types.CallToolResult:
    result = await asyncio.wait_for(client.call_tool(name, arguments), TIMEOUT)
    assert isinstance(result, types.CallToolResult)
    return result


async def ok(client: ClientSession, name: str, **arguments: Any) -> dict[str, Any]:
    result = await call(client, name, **arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    text = result.content[0]
    assert isinstance(text, types.TextContent) and json.loads(text.text) == result.structured_content
    return result.structured_content


async def test_lists_the_tools_with_the_agents_schemas(server: AppServer) -> None:
    async with session(server) as client:
        listed = await asyncio.wait_for(client.list_tools(), TIMEOUT)
    tools = {t.name: t for t in listed.tools}
    assert set(tools) == TOOLS
    assert all(t.description and t.output_schema and t.output_schema["type"] == "object" for t in tools.values())
    # The agent's own tool declarations (app/agent/calling.py): the schemas offered to its model.
    agent = {s["function"]["name"]: s["function"]["parameters"] for s in SCHEMAS}
    for name in ("market_snapshot", "check_stock", "search_documents"):
        assert tools[name].input_schema["properties"] == agent[name]["properties"], name
        assert tools[name].input_schema["required"] == agent[name]["required"], name
    catalog = tools["search_catalog"].input_schema["properties"]
    assert {k: v for k, v in catalog.items() if k != "limit"} == agent["search_catalog"]["properties"]
    assert catalog["limit"] == {"default": 5, "description": "products to return, best first", "maximum": 20,
                                "minimum": 1, "type": "integer"}
    assert tools["compare_products"].input_schema["properties"]["skus"]["minItems"] == 2
    assert tools["get_product"].input_schema["required"] == ["sku"]


async def test_search_catalog_ranks_as_product_search(server: AppServer) -> None:
    async with session(server) as client:
        found = await ok(client, "search_catalog", query="red lehenga", max_price=50000, limit=5)
    assert found["type"] == "product_cards" and 0 < len(found["products"]) <= 5 and found["total"] >= 1
    assert all(p["price"] <= 50000 for p in found["products"])
    native = httpx.get(f"{server.url}/api/products/search",
                       params={"q": "red lehenga", "max_price": 50000, "limit": 5}, timeout=TIMEOUT).json()
    native_cards = native["results"]["product_cards"]["products"] if "results" in native else native["products"]
    assert [p["sku"] for p in found["products"]] == [p["sku"] for p in native_cards]
    assert found["query"]["filters"]["max_price"] == 50000
    # Recorded for analytics as any search is: its own query_id, not the product search's.
    assert len(found["query_id"]) == 32 and found["query_id"] != native["query_id"]


async def test_product_compare_stock_and_market(server: AppServer) -> None:
    async with session(server) as client:
        found = await ok(client, "search_catalog", query="kurta", limit=3)
        skus = [p["sku"] for p in found["products"]]
        product = await ok(client, "get_product", sku=skus[0])
        compared = await ok(client, "compare_products", skus=skus[:2])
        stock = await ok(client, "check_stock", skus=skus, size="M")
        market = await ok(client, "market_snapshot", query="kurta", max_price=3000)
    assert product["sku"] == skus[0] and product["title"] == found["products"][0]["title"]
    assert "embedding" not in product and isinstance(product["price"], (int, float))
    assert compared["type"] == "comparison" and [r["sku"] for r in compared["products"]] == skus[:2]
    assert stock["type"] == "stock" and [r["sku"] for r in stock["products"]] == skus
    assert all(r["size"] == "M" and isinstance(r["size_listed"], bool) for r in stock["products"])
    assert market["type"] == "market_intelligence" and market["matching"] >= len(skus)
    assert market["budget"]["max"] == 3000 and 0 <= market["budget"]["share_within"] <= 1
    assert market["price"]["min"] <= market["price"]["median"] <= market["price"]["max"]


async def test_search_documents_finds_the_uploaded_policy(server: AppServer) -> None:
    async with session(server) as client:
        before = await ok(client, "search_documents", query="can I return an unworn item?")
        await upload_context(server.url, ADMIN, "returns.md", POLICY)
        after = await ok(client, "search_documents", query="can I return an unworn item?")
    assert before == {"type": "sources", "sources": []}
    assert after["sources"] and after["sources"][0]["file_name"] == "returns.md"
    assert "within 10 days of delivery" in after["sources"][0]["text"]


async def test_bad_arguments_are_tool_errors_naming_the_field(server: AppServer) -> None:
    async with session(server) as client:
        one_sku = await call(client, "compare_products", skus=["X1"])
        price = await call(client, "search_catalog", query="saree", max_price="cheap")
        unknown = await call(client, "get_product", sku="NO-SUCH-SKU-1")
        backwards = await call(client, "market_snapshot", query="saree", min_price=9000, max_price=100)
        no_tool = await call(client, "buy_everything")
    for result, field in ((one_sku, "skus"), (price, "max_price"), (unknown, "sku"), (backwards, "min_price"),
                          (no_tool, "name")):
        assert result.is_error and result.structured_content is None
        text = result.content[0]
        assert isinstance(text, types.TextContent) and text.text.startswith(field), text.text
        assert "Traceback" not in text.text and "File \"" not in text.text


async def test_a_foreign_origin_is_refused_and_an_allowed_one_served(server: AppServer) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
               "MCP-Protocol-Version": "2025-06-18"}
    with httpx.Client(timeout=TIMEOUT) as http:
        foreign = http.post(f"{server.url}/mcp", json=body, headers={**headers, "Origin": "https://evil.example"})
        allowed = http.post(f"{server.url}/mcp", json=body, headers={**headers, "Origin": ALLOWED})
        stream = http.get(f"{server.url}/mcp", headers={"Accept": "text/event-stream"})
        end = http.delete(f"{server.url}/mcp")
    assert foreign.status_code == 403 and foreign.json()["code"] == "ORIGIN_NOT_ALLOWED"
    assert allowed.status_code == 200, allowed.text
    # Stateless: no server-to-client stream to hold open, no session to end.
    assert stream.status_code == end.status_code == 405 and stream.headers["allow"] == "POST"
    assert stream.json()["code"] == "METHOD_NOT_ALLOWED"
    assert {t["name"] for t in allowed.json()["result"]["tools"]} == TOOLS
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    preflight = httpx.options(f"{server.url}/mcp", timeout=TIMEOUT, headers={
        "Origin": ALLOWED, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, mcp-protocol-version"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == ALLOWED
    # The official client, sent from a foreign origin, never gets a session: the SDK's own error.
    with pytest.raises(ExceptionGroup) as refused:
        async with session(server, Origin="https://evil.example"):
            pytest.fail("initialized from a foreign origin")
    errors = list(leaves(refused.value))
    assert [type(e) for e in errors] == [MCPError] and "error response" in str(errors[0])


def leaves(group: BaseExceptionGroup) -> Iterator[BaseException]:
    for exc in group.exceptions:
        yield from leaves(exc) if isinstance(exc, BaseExceptionGroup) else (exc,)


async def test_the_shared_rate_limit_charges_each_request(mongo_url: str,
                                                          tmp_path_factory: pytest.TempPathFactory) -> None:
    env = isolated_env(mongo_url, tmp_path_factory.mktemp("mcplimitdata"), "mcplimit", STREAMING_RATE_LIMIT="3",
                       STREAMING_WINDOW_MS="60000")
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}
    with AppServer(env, log_dir=tmp_path_factory.mktemp("mcplimitlogs")) as app, httpx.Client(timeout=TIMEOUT) as http:
        answers = [http.post(f"{app.url}/mcp", json=body, headers=headers) for _ in range(3)]
        native = http.get(f"{app.url}/api/products/search", params={"q": "saree"})
        limited = http.post(f"{app.url}/mcp", json=body, headers=headers)
        with pytest.raises(ExceptionGroup) as client_limited:  # the official client: no session either
            async with session(app):
                pytest.fail("initialized over the rate limit")
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert native.status_code == 429  # one budget: the MCP requests spent the native route's
    assert limited.status_code == 429 and limited.json()["code"] == "RATE_LIMITED"
    assert int(limited.headers["Retry-After"]) >= 1 and limited.headers["X-RateLimit-Remaining"] == "0"
    assert [type(e) for e in leaves(client_limited.value)] == [MCPError]
