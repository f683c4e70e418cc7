"""BLAS thread pools are capped like torch's: every BLAS library in the server process (numpy's
OpenBLAS, loaded when the app is imported, and the one scipy brings with the sentence model,
loaded later) runs BLAS_THREADS threads, reported by `/healthz`. Checked on a real server with
the model loaded, launched both ways (uvicorn imports numpy before the app reads its
settings; `python -m app serve` reads them first)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import AppServer, wait_for_search


@pytest.fixture
def servers(mongo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppServer]]:
    # A test that built an app in this process (create_app caps BLAS) left
    # OPENBLAS_NUM_THREADS in its environment, which the servers would inherit.
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    started: list[AppServer] = []

    def start(serve: bool = False, **env: str) -> AppServer:
        settings = {"MONGODB_URL": mongo_url, "DATA_DIR": str(tmp_path / "data"), "SEARCH_EMBEDDINGS": "true",
                    "DEMO_CATALOG_SIZE": "50", "MONGODB_DB": f"blas_{uuid.uuid4().hex[:8]}", **env}
        # A new process: the thread pools are what its own imports made them, not a forkserver's.
        server = AppServer(settings, log_dir=tmp_path, serve=serve, fork=False).start(ready_timeout=60)
        started.append(server)
        wait_for_search(server, min_vectors=50, timeout=120)
        return server

    yield start
    for server in started:
        server.stop()


def threads(server: AppServer) -> dict[str, Any]:
    """What /healthz reports once the sentence model is loaded (scipy's BLAS comes with it)."""
    deadline = time.monotonic() + 120
    while True:
        models = httpx.get(f"{server.url}/healthz", timeout=10).json()["checks"]["models"]
        if models["ready"] and models["loaded"]:
            return models["threads"]
        assert time.monotonic() < deadline, models
        time.sleep(0.2)


@pytest.mark.parametrize("serve", [False, True], ids=["uvicorn --factory", "python -m app serve"])
def test_every_blas_library_runs_one_thread_by_default(servers: Callable[..., AppServer], serve: bool) -> None:
    got = threads(servers(serve=serve))
    assert got["torch"] == 1
    assert got["blas"] and all(n == 1 for n in got["blas"].values()), got
    assert len(got["blas"]) >= 2, "numpy's OpenBLAS and the one loaded with the model"


def test_blas_threads_0_leaves_the_libraries_alone(servers: Callable[..., AppServer]) -> None:
    got = threads(servers(BLAS_THREADS="0"))
    assert all(n == os.cpu_count() for n in got["blas"].values()), got
