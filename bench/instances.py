"""Several instances: one app instance against two sharing a Redis, on this machine.

    .venv/bin/python -m bench.instances            # full run (~3 minutes)
    .venv/bin/python -m bench.instances --quick    # smoke check (~1 minute)

Setups, each its own uvicorn processes (one worker, h11, asyncio, no access log, log level
warning) serving the engine's bench endpoint (bench/servers.py's events: `?n=` text events,
`?idle=1` an idle stream) behind the real limiter, stream cap and replay buffer:

    1 x memory    one instance, RATE_LIMIT_STORAGE_URL=memory://, in-process replay buffer
    1 x redis     one instance, limiter, stream cap and replay buffer in Redis
    2 x redis     two instances sharing that Redis; the client alternates between them

Measurements:
 1. streams opened per second through the limiter: 3,000 n=1 streams (connected, text,
    complete, close; each a new connection), 64 at a time:
    a. a whitelisted client (RATE_LIMIT_WHITELIST=127.0.0.0/8): the budget is not counted,
       the stream cap and the replay buffer still are;
    b. counted: every request from its own client (TRUSTED_PROXIES=127.0.0.1 and a distinct
       X-Forwarded-For), so each one runs the moving-window check and a cap lease in Redis;
 2. time to first event p50/p99 over 300 sequential n=1 requests while 1,000 idle streams are
    open, spread evenly over the instances;
 3. a limiter microbenchmark in this process (no HTTP): the limiter's whole path per request
    (`StreamLimiter.guard` around an endpoint that returns at once, distinct clients, the
    default 30 per 60 s) with memory:// and with Redis as the app does it (limits' asyncio
    API), and with limits' synchronous API against the same Redis called on the event loop
    (what slowapi's decorator does), latency one request at a time, throughput with 32 in
    flight, and the event-loop stalls a ticker task sees (measured apart).
Client and servers share the machine's cores, and so does redis-server: compare setups, not
absolute numbers. Results: bench/results/instances.json and .md (also printed).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import psutil  # noqa: E402

from bench.common import machine as common_machine  # noqa: E402
from bench.common import wait_until_serving  # noqa: E402
from bench.sse_engine import count_events, pct, raise_nofile, read_first_event  # noqa: E402

RESULTS = ROOT / "bench" / "results"
HOST = "127.0.0.1"
PATH = "/stream"
UVICORN_OPTS = ["--workers", "1", "--http", "h11", "--loop", "asyncio", "--no-access-log",
                "--log-level", "warning", "--timeout-graceful-shutdown", "2", "--no-proxy-headers"]
BASE_ENV = {
    "LOG_LEVEL": "WARNING",
    "SEARCH_EMBEDDINGS": "false",
    "STREAMING_TIMEOUT": "3600000",
    "STREAMING_MAX_CONCURRENT_PER_IP": "100000",
    "STREAMING_PING_S": "15",
}
FULL = dict(open_streams=3000, open_concurrency=64, ttfe_requests=300, idle_streams=1000,
            micro_requests=5000, micro_concurrency=32, reps=3)
QUICK = dict(open_streams=600, open_concurrency=32, ttfe_requests=60, idle_streams=200,
             micro_requests=1000, micro_concurrency=16, reps=1)


# --- the app each instance runs ------------------------------------------------------------


def app():
    """`uvicorn --factory bench.instances:app`: the engine's bench endpoint with settings from
    the environment (no database: the platform is not started, as in bench/servers.py)."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    from app.platform import Platform
    from app.streams.endpoint import StreamEndpoint, stream_routes
    from bench.servers import _gc, _params, text_events
    from config.settings import load_settings

    platform = Platform(load_settings(env_file=None))

    async def parse(request):
        return _params(request)

    async def produce(params, ctx):
        async for event in text_events(params):
            yield event

    spec = StreamEndpoint("bench", parse, produce)
    routes = stream_routes(spec, platform.streams, stream_path=PATH, json_path=None, methods=["GET"])
    application = Starlette(routes=[*routes, Route("/gc", _gc)])
    return application


