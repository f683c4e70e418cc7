"""A server the tests start in a child process: spawned with its output in a log file, polled
until it answers (or found dead, with its log), stopped politely and then firmly. The app
(tests/support/server.py), redis-server (redis_server.py) and llama.cpp's server
(llama_server.py) are each this plus their command and their readiness check; the first two
listen on a loopback port (`LoopbackServer`).
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Self

from app.store.embedded import free_port


def alive(pid: int) -> bool:
    """Is process `pid` running? A zombie (exited, not yet reaped by its parent) is not."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


class ServerProcess:
    """One child process. Subclasses call `spawn` and `wait_ready` from their `start`."""

    name = "server"

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self, command: list[str], *, stdin: int | IO[Any] | None = subprocess.DEVNULL,
              stdout: int | IO[Any] | None = None, **options: Any) -> subprocess.Popen[bytes]:
        """Start `command`; its stderr (and stdout, unless `stdout` is given) go to the log."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, stdin=stdin, stdout=log if stdout is None else stdout, stderr=log, **options
            )
        return self.process

    def wait_ready(self, ready: Callable[[], bool], *, timeout: float, interval: float = 0.1,
                   deadline: float | None = None) -> None:
        """Until `ready()` is true. If the process exits first, or `timeout` passes (or the
        monotonic `deadline`), it is stopped and RuntimeError carries the tail of its log."""
        assert self.process is not None, "spawn first"
        deadline = deadline if deadline is not None else time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                raise RuntimeError(f"{self.name} exited with {code}:\n{self.log()}")
            if ready():
                return
            time.sleep(interval)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s:\n{self.log()}")

    def log(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def request_stop(self) -> None:
        """How this server is asked to exit cleanly: SIGTERM unless a subclass knows better."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask, wait `timeout` s, then SIGKILL. Nothing when it is not running."""
        if self.running:
            assert self.process is not None
            try:
                self.request_stop()
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.cleanup()

    def cleanup(self) -> None:
        """What a subclass releases after the process is gone (pipes, temporary folders)."""

    def kill(self) -> None:
        """`kill -9`: no shutdown code runs."""
        if self.running:
            assert self.process is not None
            self.process.kill()
            self.process.wait(5)

    def start(self) -> Self:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LoopbackServer(ServerProcess):
    """A `ServerProcess` listening on a loopback port (a free one unless given), its log
    `<log_stem>-<port>.log` in `log_dir`."""

    log_stem = "server"
    scheme = "http"

    def __init__(self, log_dir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        super().__init__(log_dir / f"{self.log_stem}-{self.port}.log")

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"
