"""Watching something while a test acts: a step run on a thread of its own every few ms, from
the `with` block's start to its end (processes appearing, a process's memory)."""

from __future__ import annotations

import threading
import time
from typing import Self

import psutil


class Sampler:
    """`step()` every `interval` s while the `with` block runs; subclasses say what a step does."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def step(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            self.step()
            time.sleep(self.interval)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.ident is not None:  # started
            self._thread.join(5)


class PeakRss(Sampler):
    """The highest resident set size of process `pid` seen while the block runs (`before`: at
    the start), in bytes."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        super().__init__(interval)
        self.process = psutil.Process(pid)
        self.before = self.peak = self.process.memory_info().rss

    def step(self) -> None:
        self.peak = max(self.peak, self.process.memory_info().rss)
