"""The agent's tools: small functions over the catalog and the store documents.

Each tool takes plain arguments (the same ones the agent shows in `progress{step: "tool",
tool, args}`) and returns plain data. The grounded composer and a function-calling model
read the same results, so an answer can only say what a tool returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from app.agent import market
from app.analytics.recorder import Recorder
from app.conversation.documents import document_sources
from app.ingest.context_index import ContextIndex
from app.search.constraints import Filters, relaxations
from app.search.products import card
from app.search.service import SearchService

Product = dict[str, Any]

CARDS = 4
POOL = 60

DESCRIPTIONS: dict[str, str] = {
    "search_catalog": "Find products matching the shopper's words and filters, best first.",
    "market_snapshot": "Price distribution, stock, top brands and best-rated picks of the matching items.",
    "compare_products": "Compare products side by side on price, rating, sizes, colours and stock.",
    "check_stock": "Stock state and listed sizes of given products.",
    "search_documents": "Passages of the store's uploaded documents (policies, size guides) about a question.",
}


@dataclass(frozen=True, slots=True)
class Found:
    """What `search_catalog` returns: cards best first, the filters applied in the end, and
    the filters that had to be dropped to find anything."""

    cards: list[dict[str, Any]]
    filters: Filters
    relaxed: tuple[str, ...] = ()
    total: int = 0
    products: list[Product] = field(default_factory=list)
    query_id: str = ""  # the search as recorded for analytics (empty: not recorded)


async def search_catalog(
    search: SearchService, query: str, filters: Filters, *, asked: Filters = Filters(), k: int = CARDS,
    recorder: Recorder | None = None,
) -> Found:
    """Best matches for the query within the filters. When nothing fits, the closest items
    within the budget: filters are dropped one by one in the one order
    (`app.search.constraints.RELAX_ORDER`), those the shopper named in this message (`asked`)
    last. The budget is never dropped. With a `recorder`, the search is recorded for analytics
    (source `agent`) and `query_id` names it."""
    filters = search.known(filters)  # a value no product carries must not empty the results
    plan = search.plan(query, Filters())
    plan = replace(plan, filters=filters, candidates=search.candidates(filters))
    relaxed: list[str] = []
    found = await search.hybrid(plan, k=POOL)
    for name, narrower in relaxations(filters, asked=asked):
        if found.total:
            break
        filters = narrower
        relaxed.append(name)
        plan = replace(plan, filters=filters, candidates=search.candidates(filters))
        found = await search.hybrid(plan, k=POOL)
    page = search.page(found, k, plan=plan)
    query_id = recorder.search(query, found.total, "agent") if recorder is not None else ""
    return Found([card(p, score=h.score, moves=h.moves) for p, h in page], filters, tuple(relaxed), found.total,
                 [p for p, _ in page], query_id)


def matching(search: SearchService, query: str, filters: Filters) -> list[Product]:
    """The items a market snapshot describes: what the search matches for the query within
    every filter but the budget (`SearchService.matching`), so its counts are the search's."""
    unpriced = replace(search.known(filters), min_price=None, max_price=None, in_stock=None)
    return search.products(search.matching(query, unpriced))


def market_snapshot(search: SearchService, query: str, filters: Filters) -> dict[str, Any]:
    items = matching(search, query, filters)
    figures = market.snapshot(items, max_price=filters.max_price, min_price=filters.min_price)
    asked = replace(filters, min_price=None, max_price=None).as_dict()
    return {"filters": asked, **figures}


def compare_products(search: SearchService, skus: list[str]) -> dict[str, Any]:
    products = search.products(skus)
    rows = [
        {
            "sku": p["sku"],
            "title": p.get("title"),
            "brand": p.get("brand"),
            "price": p.get("price"),
            "rating": p.get("rating"),
            "in_stock": p.get("in_stock", True),
            "sizes": list(p.get("sizes") or []),
            "colors": list(p.get("colors") or []),
            "fabric": (p.get("attributes") or {}).get("fabric"),
            "occasion": (p.get("attributes") or {}).get("occasion"),
        }
        for p in products
    ]
    out: dict[str, Any] = {"products": rows}
    priced = [r for r in rows if isinstance(r["price"], (int, float))]
    if len(priced) >= 2:
        cheap = min(priced, key=lambda r: r["price"])
        dear = max(priced, key=lambda r: r["price"])
        out["cheaper"] = {"sku": cheap["sku"], "by": dear["price"] - cheap["price"]}
    rated = [r for r in rows if isinstance(r["rating"], (int, float))]
    if len(rated) >= 2 and len({r["rating"] for r in rated}) > 1:
        out["higher_rated"] = max(rated, key=lambda r: r["rating"])["sku"]
    return out


def check_stock(search: SearchService, skus: list[str], size: str | None = None) -> list[dict[str, Any]]:
    """What the catalog holds: an in-stock flag per product and the sizes it is listed in.
    There is no per-size stock count, and the answer says so."""
    out = []
    for p in search.products(skus):
        sizes = list(p.get("sizes") or [])
        row: dict[str, Any] = {"sku": p["sku"], "title": p.get("title"), "in_stock": p.get("in_stock", True),
                               "sizes": sizes}
        if size is not None:
            row["size"] = size
            row["size_listed"] = size.lower() in {s.lower() for s in sizes}
        out.append(row)
    return out


async def search_documents(documents: ContextIndex | None, query: str, limit: int = 4) -> list[dict[str, Any]]:
    return await document_sources(documents, query, limit)
