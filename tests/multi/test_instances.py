"""Two real app instances (uvicorn on two loopback ports) sharing one redis-server and one
MongoDB: one request budget, resume on the other instance, one concurrent-stream cap with
leases that outlive a crashed instance only briefly."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import httpx

from tests.support.server import AppServer, until_detached
from tests.support.sse import events_of, read_stream

Instances = Callable[..., tuple[AppServer, AppServer]]


async def probe(server: AppServer) -> dict:
    async with httpx.AsyncClient(timeout=5) as client:
        return (await client.get(f"{server.url}/t/probe")).json()


async def test_the_31st_request_across_both_instances_gets_429(instances: Instances) -> None:
    a, b = instances()  # defaults: 30 per 60 s
    paths = ["/t/echo/stream?n=1", "/t/echo?n=1", "/t/soft/stream", "/t/soft"]
    remaining, resets = [], set()
    async with httpx.AsyncClient(timeout=10) as client:
        for i in range(30):
            server = (a, b)[i % 2]  # alternate: each instance alone would allow 30
            response = await client.get(server.url + paths[i % len(paths)])
            assert response.status_code == 200, (i, response.text)
            assert response.headers["x-ratelimit-limit"] == "30"
            assert "retry-after" not in response.headers
            remaining.append(int(response.headers["x-ratelimit-remaining"]))
            resets.add(int(response.headers["x-ratelimit-reset"]))
        refused = [await client.get(a.url + "/t/echo/stream?n=1"), await client.get(b.url + "/t/echo?n=1")]
    # One moving window: the count goes down across both, and both name the same reset (when
    # the first request leaves the window).
    assert remaining == list(range(29, -1, -1))
    assert len(resets) == 1 and 0 < resets.pop() - time.time() <= 61
    for response in refused:
        assert response.status_code == 429
        assert response.json()["code"] == "RATE_LIMITED"
        assert response.headers["x-ratelimit-remaining"] == "0"
        assert 1 <= int(response.headers["retry-after"]) <= 61


async def test_a_reconnect_to_the_other_instance_resumes_without_rerunning(instances: Instances) -> None:
    a, b = instances(STREAMING_RATE_LIMIT="1000")
    seen: list[tuple[str, str, dict]] = []
    async with asyncio.timeout(15), httpx.AsyncClient(timeout=10) as client:
        async with client.stream("GET", f"{a.url}/t/echo/stream?n=40") as response:
            assert response.status_code == 200
            async for event in events_of(response):
                seen.append(event)
                if len(seen) == 5:  # connected, progress, 3 x text: then the "network" drops
                    break
    last_id = seen[-1][0]
    resumed = await read_stream(f"{b.url}/t/echo/stream?n=40", headers={"Last-Event-ID": last_id})
    assert resumed.status == 200
    token = seen[0][0].rsplit("-", 1)[0]
    assert [event_id for event_id, _, _ in resumed.events] == [f"{token}-{seq}" for seq in range(6, 46)]
    assert resumed.types() == ["text"] * 37 + ["results", "complete", "close"]
    texts = [data["fullText"] for _, kind, data in seen + resumed.events if kind == "text"]
    assert len(texts) == 40 and all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:]))
    assert resumed.of("complete")[0]["total"] == 40
    # The producer ran once, on A; B only replayed (each process counts its own runs).
    assert (await probe(a))["runs"] == {"echo": 1}
    assert (await probe(b))["runs"] == {}
    # Finished and fully delivered: either instance now says 204 (EventSource stops).
    for server in (a, b):
        again = await read_stream(f"{server.url}/t/echo/stream?n=40",
                                  headers={"Last-Event-ID": resumed.events[-1][0]})
        assert again.status == 204


async def test_a_stream_still_running_elsewhere_is_followed_to_its_end(instances: Instances) -> None:
    a, b = instances(STREAMING_RATE_LIMIT="1000", STREAMING_TIMEOUT="2500")
    whole: list[tuple[str, str, dict]] = []
    async with asyncio.timeout(20):
        original = asyncio.create_task(collect(f"{a.url}/t/slow/stream?every=0.2", whole))
        while len(whole) < 2:
            await asyncio.sleep(0.02)
        # The original client still reads; a second one resumes on B after event 2.
        await asyncio.sleep(0.5)
        follower = await read_stream(f"{b.url}/t/slow/stream", headers={"Last-Event-ID": whole[1][0]})
        await original
    assert [k for _, k, _ in whole][-2:] == ["error", "close"] and whole[-2][2]["code"] == "STREAM_TIMEOUT"
    assert follower.status == 200
    assert follower.events == whole[2:]  # the rest, live, up to the same end
    assert (await probe(b))["runs"] == {}


async def test_following_another_instance_sends_keepalives_no_client_sees(instances: Instances) -> None:
    """The follow path used to send nothing at all while it waited (13 s of silence was
    measured): proxies cut such a connection."""
    a, b = instances(STREAMING_RATE_LIMIT="1000", STREAMING_PING_S="0.25", STREAMING_TIMEOUT="4000")
    whole: list[tuple[str, str, dict]] = []
    lines: list[str] = []
    async with asyncio.timeout(20):
        original = asyncio.create_task(collect(f"{a.url}/t/slow/stream?every=1.2", whole))
        while len(whole) < 2:
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(timeout=10) as client:
            async with client.stream("GET", f"{b.url}/t/slow/stream", headers={"Last-Event-ID": whole[1][0]}) as resp:
                assert resp.status_code == 200 and resp.headers["content-type"] == "text/event-stream"
                async for line in resp.aiter_lines():
                    lines.append(line)
                    if line.startswith("event: progress"):
                        break
        followed = await read_stream(f"{b.url}/t/slow/stream", headers={"Last-Event-ID": whole[1][0]})
        await original
    assert lines.count(": ping") >= 2  # 1.2 s between events, a keep-alive every 0.25 s
    # httpx-sse (read_stream) sees only real events: every one has a type and JSON data.
    assert followed.events == whole[2:]
    assert all(kind and data for _, kind, data in followed.events)


async def test_the_stream_of_a_crashed_instance_ends_honestly(instances: Instances) -> None:
    a, b = instances(STREAMING_RATE_LIMIT="1000")
    async with asyncio.timeout(25):
        async with holding(f"{a.url}/t/slow/stream?every=0.2") as first:
            stream_id = first[0][2]["stream_id"]
            await asyncio.sleep(0.5)
            follower = asyncio.create_task(
                read_stream(f"{b.url}/t/slow/stream", headers={"Last-Event-ID": first[0][0]}, timeout=20)
            )
            await asyncio.sleep(0.5)
            a.kill()  # kill -9 while it streams
            killed = time.monotonic()
            got = await follower
            ended_after = time.monotonic() - killed
    assert got.status == 200
    assert got.types()[-2:] == ["error", "close"]
    error = got.of("error")[-1]
    assert (error["code"], error["retryable"]) == ("STREAM_INTERRUPTED", True)
    assert ended_after < 2 + 1.5  # REDIS_LEASE_S=2: the heartbeat lapses, B seals the stream
    assert f"[{stream_id}] sealed" in b.log()
    ids = [int(event_id.rsplit("-", 1)[1]) for event_id, _, _ in got.events]
    assert ids == list(range(2, 2 + len(ids)))  # gapless, the sealed end under the next ids
    # Every later resumer gets the same end; after it, 204.
    again = await read_stream(f"{b.url}/t/slow/stream", headers={"Last-Event-ID": got.events[-3][0]})
    assert again.events == got.events[-2:]
    done = await read_stream(f"{b.url}/t/slow/stream", headers={"Last-Event-ID": got.events[-1][0]})
    assert done.status == 204


async def test_a_resume_on_the_other_instance_is_as_private_as_on_one(instances: Instances) -> None:
    a, b = instances(STREAMING_RATE_LIMIT="1000", ADMIN_TOKEN="multi-admin")
    admin = {"Authorization": "Bearer multi-admin"}
    async with asyncio.timeout(20):
        seen = await first_events(f"{a.url}/t/vault/stream?n=30&every=0.05", 3, headers=admin)
        async with httpx.AsyncClient(timeout=10) as client:
            anonymous = await client.get(f"{b.url}/t/vault/stream", headers={"Last-Event-ID": seen[-1][0]})
            assert anonymous.status_code == 401
            for public in ("/t/tale/stream", "/t/echo/stream?n=1"):
                foreign = await client.get(f"{b.url}{public}", headers={"Last-Event-ID": seen[-1][0]})
                assert foreign.status_code == 410, public
            by_name = await client.get(f"{b.url}/t/vault/stream",
                                       headers={**admin, "Last-Event-ID": f"{seen[0][2]['stream_id']}-1"})
            assert by_name.status_code == 410
        rest = await read_stream(f"{b.url}/t/vault/stream", headers={**admin, "Last-Event-ID": seen[-1][0]})
    assert rest.status == 200 and rest.types()[-2:] == ["complete", "close"]
    assert [t["token"] for t in rest.of("text")][-1] == "word29 "


async def test_a_stream_bound_to_its_client_is_refused_to_another_on_either_instance(instances: Instances) -> None:
    a, b = instances(STREAMING_RATE_LIMIT="1000", STREAM_RESUME_BIND_CLIENT="true")
    first = await read_stream(f"{a.url}/t/echo/stream?n=5")
    async with httpx.AsyncClient(timeout=10, transport=httpx.AsyncHTTPTransport(local_address="127.0.0.2")) as other:
        for server in (a, b):
            stolen = await other.get(f"{server.url}/t/echo/stream?n=5", headers={"Last-Event-ID": first.events[1][0]})
            assert stolen.status_code == 410
    mine = await read_stream(f"{b.url}/t/echo/stream?n=5", headers={"Last-Event-ID": first.events[1][0]})
    assert mine.events == first.events[2:]


async def test_a_dropped_answer_resumed_on_the_other_instance_is_whole_and_ran_once(instances: Instances) -> None:
    a, b = instances(STREAMING_RATE_LIMIT="1000")
    seen = await first_events(f"{a.url}/t/tale/stream?n=30&every=0.05", 4)
    stream_id = seen[0][2]["stream_id"]
    await until_detached(a)  # A noticed its client left, and goes on without it
    rest = await read_stream(f"{b.url}/t/tale/stream", headers={"Last-Event-ID": seen[-1][0]})
    tokens = [d["token"] for _, k, d in seen if k == "text"] + [t["token"] for t in rest.of("text")]
    assert tokens == [f"word{i} " for i in range(30)]
    assert rest.types()[-2:] == ["complete", "close"]
    assert (await probe(a))["tales"] == {stream_id: 1}
    assert (await probe(b))["runs"] == {}


async def test_a_follower_on_the_other_instance_keeps_a_detached_stream_alive(instances: Instances) -> None:
    # The window must outlast B's first follow (under a loaded machine B took over 0.5 s
    # between the drop and its first follow, so A rightly gave up): 1.5 s.
    a, b = instances(STREAMING_RATE_LIMIT="1000", STREAM_DETACH_S="1.5")
    seen = await first_events(f"{a.url}/t/tale/stream?n=60&every=0.1", 2)
    # Read on B for six seconds, four detach windows: A must see the follower and go on.
    rest = await read_stream(f"{b.url}/t/tale/stream", headers={"Last-Event-ID": seen[-1][0]}, timeout=20)
    assert rest.types()[-2:] == ["complete", "close"], rest.types()[-3:]
    assert len(rest.of("text")) == 59
    assert seen[0][2]["stream_id"] not in (await probe(a))["cancelled"]


async def test_a_stop_sent_to_the_other_instance_stops_the_stream_where_it_runs(instances: Instances) -> None:
    a, b = instances(STREAMING_RATE_LIMIT="1000")
    whole: list[tuple[str, str, dict]] = []
    async with asyncio.timeout(20):
        reading = asyncio.create_task(collect(f"{a.url}/t/tale/stream?n=300&every=0.05", whole))
        while len(whole) < 3:
            await asyncio.sleep(0.02)
        stream_id = whole[0][2]["stream_id"]
        async with httpx.AsyncClient(timeout=10) as client:
            await asyncio.sleep(0.3)  # the frames reach Redis (written behind)
            stopped = await client.post(f"{b.url}/api/streams/{stream_id}/stop", headers={"Last-Event-ID": whole[2][0]})
        assert stopped.status_code == 200 and stopped.json()["stopped"] is True
        await reading
    assert [k for _, k, _ in whole][-2:] == ["error", "close"]
    assert whole[-2][2]["code"] == "STREAM_STOPPED"
    assert stream_id in (await probe(a))["cancelled"]


async def test_one_concurrent_stream_cap_across_instances(instances: Instances) -> None:
    a, b = instances(STREAMING_RATE_LIMIT="1000", STREAMING_MAX_CONCURRENT_PER_IP="3")
    async with asyncio.timeout(30), httpx.AsyncClient(timeout=10) as client:
        async with holding(f"{a.url}/t/slow/stream?every=5"), holding(f"{a.url}/t/slow/stream?every=5"):
            async with holding(f"{b.url}/t/slow/stream?every=5"):
                for server in (a, b):
                    refused = await client.get(f"{server.url}/t/echo/stream?n=1")
                    assert refused.status_code == 429 and refused.json()["code"] == "TOO_MANY_STREAMS"
            # One closed on B: a slot is free again, for either instance.
            assert await eventually_accepted(client, a, within=5) < 5


async def test_a_killed_instance_holds_its_slots_only_until_the_leases_lapse(instances: Instances) -> None:
    a, b = instances(STREAMING_RATE_LIMIT="1000", STREAMING_MAX_CONCURRENT_PER_IP="2")
    async with asyncio.timeout(30), httpx.AsyncClient(timeout=10) as client:
        async with holding(f"{a.url}/t/slow/stream?every=5"), holding(f"{a.url}/t/slow/stream?every=5"):
            refused = await client.get(f"{b.url}/t/echo/stream?n=1")
            assert refused.status_code == 429 and refused.json()["code"] == "TOO_MANY_STREAMS"
            a.kill()  # kill -9: nothing releases the two slots
            killed = time.monotonic()
            refused = await client.get(f"{b.url}/t/echo/stream?n=1")
            assert refused.status_code == 429, "the leases must outlive the crash for a while"
            await eventually_accepted(client, b, within=8)
            since_kill = time.monotonic() - killed
    # REDIS_LEASE_S=2, renewed every 2/3 s: the leases lapse 1.3 to 2 s after the crash.
    assert 1.0 < since_kill < 2 + 1.0, since_kill


# --- helpers -----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def holding(url: str) -> AsyncIterator[list[tuple[str, str, dict]]]:
    """Open a stream, wait for `connected`, keep it open for the block (nothing read after)."""
    client = httpx.AsyncClient(timeout=httpx.Timeout(10, read=None))
    try:
        async with client.stream("GET", url) as response:
            assert response.status_code == 200, response.status_code
            # Keep the iterator referenced: a discarded one is closed, and so is the stream.
            events = events_of(response)
            first = [await anext(events)]
            yield first
            del events
    except (httpx.HTTPError, OSError):
        pass  # the server was killed under it
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()


async def first_events(url: str, n: int, headers: dict[str, str] | None = None) -> list[tuple[str, str, dict]]:
    """The first `n` events of a new stream; then the connection drops."""
    got: list[tuple[str, str, dict]] = []
    async with asyncio.timeout(10), httpx.AsyncClient(timeout=10) as client:
        async with client.stream("GET", url, headers=headers or {}) as response:
            assert response.status_code == 200, response.status_code
            async for event in events_of(response):
                got.append(event)
                if len(got) == n:
                    break
    return got


async def collect(url: str, into: list[tuple[str, str, dict]]) -> None:
    """Read a whole stream, appending each event to `into` as it arrives."""
    async with httpx.AsyncClient(timeout=10) as client:
        async with client.stream("GET", url) as response:
            async for event in events_of(response):
                into.append(event)


async def eventually_accepted(client: httpx.AsyncClient, server: AppServer, within: float) -> float:
    """Seconds until `server` accepts a new stream from this client."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        response = await client.get(f"{server.url}/t/echo/stream?n=1")
        if response.status_code == 200:
            return time.monotonic() - started
        assert response.json()["code"] == "TOO_MANY_STREAMS"
        await asyncio.sleep(0.1)
    raise AssertionError(f"still refused after {within} s")
