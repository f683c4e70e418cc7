"""One shared request budget for every streaming endpoint, on slowapi.

slowapi's route decorator does the counting (`shared_limit` with one scope, so the five
endpoints and their JSON twins draw on ONE budget, moving-window strategy). Two things are
ours because slowapi gets them wrong for this use (see ../shared field notes):
- the headers: integer `X-RateLimit-Reset` (Unix seconds) on every response, `Retry-After`
  only on a 429;
- the 429 body, JSON with a stable code.
`SlowAPIASGIMiddleware` is not used: it resends `http.response.start` and breaks streaming.

With `RATE_LIMIT_STORAGE_URL=redis://...` every instance draws on the same budget in Redis.
slowapi calls its storage synchronously, which would block the event loop for a round trip
per request (for the whole timeout when Redis hangs). So with Redis the check is made with
limits' asyncio API (`limits.aio`, the same moving-window strategy, the same `LIMITS:LIMITER/
<client>/streaming/<n>/<s>/second` key slowapi uses, over the app's own bounded redis-py
asyncio pool), before slowapi's wrapper, which then skips its own check. Measured against a
thread pool running slowapi's check (bench/instances.py): 2.5x the throughput, no stall.
Redis unreachable: `RATE_LIMIT_FAIL_OPEN` decides (default: refuse with 503
`RATE_LIMIT_UNAVAILABLE`; open: serve without a limit), logged once per outage
(app/redis_link.py); the concurrent-stream cap follows the same rule.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable

from limits import parse as parse_limit
from limits.aio.storage import RedisStorage as AsyncRedisStorage
from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindow
from slowapi import Limiter
from slowapi.errors import RateLimitExceeded
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.errors import BadRequest, bad_request_response
from app.ratelimit.client import client_ip, in_networks
from app.ratelimit.concurrency import RedisStreamSlots, StreamSlots, once
from app.redis_link import ERRORS, RedisLinks, client_options, is_redis
from app.streams.metrics import StreamMetrics
from config.settings import Settings

log = logging.getLogger("storestream.ratelimit")

Endpoint = Callable[[Request], Awaitable[Response]]
SCOPE = "streaming"


class StreamLimiter:
    def __init__(
        self, settings: Settings, metrics: StreamMetrics, redis: RedisLinks | None = None
    ) -> None:
        self.trusted_proxies = settings.trusted_proxies
        self.whitelist = settings.rate_limit_whitelist
        self.metrics = metrics
        self.amount = settings.streaming_rate_limit
        # `limits` counts whole seconds; a window in ms is rounded up.
        self.window_s = max(1, math.ceil(settings.streaming_window_ms / 1000))
        url = settings.rate_limit_storage_url
        self.fail_open = settings.rate_limit_fail_open
        self.remote = is_redis(url)
        self.slowapi = Limiter(
            key_func=self.client,
            strategy="moving-window",
            storage_uri=url,
            storage_options=client_options(settings.redis_timeout_ms) if self.remote else {},
            headers_enabled=False,
        )
        self._shared = self.slowapi.shared_limit(
            f"{self.amount} per {self.window_s} seconds", scope=SCOPE, exempt_when=self.exempt
        )
        # The same budget as one `limits` item, for the checks made outside slowapi's wrapper.
        self._item = parse_limit(f"{self.amount} per {self.window_s} seconds")
        self.slots: StreamSlots | RedisStreamSlots = StreamSlots(settings.streaming_max_concurrent_per_ip)
        if self.remote:
            if redis is None:
                redis = RedisLinks(timeout_ms=settings.redis_timeout_ms, lease_s=settings.redis_lease_s,
                                   instance_id="limiter")
            link = redis.get(url)
            self.outage = link.outage
            self.slots = RedisStreamSlots(
                link, settings.streaming_max_concurrent_per_ip, fail_open=self.fail_open
            )
            # The budget slowapi's decorator describes, counted with limits' asyncio API.
            self._moving_window = AsyncMovingWindow(AsyncRedisStorage(
                "async+" + url, implementation="redispy", connection_pool=link.client.connection_pool
            ))
        self._consequence = (
            "requests are served without a rate limit (RATE_LIMIT_FAIL_OPEN)"
            if self.fail_open
            else "streaming requests are refused with 503 RATE_LIMIT_UNAVAILABLE"
        )
        if self.remote:
            self.outage.register("rate limiter", self._consequence)

    def client(self, request: Request) -> str:
        return client_ip(request, self.trusted_proxies)

    def exempt(self, request: Request) -> bool:
        return in_networks(self.client(request), self.whitelist)

    def guard(self, name: str, endpoint: Endpoint, *, deferred: Callable[[Request], bool] | None = None) -> Endpoint:
        """Wrap `endpoint` so each call costs one request of the shared budget. A request for
        which `deferred(request)` is true (a resume) is not counted here: the endpoint calls
        `charge` itself once it knows the request is worth counting (a resume with nothing
        left to send is not)."""

        async def limited(request: Request) -> Response:
            request.state.rate_checked = True
            return await endpoint(request)

        # slowapi registers limits by function name: each endpoint needs its own.
        limited.__name__ = limited.__qualname__ = f"streaming_{name}"
        checked = self._shared(limited)

        async def guarded(request: Request) -> Response:
            try:
                if deferred is not None and deferred(request):
                    request.state.rate_checked = True
                    response = await endpoint(request)
                    add_headers(response, self.headers(request))
                    return response
                if self.remote and not self.exempt(request):
                    refusal = await self._check_redis(request)
                    if refusal is not None:
                        return refusal
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
                return self.unavailable()
            add_headers(response, self.headers(request))
            return response

        guarded.__name__ = name
        return guarded

    async def charge(self, request: Request) -> Response | None:
        """Spend one request of the client's budget now: the refusal (429, or 503 when the
        budget lives in an unreachable Redis and the limiter fails closed), or None."""
        if self.exempt(request):
            return None
        if self.remote:
            return await self._check_redis(request)
        args = [self.client(request), SCOPE]  # slowapi's key: the same counter
        request.state.view_rate_limit = (self._item, args)
        if not self.slowapi.limiter.hit(self._item, *args):
            self.metrics.rate_limited.labels("rate").inc()
            return self.too_many_requests(request)
        return None

    async def _check_redis(self, request: Request) -> Response | None:
        """The budget check against Redis, without blocking the event loop. Returns the
        refusal (429, or 503 when Redis is unreachable and the limiter fails closed), or None
        to go on (slowapi's wrapper then skips its own check)."""
        if self.outage.ready():
            args = [self.client(request), SCOPE]  # slowapi's key: the same counter
            try:
                allowed = await self._moving_window.hit(self._item, *args)
                reset_at, remaining = await self._moving_window.get_window_stats(self._item, *args)
            except ERRORS as exc:
                self.outage.failed("rate limiter", exc, self._consequence)
            else:
                self.outage.ok()
                request.state.view_rate_limit = (self._item, args)
                request.state._rate_limiting_complete = True  # slowapi's wrapper skips its own
                request.state.rate_headers = [
                    ("X-RateLimit-Limit", str(self._item.amount)),
                    ("X-RateLimit-Remaining", str(max(0, remaining))),
                    ("X-RateLimit-Reset", str(math.ceil(reset_at))),
                ]
                if not allowed:
                    self.metrics.rate_limited.labels("rate").inc()
                    return self.too_many_requests(request)
                return None
        if self.fail_open:
            request.state._rate_limiting_complete = True
            request.state.view_rate_limit = None  # no budget known: no X-RateLimit-* headers
            return None
        return self.unavailable()

    async def take_slot(self, client: str) -> Callable[[], None] | None:
        """One of `client`'s concurrent-stream slots: a release callback, or None at the cap.
        Raises `Unavailable` when the slots live in Redis, Redis is unreachable and the
        limiter fails closed."""
        slots = self.slots
        if isinstance(slots, RedisStreamSlots):
            return await slots.acquire(client)
        if not slots.acquire(client):
            return None
        return once(lambda: slots.release(client))

    def unavailable(self) -> JSONResponse:
        self.metrics.rate_limited.labels("unavailable").inc()
        return JSONResponse(
            {"status": 503, "error": "Rate limiter unavailable", "code": "RATE_LIMIT_UNAVAILABLE"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    def headers(self, request: Request) -> list[tuple[str, str]]:
        ready = getattr(request.state, "rate_headers", None)
        if ready is not None:  # read with the check (Redis storage)
            return ready
        return self._window_headers(request)

    def _window_headers(self, request: Request) -> list[tuple[str, str]]:
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
