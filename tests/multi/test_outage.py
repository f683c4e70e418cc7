"""Redis unreachable (stopped, or hung with SIGSTOP): the limiter fails the configured way,
fast, without stalling the instance's other streams, and says so once per outage."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import httpx

from tests.support.redis_server import RedisServer
from tests.support.server import AppServer
from tests.support.sse import read_stream

DOWN = "redis unreachable at"
UP = "redis reachable again at"


def redis_env(redis: RedisServer, **env: str) -> dict[str, str]:
    return {"RATE_LIMIT_STORAGE_URL": redis.url, "STREAM_REPLAY_URL": redis.url, "REDIS_LEASE_S": "2",
            "STREAMING_RATE_LIMIT": "1000", **env}


async def timed_get(client: httpx.AsyncClient, url: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await client.get(url)
    return response, time.monotonic() - started


async def wait_for_log(server: AppServer, text: str, count: int, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while server.log().count(text) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def test_fail_closed_refuses_fast_and_logs_once_per_outage(
    redis_server: RedisServer, app_server: Callable[..., AppServer]
) -> None:
    server = app_server(**redis_env(redis_server))
    url = f"{server.url}/t/echo/stream?n=1"
    async with asyncio.timeout(40), httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(url)).status_code == 200
        redis_server.stop()
        answers = [await timed_get(client, url) for _ in range(15)]
        answers += await asyncio.gather(*(timed_get(client, url) for _ in range(10)))
        for response, _ in answers:
            assert response.status_code == 503
            assert response.json()["code"] == "RATE_LIMIT_UNAVAILABLE"
            assert response.headers["retry-after"].isdigit()
        assert max(seconds for _, seconds in answers) < 1.0
        await wait_for_log(server, DOWN, 1)
        assert server.log().count(DOWN) == 1, server.log()

        redis_server.start()  # same port
        deadline = time.monotonic() + 5
        while (await client.get(url)).status_code != 200:
            assert time.monotonic() < deadline, "not back within 5 s"
            await asyncio.sleep(0.1)
        await wait_for_log(server, UP, 1)
        assert server.log().count(UP) == 1

        redis_server.stop()  # a second outage is a second line
        for _ in range(5):
            assert (await client.get(url)).status_code == 503
        await wait_for_log(server, DOWN, 2)
        assert server.log().count(DOWN) == 2 and server.log().count(UP) == 1


async def test_a_hung_redis_costs_one_timeout_and_never_stalls_other_streams(
    redis_server: RedisServer, app_server: Callable[..., AppServer]
) -> None:
    server = app_server(**redis_env(redis_server, REDIS_TIMEOUT_MS="500"))
    arrivals: list[float] = []

    async def watch() -> None:  # a live stream on the same instance, an event every 0.1 s
        async with httpx.AsyncClient(timeout=10) as client:
            async with client.stream("GET", f"{server.url}/t/slow/stream?every=0.1") as response:
                async for line in response.aiter_lines():
                    if line.startswith("event: progress"):
                        arrivals.append(time.monotonic())

    async with asyncio.timeout(30), httpx.AsyncClient(timeout=10) as client:
        watcher = asyncio.create_task(watch())
        while len(arrivals) < 3:
            await asyncio.sleep(0.05)
        redis_server.pause()  # accepts connections, answers nothing
        paused = time.monotonic()
        try:
            answers = await asyncio.gather(
                *(timed_get(client, f"{server.url}/t/echo/stream?n=1") for _ in range(12))
            )
            more = [await timed_get(client, f"{server.url}/t/echo?n=1") for _ in range(10)]
            await asyncio.sleep(1.0)
        finally:
            redis_server.resume()
        watcher.cancel()
    assert all(r.status_code == 503 and r.json()["code"] == "RATE_LIMIT_UNAVAILABLE" for r, _ in answers + more)
    # Requests caught in flight wait one REDIS_TIMEOUT_MS; the rest are refused at once.
    assert max(seconds for _, seconds in answers) < 1.2
    assert max(seconds for _, seconds in more) < 0.2
    during = [t for t in arrivals if t >= paused]
    gaps = [later - earlier for earlier, later in zip(during, during[1:])]
    assert len(during) >= 10 and max(gaps) < 0.35, gaps  # the event loop never stalled
    assert server.log().count(DOWN) == 1


async def test_fail_open_serves_streams_and_caps_them_per_instance(
    redis_server: RedisServer, app_server: Callable[..., AppServer]
) -> None:
    server = app_server(**redis_env(redis_server, RATE_LIMIT_FAIL_OPEN="true", STREAMING_RATE_LIMIT="3",
                                    STREAMING_MAX_CONCURRENT_PER_IP="1"))
    redis_server.stop()
    async with asyncio.timeout(30):
        got = [await read_stream(f"{server.url}/t/echo/stream?n=2") for _ in range(6)]  # over the 3
        for stream in got:
            assert stream.status == 200 and stream.types()[-2:] == ["complete", "close"]
            assert "x-ratelimit-limit" not in stream.headers  # no budget known: none claimed
        # The concurrent-stream cap falls back to this instance's own count.
        async with httpx.AsyncClient(timeout=10) as client:
            async with client.stream("GET", f"{server.url}/t/slow/stream?every=5") as held:
                assert held.status_code == 200
                lines = held.aiter_lines()
                assert (await anext(lines)).startswith("id: ")
                refused = await client.get(f"{server.url}/t/echo/stream?n=1")
                assert refused.status_code == 429 and refused.json()["code"] == "TOO_MANY_STREAMS"
    await wait_for_log(server, DOWN, 1)
    log = server.log()
    assert log.count(DOWN) == 1 and "RATE_LIMIT_FAIL_OPEN" in log


async def test_json_logs_carry_the_stream_fields(
    redis_server: RedisServer, app_server: Callable[..., AppServer]
) -> None:
    server = app_server(**redis_env(redis_server, LOG_FORMAT="json"))
    got = await read_stream(f"{server.url}/t/echo/stream?n=2")
    stream_id = got.events[0][2]["stream_id"]
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(f"{server.url}/t/echo?n=1")).status_code == 200

    def records() -> list[dict]:
        lines = [line for line in server.log().splitlines() if line.strip()]
        return [json.loads(line) for line in lines]  # every line is one JSON object

    deadline = time.monotonic() + 5
    while not any(r.get("transport") == "json" for r in records()) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    parsed = records()
    assert any(r["logger"].startswith("uvicorn") and "startup complete" in r["msg"] for r in parsed)
    ends = [r for r in parsed if r.get("event") == "stream_end"]
    sse = next(r for r in ends if r.get("stream_id") == stream_id)
    assert sse["stream"] == "echo" and sse["route"] == "/t/echo/stream" and sse["transport"] == "sse"
    assert sse["client"] == "127.0.0.1" and sse["outcome"] == "complete" and sse["events"] == 7
    assert isinstance(sse["duration_ms"], float) and sse["duration_ms"] >= 0
    assert sse["level"] == "INFO" and sse["logger"] == "storestream.streams" and sse["ts"].endswith("Z")
    twin = next(r for r in ends if r.get("transport") == "json")
    assert twin["route"] == "/t/echo" and twin["outcome"] == "complete" and twin["stream"] == "echo"
    start = next(r for r in parsed if r.get("event") == "stream_start" and r.get("stream_id") == stream_id)
    assert start["client"] == "127.0.0.1"


async def test_healthz_reports_redis_and_needs_it_only_when_failing_closed(
    redis_server: RedisServer, app_server: Callable[..., AppServer]
) -> None:
    closed = app_server(**redis_env(redis_server))
    open_ = app_server(**redis_env(redis_server, RATE_LIMIT_FAIL_OPEN="true"))
    async with asyncio.timeout(30), httpx.AsyncClient(timeout=10) as client:
        before = {}
        for server in (closed, open_):
            response = await client.get(f"{server.url}/healthz")
            health = response.json()
            assert health["checks"]["redis"]["ready"] is True
            assert health["checks"]["redis"]["servers"][0]["url"] == redis_server.url
            before[server.url] = response.status_code
        assert before[closed.url] == 200
        redis_server.stop()
        down = await client.get(f"{closed.url}/healthz")
        assert down.status_code == 503
        assert down.json()["checks"]["redis"] == {
            "ready": False, "required": True,
            "servers": [{"url": redis_server.url, "ready": False, "reason": "unreachable"}],
        }
        tolerated = await client.get(f"{open_.url}/healthz")
        assert tolerated.json()["checks"]["redis"]["ready"] is False
        assert tolerated.json()["checks"]["redis"]["required"] is False
        assert tolerated.status_code == before[open_.url] == 200  # it still serves streams
