"""The embedded MongoDB default: an `nx-27017` wire-protocol server (SQLite underneath) run as a
child process on a free loopback port, its data under `DATA_DIR/mongo`.

Used when `MONGODB_URL` is unset, so a fresh machine needs no database install. The app talks
to it over the wire with PyMongo exactly as it would to a real server.

A server left running by an app that was killed (`kill -9`) is adopted by the next start on
the same `DATA_DIR` (its pid and port are in `server.json`). One app per `DATA_DIR`: the app
holds a lock on `app.lock` while it runs (the kernel drops it if the app dies), and a second
app on the same folder refuses to start. Several instances need a real `MONGODB_URL`.

A server that dies while the app runs (its own child, or one it adopted) is noticed by the
platform's supervisor (`alive()`, polled) and `restart()`ed on the same data, on the same
port when it is free, so the client's address stays valid (else on a new port: the platform
then moves its client, `Store.rebind`).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger("storestream.store")

_START_TIMEOUT_S = 15.0
_RUN_SERVER = "import sys; from nx_27017.nx_27017 import main; sys.argv[0] = 'nx-27017'; main()"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _accepts(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _is_our_server(pid: int, folder: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return "nx_27017" in cmdline and str(folder) in cmdline


def _port_free(port: int) -> bool:
    """Can a server listen on `port` (as nx-27017 does: SO_REUSEADDR, so connections of a
    dead server in TIME_WAIT do not count)?"""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


# How long a stop waits for the server to exit on SIGTERM (it takes about 0.1 s) before it is
# killed: one that does not (a CI run saw one take over 5 s) must not hold the app's exit past
# its grace. Killing it is safe: its SQLite commits are atomic (the kill -9 tests).
STOP_WAIT_S = 1.0


def url_for(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/?directConnection=true"


class EmbeddedMongo:
    def __init__(self, data_dir: Path) -> None:
        self.folder = (data_dir / "mongo").resolve()
        self.state_file = self.folder / "server.json"
        self.pid: int | None = None
        self.port: int | None = None
        self._lock: int | None = None
        self._process: subprocess.Popen[bytes] | None = None  # None when adopted
        self._supervised = False  # a server should be running: from start() to stop()

    @property
    def url(self) -> str:
        assert self.port is not None, "start() first"
        return url_for(self.port)

    def start(self) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        if self._adopt():
            log.info("embedded MongoDB: reusing nx-27017 pid=%s port=%s", self.pid, self.port)
        else:
            self._launch(free_port())
        self._supervised = True
        return self.url

    def alive(self) -> bool:
        """Is the server we run (started or adopted) still running? True when there is none
        to watch (not started, stopped, or not ours); False after a restart that failed."""
        if not self._supervised:
            return True
        pid = self.pid
        if pid is None:
            return False
        if self._process is not None:
            return self._process.poll() is None  # reaps it once it exited
        return _is_our_server(pid, self.folder) and not _zombie(pid)

    def exit_reason(self) -> str:
        """How the server we watched ended, for the log."""
        process = self._process
        if process is None or process.returncode is None:
            return "is gone"
        if process.returncode < 0:
            try:
                return f"was killed by {signal.Signals(-process.returncode).name}"
            except ValueError:
                return f"was killed by signal {-process.returncode}"
        return f"exited with status {process.returncode}"

    def restart(self) -> str:
        """The server died: start another on the same data folder, on the same port when it
        is free (the client's URL stays valid), else on a new one. Returns its URL. The app
        keeps its `app.lock` throughout."""
        assert self._lock is not None, "start() first"
        if self._process is not None and self._process.poll() is None:
            self._process.kill()  # called for a live one: it is replaced, not doubled
            self._process.wait(5)
        old_port = self.port
        port = old_port if old_port is not None and _port_free(old_port) else free_port()
        self.pid = None
        self._launch(port)
        if port != old_port:
            log.warning("embedded MongoDB: port %s was taken; the new server listens on %s", old_port, port)
        return self.url

    def _launch(self, port: int) -> None:
        log_file = self.folder / "server.log"
        # nx-27017 refuses to start while its pid file names a live pid; a zombie of a killed
        # server counts as live to it. We know it is not adoptable, so the file is stale.
        (self.folder / "server.pid").unlink(missing_ok=True)
        # It logs every command: keep one previous log, start each run with a fresh one.
        if log_file.exists():
            log_file.replace(self.folder / "server.log.1")
        command = [
            sys.executable, "-c", _RUN_SERVER,
            "--data-dir", str(self.folder / "db"),
            "--host", "127.0.0.1",
            "-p", str(port),
            "--log-file", str(log_file),
            "--pid-file", str(self.folder / "server.pid"),
        ]
        with open(self.folder / "server.out", "ab") as out:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C in the terminal reaches the app, which stops it
            )
        # Named before it can answer: a client that reconnects on its own (pymongo does) may
        # reach the new server before the wait below ends, and server.json must name it then.
        self.state_file.write_text(json.dumps({"pid": process.pid, "port": port}))
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not _accepts(port):
            if process.poll() is not None:
                raise RuntimeError(
                    f"embedded MongoDB (nx-27017) exited with {process.returncode}; see {log_file}"
                )
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"embedded MongoDB (nx-27017) did not start; see {log_file}")
            time.sleep(0.05)
        self.pid, self.port, self._process = process.pid, port, process
        log.info("embedded MongoDB: started nx-27017 pid=%s port=%s data=%s", self.pid, port, self.folder)

    def start_or_attach(self) -> tuple[str, bool]:
        """For a command-line tool: the running app's server if there is one (not owned:
        leave it running), else a server of our own. Returns (url, owned)."""
        try:
            return self.start(), True
        except RuntimeError:
            if self._adopt():
                url, self.pid = self.url, None  # not ours to stop
                return url, False
            raise

    def _take_lock(self) -> None:
        fd = os.open(self.folder / "app.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RuntimeError(
                f"another storestream app is using {self.folder}; "
                "give this one its own DATA_DIR, or share a real server with MONGODB_URL"
            ) from None
        self._lock = fd

    def _adopt(self) -> bool:
        try:
            state = json.loads(self.state_file.read_text())
            pid, port = int(state["pid"]), int(state["port"])
        except (OSError, ValueError, KeyError, TypeError):
            return False
        if _is_our_server(pid, self.folder) and _accepts(port):
            self.pid, self.port, self._process = pid, port, None
            return True
        return False

    def stop(self, timeout: float = STOP_WAIT_S) -> None:
        self._supervised = False
        try:
            self._stop_server(timeout)
        finally:
            if self._lock is not None:
                os.close(self._lock)
                self._lock = None

    def _stop_server(self, timeout: float) -> None:
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        self._process = None
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass  # adopted: not our child, cannot be reaped here
            if not _is_our_server(pid, self.folder):
                break
            time.sleep(0.05)
        else:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.state_file.unlink(missing_ok=True)
        log.info("embedded MongoDB: stopped pid=%s", pid)
