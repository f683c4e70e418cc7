"""The payloads of the eight events, and of each `results` type, as typed models: the one
declaration of what a stream sends.

From these come the `*Event` and `*Result` schemas of `/openapi.json` (each stream's
`text/event-stream` response names the events and `results` types it sends), the payload
tables of docs/events.md (`python -m app.contracts.docs`; a test keeps them equal), and the
checks in the tests: every constructor of `events.py` builds a payload its model accepts, and
every payload the real endpoints send validates against it.

The constructors (`events.py`) build plain dicts, not model instances: an event is built for
every token of an answer, and a dict costs nothing more there while validating each one would
(bench/sse_engine.py measures the engine). A field marked "may be absent" is left out rather
than sent as `null`; every payload may carry fields not listed here (endpoints add context),
so clients must ignore fields they do not know.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, RootModel

from app.contracts.fields import Absent, Payload


Number = float  # a JSON number (an integer is one too)
Scalar = str | int | float | bool
HEX32 = r"^[0-9a-f]{32}$"


# -- the results types -------------------------------------------------------------------------


class Merchandised(Payload):
    rule: str = Field(description="the rule's id (`PUT /api/merchandising/rules/{id}`)")
    action: Literal["pin", "boost", "bury"]


class ProductCard(Payload):
    """A product as a storefront shows it, with the scores that ranked it."""

    sku: str
    title: str
    brand: str = Absent()
    category: str = Absent()
    subcategory: str = Absent()
    price: Number = Absent("in `currency`")
    currency: str = Absent("ISO 4217, `INR` by default")
    colors: list[str] = Absent()
    sizes: list[str] = Absent()
    rating: Number = Absent("0 to 5")
    in_stock: bool = Absent()
    image_url: str = Absent()
    attributes: dict[str, Scalar] = Absent("fabric, occasion, gender, work...")
    score: Number | None = Absent("the fused score (or cosine on Aza's semantic path); null when unranked")
    text_score: Number | None = Absent("BM25")
    vector_score: Number | None = Absent("cosine similarity; null when not ranked by meaning")
    merchandised: list[Merchandised] = Absent("the merchant's rules that moved this product here (pinned, "
                                              "boosted or buried); absent when none did")


class FacetValue(Payload):
    value: str
    count: int
    min: Number | None = Absent("price bands only")
    max: Number | None = Absent("price bands only; null for the open top band")


class SearchEcho(Payload):
    """What the search understood: the text left after filters were read out of it."""

    q: str
    residual: str
    filters: dict[str, Any]
    sort: str


class ProductCardsResult(Payload):
    type: Literal["product_cards"]
    products: list[ProductCard]
    total: int = Field(description="every product that matches, not only those on the page")
    stage: Literal["text", "final"] = Absent("product search: early word matches, then the final ranking")
    path: Literal["semantic", "text"] = Absent("Aza: how the query was ranked")
    score_type: Literal["cosine", "text"] = Absent("Aza: cosine similarity, or BM25 normalised to 0..1")
    facets: dict[str, list[FacetValue]] = Absent("product search, final stage: counts per category, brand, "
                                                 "fabric (or material), color, size and price band")
    query: SearchEcho = Absent("product search, final stage")
    relaxed: list[str] = Absent("sales agent: filters dropped to find anything")
    offset: int = Absent("product search, final stage: where this page starts in the ranking")
    next_cursor: str | None = Absent("product search, final stage: `cursor` for the next page; null on the last")
    query_id: str = Absent("the search as recorded for analytics, which shopper events (`POST /api/events`) "
                           "name: product search (both stages), Aza, the sales agent's and MCP's catalog search",
                           pattern=HEX32)


class SuggestionsResult(Payload):
    type: Literal["suggestions"]
    suggestions: list[str] = Field(description="follow-up questions the shopper may tap")


class Source(Payload):
    file_id: str | None
    file_name: str | None
    chunk_index: int | None = Absent()
    page: int | None = Absent()
    start: int | None = Absent()
    end: int | None = Absent()
    score: Number
    text: str = Absent()


class SourcesResult(Payload):
    type: Literal["sources"]
    sources: list[Source] = Field(description="uploaded-document passages the answer may quote, best first")


class IntentResult(Payload):
    type: Literal["intent"]
    intent: str
    confidence: Number
    slots: dict[str, Any]
    classified_as: str
    source: str = Field(description="rule, lexical, embedding...")
    clarify: bool = Field(description="below the confidence threshold: the agent asks instead of acting")
    filters: dict[str, Any]


class PriceSpread(Payload):
    min: Number
    p25: Number
    median: Number
    p75: Number
    max: Number


class BrandCount(Payload):
    brand: str
    count: int


class Budget(Payload):
    min: Number | None
    max: Number | None
    within: int
    in_stock_within: int
    share_within: Number
    position: Literal["open", "below_all", "low", "middle", "high", "above_all"]


class Pick(Payload):
    sku: str
    title: str = Absent()
    brand: str = Absent()
    price: Number = Absent()
    currency: str = Absent()
    rating: Number = Absent()
    in_stock: bool = Absent()
    image_url: str = Absent()
    over_budget_by: Number = Absent("`closest` only")


class MarketIntelligenceResult(Payload):
    type: Literal["market_intelligence"]
    filters: dict[str, Any] = Field(description="what was asked, but the budget")
    matching: int
    in_stock: int
    currency: str
    price: PriceSpread | None
    top_brands: list[BrandCount]
    best_rated: list[Pick]
    budget: Budget = Absent("when a budget was given")
    closest: list[Pick] = Absent("when nothing in stock fits the budget")


class ComparisonRow(Payload):
    sku: str
    title: str | None
    brand: str | None
    price: Number | None
    rating: Number | None
    in_stock: bool
    sizes: list[str]
    colors: list[str]
    fabric: Scalar | None
    occasion: Scalar | None


class Cheaper(Payload):
    sku: str
    by: Number


class ComparisonResult(Payload):
    type: Literal["comparison"]
    products: list[ComparisonRow]
    cheaper: Cheaper = Absent("with two priced products")
    higher_rated: str = Absent("the sku, when ratings differ")


class StockRow(Payload):
    sku: str
    title: str | None
    in_stock: bool
    sizes: list[str]
    size: str = Absent("the size asked about")
    size_listed: bool = Absent()


class StockResult(Payload):
    type: Literal["stock"]
    products: list[StockRow]


class ChunkPreview(Payload):
    index: int
    page: int | None
    tokens: int
    text: str


class ChunksResult(Payload):
    type: Literal["chunks"]
    file_id: str
    file_name: str
    count: int = Field(description="chunks stored")
    tokens: int = Field(description="cl100k tokens over all chunks (overlap counted in each)")
    preview: list[ChunkPreview]
    duplicate: bool = Field(description="the same bytes were uploaded before: `file_id` names that file")
    embedded: bool
    pages: int = Absent("PDFs")
    skipped_pages: list[int] = Absent("PDF pages that could not be read")


RESULT_MODELS: tuple[type[Payload], ...] = (
    ProductCardsResult, SuggestionsResult, SourcesResult, IntentResult, MarketIntelligenceResult,
    ComparisonResult, StockResult, ChunksResult,
)
RESULT_BY_TYPE: dict[str, type[Payload]] = {
    model.model_fields["type"].annotation.__args__[0]: model for model in RESULT_MODELS  # type: ignore[union-attr]
}


# -- the eight events --------------------------------------------------------------------------


class ConnectedEvent(Payload):
    """First event, sent before any work; carries `retry:`. Endpoints add their context."""

    stream_id: str = Field(pattern=HEX32, description="the stream's public name (not its resume token)")
    stream: str = Field(description="the endpoint's name: search, aza, chat, troika, context_upload...")
    message: Literal["Stream started"]
    query: str = Absent("search and Aza: the query")
    conversation_id: str = Absent("chat and sales agent")
    message_id: str = Absent("chat and sales agent: the shopper's stored message")
    session_id: str = Absent("sales agent")
    language: str = Absent("chat and sales agent")
    dir: Literal["ltr", "rtl"] = Absent("chat and sales agent: the answer's direction")
    file_name: str = Absent("upload")
    size: int = Absent("upload: bytes")


class ProgressEvent(Payload):
    """As work advances. `step` names it; the other fields depend on the step."""

    step: str
    message: str
    count: int = Absent("how many so far")
    percent: Number = Absent("0 to 100, one decimal")
    path: Literal["semantic", "text"] = Absent("Aza")
    reason: str = Absent("Aza: why the text path was taken")
    available: bool = Absent("search: false when semantic ranking is unavailable")
    filters: dict[str, Any] = Absent("search: the filters applied")
    query: str = Absent("chat: what retrieval searched for")
    tool: str = Absent("sales agent: the tool about to run")
    args: dict[str, Any] = Absent("sales agent: its arguments")
    file_name: str = Absent("upload")
    type: str = Absent("upload: the detected file type")
    size: int = Absent("upload: bytes")
    pages: int = Absent("upload: PDF pages")
    tokens: int = Absent("upload: tokens counted")
    skipped: bool = Absent("upload: embedding skipped (no model)")


class ResultsEvent(RootModel[Annotated[
    ProductCardsResult | SuggestionsResult | SourcesResult | IntentResult | MarketIntelligenceResult
    | ComparisonResult | StockResult | ChunksResult,
    Field(discriminator="type"),
]]):
    """A result, keyed by `type`; a later one of the same type replaces an earlier one."""


class TextEvent(Payload):
    """Each generated piece of an answer."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(description="at most STREAMING_CHUNK_SIZE characters")
    fullText: str = Field(description="the answer so far")  # noqa: N815 - the wire name


