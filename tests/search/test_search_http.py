"""Product search and Aza semantic search over real HTTP, with the real MiniLM model and a
generated demo catalog in a real wire-protocol MongoDB."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.catalog.demo import generate_catalog
from app.language.detect import detect_language
from tests.support.server import AppServer, isolated_env, wait_for_search
from tests.support.sse import read_stream

ADMIN = {"Authorization": "Bearer test-admin-token"}
CATALOG_SIZE = 800


@pytest.fixture(scope="module")
def server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    log_dir = tmp_path_factory.mktemp("search")
    env = isolated_env(
        mongo_url, log_dir, "search", catalog=CATALOG_SIZE, SEARCH_EMBEDDINGS="true",
        STREAMING_RATE_LIMIT="100000", SEARCH_SYNC_S="0.5", ADMIN_TOKEN="test-admin-token",
    )
    with AppServer(env, log_dir=log_dir) as app:
        wait_for_search(app, min_vectors=CATALOG_SIZE)
        yield app


@pytest.fixture(scope="module")
def catalog() -> list[dict[str, Any]]:
    """The server's demo catalog, regenerated here: expected counts come from it, not the app."""
    return generate_catalog(CATALOG_SIZE)


def has_word(product: dict[str, Any], word: str) -> bool:
    """Whether a product's searchable text (every field the index reads) holds `word`."""
    attributes = [v for v in (product.get("attributes") or {}).values() if isinstance(v, str)]
    fields = [product.get(f) or "" for f in ("title", "brand", "category", "subcategory", "description")]
    text = " ".join(fields + attributes + list(product.get("colors") or []))
    return re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE) is not None


async def final_results(server: AppServer, **query: Any) -> dict[str, Any]:
    got = await read_stream(f"{server.url}/api/products/search/stream", params=query)
    final = got.of("results")[-1]
    assert final["stage"] == "final" and got.of("complete")[0]["total"] == final["total"]
    return final


async def test_search_stream_order_and_early_results(server: AppServer) -> None:
    got = await read_stream(f"{server.url}/api/products/search/stream?q=silk+saree&limit=5")
    assert got.status == 200
    steps = [(kind, data.get("step") or data.get("stage")) for _, kind, data in got.events]
    assert steps == [
        ("connected", None),
        ("progress", "text_search"),
        ("results", "text"),
        ("progress", "vector_search"),
        ("progress", "filters"),
        ("results", "final"),
        ("complete", None),
        ("close", None),
    ]
    early, final = got.of("results")
    assert 0 < len(early["products"]) <= 5 and 0 < len(final["products"]) <= 5
    assert all(p["category"] == "saree" for p in final["products"][:3])
    top = final["products"][0]
    assert {"score", "text_score", "vector_score"} <= set(top)
    assert final["total"] == got.of("complete")[0]["total"] >= len(final["products"])
    assert {"category", "brand", "color", "size", "price"} <= set(final["facets"])
    assert "embedding" not in top


async def test_filters_parsed_from_the_query_text(server: AppServer) -> None:
    got = await read_stream(
        f"{server.url}/api/products/search/stream",
        params={"q": "red lehenga under 200000 size M", "limit": 50},
    )
    final = got.of("results")[-1]
    assert final["query"]["filters"] == {"category": "lehenga", "colors": ["red"], "sizes": ["M"],
                                         "max_price": 200000}
    assert final["products"], "the demo catalog has red lehengas in size M"
    for product in final["products"]:
        assert product["category"] == "lehenga"
        assert "red" in product["colors"] and "M" in product["sizes"]
        assert product["price"] <= 200000


async def test_parameters_sort_and_override_text(server: AppServer) -> None:
    async with httpx.AsyncClient(timeout=20) as client:
        response = await client.get(
            f"{server.url}/api/products/search",
            params={"q": "red kurta", "category": "saree", "sort": "price_asc", "in_stock": "true"},
        )
    body = response.json()
    assert response.status_code == 200 and body["status"] == "ok"
    prices = [p["price"] for p in body["products"]]
    assert prices == sorted(prices) and prices
    assert all(p["category"] == "saree" and p["in_stock"] for p in body["products"])


