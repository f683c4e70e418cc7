"""CPU and latency of search by BLAS thread count: in one process, and on a server.

    .venv/bin/python -m bench.blas_threads                                  # BLAS_THREADS=1 and 0
    .venv/bin/python -m bench.blas_threads --variant before:OPENBLAS_NUM_THREADS=1 --root ../old

In one process (a subprocess per thread count): the sentence model loaded as the app loads
it (torch on 1 thread, in its worker thread), 5,000 random unit vectors in a `VectorIndex`;
200 queries one after another, each embedded on the model's thread (no cache) and then
searched exactly on the event loop's thread, as a search request does. Reported: the vector
step's p50/p95, the whole query's p50, and the process's CPU-seconds per second.

On a server: each variant is `python -m app serve` from `--root` with the embedded database (one data
folder for all variants: the first start embeds the 5,000 demo products, later ones read the
stored vectors), semantic ranking on, `EMBEDDING_CACHE_SIZE=0` (every query embeds). One
client asks the JSON product search 200 distinct shopper queries one after another; the
server's CPU time (all its threads, psutil) over the wall time of those queries is the
CPU-seconds per second; latency from request to parsed body. The idle server's CPU over 5 s
is measured first, for scale.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]

from bench.common import machine, pct, stop_server  # noqa: E402
from bench.search_relevance import shopper_queries  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def run_variant(root: Path, data: str, env_extra: dict[str, str], queries: list[str]) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "DATA_DIR": data, "SEARCH_EMBEDDINGS": "true",
           "DEMO_CATALOG_SIZE": "5000", "EMBEDDING_CACHE_SIZE": "0", "LOG_LEVEL": "WARNING",
           "STREAMING_RATE_LIMIT": "100000000", "HF_HUB_OFFLINE": "1", **env_extra}
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "BLAS_THREADS"):
        if name not in env_extra:
            env.pop(name, None)
    server = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], cwd=root, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=30) as client:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    checks = client.get(f"{url}/healthz").json()["checks"]
                    if checks["search"]["ready"] and checks["search"]["vectors"] >= 5000 and checks["models"]["ready"]:
                        break
                except (httpx.HTTPError, ValueError, KeyError):
                    pass
                time.sleep(0.5)
            else:
                raise RuntimeError("the search index never became ready")
            for query in queries[:20]:  # warm up
                client.get(f"{url}/api/products/search", params={"q": query + " warm"})
            process = psutil.Process(server.pid)
            time.sleep(5)  # the start-up work after readiness (intent examples, context index)
            idle_cpu, idle_started = cpu_seconds(process), time.perf_counter()
            time.sleep(5)
            idle = (cpu_seconds(process) - idle_cpu) / (time.perf_counter() - idle_started)
            latencies = []
            cpu_before, started = cpu_seconds(process), time.perf_counter()
            for query in queries:
                sent = time.perf_counter()
                response = client.get(f"{url}/api/products/search", params={"q": query})
                response.json()
                latencies.append((time.perf_counter() - sent) * 1000)
                assert response.status_code == 200, response.text
            wall = time.perf_counter() - started
            busy = (cpu_seconds(process) - cpu_before) / wall
            threads = process.num_threads()
    finally:
        stop_server(server)
    return {"settings": env_extra, "queries": len(queries), "cpu_s_per_s": round(busy, 2),
            "idle_cpu_s_per_s": round(idle, 3), "p50_ms": round(pct(latencies, 50), 1),
            "p95_ms": round(pct(latencies, 95), 1), "wall_s": round(wall, 1), "server_threads": threads}


IN_PROCESS = r"""
import asyncio, json, os, sys, time
import numpy as np
os.environ["HF_HUB_OFFLINE"] = "1"
from app.threads import blas_threads, cap_blas
cap_blas(int(sys.argv[1]))
from app.search.embedder import Embedder
from app.search.vector_index import VectorIndex

async def main():
    embedder = Embedder(threads=1, cache_size=0)
    await embedder.aload()
    index = VectorIndex(dim=384, exact_max=20000)
    rng = np.random.default_rng(5)
    matrix = rng.standard_normal((5000, 384)).astype(np.float32)
    index.add([f"p{i}" for i in range(5000)], matrix / np.linalg.norm(matrix, axis=1, keepdims=True))
    steps, whole = [], []
    for i in range(20):
        index.search(await embedder.query(f"warm up {i}"), 200)
    cpu, started = time.process_time(), time.perf_counter()
    for i in range(200):
        began = time.perf_counter()
        vector = await embedder.query(f"red silk saree for a wedding number {i}")
        step = time.perf_counter()
        index.search(vector, 200)
        steps.append((time.perf_counter() - step) * 1000)
        whole.append((time.perf_counter() - began) * 1000)
    wall = time.perf_counter() - started
    steps.sort(); whole.sort()
    print(json.dumps({"vector_step_p50_ms": round(steps[100], 2), "vector_step_p95_ms": round(steps[190], 2),
                      "query_p50_ms": round(whole[100], 1), "cpu_s_per_s": round((time.process_time() - cpu) / wall, 2),
                      "wall_s": round(wall, 1), "blas": blas_threads()}))

asyncio.run(main())
"""


def in_process(root: Path, threads: int) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    # `python -c` imports from its working directory: the checkout under test.
    out = subprocess.run([sys.executable, "-c", IN_PROCESS, str(threads)], cwd=root, env=env, capture_output=True,
                         text=True, timeout=300, check=True)
    return {"blas_threads": threads, **json.loads(out.stdout.strip().splitlines()[-1])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT))
    parser.add_argument("--variant", action="append", default=[],
                        help="label:VAR=value[,VAR=value] (default: BLAS_THREADS=1 and BLAS_THREADS=0, twice)")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    root = Path(args.root).resolve()
    variants = args.variant or ["cap-1:BLAS_THREADS=1", "default:BLAS_THREADS=0",
                                "cap-1:BLAS_THREADS=1", "default:BLAS_THREADS=0"]
    queries = shopper_queries(args.queries, 41, filters=True)
    process_rows = []
    for threads in (1, 0, 1, 0):
        process_rows.append(in_process(ROOT, threads))
        print("in one process:", process_rows[-1], flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as data:
        for variant in variants:
            label, _, settings = variant.partition(":")
            env_extra = dict(item.split("=", 1) for item in settings.split(",") if item)
            row = {"label": label, **run_variant(root, data, env_extra, queries)}
            print(row, flush=True)
            rows.append(row)
    out = ROOT / "bench" / "results" / "blas_threads.json"
    runs = json.loads(out.read_text()) if out.exists() else {}
    runs[str(root)] = {"machine": machine(["numpy", "torch", "threadpoolctl"]), "in_process": process_rows,
                       "server": rows}
    out.write_text(json.dumps(runs, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
