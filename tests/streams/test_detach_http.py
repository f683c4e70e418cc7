"""Work survives a dropped connection; stopping is explicit (app/streams/runs.py).

`/t/tale` (tests/support/stream_app.py) is a detachable producer like the chat: a word every
`every` seconds; `/t/probe` reports how often each stream's producer ran, and whether it was
cancelled. Real uvicorn on loopback; the client drops the connection itself."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support.server import AppServer, until_detached
from tests.support.sse import events_of, read_stream
from tests.support.wait import eventually


@pytest.fixture(scope="module")
def server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    log_dir = tmp_path_factory.mktemp("detach")
    env = {"MONGODB_URL": mongo_url, "DATA_DIR": str(log_dir / "data"), "STREAMING_RATE_LIMIT": "100000",
           "ADMIN_TOKEN": "detach-admin", "STREAMING_PING_S": "0.3"}
    with AppServer(env, log_dir=log_dir) as app:
        yield app


async def probe(server: AppServer) -> dict:
    async with httpx.AsyncClient(timeout=5) as client:
        return (await client.get(f"{server.url}/t/probe")).json()


async def read_then_drop(url: str, events: int, headers: dict[str, str] | None = None) -> list[tuple[str, str, dict]]:
    """Read `events` events, then close the connection (the client is gone)."""
    got: list[tuple[str, str, dict]] = []
    async with asyncio.timeout(10), httpx.AsyncClient() as client:
        async with client.stream("GET", url, headers=headers or {}) as response:
            assert response.status_code == 200
            async for event in events_of(response):
                got.append(event)
                if len(got) >= events:
                    break
    return got


async def producer_ended(server: AppServer, stream_id: str) -> None:
    """Until the stream's producer has run its `finally` (ended, or was cancelled)."""
    await eventually(lambda: _ended(server, stream_id), timeout=10, what=f"{stream_id} ended")


async def _ended(server: AppServer, stream_id: str) -> bool:
    return stream_id in (await probe(server))["finally"]


async def until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    await eventually(condition, timeout=timeout)


async def test_a_resume_after_a_drop_gets_the_whole_answer_and_the_work_runs_once(server: AppServer) -> None:
    url = f"{server.url}/t/tale/stream?n=20&every=0.05"
    seen = await read_then_drop(url, 4)  # connected + 3 words
    stream_id = seen[0][2]["stream_id"]
    await producer_ended(server, stream_id)  # the whole answer is produced, with nobody reading
    rest = await read_stream(url, headers={"Last-Event-ID": seen[-1][0]})
    assert rest.status == 200
    texts = [d for _, k, d in seen if k == "text"] + rest.of("text")
    assert [t["token"] for t in texts] == [f"word{i} " for i in range(20)]
    assert rest.types()[-2:] == ["complete", "close"]
    state = await probe(server)
    assert state["tales"][stream_id] == 1
    assert stream_id not in state["cancelled"]


async def test_a_resume_while_it_still_runs_follows_it_live(server: AppServer) -> None:
    url = f"{server.url}/t/tale/stream?n=30&every=0.1"
    seen = await read_then_drop(url, 3)
    await asyncio.sleep(0.5)
    rest = await read_stream(url, headers={"Last-Event-ID": seen[-1][0]})
    tokens = [d["token"] for _, k, d in seen if k == "text"] + [t["token"] for t in rest.of("text")]
    assert tokens == [f"word{i} " for i in range(30)]
    assert rest.types()[-1] == "close"
    assert (await probe(server))["tales"][seen[0][2]["stream_id"]] == 1


async def test_with_nobody_back_within_the_window_the_work_is_cancelled_and_says_so(
    app_server: Callable[..., AppServer],
) -> None:
    server = app_server(STREAM_DETACH_S="0.5")
    url = f"{server.url}/t/tale/stream?n=100&every=0.1"
    seen = await read_then_drop(url, 2)
    stream_id = seen[0][2]["stream_id"]

    async def cancelled() -> bool:
        return stream_id in (await probe(server))["cancelled"]

    await until(cancelled)
    rest = await read_stream(url, headers={"Last-Event-ID": seen[-1][0]})
    assert rest.types()[-2:] == ["error", "close"]
    error = rest.of("error")[0]
    assert (error["code"], error["retryable"]) == ("STREAM_INTERRUPTED", True)
    assert len(rest.of("text")) < 99  # it did not run to the end


async def test_a_stream_that_is_not_detachable_is_cancelled_at_once(server: AppServer) -> None:
    seen = await read_then_drop(f"{server.url}/t/slow/stream?every=0.3", 2)
    stream_id = seen[0][2]["stream_id"]

    async def cancelled() -> bool:
        return stream_id in (await probe(server))["cancelled"]

    await until(cancelled, timeout=2)


