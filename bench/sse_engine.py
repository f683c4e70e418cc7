"""SSE engine benchmark: our engine against sse-starlette and a raw Starlette StreamingResponse,
serving the same events (bench/servers.py), measured in one run on this machine.

    .venv/bin/python -m bench.sse_engine            # full run (~3 minutes)
    .venv/bin/python -m bench.sse_engine --quick    # smoke check (~1 minute)
    .venv/bin/python -m bench.sse_engine --profile  # also: cProfile of `ours` (separate server)

Each server is its own uvicorn process (one worker, h11, asyncio loop, no access log, log level
warning) on a free 127.0.0.1 port; all are stopped (SIGTERM, then SIGKILL) whatever happens.
The client is a raw asyncio socket client: an HTTP/1.1 GET with `Connection: close`, then it
counts `\\nevent: ` markers in the bytes received (no SSE or HTTP parsing beyond the headers).

Measurements, each repeated `--reps` times (3), the median reported:
 1. events/s on one stream of n=200000 text events;
 2. events/s in total over 100 concurrent streams of n=5000;
 3. time to first event (request written -> first complete event received) p50/p99 over 300
    sequential requests (n=1) on an otherwise idle server;
 4. the same while 1,000 idle streams are held open on that server;
 5. RSS growth per idle open stream at 1,000 and 5,000 streams: a fresh server per sample
    (freed memory would otherwise be reused by the next sample and hide the cost), warmed up,
    RSS read after `gc.collect()` before and after opening N streams that each received their
    first event.
 6. the admission burst: 10,000 clients, each from its own loopback address, open an idle
    stream at once against a fresh server pinned to one core (the client on the other): time
    to first event p50/p99, the time until all have it, the server's CPU seconds (user +
    system) spent meanwhile, and RSS per stream;
 7. 200 short streams (n=50) from as many clients at once.
Protocol adapters (bench/servers.py `ADAPTERS`: `ours` with OpenAI's chunks as its wire) are
measured for 1 and 2 only, in the same reps as `ours`, counting their own frame marker
(`\\ndata: `): the adapter's overhead against the native stream.
Events counted are every event on the wire (connected + n text + complete + close), the same
bytes per event on all three servers.

    .venv/bin/python -m bench.sse_engine --adapters          # the adapters on an agent turn (~5 minutes)
    .venv/bin/python -m bench.sse_engine --adapters --quick  # smoke check (~40 s)

`--adapters` measures only the protocol adapters (docs/protocols.md), on one realistic
sales-agent turn (bench/servers.py `agent_turn`: intent, two tool calls, 8 product cards,
market figures, 150 text deltas, 3 sentences of speech, suggestions, complete; with the
engine's connected and close, 162 events): our events/s through each adapter's frame encoder
(AI SDK UI message stream, AG-UI, OpenAI chunks) against the native SSE encoder, in the same
reps, rotating who goes first:
 a. in process: the encoder alone (a fresh encoder per turn, as per stream), turns encoded
    back to back;
 b. end to end: each its own uvicorn process serving the turn through the engine, read over
    loopback with httpx by that protocol's client parser (httpx-sse for the native stream,
    each event's data parsed as JSON; for the adapters a minimal reader: every `data:` line
    parsed as JSON, `[DONE]` skipped), by one client reading one turn after another on its
    connection, and by 20 clients (10 with --quick) at once.
Each rep is made of rounds (10; 3 with --quick) in which every protocol takes its turn at
each measurement, so that the machine's other load falls on all of them alike.
Events counted are ours (the turn's 162), whatever number of frames a protocol makes of them.

Results: bench/results/sse_engine.json and bench/results/sse_engine.md (also printed); with
--adapters, bench/results/sse_engine_adapters.json and .md.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
import resource  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import psutil  # noqa: E402

from bench.common import machine as common_machine  # noqa: E402
from bench.common import pct  # noqa: E402
from bench.common import wait_until_serving  # noqa: E402
from bench.servers import ADAPTER_MARKS, ADAPTERS, FACTORIES, STREAM_PATH  # noqa: E402
from bench.servers import TURN_CONTEXT, TURN_PATH, TURN_SERVERS, agent_turn  # noqa: E402

RESULTS = ROOT / "bench" / "results"
HOST = "127.0.0.1"
MARK = b"\nevent: "
EXTRA_EVENTS = 3  # connected, complete, close around the n text events
UVICORN_OPTS = ["--workers", "1", "--http", "h11", "--loop", "asyncio", "--no-access-log",
                "--log-level", "warning", "--timeout-graceful-shutdown", "2"]

FULL = dict(reps=3, single_n=200_000, multi_streams=100, multi_n=5000, ttfe_requests=300,
            ttfe_idle_streams=1000, rss_sizes=(1000, 5000), rss_reps=3, open_concurrency=200,
            burst_clients=10_000, short_streams=200, short_n=50)
QUICK = dict(reps=1, single_n=20_000, multi_streams=20, multi_n=1000, ttfe_requests=50,
             ttfe_idle_streams=200, rss_sizes=(200, 500), rss_reps=1, open_concurrency=100,
             burst_clients=1000, short_streams=50, short_n=50)
BURST_CONNECTING = 2000  # connects in flight at once: below the kernel's accept backlog (somaxconn)
SERVER_CPU, CLIENT_CPU = 1, 0  # the burst measurements pin the server to one core, the client to the other

TARGETS = {
    "single_eps_vs_sse": 2.0,  # ours >= 2x sse-starlette events/s
    "rss_kb_per_stream": 25.0,  # <= 25 KB per idle stream
    "burst_rss_kb_per_stream": 20.0,  # <= 20 KB per idle stream at 10,000 clients
    "ttfe_idle_p50_ms": 2.0,  # <= 2 ms
}


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# --- servers -----------------------------------------------------------------------------


class Server:
    """One uvicorn process. Inherits the raised RLIMIT_NOFILE from this process."""

    def __init__(self, name: str, log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.factory = {**FACTORIES, **ADAPTERS, **TURN_SERVERS}[name]
        self.log_dir = log_dir
        self.env = env or {}
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.ps: psutil.Process | None = None

    def start(self, timeout: float = 30.0) -> Server:
        self.port = free_port()
        env = {**os.environ, "HF_HUB_OFFLINE": "1", **self.env}
        env.pop("WEB_CONCURRENCY", None)
        log = open(self.log_dir / f"{self.name}-{self.port}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", self.factory,
             "--host", HOST, "--port", str(self.port), *UVICORN_OPTS],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()
        self.ps = psutil.Process(self.proc.pid)
        wait_until_serving(self.proc, HOST, self.port, timeout=timeout, log_tail=self.log_tail)
        return self

    def log_tail(self) -> str:
        try:
            return (self.log_dir / f"{self.name}-{self.port}.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def rss(self) -> int:
        assert self.ps is not None
        total = self.ps.memory_info().rss
        for child in self.ps.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def cpu_s(self) -> float:
        assert self.ps is not None
        t = self.ps.cpu_times()
        return t.user + t.system

    async def quiet(self, max_wait: float = 15.0) -> None:
        """Wait until the server process is (nearly) idle: it has finished closing streams."""
        deadline = time.monotonic() + max_wait
        calm = 0
        last = self.cpu_s()
        while time.monotonic() < deadline and calm < 2:
            await asyncio.sleep(0.1)
            now = self.cpu_s()
            calm = calm + 1 if now - last < 0.01 else 0
            last = now

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(8)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


# --- the client --------------------------------------------------------------------------


def request_bytes(port: int, path: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: text/event-stream\r\n"
        "Cache-Control: no-cache\r\nConnection: close\r\n\r\n"
    ).encode()


async def read_head(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if not status.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"unexpected status: {status!r}")


async def read_first_event(reader: asyncio.StreamReader) -> bytes:
    """Bytes of the body up to the end of the first complete event (its blank line)."""
    buf = b""
    while True:
        end = buf.find(b"\n\n")
        if end < 0:
            end = buf.find(b"\r\n\r\n")
        if end >= 0 and MARK[1:] in buf[:end]:
            return buf
        chunk = await reader.read(65536)
        if not chunk:
            raise RuntimeError("connection closed before the first event")
        buf += chunk


def count_events(data: bytes, tail: bytes, mark: bytes = MARK) -> tuple[int, bytes]:
    """Markers in `tail + data`; `tail` (shorter than a marker) carries a split marker over."""
    joined = tail + data
    return joined.count(mark), joined[-(len(mark) - 1):]


async def read_to_eof(reader: asyncio.StreamReader, tail: bytes = b"\n", mark: bytes = MARK) -> int:
    """Count events until the server closes. The body start counts as a line start."""
    events = 0
    while True:
        data = await reader.read(1 << 18)
        if not data:
            return events
        n, tail = count_events(data, tail, mark)
        events += n


async def stream_events(port: int, path: str, mark: bytes = MARK) -> int:
    reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 20)
    try:
        writer.write(request_bytes(port, path))
        await read_head(reader)
        return await read_to_eof(reader, mark=mark)
    finally:
        writer.close()


async def ttfe_once(port: int) -> float:
    """Seconds from writing the request to holding the first complete event."""
    reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 20)
    try:
        req = request_bytes(port, f"{STREAM_PATH}?n=1")
        t0 = time.perf_counter()
        writer.write(req)
        await read_head(reader)
        first = await read_first_event(reader)
        elapsed = time.perf_counter() - t0
        seen, tail = count_events(first, b"\n")
        seen += await read_to_eof(reader, tail)  # let the stream end normally
        if seen != 1 + EXTRA_EVENTS:
            raise RuntimeError(f"n=1 stream delivered {seen} events")
        return elapsed
    finally:
        writer.close()


@dataclass
class Held:
    writer: asyncio.StreamWriter
    reader: asyncio.StreamReader


async def open_idle(port: int, count: int, concurrency: int) -> list[Held]:
    """Open `count` idle streams, each established (its `connected` event received)."""
    gate = asyncio.Semaphore(concurrency)
    req = request_bytes(port, f"{STREAM_PATH}?idle=1")

    async def one() -> Held:
        async with gate:
            reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 16)
            try:
                writer.write(req)
                async with asyncio.timeout(30):
                    await read_head(reader)
                    await read_first_event(reader)
            except BaseException:
                writer.close()
                raise
            return Held(writer, reader)

    results = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
    held = [r for r in results if isinstance(r, Held)]
    errors = [r for r in results if not isinstance(r, Held)]
    if errors:
        await close_all(held)
        raise RuntimeError(f"{len(errors)} of {count} idle streams failed: {errors[0]!r}")
    return held


async def close_all(held: list[Held]) -> None:
    for h in held:
        h.writer.close()
    await asyncio.gather(*(h.writer.wait_closed() for h in held), return_exceptions=True)


async def gc_server(port: int) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(f"GET /gc HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
        await read_head(reader)
        await reader.read()
    finally:
        writer.close()


# --- measurements ------------------------------------------------------------------------


def mark_of(srv: Server) -> bytes:
    return ADAPTER_MARKS.get(srv.name, MARK)


async def m_single(srv: Server, n: int) -> float:
    await srv.quiet()
    t0 = time.perf_counter()
    got = await stream_events(srv.port, f"{STREAM_PATH}?n={n}", mark_of(srv))
    elapsed = time.perf_counter() - t0
    if got != n + EXTRA_EVENTS:
        raise RuntimeError(f"{srv.name}: expected {n + EXTRA_EVENTS} events, got {got}")
    return got / elapsed


async def m_multi(srv: Server, streams: int, n: int) -> float:
    await srv.quiet()
    t0 = time.perf_counter()
    got = await asyncio.gather(*(stream_events(srv.port, f"{STREAM_PATH}?n={n}", mark_of(srv))
                                 for _ in range(streams)))
    elapsed = time.perf_counter() - t0
    if any(g != n + EXTRA_EVENTS for g in got):
        raise RuntimeError(f"{srv.name}: a stream ended short: {sorted(set(got))}")
    return sum(got) / elapsed


async def m_ttfe(srv: Server, requests: int) -> dict[str, float]:
    await srv.quiet()
    for _ in range(5):  # warm the path (imports, first allocations)
        await ttfe_once(srv.port)
    samples = [await ttfe_once(srv.port) for _ in range(requests)]
    return {"p50_ms": statistics.median(samples) * 1000, "p99_ms": pct(samples, 99) * 1000}


async def m_ttfe_loaded(srv: Server, requests: int, idle: int, concurrency: int) -> dict[str, float]:
    held = await open_idle(srv.port, idle, concurrency)
    try:
        result = await m_ttfe(srv, requests)
    finally:
        await close_all(held)
        await srv.quiet()
    return result


async def settled_rss(srv: Server) -> int:
    """The server's RSS once it is quiet and has collected its garbage."""
    await srv.quiet()
    await gc_server(srv.port)
    await asyncio.sleep(0.3)
    await srv.quiet()
    return srv.rss()


