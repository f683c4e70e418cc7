"""Product search and Aza semantic search: two streaming endpoints and their JSON twins.

    GET  /api/products/search/stream   hybrid (BM25 + vectors, fused), with early text results
    POST /aza/search/stream            semantic: cosine `score` on every product

Filters come from parameters AND from the query text ("red silk lehenga under 20000 size M");
a field given as a parameter wins over the same field read from the text. A query in Hindi,
Persian, Russian or Hebrew is read in English too (`SearchService.plan`), and the product
search's progress messages are in the query's language.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Annotated, Any, TypeVar

from pydantic import Field
from starlette.requests import Request
from starlette.routing import Route

from app.contracts.fields import Flag, Num, OpenContract, QBool, QChoice, QInt, QNum, QueryContract, QWords, Text, Words
from app.contracts.fields import Int, example
from app.analytics.recorder import Recorder, new_query_id
from app.errors import BadRequest
from app.language.reading import language_of
from app.search.constraints import Filters
from app.search.paging import CURSOR_PATTERN, MAX_RANKED, Frozen, Ranked, RankedPages, next_cursor, parse_cursor, row
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

# The product search's progress messages, per language of the query (`language_of`).
PROGRESS: dict[str, dict[str, str]] = {
    "en": {"words": "{n} products match the words", "no_vectors": "Semantic ranking unavailable; words only",
           "vectors": "Ranked by meaning too: the {n} nearest", "filters": "{n} products after filters"},
    "hi": {"words": "{n} उत्पाद शब्दों से मेल खाते हैं", "no_vectors": "अर्थ से क्रम उपलब्ध नहीं; केवल शब्दों से",
           "vectors": "अर्थ से भी क्रम: सबसे करीबी {n}", "filters": "फ़िल्टर के बाद {n} उत्पाद"},
    "fa": {"words": "{n} محصول با کلمات جور است", "no_vectors": "رتبه‌بندی معنایی در دسترس نیست؛ فقط با کلمات",
           "vectors": "با معنا هم رتبه‌بندی شد: {n} نزدیک‌ترین", "filters": "{n} محصول پس از فیلترها"},
    "ru": {"words": "Совпадений по словам: {n}", "no_vectors": "Поиск по смыслу недоступен; только по словам",
           "vectors": "Также по смыслу: {n} ближайших", "filters": "После фильтров: {n}"},
    "he": {"words": "{n} מוצרים תואמים את המילים", "no_vectors": "דירוג לפי משמעות אינו זמין; לפי מילים בלבד",
           "vectors": "דורג גם לפי משמעות: {n} הקרובים ביותר", "filters": "{n} מוצרים אחרי הסינון"},
}


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
    cursor: Annotated[str, Text(40, min_len=1, pattern=CURSOR_PATTERN, description=(
        "the next page: `next_cursor` of the page before, with the same `q`, `sort` and filters "
        "(`limit` may change). Pages follow the ranking of the first page, frozen: no product "
        "twice, none skipped, whatever the index does between them"))] | None = None

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
    pages: RankedPages
    recorder: Recorder | None = None
    # A later page: the frozen ranking, its token, and where this page starts in it.
    ranked: Ranked | None = None
    token: str = ""
    offset: int = 0

    @property
    def request(self) -> str:
        """What a ranking ranks: the query (spaces aside), sort and filters, not the page size."""
        return json.dumps([" ".join(self.q.split()), self.sort, self.filters.as_dict()], sort_keys=True)


async def parse_search(search: SearchService, pages: RankedPages, recorder: Recorder | None, request: Request,
                       args: SearchQuery) -> SearchParams:
    p = SearchParams(args.q, args.limit, args.sort, args.filters(), _ready(search), pages, recorder)
    if args.cursor is None:
        return p
    token, offset = parse_cursor(args.cursor) or ("", 0)
    ranked = pages.get(token)
    if ranked is None:  # not held here (another instance, evicted, expired): ranked again
        return replace(p, token=token, offset=offset)
    if ranked.request != p.request:  # an offset past the ranking is an empty last page
        raise BadRequest("The cursor belongs to another search (same q, sort and filters, please)", field="cursor")
    return replace(p, ranked=ranked, token=token, offset=offset)


async def more_events(p: SearchParams, ranked: Ranked) -> AsyncGenerator[Event, None]:
    """A later page: a slice of the frozen ranking, nothing ranked again (a product removed
    since is left out: it can no longer be sold)."""
    table = p.service.table
    order = ranked.order(p.service.page)
    cards = [card(prod, score=score, text_score=text, vector_score=vector)
             for sku, score, text, vector in order[p.offset : p.offset + p.limit]
             if (prod := table.get(sku)) is not None]
    yield ev.results("product_cards", stage="final", products=cards, total=ranked.total, offset=p.offset,
                     next_cursor=next_cursor(p.token, p.offset + p.limit, len(order)),
                     **({"query_id": p.token} if p.recorder is not None else {}))
    yield ev.complete(total=ranked.total)


async def ranked_again(p: SearchParams) -> Ranked:
    """A later page whose ranking this instance does not hold (the first page was served by
    another instance, or its ranking was evicted or expired): the search ranked again, and
    kept from here. The same pages as the first page's ranking unless the catalog changed in
    between (every instance ranks the same catalog the same way)."""
    service = p.service
    plan = service.plan(p.q, p.filters)
    found = await service.hybrid(plan)
    shown = service.page(found, min(p.offset + p.limit, MAX_RANKED), p.sort, plan)
    return Ranked(p.request, p.sort, found.total, tuple(row(prod["sku"], h) for prod, h in shown),
                  Frozen.of(found), hidden=service.hidden(p.q, plan.filters))


def _recorded(recorder: Recorder | None, query: str, total: int, source: str, query_id: str) -> dict[str, str]:
    """The search recorded for analytics (no I/O: app/analytics/recorder.py), as the `query_id`
    field its final results carry."""
    if recorder is None:
        return {}
    return {"query_id": recorder.search(query, total, source, query_id=query_id)}


async def search_events(p: SearchParams, ctx: StreamContext) -> AsyncGenerator[Event, None]:
    if p.ranked is not None or p.offset:
        ranked = p.ranked
        if ranked is None:
            ranked = await ranked_again(p)
            p.pages.keep(p.token, ranked)
            p = replace(p, ranked=ranked)
        async for event in more_events(p, ranked):
            yield event
        return
    service = p.service
    query_id = new_query_id()  # the early results carry it too: a click on them counts
    tagged = {"query_id": query_id} if p.recorder is not None else {}
    plan = service.plan(p.q, p.filters)
    parsed, filters, candidates = plan.parsed, plan.filters, plan.candidates
    says = PROGRESS[language_of(p.q)]

    scores = service.word_matches(plan.reading, candidates)
    text_hits = top(scores, POOL)
    yield ev.progress("text_search", says["words"].format(n=len(scores)), count=len(scores))
    hidden = service.hidden(p.q, filters)  # the merchant's rules apply to the early cards too
    text_hits = [hit for hit in text_hits if hit[0] not in hidden]
    if text_hits:
        early = service.products(sku for sku, _ in text_hits[: p.limit])
        yield ev.results(
            "product_cards",
            stage="text",
            products=[card(prod, text_score=scores[prod["sku"]]) for prod in early],
            total=len(scores),
            **tagged,
        )

    vector_hits = await service.vector_search(plan.embedded, candidates, POOL)
    if vector_hits is None:
        yield ev.progress("vector_search", says["no_vectors"], count=0, available=False)
        vector_hits = []
    else:
        vector_hits = [(sku, s) for sku, s in vector_hits if s >= VECTOR_FLOOR]
        yield ev.progress("vector_search", says["vectors"].format(n=len(vector_hits)), count=len(vector_hits))

    found = service.fuse(plan, scores, vector_hits)
    yield ev.progress("filters", says["filters"].format(n=found.total), count=found.total,
                      filters=filters.as_dict())
    shown = service.page(found, p.limit, p.sort, plan)
    cursor = None
    if found.total > len(shown) == p.limit:  # more than a page: freeze the matches for the next ones
        first = tuple(row(prod["sku"], h) for prod, h in shown)
        p.pages.keep(query_id, Ranked(p.request, p.sort, found.total, first, Frozen.of(found), hidden=hidden))
        cursor = f"{query_id}.{p.limit}"
    yield ev.results(
        "product_cards",
        stage="final",
        products=[
            card(prod, score=h.score, text_score=h.text_score, vector_score=h.vector_score, moves=h.moves)
            for prod, h in shown
        ],
        total=found.total,
        facets=service.facets(found),
        query={"q": p.q, "residual": parsed.residual, "filters": filters.as_dict(), "sort": p.sort},
        offset=0,
        next_cursor=cursor,
        **_recorded(p.recorder, p.q, found.total, "search", query_id),
    )
    yield ev.complete(total=found.total)


def _cards_endpoint(name: str, parse: Callable[..., Awaitable[P]],
                    produce: Callable[[P, StreamContext], AsyncGenerator[Event, None]],
                    query_of: Callable[[P], str], **declared: Any) -> StreamEndpoint[P]:
    """A search stream: product cards, answered as one SearchAnswer by its JSON twin, the
    query echoed in `connected`."""
    return StreamEndpoint(name, parse, produce, shape=results_answer("product_cards"),
                          context=lambda p: {"query": query_of(p)}, answer=SearchAnswer, **declared)


def search_endpoint(search: SearchService, pages: RankedPages, recorder: Recorder | None = None,
                    ) -> StreamEndpoint[SearchParams]:
    return _cards_endpoint(
        "search", partial(parse_search, search, pages, recorder), search_events, lambda p: p.q, query=SearchQuery,
        summary="Hybrid product search with early results",
        description=("Paging: a page with more after it carries `next_cursor`; pass it as `cursor` (same `q`, "
                     "`sort` and filters) for the next. A later page is only `connected`, "
                     "`results:product_cards(stage=final)` (no facets, no query echo), `complete`, `close`."),
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
    recorder: Recorder | None = None


async def parse_aza(search: SearchService, recorder: Recorder | None, request: Request, args: AzaBody) -> AzaParams:
    filters = args.filters.filters() if args.filters is not None else Filters()
    min_score = 0.0 if args.min_score is None else args.min_score
    return AzaParams(args.query, args.limit, min_score, filters, _ready(search), recorder)


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
    arranged = service.merchandised([sku for sku, _ in scored], p.query, p.filters, candidates)
    products = service.products(arranged.skus[: p.limit])
    scores = dict(scored)
    yield ev.results(
        "product_cards",
        stage="final",
        path="semantic" if reason is None else "text",
        score_type="cosine" if reason is None else "text",
        products=[card(prod, score=scores.get(prod["sku"]), moves=arranged.moves.get(prod["sku"], ()))
                  for prod in products],
        total=total,
        **_recorded(p.recorder, p.query, total, "aza", new_query_id()),
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


def aza_endpoint(search: SearchService, recorder: Recorder | None = None) -> StreamEndpoint[AzaParams]:
    return _cards_endpoint(
        "aza", partial(parse_aza, search, recorder), aza_events, lambda p: p.query, body=AzaBody,
        summary="Aza semantic search: cosine similarity score on every product",
        events=("connected", "progress:semantic_search|text_fallback", "progress:vector_search|text_search",
                "results:product_cards", "complete", "close"),
    )


def routes(search: SearchService, streams: StreamServices, recorder: Recorder | None = None) -> list[Route]:
    """`recorder`: every search is recorded for analytics, its results carry its `query_id`."""
    return [
        *stream_routes(search_endpoint(search, RankedPages(), recorder), streams,
                       stream_path="/api/products/search/stream",
                       json_path="/api/products/search", methods=["GET"]),
        *stream_routes(aza_endpoint(search, recorder), streams, stream_path="/aza/search/stream",
                       json_path="/aza/search", methods=["POST"]),
    ]
