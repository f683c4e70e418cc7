"""Server memory under oversized request bodies: RSS before and at its peak while anonymous
200 MB POSTs reach `/api/chat/query`, one alone and then three at once (two chunked, one
with `Content-Length`), each sent as fast as the server takes it.

    .venv/bin/python -m bench.bodies                                  # this checkout
    .venv/bin/python -m bench.bodies --root ../old --label before     # another checkout

The app runs as operators run it (`python -m app serve`, embedded database, no model, no demo
catalog) from `--root`; the client is raw sockets in threads of this process.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]

from bench.common import machine, stop_server  # noqa: E402
from tests.support import raw_http as raw  # noqa: E402

MB = 1024 * 1024
SIZE_MB = 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(port: int, *, chunked: bool, out: list[tuple[int, float]]) -> None:
    block = b" " * MB
    headers = {"Content-Type": "application/json"}
    if chunked:
        head = raw.head("POST", "/api/chat/query", headers, chunked=True)
        body = [*(raw.chunk(block) for _ in range(SIZE_MB)), b"0\r\n\r\n"]
    else:
        head = raw.head("POST", "/api/chat/query", headers, length=SIZE_MB * MB)
        body = (block for _ in range(SIZE_MB))
    started = time.monotonic()
    try:
        status = raw.exchange(port, head, body, timeout=120).status
    except (TimeoutError, ConnectionError):
        status = 0  # the server closed before its answer could be read
    out.append((status, time.monotonic() - started))


def measure(pid: int, port: int, kinds: list[bool]) -> dict[str, object]:
    process = psutil.Process(pid)
    time.sleep(1.0)
    before = process.memory_info().rss
    peak = before
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    results: list[tuple[int, float]] = []
    threads = [threading.Thread(target=post, args=(port,), kwargs={"chunked": c, "out": results}) for c in kinds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(1.0)
    stop.set()
    sampler.join()
    after = process.memory_info().rss
    return {
        "bodies": len(kinds), "rss_before_mb": round(before / MB), "rss_peak_mb": round(peak / MB),
        "rss_growth_mb": round((peak - before) / MB), "rss_after_mb": round(after / MB),
        "statuses": [s for s, _ in results], "seconds": [round(t, 2) for _, t in results],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT), help="the checkout to run the app from")
    parser.add_argument("--label", default="", help="name of this run in bench/results/bodies.json")
    args = parser.parse_args()
    root = Path(args.root).resolve()
    commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "DATA_DIR": data, "SEARCH_EMBEDDINGS": "false",
               "DEMO_CATALOG_SIZE": "0", "LOG_LEVEL": "WARNING", "STREAMING_RATE_LIMIT": "1000",
               "HF_HUB_OFFLINE": "1"}
        server = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], cwd=root, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    reply = raw.exchange(port, raw.head("GET", "/healthz"), timeout=2)
                    if reply.status in (200, 503):
                        break
                except OSError:
                    time.sleep(0.2)
            warm = json.dumps({"query": "hello"}).encode()
            raw.exchange(port, raw.head("POST", "/api/chat/query", {"Content-Type": "application/json"},
                                        length=len(warm)), [warm], timeout=30)
            one = measure(server.pid, port, [False])
            three = measure(server.pid, port, [True, False, True])
        finally:
            stop_server(server)
    result = {"commit": commit, "root": str(root), "one": one, "three": three, "machine": machine(["uvicorn", "starlette"])}
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / "bodies.json"
    runs = json.loads(out.read_text()) if out.exists() else {}
    runs[args.label or commit or "latest"] = result
    out.write_text(json.dumps(runs, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
