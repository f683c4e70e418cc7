"""The cap on streams a client holds open at once (`STREAMING_MAX_CONCURRENT_PER_IP`).

The request-rate limit is checked when a stream opens, so a client could otherwise hold any
number of long streams; browsers also share 6 HTTP/1.1 connections per host.

`StreamSlots` counts in this process (the default); `RedisStreamSlots` counts across every
instance sharing a Redis, with leases so that a crashed instance's streams stop counting.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Callable
from typing import Any

from app.redis_link import PREFIX, RedisLink, Unavailable


class StreamSlots:
    """In-process counts of open streams per client."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def acquire(self, client: str) -> bool:
        if self._open[client] >= self.limit:
            return False
        self._open[client] += 1
        return True

    def release(self, client: str) -> None:
        self._open[client] -= 1
        if self._open[client] <= 0:
            del self._open[client]

    def open(self, client: str) -> int:
        return self._open.get(client, 0)


# --- across instances --------------------------------------------------------------------

# One sorted set per client: member = one open stream ("<instance>:<token>"), score = when its
# lease ends (Redis server time, so the instances' clocks do not matter). Acquire drops the
# expired members first: the streams of a crashed instance stop counting once their leases
# run out, since nobody renews them.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000) + 1000)
return 1
"""

# Push the leases of this instance's open streams forward (re-adding any that lapsed while
# Redis was unreachable: those streams are still open, so they count).
_RENEW = """
local t = redis.call('TIME')
local expiry = tonumber(t[1]) + tonumber(t[2]) / 1000000 + tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], expiry, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
return #ARGV - 1
"""


class RedisStreamSlots:
    """The same cap across every instance sharing a Redis (`RATE_LIMIT_STORAGE_URL=redis://`).

    Each open stream holds a lease of `REDIS_LEASE_S`, renewed every third of it by this
    instance's keeper task (one pipeline for all its streams); closing the stream removes it.
    Redis unreachable: with `RATE_LIMIT_FAIL_OPEN` the in-process cap applies instead (per
    instance); otherwise `acquire` raises `Unavailable` and the stream is refused with 503.
    """

    def __init__(self, link: RedisLink, limit: int, *, fail_open: bool) -> None:
        self.limit = limit
        self.link = link
        self.fail_open = fail_open
        self.local = StreamSlots(limit)
        self._lease_s = link.lease_s
        self._held: dict[str, set[str]] = {}  # client -> lease members this instance renews
        self._acquire = link.client.register_script(_ACQUIRE)
        self._renew = link.client.register_script(_RENEW)
        self._keeping = False
        self._releases: dict[str, list[str]] = {}  # key -> members to remove, sent together
        self._flush_scheduled = False
        self._consequence = (
            "the concurrent-stream cap counts per instance"
            if fail_open
            else "new streams are refused with 503"
        )
        link.outage.register("stream cap", self._consequence)

    @staticmethod
    def key(client: str) -> str:
        return f"{PREFIX}slots:{client}"

    async def acquire(self, client: str) -> Callable[[], None] | None:
        """A release callback when `client` may open one more stream; None at the cap."""
        member = f"{self.link.instance_id}:{secrets.token_hex(6)}"
        key = self.key(client)
        try:
            granted = await self.link.call(
                "stream cap", self._consequence,
                lambda c: self._acquire(keys=[key], args=[self.limit, self._lease_s, member]),
            )
        except Unavailable:
            if not self.fail_open:
                raise
            if not self.local.acquire(client):
                return None
            return once(lambda: self.local.release(client))
        if not granted:
            return None
        self._held.setdefault(client, set()).add(member)
        if not self._keeping:
            self._keeping = True
            self.link.keep(self._queue_renewals)

        def release() -> None:
            members = self._held.get(client)
            if members is not None:
                members.discard(member)
                if not members:
                    del self._held[client]
            self._releases.setdefault(key, []).append(member)
            if not self._flush_scheduled:  # one pipeline for everything released meanwhile
                self._flush_scheduled = True
                asyncio.get_running_loop().call_soon(self._flush_releases)

        return once(release)

    def _flush_releases(self) -> None:
        self._flush_scheduled = False
        batch, self._releases = self._releases, {}

        async def send(client: Any) -> None:
            async with client.pipeline(transaction=False) as pipe:
                for key, members in batch.items():
                    pipe.zrem(key, *members)
                await pipe.execute()

        self.link.background("stream cap", "its lease expires on its own", send)

    async def _queue_renewals(self, pipe: Any) -> None:
        for client, members in list(self._held.items()):
            if members:
                await self._renew(keys=[self.key(client)], args=[self._lease_s, *members], client=pipe)

    def open(self, client: str) -> int:
        """Streams of `client` open on this instance (the total is in Redis)."""
        return len(self._held.get(client, ())) + self.local.open(client)


class _Once:
    """Calls `fn` the first time it is called; never again. (A slotted object rather than a
    closure: every open stream holds one.)"""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn: Callable[[], None] | None = fn

    def __call__(self) -> None:
        fn, self.fn = self.fn, None
        if fn is not None:
            fn()


def once(fn: Callable[[], None]) -> Callable[[], None]:
    return _Once(fn)