async def test_stop_ends_the_stream_at_once_for_its_reader(server: AppServer) -> None:
    url = f"{server.url}/t/tale/stream?n=200&every=0.05"
    got: list[tuple[str, str, dict]] = []
    async with asyncio.timeout(10), httpx.AsyncClient(timeout=10) as client:
        async with client.stream("GET", url) as response:
            stopped = None
            async for event in events_of(response):
                got.append(event)
                if len(got) == 3:
                    stream_id = got[0][2]["stream_id"]
                    stopped = await client.post(f"{server.url}/api/streams/{stream_id}/stop",
                                                headers={"Last-Event-ID": event[0]})
    assert stopped is not None and stopped.status_code == 200
    assert stopped.json() == {"stream_id": got[0][2]["stream_id"], "stopped": True}
    assert [k for _, k, _ in got][-2:] == ["error", "close"]
    error = got[-2][2]
    assert (error["code"], error["retryable"]) == ("STREAM_STOPPED", False)
    assert len([k for _, k, _ in got if k == "text"]) < 50
    state = await probe(server)
    assert got[0][2]["stream_id"] in state["cancelled"]
    # Stopping it again, or resuming it, tells the same story.
    async with httpx.AsyncClient(timeout=10) as client:
        again = await client.post(f"{server.url}/api/streams/{got[0][2]['stream_id']}/stop",
                                  headers={"Last-Event-ID": got[1][0]})
    assert again.json()["stopped"] is False
    rest = await read_stream(url, headers={"Last-Event-ID": got[1][0]})
    assert rest.of("error")[-1]["code"] == "STREAM_STOPPED"


async def test_stop_reaches_a_detached_stream(server: AppServer) -> None:
    url = f"{server.url}/t/tale/stream?n=200&every=0.05"
    seen = await read_then_drop(url, 2)
    stream_id = seen[0][2]["stream_id"]
    await until_detached(server)  # operators can see it
    async with httpx.AsyncClient(timeout=10) as client:
        stopped = await client.post(f"{server.url}/api/streams/{stream_id}/stop", headers={"Last-Event-ID": seen[1][0]})
    assert stopped.json()["stopped"] is True

    async def cancelled() -> bool:
        return stream_id in (await probe(server))["cancelled"]

    await until(cancelled, timeout=2)


async def test_stop_is_bound_like_a_resume(server: AppServer) -> None:
    mine = await read_then_drop(f"{server.url}/t/tale/stream?n=200&every=0.05", 2)
    other = await read_stream(f"{server.url}/t/echo/stream?n=1")
    stream_id = mine[0][2]["stream_id"]
    stop_url = f"{server.url}/api/streams/{stream_id}/stop"
    async with httpx.AsyncClient(timeout=10) as client:
        missing = await client.post(stop_url)
        assert missing.status_code == 400 and missing.json()["field"] == "Last-Event-ID"
        malformed = await client.post(stop_url, headers={"Last-Event-ID": "nope"})
        assert malformed.status_code == 400
        by_name = await client.post(stop_url, headers={"Last-Event-ID": f"{stream_id}-1"})
        assert by_name.status_code == 404
        someone_elses = await client.post(stop_url, headers={"Last-Event-ID": other.events[0][0]})
        assert someone_elses.status_code == 404 and someone_elses.json()["code"] == "NOT_FOUND"
        # An admin stream needs the admin token to stop, as to start or resume.
        vault = await read_then_drop(f"{server.url}/t/vault/stream?n=200&every=0.05", 2,
                                     headers={"Authorization": "Bearer detach-admin"})
        vault_stop = f"{server.url}/api/streams/{vault[0][2]['stream_id']}/stop"
        anonymous = await client.post(vault_stop, headers={"Last-Event-ID": vault[1][0]})
        assert anonymous.status_code == 401
        admin = await client.post(vault_stop, headers={"Last-Event-ID": vault[1][0], "Authorization": "Bearer detach-admin"})
        assert admin.json()["stopped"] is True
        assert (await client.post(stop_url, headers={"Last-Event-ID": mine[1][0]})).json()["stopped"] is True


async def test_a_detached_stream_keeps_its_slot_and_a_resume_needs_none(app_server: Callable[..., AppServer]) -> None:
    server = app_server(STREAMING_MAX_CONCURRENT_PER_IP="1", STREAMING_RATE_LIMIT="1000")
    seen = await read_then_drop(f"{server.url}/t/tale/stream?n=40&every=0.05", 2)
    await until_detached(server)  # its client has gone; it runs on, in its slot
    async with httpx.AsyncClient(timeout=10) as client:
        refused = await client.get(f"{server.url}/t/echo/stream?n=1")
    assert refused.status_code == 429 and refused.json()["code"] == "TOO_MANY_STREAMS"
    rest = await read_stream(f"{server.url}/t/tale/stream", headers={"Last-Event-ID": seen[-1][0]})
    assert rest.status == 200 and rest.types()[-1] == "close"

    async def slot_free() -> bool:
        async with httpx.AsyncClient(timeout=5) as client:
            return (await client.get(f"{server.url}/t/echo/stream?n=1")).status_code == 200

    await until(slot_free)


async def test_a_stop_costs_no_budget(app_server: Callable[..., AppServer]) -> None:
    server = app_server(STREAMING_RATE_LIMIT="2")
    seen = await read_then_drop(f"{server.url}/t/tale/stream?n=200&every=0.05", 2)
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(3):
            stopped = await client.post(f"{server.url}/api/streams/{seen[0][2]['stream_id']}/stop",
                                        headers={"Last-Event-ID": seen[1][0]})
            assert stopped.status_code == 200
        second = await client.get(f"{server.url}/t/echo?n=1")
        assert second.status_code == 200 and second.headers["x-ratelimit-remaining"] == "0"
