"""The shared rate limiter over real HTTP: one budget across every streaming endpoint and its
JSON twin, integer headers on SSE responses too, whitelist, trusted proxies, spoofing."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tests.support.server import AppServer
from tests.support.sse import read_stream


async def test_the_31st_request_in_a_window_gets_429(app_server: Callable[..., AppServer]) -> None:
    server = app_server()  # defaults: 30 per 60 s
    paths = ["/t/echo/stream?n=1", "/t/soft/stream", "/t/echo?n=1", "/t/soft"]
    remaining = []
    async with httpx.AsyncClient(timeout=10) as client:
        for i in range(30):
            # A spoofed X-Forwarded-For from an untrusted peer must not change the key.
            response = await client.get(
                server.url + paths[i % len(paths)], headers={"X-Forwarded-For": f"10.9.8.{i}"}
            )
            assert response.status_code == 200, (i, response.text)
            assert response.headers["x-ratelimit-limit"] == "30"
            reset = response.headers["x-ratelimit-reset"]
            assert reset.isdigit() and int(reset) > time.time() - 1
            assert "retry-after" not in response.headers
            remaining.append(int(response.headers["x-ratelimit-remaining"]))
        refused = await client.get(server.url + "/t/echo/stream?n=1")
    assert remaining == list(range(29, -1, -1))
    assert refused.status_code == 429
    body = refused.json()
    assert body["status"] == 429 and body["error"] == "Streaming rate limit exceeded"
    retry_after = refused.headers["retry-after"]
    assert retry_after.isdigit() and 1 <= int(retry_after) <= 61
    assert refused.headers["x-ratelimit-remaining"] == "0"


async def test_sse_responses_carry_the_headers(app_server: Callable[..., AppServer]) -> None:
    server = app_server(STREAMING_RATE_LIMIT="5")
    got = await read_stream(f"{server.url}/t/echo/stream?n=1")
    assert got.status == 200 and got.types()[-1] == "close"
    assert got.headers["x-ratelimit-limit"] == "5"
    assert got.headers["x-ratelimit-remaining"] == "4"
    assert got.headers["x-ratelimit-reset"].isdigit()


async def test_whitelisted_clients_are_not_limited(app_server: Callable[..., AppServer]) -> None:
    server = app_server(STREAMING_RATE_LIMIT="2", RATE_LIMIT_WHITELIST="10.0.0.0/8, 127.0.0.0/8")
    async with httpx.AsyncClient(timeout=10) as client:
        statuses = [(await client.get(f"{server.url}/t/echo?n=1")).status_code for _ in range(5)]
    assert statuses == [200] * 5


async def test_trusted_proxy_forwards_the_client(app_server: Callable[..., AppServer]) -> None:
    server = app_server(STREAMING_RATE_LIMIT="2", TRUSTED_PROXIES="127.0.0.1")
    async with httpx.AsyncClient(timeout=10) as client:

        async def as_client(ip: str) -> int:
            headers = {"X-Forwarded-For": f"{ip}, 127.0.0.1"}
            return (await client.get(f"{server.url}/t/echo?n=1", headers=headers)).status_code

        assert [await as_client("203.0.113.7") for _ in range(3)] == [200, 200, 429]
        # Another client behind the same proxy has its own budget.
        assert await as_client("198.51.100.20") == 200


async def test_streaming_disabled_answers_404_and_keeps_json(app_server: Callable[..., AppServer]) -> None:
    server = app_server(STREAMING_ENABLED="false")
    async with httpx.AsyncClient(timeout=10) as client:
        stream = await client.get(f"{server.url}/t/echo/stream?n=1")
        twin = await client.get(f"{server.url}/t/echo?n=1")
    assert stream.status_code == 404 and stream.json()["code"] == "STREAMING_DISABLED"
    assert twin.status_code == 200 and twin.json()["complete"]["total"] == 1
