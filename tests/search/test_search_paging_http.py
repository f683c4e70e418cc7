"""Paging the product search with `cursor`, over real HTTP (stream and JSON twin), with the real
MiniLM model and a demo catalog in a real wire-protocol MongoDB: the pages put together are
the ranked list, no product twice, none skipped, also when the catalog changes between pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.server import AppServer, isolated_env, wait_for_search
from tests.support.sse import read_stream

ADMIN = {"Authorization": "Bearer test-admin-token"}
CATALOG_SIZE = 800
QUERY = "silk"  # about a hundred of the 800 demo products: more than several pages


@pytest.fixture(scope="module")
def server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    log_dir = tmp_path_factory.mktemp("paging")
    env = isolated_env(
        mongo_url, log_dir, "paging", catalog=CATALOG_SIZE, SEARCH_EMBEDDINGS="true",
        STREAMING_RATE_LIMIT="100000", ADMIN_TOKEN="test-admin-token",
    )
    with AppServer(env, log_dir=log_dir) as app:
        wait_for_search(app, min_vectors=CATALOG_SIZE)
        yield app


async def twin(client: httpx.AsyncClient, server: AppServer, **params: Any) -> dict[str, Any]:
    response = await client.get(f"{server.url}/api/products/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def streamed(server: AppServer, **params: Any) -> dict[str, Any]:
    got = await read_stream(f"{server.url}/api/products/search/stream", params=params)
    assert got.status == 200 and got.types()[-2:] == ["complete", "close"]
    return got.of("results")[-1]


def skus(page: dict[str, Any]) -> list[str]:
    return [p["sku"] for p in page["products"]]


async def test_pages_put_together_are_the_ranked_list(server: AppServer) -> None:
    """Pages of 7, read alternately from the JSON twin and the stream, until `next_cursor` is
    null: the same products in the same order as the first 50 of one request, then the rest."""
    async with httpx.AsyncClient(timeout=30) as client:
        whole = await twin(client, server, q=QUERY, limit=50)
        assert whole["total"] > 50 and whole["next_cursor"]
        pages = [await twin(client, server, q=QUERY, limit=7)]
        while pages[-1]["next_cursor"] and len(pages) < 40:
            params = {"q": QUERY, "limit": 7, "cursor": pages[-1]["next_cursor"]}
            pages.append(await (streamed(server, **params) if len(pages) % 2 else twin(client, server, **params)))
    union = [sku for page in pages for sku in skus(page)]
    assert len(union) == len(set(union)), "a product on two pages"
    assert union[:50] == skus(whole)
    assert len(union) == whole["total"], "every match, on some page"
    assert [page["offset"] for page in pages] == [7 * i for i in range(len(pages))]
    assert all(page["total"] == whole["total"] for page in pages)
    assert pages[-1]["next_cursor"] is None and 0 < len(pages[-1]["products"]) <= 7
    assert "facets" in pages[0] and "facets" not in pages[1]


async def test_pages_hold_while_the_catalog_changes_between_them(server: AppServer) -> None:
    """Between pages the catalog changes: products that outrank everything are added, one on a
    later page is removed. An offset would now show some products twice; the cursor's pages
    keep the first page's ranking (the new products are for a new search)."""
    async with httpx.AsyncClient(timeout=30) as client:
        before = await twin(client, server, q=QUERY, limit=50, sort="relevance")
        first = await twin(client, server, q=QUERY, limit=10)
        new = [{"sku": f"PAGE-{i}", "title": f"Silk Silk Silk Kurta {i}", "brand": "Pagehaus",
                "category": "kurta", "price": 999 + i, "colors": ["red"], "sizes": ["M"],
                "description": "silk silk silk", "attributes": {"fabric": "silk"}} for i in range(5)]
        put = await client.put(f"{server.url}/api/catalog/products", json={"products": new}, headers=ADMIN)
        assert put.status_code == 200 and put.json()["upserted"] == 5
        removed = skus(before)[25]
        assert (await client.delete(f"{server.url}/api/catalog/products/{removed}", headers=ADMIN)).status_code == 204
        try:
            after = await twin(client, server, q=QUERY, limit=50)
            # The ranking did move: pages by offset would now repeat and skip products.
            assert skus(after)[10:50] != skus(before)[10:50]
            assert any(sku.startswith("PAGE-") for sku in skus(after))
            pages = [first]
            while pages[-1]["next_cursor"] and len(pages) < 5:
                pages.append(await twin(client, server, q=QUERY, limit=10, cursor=pages[-1]["next_cursor"]))
        finally:
            for product in new:
                await client.delete(f"{server.url}/api/catalog/products/{product['sku']}", headers=ADMIN)
    union = [sku for page in pages for sku in skus(page)]
    assert len(union) == len(set(union))
    # The removed product is on no page (it can no longer be sold); the next one fills its place.
    assert union[:49] == [sku for sku in skus(before) if sku != removed] and len(union) == 50
    assert removed not in union
    assert not any(sku.startswith("PAGE-") for sku in union)


