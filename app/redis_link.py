"""Redis as several instances share it: the rate-limit budget, the concurrent-stream leases
and the replay buffer. Everything here is built to fail fast and say so once.

- Clients have short timeouts (`REDIS_TIMEOUT_MS` for connect and for each reply) and retry
  only once, at once, after a connection error (a pooled connection that a restarted Redis
  closed): redis-py 8 otherwise retries 10 times with back-off, and without a timeout a
  hung Redis would hold a call forever.
- `Outage` is the state of one Redis server as this process sees it, shared by everything
  that talks to it (limiter, stream cap, replay buffer): the first failure logs one
  warning, the first success after it logs one recovery line; while it is down, callers skip
  Redis for `RETRY_S` and only one call per `RETRY_S` probes it again (a stopped or
  firewalled Redis costs one timeout per second, not one per request).
- `RedisLink` is one server: its asyncio client, its `Outage`, and this instance's heartbeat
  key (`storestream:instance:<id>`, refreshed every third of `REDIS_LEASE_S` while the
  instance has streams): another instance that finds it gone knows this one died.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

log = logging.getLogger("storestream.redis")

PREFIX = "storestream:"
RETRY_S = 1.0  # while Redis is down: how often one call probes it again
_MAX_CONNECTIONS = 64  # per Redis server and instance (asyncio client)

# What a failed Redis call raises: redis-py's errors, and OSError from the socket layer.
ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, asyncio.TimeoutError)


def redacted(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def client_options(timeout_ms: int, *, asyncio_client: bool = False) -> dict[str, Any]:
    """redis-py options (sync, or asyncio): fail within `timeout_ms`, never retry."""
    if asyncio_client:
        from redis.asyncio.retry import Retry
    else:
        from redis.retry import Retry  # type: ignore[assignment]

    timeout = timeout_ms / 1000
    return {
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,
        # One immediate retry on a connection error only: a pooled connection Redis closed
        # (it restarted) fails at once and is replaced. Never after a timeout.
        "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        "health_check_interval": 0,
    }


def _redis_py_url(url: str) -> str:
    return "unix://" + url[len("redis+unix://"):] if url.startswith("redis+unix://") else url


class Unavailable(Exception):
    """Redis is (known to be) unreachable; the caller applies its fail-open/closed rule."""


class Outage:
    """Up or down, for one Redis server (thread-safe)."""

    def __init__(self, url: str) -> None:
        self.url = redacted(url)
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self._next_probe = 0.0
        self.outages = 0  # how many began (for tests and metrics)
        self.consequences: dict[str, str] = {}  # component -> what it does while Redis is down

    def register(self, who: str, consequence: str) -> None:
        """Name what `who` does during an outage, for the one line that reports it."""
        self.consequences[who] = consequence

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def ready(self) -> bool:
        """May the caller use Redis now? Always when up; when down, one caller per RETRY_S."""
        if self.down_since is None:
            return True
        with self._lock:
            now = time.monotonic()
            if now >= self._next_probe:
                self._next_probe = now + RETRY_S
                return True
            return False

    def failed(self, who: str, exc: BaseException, consequence: str) -> None:
        with self._lock:
            self._next_probe = time.monotonic() + RETRY_S
            self.consequences.setdefault(who, consequence)
            if self.down_since is not None:
                return
            self.down_since = time.monotonic()
            self.outages += 1
        log.warning(
            "redis unreachable at %s (%s: %s; noticed by the %s). Until it is back: %s",
            self.url, type(exc).__name__, exc, who,
            "; ".join(f"{name}: {what}" for name, what in self.consequences.items()),
            extra={"event": "redis_down", "redis": self.url, "component": who},
        )

    def ok(self) -> None:
        if self.down_since is None:
            return
        with self._lock:
            if self.down_since is None:
                return
            lasted = time.monotonic() - self.down_since
            self.down_since = None
        log.warning(
            "redis reachable again at %s after %.1f s", self.url, lasted,
            extra={"event": "redis_up", "redis": self.url, "outage_s": round(lasted, 1)},
        )


class RedisLink:
    """One Redis server as this instance uses it."""

    def __init__(self, url: str, *, timeout_ms: int, lease_s: float, instance_id: str) -> None:
        self.url = url
        self.timeout_ms = timeout_ms
        self.lease_s = lease_s
        self.instance_id = instance_id
        self.outage = Outage(url)
        # A bounded pool that waits (up to the timeout) for a free connection: a burst (a
        # thousand streams closing at once) queues instead of failing with "Too many
        # connections", which would read as an outage.
        pool = aioredis.BlockingConnectionPool.from_url(
            _redis_py_url(url), max_connections=_MAX_CONNECTIONS, timeout=timeout_ms / 1000,
            **client_options(timeout_ms, asyncio_client=True),
        )
        self.client = aioredis.Redis.from_pool(pool)
        self.heartbeat_key = f"{PREFIX}instance:{instance_id}"
        self._keepers: list[Callable[[Any], Awaitable[None]]] = []
        self._keeper: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()

    async def call(self, who: str, consequence: str, work: Callable[[Any], Awaitable[Any]]) -> Any:
        """`await work(client)`, through the outage state: raises `Unavailable` when Redis is
        known to be down or the call fails (the failure is logged once per outage)."""
        if not self.outage.ready():
            raise Unavailable(self.outage.url)
        try:
            result = await work(self.client)
        except ERRORS as exc:
            self.outage.failed(who, exc, consequence)
            raise Unavailable(self.outage.url) from exc
        self.outage.ok()
        return result

    def background(self, who: str, consequence: str, work: Callable[[Any], Awaitable[Any]]) -> None:
        """Fire and forget (a release, an eviction): failures only feed the outage state."""

        async def run() -> None:
            try:
                await self.call(who, consequence, work)
            except Unavailable:
                pass

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def keep(self, renew: Callable[[Any], Awaitable[None]]) -> None:
        """Every third of the lease, `await renew(pipeline)` queues its commands in one
        pipeline with the heartbeat."""
        self._keepers.append(renew)
        self.ensure_keeper()

    def ensure_keeper(self) -> None:
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.get_running_loop().create_task(self._keep(), name="redis-keeper")

    async def _keep(self) -> None:
        lease_ms = int(self.lease_s * 1000)
        while True:
            async def beat(client: Any) -> None:
                async with client.pipeline(transaction=False) as pipe:
                    pipe.set(self.heartbeat_key, b"1", px=lease_ms)
                    for renew in self._keepers:
                        await renew(pipe)
                    await pipe.execute()

            try:
                await self.call("lease keeper", "leases are renewed when it is back", beat)
            except Unavailable:
                pass
            except Exception:  # noqa: BLE001 - never let the keeper die
                log.exception("redis lease keeper failed")
            await asyncio.sleep(self.lease_s / 3)

    async def close(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
        for task in list(self._background):
            try:
                await asyncio.wait_for(task, self.timeout_ms / 1000 + 0.5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
        try:
            await self.client.delete(self.heartbeat_key)
        except ERRORS:
            pass
        try:
            await self.client.aclose()
        except ERRORS:
            pass


class RedisLinks:
    """One `RedisLink` per distinct URL, so the limiter, the stream leases and the replay
    buffer share connections and one outage state when they use the same server."""

    def __init__(self, *, timeout_ms: int, lease_s: float, instance_id: str) -> None:
        self.timeout_ms = timeout_ms
        self.lease_s = lease_s
        self.instance_id = instance_id
        self._links: dict[str, RedisLink] = {}

    def get(self, url: str) -> RedisLink:
        link = self._links.get(url)
        if link is None:
            link = self._links[url] = RedisLink(
                url, timeout_ms=self.timeout_ms, lease_s=self.lease_s, instance_id=self.instance_id
            )
        return link

    def __iter__(self):
        return iter(self._links.values())

    async def close(self) -> None:
        for link in self._links.values():
            await link.close()


def is_redis(url: str) -> bool:
    return url.startswith(("redis://", "rediss://", "redis+unix://"))