async def test_json_twin_matches_the_stream(server: AppServer) -> None:
    url = f"{server.url}/api/products/search"
    query = {"q": "wedding sherwani", "limit": 8}
    got = await read_stream(url + "/stream", params=query)
    async with httpx.AsyncClient(timeout=20) as client:
        twin = (await client.get(url, params=query)).json()
    final = got.of("results")[-1]
    assert [p["sku"] for p in twin["products"]] == [p["sku"] for p in final["products"]]
    assert twin["total"] == final["total"] and twin["facets"] == final["facets"]


async def test_total_counts_every_product_matching_the_words(server: AppServer, catalog: list) -> None:
    """More products hold the word than either ranker's pool (200): all of them are counted."""
    expected = [p for p in catalog if has_word(p, "detailing")]
    assert len(expected) > 300  # more than a pool, or the test proves nothing
    final = await final_results(server, q="detailing", limit=5)
    assert final["query"]["filters"] == {} and final["total"] == len(expected)
    categories = Counter(p["category"] for p in expected)
    assert final["facets"]["category"] == [
        {"value": v, "count": c} for v, c in sorted(categories.items(), key=lambda vc: (-vc[1], vc[0]))[:12]
    ]


async def test_total_and_facets_count_every_product_passing_a_filter(server: AppServer, catalog: list) -> None:
    """"casual" is a filter read from the text (occasion): the total is every casual product,
    each facet counts them, and adding a facet value as a filter gives exactly its count."""
    casual = [p for p in catalog if p["attributes"].get("occasion") == "casual"]
    assert len(casual) > 300
    final = await final_results(server, q="casual", limit=5)
    assert final["query"]["filters"] == {"occasion": "casual"}
    assert final["total"] == len(casual)
    colors = Counter(c for p in casual for c in set(p["colors"]))
    for facet in final["facets"]["color"]:
        assert facet["count"] == colors[facet["value"]], facet
    bands = final["facets"]["price"]
    assert sum(b["count"] for b in bands) == len(casual)
    for band in bands:
        assert band["count"] == sum(1 for p in casual if band["min"] <= p["price"] < (band["max"] or 1e12))
    top = final["facets"]["color"][0]
    narrowed = await final_results(server, q="casual", color=top["value"], limit=5)
    assert narrowed["total"] == top["count"]


async def test_sorting_orders_every_match_not_only_a_pool(server: AppServer, catalog: list) -> None:
    matching = {"casual": [p for p in catalog if p["attributes"].get("occasion") == "casual"],
                "detailing": [p for p in catalog if has_word(p, "detailing")]}
    for q, products in matching.items():
        for sort, dearest_first in (("price_asc", False), ("price_desc", True)):
            final = await final_results(server, q=q, sort=sort, limit=10)
            prices = sorted((p["price"] for p in products), reverse=dearest_first)[:10]
            assert [p["price"] for p in final["products"]] == prices, (q, sort)


async def test_early_text_results_count_every_word_match(server: AppServer, catalog: list) -> None:
    got = await read_stream(f"{server.url}/api/products/search/stream", params={"q": "detailing", "limit": 5})
    step = next(p for p in got.of("progress") if p["step"] == "text_search")
    early = got.of("results")[0]
    assert early["stage"] == "text"
    assert step["count"] == early["total"] == sum(1 for p in catalog if has_word(p, "detailing"))


