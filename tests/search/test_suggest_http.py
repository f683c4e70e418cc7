"""GET /api/products/suggest over real HTTP: completions from the catalog and from what shoppers
searched (through the analytics store), typo-tolerant, with products, the merchant's hiding, and
a budget of its own that never spends the search budget."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.server import AppServer, isolated_env, wait_for_search
from tests.support.wait import eventually

ADMIN = {"Authorization": "Bearer suggest-admin"}
BUDGET = 60


@pytest.fixture(scope="module")
def app(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    folder = tmp_path_factory.mktemp("suggest")
    env = isolated_env(mongo_url, folder, "suggest", DEMO_CATALOG_SIZE="400", ADMIN_TOKEN="suggest-admin",
                       SUGGEST_RATE_LIMIT=str(BUDGET), SUGGEST_REFRESH_S="0.2", ANALYTICS_FLUSH_MS="50",
                       SEARCH_SYNC_S="0.2")
    with AppServer(env, log_dir=folder) as server:
        wait_for_search(server, min_vectors=0)
        yield server


def suggest(app: AppServer, q: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{app.url}/api/products/suggest", params={"q": q, **params}, timeout=15)


def completions(app: AppServer, q: str) -> list[str]:
    response = suggest(app, q)
    assert response.status_code == 200, response.text
    return [c["text"] for c in response.json()["completions"]]


async def test_the_catalog_completes_what_is_typed_with_its_products(app: AppServer) -> None:
    async def ready() -> list[str]:
        return completions(app, "sar")  # built in the background once the index is
    found = await eventually(ready, timeout=20, what="suggestions built")
    assert all("saree" in text for text in found)
    body = suggest(app, "sar").json()
    assert body["completions"][0]["source"] == "catalog" and 0 < len(body["products"]) <= 4
    assert all(p["category"] == "saree" for p in body["products"])
    assert completions(app, "sarre")[:1] == found[:1]  # one typo
    assert completions(app, "zzzzqqq") == []
    # Hindi, Persian or Russian that nothing completes yet: its English reading's completions
    assert all("red" in text for text in completions(app, "लाल")) and completions(app, "लाल")
    assert all("saree" in text for text in completions(app, "ساری")) and completions(app, "ساری")


async def test_what_shoppers_searched_is_offered_back(app: AppServer) -> None:
    query = "festive silk saree"
    async with httpx.AsyncClient(timeout=20) as client:
        for _ in range(3):
            assert (await client.get(f"{app.url}/api/products/search", params={"q": query})).status_code == 200
        nothing = await client.get(f"{app.url}/api/products/search", params={"q": "qqqzzzxx"})
        assert nothing.json()["total"] == 0

    async def offered() -> bool:
        body = suggest(app, "festive si").json()
        return any(c["text"] == query and c["source"] == "search" for c in body["completions"])
    await eventually(offered, timeout=20, what="the popular search is offered")
    assert completions(app, "qqqz") == []  # a search that found nothing is never offered


async def test_a_product_the_merchant_hides_is_not_suggested(app: AppServer) -> None:
    shown = suggest(app, "sar").json()["products"]
    hidden = shown[0]["sku"]
    async with httpx.AsyncClient(timeout=20) as client:
        put = await client.put(f"{app.url}/api/merchandising/rules/no-{hidden}", headers=ADMIN,
                               json={"hide": [hidden]})
        assert put.status_code == 201
        try:
            assert hidden not in [p["sku"] for p in suggest(app, "sar").json()["products"]]
        finally:
            await client.delete(f"{app.url}/api/merchandising/rules/no-{hidden}", headers=ADMIN)


def test_bad_parameters_are_refused_naming_the_field(app: AppServer) -> None:
    for params, field in (({"q": ""}, "q"), ({"q": "x" * 600}, "q"), ({"q": "sa", "limit": 0}, "limit")):
        response = httpx.get(f"{app.url}/api/products/suggest", params=params, timeout=15)
        assert response.status_code == 400 and response.json()["field"] == field


def test_its_budget_is_its_own(app: AppServer) -> None:
    """A fast typist's suggestions never spend the searches: the search budget is untouched
    while the suggestions' own runs out."""
    before = httpx.get(f"{app.url}/api/products/search", params={"q": "kurta"}, timeout=15)
    statuses = []
    for _ in range(BUDGET + 5):
        response = suggest(app, "ku")
        statuses.append(response.status_code)
        if response.status_code == 200:
            assert response.headers["X-RateLimit-Limit"] == str(BUDGET)
    assert 429 in statuses and statuses.index(429) <= BUDGET
    after = httpx.get(f"{app.url}/api/products/search", params={"q": "kurta"}, timeout=15)
    assert after.status_code == 200
    assert int(after.headers["X-RateLimit-Remaining"]) == int(before.headers["X-RateLimit-Remaining"]) - 1
