"""The forked app servers (tests/support/forkserver.py) behave like the processes they replace:
they answer, log to their own file, see the environment they were given (not the test
process's), end on SIGTERM as a new process does and -9 on kill, and their CPU time is counted once reaped."""

from __future__ import annotations

import signal
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.support.forkserver import Forked, reaped_cpu
from tests.support.server import AppServer


def test_a_forked_server_answers_logs_and_exits_like_a_process(app_server: Callable[..., AppServer]) -> None:
    server = app_server(ADMIN_TOKEN="forked-admin")
    assert isinstance(server.process, Forked)
    admin = httpx.get(f"{server.url}/api/context/files", headers={"Authorization": "Bearer forked-admin"}, timeout=10)
    assert admin.status_code == 200  # the token of its own environment
    assert "Started server process" in server.log()
    before = reaped_cpu()
    server.process.send_signal(signal.SIGTERM)
    # uvicorn shuts down, then raises the signal again: the status a new process ends with too
    assert server.process.wait(15) == -signal.SIGTERM == spawned_exit(server.env, signal.SIGTERM)
    assert reaped_cpu() > before


def spawned_exit(env: dict[str, str], sig: int) -> int:
    """How a new `python -m uvicorn` process with this environment ends on `sig`."""
    with tempfile.TemporaryDirectory() as folder:
        server = AppServer(env, log_dir=Path(folder), fork=False).start()
        assert server.process is not None
        server.process.send_signal(sig)
        return server.process.wait(15)


def test_a_killed_forked_server_says_so(mongo_url: str, tmp_path: Path) -> None:
    server = AppServer({"MONGODB_URL": mongo_url, "DATA_DIR": str(tmp_path / "data")}, log_dir=tmp_path).start()
    try:
        server.kill()
        assert server.process is not None and server.process.poll() == -signal.SIGKILL
        assert not server.running
    finally:
        server.stop()
