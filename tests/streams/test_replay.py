"""The in-memory replay buffer's bounds."""

from __future__ import annotations

import asyncio

from app.streams.replay import MemoryReplayBuffer
from app.streams.resume import Binding


def frames(start: int, end: int, size: int = 10) -> list[tuple[int, bytes]]:
    return [(seq, b"x" * size) for seq in range(start, end + 1)]


async def test_reads_after_a_seq_and_knows_when_finished() -> None:
    buffer = MemoryReplayBuffer(max_events=100, max_bytes=10_000, max_streams=10, ttl_s=60)
    await buffer.append("s", frames(1, 5))
    held = await buffer.read("s", 2)
    assert held is not None and [seq for seq, _ in held.frames] == [3, 4, 5] and not held.finished
    await buffer.finish("s")
    assert (await buffer.read("s", 5)).finished
    assert await buffer.read("unknown", 0) is None


async def test_a_gap_cannot_be_replayed() -> None:
    buffer = MemoryReplayBuffer(max_events=3, max_bytes=10_000, max_streams=10, ttl_s=60)
    await buffer.append("s", frames(1, 6))
    assert await buffer.read("s", 1) is None  # 2 and 3 were dropped
    held = await buffer.read("s", 3)
    assert held is not None and [seq for seq, _ in held.frames] == [4, 5, 6]


async def test_byte_bound_per_stream() -> None:
    buffer = MemoryReplayBuffer(max_events=100, max_bytes=25, max_streams=10, ttl_s=60)
    await buffer.append("s", frames(1, 4, size=10))
    held = await buffer.read("s", 2)
    assert held is not None and [seq for seq, _ in held.frames] == [3, 4]


async def test_oldest_stream_evicted_beyond_the_cap() -> None:
    buffer = MemoryReplayBuffer(max_events=10, max_bytes=1000, max_streams=2, ttl_s=60)
    for name in ("a", "b", "c"):
        await buffer.append(name, frames(1, 1))
    assert await buffer.read("a", 0) is None
    assert await buffer.read("c", 0) is not None
    assert len(buffer) == 2


async def test_finished_streams_expire() -> None:
    buffer = MemoryReplayBuffer(max_events=10, max_bytes=1000, max_streams=10, ttl_s=0.05)
    await buffer.append("s", frames(1, 2))
    await buffer.finish("s")
    await buffer.append("live", frames(1, 1))
    await asyncio.sleep(0.1)
    assert await buffer.read("s", 0) is None
    assert await buffer.read("live", 0) is not None  # never finished: not expired


async def test_the_binding_is_kept_and_finished_streams_are_evicted_first() -> None:
    buffer = MemoryReplayBuffer(max_events=10, max_bytes=1000, max_streams=2, ttl_s=60)
    await buffer.open("running", Binding("chat", "10.0.0.1"))
    await buffer.append("running", frames(1, 2))
    await buffer.open("done", Binding("search", "10.0.0.2"))
    await buffer.append("done", frames(1, 1))
    await buffer.finish("done")
    await buffer.open("new", Binding("troika", "10.0.0.3"))
    # The oldest is "running", but it still runs (perhaps detached, awaiting its client):
    # the finished one goes instead.
    assert await buffer.read("done", 0) is None
    held = await buffer.read("running", 0)
    assert held is not None and held.binding == Binding("chat", "10.0.0.1")
