"""App servers forked from one process that has already imported the app, instead of each
starting Python and importing it again (about 1.5 CPU-s an app server, most of a start; the
suite starts a few hundred).

`python -m tests.support.forkserver [module...]` imports uvicorn, the tests' app factories
(and the modules named: `MODEL` for the servers with the sentence model), then
reads one JSON request a line on stdin and answers one a line on stdout:

    {"op": "fork", "argv": [...uvicorn's arguments], "env": {...}, "cwd": "...", "log": "..."}
        -> {"pid": 1234}  a child with exactly that environment, its output in the log, that
           runs `uvicorn <argv>` as `python -m uvicorn <argv>` would
    {"op": "poll", "pid": 1234} -> {"code": null | int, "cpu_s": float}  (reaped once it exits)

A child's environment is the one given, as with a new process; what differs is only what was
read at import time (the app reads its settings when the factory runs, after the fork).
`Forked` is the part of `subprocess.Popen` the tests use, so a `ServerProcess` runs on either.
Children are reaped here, so their CPU time reaches this process's and the test run's totals;
`reaped_cpu()` says how much, for tests/support/cpu_report.py.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PRELOAD = ("uvicorn.main", "uvicorn.loops.uvloop", "uvicorn.protocols.http.httptools_impl", "tests.support.stream_app")
# For the servers that load the sentence model (SEARCH_EMBEDDINGS=true), a second forkserver
# has imported torch and sentence-transformers too (about 5 CPU-s; nothing runs in them before
# the fork, so no thread pool is started). Only those use it: a server without the model would
# otherwise map torch's pages, which the memory tests would count.
MODEL = ("torch", "sentence_transformers")

_clients: dict[bool, _Client] = {}
_client_lock = threading.Lock()
_reaped_cpu = 0.0


def reaped_cpu() -> float:
    """CPU seconds of the forked servers reaped so far (they are not this process's children)."""
    return _reaped_cpu


class _Client:
    """The forkserver of this test process, started on first use, stopped at exit."""

    def __init__(self, model: bool) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.forkserver", *(MODEL if model else ())], cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=None,
        )
        self.lock = threading.Lock()

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        with self.lock:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the forkserver exited ({self.process.poll()})")
        return json.loads(line)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()  # it kills and reaps what is left, then exits
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def _the_client(model: bool) -> _Client:
    with _client_lock:
        client = _clients.get(model)
        if client is None or client.process.poll() is not None:
            client = _clients[model] = _Client(model)
            import atexit

            atexit.register(client.close)
        return client


class Forked:
    """A forked server, seen like a `subprocess.Popen`: pid, poll, wait, signals."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        self.client = _the_client(env.get("SEARCH_EMBEDDINGS", "").lower() == "true")
        self.pid: int = self.client.ask({"op": "fork", "argv": argv, "env": env, "cwd": str(cwd),
                                         "log": str(log)})["pid"]
        self.returncode: int | None = None

    def poll(self) -> int | None:
        global _reaped_cpu
        if self.returncode is None:
            answer = self.client.ask({"op": "poll", "pid": self.pid})
            if answer["code"] is not None:
                self.returncode = answer["code"]
                _reaped_cpu += answer["cpu_s"]
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(["forked uvicorn"], timeout or 0)
            time.sleep(0.02)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


# -- the server side ------------------------------------------------------------------------


def _child(request: dict[str, Any]) -> None:
    """In the fork: become `python -m uvicorn <argv>` with the request's environment."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.close(null)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        random.seed()  # not the forkserver's sequence
        sys.argv = ["uvicorn", *request["argv"]]
        from uvicorn.main import main

        main.main(args=request["argv"], prog_name="uvicorn", standalone_mode=True)
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    except BaseException:  # noqa: BLE001 - whatever it is goes to the log, as Python would print it
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _serve(extra: list[str]) -> None:
    for module in (*PRELOAD, *extra):
        __import__(module)
    out = sys.stdout.buffer
    exited: dict[int, tuple[int, float]] = {}
    children: set[int] = set()
    for line in sys.stdin.buffer:
        request = json.loads(line)
        if request["op"] == "fork":
            out.flush()
            pid = os.fork()
            if pid == 0:
                _child(request)
            children.add(pid)
            answer: dict[str, Any] = {"pid": pid}
        else:
            pid = request["pid"]
            if pid in children:
                done, status, usage = os.wait4(pid, os.WNOHANG)
                if done:
                    children.discard(pid)
                    exited[pid] = (os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime)
            code, cpu = exited.get(pid, (None, 0.0))
            answer = {"code": code, "cpu_s": cpu}
        out.write(json.dumps(answer).encode() + b"\n")
        out.flush()
    for pid in children:  # the test process is gone: nothing of its outlives it
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass


if __name__ == "__main__":
    _serve(sys.argv[1:])