async def m_rss(name: str, count: int, concurrency: int, log_dir: Path) -> float:
    """KB of server RSS per idle open stream, on a fresh, warmed-up server."""
    srv = Server(name, log_dir).start()
    try:
        for _ in range(3):
            await stream_events(srv.port, f"{STREAM_PATH}?n=100")
        await close_all(await open_idle(srv.port, 50, concurrency))
        await srv.quiet()
        await gc_server(srv.port)
        await srv.quiet()
        before = srv.rss()
        held = await open_idle(srv.port, count, concurrency)
        try:
            after = await settled_rss(srv)
        finally:
            await close_all(held)
        return (after - before) / count / 1024
    finally:
        srv.stop()


def client_address(i: int) -> str:
    """A loopback address of its own for client `i` (127.1.0.1 ...): every stream of the
    burst is another client to the rate limiter and the concurrent-stream cap."""
    return f"127.1.{i // 250}.{i % 250 + 1}"


async def open_as(i: int, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(HOST, port, limit=1 << 16, local_addr=(client_address(i), 0))


async def m_burst(name: str, clients: int, log_dir: Path) -> dict[str, float]:
    """`clients` clients, each from its own address, open an idle stream at once, on a fresh
    server pinned to one core (the client on the other). Time to first event from each
    request, the time until all have theirs, and the server's RSS per stream once they do."""
    srv = Server(name, log_dir).start()
    own = os.sched_getaffinity(0)
    try:
        assert srv.ps is not None
        srv.ps.cpu_affinity([SERVER_CPU])
        os.sched_setaffinity(0, {CLIENT_CPU})
        for _ in range(3):
            await stream_events(srv.port, f"{STREAM_PATH}?n=100")
        await close_all(await open_idle(srv.port, 50, 50))
        await srv.quiet()
        await gc_server(srv.port)
        await srv.quiet()
        before = srv.rss()
        cpu_before = sum(srv.ps.cpu_times()[:2])
        gate = asyncio.Semaphore(BURST_CONNECTING)
        req = request_bytes(srv.port, f"{STREAM_PATH}?idle=1")
        t0 = time.perf_counter()

        async def one(i: int) -> tuple[Held, float]:
            async with gate:
                reader, writer = await open_as(i, srv.port)
            try:
                sent = time.perf_counter()
                writer.write(req)
                async with asyncio.timeout(120):
                    await read_head(reader)
                    await read_first_event(reader)
                return Held(writer, reader), time.perf_counter() - sent
            except BaseException:
                writer.close()
                raise

        results = await asyncio.gather(*(one(i) for i in range(clients)), return_exceptions=True)
        makespan = time.perf_counter() - t0
        cpu_s = sum(srv.ps.cpu_times()[:2]) - cpu_before
        held = [r[0] for r in results if isinstance(r, tuple)]
        errors = [r for r in results if not isinstance(r, tuple)]
        try:
            if errors:
                raise RuntimeError(f"{name}: {len(errors)} of {clients} burst streams failed: {errors[0]!r}")
            after = await settled_rss(srv)
        finally:
            await close_all(held)
        ttfe = [r[1] for r in results if isinstance(r, tuple)]
        return {"p50_ms": statistics.median(ttfe) * 1000, "p99_ms": pct(ttfe, 99) * 1000,
                "makespan_s": makespan, "cpu_s": cpu_s, "rss_kb": (after - before) / clients / 1024}
    finally:
        os.sched_setaffinity(0, own)
        srv.stop()


async def m_short(srv: Server, streams: int, n: int) -> float:
    """Events/s over `streams` short streams (n text events each) from as many clients, all at
    once: admission and teardown weigh as much as the events themselves."""
    await srv.quiet()
    path = f"{STREAM_PATH}?n={n}"

    async def one(i: int) -> int:
        reader, writer = await open_as(i, srv.port)
        try:
            writer.write(request_bytes(srv.port, path))
            await read_head(reader)
            return await read_to_eof(reader)
        finally:
            writer.close()

    t0 = time.perf_counter()
    got = await asyncio.gather(*(one(i) for i in range(streams)))
    elapsed = time.perf_counter() - t0
    if any(g != n + EXTRA_EVENTS for g in got):
        raise RuntimeError(f"{srv.name}: a short stream ended short: {sorted(set(got))}")
    return sum(got) / elapsed


# --- the run -----------------------------------------------------------------------------


def med(values: list[float]) -> float:
    return statistics.median(values)


async def run(cfg: dict[str, Any], log_dir: Path, progress) -> dict[str, dict[str, Any]]:
    names = list(FACTORIES)
    raw: dict[str, dict[str, list[Any]]] = {
        n: {"single_eps": [], "multi_eps": [], "ttfe_idle": [], "ttfe_loaded": [], "short_eps": [], "burst": [], **{
            f"rss_kb_{s}": [] for s in cfg["rss_sizes"]}} for n in names
    }
    for name in ADAPTERS:
        raw[name] = {"single_eps": [], "multi_eps": []}
    servers = {n: Server(n, log_dir) for n in [*names, *ADAPTERS]}
    try:
        for srv in servers.values():
            srv.start()
        for rep in range(cfg["reps"]):
            order = names[rep % 3:] + names[: rep % 3]  # rotate who goes first
            for name in order:
                srv = servers[name]
                r = raw[name]
                r["single_eps"].append(await m_single(srv, cfg["single_n"]))
                r["multi_eps"].append(await m_multi(srv, cfg["multi_streams"], cfg["multi_n"]))
                r["short_eps"].append(await m_short(srv, cfg["short_streams"], cfg["short_n"]))
                r["ttfe_idle"].append(await m_ttfe(srv, cfg["ttfe_requests"]))
                r["ttfe_loaded"].append(
                    await m_ttfe_loaded(srv, cfg["ttfe_requests"], cfg["ttfe_idle_streams"], cfg["open_concurrency"])
                )
                progress(f"rep {rep + 1} {name}: {r['single_eps'][-1]:,.0f} ev/s single, "
                         f"{r['multi_eps'][-1]:,.0f} ev/s x{cfg['multi_streams']}, "
                         f"ttfe p50 {r['ttfe_idle'][-1]['p50_ms']:.2f} ms / loaded {r['ttfe_loaded'][-1]['p50_ms']:.2f} ms")
            for name in ADAPTERS:  # events/s through each adapter, in the same rep as ours
                srv, r = servers[name], raw[name]
                r["single_eps"].append(await m_single(srv, cfg["single_n"]))
                r["multi_eps"].append(await m_multi(srv, cfg["multi_streams"], cfg["multi_n"]))
                progress(f"rep {rep + 1} {name}: {r['single_eps'][-1]:,.0f} ev/s single, "
                         f"{r['multi_eps'][-1]:,.0f} ev/s x{cfg['multi_streams']}")
    finally:
        for srv in servers.values():
            srv.stop()
    for rep in range(cfg["rss_reps"]):
        for name in names[rep % 3:] + names[: rep % 3]:
            burst = await m_burst(name, cfg["burst_clients"], log_dir)
            raw[name]["burst"].append(burst)
            progress(f"burst rep {rep + 1} {name} {cfg['burst_clients']} clients: ttfe p50 {burst['p50_ms']:.0f} ms, "
                     f"all in {burst['makespan_s']:.1f} s, {burst['rss_kb']:.1f} KB/stream")
        for size in cfg["rss_sizes"]:
            for name in names:
                kb = await m_rss(name, size, cfg["open_concurrency"], log_dir)
                raw[name][f"rss_kb_{size}"].append(kb)
                progress(f"rss rep {rep + 1} {name} {size} streams: {kb:.1f} KB/stream")

    out: dict[str, dict[str, Any]] = {}
    for name in names:
        r = raw[name]
        out[name] = {
            "single_stream_events_per_s": med(r["single_eps"]),
            "multi_stream_events_per_s": med(r["multi_eps"]),
            "ttfe_idle_p50_ms": med([x["p50_ms"] for x in r["ttfe_idle"]]),
            "ttfe_idle_p99_ms": med([x["p99_ms"] for x in r["ttfe_idle"]]),
            "ttfe_loaded_p50_ms": med([x["p50_ms"] for x in r["ttfe_loaded"]]),
            "ttfe_loaded_p99_ms": med([x["p99_ms"] for x in r["ttfe_loaded"]]),
            "short_streams_events_per_s": med(r["short_eps"]),
            "burst_ttfe_p50_ms": med([x["p50_ms"] for x in r["burst"]]),
            "burst_ttfe_p99_ms": med([x["p99_ms"] for x in r["burst"]]),
            "burst_makespan_s": med([x["makespan_s"] for x in r["burst"]]),
            "burst_cpu_s": med([x["cpu_s"] for x in r["burst"]]),
            "burst_rss_kb_per_stream": med([x["rss_kb"] for x in r["burst"]]),
            **{f"rss_kb_per_stream_at_{s}": med(r[f"rss_kb_{s}"]) for s in cfg["rss_sizes"]},
            "runs": r,
        }
    for name in ADAPTERS:
        r = raw[name]
        out[name] = {"single_stream_events_per_s": med(r["single_eps"]),
                     "multi_stream_events_per_s": med(r["multi_eps"]), "runs": r}
    return out


ROWS = [
    ("single_stream_events_per_s", "events/s, 1 stream (n={single_n:,})", "{:,.0f}", True),
    ("multi_stream_events_per_s", "events/s total, {multi_streams} streams (n={multi_n:,} each)", "{:,.0f}", True),
    ("ttfe_idle_p50_ms", "TTFE p50, idle server (ms)", "{:.2f}", False),
    ("ttfe_idle_p99_ms", "TTFE p99, idle server (ms)", "{:.2f}", False),
    ("ttfe_loaded_p50_ms", "TTFE p50, {ttfe_idle_streams:,} idle streams open (ms)", "{:.2f}", False),
    ("ttfe_loaded_p99_ms", "TTFE p99, {ttfe_idle_streams:,} idle streams open (ms)", "{:.2f}", False),
    ("short_streams_events_per_s", "events/s total, {short_streams} short streams (n={short_n}) from as many clients",
     "{:,.0f}", True),
    ("burst_ttfe_p50_ms", "{burst_clients:,} clients open idle streams at once, server on one core: TTFE p50 (ms)",
     "{:,.0f}", False),
    ("burst_ttfe_p99_ms", "the same: TTFE p99 (ms)", "{:,.0f}", False),
    ("burst_makespan_s", "the same: until all have their first event (s)", "{:.1f}", False),
    ("burst_cpu_s", "the same: server CPU meanwhile (s)", "{:.2f}", False),
    ("burst_rss_kb_per_stream", "the same: RSS per idle stream (KB)", "{:.1f}", False),
]


def table(results: dict[str, dict[str, Any]], cfg: dict[str, Any]) -> str:
    rows = ROWS + [
        (f"rss_kb_per_stream_at_{s}", f"RSS per idle stream at {s:,} streams (KB)", "{:.1f}", False)
        for s in cfg["rss_sizes"]
    ]
    lines = [
        "| metric | ours | sse-starlette | raw StreamingResponse | ours/sse-starlette | ours/raw |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, label, fmt, _ in rows:
        o, s, r = (results[n][key] for n in ("ours", "sse-starlette", "raw"))
        lines.append(
            f"| {label.format(**cfg)} | {fmt.format(o)} | {fmt.format(s)} | {fmt.format(r)} "
            f"| {o / s:.2f} | {o / r:.2f} |"
        )
    return "\n".join(lines)


def adapter_table(results: dict[str, dict[str, Any]], cfg: dict[str, Any]) -> str:
    """Events/s through each protocol adapter against the native stream, same run."""
    lines = ["| metric | ours (native SSE) | " + " | ".join(ADAPTERS) + " | "
             + " | ".join(f"{a}/ours" for a in ADAPTERS) + " |",
             "|---|---:|" + "---:|" * (2 * len(ADAPTERS))]
    for key, label, fmt, _ in ROWS[:2]:
        o = results["ours"][key]
        values = [results[a][key] for a in ADAPTERS]
        lines.append(f"| {label.format(**cfg)} | {fmt.format(o)} | " + " | ".join(fmt.format(v) for v in values)
                     + " | " + " | ".join(f"{v / o:.2f}" for v in values) + " |")
    return "\n".join(lines)


def ratios(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    ours = results["ours"]
    out: dict[str, dict[str, float]] = {"ours/sse-starlette": {}, "ours/raw": {}}
    for key, value in ours.items():
        if key == "runs":
            continue
        out["ours/sse-starlette"][key] = value / results["sse-starlette"][key]
        out["ours/raw"][key] = value / results["raw"][key]
    for name in ADAPTERS:
        out[f"{name}/ours"] = {k: v / ours[k] for k, v in results[name].items() if k != "runs"}
    return out


def targets(results: dict[str, dict[str, Any]], cfg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    ours = results["ours"]
    eps_ratio = ours["single_stream_events_per_s"] / results["sse-starlette"]["single_stream_events_per_s"]
    multi_ratio = ours["multi_stream_events_per_s"] / results["sse-starlette"]["multi_stream_events_per_s"]
    rss = max(ours[f"rss_kb_per_stream_at_{s}"] for s in cfg["rss_sizes"])
    burst_rss = ours["burst_rss_kb_per_stream"]
    admission = ours["burst_makespan_s"] / results["raw"]["burst_makespan_s"]
    admission_cpu = ours["burst_cpu_s"] / results["raw"]["burst_cpu_s"]
    short = ours["short_streams_events_per_s"] / results["raw"]["short_streams_events_per_s"]
    return {
        f"RSS <= 20 KB per idle stream at {cfg['burst_clients']:,} clients": {
            "value": round(burst_rss, 1), "met": burst_rss <= TARGETS["burst_rss_kb_per_stream"]},
        "admission burst costs no more server CPU than the bare response's (CPU s ours/raw <= 1)": {
            "value": round(admission_cpu, 2), "met": admission_cpu <= 1.0},
        "admission burst at least as fast as the bare response (makespan ours/raw <= 1)": {
            "value": round(admission, 2), "met": admission <= 1.0},
        "short streams at least as fast as the bare response (events/s ours/raw >= 1)": {
            "value": round(short, 2), "met": short >= 1.0},
        "events/s >= 2x sse-starlette (1 stream)": {"value": round(eps_ratio, 2), "met": eps_ratio >= TARGETS["single_eps_vs_sse"]},
        "events/s >= 2x sse-starlette (concurrent)": {"value": round(multi_ratio, 2), "met": multi_ratio >= TARGETS["single_eps_vs_sse"]},
        "RSS <= 25 KB per idle stream (worst size)": {"value": round(rss, 1), "met": rss <= TARGETS["rss_kb_per_stream"]},
        "TTFE p50 <= 2 ms (idle)": {"value": round(ours["ttfe_idle_p50_ms"], 2), "met": ours["ttfe_idle_p50_ms"] <= TARGETS["ttfe_idle_p50_ms"]},
    }


# --- the protocol adapters on an agent turn (--adapters) ----------------------------------------

# Each rep is `rounds` rounds; in a round every protocol, in turn (rotating who goes first),
# encodes `encode_turns` turns, reads `sequential_turns` turns one after another, then has
# `turn_streams` clients read `turns_per_stream` turns each at once: on a shared machine, a
# burst of load lands on all four alike rather than on whichever was being measured.
TURN_FULL = dict(reps=3, rounds=10, encode_turns=200, sequential_turns=30, turn_streams=20, turns_per_stream=2)
TURN_QUICK = dict(reps=1, rounds=3, encode_turns=100, sequential_turns=10, turn_streams=10, turns_per_stream=1)


def turn_encoders() -> dict[str, Any]:
    """Each protocol's frame encoder, made fresh per stream as the engine does (name -> factory)."""
    from app.protocols.ag_ui import AgUiFrames
    from app.protocols.ai_sdk_ui import UIMessageFrames
    from app.protocols.openai_chat import ChunkFrames
    from app.streams import wire

    return {"native": lambda: wire.encode, "ai-sdk": UIMessageFrames, "ag-ui": AgUiFrames, "openai": ChunkFrames}


def turn_frames(tokens: int | None = None) -> list[tuple[Any, str, int | None]]:
    """The turn as the engine hands it to an encoder: (event, id, retry_ms), `connected` (with
    the agent routes' context) first, `complete` with its duration, `close` last."""
    from bench.servers import RETRY_MS
    from app.streams import events as ev

    produced = agent_turn() if tokens is None else agent_turn(tokens)
    stream_id = "5f0c" * 8
    events = [ev.connected(stream_id, "bench_turn", **TURN_CONTEXT)]
    for event in produced:
        events.append(ev.complete(duration_ms=2345.6, **event.data) if event.type == "complete" else event)
    events.append(ev.close())
    return [(e, f"{stream_id}-{i}", RETRY_MS if e.type == "connected" else None) for i, e in enumerate(events, 1)]


def encode_turn(make: Any, frames: list[tuple[Any, str, int | None]]) -> bytes:
    encode = make()
    return b"".join(encode(event, event_id, retry_ms=retry) for event, event_id, retry in frames)


def m_encode(make: Any, frames: list[tuple[Any, str, int | None]], turns: int) -> float:
    """Seconds to encode `turns` turns back to back through one encoder, in this process."""
    t0 = time.perf_counter()
    for _ in range(turns):
        encode = make()
        for event, event_id, retry in frames:
            encode(event, event_id, retry_ms=retry)
    return time.perf_counter() - t0


async def read_turn(client: Any, url: str, native: bool) -> int:
    """One turn read as that protocol's client reads it; the number of messages parsed."""
    import httpx_sse

    parsed = 0
    async with client.stream("GET", url) as response:
        if response.status_code != 200:
            raise RuntimeError(f"{url}: status {response.status_code}")
        if native:
            async for sse in httpx_sse.EventSource(response).aiter_sse():
                json.loads(sse.data)
                parsed += 1
        else:
            async for line in response.aiter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    json.loads(line[6:])
                    parsed += 1
    return parsed


async def m_turns(srv: Server, clients: list[Any], turns: int, expected: int) -> float:
    """Seconds for each of `clients` (httpx clients, their connections kept alive) to read
    `turns` turns one after another, all clients at once."""
    native = srv.name == "native"
    url = f"http://{HOST}:{srv.port}{TURN_PATH}"

    async def reader(client: Any) -> None:
        for _ in range(turns):
            got = await read_turn(client, url, native)
            if got != expected:
                raise RuntimeError(f"{srv.name}: {got} messages parsed, {expected} expected")

    t0 = time.perf_counter()
    await asyncio.gather(*(reader(client) for client in clients))
    elapsed = time.perf_counter() - t0
    await srv.quiet()
    return elapsed


def turn_shape(frames: list[tuple[Any, str, int | None]]) -> dict[str, dict[str, int]]:
    """Per protocol: the messages a turn becomes and its bytes on the wire."""
    out = {}
    for name, make in turn_encoders().items():
        body = encode_turn(make, frames)
        blocks = [b for b in body.split(b"\n\n") if b and b != b"data: [DONE]"]
        out[name] = {"messages": len(blocks), "bytes": len(body)}
    return out


async def run_adapters(cfg: dict[str, Any], log_dir: Path, progress) -> dict[str, Any]:
    import contextlib

    import httpx

    frames = turn_frames()
    shape = turn_shape(frames)
    encoders = turn_encoders()
    names = list(TURN_SERVERS)
    raw: dict[str, dict[str, list[float]]] = {n: {"encode": [], "e2e_one": [], "e2e_many": []} for n in names}
    servers = {n: Server(n, log_dir) for n in names}
    events = len(frames)
    try:
        for srv in servers.values():
            srv.start()
        for rep in range(cfg["reps"]):
            spent = {n: {"encode": 0.0, "e2e_one": 0.0, "e2e_many": 0.0} for n in names}
            async with contextlib.AsyncExitStack() as stack:
                def client() -> Any:
                    return stack.enter_async_context(httpx.AsyncClient(timeout=httpx.Timeout(60.0)))

                one = {n: [await client()] for n in names}
                many = {n: [await client() for _ in range(cfg["turn_streams"])] for n in names}
                for n in names:  # warm up: every connection opened, every path run once
                    await m_turns(servers[n], one[n] + many[n], 1, shape[n]["messages"])
                for rnd in range(cfg["rounds"]):
                    k = (rep * cfg["rounds"] + rnd) % len(names)
                    order = names[k:] + names[:k]
                    for n in order:
                        spent[n]["encode"] += m_encode(encoders[n], frames, cfg["encode_turns"])
                    for n in order:
                        spent[n]["e2e_one"] += await m_turns(servers[n], one[n], cfg["sequential_turns"],
                                                             shape[n]["messages"])
                    for n in order:
                        spent[n]["e2e_many"] += await m_turns(servers[n], many[n], cfg["turns_per_stream"],
                                                              shape[n]["messages"])
            turns = {"encode": cfg["encode_turns"], "e2e_one": cfg["sequential_turns"],
                     "e2e_many": cfg["turn_streams"] * cfg["turns_per_stream"]}
            for n in names:
                for key, seconds in spent[n].items():
                    raw[n][key].append(cfg["rounds"] * turns[key] * events / seconds)
            progress(f"rep {rep + 1}: " + ", ".join(
                f"{n} {raw[n]['encode'][-1]:,.0f} / {raw[n]['e2e_one'][-1]:,.0f} / {raw[n]['e2e_many'][-1]:,.0f}"
                for n in names) + " ev/s (encoder / 1 stream / concurrent)")
    finally:
        for srv in servers.values():
            srv.stop()
    out: dict[str, Any] = {"events_per_turn": events, "protocols": {}, "ratios": {}}
    keys = {"encode": "encoder_events_per_s", "e2e_one": "e2e_one_stream_events_per_s",
            "e2e_many": "e2e_concurrent_events_per_s"}
    for name in names:
        r = raw[name]
        out["protocols"][name] = {**shape[name], **{label: med(r[key]) for key, label in keys.items()}, "runs": r}
        # Each rep's ratio to native, then their median: a rep's runs shared the machine's load.
        out["ratios"][f"{name}/native"] = {
            **{k: shape[name][k] / shape["native"][k] for k in ("messages", "bytes")},
            **{label: med([a / b for a, b in zip(r[key], raw["native"][key], strict=True)])
               for key, label in keys.items()}}
    return out


TURN_ROWS = [
    ("messages", "messages on the wire per turn", "{:,}"),
    ("bytes", "bytes on the wire per turn", "{:,}"),
    ("encoder_events_per_s", "in process: our events/s through the frame encoder", "{:,.0f}"),
    ("e2e_one_stream_events_per_s", "end to end, one client, turns one after another: our events/s", "{:,.0f}"),
    ("e2e_concurrent_events_per_s", "end to end, {turn_streams} clients at once: our events/s", "{:,.0f}"),
]


def turn_table(results: dict[str, Any], cfg: dict[str, Any]) -> str:
    protocols = results["protocols"]
    peers = [n for n in protocols if n != "native"]
    lines = ["| per agent turn ({events_per_turn} events) | native SSE | ".format(**results)
             + " | ".join(peers) + " | " + " | ".join(f"{p}/native" for p in peers) + " |",
             "|---|---:|" + "---:|" * (2 * len(peers))]
    for key, label, fmt in TURN_ROWS:
        values = [protocols[p][key] for p in peers]
        ratios = [results["ratios"][f"{p}/native"][key] for p in peers]
        lines.append(f"| {label.format(**cfg)} | {fmt.format(protocols['native'][key])} | "
                     + " | ".join(fmt.format(v) for v in values) + " | " + " | ".join(f"{r:.2f}" for r in ratios) + " |")
    return "\n".join(lines)


def main_adapters(quick: bool, reps: int | None, started: float, progress) -> int:
    cfg = dict(TURN_QUICK if quick else TURN_FULL)
    if reps:
        cfg["reps"] = reps
    info = machine()
    info["client"] = "httpx (this process): httpx-sse for native, a data-line reader for the adapters"
    info["versions"]["httpx"] = common_machine(("httpx",))["versions"]["httpx"]
    info["versions"]["httpx-sse"] = common_machine(("httpx-sse",))["versions"]["httpx-sse"]
    with tempfile.TemporaryDirectory(prefix="sse-bench-") as tmp:
        results = asyncio.run(run_adapters(cfg, Path(tmp), progress))
    info["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    info["duration_s"] = round(time.perf_counter() - started, 1)
    doc = {"machine": info, "config": {**cfg, "quick": quick,
                                       "statistic": "events/s: median of reps; ratios: median of the reps' ratios"},
           **results}
    suffix = "_adapters_quick" if quick else "_adapters"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"sse_engine{suffix}.json").write_text(json.dumps(doc, indent=2) + "\n")
    md = (f"# Protocol adapters on an agent turn{' (quick)' if quick else ''}\n\n"
          f"{info['date']} - {info['cpu_count']} CPUs ({info['cpu_model']}), Python {info['python']}, "
          f"uvicorn {info['versions']['uvicorn']} (h11, asyncio, 1 worker), httpx {info['versions']['httpx']}, "
          f"httpx-sse {info['versions']['httpx-sse']}. Client and servers on the same machine; load average at "
          f"start {info['loadavg_at_start'][0]}, at end {info['loadavg_at_end'][0]}. Median of {cfg['reps']} runs; "
          f"a ratio is the median of the runs' ratios "
          f"(`.venv/bin/python -m bench.sse_engine --adapters{' --quick' if quick else ''}`).\n\n"
          f"{turn_table(results, cfg)}\n")
    (RESULTS / f"sse_engine{suffix}.md").write_text(md)
    print(md)
    progress("done")
    return 0


def machine() -> dict[str, Any]:
    return common_machine(("uvicorn", "starlette", "sse-starlette", "h11", "anyio"),
        cpu_count_physical=psutil.cpu_count(logical=False),
        server="uvicorn " + " ".join(UVICORN_OPTS),
        client="asyncio raw sockets (this process), HTTP/1.1 Connection: close",
    )


async def profile_ours(cfg: dict[str, Any], log_dir: Path) -> str:
    """cProfile of `ours` serving the single-stream run and opening idle streams."""
    out = log_dir / "ours.prof"
    srv = Server("ours", log_dir, env={"BENCH_PROFILE": str(out)}).start()
    try:
        await stream_events(srv.port, f"{STREAM_PATH}?n={cfg['single_n']}")
        await close_all(await open_idle(srv.port, cfg["ttfe_idle_streams"], cfg["open_concurrency"]))
        await srv.quiet()
    finally:
        srv.stop()
    if not out.exists():
        return "(no profile written)"
    import io

    buf = io.StringIO()
    stats = pstats.Stats(str(out), stream=buf)
    stats.sort_stats("tottime").print_stats(30)
    return buf.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small numbers, one repetition (smoke check)")
    parser.add_argument("--profile", action="store_true", help="also profile `ours` with cProfile (printed)")
    parser.add_argument("--reps", type=int, help="repetitions (default 3, --quick 1)")
    parser.add_argument("--adapters", action="store_true",
                        help="only the protocol adapters, on an agent turn (sse_engine_adapters.{json,md})")
    args = parser.parse_args()
    if args.adapters:
        began = time.perf_counter()
        return main_adapters(args.quick, args.reps, began,
                             lambda msg: print(f"[{time.perf_counter() - began:6.1f}s] {msg}", file=sys.stderr, flush=True))
    cfg = dict(QUICK if args.quick else FULL)
    if args.reps:
        cfg["reps"] = cfg["rss_reps"] = args.reps
    nofile = raise_nofile()
    need = max(*cfg["rss_sizes"], cfg["burst_clients"]) + 200
    if nofile < need:
        print(f"RLIMIT_NOFILE is {nofile}; {need} needed", file=sys.stderr)
        return 2

    started = time.perf_counter()

    def progress(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {msg}", file=sys.stderr, flush=True)

    RESULTS.mkdir(parents=True, exist_ok=True)
    info = machine()
    info["rlimit_nofile"] = nofile
    with tempfile.TemporaryDirectory(prefix="sse-bench-") as tmp:
        log_dir = Path(tmp)
        results = asyncio.run(run(cfg, log_dir, progress))
        profile = asyncio.run(profile_ours(cfg, log_dir)) if args.profile else None
    info["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    info["duration_s"] = round(time.perf_counter() - started, 1)

    md_table = table(results, cfg)
    goals = targets(results, cfg)
    doc = {
        "machine": info,
        "config": {**cfg, "rss_sizes": list(cfg["rss_sizes"]), "quick": args.quick,
                   "statistic": "median of reps; TTFE p50/p99 are medians of per-run percentiles"},
        "servers": results,
        "ratios": ratios(results),
        "targets": goals,
    }
    suffix = "_quick" if args.quick else ""
    (RESULTS / f"sse_engine{suffix}.json").write_text(json.dumps(doc, indent=2) + "\n")
    header = (
        f"# SSE engine benchmark{' (quick)' if args.quick else ''}\n\n"
        f"{info['date']} - {info['cpu_count']} CPUs ({info['cpu_model']}), Python {info['python']}, "
        f"uvicorn {info['versions']['uvicorn']} (h11, asyncio, 1 worker), starlette "
        f"{info['versions']['starlette']}, sse-starlette {info['versions']['sse-starlette']}. "
        f"Client and servers on the same machine; load average at start "
        f"{info['loadavg_at_start'][0]}. Median of {cfg['reps']} runs.\n\n"
    )
    goal_lines = "\n".join(
        f"- {'met' if g['met'] else 'MISSED'}: {name} (measured {g['value']})" for name, g in goals.items()
    )
    md = (f"{header}{md_table}\n\nTargets for ours:\n{goal_lines}\n\n"
          f"Protocol adapters (docs/protocols.md), events/s in the same run:\n\n{adapter_table(results, cfg)}\n")
    (RESULTS / f"sse_engine{suffix}.md").write_text(md)
    print(md)
    if profile:
        print("cProfile of `ours` (n=%d on one stream, then %d idle streams opened):\n%s"
              % (cfg["single_n"], cfg["ttfe_idle_streams"], profile))
    progress("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
