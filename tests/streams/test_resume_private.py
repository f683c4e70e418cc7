"""A resume is private: checked like a new request, replayed only on the route that made the
stream, to the caller that holds its token (docs/events.md, "Resuming"). One instance here;
tests/multi/test_instances.py repeats the cases across two.

Each case was an attack that worked before: a resume skipped authentication, and the replay
buffer was keyed by a 48-bit stream id that the `connected` event and the logs printed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support.server import AppServer
from tests.support.sse import read_stream

ADMIN = {"Authorization": "Bearer resume-admin"}


@pytest.fixture(scope="module")
def server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    log_dir = tmp_path_factory.mktemp("resume")
    env = {"MONGODB_URL": mongo_url, "DATA_DIR": str(log_dir / "data"), "ADMIN_TOKEN": "resume-admin",
           "STREAMING_RATE_LIMIT": "100000"}
    with AppServer(env, log_dir=log_dir) as app:
        yield app


async def _upload(server: AppServer) -> list[tuple[str, str, dict]]:
    """A context file uploaded by the admin, as the issue's first curl does."""
    files = {"file": ("secret.txt", b"The staff discount code is HUSH-2026. " * 40, "text/plain")}
    got = await read_stream(f"{server.url}/api/context/upload-file/stream", method="POST", headers=ADMIN,
                            files=files, timeout=60)
    assert got.status == 200 and got.types()[-1] == "close", got.events
    return got.events


async def test_an_admin_stream_resumes_only_with_the_admin_token_and_only_on_its_route(server: AppServer) -> None:
    events = await _upload(server)
    first_id = events[0][0]
    url = f"{server.url}/api/context/upload-file/stream"
    async with httpx.AsyncClient(timeout=10) as client:
        # No token: refused before anything is read, as a new upload would be.
        anonymous = await client.post(url, headers={"Last-Event-ID": first_id})
        assert anonymous.status_code == 401 and anonymous.json()["code"] == "UNAUTHORIZED"
        wrong = await client.post(url, headers={"Last-Event-ID": first_id, "Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        # A public route never replays another route's stream: the same answer as an unknown id.
        for public in (f"{server.url}/api/products/search/stream?q=x", f"{server.url}/t/echo/stream?n=1",
                       f"{server.url}/api/chat/stream?message=x"):
            foreign = await client.get(public, headers={"Last-Event-ID": first_id})
            assert foreign.status_code == 410 and foreign.json()["code"] == "STREAM_EXPIRED", public
            assert "HUSH" not in foreign.text
    # The admin, on the route that made it, gets the rest with the original ids.
    resumed = await read_stream(url, method="POST", headers={**ADMIN, "Last-Event-ID": first_id})
    assert resumed.status == 200 and resumed.events == events[1:]


async def test_the_public_stream_id_does_not_resume_and_tokens_are_not_guessable(server: AppServer) -> None:
    first = await read_stream(f"{server.url}/t/echo/stream?n=3")
    stream_id = first.events[0][2]["stream_id"]
    token = first.events[0][0].rsplit("-", 1)[0]
    assert stream_id != token and len(token) == 32
    async with httpx.AsyncClient(timeout=10) as client:
        # What `connected` and the logs show is a name, not a key.
        by_name = await client.get(f"{server.url}/t/echo/stream?n=3", headers={"Last-Event-ID": f"{stream_id}-1"})
        assert by_name.status_code == 410
        # A neighbouring token (one bit off) is another, unknown stream.
        flipped = format(int(token, 16) ^ 1, "032x")
        near = await client.get(f"{server.url}/t/echo/stream?n=3", headers={"Last-Event-ID": f"{flipped}-1"})
        assert near.status_code == 410


async def test_the_token_never_reaches_the_log(server: AppServer) -> None:
    got = await read_stream(f"{server.url}/t/echo/stream?n=2")
    token = got.events[0][0].rsplit("-", 1)[0]
    stream_id = got.events[0][2]["stream_id"]
    resumed = await read_stream(f"{server.url}/t/echo/stream?n=2", headers={"Last-Event-ID": got.events[0][0]})
    assert resumed.status == 200
    deadline = asyncio.get_running_loop().time() + 5
    while f"[echo-{stream_id}] end" not in server.log() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    log = server.log()
    assert f"[echo-{stream_id}] end" in log  # the stream is logged, under its public id
    assert token not in log


async def test_another_client_is_refused_when_streams_are_bound_to_their_client(
    app_server: Callable[..., AppServer],
) -> None:
    server = app_server(STREAM_RESUME_BIND_CLIENT="true")
    first = await read_stream(f"{server.url}/t/echo/stream?n=3")
    last_seen = first.events[1][0]
    # 127.0.0.2 is another client on the loopback network, holding the shopper's very id.
    async with httpx.AsyncClient(timeout=10, transport=httpx.AsyncHTTPTransport(local_address="127.0.0.2")) as other:
        stolen = await other.get(f"{server.url}/t/echo/stream?n=3", headers={"Last-Event-ID": last_seen})
    assert stolen.status_code == 410 and stolen.json()["code"] == "STREAM_EXPIRED"
    mine = await read_stream(f"{server.url}/t/echo/stream?n=3", headers={"Last-Event-ID": last_seen})
    assert mine.status == 200 and mine.events == first.events[2:]


async def test_by_default_the_token_alone_resumes_from_a_new_address(server: AppServer) -> None:
    """A phone moving from Wi-Fi to mobile data gets a new address; its token still resumes."""
    first = await read_stream(f"{server.url}/t/echo/stream?n=3")
    async with httpx.AsyncClient(timeout=10, transport=httpx.AsyncHTTPTransport(local_address="127.0.0.2")) as moved:
        resumed = await moved.get(f"{server.url}/t/echo/stream?n=3", headers={"Last-Event-ID": first.events[1][0]})
    assert resumed.status_code == 200 and "event: close" in resumed.text


async def test_a_resume_with_nothing_left_is_free_and_other_resumes_are_charged(
    app_server: Callable[..., AppServer],
) -> None:
    server = app_server(STREAMING_RATE_LIMIT="3")
    first = await read_stream(f"{server.url}/t/echo/stream?n=2")  # 1 of 3
    assert first.headers["x-ratelimit-remaining"] == "2"
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(5):  # EventSource reconnecting after `close`: 204 each time, no budget spent
            done = await client.get(f"{server.url}/t/echo/stream?n=2", headers={"Last-Event-ID": first.events[-1][0]})
            assert done.status_code == 204
        replayed = await client.get(f"{server.url}/t/echo/stream?n=2", headers={"Last-Event-ID": first.events[0][0]})
        assert replayed.status_code == 200 and replayed.headers["x-ratelimit-remaining"] == "1"
        probe = await client.get(f"{server.url}/t/echo/stream?n=2", headers={"Last-Event-ID": "0" * 32 + "-1"})
        assert probe.status_code == 410 and probe.headers["x-ratelimit-remaining"] == "0"
        over = await client.get(f"{server.url}/t/echo/stream?n=2", headers={"Last-Event-ID": first.events[0][0]})
        assert over.status_code == 429
