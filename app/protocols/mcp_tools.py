"""The store's tools for shopping agents over MCP (the server: app/routes/mcp_http.py).

Each tool is declared once: its arguments are the sales agent's own tool models
(app/agent/calling.py: `CatalogQuery`, `ProductPair`, `StockQuestion`, `DocumentQuery`), or a
small extension of one, and its result is the payload model our streams send for the same
thing (app/streams/schema.py: `ProductCardsResult`, `ComparisonResult`, `StockResult`,
`MarketIntelligenceResult`, `SourcesResult`, `ProductCard`). The MCP `inputSchema` and
`outputSchema` are those models' JSON Schemas; a call's arguments are validated by the same
model before anything runs, and a refusal is a `Refusal` naming the field at fault. The work
is the agent's tools (app/agent/tools.py) and the product search's ranking
(`SearchService.plan` + `hybrid` + `page`, as `GET /api/products/search` ranks).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, Field

from app.agent import tools
from app.analytics.recorder import Recorder
from app.agent.calling import CatalogQuery, DocumentQuery, ProductPair, StockQuestion, ToolArguments
from app.contracts.openapi import json_schema
from app.contracts.reading import validate
from app.errors import BadRequest
from app.ingest.context_index import ContextIndex
from app.search.constraints import Filters
from app.search.products import card
from app.search.service import SearchService
from app.streams.schema import (
    ComparisonResult, MarketIntelligenceResult, ProductCard, ProductCardsResult, SourcesResult, StockResult,
)

MAX_RESULTS = 20


class Refusal(Exception):
    """A call the tool will not run, in words an agent can act on (the field at fault)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class CatalogSearch(CatalogQuery):
    """`search_catalog`: the agent's catalog query, and how many products to return."""

    limit: Annotated[int, Field(ge=1, le=MAX_RESULTS, description="products to return, best first")] = 5


class ProductLookup(ToolArguments):
    """`get_product`: one product by its sku."""

    sku: Annotated[str, Field(min_length=1, max_length=64, description="the product's sku")]


class ProductComparison(ProductPair):
    """`compare_products`: two to four skus."""

    skus: Annotated[list[Annotated[str, Field(max_length=64)]], Field(min_length=2, max_length=4,
                                                                         description="two to four skus")]


@dataclass(frozen=True, slots=True)
class McpDeps:
    """What the MCP tools use: the catalog search (the one the product search route uses) and
    the uploaded documents' index (None: no documents are searched)."""

    search: SearchService
    documents: ContextIndex | None
    analytics: Recorder | None = None  # records each catalog search (its query_id in the result)


Handler = Callable[[McpDeps, Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class McpTool:
    name: str
    description: str
    arguments: type[ToolArguments]
    result: type[BaseModel]
    run: Handler
    required: tuple[str, ...] = ()

    def input_schema(self) -> dict[str, Any]:
        schema = json_schema(self.arguments)
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            if prop.get("default") in ("", []):
                del prop["default"]
        if self.required:
            schema["required"] = sorted({*schema.get("required", ()), *self.required})
        return schema

    def output_schema(self) -> dict[str, Any]:
        return json_schema(self.result, mode="serialization")

    def arguments_of(self, raw: dict[str, Any] | None) -> ToolArguments:
        """The call's arguments as the model reads them, or a `Refusal` naming the field."""
        try:
            return validate(self.arguments, raw or {}, root="arguments")
        except BadRequest as exc:
            raise Refusal(exc.message, exc.field) from None


def _ready(search: SearchService) -> SearchService:
    if not search.ready:
        raise Refusal("The catalog index is still being built; try again in a few seconds")
    return search


def _filters(args: CatalogQuery) -> Filters:
    if args.min_price is not None and args.max_price is not None and args.min_price > args.max_price:
        raise Refusal("min_price must not be greater than max_price", "min_price")
    return args.filters()


def _known(search: SearchService, skus: list[str]) -> list[str]:
    unknown = [sku for sku in skus if search.product(sku) is None]
    if unknown:
        raise Refusal(f"skus: no product has the sku {', '.join(unknown)}", "skus")
    return list(dict.fromkeys(skus))


async def search_catalog(deps: McpDeps, args: CatalogSearch) -> dict[str, Any]:
    """The product search's ranking: filters read from the words and given here (a filter
    given wins), both rankers fused, the page in relevance order."""
    search = _ready(deps.search)
    plan = search.plan(args.query, _filters(args))
    found = await search.hybrid(plan)
    recorded = {"query_id": deps.analytics.search(args.query, found.total, "mcp")} if deps.analytics else {}
    return {
        "type": "product_cards",
        "products": [card(p, score=h.score, text_score=h.text_score, vector_score=h.vector_score, moves=h.moves)
                     for p, h in search.page(found, args.limit, plan=plan)],
        "total": found.total,
        "query": {"q": args.query, "residual": plan.parsed.residual, "filters": plan.filters.as_dict(),
                  "sort": "relevance"},
        **recorded,
    }


async def get_product(deps: McpDeps, args: ProductLookup) -> dict[str, Any]:
    product = _ready(deps.search).product(args.sku)
    if product is None:
        raise Refusal(f"sku: no product has the sku {args.sku}", "sku")
    return card(product)


async def compare_products(deps: McpDeps, args: ProductComparison) -> dict[str, Any]:
    search = _ready(deps.search)
    skus = _known(search, list(args.skus))
    if len(skus) < 2:
        raise Refusal("skus needs at least 2 different skus", "skus")
    return {"type": "comparison", **tools.compare_products(search, skus)}


async def check_stock(deps: McpDeps, args: StockQuestion) -> dict[str, Any]:
    search = _ready(deps.search)
    return {"type": "stock", "products": tools.check_stock(search, _known(search, list(args.skus)), args.size or None)}


async def market_snapshot(deps: McpDeps, args: CatalogQuery) -> dict[str, Any]:
    filters = _filters(args)
    if not args.query and not filters.as_dict():
        raise Refusal("query is required (or a filter)", "query")
    return {"type": "market_intelligence", **tools.market_snapshot(_ready(deps.search), args.query, filters)}


async def search_documents(deps: McpDeps, args: DocumentQuery) -> dict[str, Any]:
    if not args.query:
        raise Refusal("query must not be empty", "query")
    return {"type": "sources", "sources": await tools.search_documents(deps.documents, args.query)}


TOOLS: dict[str, McpTool] = {
    tool.name: tool
    for tool in (
        McpTool("search_catalog", tools.DESCRIPTIONS["search_catalog"] + " Filters are also read from the words "
                "(\"red silk lehenga under 20000\"); a filter given as an argument wins.",
                CatalogSearch, ProductCardsResult, search_catalog),
        McpTool("get_product", "One product of the catalog by its sku: title, brand, price, sizes, colours, "
                "stock, attributes.", ProductLookup, ProductCard, get_product, ("sku",)),
        McpTool("compare_products", tools.DESCRIPTIONS["compare_products"], ProductComparison, ComparisonResult,
                compare_products),
        McpTool("check_stock", tools.DESCRIPTIONS["check_stock"], StockQuestion, StockResult, check_stock),
        McpTool("market_snapshot", tools.DESCRIPTIONS["market_snapshot"] + " The budget is min_price/max_price.",
                CatalogQuery, MarketIntelligenceResult, market_snapshot, ("query",)),
        McpTool("search_documents", tools.DESCRIPTIONS["search_documents"], DocumentQuery, SourcesResult,
                search_documents),
    )
}
