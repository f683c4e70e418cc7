"""Replay buffer behind `Last-Event-ID`: the frames a stream sent, held for a while after it ends.

A client that reconnects with the id of the last event it saw gets the frames after it again,
without the producer running a second time. The buffer is bounded three ways: events per
stream, bytes per stream and streams held; a finished stream expires after a TTL. Beyond
the streams bound, finished streams are evicted first (oldest first), then the oldest
running ones: a stream still being written (perhaps detached, awaiting its client) keeps its
frames as long as anything finished can go instead.

Each stream is filed with its `Binding` (route and client, app/streams/resume.py), which a
resume must match. The interface is async so a shared store (Redis) can implement it for
several instances.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol, TypedDict

from app.streams.resume import Binding


@dataclass(frozen=True, slots=True)
class Replay:
    frames: list[tuple[int, bytes]]  # (seq, encoded frame) after the requested seq
    finished: bool  # the stream has ended: nothing more will be appended
    binding: Binding | None = None  # None: recorded without one (refused for resume)
    # Shared buffer only: the instance writing it died before it finished. `next_seq` is the
    # seq its end must take (`ReplayBuffer.seal`).
    orphaned: bool = False
    next_seq: int = 0
    owner: str = ""  # the instance writing it ("" in process)


class ReplayBounds(TypedDict):
    """What a replay buffer holds at most (the STREAM_REPLAY_* settings); both take them."""

    max_events: int
    max_bytes: int
    max_streams: int
    ttl_s: float


class ReplayBuffer(Protocol):
    async def open(self, stream_id: str, binding: Binding) -> None:
        """Record a new stream's binding, before its first frame."""
        ...

    async def append(self, stream_id: str, frames: list[tuple[int, bytes]]) -> None: ...

    async def finish(self, stream_id: str) -> None: ...

    async def read(self, stream_id: str, after_seq: int) -> Replay | None:
        """Frames after `after_seq`, or None when the stream is unknown, expired, or the
        frames right after `after_seq` were already dropped (a gap cannot be replayed)."""
        ...

    async def seal(self, stream_id: str, next_seq: int, frames: list[tuple[int, bytes]]) -> None:
        """End an orphaned stream with `frames` (its error and close) for every resumer."""
        ...

    async def aclose(self) -> None:
        """At shutdown: write what is still behind (the Redis buffer writes behind)."""
        ...


def trim(
    frames: list[tuple[int, bytes]], size: int, *, max_events: int, max_bytes: int, keep_after: int | None = None
) -> tuple[int, int | None]:
    """Drop the oldest of `frames` (holding `size` bytes) beyond `max_events` and `max_bytes`,
    but none after seq `keep_after`. Returns the bytes left and the first seq now held
    (None when nothing was dropped)."""
    drop = 0
    while drop < len(frames) and (keep_after is None or frames[drop][0] <= keep_after) and (
        len(frames) - drop > max_events or size > max_bytes
    ):
        size -= len(frames[drop][1])
        drop += 1
    if not drop:
        return size, None
    first = frames[drop - 1][0] + 1
    del frames[:drop]
    return size, first


@dataclass(slots=True)
class _Held:
    frames: list[tuple[int, bytes]] = field(default_factory=list)  # a list: 0.7 KB less than a deque
    size: int = 0
    first_seq: int = 0  # lowest seq still held
    finished_at: float | None = None
    binding: Binding | None = None


class MemoryReplayBuffer:
    """Per-process buffer: resume works when the reconnect reaches the same instance."""

    def __init__(
        self, *, max_events: int, max_bytes: int, max_streams: int, ttl_s: float
    ) -> None:
        self._streams: OrderedDict[str, _Held] = OrderedDict()  # in the order they started
        self._finished: OrderedDict[str, float] = OrderedDict()  # stream -> when it finished, in that order
        self._max_events = max_events
        self._max_bytes = max_bytes
        self._max_streams = max_streams
        self._ttl_s = ttl_s

    def __len__(self) -> int:
        return len(self._streams)

    async def open(self, stream_id: str, binding: Binding) -> None:
        self._expire()
        self._streams[stream_id] = _Held(first_seq=1, binding=binding)
        self._evict()

    async def append(self, stream_id: str, frames: list[tuple[int, bytes]]) -> None:
        held = self._streams.get(stream_id)
        if held is None:  # evicted while running (or never opened): start over from here
            self._expire()
            held = self._streams[stream_id] = _Held(first_seq=frames[0][0] if frames else 0)
            self._evict()
        held.frames.extend(frames)
        held.size, first = trim(held.frames, held.size + sum(len(data) for _, data in frames),
                                max_events=self._max_events, max_bytes=self._max_bytes)
        if first is not None:
            held.first_seq = first

    async def finish(self, stream_id: str) -> None:
        held = self._streams.get(stream_id)
        if held is not None and held.finished_at is None:
            held.finished_at = self._finished[stream_id] = time.monotonic()

    async def read(self, stream_id: str, after_seq: int) -> Replay | None:
        self._expire()
        held = self._streams.get(stream_id)
        if held is None or after_seq + 1 < held.first_seq:
            return None
        frames = [frame for frame in held.frames if frame[0] > after_seq]
        return Replay(frames=frames, finished=held.finished_at is not None, binding=held.binding)

    async def seal(self, stream_id: str, next_seq: int, frames: list[tuple[int, bytes]]) -> None:
        return None  # in process, a stream's writer cannot die without the buffer

    async def aclose(self) -> None:
        return None  # nothing is written behind

    def _evict(self) -> None:
        """Beyond `max_streams`: the oldest finished streams first, then the oldest running.
        (Both orders are kept, so a new stream costs O(1), not a scan of every stream.)"""
        while len(self._streams) > self._max_streams:
            if self._finished:
                sid, _ = self._finished.popitem(last=False)
                del self._streams[sid]
            else:
                self._streams.popitem(last=False)

    def _expire(self) -> None:
        cutoff = time.monotonic() - self._ttl_s
        while self._finished:
            sid, finished_at = next(iter(self._finished.items()))
            if finished_at >= cutoff:
                return
            del self._finished[sid]
            del self._streams[sid]
