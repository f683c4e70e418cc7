"""The stream engine over real HTTP: uvicorn on loopback, httpx-sse as the client.

httpx's ASGITransport buffers streams and hides timing, so every test here talks to a real
server process (tests/support/stream_app.py mounts producers that exercise the engine).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from httpx_sse import aconnect_sse

from tests.support.server import AppServer
from tests.support.sse import read_stream
from tests.support.stream_app import TRICKY
from tests.support.wait import eventually

ID = re.compile(r"^[0-9a-f]{32}-\d+$")  # a 128-bit resume token, then the seq


@pytest.fixture(scope="module")
def server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    log_dir = tmp_path_factory.mktemp("engine")
    env = {
        "MONGODB_URL": mongo_url,
        "DATA_DIR": str(log_dir / "data"),
        "STREAMING_RATE_LIMIT": "100000",
        "STREAMING_PING_S": "0.25",
        "STREAMING_CHUNK_SIZE": "16",
        "STREAMING_MAX_CONCURRENT_PER_IP": "3",
    }
    with AppServer(env, log_dir=log_dir) as app:
        yield app


async def probe(server: AppServer) -> dict:
    async with httpx.AsyncClient(timeout=5) as client:
        return (await client.get(f"{server.url}/t/probe")).json()


async def test_event_sequence_ids_and_headers(server: AppServer) -> None:
    got = await read_stream(f"{server.url}/t/echo/stream?n=5")
    assert got.status == 200
    # Exactly this: fetch-event-source's documented `onopen` compares it with ===.
    assert got.headers["content-type"] == "text/event-stream"
    assert got.headers["cache-control"] == "no-cache, no-transform"
    assert got.headers["x-accel-buffering"] == "no"
    assert "connection" not in got.headers
    assert "content-encoding" not in got.headers
    types = got.types()
    assert types[0] == "connected" and types[-2:] == ["complete", "close"]
    assert got.events[0][2]["message"] == "Stream started"
    assert got.events[0][2]["n"] == 5  # endpoint context rides on `connected`
    stream_id = got.events[0][2]["stream_id"]
    ids = [event_id for event_id, _, _ in got.events]
    assert all(ID.match(i) for i in ids)
    assert [int(i.rsplit("-", 1)[1]) for i in ids] == list(range(1, len(ids) + 1))
    tokens = {i.rsplit("-", 1)[0] for i in ids}
    assert len(tokens) == 1
    # The public stream id names the stream but is not the token that resumes it.
    assert stream_id == hashlib.sha256(tokens.pop().encode()).hexdigest()[:32]
    assert got.of("close") == [{"message": "Stream ended"}]
    assert got.of("complete")[0]["total"] == 5
    assert got.of("complete")[0]["duration"] >= 0


async def test_tricky_payloads_survive_the_wire(server: AppServer) -> None:
    got = await read_stream(f"{server.url}/t/echo/stream?n=5")
    texts = got.of("text")
    # STREAMING_CHUNK_SIZE=16 splits long tokens; the pieces rebuild every original exactly.
    assert all(len(t["token"]) <= 16 for t in texts)
    assert texts[-1]["fullText"] == "".join(TRICKY)
    assert "".join(t["token"] for t in texts) == "".join(TRICKY)
    assert got.of("results")[0]["suggestions"] == TRICKY


async def test_raw_frames_have_one_data_line_and_retry(server: AppServer) -> None:
    async with asyncio.timeout(10), httpx.AsyncClient() as client:
        body = (await client.get(f"{server.url}/t/echo/stream?n=5")).text
    frames = [f for f in body.split("\n\n") if f.strip()]
    assert frames[0].splitlines()[2].startswith("retry: ")
    for frame in frames:
        data_lines = [line for line in frame.splitlines() if line.startswith("data:")]
        assert len(data_lines) == 1 and data_lines[0] != "data: "
        json.loads(data_lines[0][len("data: "):])


async def test_json_twin_is_the_folded_stream(server: AppServer) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        doc = (await client.get(f"{server.url}/t/echo?n=5")).json()
    got = await read_stream(f"{server.url}/t/echo/stream?n=5")
    assert doc["status"] == "ok"
    assert doc["text"] == got.of("text")[-1]["fullText"]
    assert doc["results"]["suggestions"]["suggestions"] == got.of("results")[0]["suggestions"]
    assert doc["complete"]["total"] == 5
    assert [p["step"] for p in doc["progress"]] == [p["step"] for p in got.of("progress")]


async def test_keepalive_comments_while_idle(server: AppServer) -> None:
    lines: list[str] = []
    async with asyncio.timeout(10), httpx.AsyncClient() as client:
        async with client.stream("GET", f"{server.url}/t/slow/stream?every=2") as response:
            async for line in response.aiter_lines():
                lines.append(line)
                if lines.count(": ping") >= 2:
                    break
    assert lines.count(": ping") >= 2
    assert lines[0].startswith("id: ")


async def test_keepalives_are_invisible_to_httpx_sse(server: AppServer) -> None:
    """A keep-alive must never reach a client library as an event: httpx-sse 0.4.3 turns a
    comment ended by a blank line into an empty `message` event (repeating the last id), and
    a consumer that parses every event's data as JSON then crashes."""
    events = []
    async with asyncio.timeout(10), httpx.AsyncClient() as client:
        async with aconnect_sse(client, "GET", f"{server.url}/t/slow/stream?every=0.8") as source:
            async for sse in source.aiter_sse():
                events.append(sse)
                if len(events) >= 4:
                    break
    # every=0.8 with STREAMING_PING_S=0.25: at least two keep-alives between the ticks.
    assert [e.event for e in events] == ["connected", "progress", "progress", "progress"]
    assert all(json.loads(e.data) for e in events)
    assert len({e.id for e in events}) == 4


