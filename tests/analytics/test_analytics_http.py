"""Search analytics over real HTTP: every search answers with a `query_id`, shopper events are
accepted (202), refused whole with the field named, capped per batch and rate limited on a
budget of their own, and the admin report's figures are those of the searches run and the
events posted here."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.server import AppServer, isolated_env, wait_for_search
from tests.support.sse import read_stream
from tests.support.wait import eventually

ADMIN = {"Authorization": "Bearer test-admin-token"}
BATCH_MAX = 5
EVENTS_BUDGET = 40


@pytest.fixture(scope="module")
def server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    log_dir = tmp_path_factory.mktemp("analytics")
    env = isolated_env(
        mongo_url, log_dir, "analytics", catalog=300, SEARCH_EMBEDDINGS="false", STREAMING_RATE_LIMIT="1000",
        ADMIN_TOKEN="test-admin-token", ANALYTICS_BATCH_MAX=str(BATCH_MAX), ANALYTICS_RATE_LIMIT=str(EVENTS_BUDGET),
        ANALYTICS_FLUSH_MS="100",
    )
    with AppServer(env, log_dir=log_dir) as app:
        wait_for_search(app, min_vectors=0)
        yield app


def event(query_id: str, kind: str = "click", sku: str = "SKU-1", position: int = 1) -> dict[str, Any]:
    return {"type": kind, "query_id": query_id, "sku": sku, "position": position}


async def post(server: AppServer, body: Any, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(f"{server.url}/api/events", json=body, headers=headers)


async def report(server: AppServer, **params: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(f"{server.url}/api/analytics/search", params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


async def settled_report(server: AppServer, **params: Any) -> dict[str, Any]:
    """The report once what earlier tests recorded is written: two reads three flush periods
    apart agree (the writer holds records up to ANALYTICS_FLUSH_MS; nothing outside the app
    says how many are still buffered)."""
    last = await report(server, **params)
    for _ in range(50):
        await asyncio.sleep(0.3)
        now = await report(server, **params)
        if now == last:
            return now
        last = now
    raise AssertionError("the report kept changing")


async def test_every_search_answers_with_a_query_id(server: AppServer) -> None:
    got = await read_stream(f"{server.url}/api/products/search/stream", params={"q": "silk saree", "limit": 3})
    ids = {r["query_id"] for r in got.of("results")}
    assert len(got.of("results")) == 2 and len(ids) == 1  # early and final: one search, one id
    async with httpx.AsyncClient(timeout=15) as client:
        twin = (await client.get(f"{server.url}/api/products/search", params={"q": "silk saree"})).json()
        aza = (await client.post(f"{server.url}/aza/search", json={"query": "silk saree"})).json()
    assert len({twin["query_id"], aza["query_id"], *ids}) == 3
    assert all(len(i) == 32 for i in (twin["query_id"], aza["query_id"]))


async def test_bad_events_are_refused_naming_the_field(server: AppServer) -> None:
    good = event("a" * 32)
    cases = [
        ({**good, "type": "hover"}, "type"),
        ({**good, "query_id": "not-an-id"}, "query_id"),
        ({**good, "position": 0}, "position"),
        ({**good, "position": "3"}, "position"),
        ({**good, "sku": ""}, "sku"),
        ({k: v for k, v in good.items() if k != "sku"}, "sku"),
        ({**good, "extra": 1}, "extra"),
        ({"events": [good, {**good, "position": -1}]}, "events.1.position"),
        ({"events": []}, "events"),
        ({"events": [good] * (BATCH_MAX + 1)}, "events"),
        ([good], "body"),
    ]
    for body, field in cases:
        response = await post(server, body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["field"] == field, (body, response.json())
    async with httpx.AsyncClient(timeout=10) as client:
        form = await client.post(f"{server.url}/api/events", content=b"type=click")
        broken = await client.post(f"{server.url}/api/events", content=b"{", headers={"Content-Type": "application/json"})
    assert form.status_code == 415 and broken.status_code == 400 and broken.json()["field"] == "body"


async def test_report_counts_the_searches_and_events_posted(server: AppServer) -> None:
    async with httpx.AsyncClient(timeout=15) as client:
        async def search(q: str) -> dict[str, Any]:
            return (await client.get(f"{server.url}/api/products/search", params={"q": q, "limit": 5})).json()

        # Not `report`: an earlier test's searches written after it was read would count as these.
        before = await settled_report(server, days=1)
        hits = [await search("Red   SILK saree") for _ in range(3)]  # one query, spelt three ways below
        hits.append(await search("red silk SAREE"))
        nothing = [await search("zzqqxx nothingness") for _ in range(2)]
    assert all(h["total"] > 0 for h in hits) and all(n["total"] == 0 for n in nothing)
    a, b, c, d = (h["query_id"] for h in hits)
    sku = hits[0]["products"][0]["sku"]
    events = [
        event(a, "view", sku, 1), event(a, "view", sku, 2), event(a, "click", sku, 2), event(a, "click", sku, 4),
        event(b, "click", sku, 3), event(b, "add_to_cart", sku, 3),
        event(c, "purchase", sku, 1),
        event(d, "view", sku, 1),
    ]
    for start in range(0, len(events), BATCH_MAX):
        response = await post(server, {"events": events[start:start + BATCH_MAX]})
        assert response.status_code == 202 and response.json() == {"accepted": len(events[start:start + BATCH_MAX])}

    def top(doc: dict[str, Any], query: str) -> int:
        return next((row["count"] for row in doc["top_queries"] if row["query"] == query), 0)

    def done(doc: dict[str, Any]) -> bool:
        # Every figure asserted below, top queries too: the report's pipelines run one after
        # another while the writer inserts, so one read can count a bulk in its totals that
        # its top queries, read just before, missed (twice in full suite runs).
        return doc["totals"]["searches"] == before["totals"]["searches"] + 6 and \
            doc["totals"]["clicks"] == before["totals"]["clicks"] + 3 and \
            doc["totals"]["converted_searches"] == before["totals"]["converted_searches"] + 2 and \
            top(doc, "red silk saree") == top(before, "red silk saree") + 4

    after = await eventually(lambda: _if(report(server, days=1), done), timeout=20, what="the events are written")
    totals = after["totals"]
    old = before["totals"]
    searches = old["searches"] + 6
    assert totals["no_results"] == old["no_results"] + 2
    assert totals["clicked_searches"] == old["clicked_searches"] + 2  # a and b
    assert totals["click_through_rate"] == round(totals["clicked_searches"] / searches, 4)
    assert totals["conversion_rate"] == round(totals["converted_searches"] / searches, 4)
    if old["clicks"] == 0:
        assert totals["mean_click_position"] == 3.0  # clicks at 2, 4 and 3
    empty = {row["query"]: row for row in after["no_result_queries"]}
    assert empty["zzqqxx nothingness"]["mean_results"] == 0
    today = after["days"][-1]
    assert len(after["days"]) == 1 and today["searches"] == searches and today["clicks"] == totals["clicks"]
    week = await report(server, days=7)
    assert len(week["days"]) == 7 and week["days"][-1] == today and week["totals"]["searches"] >= searches


async def _if(pending: Any, condition: Any) -> Any:
    doc = await pending
    return doc if condition(doc) else None


async def test_report_is_admin_only(server: AppServer) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        anonymous = await client.get(f"{server.url}/api/analytics/search")
        wrong = await client.get(f"{server.url}/api/analytics/search", headers={"Authorization": "Bearer nope"})
        bad_days = await client.get(f"{server.url}/api/analytics/search", params={"days": 0}, headers=ADMIN)
    assert anonymous.status_code == 401 and wrong.status_code == 403
    assert bad_days.status_code == 400 and bad_days.json()["field"] == "days"


async def test_events_have_their_own_budget(server: AppServer) -> None:
    """A batch costs one request of the events budget; spending it leaves the search budget
    whole (the search after the 429 still answers)."""
    body = {"events": [event("b" * 32, "view", "SKU-9", n) for n in range(1, BATCH_MAX + 1)]}
    statuses = []
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(EVENTS_BUDGET + 1):
            response = await client.post(f"{server.url}/api/events", json=body)
            statuses.append(response.status_code)
            if response.status_code == 429:
                break
        search = await client.get(f"{server.url}/api/products/search", params={"q": "saree"})
    assert statuses[-1] == 429 and set(statuses[:-1]) == {202}, statuses
    assert response.json()["code"] == "RATE_LIMITED" and int(response.headers["Retry-After"]) >= 1
    assert search.status_code == 200
    assert int(search.headers["X-RateLimit-Remaining"]) > 900
