"""Shared fixtures: one real wire-protocol MongoDB (nx-27017) for the session, and a factory
for real uvicorn app servers on loopback."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

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
    if reason := unavailable_reason():
        pytest.skip(reason)
    with llama_server() as server:
        yield server.base_url
