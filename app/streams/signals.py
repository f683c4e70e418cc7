"""What instances tell each other about a running stream: "someone follows it" and "stop it".

A stream's producer runs on the instance that opened it. With the shared replay buffer
(`STREAM_REPLAY_URL=redis://...`) a resume or a stop may reach another instance:
- a resume there follows the stream from Redis; the owner must know, or it would cancel a
  detached stream whose client did come back, only elsewhere (`follow` / `followed`);
- a stop there must reach the owner at once (`request_stop` / `stop_requests`).

`LocalSignals` is one instance: nobody else can follow or stop. `RedisSignals` uses

    storestream:replay:<id>:follow   set by a follower for FOLLOW_TTL_S, renewed while it follows
    storestream:stops:<instance>     ids that instance is asked to stop; it takes them every
                                     STOP_POLL_S while it runs any stream (app/streams/runs.py)

Redis unreachable: nobody is known to follow (a detached stream ends when its window does)
and a stop cannot be passed on (`request_stop` says so); one log line per outage.
"""

from __future__ import annotations

from typing import Any, Protocol

from app.redis_link import PREFIX, RedisLink, Unavailable

FOLLOW_TTL_S = 3.0  # a follower renews every FOLLOW_RENEW_S; gone for this long, it no longer counts
FOLLOW_RENEW_S = 1.0
STOP_POLL_S = 0.2
_CONSEQUENCE = "a stream followed or stopped from another instance is not known to its owner"


class StreamSignals(Protocol):
    async def follow(self, stream_id: str) -> None:
        """Say that a connection here is following `stream_id` (renew every FOLLOW_RENEW_S)."""
        ...

    async def followed(self, stream_id: str) -> bool:
        """Is anyone (on another instance) following `stream_id` now?"""
        ...

    async def request_stop(self, owner: str, stream_id: str) -> bool:
        """Ask instance `owner` to stop `stream_id`; False if the request could not be sent."""
        ...

    async def stop_requests(self) -> list[str]:
        """The stream ids this instance was asked to stop since the last call."""
        ...


class LocalSignals:
    """One instance: streams are followed and stopped only where they run."""

    async def follow(self, stream_id: str) -> None:
        return None

    async def followed(self, stream_id: str) -> bool:
        return False

    async def request_stop(self, owner: str, stream_id: str) -> bool:
        return False

    async def stop_requests(self) -> list[str]:
        return []


class RedisSignals:
    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self._follow_ms = int(FOLLOW_TTL_S * 1000)
        self._stops = self.stops_key(link.instance_id)
        link.outage.register("stream signals", _CONSEQUENCE)

    @staticmethod
    def follow_key(stream_id: str) -> str:
        return f"{PREFIX}replay:{stream_id}:follow"

    @staticmethod
    def stops_key(instance: str) -> str:
        return f"{PREFIX}stops:{instance}"

    async def _call(self, work: Any) -> Any:
        return await self.link.call("stream signals", _CONSEQUENCE, work)

    async def follow(self, stream_id: str) -> None:
        try:
            await self._call(lambda c: c.set(self.follow_key(stream_id), b"1", px=self._follow_ms))
        except Unavailable:
            pass

    async def followed(self, stream_id: str) -> bool:
        try:
            return bool(await self._call(lambda c: c.exists(self.follow_key(stream_id))))
        except Unavailable:
            return False

    async def request_stop(self, owner: str, stream_id: str) -> bool:
        key = self.stops_key(owner)

        async def send(client: Any) -> None:
            async with client.pipeline(transaction=False) as pipe:
                pipe.sadd(key, stream_id)
                pipe.expire(key, 60)  # an owner that died never reads it
                await pipe.execute()

        try:
            await self._call(send)
        except Unavailable:
            return False
        return True

    async def stop_requests(self) -> list[str]:
        try:
            taken = await self._call(lambda c: c.spop(self._stops, 100))
        except Unavailable:
            return []
        return [v.decode() if isinstance(v, bytes) else str(v) for v in taken or []]
