"""Synonyms and merchandising rules end to end: the admin routes over real HTTP, each rule type
seen in product search (stream, JSON twin, later pages), Aza and the MCP/agent catalog search,
and a second instance on the same database applying them within SEARCH_SYNC_S."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.support.server import AppServer, isolated_env, wait_for_search
from tests.support.sse import read_stream
from tests.support.wait import eventually

TOKEN = "merch-admin"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
CATALOG = 400


@pytest.fixture(scope="module")
def apps(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServer, AppServer]]:
    folder = tmp_path_factory.mktemp("merch")
    env = isolated_env(mongo_url, folder, "merch", DEMO_CATALOG_SIZE=str(CATALOG), ADMIN_TOKEN=TOKEN,
                       SEARCH_SYNC_S="0.2", STREAMING_RATE_LIMIT="100000")
    with AppServer(env, log_dir=folder / "a") as first, AppServer(env, log_dir=folder / "b") as second:
        wait_for_search(first, min_vectors=0)
        wait_for_search(second, min_vectors=0)
        yield first, second


@pytest.fixture
async def client(apps: tuple[AppServer, AppServer]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=apps[0].url, timeout=30) as c:
        yield c
        listed = (await c.get("/api/merchandising", headers=ADMIN)).json()  # each test starts clean
        for kind in ("synonyms", "rules"):
            for item in listed[kind]:
                assert (await c.delete(f"/api/merchandising/{kind}/{item['id']}", headers=ADMIN)).status_code == 204


async def search(client: httpx.AsyncClient, q: str, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/products/search", params={"q": q, "limit": 10, **params})
    assert response.status_code == 200, response.text
    return response.json()


def skus(found: dict[str, Any]) -> list[str]:
    return [p["sku"] for p in found["products"]]


async def put(client: httpx.AsyncClient, kind: str, item_id: str, body: dict[str, Any]) -> None:
    response = await client.put(f"/api/merchandising/{kind}/{item_id}", json=body, headers=ADMIN)
    assert response.status_code in (200, 201), response.text


async def test_the_admin_routes_store_list_replace_and_delete(client: httpx.AsyncClient) -> None:
    created = await client.put("/api/merchandising/synonyms/tee", json={"terms": ["tee", "t-shirt"]}, headers=ADMIN)
    replaced = await client.put("/api/merchandising/synonyms/tee", json={"terms": ["tee", "tshirt"]}, headers=ADMIN)
    assert (created.status_code, replaced.status_code) == (201, 200)
    listed = (await client.get("/api/merchandising", headers=ADMIN)).json()
    assert listed["synonyms"] == [{"id": "tee", "terms": ["tee", "tshirt"], "one_way": False}]
    assert (await client.delete("/api/merchandising/synonyms/tee", headers=ADMIN)).status_code == 204
    gone = await client.delete("/api/merchandising/synonyms/tee", headers=ADMIN)
    assert gone.status_code == 404 and gone.json()["field"] == "id"


@pytest.mark.parametrize(("path", "body", "field"), [
    ("synonyms/x", {"terms": ["only one"]}, "terms"),
    ("synonyms/bad id!", {"terms": ["a", "b"]}, "id"),
    ("rules/r", {"query": "kurta"}, "body"),  # does nothing
    ("rules/r", {"pins": [{"sku": "SS-000001", "position": 0}]}, "pins.0.position"),
    ("rules/r", {"boosts": [{"field": "price", "value": "1", "weight": 1}]}, "boosts.0"),
    ("rules/r", {"hide": ["x"], "match": "fuzzy"}, "match"),
])
async def test_bad_bodies_are_refused_naming_the_field(client: httpx.AsyncClient, path: str, body: dict[str, Any],
                                                      field: str) -> None:
    response = await client.put(f"/api/merchandising/{path}", json=body, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


async def test_only_an_admin_may(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/merchandising")).status_code == 401
    refused = await client.put("/api/merchandising/rules/r", json={"hide": ["x"]},
                               headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 403


async def test_a_two_way_synonym_finds_the_other_word(client: httpx.AsyncClient) -> None:
    assert (await search(client, "zorblax"))["total"] == 0
    await put(client, "synonyms", "zorblax", {"terms": ["zorblax", "saree"]})
    found = await search(client, "zorblax")
    assert found["total"] > 0 and all(p["category"] == "saree" for p in found["products"][:5])


async def test_a_one_way_synonym_does_not_go_back(client: httpx.AsyncClient) -> None:
    before = await search(client, "saree")
    await put(client, "synonyms", "plinth", {"terms": ["plinth", "saree"], "one_way": True})
    assert (await search(client, "plinth"))["total"] > 0
    assert skus(await search(client, "saree")) == skus(before)


async def test_pin_puts_a_product_first_everywhere_and_says_so(client: httpx.AsyncClient) -> None:
    other = (await search(client, "saree"))["products"][0]["sku"]  # not a kurta
    await put(client, "rules", "kurta-pin", {"query": "kurta", "pins": [{"sku": other, "position": 1}]})
    found = await search(client, "kurta")
    assert skus(found)[0] == other
    assert found["products"][0]["merchandised"] == [{"rule": "kurta-pin", "action": "pin"}]
    assert all("merchandised" not in p for p in found["products"][1:])
    streamed = await read_stream(f"{client.base_url}/api/products/search/stream", params={"q": "kurta", "limit": 10})
    assert [p["sku"] for p in streamed.of("results")[-1]["products"]][0] == other
    aza = (await client.post("/aza/search", json={"query": "kurta", "limit": 5})).json()
    assert skus(aza)[0] == other and aza["products"][0]["merchandised"][0]["action"] == "pin"
    # another query, or a pin outside the shopper's filter: untouched
    assert other not in skus(await search(client, "kurta", category="kurta"))
    assert other not in skus(await search(client, "cotton kurta"))


async def test_hide_takes_a_product_out_of_every_stage_and_page(client: httpx.AsyncClient) -> None:
    before = await search(client, "kurta", limit=5)
    hidden = skus(before)[0]
    await put(client, "rules", "kurta-hide", {"query": "kurta", "match": "contains", "hide": [hidden]})
    streamed = await read_stream(f"{client.base_url}/api/products/search/stream", params={"q": "kurta", "limit": 5})
    shown = [p["sku"] for r in streamed.of("results") for p in r["products"]]
    assert shown and hidden not in shown
    pages = [await search(client, "blue kurta", limit=5)]
    while pages[-1]["next_cursor"] and len(pages) < 30:
        pages.append(await search(client, "blue kurta", limit=5, cursor=pages[-1]["next_cursor"]))
    assert hidden not in [sku for page in pages for sku in skus(page)]
    aza = (await client.post("/aza/search", json={"query": "kurta", "limit": 50})).json()
    assert hidden not in skus(aza)


async def test_boost_and_bury_by_attribute_within_a_filter(client: httpx.AsyncClient) -> None:
    before = await search(client, "kurta", category="kurta", limit=20)
    brands = [p["brand"] for p in before["products"]]
    favoured = brands[-1]  # a brand the ranking puts low
    await put(client, "rules", "brand-up", {"filters": {"category": "kurta"},
                                             "boosts": [{"field": "brand", "value": favoured, "weight": 50}]})
    after = await search(client, "kurta", category="kurta", limit=20)
    assert after["products"][0]["brand"] == favoured
    assert {"rule": "brand-up", "action": "boost"} in after["products"][0]["merchandised"]
    await put(client, "rules", "brand-up", {"filters": {"category": "kurta"},
                                             "boosts": [{"field": "brand", "value": brands[0], "weight": -50}]})
    buried = await search(client, "kurta", category="kurta", limit=20)
    assert buried["products"][0]["brand"] != brands[0]
    # a sort the shopper chose is theirs
    by_price = await search(client, "kurta", category="kurta", sort="price_asc")
    prices = [p["price"] for p in by_price["products"]]
    assert prices == sorted(prices) and all("merchandised" not in p for p in by_price["products"])


async def test_another_instance_applies_them_within_the_sync(apps: tuple[AppServer, AppServer],
                                                            client: httpx.AsyncClient) -> None:
    other = (await search(client, "saree"))["products"][0]["sku"]
    await put(client, "rules", "synced", {"query": "dupatta", "pins": [{"sku": other, "position": 1}]})
    async with httpx.AsyncClient(base_url=apps[1].url, timeout=30) as second:
        async def pinned() -> bool:
            return skus(await search(second, "dupatta"))[0] == other
        await eventually(pinned, timeout=20, what="the second instance pins it")
        await client.delete("/api/merchandising/rules/synced", headers=ADMIN)

        async def unpinned() -> bool:
            return skus(await search(second, "dupatta"))[0] != other
        await eventually(unpinned, timeout=20, what="the second instance lets it go")

