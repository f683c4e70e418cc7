"""Search analytics: what shoppers do with a search's results, and the report.

    POST /api/events               public; one event or {"events": [...]} (up to ANALYTICS_BATCH_MAX)
    GET  /api/analytics/search     admin; ?days=7&top=20

Every search answers with a `query_id` (product search, Aza, the sales agent's catalog search,
MCP `search_catalog`); an event names it, with the product's `sku` and its `position` in the
results (from 1). Events are validated whole (one bad event refuses the batch, naming
`events.3.position`), admitted to the recorder's buffer (app/analytics/recorder.py) and
answered 202 at once: the database write happens later, in bulk, off the request's path.

Rate limit: the shared limiter, with a budget of its own (ANALYTICS_RATE_LIMIT per
STREAMING_WINDOW_MS per client, a batch costing one request), so a widget reporting views
and clicks never spends the shopper's search budget, and a flood of events cannot either.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import Field
from pydantic_core import from_json
from starlette.requests import Request
from starlette.routing import Route

from app.analytics.recorder import Recorder
from app.analytics.report import search_report
from app.auth import ADMIN_REPLIES, Authorize
from app.contracts.fields import Contract, Int, Payload, QInt, QueryContract, Text, example
from app.contracts.openapi import ApiRoute, Operation, Reply
from app.contracts.reading import JSON_MAX_BYTES, read_query, require_json, validate
from app.errors import BadRequest, ErrorBody
from app.ratelimit.limiter import StreamLimiter
from app.responses import JSONResponse
from app.routes.body import Bodies
from app.store.database import Database

HEX32 = r"^[0-9a-f]{32}$"
MAX_POSITION = 10_000
MAX_BATCH = 10_000  # the schema's bound; ANALYTICS_BATCH_MAX is the one applied
EventType = Literal["view", "click", "add_to_cart", "purchase"]
EXAMPLE_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


class ShopperEvent(Contract):
    """What a shopper did with one product of a search's results."""

    model_config = example(type="click", query_id=EXAMPLE_ID, sku="SS-EXAMPLE-1", position=1)

    type: EventType = Field(description="view: shown; click: opened; add_to_cart and purchase: conversions")
    query_id: Annotated[str, Text(32, min_len=32, pattern=HEX32,
                                  description="the search's `query_id` (its `results` event carries it)")]
    sku: Annotated[str, Text(64, min_len=1)]
    position: Annotated[int, Int(1, MAX_POSITION, description="the product's place in the results, from 1")]


class EventBatch(Contract):
    """Several events in one request (it costs one request of the budget)."""

    model_config = example(events=[
        {"type": "view", "query_id": EXAMPLE_ID, "sku": "SS-EXAMPLE-1", "position": 1},
        {"type": "click", "query_id": EXAMPLE_ID, "sku": "SS-EXAMPLE-1", "position": 1},
    ])

    events: list[ShopperEvent] = Field(min_length=1, max_length=MAX_BATCH,
                                       description="at most ANALYTICS_BATCH_MAX (100 by default)")


class EventsAccepted(Payload):
    accepted: int = Field(description="events taken; they are written to the database within ANALYTICS_FLUSH_MS")


class ReportQuery(QueryContract):
    model_config = example(days=7, top=10)

    days: Annotated[int, QInt(1, 365, description="the period: today and the days before it, UTC")] = 7
    top: Annotated[int, QInt(1, 100, description="queries listed in `top_queries` and `no_result_queries`")] = 20


class QueryRow(Payload):
    query: str = Field(description="lower case, single spaces")
    count: int
    mean_results: float | None = Field(description="products found, on average")


class DayRow(Payload):
    day: str = Field(description="YYYY-MM-DD, UTC")
    searches: int
    no_results: int
    clicked_searches: int
    converted_searches: int = Field(description="searches with an add_to_cart or a purchase")
    clicks: int
    mean_click_position: float | None
    click_through_rate: float | None = Field(description="clicked_searches / searches; null without searches")
    conversion_rate: float | None = Field(description="converted_searches / searches")
    no_result_rate: float | None


class Totals(Payload):
    searches: int
    no_results: int
    clicked_searches: int
    converted_searches: int
    clicks: int
    mean_click_position: float | None
    click_through_rate: float | None
    conversion_rate: float | None
    no_result_rate: float | None


