"""The real app plus `GET /t/context/search?q=&k=&chatbotId=`, which calls
`platform.context.search` the way a chat endpoint will, so tests in another process can see
what retrieval returns. Started as `uvicorn --factory tests.support.context_app:build`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.main import create_app


async def context_search(request: Request) -> JSONResponse:
    platform = request.app.state.platform
    query = request.query_params.get("q", "")
    k = int(request.query_params.get("k", "5"))
    hits = platform.context.search(query, k, chatbot_id=request.query_params.get("chatbotId"))  # sync, as chat calls it
    return JSONResponse({"hits": [{**chunk, "score": score} for chunk, score in hits]})


def build():
    return create_app(extra_routes=[Route("/t/context/search", context_search)])
