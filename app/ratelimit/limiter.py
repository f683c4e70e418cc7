"""One shared request budget for every streaming endpoint: a moving window of
`STREAMING_RATE_LIMIT` requests per `STREAMING_WINDOW_MS` per client, so the five endpoints
and their JSON twins draw on ONE budget.

- `memory://` (one process): `app/ratelimit/window.py`.
- `redis://...` (every instance draws on the same budget): limits' asyncio API
  (`limits.aio`, moving window, key `LIMITS:LIMITER/<client>/streaming/<n>/<s>/second`) over
  the app's own bounded redis-py asyncio pool, so a check never blocks the event loop
  (measured in bench/instances.py against the synchronous call slowapi would make: 1.8x the
  throughput, no stall). Redis unreachable: `RATE_LIMIT_FAIL_OPEN` decides (default: refuse
  with 503 `RATE_LIMIT_UNAVAILABLE`; open: serve without a limit), logged once per outage
  (app/redis_link.py); the concurrent-stream cap follows the same rule.

Every response of a limited route carries integer `X-RateLimit-Limit`, `-Remaining` and
`-Reset` (Unix seconds); a 429 adds `Retry-After` and a JSON body with a stable code.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from functools import partial

from limits import parse as parse_limit
from limits.aio.storage import RedisStorage as AsyncRedisStorage
from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindow
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.errors import BadRequest, bad_request_response
from app.ratelimit.client import client_ip, in_networks
from app.ratelimit.concurrency import RedisStreamSlots, StreamSlots, once
from app.ratelimit.window import MovingWindow
from app.redis_link import ERRORS, RedisLinks, is_redis
from app.streams.metrics import StreamMetrics
from config.settings import Settings

log = logging.getLogger("storestream.ratelimit")

Endpoint = Callable[[Request], Awaitable[Response]]
SCOPE = "streaming"
_HEADERS_KEY = "storestream.rate_headers"


class StreamLimiter:
    def __init__(
        self, settings: Settings, metrics: StreamMetrics, redis: RedisLinks | None = None, *,
        budget: int | None = None, scope: str = SCOPE,
    ) -> None:
        """`budget` and `scope`: a budget of its own (per window and client) for routes that
        must not spend the streaming one (`POST /api/events`: ANALYTICS_RATE_LIMIT)."""
        self.scope = scope
        self.trusted_proxies = settings.trusted_proxies
        self.whitelist = settings.rate_limit_whitelist
        self.metrics = metrics
        self.amount = settings.streaming_rate_limit if budget is None else budget
        # Whole seconds, as `limits` counts them in Redis; a window in ms is rounded up.
        self.window_s = max(1, math.ceil(settings.streaming_window_ms / 1000))
        url = settings.rate_limit_storage_url
        self.fail_open = settings.rate_limit_fail_open
        self.remote = is_redis(url)
        self.window = MovingWindow(self.amount, self.window_s)
        self._item = parse_limit(f"{self.amount} per {self.window_s} seconds")
        self.slots: StreamSlots | RedisStreamSlots = StreamSlots(settings.streaming_max_concurrent_per_ip)
        self._consequence = (
            "requests are served without a rate limit (RATE_LIMIT_FAIL_OPEN)"
            if self.fail_open
            else f"{'streaming' if scope == SCOPE else scope} requests are refused with 503 RATE_LIMIT_UNAVAILABLE"
        )
        if self.remote:
            if redis is None:
                redis = RedisLinks(timeout_ms=settings.redis_timeout_ms, lease_s=settings.redis_lease_s,
                                   instance_id="limiter")
            link = redis.get(url)
            self.outage = link.outage
            self.slots = RedisStreamSlots(
                link, settings.streaming_max_concurrent_per_ip, fail_open=self.fail_open
            )
            self._moving_window = AsyncMovingWindow(AsyncRedisStorage(
                # limits hands its options to redis-py, and types them as plain values only.
                "async+" + url, implementation="redispy",
                connection_pool=link.client.connection_pool,  # type: ignore[arg-type]
            ))
            self.outage.register(self._name, self._consequence)

    @property
    def _name(self) -> str:
        return "rate limiter" if self.scope == SCOPE else f"{self.scope} rate limiter"

    def client(self, request: Request) -> str:
        return client_ip(request, self.trusted_proxies)

    def exempt(self, request: Request) -> bool:
        return bool(self.whitelist) and in_networks(self.client(request), self.whitelist)

    def guard(self, name: str, endpoint: Endpoint, *, deferred: Callable[[Request], bool] | None = None) -> Endpoint:
        """Wrap `endpoint` so each call costs one request of the shared budget. A request for
        which `deferred(request)` is true (a resume) is not counted here: the endpoint calls
        `charge` itself once it knows the request is worth counting (a resume with nothing
        left to send is not)."""

        async def guarded(request: Request) -> Response:
            if deferred is None or not deferred(request):
                refusal = await self.charge(request)
                if refusal is not None:
                    return refusal
            try:
                response = await endpoint(request)
            except BadRequest as exc:
                response = bad_request_response(exc)
            add_headers(response, request.scope.pop(_HEADERS_KEY, []))
            return response

        guarded.__name__ = name
        return guarded

    async def charge(self, request: Request) -> Response | None:
        """Spend one request of the client's budget now: the refusal (429, or 503 when the
        budget lives in an unreachable Redis and the limiter fails closed), or None."""
        if self.exempt(request):
            return None
        if self.remote:
            return await self._charge_redis(request)
        allowed, remaining, reset_at = self.window.hit(self.client(request))
        return self._answer(request, allowed, remaining, reset_at)

    async def _charge_redis(self, request: Request) -> Response | None:
        if self.outage.ready():
            args = [self.client(request), self.scope]
            try:
                allowed = await self._moving_window.hit(self._item, *args)
                reset_at, remaining = await self._moving_window.get_window_stats(self._item, *args)
            except ERRORS as exc:
                self.outage.failed(self._name, exc, self._consequence)
            else:
                self.outage.ok()
                return self._answer(request, allowed, remaining, reset_at)
        if self.fail_open:
            return None  # no budget known: no X-RateLimit-* headers
        return self.unavailable()

    def _answer(self, request: Request, allowed: bool, remaining: int, reset_at: float) -> Response | None:
        # In the scope, not `request.state` (which would build a State object per request):
        # `guard` takes them out again when it adds them to the response.
        request.scope[_HEADERS_KEY] = [
            ("X-RateLimit-Limit", str(self.amount)),
            ("X-RateLimit-Remaining", str(max(0, remaining))),
            ("X-RateLimit-Reset", str(math.ceil(reset_at))),
        ]
        if allowed:
            return None
        self.metrics.rate_limited.labels("rate").inc()
        return self.too_many_requests(request)

    async def take_slot(self, client: str) -> Callable[[], None] | None:
        """One of `client`'s concurrent-stream slots: a release callback, or None at the cap.
        Raises `Unavailable` when the slots live in Redis, Redis is unreachable and the
        limiter fails closed."""
        slots = self.slots
        if isinstance(slots, RedisStreamSlots):
            return await slots.acquire(client)
        if not slots.acquire(client):
            return None
        return once(partial(slots.release, client))

    def unavailable(self) -> JSONResponse:
        self.metrics.rate_limited.labels("unavailable").inc()
        return JSONResponse(
            {"status": 503, "error": "Rate limiter unavailable", "code": "RATE_LIMIT_UNAVAILABLE"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    def headers(self, request: Request) -> list[tuple[str, str]]:
        """The X-RateLimit-* headers of this request's check (none when it was not counted)."""
        return request.scope.get(_HEADERS_KEY, [])

    def too_many_requests(self, request: Request) -> JSONResponse:
        headers = dict(self.headers(request))
        reset_at = int(headers.get("X-RateLimit-Reset", time.time() + self.window_s))
        retry_after = max(1, math.ceil(reset_at - time.time()))
        headers["Retry-After"] = str(retry_after)
        return JSONResponse(
            {
                "status": 429,
                "error": "Streaming rate limit exceeded" if self.scope == SCOPE else f"Rate limit of {self.scope} exceeded",
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


def add_headers(response: Response, pairs: list[tuple[str, str]]) -> None:
    """Add headers to a response: a Starlette one, or one of the engine's event-stream responses
    (Starlette `Response`s too, app/streams/response.py)."""
    for key, value in pairs:
        response.headers[key] = value
