"""Product search and Aza semantic search: two streaming endpoints and their JSON twins.

    GET  /api/products/search/stream   hybrid (BM25 + vectors, fused), with early text results
    POST /aza/search/stream            semantic: cosine `score` on every product

Filters come from parameters AND from the query text ("red silk lehenga under 20000 size M");
a field given as a parameter wins over the same field read from the text.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from app.errors import BadRequest
from app.platform import Platform
from app.routes import params
from app.search.products import SORTS, Filters, card
from app.search.service import POOL, VECTOR_FLOOR, SearchService, top
from app.streams import events as ev
from app.streams.endpoint import StreamEndpoint, stream_routes
from app.streams.engine import StreamContext
from app.streams.events import Event

MAX_QUERY = 512
MAX_LIMIT = 50
_SKU_LIKE = re.compile(r"^[A-Za-z]{1,6}[-_ ]?\d{2,}[A-Za-z0-9-]*$")


def _service(request: Request) -> SearchService:
    platform: Platform = request.app.state.platform
    service = platform.search
    if service is None or not service.ready:
        raise BadRequest(
            "The search index is still being built; try again in a few seconds",
            status=503,
            code="SEARCH_NOT_READY",
            headers={"Retry-After": "5"},
        )
    return service


def _filters(source: Mapping[str, Any], prefix: str = "") -> Filters:
    """Filters from a query string, or from a JSON `filters` object (`prefix="filters."`,
    so an error names `filters.min_price`)."""

    def name(field: str) -> str:
        return prefix + field

    view = {prefix + k: v for k, v in source.items()} if prefix else source
    min_price = params.number(view, name("min_price"))
    max_price = params.number(view, name("max_price"))
    if min_price is not None and max_price is not None and min_price > max_price:
        raise BadRequest("min_price must not be greater than max_price", field=name("min_price"))
    colors = params.words(view, name("color")) or params.words(view, name("colors"))
    sizes = params.words(view, name("size")) or params.words(view, name("sizes"))
    return Filters(
        category=params.text(view, name("category"), max_len=64, required=False) or None,
        brand=params.text(view, name("brand"), max_len=64, required=False) or None,
        colors=colors,
        sizes=sizes,
        min_price=min_price,
        max_price=max_price,
        in_stock=params.boolean(view, name("in_stock")),
    )


# -- GET /api/products/search/stream -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchParams:
    q: str
    limit: int
    sort: str
    filters: Filters
    service: SearchService


async def parse_search(request: Request) -> SearchParams:
    query = request.query_params
    q = params.text(query, "q", max_len=MAX_QUERY)
    limit = params.integer(query, "limit", default=20, low=1, high=MAX_LIMIT)
    sort = params.choice(query, "sort", SORTS, "relevance")
    filters = _filters(query)
    return SearchParams(q, limit, sort, filters, _service(request))


async def search_events(p: SearchParams, ctx: StreamContext) -> AsyncIterator[Event]:
    service = p.service
    plan = service.plan(p.q, p.filters)
    parsed, filters, ranking, candidates = plan.parsed, plan.filters, plan.ranking, plan.candidates

    scores = service.word_matches(ranking, candidates)
    text_hits = top(scores, POOL)
    yield ev.progress("text_search", f"{len(scores)} products match the words", count=len(scores))
    if text_hits:
        early = service.products(sku for sku, _ in text_hits[: p.limit])
        yield ev.results(
            "product_cards",
            stage="text",
            products=[card(prod, text_score=scores[prod["sku"]]) for prod in early],
            total=len(scores),
        )

    vector_hits = await service.vector_search(ranking, candidates, POOL)
    if vector_hits is None:
        yield ev.progress("vector_search", "Semantic ranking unavailable; words only", count=0, available=False)
        vector_hits = []
    else:
        vector_hits = [(sku, s) for sku, s in vector_hits if s >= VECTOR_FLOOR]
        yield ev.progress("vector_search", f"Ranked by meaning too: the {len(vector_hits)} nearest",
                          count=len(vector_hits))

    found = service.fuse(plan, scores, vector_hits)
    yield ev.progress("filters", f"{found.total} products after filters", count=found.total,
                      filters=filters.as_dict())
    yield ev.results(
        "product_cards",
        stage="final",
        products=[
            card(prod, score=h.score, text_score=h.text_score, vector_score=h.vector_score)
            for prod, h in service.page(found, p.limit, p.sort)
        ],
        total=found.total,
        facets=service.facets(found),
        query={"q": p.q, "residual": parsed.residual, "filters": filters.as_dict(), "sort": p.sort},
    )
    yield ev.complete(total=found.total)


def _shape_search(doc: dict[str, Any]) -> dict[str, Any]:
    """The JSON twin returns the final payload (and the fold's status/error)."""
    final = doc["results"].get("product_cards", {})
    out = {"status": doc["status"], **final}
    for key in ("error", "complete", "stream_id"):
        if key in doc:
            out[key] = doc[key]
    return out


_SEARCH_PARAMETERS = (
    {"name": "q", "in": "query", "required": True, "schema": {"type": "string", "maxLength": MAX_QUERY}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 20}},
    {"name": "category", "in": "query", "schema": {"type": "string"}},
    {"name": "brand", "in": "query", "schema": {"type": "string"}},
    {"name": "color", "in": "query", "schema": {"type": "string"}, "description": "comma-separated"},
    {"name": "size", "in": "query", "schema": {"type": "string"}, "description": "comma-separated"},
    {"name": "min_price", "in": "query", "schema": {"type": "number", "minimum": 0}},
    {"name": "max_price", "in": "query", "schema": {"type": "number", "minimum": 0}},
    {"name": "in_stock", "in": "query", "schema": {"type": "boolean"}},
    {"name": "sort", "in": "query", "schema": {"enum": list(SORTS), "default": "relevance"}},
)

