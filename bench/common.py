"""What every benchmark reports about the machine it ran on, and how it writes its results."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any


def package_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def machine(packages: Iterable[str], **extra: Any) -> dict[str, Any]:
    """The machine and the versions a result depends on, for the result's JSON."""
    try:
        memory_gb: float | None = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        memory_gb = None
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_gb": memory_gb,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": {d: package_version(d) for d in packages},
        **extra,
    }


def wait_until_serving(
    proc: subprocess.Popen[bytes], host: str, port: int, *, timeout: float, log_tail: Callable[[], str],
    path: str = "/gc",
) -> None:
    """Until `GET path` on host:port answers 200; raises with the server's log tail if the
    process exits first or `timeout` passes. Raw sockets: no client library in the way."""
    deadline = time.monotonic() + timeout
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}: {log_tail()}")
        try:
            with socket.create_connection((host, port), timeout=0.5) as sock:
                sock.sendall(request)
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start within {timeout}s: {log_tail()}")


def stop_server(proc: subprocess.Popen[Any], grace_s: float = 30) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `grace_s`."""
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile, `p` in percent (99 -> p99)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def write_results(folder: Path, stem: str, doc: dict[str, Any], markdown: Callable[[dict[str, Any]], str]) -> str:
    """`<stem>.json` (the whole document) and `<stem>.md` (its `markdown`) in `folder`;
    returns the Markdown, which the benchmark prints."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")
    text = markdown(doc)
    (folder / f"{stem}.md").write_text(text)
    return text