async def test_sorted_pages_follow_the_sort(server: AppServer) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        first = await twin(client, server, q=QUERY, limit=5, sort="price_asc")
        second = await twin(client, server, q=QUERY, limit=5, sort="price_asc", cursor=first["next_cursor"])
    prices = [p["price"] for p in first["products"] + second["products"]]
    assert prices == sorted(prices) and not set(skus(first)) & set(skus(second))


async def test_a_page_without_more_has_no_cursor(server: AppServer) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        page = await twin(client, server, q=QUERY, limit=50, category="saree", color="gold")
    assert page["total"] <= 50 and page["next_cursor"] is None


@pytest.mark.parametrize("change", [{"q": "cotton"}, {"sort": "price_desc"}, {"color": "red"}])
async def test_a_cursor_is_refused_on_another_search(server: AppServer, change: dict[str, str]) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        first = await twin(client, server, q=QUERY, limit=5)
        refused = await client.get(f"{server.url}/api/products/search/stream",
                                   params={"q": QUERY, "limit": 5, "cursor": first["next_cursor"], **change})
        # The page size may change between pages.
        other_size = await twin(client, server, q=f"  {QUERY} ", limit=9, cursor=first["next_cursor"])
    assert refused.status_code == 400
    assert refused.json()["field"] == "cursor" and refused.json()["code"] == "INVALID_PARAMETERS"
    assert other_size["offset"] == 5 and len(other_size["products"]) == 9


@pytest.mark.parametrize(("cursor", "status", "code"), [
    ("nonsense", 400, "INVALID_PARAMETERS"),
    ("0123456789abcdef0123456789abcdef.5; DROP", 400, "INVALID_PARAMETERS"),
])
async def test_bad_and_unknown_cursors(server: AppServer, cursor: str, status: int, code: str) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        for path in ("/api/products/search", "/api/products/search/stream"):
            response = await client.get(f"{server.url}{path}", params={"q": QUERY, "cursor": cursor})
            assert response.status_code == status, response.text
            assert response.json()["code"] == code and response.json()["field"] == "cursor"


async def test_a_cursor_this_instance_does_not_hold_ranks_the_search_again(server: AppServer) -> None:
    """A cursor made by another instance behind a load balancer (or whose ranking was evicted):
    the page is the same slice of the same ranking, then its next pages follow from here."""
    stranger = "0123456789abcdef0123456789abcdef.5"
    async with httpx.AsyncClient(timeout=30) as client:
        whole = await twin(client, server, q=QUERY, limit=15)
        page = await twin(client, server, q=QUERY, limit=5, cursor=stranger)
        streamed_page = await streamed(server, q=QUERY, limit=5, cursor=stranger)
        after = await twin(client, server, q=QUERY, limit=5, cursor=page["next_cursor"])
        beyond = await twin(client, server, q=QUERY, limit=5, cursor="0123456789abcdef0123456789abcdef.9999")
    assert page["offset"] == 5 and skus(page) == skus(whole)[5:10] == skus(streamed_page)
    assert skus(after) == skus(whole)[10:15] and page["total"] == whole["total"]
    assert beyond["products"] == [] and beyond["next_cursor"] is None