async def test_disconnect_cancels_the_producer(server: AppServer) -> None:
    async with asyncio.timeout(10), httpx.AsyncClient() as client:
        async with client.stream("GET", f"{server.url}/t/slow/stream?every=0.5") as response:
            first = ""
            async for line in response.aiter_lines():
                if line.startswith("data:") and '"stream_id"' in line:
                    first = json.loads(line[5:])["stream_id"]
                if line.startswith("event: progress"):
                    break
    # The producer would tick for a minute; it must be cancelled (its finally run) instead.
    async with asyncio.timeout(5):
        while True:
            state = await probe(server)
            if first in state["finally"]:
                break
            await asyncio.sleep(0.05)
    assert first in state["cancelled"]


async def test_exception_becomes_error_event_without_internals(server: AppServer) -> None:
    got = await read_stream(f"{server.url}/t/boom/stream")
    assert got.types() == ["connected", "progress", "error", "close"]
    error = got.of("error")[0]
    assert error["code"] == "INTERNAL_ERROR"
    assert error["fatal"] is True
    assert "secret" not in json.dumps(got.events) and "Traceback" not in json.dumps(got.events)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", error["timestamp"])
    async with httpx.AsyncClient(timeout=10) as client:
        twin = await client.get(f"{server.url}/t/boom")
    assert twin.status_code == 500 and twin.json()["error"]["code"] == "INTERNAL_ERROR"
    assert "secret" not in twin.text


async def test_stream_error_keeps_its_code(server: AppServer) -> None:
    got = await read_stream(f"{server.url}/t/refuse/stream")
    error = got.of("error")[0]
    assert (error["code"], error["retryable"], error["message"]) == (
        "UPSTREAM_UNAVAILABLE", True, "The model server is unavailable",
    )
    assert got.types()[-1] == "close" and "complete" not in got.types()
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(f"{server.url}/t/refuse")).status_code == 502


async def test_non_fatal_error_does_not_end_the_stream(server: AppServer) -> None:
    got = await read_stream(f"{server.url}/t/soft/stream")
    assert got.types() == ["connected", "text", "error", "text", "complete", "close"]
    assert got.of("error")[0]["fatal"] is False
    async with httpx.AsyncClient(timeout=10) as client:
        doc = (await client.get(f"{server.url}/t/soft")).json()
    assert doc["status"] == "ok" and doc["warnings"][0]["code"] == "TTS_UNAVAILABLE"


async def test_bad_parameters_get_400_json_before_any_stream(server: AppServer) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{server.url}/t/echo/stream?n=zero")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "status": 400, "error": "n must be an integer from 1 to 1000",
        "code": "INVALID_PARAMETERS", "field": "n",
    }
    assert "x-ratelimit-limit" in response.headers


async def test_resume_replays_without_rerunning(server: AppServer) -> None:
    first = await read_stream(f"{server.url}/t/echo/stream?n=4")
    runs_before = (await probe(server))["runs"]["echo"]
    third_id = first.events[2][0]
    resumed = await read_stream(
        f"{server.url}/t/echo/stream?n=4", headers={"Last-Event-ID": third_id}
    )
    assert resumed.status == 200
    assert resumed.events == first.events[3:]
    assert (await probe(server))["runs"]["echo"] == runs_before


async def test_resume_after_the_end_tells_eventsource_to_stop(server: AppServer) -> None:
    first = await read_stream(f"{server.url}/t/echo/stream?n=2")
    again = await read_stream(
        f"{server.url}/t/echo/stream?n=2", headers={"Last-Event-ID": first.events[-1][0]}
    )
    assert again.status == 204


