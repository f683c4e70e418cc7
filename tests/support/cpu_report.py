"""CPU seconds per test file, for finding what makes the suite slow: a pytest plugin.

    .venv/bin/python -m pytest -n 2 --dist loadfile -p tests.support.cpu_report   # TEST_CPU_REPORT=path

Wall time (`--durations`) says little on a machine others load too; CPU seconds do. Each
test's user + system time is added to its file: this process's, and its children's (the app
servers, redis-server, schemathesis...) once they have exited and been waited for, which is
when the fixture that started them stops them, within the same file (app servers forked by
tests/support/forkserver.py: when it reaps them). Each process (each
xdist worker) appends one JSON line to TEST_CPU_REPORT (default tests/artifacts/cpu.jsonl):
its files in the order it ran them, with their CPU seconds.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.forkserver import reaped_cpu

ROOT = Path(__file__).resolve().parents[2]
_files: dict[str, float] = {}
_started = time.monotonic()


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    # App servers forked by tests/support/forkserver.py are its children, not ours: their CPU
    # counts when the forkserver reaps them.
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime + reaped_cpu()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    before = _cpu()
    try:
        return (yield)
    finally:
        path = item.nodeid.partition("::")[0]
        _files[path] = _files.get(path, 0.0) + _cpu() - before


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _files:
        return
    path = Path(os.environ.get("TEST_CPU_REPORT") or ROOT / "tests" / "artifacts" / "cpu.jsonl")
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"worker": os.environ.get("PYTEST_XDIST_WORKER", "main"), "cpu_s": round(_cpu(), 1),
              "wall_s": round(time.monotonic() - _started, 1),
              "files": {name: round(seconds, 1) for name, seconds in _files.items()}}
    with path.open("a") as out:
        out.write(json.dumps(record) + "\n")
