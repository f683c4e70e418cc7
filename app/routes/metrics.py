"""`GET /metrics`: Prometheus exposition of the stream engine and limiter metrics."""

from __future__ import annotations

from functools import partial

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.contracts.openapi import ApiRoute, Operation, Reply
from app.errors import ErrorBody


async def metrics(registry: CollectorRegistry, request: Request) -> Response:
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


METRICS = Operation("Prometheus metrics", tags=("operations",), replies={
    200: Reply("the text exposition format", media="text/plain"),
    503: Reply("SERVER_SHUTTING_DOWN", ErrorBody),
})


def routes(registry: CollectorRegistry) -> list[Route]:
    return [ApiRoute("/metrics", partial(metrics, registry), methods=["GET"], operation=METRICS)]
