"""One shared request budget for every streaming endpoint, on slowapi.

slowapi's route decorator does the counting (`shared_limit` with one scope, so the five
endpoints and their JSON twins draw on ONE budget, moving-window strategy). Two things are
ours because slowapi gets them wrong for this use (see ../shared field notes):
- the headers: integer `X-RateLimit-Reset` (Unix seconds) on every response, `Retry-After`
  only on a 429;
- the 429 body, JSON with a stable code.
`SlowAPIASGIMiddleware` is not used: it resends `http.response.start` and breaks streaming.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable

from slowapi import Limiter
from slowapi.errors import RateLimitExceeded
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.errors import BadRequest, bad_request_response
from app.ratelimit.client import client_ip, in_networks
from app.ratelimit.concurrency import StreamSlots
from app.streams.metrics import StreamMetrics
from config.settings import Settings

log = logging.getLogger("storestream.ratelimit")

Endpoint = Callable[[Request], Awaitable[Response]]
SCOPE = "streaming"


class StreamLimiter:
    def __init__(self, settings: Settings, metrics: StreamMetrics) -> None:
        self.trusted_proxies = settings.trusted_proxies
        self.whitelist = settings.rate_limit_whitelist
        self.metrics = metrics
        self.amount = settings.streaming_rate_limit
        # `limits` counts whole seconds; a window in ms is rounded up.
        self.window_s = max(1, math.ceil(settings.streaming_window_ms / 1000))
        self.slowapi = Limiter(
            key_func=self.client,
            strategy="moving-window",
            storage_uri=settings.rate_limit_storage_url,
            headers_enabled=False,
        )
        self._shared = self.slowapi.shared_limit(
            f"{self.amount} per {self.window_s} seconds", scope=SCOPE, exempt_when=self.exempt
        )
        self.slots = StreamSlots(settings.streaming_max_concurrent_per_ip)

    def client(self, request: Request) -> str:
        return client_ip(request, self.trusted_proxies)

    def exempt(self, request: Request) -> bool:
        return in_networks(self.client(request), self.whitelist)

    def guard(self, name: str, endpoint: Endpoint) -> Endpoint:
        """Wrap `endpoint` so each call costs one request of the shared budget."""

        async def limited(request: Request) -> Response:
            request.state.rate_checked = True
            return await endpoint(request)

        # slowapi registers limits by function name: each endpoint needs its own.
        limited.__name__ = limited.__qualname__ = f"streaming_{name}"
        checked = self._shared(limited)

        async def guarded(request: Request) -> Response:
            try:
                response = await checked(request)
            except RateLimitExceeded:
                self.metrics.rate_limited.labels("rate").inc()
                return self.too_many_requests(request)
            except BadRequest as exc:
                response = bad_request_response(exc)
            except Exception:
                if getattr(request.state, "rate_checked", False):
                    raise  # the endpoint's own failure, not the limiter's
                log.exception("rate limit storage failed")
                return JSONResponse(
                    {"status": 503, "error": "Rate limiter unavailable", "code": "RATE_LIMIT_UNAVAILABLE"},
                    status_code=503,
                    headers={"Retry-After": "5"},
                )
            add_headers(response, self.headers(request))
            return response

        guarded.__name__ = name
        return guarded

    def headers(self, request: Request) -> list[tuple[str, str]]:
        current = getattr(request.state, "view_rate_limit", None)
        if current is None:  # whitelisted: not limited, so no budget to report
            return []
        item, args = current
        reset_at, remaining = self.slowapi.limiter.get_window_stats(item, *args)
        return [
            ("X-RateLimit-Limit", str(item.amount)),
            ("X-RateLimit-Remaining", str(max(0, remaining))),
            ("X-RateLimit-Reset", str(math.ceil(reset_at))),
        ]

    def too_many_requests(self, request: Request) -> JSONResponse:
        headers = dict(self.headers(request))
        reset_at = int(headers.get("X-RateLimit-Reset", time.time() + self.window_s))
        retry_after = max(1, math.ceil(reset_at - time.time()))
        headers["Retry-After"] = str(retry_after)
        return JSONResponse(
            {
                "status": 429,
                "error": "Streaming rate limit exceeded",
                "code": "RATE_LIMITED",
                "retry_after": retry_after,
            },
            status_code=429,
            headers=headers,
        )

    def too_many_streams(self, request: Request) -> JSONResponse:
        self.metrics.rate_limited.labels("concurrent").inc()
        response = JSONResponse(
            {
                "status": 429,
                "error": f"Too many open streams (at most {self.slots.limit} per client)",
                "code": "TOO_MANY_STREAMS",
            },
            status_code=429,
            headers={"Retry-After": "1"},
        )
        return response


def add_headers(response: object, pairs: list[tuple[str, str]]) -> None:
    """Add headers to a Starlette `Response` or to one of the engine's ASGI responses."""
    if not pairs:
        return
    headers = getattr(response, "headers")
    if isinstance(headers, list):
        headers.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in pairs)
    else:
        for key, value in pairs:
            headers[key] = value