async def test_aza_and_the_twins_report_the_same_exact_totals(server: AppServer) -> None:
    """The text path counts every word match (as product search does), the semantic path every
    product at or above min_score, whatever `limit` is; each JSON twin reports its stream's."""
    async with httpx.AsyncClient(timeout=20) as client:
        search_twin = (await client.get(f"{server.url}/api/products/search", params={"q": "ka"})).json()
        for body in ({"query": "ka", "limit": 5}, {"query": "elegant outfit for a wedding reception",
                                                    "limit": 5, "min_score": 0.3}):
            stream = await read_stream(f"{server.url}/aza/search/stream", method="POST", json=body)
            twin = (await client.post(f"{server.url}/aza/search", json=body)).json()
            wide = (await client.post(f"{server.url}/aza/search", json={**body, "limit": 50})).json()
            final = stream.of("results")[-1]
            assert final["total"] == stream.of("complete")[0]["total"] == twin["total"] == wide["total"]
            assert wide["total"] > 50  # more than any pool a limit of 5 or 50 used to take
            if final["path"] == "text":
                assert final["total"] == search_twin["total"]
            else:
                assert len(wide["products"]) == 50 and wide["products"][-1]["score"] >= 0.3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({}, "q"),
        ({"q": "x" * 513}, "q"),
        ({"q": "saree", "limit": "0"}, "limit"),
        ({"q": "saree", "limit": "51"}, "limit"),
        ({"q": "saree", "limit": "ten"}, "limit"),
        ({"q": "saree", "min_price": "-5"}, "min_price"),
        ({"q": "saree", "max_price": "cheap"}, "max_price"),
        ({"q": "saree", "min_price": "900", "max_price": "100"}, "min_price"),
        ({"q": "saree", "sort": "popularity"}, "sort"),
        ({"q": "saree", "in_stock": "perhaps"}, "in_stock"),
    ],
)
async def test_bad_search_input_is_refused_before_the_stream(
    server: AppServer, query: dict, field: str
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        for path in ("/api/products/search/stream", "/api/products/search"):
            response = await client.get(server.url + path, params=query)
            assert response.status_code == 400, response.text
            body = response.json()
            assert body["field"] == field and body["code"] == "INVALID_PARAMETERS"


async def test_nothing_a_shopper_types_causes_a_500(server: AppServer) -> None:
    weird = ["%00", "\u202e\u202d", "🛍️" * 100, "' OR 1=1 --", "<script>", "saree" * 100,
             "लहंगा", "under under under", "size size", "between 5 and", "₹₹₹", "\\", "a" * 512]
    async with httpx.AsyncClient(timeout=20) as client:
        for q in weird:
            response = await client.get(f"{server.url}/api/products/search", params={"q": q})
            assert response.status_code in (200, 400), (q, response.status_code)


async def test_aza_scores_are_cosine_sorted_and_min_score_holds(server: AppServer) -> None:
    body = {"query": "elegant outfit for a wedding reception", "limit": 10, "min_score": 0.3}
    got = await read_stream(f"{server.url}/aza/search/stream", method="POST", json=body)
    paths = [d.get("path") for d in got.of("progress")]
    assert paths[0] == "semantic"
    final = got.of("results")[-1]
    scores = [p["score"] for p in final["products"]]
    assert scores and scores == sorted(scores, reverse=True)
    assert all(0.3 <= s <= 1.0 for s in scores)
    assert final["score_type"] == "cosine"


async def test_aza_falls_back_to_text_for_skus_and_short_queries(server: AppServer) -> None:
    async with httpx.AsyncClient(timeout=20) as client:
        by_sku = (await client.post(f"{server.url}/aza/search", json={"query": "SS-000042"})).json()
        short = (await client.post(f"{server.url}/aza/search", json={"query": "ka"})).json()
    assert by_sku["path"] == "text" and by_sku["products"][0]["sku"] == "SS-000042"
    assert by_sku["products"][0]["score"] == 1.0
    assert short["path"] == "text"


async def test_aza_filters(server: AppServer) -> None:
    body = {"query": "festive wear", "limit": 20, "filters": {"category": "kurta", "max_price": 5000}}
    async with httpx.AsyncClient(timeout=20) as client:
        result = (await client.post(f"{server.url}/aza/search", json=body)).json()
    assert result["products"]
    assert all(p["category"] == "kurta" and p["price"] <= 5000 for p in result["products"])


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        (b'{"query": 42}', "query"),
        (b'{"query": "saree", "limit": 100}', "limit"),
        (b'{"query": "saree", "filters": "red"}', "filters"),
        (b'{"query": "saree", "filters": {"min_price": -1}}', "filters.min_price"),
        (b'{"query": "saree", "min_score": 2}', "min_score"),
    ],
)
async def test_bad_aza_input(server: AppServer, content: bytes, field: str) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{server.url}/aza/search/stream", content=content, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400 and response.json()["field"] == field


