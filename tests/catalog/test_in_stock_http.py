"""`in_stock` is a JSON boolean in every card, whatever path the product took: generated into an
empty store, replaced through the admin API (nx-27017 stores a boolean written by `$set` on an
existing document as 1/0), picked up from the store while running, or read back after a restart
on the same database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.support.server import AppServer, isolated_env, wait_for_search
from tests.support.sse import read_stream
from tests.support.wait import eventually

ADMIN = {"Authorization": "Bearer stock-admin"}


async def cards(app: AppServer, q: str = "kurta") -> list[dict[str, Any]]:
    """Every card a shopper can get for `q`: the search stream's (early and final), the JSON
    twin's, Aza's and the chat's."""
    out: list[dict[str, Any]] = []
    got = await read_stream(f"{app.url}/api/products/search/stream", params={"q": q, "limit": 50})
    out += [p for r in got.of("results") for p in r["products"]]
    async with httpx.AsyncClient(timeout=20) as client:
        out += (await client.get(f"{app.url}/api/products/search", params={"q": q, "limit": 50})).json()["products"]
        out += (await client.post(f"{app.url}/aza/search", json={"query": q, "limit": 50})).json()["products"]
    chat = await read_stream(f"{app.url}/api/chat/query/stream", method="POST", json={"query": q}, timeout=30)
    out += [p for r in chat.of("results") if r["type"] == "product_cards" for p in r["products"]]
    assert out
    return out


def assert_booleans(products: list[dict[str, Any]]) -> None:
    wrong = {p["sku"]: p["in_stock"] for p in products if type(p.get("in_stock")) is not bool}
    assert not wrong, f"in_stock is not a boolean: {wrong}"


def product(card: dict[str, Any]) -> dict[str, Any]:
    """A card back as a catalog row (its scores are not product fields)."""
    return {k: v for k, v in card.items() if not k.endswith("score")}


async def stock_of(app: AppServer, sku: str) -> Any:
    async with httpx.AsyncClient(timeout=20) as client:
        found = (await client.post(f"{app.url}/aza/search", json={"query": sku})).json()["products"]
    return next(p["in_stock"] for p in found if p["sku"] == sku)


async def test_in_stock_is_a_boolean_before_and_after_a_restart(mongo_url: str, tmp_path: Path) -> None:
    env = isolated_env(mongo_url, tmp_path, "stock", DEMO_CATALOG_SIZE="300", ADMIN_TOKEN="stock-admin",
                       SEARCH_SYNC_S="0.2", STREAMING_RATE_LIMIT="100000")
    with AppServer(env, log_dir=tmp_path) as app:
        wait_for_search(app, min_vectors=0)
        shown = await cards(app)
        assert_booleans(shown)
        first, second = shown[0], shown[1]
        # Replace two stored products through the admin API, flipping their stock.
        changed = [{**product(first), "in_stock": not first["in_stock"]},
                   {**product(second), "in_stock": not second["in_stock"]}]
        async with httpx.AsyncClient(timeout=20) as client:
            put = await client.put(f"{app.url}/api/catalog/products", json={"products": changed}, headers=ADMIN)
        assert put.status_code == 200 and put.json()["upserted"] == 2

        async def flipped() -> bool:  # the store follower re-reads what was written (SEARCH_SYNC_S)
            return await stock_of(app, first["sku"]) is (not first["in_stock"])

        await eventually(flipped, timeout=10, what="the search index shows the new stock")
        assert_booleans(await cards(app))
    with AppServer(env, log_dir=tmp_path) as again:  # the same database, indexes rebuilt from it
        wait_for_search(again, min_vectors=0)
        assert await stock_of(again, first["sku"]) is (not first["in_stock"])
        assert await stock_of(again, second["sku"]) is (not second["in_stock"])
        assert_booleans(await cards(again))
