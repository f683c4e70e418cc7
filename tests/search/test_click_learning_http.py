"""Ranking that learns from clicks, end to end: searches and the shoppers' views and clicks go
through the real routes into the analytics store, the platform learns from them, and the
product search re-ranks a query with enough traffic, never one without."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.search.service import SearchService
from app.catalog.demo import generate_catalog
from app.search.clicks import ClickScores
from app.search.constraints import Filters
from tests.support.server import AppServer, isolated_env, wait_for_search
from tests.support.wait import eventually

MIN_SEARCHES = 5
LIMIT = 10


@pytest.fixture(scope="module")
def app(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    folder = tmp_path_factory.mktemp("clicks")
    env = isolated_env(mongo_url, folder, "clicks", DEMO_CATALOG_SIZE="400", STREAMING_RATE_LIMIT="100000",
                       CLICK_MIN_SEARCHES=str(MIN_SEARCHES), CLICK_LEARNING_S="0.2", ANALYTICS_FLUSH_MS="50")
    with AppServer(env, log_dir=folder) as server:
        wait_for_search(server, min_vectors=0)
        yield server


async def shoppers(client: httpx.AsyncClient, q: str, n: int, clicked_at: int) -> list[str]:
    """`n` shoppers search `q`, see the page and click the product at `clicked_at`; the page
    the first of them saw."""
    first: list[str] = []
    for _ in range(n):
        found = (await client.get("/api/products/search", params={"q": q, "limit": LIMIT})).json()
        skus = [p["sku"] for p in found["products"]]
        first = first or skus
        views = [{"type": "view", "query_id": found["query_id"], "sku": sku, "position": i + 1}
                 for i, sku in enumerate(skus)]
        click = {"type": "click", "query_id": found["query_id"], "sku": skus[clicked_at - 1], "position": clicked_at}
        assert (await client.post("/api/events", json={"events": [*views, click]})).status_code == 202
    return first


async def test_a_query_with_traffic_learns_what_shoppers_chose(app: AppServer) -> None:
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        before = await shoppers(client, "kurta", MIN_SEARCHES + 1, clicked_at=8)
        chosen = before[7]

        async def lifted() -> bool:
            found = (await client.get("/api/products/search", params={"q": "kurta", "limit": LIMIT})).json()
            return [p["sku"] for p in found["products"]][0] == chosen
        await eventually(lifted, timeout=30, what="the product shoppers chose rises to the top")
        # a sort the shopper chose is not re-ranked
        by_price = (await client.get("/api/products/search", params={"q": "kurta", "sort": "price_asc"})).json()
        prices = [p["price"] for p in by_price["products"]]
        assert prices == sorted(prices)


async def test_a_query_under_the_threshold_keeps_its_ranking(app: AppServer) -> None:
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        before = await shoppers(client, "saree", MIN_SEARCHES - 1, clicked_at=9)
        learned_meanwhile = await shoppers(client, "dupatta", MIN_SEARCHES + 1, clicked_at=9)

        async def dupatta_learned() -> bool:
            found = (await client.get("/api/products/search", params={"q": "dupatta", "limit": LIMIT})).json()
            return [p["sku"] for p in found["products"]][0] == learned_meanwhile[8]
        await eventually(dupatta_learned, timeout=30, what="a learning pass after the saree searches")
        after = (await client.get("/api/products/search", params={"q": "saree", "limit": LIMIT})).json()
    assert [p["sku"] for p in after["products"]] == before


async def test_without_learned_scores_the_page_is_the_ranking() -> None:
    """CLICK_LEARNING=false never calls `use_clicks`: the page is the plain ranking."""
    service = SearchService(None, exact_max=1000)
    service.build_from(generate_catalog(200))
    plan = service.plan("kurta", Filters())
    found = await service.hybrid(plan)
    assert service.clicks == ClickScores()
    plain: list[Any] = [p["sku"] for p, _ in service.page(found, 10)]
    assert [p["sku"] for p, _ in service.page(found, 10, plan=plan)] == plain
