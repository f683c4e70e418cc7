"""MongoDB modes: the embedded nx-27017 default (started, reused, durable across kill -9) and
an unreachable MONGODB_URL (DB_UNAVAILABLE quickly, never a hang)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from app.store.embedded import free_port
from tests.support.process import alive
from tests.support.server import ROOT, AppServer
from tests.support.sse import read_stream


async def test_unreachable_database_gives_db_unavailable(app_server: Callable[..., AppServer]) -> None:
    dead = f"mongodb://127.0.0.1:{free_port()}/?directConnection=true"
    server = app_server(MONGODB_URL=dead, MONGODB_TIMEOUT_MS="300")
    got = await read_stream(f"{server.url}/t/db/stream", timeout=10)
    assert got.types() == ["connected", "progress", "error", "close"]
    error = got.of("error")[0]
    assert error["code"] == "DB_UNAVAILABLE" and error["retryable"] is True
    async with httpx.AsyncClient(timeout=10) as client:
        twin = await client.get(f"{server.url}/t/db")
        health = await client.get(f"{server.url}/healthz")
    assert twin.status_code == 503 and twin.json()["error"]["code"] == "DB_UNAVAILABLE"
    assert health.status_code == 503
    checks = health.json()["checks"]
    assert checks["db"]["ready"] is False and "ServerSelectionTimeoutError" in checks["db"]["reason"]


async def test_embedded_default_is_durable_across_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {"MONGODB_URL": "", "DATA_DIR": str(data_dir)}
    state_file = data_dir / "mongo" / "server.json"
    first = AppServer(env, log_dir=tmp_path).start()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            health = (await client.get(f"{first.url}/healthz")).json()
            assert health["checks"]["db"] == {"ready": True, "backend": "embedded nx-27017"}
            put = await client.post(f"{first.url}/t/notes", json={"sku": "K9", "title": "survives"})
            assert put.status_code == 200
        db_pid = json.loads(state_file.read_text())["pid"]
        first.kill()
        os.kill(db_pid, signal.SIGKILL)  # the app and its database child, no clean-up at all
    finally:
        first.kill()

    second = AppServer(env, log_dir=tmp_path).start()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            got = await client.get(f"{second.url}/t/notes/K9")
        assert got.status_code == 200 and got.json()["title"] == "survives"
        new_pid = json.loads(state_file.read_text())["pid"]
        assert new_pid != db_pid
    finally:
        second.stop()
    assert not alive(new_pid), "a clean stop stops the embedded server"
    assert not state_file.exists()


async def test_orphaned_embedded_server_is_reused(tmp_path: Path) -> None:
    env = {"MONGODB_URL": "", "DATA_DIR": str(tmp_path / "data")}
    state_file = tmp_path / "data" / "mongo" / "server.json"
    first = AppServer(env, log_dir=tmp_path).start()
    db_pid = json.loads(state_file.read_text())["pid"]
    first.kill()  # the app dies; its database child lives on
    second = AppServer(env, log_dir=tmp_path).start()
    try:
        assert json.loads(state_file.read_text())["pid"] == db_pid
    finally:
        second.stop()
        if alive(db_pid):
            os.kill(db_pid, signal.SIGKILL)


def test_a_restarted_server_is_named_in_server_json_before_it_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pymongo reconnects by itself: a request can reach the new server while `restart` still
    waits for it. server.json must already name that server then (a CI run read the dead one's pid)."""
    from app.store import embedded

    seen: list[dict[str, int]] = []
    accepts = embedded._accepts

    def recording(port: int) -> bool:
        up = accepts(port)
        if up and mongo.pid is None:  # restarting: the first moment a client could reach it
            seen.append(json.loads(mongo.state_file.read_text()))
        return up

    mongo = embedded.EmbeddedMongo(tmp_path / "data")
    mongo.start()
    try:
        old_pid, port = mongo.pid, mongo.port
        assert old_pid is not None
        os.kill(old_pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while mongo.alive():
            assert time.monotonic() < deadline, "SIGKILL did not end it"
        monkeypatch.setattr(embedded, "_accepts", recording)
        mongo.restart()
        assert seen, "the new server was waited for"
        assert seen[0] == {"pid": mongo.pid, "port": port} and mongo.pid != old_pid
    finally:
        mongo.stop()


def test_second_app_on_the_same_data_dir_refuses(tmp_path: Path) -> None:
    env = {"MONGODB_URL": "", "DATA_DIR": str(tmp_path / "data")}
    with AppServer(env, log_dir=tmp_path):
        with pytest.raises(RuntimeError, match="another storestream app is using"):
            AppServer(env, log_dir=tmp_path).start()


def test_invalid_setting_stops_startup_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "serve"],
        cwd=ROOT,
        env={**os.environ, "STREAMING_TIMEOUT": "soon"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "storestream: STREAMING_TIMEOUT='soon' is invalid: expected a positive integer"
    )
