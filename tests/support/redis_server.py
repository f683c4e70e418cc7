"""A real `redis-server` for the multi-instance tests: on a free loopback port, nothing saved
to disk, stopped at the end. Tests that need one skip when Debian's `redis-server` is not
installed (`make install` installs it when run as root).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

from tests.support.process import LoopbackServer

REDIS_SERVER = shutil.which("redis-server")


class RedisServer(LoopbackServer):
    name = "redis-server"
    log_stem = "redis"
    scheme = "redis"

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        super().__init__(folder, port)

    @property
    def url(self) -> str:
        return f"{super().url}/0"

    def start(self, timeout: float = 10.0) -> RedisServer:
        assert REDIS_SERVER is not None, "redis-server is not installed"
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.folder),
            "--logfile", str(self.log_path), "--daemonize", "no",
        ]
        # redis-server writes its own log (--logfile); what it prints before that is dropped.
        self.spawn(command, stdout=subprocess.DEVNULL)
        self.wait_ready(self.ping, timeout=timeout, interval=0.05)
        return self

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def command(self, *args: str) -> bytes:
        """One command in the inline protocol, the raw reply (for FLUSHALL and checks)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall((" ".join(args) + "\r\n").encode())
            return sock.recv(65536)

    def log(self, tail: int = 2000) -> str:
        return super().log(tail)

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections but nothing answers (a hung server)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def request_stop(self) -> None:
        assert self.process is not None
        try:
            os.kill(self.process.pid, signal.SIGCONT)  # a paused server cannot exit otherwise
        except OSError:
            pass
        self.process.terminate()

    def stop(self, timeout: float = 5.0) -> None:
        super().stop(timeout)
