"""Product search and Aza semantic search: two streaming endpoints and their JSON twins.

    GET  /api/products/search/stream   hybrid (BM25 + vectors, fused), with early text results
    POST /aza/search/stream            semantic: cosine `score` on every product

Filters come from parameters AND from the query text ("red silk lehenga under 20000 size M");
a field given as a parameter wins over the same field read from the text.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, TypeVar

from pydantic import Field
from starlette.requests import Request
from starlette.routing import Route

from app.contracts.fields import Flag, Num, OpenContract, QBool, QChoice, QInt, QNum, QueryContract, QWords, Text, Words
from app.contracts.fields import Int, example
from app.errors import BadRequest
from app.search.constraints import Filters
from app.search.products import SORTS, card
from app.search.service import POOL, VECTOR_FLOOR, SearchService, top
from app.streams import events as ev
from app.streams.endpoint import StreamEndpoint, stream_routes
from app.streams.engine import StreamContext
from app.streams.events import Event
from app.streams.fold import SearchAnswer, results_answer
from app.streams.services import StreamServices

P = TypeVar("P")

MAX_QUERY = 512
MAX_LIMIT = 50
_SKU_LIKE = re.compile(r"^[A-Za-z]{1,6}[-_ ]?\d{2,}[A-Za-z0-9-]*$")


def _ready(service: SearchService) -> SearchService:
    if not service.ready:
        raise BadRequest(
            "The search index is still being built; try again in a few seconds",
            status=503,
            code="SEARCH_NOT_READY",
            headers={"Retry-After": "5"},
        )
    return service


def _price_range(min_price: float | None, max_price: float | None, field: str) -> None:
    if min_price is not None and max_price is not None and min_price > max_price:
        raise BadRequest("min_price must not be greater than max_price", field=field)


# -- the contracts ------------------------------------------------------------------------------

MAX_PRICE = 1e12


class SearchQuery(QueryContract):
    """`GET /api/products/search[/stream]` parameters. A filter given here wins over the same
    filter read from `q`."""

    model_config = example(q="red lehenga", limit=5)

    q: Annotated[str, Text(MAX_QUERY, min_len=1, description="what the shopper typed; filters are read from it too")]
    limit: Annotated[int, QInt(1, MAX_LIMIT, description="products on the page")] = 20
    sort: Annotated[str, QChoice(SORTS)] = "relevance"
    category: Annotated[str, Text(64, min_len=1)] | None = None
    brand: Annotated[str, Text(64, min_len=1)] | None = None
    color: QWords | None = Field(default=None, description="comma-separated")
    colors: QWords | None = Field(default=None, description="the same as `color`")
    size: QWords | None = Field(default=None, description="comma-separated")
    sizes: QWords | None = Field(default=None, description="the same as `size`")
    min_price: Annotated[float, QNum(0, MAX_PRICE, description="rupees")] | None = None
    max_price: Annotated[float, QNum(0, MAX_PRICE, description="rupees")] | None = None
    in_stock: QBool | None = None

    def filters(self) -> Filters:
        _price_range(self.min_price, self.max_price, "min_price")
        return Filters(category=self.category, brand=self.brand, colors=tuple(self.color or self.colors or ()),
                       sizes=tuple(self.size or self.sizes or ()), min_price=self.min_price,
                       max_price=self.max_price, in_stock=self.in_stock)


class AzaFilters(OpenContract):
    """Filters of an Aza query (unknown keys are ignored)."""

    category: Annotated[str, Text(64)] | None = None
    brand: Annotated[str, Text(64)] | None = None
    colors: Words | None = None
    color: Words | None = Field(default=None, description="the same as `colors`")
    sizes: Words | None = None
    size: Words | None = Field(default=None, description="the same as `sizes`")
    min_price: Annotated[float, Num(0, MAX_PRICE, description="rupees")] | None = None
    max_price: Annotated[float, Num(0, MAX_PRICE, description="rupees")] | None = None
    in_stock: Flag | None = None

    def filters(self) -> Filters:
        _price_range(self.min_price, self.max_price, "filters.min_price")
        return Filters(category=self.category or None, brand=self.brand or None,
                       colors=tuple(self.colors or self.color or ()), sizes=tuple(self.sizes or self.size or ()),
                       min_price=self.min_price, max_price=self.max_price, in_stock=self.in_stock)


class AzaBody(OpenContract):
    """`POST /aza/search[/stream]` (unknown fields are ignored)."""

    model_config = example(query="silk saree for a wedding", limit=5, filters={"max_price": 20000})

    query: Annotated[str, Text(MAX_QUERY, min_len=1)]
    limit: Annotated[int, Int(1, MAX_LIMIT)] = 10
    min_score: Annotated[float, Num(-1, 1, description="cosine similarity (or normalised BM25 on the text path)")] | None = None
    filters: AzaFilters | None = Field(default=None, description="as the product search's parameters")


# -- GET /api/products/search/stream -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchParams:
    q: str
    limit: int
    sort: str
    filters: Filters
    service: SearchService


async def parse_search(search: SearchService, request: Request, args: SearchQuery) -> SearchParams:
    return SearchParams(args.q, args.limit, args.sort, args.filters(), _ready(search))


async def search_events(p: SearchParams, ctx: StreamContext) -> AsyncGenerator[Event, None]:
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


def _cards_endpoint(name: str, parse: Callable[..., Awaitable[P]],
                    produce: Callable[[P, StreamContext], AsyncGenerator[Event, None]],
                    query_of: Callable[[P], str], **declared: Any) -> StreamEndpoint[P]:
    """A search stream: product cards, answered as one SearchAnswer by its JSON twin, the
    query echoed in `connected`."""
    return StreamEndpoint(name, parse, produce, shape=results_answer("product_cards"),
                          context=lambda p: {"query": query_of(p)}, answer=SearchAnswer, **declared)


def search_endpoint(search: SearchService) -> StreamEndpoint[SearchParams]:
    return _cards_endpoint(
        "search", partial(parse_search, search), search_events, lambda p: p.q, query=SearchQuery,
        summary="Hybrid product search with early results",
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


async def parse_aza(search: SearchService, request: Request, args: AzaBody) -> AzaParams:
    filters = args.filters.filters() if args.filters is not None else Filters()
    min_score = 0.0 if args.min_score is None else args.min_score
    return AzaParams(args.query, args.limit, min_score, filters, _ready(search))


def _text_path_reason(p: AzaParams) -> str | None:
    q = p.query.strip()
    if _SKU_LIKE.match(q):
        return "the query looks like a SKU"
    if len(q) < 3:
        return "the query is too short for semantic search"
    if not p.service.vectors_ready:
        return "the embedding model is unavailable"
    return None


async def aza_events(p: AzaParams, ctx: StreamContext) -> AsyncGenerator[Event, None]:
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
    exact = service.product(p.query.strip().upper()) or service.product(p.query.strip())
    if exact is not None and (candidates is None or exact["sku"] in candidates):
        return ([(exact["sku"], 1.0)], 1) if p.min_score <= 1.0 else ([], 0)
    scores = service.word_matches(p.query, candidates)
    best = max(scores.values(), default=1.0)
    normalised = {sku: s / best for sku, s in scores.items() if s / best >= p.min_score}
    return top(normalised, p.limit), len(normalised)


def aza_endpoint(search: SearchService) -> StreamEndpoint[AzaParams]:
    return _cards_endpoint(
        "aza", partial(parse_aza, search), aza_events, lambda p: p.query, body=AzaBody,
        summary="Aza semantic search: cosine similarity score on every product",
        events=("connected", "progress:semantic_search|text_fallback", "progress:vector_search|text_search",
                "results:product_cards", "complete", "close"),
    )


def routes(search: SearchService, streams: StreamServices) -> list[Route]:
    return [
        *stream_routes(search_endpoint(search), streams, stream_path="/api/products/search/stream",
                       json_path="/api/products/search", methods=["GET"]),
        *stream_routes(aza_endpoint(search), streams, stream_path="/aza/search/stream",
                       json_path="/aza/search", methods=["POST"]),
    ]
