"""Suggestions as a shopper types.

    GET /api/products/suggest?q=&limit=   {q, completions: [{text, source}], products: [...]}

Completions come from the searches shoppers ran that found something and from the catalog's own
phrases (app/search/suggest.py), typo-tolerant and in the shopper's script (a query in another
language that nothing completes is completed as its English reading); `products` are the
best few of the first completion (its catalog phrase's, or the text search's for a popular
search). No vectors and no stream: it answers from memory in about a millisecond, so a widget
may ask on every short pause in the typing and run a full search only on a longer pause or a
choice. A budget of its own (SUGGEST_RATE_LIMIT per window and client), never the search budget.
The merchant's rules hide products here too. Before the search index is built: empty lists.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.routing import Route

from app.contracts.fields import Payload, QInt, QueryContract, Text, example
from app.contracts.openapi import ApiRoute, Operation, Reply
from app.contracts.reading import read_query
from app.errors import ErrorBody
from app.language.reading import in_english
from app.ratelimit.limiter import StreamLimiter
from app.responses import JSONResponse
from app.routes.search import MAX_QUERY
from app.search.constraints import Filters
from app.search.products import card
from app.search.service import SearchService
from app.search.suggest import Completion, Suggestions
from app.search.text import fold, words
from app.search.vocabulary import Vocabulary
from app.streams.endpoint import RATE_HEADERS
from app.streams.schema import ProductCard

PRODUCTS = 4
_TEXT_CACHE = 2048  # a popular search's products, found once per catalog (the text search: ~ms)


class SuggestQuery(QueryContract):
    model_config = example(q="red sa", limit=6)

    q: Annotated[str, Text(MAX_QUERY, min_len=1, description="what the shopper has typed so far")]
    limit: Annotated[int, QInt(1, 10, description="completions")] = 6


class CompletionOut(Payload):
    text: str
    source: Literal["search", "catalog"] = Field(description="shoppers searched it, or the shop sells it")


class SuggestAnswer(Payload):
    q: str
    completions: list[CompletionOut]
    products: list[ProductCard] = Field(description=f"the first completion's best {PRODUCTS}")


@dataclass(slots=True)
class SuggestDeps:
    search: SearchService
    suggestions: Suggestions
    found: OrderedDict[tuple[object, str], tuple[str, ...]]


def in_store_words(text: str, vocabulary: Vocabulary) -> str:
    """`text` with each phrase the vocabulary knows put as the store names it ("laal saree" ->
    "red saree": the reader of other languages writes Hindi in Latin letters, which the
    vocabulary's aliases know); other words as they are."""
    ws = words(text)
    folded = [fold(w) for w in ws]
    out: list[str] = []
    i = 0
    while i < len(ws):
        entry, span = vocabulary.lookup(folded, i)
        out.append(entry[1] if entry is not None else ws[i])
        i += span or 1
    return " ".join(out)


def _products(deps: SuggestDeps, first: Completion) -> list[str]:
    skus = first.skus
    if not skus:  # a popular search: the text search's best, remembered for this catalog
        key = (deps.search.vocabulary, first.text)
        if key not in deps.found:
            deps.found[key] = tuple(sku for sku, _ in deps.search.text_search(first.text + " ", None, PRODUCTS * 2))
            while len(deps.found) > _TEXT_CACHE:
                deps.found.popitem(last=False)
        skus = deps.found[key]
    hidden = deps.search.hidden(first.text, Filters())
    return [sku for sku in skus if sku not in hidden][:PRODUCTS]


async def suggest(deps: SuggestDeps, request: Request) -> JSONResponse:
    args = read_query(request, SuggestQuery)
    suggester = deps.suggestions.current()
    found = suggester.complete(args.q, args.limit)
    if not found and (english := in_english(args.q)) != args.q:
        # Hindi, Persian, Russian or Hebrew that neither the catalog nor shoppers' searches
        # hold yet: the completions of its reading, in the store's own words
        found = suggester.complete(in_store_words(english, deps.search.vocabulary), args.limit)
    products = deps.search.products(_products(deps, found[0])) if found else []
    return JSONResponse({"q": args.q, "completions": [{"text": c.text, "source": c.source} for c in found],
                         "products": [card(p) for p in products]})


SUGGEST = Operation(
    "Suggestions as a shopper types: completions and a few products", query=SuggestQuery, tags=("search",),
    description="From popular searches and the catalog's own phrases, typo-tolerant, in the shopper's script; "
                "answered from memory (no stream). Its own budget: SUGGEST_RATE_LIMIT per window and client.",
    replies={
        200: Reply("completions, heaviest first, and the first one's products", SuggestAnswer, headers=RATE_HEADERS),
        400: Reply("INVALID_PARAMETERS: `q` empty or longer than 512 characters, or `limit` out of range", ErrorBody),
        429: Reply("RATE_LIMITED: the suggestions' own budget is spent", ErrorBody,
                   headers={"Retry-After": "seconds", **RATE_HEADERS}),
        503: Reply("RATE_LIMIT_UNAVAILABLE, SERVER_SHUTTING_DOWN", ErrorBody),
    })


def routes(search: SearchService, suggestions: Suggestions, limiter: StreamLimiter) -> list[Route]:
    deps = SuggestDeps(search, suggestions, OrderedDict())
    return [ApiRoute("/api/products/suggest", limiter.guard("suggest", partial(suggest, deps)), methods=["GET"],
                     name="suggest", operation=SUGGEST)]
