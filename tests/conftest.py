"""Shared fixtures: one real wire-protocol MongoDB (nx-27017) for the session, and a factory
for real uvicorn app servers on loopback."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.store.embedded import EmbeddedMongo
from tests.support.llama_server import llama_server, unavailable_reason
from tests.support.requirements import need
from tests.support.server import AppServer

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """`@requires(reason)` (tests/support/requirements.py): skip saying why, or fail under CI=true."""
    for mark in item.iter_markers("requires"):
        need(mark.args[0])


# The files (or folders) that take longest (set-up included; `--durations` of a whole run),
# longest first. They run first, so that on two workers (`make test`: `-n 2 --dist loadfile
# --no-loadscope-reorder`, each file on one worker, in this order) the short files fill in
# around them and no long file is left to run alone at the end. Order within a file is kept.
SLOW_FIRST = (
    "tests/platform/test_schemathesis.py",
    "tests/multi/test_instances.py",
    "tests/web/",
    "tests/platform/test_blas_threads.py",
    "tests/agent/test_troika_openai.py",
    "tests/ingest/test_upload_http.py",
    "tests/chat/test_chat_openai.py",
    "tests/platform/test_database_outage.py",
    "tests/streams/test_detach_http.py",
    "tests/platform/test_database_modes.py",
    "tests/ingest/test_upload_memory.py",
    "tests/search/test_query_priority_http.py",
    "tests/search/test_search_http.py",
)


def _rank(item: pytest.Item) -> int:
    return next((i for i, path in enumerate(SLOW_FIRST) if item.nodeid.startswith(path)), len(SLOW_FIRST))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files of SLOW_FIRST before the others (a stable sort: the rest keep their order)."""
    items.sort(key=_rank)


# Packages whose files share package-scoped fixtures (tests/web: one browser and one app
# server): with `--dist loadfile` each runs on one worker, as one unit, so that those start
# once, not again each time a worker comes back to the package.
ONE_UNIT = ("tests/web/",)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile`, except that each package of ONE_UNIT is one work unit."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class PackageAwareScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return next((unit for unit in ONE_UNIT if nodeid.startswith(unit)), super()._split_scope(nodeid))

    return PackageAwareScheduling(config, log)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Captured output may hold lone surrogates (the hostile-input tests send them): escape
    them, so a report can be written as UTF-8 (pytest-xdist sends reports between processes)."""
    report = yield
    report.sections = [(title, text.encode("utf-8", "backslashreplace").decode("utf-8"))
                       for title, text in report.sections]
    return report


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = EmbeddedMongo(tmp_path_factory.mktemp("mongo"))
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def app_server(
    mongo_url: str, tmp_path: Path
) -> Iterator[Callable[..., AppServer]]:
    """`app_server(VAR=value, ...)` starts an app with those settings; all stop at test end."""
    started: list[AppServer] = []

    def start(**env: str) -> AppServer:
        merged = {"MONGODB_URL": mongo_url, "DATA_DIR": str(tmp_path / "data"), **env}
        merged = {k: v for k, v in merged.items() if v is not None}
        server = AppServer(merged, log_dir=tmp_path).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def llama_url() -> Iterator[str]:
    """A real OpenAI-compatible model server (llama.cpp's, SmolLM2-135M), started once."""
    need(unavailable_reason())
    with llama_server() as server:
        yield server.base_url