SEARCH = StreamEndpoint(
    "search",
    parse_search,
    search_events,
    shape=_shape_search,
    context=lambda p: {"query": p.q},
    summary="Hybrid product search with early results",
    parameters=_SEARCH_PARAMETERS,
    events=("connected", "progress:text_search", "results:product_cards(stage=text)",
            "progress:vector_search", "progress:filters", "results:product_cards(stage=final)",
            "complete", "close"),
)


# -- POST /aza/search/stream ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AzaParams:
    query: str
    limit: int
    min_score: float
    filters: Filters
    service: SearchService


async def parse_aza(request: Request) -> AzaParams:
    body = await params.json_object(request)
    query = params.text(body, "query", max_len=MAX_QUERY)
    limit = params.integer(body, "limit", default=10, low=1, high=MAX_LIMIT)
    min_score = params.number(body, "min_score", low=-1.0, high=1.0)
    raw_filters = body.get("filters") or {}
    if not isinstance(raw_filters, dict):
        raise BadRequest("filters must be an object", field="filters")
    filters = _filters(raw_filters, prefix="filters.") if raw_filters else Filters()
    return AzaParams(query, limit, 0.0 if min_score is None else min_score, filters, _service(request))


def _text_path_reason(p: AzaParams) -> str | None:
    q = p.query.strip()
    if _SKU_LIKE.match(q):
        return "the query looks like a SKU"
    if len(q) < 3:
        return "the query is too short for semantic search"
    if not p.service.vectors_ready:
        return "the embedding model is unavailable"
    return None


async def aza_events(p: AzaParams, ctx: StreamContext) -> AsyncIterator[Event]:
    """`total` counts every product at or above `min_score` (cosine on the semantic path, the
    normalised BM25 score on the text path), not only those ranked for the page."""
    service = p.service
    candidates = service.candidates(p.filters)
    reason = _text_path_reason(p)
    scored: list[tuple[str, float]]
    if reason is None:
        yield ev.progress("semantic_search", "Embedding the query", path="semantic")
        scored, total = await service.similar(p.query, candidates, p.limit, p.min_score) or ([], 0)
        yield ev.progress("vector_search", f"{total} products at or above min_score",
                          count=total, path="semantic")
    else:
        yield ev.progress("text_fallback", f"Text search: {reason}", path="text", reason=reason)
        scored, total = _text_path(p, candidates)
        yield ev.progress("text_search", f"{total} products match", count=total, path="text")
    products = service.products(sku for sku, _ in scored)
    scores = dict(scored)
    yield ev.results(
        "product_cards",
        stage="final",
        path="semantic" if reason is None else "text",
        score_type="cosine" if reason is None else "text",
        products=[card(prod, score=scores[prod["sku"]]) for prod in products],
        total=total,
    )
    yield ev.complete(total=total)


def _text_path(p: AzaParams, candidates: set[str] | None) -> tuple[list[tuple[str, float]], int]:
    """The best `limit` (sku, score) at or above min_score and how many there are: an exact
    SKU scores 1.0 alone; otherwise BM25 normalised by the best score, over every word match."""
    service = p.service
    exact = service.table.get(p.query.strip().upper()) or service.table.get(p.query.strip())
    if exact is not None and (candidates is None or exact["sku"] in candidates):
        return ([(exact["sku"], 1.0)], 1) if p.min_score <= 1.0 else ([], 0)
    scores = service.word_matches(p.query, candidates)
    best = max(scores.values(), default=1.0)
    normalised = {sku: s / best for sku, s in scores.items() if s / best >= p.min_score}
    return top(normalised, p.limit), len(normalised)


AZA = StreamEndpoint(
    "aza",
    parse_aza,
    aza_events,
    shape=_shape_search,
    context=lambda p: {"query": p.query},
    summary="Aza semantic search: cosine similarity score on every product",
    request_body={
        "type": "object",
        "required": ["query"],
        "properties": {
            "query": {"type": "string", "maxLength": MAX_QUERY},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 10},
            "min_score": {"type": "number", "minimum": -1, "maximum": 1, "default": 0},
            "filters": {
                "type": "object",
                "properties": {
                    "category": {"type": "string"}, "brand": {"type": "string"},
                    "colors": {"type": "array", "items": {"type": "string"}},
                    "sizes": {"type": "array", "items": {"type": "string"}},
                    "min_price": {"type": "number"}, "max_price": {"type": "number"},
                    "in_stock": {"type": "boolean"},
                },
            },
        },
    },
    events=("connected", "progress:semantic_search|text_fallback", "progress:vector_search|text_search",
            "results:product_cards", "complete", "close"),
)


def routes(platform: Platform) -> list[Route]:
    return [
        *stream_routes(SEARCH, platform, stream_path="/api/products/search/stream",
                       json_path="/api/products/search", methods=["GET"]),
        *stream_routes(AZA, platform, stream_path="/aza/search/stream",
                       json_path="/aza/search", methods=["POST"]),
    ]