async def test_unknown_last_event_id_is_gone_and_a_malformed_one_is_refused(server: AppServer) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        unknown = await client.get(f"{server.url}/t/echo/stream?n=2", headers={"Last-Event-ID": "0" * 32 + "-3"})
        assert unknown.status_code == 410
        assert unknown.json()["code"] == "STREAM_EXPIRED" and unknown.json()["field"] == "Last-Event-ID"
        for bad in ("garbage", "0123456789ab-3", "0" * 32 + "-\u00b2", "0" * 32 + "-" + "9" * 400, "0" * 32 + "-",
                    "0" * 32 + "--1", "0" * 32 + "-\u0663", "0" * 31 + "g-1"):
            # UTF-8 on the wire (Unicode digits such as "²" or "٣" are not ASCII digits).
            refused = await client.get(f"{server.url}/t/echo/stream?n=2", headers={"Last-Event-ID": bad.encode()})
            assert refused.status_code == 400, bad
            assert refused.json() == {"status": 400, "error": "Last-Event-ID is not an event id this server sent",
                                      "code": "INVALID_PARAMETERS", "field": "Last-Event-ID"}


async def test_resume_of_an_interrupted_stream_says_so(server: AppServer) -> None:
    last_id = stream_id = ""
    async with asyncio.timeout(10), httpx.AsyncClient() as client:
        async with client.stream("GET", f"{server.url}/t/slow/stream?every=0.3") as response:
            async for line in response.aiter_lines():
                if line.startswith("id: "):
                    last_id = line[4:]
                if line.startswith("data: ") and not stream_id:
                    stream_id = json.loads(line[6:])["stream_id"]  # `connected`
                if line.startswith("event: progress"):
                    break

    async def noticed() -> bool:  # the server saw the disconnect: the producer was cancelled
        return stream_id in (await probe(server))["finally"]

    await eventually(noticed, timeout=10, what="the producer of the dropped stream ended")
    got = await read_stream(f"{server.url}/t/slow/stream", headers={"Last-Event-ID": last_id})
    assert got.types()[-2:] == ["error", "close"]
    assert got.of("error")[-1]["code"] == "STREAM_INTERRUPTED"


async def test_concurrent_stream_cap(server: AppServer) -> None:
    async with asyncio.timeout(20), httpx.AsyncClient(timeout=10) as client:
        holders = []
        for _ in range(3):
            cm = client.stream("GET", f"{server.url}/t/slow/stream?every=5")
            response = await cm.__aenter__()
            assert response.status_code == 200
            holders.append(cm)
        try:
            refused = await client.get(f"{server.url}/t/echo/stream?n=1")
            assert refused.status_code == 429
            assert refused.json()["code"] == "TOO_MANY_STREAMS"
        finally:
            for cm in holders:
                await cm.__aexit__(None, None, None)
        # Slots come back once the server has seen the disconnects.
        while True:
            again = await client.get(f"{server.url}/t/echo/stream?n=1")
            if again.status_code == 200:
                break
            await asyncio.sleep(0.1)


async def test_head_never_opens_a_stream(server: AppServer) -> None:
    before = (await probe(server))["runs"].get("slow", 0)
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.head(f"{server.url}/t/slow/stream")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert (await probe(server))["runs"].get("slow", 0) == before


async def test_metrics_count_streams_and_errors(server: AppServer) -> None:
    await read_stream(f"{server.url}/t/boom/stream")
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{server.url}/metrics")).text
    assert 'storestream_stream_errors_total{code="INTERNAL_ERROR",stream="boom"}' in text
    assert 'storestream_events_sent_total{stream="echo",type="connected"}' in text
    assert "storestream_stream_duration_seconds_bucket" in text
    assert "storestream_open_streams" in text


async def test_start_and_end_are_logged(server: AppServer) -> None:
    got = await read_stream(f"{server.url}/t/echo/stream?n=1")
    stream_id = got.events[0][2]["stream_id"]
    deadline = time.monotonic() + 5
    while f"[echo-{stream_id}] end" not in server.log() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    log = server.log()
    assert f"[echo-{stream_id}] start" in log
    assert re.search(rf"\[echo-{stream_id}\] end outcome=complete events=\d+ duration_ms=", log)


async def test_payloads_that_cannot_be_written_as_they_are_still_end_with_close(server: AppServer) -> None:
    """A lone surrogate (in `connected` too), NaN, a payload that refers to itself: the wire
    encoding never raises, so the stream is written to its `close` (it once hung after its
    headers, holding the event loop)."""
    got = await read_stream(f"{server.url}/t/odd/stream", timeout=10)
    assert got.status == 200
    assert got.types() == ["connected", "progress", "results", "progress", "text", "complete", "close"]
    assert got.events[0][2]["tag"] == "x \ud800 y"
    assert got.events[1][2]["query"] == "red \udfff kurta"
    assert got.events[2][2]["products"][0]["price"] is None
    async with httpx.AsyncClient(timeout=10) as client:
        twin = await client.get(f"{server.url}/t/odd")
        assert twin.status_code == 200 and twin.json()["text"] == "still \ud83d here"
        assert (await client.get(f"{server.url}/healthz")).status_code in (200, 503)