class Period(Payload):
    days: int
    since: str = Field(description="the first day, YYYY-MM-DD (UTC)")


class SearchReport(Payload):
    period: Period
    totals: Totals
    top_queries: list[QueryRow]
    no_result_queries: list[QueryRow]
    days: list[DayRow] = Field(description="one row per day of the period, oldest first")


@dataclass(frozen=True, slots=True)
class AnalyticsDeps:
    """The recorder (the buffer searches and events go into), the database the report reads,
    the admin check, the body bounds, the events' own budget and the batch cap."""

    recorder: Recorder
    database: Database
    admin: Authorize
    bodies: Bodies
    limiter: StreamLimiter
    batch_max: int


def _events_of(value: Any, batch_max: int) -> list[ShopperEvent]:
    if isinstance(value, dict) and "events" in value:
        events = value["events"]
        if isinstance(events, list) and len(events) > batch_max:
            raise BadRequest(f"events takes at most {batch_max} items", field="events")
        return list(validate(EventBatch, value).events)
    if isinstance(value, dict):
        return [validate(ShopperEvent, value)]
    raise BadRequest("body must be an event object or {\"events\": [...]}", field="body")


async def post_events(deps: AnalyticsDeps, request: Request) -> JSONResponse:
    require_json(request)
    body = await deps.bodies.reader(request, max(JSON_MAX_BYTES, deps.batch_max * 512)).read()
    if not body.strip():
        raise BadRequest("a JSON object body is required", field="body")
    try:
        value = from_json(body)
    except ValueError as exc:
        raise BadRequest(f"body is not valid JSON ({exc})", field="body") from None
    events = _events_of(value, deps.batch_max)
    if not deps.recorder.events([e.model_dump() for e in events]):
        raise BadRequest("Too many events waiting to be written; try again shortly", status=503,
                         code="ANALYTICS_BUSY", headers={"Retry-After": "5"})
    return JSONResponse({"accepted": len(events)}, status_code=202)


async def get_report(deps: AnalyticsDeps, request: Request) -> JSONResponse:
    deps.admin(request)
    args = read_query(request, ReportQuery)
    store = deps.database.require()
    return JSONResponse(await search_report(store, args.days, args.top))


_LIMITED = Reply("RATE_LIMITED: the events budget (ANALYTICS_RATE_LIMIT per window) is spent", ErrorBody,
                 headers={"Retry-After": "seconds"})
EVENTS = Operation(
    "Record what shoppers did with search results", body=EventBatch, tags=("analytics",), models=(ShopperEvent,),
    description="One event object, or `{\"events\": [...]}` with up to ANALYTICS_BATCH_MAX events (a batch costs "
                "one request of the events' own budget, ANALYTICS_RATE_LIMIT, not the search budget). Answered "
                "at once; the events are written in bulk within ANALYTICS_FLUSH_MS.",
    replies={
        202: Reply("accepted", EventsAccepted),
        400: Reply("INVALID_PARAMETERS: the field at fault is named (`events.2.query_id`)", ErrorBody),
        408: Reply("BODY_TIMEOUT: the body stopped arriving", ErrorBody),
        413: Reply("BODY_TOO_LARGE", ErrorBody),
        415: Reply("UNSUPPORTED_MEDIA_TYPE: not JSON", ErrorBody),
        429: _LIMITED,
        503: Reply("ANALYTICS_BUSY: the buffer is full (the database is behind or down), SERVER_SHUTTING_DOWN",
                   ErrorBody),
    },
)
REPORT = Operation(
    "Search analytics report (admin)", query=ReportQuery, admin=True, tags=("analytics",),
    description="Top queries, queries without results, click-through rate, conversion rate (add_to_cart or "
                "purchase) and mean click position, for the period and per day (UTC).",
    replies={
        200: Reply("the report", SearchReport),
        400: Reply("INVALID_PARAMETERS: `days` or `top` out of range", ErrorBody),
        **ADMIN_REPLIES,
    },
)


def routes(deps: AnalyticsDeps) -> list[Route]:
    return [
        ApiRoute("/api/events", deps.limiter.guard("events", partial(post_events, deps)), methods=["POST"],
                 operation=EVENTS),
        ApiRoute("/api/analytics/search", partial(get_report, deps), methods=["GET"], operation=REPORT),
    ]
