"""The search analytics report, as a merchant coming from Algolia reads it: top queries,
queries without results, click-through rate, conversion rate and mean click position, for the
whole period and per day.

- click-through rate: searches with at least one click / searches;
- conversion rate: searches with at least one add-to-cart or purchase / searches;
- mean click position: the mean `position` (from 1) of the clicks.

Each figure is a MongoDB aggregation (app/store/repositories.py: `SearchLog`, `ShopperEvents`)
written with stages nx-27017 runs as SQL (one `$match` on equalities and a range, `$group` on one
field); this module only puts their rows together. An event counts on its own day, a search on
its own: a click just after midnight on a search just before counts on the later day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.search.clicks import Impression
from app.store.mongo import Store

Doc = dict[str, Any]


def period_start(days: int, today: datetime | None = None) -> datetime:
    """Midnight UTC `days - 1` days before today: `days=1` is today alone."""
    today = today or datetime.now(UTC)
    midnight = today.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=days - 1)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _by_day(rows: list[Doc]) -> dict[str, Doc]:
    return {row["_id"]: row for row in rows if isinstance(row.get("_id"), str)}


async def search_report(store: Store, days: int, top: int) -> Doc:
    since = period_start(days)
    first = since.strftime("%Y-%m-%d")
    searches, events = store.searches, store.shopper_events
    top_queries = await searches.top(first, top)
    no_results = await searches.top(first, top, no_results=True)
    per_day = _by_day(await searches.per_day(first))
    empty_per_day = _by_day(await searches.per_day(first, no_results=True))
    clicked = _by_day(await events.searches_per_day(first, "click"))
    converted = _by_day(await events.searches_per_day(first, "conversion"))
    clicks = _by_day(await events.clicks_per_day(first))

    days_out: list[Doc] = []
    for offset in range(days):
        day = (since + timedelta(days=offset)).strftime("%Y-%m-%d")
        n = int(per_day.get(day, {}).get("count", 0))
        click_row = clicks.get(day, {})
        days_out.append({
            "day": day,
            "searches": n,
            "no_results": int(empty_per_day.get(day, {}).get("count", 0)),
            "clicked_searches": int(clicked.get(day, {}).get("count", 0)),
            "converted_searches": int(converted.get(day, {}).get("count", 0)),
            "clicks": int(click_row.get("count", 0)),
            "mean_click_position": _round(click_row.get("position")),
        })
    for row in days_out:
        row["click_through_rate"] = _rate(row["clicked_searches"], row["searches"])
        row["conversion_rate"] = _rate(row["converted_searches"], row["searches"])
        row["no_result_rate"] = _rate(row["no_results"], row["searches"])

    total = sum(r["searches"] for r in days_out)
    total_clicks = sum(r["clicks"] for r in days_out)
    position_sum = sum(int(r["count"]) * float(r.get("position") or 0) for r in clicks.values())
    totals: Doc = {
        "searches": total,
        "no_results": sum(r["no_results"] for r in days_out),
        "clicked_searches": sum(r["clicked_searches"] for r in days_out),
        "converted_searches": sum(r["converted_searches"] for r in days_out),
        "clicks": total_clicks,
        "mean_click_position": _round(position_sum / total_clicks) if total_clicks else None,
    }
    totals["click_through_rate"] = _rate(totals["clicked_searches"], total)
    totals["conversion_rate"] = _rate(totals["converted_searches"], total)
    totals["no_result_rate"] = _rate(totals["no_results"], total)
    return {
        "period": {"days": days, "since": since.strftime("%Y-%m-%d")},
        "totals": totals,
        "top_queries": [_query(row) for row in top_queries],
        "no_result_queries": [_query(row) for row in no_results],
        "days": days_out,
    }


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def _query(row: Doc) -> Doc:
    return {"query": str(row["_id"]), "count": int(row["count"]), "mean_results": _round(row.get("results"))}


async def popular_searches(store: Store, days: int, limit: int) -> dict[str, int]:
    """The `limit` queries searched most in the last `days` that found something, with how
    often: what the suggestions offer a shopper who starts typing them."""
    rows = await store.searches.top(period_start(days).strftime("%Y-%m-%d"), limit)
    return {str(row["_id"]): int(row["count"]) for row in rows if (row.get("results") or 0) > 0}


async def impressions(store: Store, days: int, limit: int) -> list[Impression]:
    """What shoppers were shown and clicked in the last `days` (the newest `limit` views), as
    click learning reads it (app/search/clicks.py): each view of a recorded search, clicked or not."""
    since = period_start(days).strftime("%Y-%m-%d")
    views = await store.shopper_events.of_step(since, "view", limit)
    clicked = {(e["query_id"], e["sku"]) for e in await store.shopper_events.of_step(since, "click", limit)}
    queries = await store.searches.queries(e["query_id"] for e in views)
    return [Impression(queries[e["query_id"]], e["query_id"], e["sku"], int(e["position"]),
                       (e["query_id"], e["sku"]) in clicked)
            for e in views if e.get("query_id") in queries]
