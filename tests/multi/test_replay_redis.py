"""`RedisReplayBuffer` against a real redis-server: the same bounds as the in-process buffer,
shared by instances, id collisions, expiry, a dead owner, Redis unreachable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from app.redis_link import RedisLinks
from app.streams.replay_redis import RedisReplayBuffer
from app.streams.resume import Binding
from tests.support.redis_server import RedisServer
from tests.support.wait import eventually

Factory = Callable[..., RedisReplayBuffer]


def frames(start: int, end: int, size: int = 10) -> list[tuple[int, bytes]]:
    return [(seq, bytes([48 + seq % 10]) * size) for seq in range(start, end + 1)]


@pytest.fixture
async def make(redis_server: RedisServer) -> AsyncIterator[Factory]:
    """`make(instance="a", **bounds)`: a buffer as that instance would build it. Its Redis
    timeout is 2 s (a loaded machine took over 300 ms to connect once, and the buffer then
    counted Redis as down); the test of a hung server asks for less."""
    links: list[RedisLinks] = []

    def build(instance: str = "a", lease_s: float = 2.0, url: str | None = None, timeout_ms: int = 2000,
              **bounds: float) -> RedisReplayBuffer:
        link_set = RedisLinks(timeout_ms=timeout_ms, lease_s=lease_s, instance_id=instance)
        links.append(link_set)
        settings = {"max_events": 100, "max_bytes": 10_000, "max_streams": 10, "ttl_s": 60.0, **bounds}
        return RedisReplayBuffer(link_set.get(url or redis_server.url), **settings)  # type: ignore[arg-type]

    yield build
    for link_set in links:
        await link_set.close()


async def test_reads_after_a_seq_and_knows_when_finished(make: Factory) -> None:
    buffer = make()
    await buffer.append("s1", frames(1, 5))
    assert await buffer.flush()
    held = await buffer.read("s1", 2)
    assert held is not None and held.frames == frames(3, 5) and not held.finished
    await buffer.finish("s1")
    assert await buffer.flush()
    done = await buffer.read("s1", 5)
    assert done is not None and done.finished and done.frames == []
    assert await buffer.read("unknown", 0) is None


async def test_another_instance_reads_what_one_wrote(make: Factory) -> None:
    a, b = make("a"), make("b")
    await a.append("s2", frames(1, 3))
    await a.append("s2", frames(4, 6))
    await a.flush()
    held = await b.read("s2", 0)
    assert held is not None and held.frames == frames(1, 6)


async def test_event_and_byte_bounds_make_a_gap(make: Factory) -> None:
    by_count = make(max_events=3)
    await by_count.append("c", frames(1, 6))
    await by_count.flush()
    assert await by_count.read("c", 1) is None  # 2 and 3 were dropped
    held = await by_count.read("c", 3)
    assert held is not None and held.frames == frames(4, 6)

    by_bytes = make(max_bytes=25)
    await by_bytes.append("b", frames(1, 4, size=10))
    await by_bytes.flush()
    held = await by_bytes.read("b", 2)
    assert held is not None and held.frames == frames(3, 4, size=10)
    assert await by_bytes.read("b", 1) is None


async def test_finished_streams_expire(make: Factory) -> None:
    buffer = make(ttl_s=0.3)
    await buffer.append("t", frames(1, 2))
    await buffer.finish("t")
    await buffer.flush()
    assert await buffer.read("t", 0) is not None

    async def expired() -> bool:
        return await buffer.read("t", 0) is None

    await eventually(expired, timeout=5, what="the finished stream expired (ttl 0.3 s)")


async def test_an_id_drawn_twice_is_never_replayed_to_the_wrong_client(make: Factory) -> None:
    a, b = make("a"), make("b")
    await a.append("same", frames(1, 2))
    await a.flush()
    await b.append("same", [(1, b"another stream's connected")])
    await b.flush()
    await a.append("same", frames(3, 3))  # the first owner goes on writing
    await a.flush()
    assert await a.read("same", 0) is None
    assert await b.read("same", 1) is None


async def test_oldest_streams_beyond_the_cap_are_deleted(make: Factory) -> None:
    buffer = make(max_streams=2)
    for name in ("x1", "x2", "x3"):
        await buffer.append(name, frames(1, 1))
    await buffer.flush()
    assert await buffer.read("x1", 0) is None
    assert await buffer.read("x3", 0) is not None
    assert len(buffer) == 2


async def test_a_stream_whose_instance_died_is_sealed_once(make: Factory) -> None:
    owner, other = make("dead", lease_s=1.0), make("alive", lease_s=1.0)
    await owner.append("orphan", frames(1, 3))
    await owner.flush()
    held = await other.read("orphan", 1)
    assert held is not None and not held.finished and not held.orphaned  # the owner is alive: follow it
    assert held.owner == "dead"
    assert owner.link._keeper is not None
    owner.link._keeper.cancel()  # as after kill -9: nobody refreshes its heartbeat any more

    async def orphaned() -> bool:  # once the owner's lease (1 s) has lapsed
        held = await other.read("orphan", 1)
        return held is not None and held.orphaned

    await eventually(orphaned, timeout=10, what="the dead owner's stream is orphaned")
    orphan = await other.read("orphan", 1)
    assert orphan is not None and orphan.orphaned and not orphan.finished and orphan.next_seq == 4
    end = [(4, b"the error"), (5, b"the close")]
    await other.seal("orphan", orphan.next_seq, end)
    await make("third").seal("orphan", orphan.next_seq, [(4, b"a second seal"), (5, b"is refused")])
    sealed = await other.read("orphan", 1)
    assert sealed is not None and sealed.finished and not sealed.orphaned
    assert sealed.frames == frames(2, 3) + end
    await owner.append("orphan", frames(4, 4))  # a late write of the "dead" owner is refused
    await owner.flush()
    final = await other.read("orphan", 3)
    assert final is not None and final.frames == end


async def test_the_binding_travels_with_the_stream(make: Factory) -> None:
    a, b = make("a"), make("b")
    await a.open("bound", Binding("context_upload", "10.1.2.3"))
    await a.append("bound", frames(1, 2))
    await a.flush()
    held = await b.read("bound", 0)
    assert held is not None and held.binding == Binding("context_upload", "10.1.2.3")


async def test_unreachable_redis_neither_blocks_nor_raises(make: Factory, redis_server: RedisServer) -> None:
    buffer = make(timeout_ms=300)
    await buffer.append("u", frames(1, 2))
    await buffer.flush()
    redis_server.pause()  # a hung server: connections open, nothing answers
    try:
        started = time.monotonic()
        for seq in range(3, 50):
            await buffer.append("u", frames(seq, seq))  # writes are behind: never waits
        await buffer.finish("u")
        assert time.monotonic() - started < 0.05
        started = time.monotonic()
        assert await buffer.read("u", 0) is None  # unknown rather than a hang
        assert time.monotonic() - started < 1.0
    finally:
        redis_server.resume()


async def test_writes_resume_after_redis_restarts(make: Factory, redis_server: RedisServer) -> None:
    buffer = make()
    await buffer.append("before", frames(1, 2))
    await buffer.flush()
    redis_server.stop()
    await buffer.append("lost", frames(1, 2))  # dropped, without an error
    await buffer.flush()
    redis_server.start()  # same port, empty, and without the scripts loaded
    await asyncio.sleep(1.1)  # past the outage back-off
    await buffer.append("lost", frames(3, 4))  # the gap: replay starts after it
    await buffer.append("after", frames(1, 3))
    await buffer.flush()
    held = await buffer.read("after", 0)
    assert held is not None and held.frames == frames(1, 3)
    assert await buffer.read("lost", 0) is None
    resumed = await buffer.read("lost", 2)
    assert resumed is not None and resumed.frames == frames(3, 4)