# --- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Proc:
    def __init__(self, name: str, command: list[str], log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.name, self.command, self.log_dir, self.env = name, command, log_dir, env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", **self.env}
        env.pop("WEB_CONCURRENCY", None)
        with open(self.log_dir / f"{self.name}.log", "wb") as log:
            self.proc = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self

    def log_tail(self) -> str:
        try:
            return (self.log_dir / f"{self.name}.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def cpu_s(self) -> float:
        assert self.proc is not None
        t = psutil.Process(self.proc.pid).cpu_times()
        return t.user + t.system

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(8)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def start_redis(log_dir: Path) -> tuple[Proc, str]:
    port = free_port()
    proc = Proc("redis", ["redis-server", "--port", str(port), "--bind", HOST, "--save", "",
                          "--appendonly", "no", "--dir", str(log_dir)], log_dir).start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return proc, f"redis://{HOST}:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.stop()
    raise RuntimeError(f"redis-server did not start: {proc.log_tail()}")


def flush_redis(url: str) -> None:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with socket.create_connection((HOST, port), timeout=2) as sock:
        sock.sendall(b"FLUSHALL\r\n")
        sock.recv(64)


class Instance(Proc):
    def __init__(self, name: str, log_dir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        super().__init__(name, [sys.executable, "-m", "uvicorn", "--factory", "bench.instances:app",
                                "--host", HOST, "--port", str(self.port), *UVICORN_OPTS],
                         log_dir, {**BASE_ENV, **env})

    def start(self, timeout: float = 60.0) -> Instance:
        super().start()
        assert self.proc is not None
        wait_until_serving(self.proc, HOST, self.port, timeout=timeout, log_tail=self.log_tail)
        return self


# --- the client ----------------------------------------------------------------------------


def request(port: int, path: str, forwarded: str | None = None) -> bytes:
    extra = f"X-Forwarded-For: {forwarded}\r\n" if forwarded else ""
    return (f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: text/event-stream\r\n{extra}"
            "Connection: close\r\n\r\n").encode()


async def status_of(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1])


async def one_stream(port: int, forwarded: str | None) -> int:
    """Events received on one n=1 stream (4 when all is well)."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(request(port, f"{PATH}?n=1", forwarded))
        status = await status_of(reader)
        if status != 200:
            raise RuntimeError(f"status {status}")
        data = await reader.read()
        return count_events(data, b"\n")[0]
    finally:
        writer.close()


_client_counter = 0


def next_client() -> str:
    global _client_counter
    _client_counter += 1
    n = _client_counter
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


async def m_open(ports: list[int], total: int, concurrency: int, counted: bool) -> float:
    """Streams per second: `total` n=1 streams, `concurrency` at a time, over `ports` in turn."""
    gate = asyncio.Semaphore(concurrency)
    errors: list[str] = []

    async def one(i: int) -> None:
        async with gate:
            try:
                got = await one_stream(ports[i % len(ports)], next_client() if counted else None)
                if got != 4:
                    errors.append(f"{got} events")
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(total)))
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} of {total} streams failed: {errors[:3]}")
    return total / elapsed


async def ttfe_once(port: int) -> float:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        started = time.perf_counter()
        writer.write(request(port, f"{PATH}?n=1"))
        if await status_of(reader) != 200:
            raise RuntimeError("refused")
        await read_first_event(reader)
        elapsed = time.perf_counter() - started
        await reader.read()
        return elapsed
    finally:
        writer.close()


async def m_ttfe_loaded(ports: list[int], idle: int, requests: int) -> dict[str, float]:
    held: list[asyncio.StreamWriter] = []
    try:
        gate = asyncio.Semaphore(100)

        async def open_idle(i: int) -> None:
            async with gate:
                port = ports[i % len(ports)]
                reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 16)
                held.append(writer)
                writer.write(request(port, f"{PATH}?idle=1"))
                async with asyncio.timeout(30):
                    status = await status_of(reader)
                    if status != 200:
                        raise RuntimeError(f"idle stream refused: {status} {await reader.read(300)!r}")
                    await read_first_event(reader)

        await asyncio.gather(*(open_idle(i) for i in range(idle)))
        await asyncio.sleep(0.5)
        for i in range(10):
            await ttfe_once(ports[i % len(ports)])
        samples = [await ttfe_once(ports[i % len(ports)]) for i in range(requests)]
        return {"p50_ms": statistics.median(samples) * 1000, "p99_ms": pct(samples, 99) * 1000}
    finally:
        for writer in held:
            writer.close()
        await asyncio.gather(*(w.wait_closed() for w in held), return_exceptions=True)
        await asyncio.sleep(1.0)  # let the servers see the disconnects


async def quiet(instances: list[Instance], max_wait: float = 15) -> None:
    deadline = time.monotonic() + max_wait
    last = sum(i.cpu_s() for i in instances)
    calm = 0
    while time.monotonic() < deadline and calm < 2:
        await asyncio.sleep(0.1)
        now = sum(i.cpu_s() for i in instances)
        calm = calm + 1 if now - last < 0.01 * len(instances) else 0
        last = now


SETUPS = [("1 x memory", 1, False), ("1 x redis", 1, True), ("2 x redis", 2, True)]
MODES = [("whitelisted", {"RATE_LIMIT_WHITELIST": "127.0.0.0/8"}), ("counted", {"TRUSTED_PROXIES": "127.0.0.1"})]


async def run_mode(mode: str, env: dict[str, str], redis: Proc, redis_url: str, cfg: dict[str, Any],
                   log_dir: Path, progress, out: dict[str, dict[str, Any]]) -> None:
    """All three setups up at once; repetitions interleave them (rotating who goes first) so
    that load from other work on the machine spreads over all of them."""
    flush_redis(redis_url)
    groups: dict[str, list[Instance]] = {}
    try:
        for name, count, shared in SETUPS:
            extra = {"RATE_LIMIT_STORAGE_URL": redis_url, "STREAM_REPLAY_URL": redis_url} if shared else {}
            groups[name] = [Instance(f"{name.replace(' ', '')}-{mode}-{i}", log_dir, {**extra, **env}).start()
                            for i in range(count)]
        everyone = [i for group in groups.values() for i in group]
        counted = mode == "counted"
        for name, group in groups.items():  # warm-up
            await m_open([i.port for i in group], min(300, cfg["open_streams"]), cfg["open_concurrency"], counted)
        names = list(groups)
        for rep in range(cfg["reps"]):
            for name in names[rep % len(names):] + names[: rep % len(names)]:
                group, ports = groups[name], [i.port for i in groups[name]]
                result = out.setdefault(name, {})
                await quiet(everyone)
                cpu0, redis0 = sum(i.cpu_s() for i in group), redis.cpu_s()
                rate = await m_open(ports, cfg["open_streams"], cfg["open_concurrency"], counted)
                cpu = (sum(i.cpu_s() for i in group) - cpu0) / cfg["open_streams"] * 1000
                redis_cpu = (redis.cpu_s() - redis0) / cfg["open_streams"] * 1000 if name != "1 x memory" else 0.0
                result.setdefault(f"{mode}_runs", []).append(
                    {"streams_per_s": rate, "server_cpu_ms_per_stream": cpu, "redis_cpu_ms_per_stream": redis_cpu})
                progress(f"rep {rep + 1} {name} {mode}: {rate:,.0f} streams/s, server CPU {cpu:.2f} ms "
                         f"+ redis {redis_cpu:.2f} ms per stream")
                if mode == "whitelisted":
                    await quiet(everyone)
                    ttfe = await m_ttfe_loaded(ports, cfg["idle_streams"], cfg["ttfe_requests"])
                    result.setdefault("ttfe_runs", []).append(ttfe)
                    progress(f"rep {rep + 1} {name}: TTFE with {cfg['idle_streams']} idle streams p50 "
                             f"{ttfe['p50_ms']:.2f} ms p99 {ttfe['p99_ms']:.2f} ms")
        for name in names:
            result = out[name]
            runs = result[f"{mode}_runs"]
            for key in ("streams_per_s", "server_cpu_ms_per_stream", "redis_cpu_ms_per_stream"):
                result[f"{key}_{mode}"] = statistics.median(r[key] for r in runs)
            if mode == "whitelisted":
                result["ttfe_loaded_p50_ms"] = statistics.median(t["p50_ms"] for t in result["ttfe_runs"])
                result["ttfe_loaded_p99_ms"] = statistics.median(t["p99_ms"] for t in result["ttfe_runs"])
    finally:
        for group in groups.values():
            for instance in group:
                instance.stop()


# --- the limiter microbenchmark ------------------------------------------------------------


def _request(ip: str):
    from starlette.requests import Request

    scope = {"type": "http", "method": "GET", "path": PATH, "raw_path": PATH.encode(), "query_string": b"",
             "headers": [], "client": (ip, 40000), "server": (HOST, 80), "scheme": "http",
             "http_version": "1.1", "state": {}}
    return Request(scope)


async def micro(redis_url: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """Each variant `reps` times, interleaved; the median of each figure."""
    runs: dict[str, list[dict[str, float]]] = {}
    variants = [("memory://", "memory://", True), ("redis, limits.aio (ours)", redis_url, True),
                ("redis, a synchronous call on the loop (as slowapi does)", redis_url, False)]
    for rep in range(cfg["reps"]):
        for label, url, offload in variants[rep % 3:] + variants[: rep % 3]:
            flush_redis(redis_url)
            runs.setdefault(label, []).append(await micro_one(label, url, offload, cfg))
    return {label: {**{key: statistics.median(r[key] for r in rs) for key in rs[0]}, "runs": rs}
            for label, rs in runs.items()}


async def micro_one(label: str, url: str, offload: bool, cfg: dict[str, Any]) -> dict[str, float]:
    from starlette.responses import Response

    from app.ratelimit.limiter import StreamLimiter
    from app.redis_link import RedisLinks
    from app.streams.metrics import StreamMetrics
    from config.settings import load_settings

    async def endpoint(request):
        return Response("ok")

    n = cfg["micro_requests"]
    settings = load_settings({"RATE_LIMIT_STORAGE_URL": url}, env_file=None)
    links = RedisLinks(timeout_ms=500, lease_s=15, instance_id="bench")
    limiter = StreamLimiter(settings, StreamMetrics(), links)
    if not offload:  # the peer: limits' synchronous API on the event loop, as slowapi calls it
        from limits.storage import RedisStorage
        from limits.strategies import MovingWindowRateLimiter

        from app.redis_link import client_options

        blocking = MovingWindowRateLimiter(RedisStorage(url, **client_options(500)))

        async def charge_blocking(request):
            args = [limiter.client(request), "streaming"]
            allowed = blocking.hit(limiter._item, *args)
            reset_at, remaining = blocking.get_window_stats(limiter._item, *args)
            return limiter._answer(request, allowed, remaining, reset_at)

        limiter._charge_redis = charge_blocking
    guarded = limiter.guard(f"micro{next(_names)}", endpoint)
    stalls: list[float] = []
    stop = False

    async def ticker() -> None:
        last = time.perf_counter()
        while not stop:
            await asyncio.sleep(0)
            now = time.perf_counter()
            stalls.append(now - last)
            last = now

    counter = iter(range(10**9))

    async def one() -> float:
        i = next(counter)
        req = _request(f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}")
        started = time.perf_counter()
        response = await guarded(req)
        took = time.perf_counter() - started
        if response.status_code != 200 or "x-ratelimit-remaining" not in response.headers:
            raise RuntimeError(f"{label}: {response.status_code} {response.body!r}")
        return took

    try:
        for _ in range(200):
            await one()
        sequential = [await one() for _ in range(n)]  # latency, nothing else running
        # Stalls, measured apart: the ticker keeps the loop thread busy, which also slows a
        # worker thread (it waits for the GIL), so it would inflate the latencies above.
        tick = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        for _ in range(n // 2):
            await one()
            await asyncio.sleep(0)  # let the ticker run: a gap it sees is one request's stall
        stop = True
        await tick
        gate = asyncio.Semaphore(cfg["micro_concurrency"])

        async def bounded() -> float:
            async with gate:
                return await one()

        started = time.perf_counter()
        await asyncio.gather(*(bounded() for _ in range(n)))
        concurrent_rate = n / (time.perf_counter() - started)
    finally:
        await links.close()
    return {
        "p50_us": statistics.median(sequential) * 1e6,
        "p99_us": pct(sequential, 99) * 1e6,
        "mean_us": statistics.fmean(sequential) * 1e6,
        "loop_stall_max_ms": max(stalls) * 1000,
        "loop_stall_p99_ms": pct(stalls, 99) * 1000,
        "requests_per_s_concurrent": concurrent_rate,
    }


_names = iter(range(10**6))


# --- the run -------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return common_machine(("uvicorn", "starlette", "limits", "redis"),
        redis_server=subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip(),
        server="uvicorn " + " ".join(UVICORN_OPTS),
        client="asyncio raw sockets (this process), HTTP/1.1 Connection: close",
    )


def markdown(doc: dict[str, Any]) -> str:
    info, cfg, setups, mic = doc["machine"], doc["config"], doc["setups"], doc["micro"]
    lines = [
        f"# Several instances{' (quick)' if cfg['quick'] else ''}\n",
        f"{info['date']} - {info['cpu_count']} CPUs ({info['cpu_model']}), Python {info['python']}, "
        f"{info['redis_server'].split(' sha=')[0]}, limits {info['versions']['limits']}, redis-py {info['versions']['redis']}. Client, instances and "
        f"redis-server on the same machine; load average at start {info['loadavg_at_start'][0]}. "
        f"Median of {cfg['reps']} runs.\n",
        "| measure | " + " | ".join(setups) + " |",
        "|---|" + "---:|" * len(setups),
    ]
    rows = [
        ("streams_per_s_whitelisted",
         f"streams opened per s, whitelisted client ({cfg['open_streams']:,} n=1 streams, {cfg['open_concurrency']} at a time)",
         "{:,.0f}"),
        ("server_cpu_ms_per_stream_whitelisted", "app CPU ms per stream, whitelisted (all instances)", "{:.2f}"),
        ("streams_per_s_counted", "streams opened per s, every request counted (a distinct client each)", "{:,.0f}"),
        ("server_cpu_ms_per_stream_counted", "app CPU ms per stream, counted (all instances)", "{:.2f}"),
        ("redis_cpu_ms_per_stream_counted", "redis-server CPU ms per stream, counted", "{:.3f}"),
        ("ttfe_loaded_p50_ms", f"TTFE p50 with {cfg['idle_streams']:,} idle streams open (ms)", "{:.2f}"),
        ("ttfe_loaded_p99_ms", f"TTFE p99 with {cfg['idle_streams']:,} idle streams open (ms)", "{:.2f}"),
    ]
    for key, label, fmt in rows:
        lines.append(f"| {label} | " + " | ".join(fmt.format(setups[s][key]) for s in setups) + " |")
    lines += [
        "",
        f"Limiter alone, in one process ({cfg['micro_requests']:,} requests from distinct clients, 30 per 60 s, "
        "one at a time for the latencies; a stall is how long the event loop went without running "
        "another task):\n",
        "| storage | p50 µs | p99 µs | loop stall p99 / max (ms) | requests/s, "
        f"{cfg['micro_concurrency']} in flight |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, r in mic.items():
        lines.append(f"| {label} | {r['p50_us']:.0f} | {r['p99_us']:.0f} | "
                     f"{r['loop_stall_p99_ms']:.2f} / {r['loop_stall_max_ms']:.2f} | "
                     f"{r['requests_per_s_concurrent']:,.0f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small numbers, one repetition")
    args = parser.parse_args()
    cfg = dict(QUICK if args.quick else FULL)
    if subprocess.run(["which", "redis-server"], capture_output=True).returncode != 0:
        print("redis-server is not installed (Debian package redis-server)", file=sys.stderr)
        return 2
    nofile = raise_nofile()
    if nofile < cfg["idle_streams"] + 500:
        print(f"RLIMIT_NOFILE is {nofile}", file=sys.stderr)
        return 2
    started = time.perf_counter()

    def progress(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {msg}", file=sys.stderr, flush=True)

    info = machine()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="instances-bench-") as tmp:
        log_dir = Path(tmp)
        redis, url = start_redis(log_dir)
        try:
            mic = asyncio.run(micro(url, cfg))
            for label, r in mic.items():
                progress(f"micro {label}: p50 {r['p50_us']:.0f} us, stall max {r['loop_stall_max_ms']:.2f} ms, "
                         f"{r['requests_per_s_concurrent']:,.0f}/s concurrent")
            setups: dict[str, dict[str, Any]] = {}
            for mode, env in MODES:
                asyncio.run(run_mode(mode, env, redis, url, cfg, log_dir, progress, setups))
        finally:
            redis.stop()
    info["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    info["duration_s"] = round(time.perf_counter() - started, 1)
    doc = {"machine": info, "config": {**cfg, "quick": args.quick}, "setups": setups, "micro": mic}
    suffix = "_quick" if args.quick else ""
    (RESULTS / f"instances{suffix}.json").write_text(json.dumps(doc, indent=2) + "\n")
    md = markdown(doc)
    (RESULTS / f"instances{suffix}.md").write_text(md)
    print(md)
    progress("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