class AudioEvent(Payload):
    """One spoken sentence."""

    chunk: str = Field(description="base64 audio that decodes on its own", json_schema_extra={"contentEncoding": "base64"})
    format: str = Field(description="mp3")
    seq: int = Field(description="from 1, in speaking order")
    text: str = Field(description="the sentence as spoken")
    lang: str = Absent()
    engine: str = Absent("gtts or espeak-ng")


class CompleteEvent(Payload):
    """Success. Endpoints add their summary (ids, intent, tools, metadata)."""

    total: int = Absent("how many results")
    duration: Number = Absent("ms since the stream started; always on the wire (the engine adds it)")
    message_id: str = Absent("chat and sales agent: the stored answer")
    conversation_id: str = Absent()
    session_id: str = Absent()
    intent: str = Absent()
    tools: list[str] = Absent()
    metadata: dict[str, Any] = Absent("tokens, processing_time_ms, model_used...")


class ErrorEvent(Payload):
    """A failure: `fatal: false` means the stream goes on (speech failed, text continues)."""

    message: str
    error: str = Field(description="the same as `message`")
    code: str = Field(pattern=r"^[A-Z][A-Z_]*$", description="stable; docs/events.md lists them")
    timestamp: str = Field(json_schema_extra={"format": "date-time"})
    retryable: bool
    fatal: bool


class CloseEvent(Payload):
    """Always last."""

    model_config = ConfigDict(extra="forbid")

    message: Literal["Stream ended"]


EVENT_MODELS: dict[str, type[Payload] | type[ResultsEvent]] = {
    "connected": ConnectedEvent,
    "progress": ProgressEvent,
    "results": ResultsEvent,
    "text": TextEvent,
    "audio": AudioEvent,
    "complete": CompleteEvent,
    "error": ErrorEvent,
    "close": CloseEvent,
}


def validate_payload(kind: str, data: dict[str, Any]) -> Any:
    """The model instance for an event's payload (raises pydantic's ValidationError)."""
    return EVENT_MODELS[kind].model_validate(data)
