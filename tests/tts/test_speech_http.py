"""Speech under load and aborts, over real HTTP: real uvicorn, real espeak-ng, the grounded
model over a generated catalog, a real MongoDB.

- Many speaking chat streams at once, from many client addresses (a trusted proxy's
  `X-Forwarded-For`): never more than TTS_MAX_CONCURRENT espeak-ng processes, no stream
  times out, audio stays in order, and an answer speech cannot keep up with ends its audio
  with one non-fatal TTS_UNAVAILABLE (reason `busy`) and goes on as text. Measured before:
  200 streams ran about 130 espeak-ng processes at once and 155 of 192 hit STREAM_TIMEOUT.
- Speaking streams cut short (STREAM_DETACH_S=0 and a client that leaves; the stop route):
  no espeak-ng process outlives them, and the log stays quiet.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Iterator

import httpx
import psutil
import pytest

from tests.support.requirements import missing_espeak, requires
from tests.support.sampling import Sampler
from tests.support.server import AppServer, isolated_env, wait_for_search

pytestmark = requires(missing_espeak())

QUESTIONS = ["red silk saree for a wedding", "blue kurta under 2000", "lehenga for a sangeet",
             "cotton dupatta in yellow", "show me sherwanis", "something festive in green"]
CAP = 2  # TTS_MAX_CONCURRENT's default


@pytest.fixture(scope="module")
def server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    log_dir = tmp_path_factory.mktemp("speech")
    env = isolated_env(mongo_url, log_dir, "speech", TTS_ENGINE="espeak", DEMO_CATALOG_SIZE="300",
                       STREAMING_RATE_LIMIT="1000", TRUSTED_PROXIES="127.0.0.1", STREAM_DETACH_S="0",
                       TTS_QUEUE_WAIT_S="1")  # short, so that some answers outrun their speech
    with AppServer(env, log_dir=log_dir) as app:
        wait_for_search(app, min_vectors=0)
        yield app


class EspeakCount(Sampler):
    """Samples the server's espeak-ng children every few ms while it runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(interval=0.003)
        self.process = psutil.Process(pid)
        self.peak = 0

    def now(self) -> int:
        count = 0
        for child in self.process.children():
            try:
                count += child.name() == "espeak-ng" and child.status() != psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                pass
        return count

    def step(self) -> None:
        self.peak = max(self.peak, self.now())


async def _events(response: httpx.Response) -> list[tuple[str, dict]]:
    events, kind = [], ""
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            events.append((kind, json.loads(line[6:])))
    return events


async def test_speech_is_capped_process_wide_and_no_stream_times_out(server: AppServer) -> None:
    assert server.process is not None

    async def ask(client: httpx.AsyncClient, i: int) -> list[tuple[str, dict]]:
        headers = {"X-Forwarded-For": f"10.0.0.{i % 12}"}
        body = {"query": QUESTIONS[i % len(QUESTIONS)], "enableTTS": True}
        async with client.stream("POST", f"{server.url}/api/chat/query/stream", json=body,
                                 headers=headers) as response:
            assert response.status_code == 200, await response.aread()
            return await _events(response)

    with EspeakCount(server.process.pid) as espeak_count:
        async with asyncio.timeout(90), httpx.AsyncClient(timeout=60) as client:
            streams = await asyncio.gather(*(ask(client, i) for i in range(48)))
    audio = busy = 0
    for events in streams:
        kinds = [k for k, _ in events]
        assert kinds[-2:] == ["complete", "close"], kinds[-4:]
        errors = [d for k, d in events if k == "error"]
        assert all(e["code"] == "TTS_UNAVAILABLE" and e["fatal"] is False for e in errors), errors
        seqs = [d["seq"] for k, d in events if k == "audio"]
        assert seqs == list(range(1, len(seqs) + 1))
        if errors:
            assert len(errors) == 1 and errors[0]["reason"] == "busy" and errors[0]["spoken"] == len(seqs)
            assert "audio" not in kinds[kinds.index("error"):]
            busy += 1
        audio += len(seqs)
    print(f"48 speaking streams from 12 addresses: peak {espeak_count.peak} espeak-ng processes, "
          f"{audio} audio chunks, {busy} streams text-only after some point, 0 timeouts")
    assert 1 <= espeak_count.peak <= CAP
    assert audio > 0 and busy > 0


async def test_speaking_streams_cut_short_leave_no_process_and_a_quiet_log(server: AppServer) -> None:
    """Half the streams are left by their client (STREAM_DETACH_S=0 cancels them at once),
    half are stopped through the stop route, each after a random number of events."""
    assert server.process is not None
    rng = random.Random(7)

    async def cut(client: httpx.AsyncClient, i: int) -> None:
        body = {"query": QUESTIONS[i % len(QUESTIONS)], "enableTTS": True}
        headers = {"X-Forwarded-For": f"10.1.0.{i % 12}"}
        after = rng.randint(2, 25)
        stream_id = last_id = ""
        seen = 0
        async with client.stream("POST", f"{server.url}/api/chat/query/stream", json=body,
                                 headers=headers) as response:
            async for line in response.aiter_lines():
                if line.startswith("id: "):
                    last_id = line[4:]
                elif line.startswith("data: "):
                    seen += 1
                    stream_id = stream_id or json.loads(line[6:]).get("stream_id", "")
                    if seen >= after:
                        break
        if i % 2 and stream_id:
            await client.post(f"{server.url}/api/streams/{stream_id}/stop",
                              headers={"Last-Event-ID": last_id, **headers})

    async with asyncio.timeout(90), httpx.AsyncClient(timeout=30) as client:
        for start in range(0, 60, 12):
            await asyncio.gather(*(cut(client, i) for i in range(start, start + 12)))
    # The clients are gone; the server may still be ending their runs (a few ms each): wait
    # for that first, or a synthesis started meanwhile would count as left over.
    async with httpx.AsyncClient(timeout=10) as client:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            metrics = (await client.get(f"{server.url}/metrics")).text
            open_now = [line for line in metrics.splitlines()
                        if line.startswith('storestream_open_streams{stream="chat"}')]
            if open_now and float(open_now[0].split()[-1]) == 0:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"chat streams still open: {open_now}")
    count = EspeakCount(server.process.pid)
    deadline = time.monotonic() + 5
    while count.now() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert count.now() == 0
    server.stop()  # the shutdown path too: every task awaited, nothing destroyed pending
    log = server.log()
    for bad in ("Task was destroyed", "never retrieved", "Traceback", " ERROR ", "ERROR:"):
        assert bad not in log, log[-3000:]
