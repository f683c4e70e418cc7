"""The real app for integration tests: uvicorn on a loopback port in its own process (a
`ServerProcess`, tests/support/process.py), with a database of its own. Each test that needs
one starts it; nothing outlives the run.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import httpx

from tests.support.forkserver import Forked
from tests.support.process import LoopbackServer
from tests.support.wait import Timeout, eventually, wait_until

ROOT = Path(__file__).resolve().parents[2]


class AppServer(LoopbackServer):
    """`uvicorn --factory <factory>` with the given environment, on 127.0.0.1:<free port>;
    with `serve=True`, `python -m app serve` instead (what operators run)."""

    name = "app"

    def __init__(self, env: dict[str, str], *, log_dir: Path, factory: str = "tests.support.stream_app:build",
                 port: int | None = None, serve: bool = False, fork: bool = True) -> None:
        self.env = env
        self.factory = factory
        self.serve = serve
        # Forked from a process that imported the app already (tests/support/forkserver.py),
        # unless `fork=False` or TEST_FORK_SERVERS=0: a new Python process, as operators run it.
        self.fork = fork and os.environ.get("TEST_FORK_SERVERS", "1") != "0"
        super().__init__(log_dir, port)

    def start(self, ready_timeout: float = 30.0) -> AppServer:
        # Engine and platform tests need neither the sentence model nor the demo catalog;
        # search tests turn them on.
        defaults = {"HF_HUB_OFFLINE": "1", "LOG_LEVEL": "INFO", "SEARCH_EMBEDDINGS": "false",
                    "DEMO_CATALOG_SIZE": "0"}
        env = {**os.environ, **defaults, **self.env}
        uvicorn = [
            "--factory", self.factory, "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log",
            "--no-proxy-headers",  # the limiter, not uvicorn, decides whom to trust
        ]
        if self.serve:
            self.spawn([sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                       cwd=ROOT, env=env)
        elif self.fork:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self.process = Forked(uvicorn, env, ROOT, self.log_path)  # type: ignore[assignment]
        else:
            self.spawn([sys.executable, "-m", "uvicorn", *uvicorn], cwd=ROOT, env=env)
        self.wait_ready(self._answers, timeout=ready_timeout)
        return self

    def _answers(self) -> bool:
        try:
            httpx.get(f"{self.url}/healthz", timeout=1.0)
            return True
        except httpx.HTTPError:
            return False


def isolated_env(mongo_url: str, folder: Path, name: str, *, catalog: int = 0, **settings: str) -> dict[str, str]:
    """Settings for an app of its own: the session's MongoDB server, but a database and a data
    folder no other test uses. With `catalog=N` the database already holds the first N demo
    products with their embeddings (tests/support/catalog.py: computed once, not per app), and
    DEMO_CATALOG_SIZE is N."""
    env = {
        "MONGODB_URL": mongo_url,
        "MONGODB_DB": f"{name}_{uuid.uuid4().hex[:8]}",
        "DATA_DIR": str(folder / "data"),
        **({"DEMO_CATALOG_SIZE": str(catalog)} if catalog else {}),
        **settings,
    }
    if catalog:
        from tests.support.catalog import seed_catalog  # numpy and the model only when asked

        seed_catalog(mongo_url, env["MONGODB_DB"], catalog)
    return env


def wait_for_search(app: AppServer, min_vectors: int = 1, timeout: float = 180.0) -> None:
    """Until the app's search index is built and holds `min_vectors` embeddings; when it must
    hold some, also until the sentence model is loaded (stored embeddings are indexed before
    the model is, and a query needs the model)."""
    checks: dict = {}

    def ready() -> bool:
        nonlocal checks
        checks = client.get(f"{app.url}/healthz").json()["checks"]
        search_ready = checks["search"]["ready"] and checks["search"]["vectors"] >= min_vectors
        return search_ready and (min_vectors == 0 or checks["models"]["ready"])

    with httpx.Client(timeout=5) as client:
        try:
            wait_until(ready, timeout=timeout, interval=0.1, what="search ready")
        except Timeout:
            raise RuntimeError(f"search never became ready: {checks}\n{app.log()}") from None


async def until_detached(app: AppServer, at_least: int = 1, timeout: float = 10.0) -> None:
    """Until the app's /metrics counts `at_least` detached streams: it noticed a client leave
    and goes on without it (what a resume "a while later" stands for)."""

    async def counted() -> bool:
        async with httpx.AsyncClient(timeout=5) as client:
            metrics = (await client.get(f"{app.url}/metrics")).text
        values = [line.split()[1] for line in metrics.splitlines() if line.startswith("storestream_detached_streams ")]
        return bool(values) and float(values[0]) >= at_least

    await eventually(counted, timeout=timeout, what=f"{at_least} detached stream(s)")