async def test_upsert_and_delete_keep_the_index_current(server: AppServer) -> None:
    product = {"sku": "NEW-1", "title": "Zaffre Quokka Embroidered Potli Bag", "brand": "Testhaus",
               "category": "bags", "price": 1499, "colors": ["blue"], "sizes": ["Free Size"]}
    async with httpx.AsyncClient(timeout=30) as client:
        refused = await client.put(f"{server.url}/api/catalog/products", json={"products": [product]})
        assert refused.status_code == 401
        wrong = await client.put(f"{server.url}/api/catalog/products", json={"products": [product]},
                                 headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        put = await client.put(
            f"{server.url}/api/catalog/products",
            json={"products": [product, {"sku": "", "title": "no sku"}]},
            headers=ADMIN,
        )
        assert put.status_code == 200
        # Row errors name the field as a dotted path (and the row's sku when it has one).
        assert put.json() == {"upserted": 1, "errors": [{"index": 1, "field": "products.1.sku",
                                                         "message": "sku is required"}]}
        found = (await client.get(f"{server.url}/api/products/search", params={"q": "quokka potli"})).json()
        assert found["products"][0]["sku"] == "NEW-1"
        assert found["products"][0]["vector_score"] is not None
        deleted = await client.delete(f"{server.url}/api/catalog/products/NEW-1", headers=ADMIN)
        assert deleted.status_code == 204
        gone = (await client.get(f"{server.url}/api/products/search", params={"q": "quokka potli"})).json()
        assert "NEW-1" not in [p["sku"] for p in gone["products"]]


async def test_products_written_by_another_process_are_picked_up(server: AppServer, mongo_url: str) -> None:
    """An import (another process) writes to the store; the running app indexes it."""
    from app.store.mongo import Store

    store = Store.connect(mongo_url, server.env["MONGODB_DB"], 2000)
    try:
        await store.products.upsert_many([{"sku": "EXT-9", "title": "Vermilion Axolotl Clutch",
                                           "category": "bags", "price": 999}])
    finally:
        await store.close()
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(100):
            result = (await client.get(f"{server.url}/api/products/search", params={"q": "axolotl"})).json()
            if result["products"] and result["products"][0]["sku"] == "EXT-9":
                break
            await asyncio.sleep(0.1)
    assert result["products"][0]["sku"] == "EXT-9"


@pytest.mark.parametrize(("q", "wanted"), [
    ("लाल साड़ी २०००० से कम", {"category": "saree", "color": "red", "max_price": 20000}),
    ("kaale joote", {"category": "shoes", "color": "black"}),
    ("کیف مشکی زیر ۵۰۰۰", {"category": "bags", "color": "black", "max_price": 5000}),
    ("синяя курта", {"category": "kurta", "color": "blue"}),
    ("שמלה שחורה עד 3000", {"category": "dress", "color": "black", "max_price": 3000}),
])
async def test_a_shopper_typing_another_language_finds_the_english_products(
    server: AppServer, catalog: list, q: str, wanted: dict[str, Any]
) -> None:
    """Hindi, romanised Hindi, Persian, Russian and Hebrew on the English demo catalog: every
    product shown, and every one counted, is the kind, colour and budget asked for."""
    final = await final_results(server, q=q, limit=10)
    fits = [p for p in catalog if p["category"] == wanted["category"] and wanted["color"] in p["colors"]
            and p["price"] <= wanted.get("max_price", p["price"])]
    assert final["total"] == len(fits) > 0
    assert [p["sku"] for p in final["products"]] and {p["sku"] for p in final["products"]} <= {p["sku"] for p in fits}
    assert len(final["products"]) == min(10, len(fits))


@pytest.mark.parametrize(("q", "language"), [
    ("लाल साड़ी", "hi"), ("کیف مشکی", "fa"), ("синяя курта", "ru"), ("שמלה שחורה", "he"), ("kaale joote", "en"),
])
async def test_progress_is_written_in_the_query_language(server: AppServer, q: str, language: str) -> None:
    got = await read_stream(f"{server.url}/api/products/search/stream", params={"q": q, "limit": 3})
    messages = [data["message"] for _, kind, data in got.events if kind == "progress"]
    assert len(messages) == 3 and all(detect_language(m) == language for m in messages), messages
