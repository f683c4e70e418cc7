"""`GET /metrics`: Prometheus exposition of the stream engine and limiter metrics."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def metrics(request: Request) -> Response:
    registry = request.app.state.platform.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


metrics.__openapi__ = {  # type: ignore[attr-defined]
    "get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text exposition"}}}
}


def routes() -> list[Route]:
    return [Route("/metrics", metrics, methods=["GET"])]
